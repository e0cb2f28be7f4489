"""What every test driver prints and returns: one FAIL line per failure, then the
"N passed, N failed" line ctest and CI read, and exit status 1 on any failure."""

import functools


def report(passed, failures, require_some=True):
    for line in failures:
        print(f"FAIL {line}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or (require_some and not passed) else 0


@functools.lru_cache(maxsize=None)
def profiles_without_omit():
    """spec/profiles.yaml without the profiles' omit lists, for a small test spec: those
    lists name definitions only the real spec has. (libyaml's loader and dumper: the
    pure-Python ones take ~0.3 s on it, and a test may make dozens of small specs.)"""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    profiles = yaml.load((repo / "spec/profiles.yaml").read_text(), Loader=yaml.CSafeLoader)
    for body in profiles["profiles"].values():
        body.pop("omit", None)
    return yaml.dump(profiles, Dumper=yaml.CSafeDumper)


def products_without_order():
    """spec/products.yaml without the headers' `order:` files and `uapi_types:` lists, for
    a small test spec: those name definitions only the real spec has."""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    products = yaml.load((repo / "spec/products.yaml").read_text(), Loader=yaml.CSafeLoader)
    for body in products["products"].values():
        for header in body.get("headers", []):
            header.pop("order", None)
            header.pop("uapi_types", None)
    return yaml.dump(products, Dumper=yaml.CSafeDumper)
