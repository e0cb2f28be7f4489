"""What every test driver prints and returns: one FAIL line per failure, then the
"N passed, N failed" line ctest and CI read, and exit status 1 on any failure."""


def report(passed, failures, require_some=True):
    for line in failures:
        print(f"FAIL {line}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or (require_some and not passed) else 0


def profiles_without_omit():
    """spec/profiles.yaml without the profiles' omit lists, for a small test spec: those
    lists name definitions only the real spec has."""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    profiles = yaml.safe_load((repo / "spec/profiles.yaml").read_text())
    for body in profiles["profiles"].values():
        body.pop("omit", None)
    return yaml.safe_dump(profiles)


def products_without_order():
    """spec/products.yaml without the headers' `order:` files, for a small test spec: those
    files name definitions only the real spec has."""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    products = yaml.safe_load((repo / "spec/products.yaml").read_text())
    for body in products["products"].values():
        for header in body.get("headers", []):
            header.pop("order", None)
    return yaml.safe_dump(products)
