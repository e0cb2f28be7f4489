#!/usr/bin/python3
"""The layout checks must be able to fail: feed each one a deliberately wrong expected
value (a record one byte bigger, a bitfield one bit off) and require that it reports it."""

import copy
import json
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import layout_check as lc  # noqa: E402
from hvabi.emit import layouttests  # noqa: E402

PRODUCT = "hdk-kernel"


def first_bitfield(doc):
    for name, rec in sorted(doc["records"].items()):
        for mem in rec["members"]:
            if mem.get("bitfield"):
                return name, mem
    raise SystemExit("no bitfield in the spec to mutate")


def run(product, doc, tmp, tag):
    """Render the tests for `doc` and run the real checker on them."""
    base = pathlib.Path(tmp) / tag
    base.mkdir()
    inc = layouttests.includes(product, "x86_64")
    (base / "x86_64.c").write_text(layouttests.render_static(product.name, "x86_64", inc, doc))
    (base / "mask.c").write_text(layouttests.render_mask(product.name, inc, doc))
    (base / "facts.json").write_text(json.dumps(doc))
    return lc.check(product, "x86_64", "gcc", base / "x86_64.c", base / "facts.json", base / "mask.c")


def main():
    product = lc.product_named(PRODUCT)
    good = json.loads((lc.REPO / "tests/layout" / PRODUCT / "x86_64.facts.json").read_text())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        _, failures = run(product, good, tmp, "good")
        results.append(("unchanged spec passes", not failures))

        bigger = copy.deepcopy(good)
        name = sorted(bigger["records"])[0]
        bigger["records"][name]["size"] += 1
        _, failures = run(product, bigger, tmp, "size")
        results.append((f"{name} size +1 is caught by the static asserts",
                        any("static asserts failed" in f for f in failures)))

        shifted = copy.deepcopy(good)
        rec_name, mem = first_bitfield(shifted)
        mem["offset"] += 1
        # Compile the good static asserts (bitfields have none) but compare with the bad facts.
        _, failures = run(product, shifted, tmp, "bit")
        results.append((f"{rec_name}.{mem['path']} one bit off is caught by pahole",
                        any(f"{rec_name}.{mem['path']}: DWARF" in f for f in failures)))
        results.append((f"{rec_name}.{mem['path']} one bit off is caught by the mask test",
                        any(f.startswith("mask test") for f in failures)))
    for what, ok in results:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    failed = sum(not ok for _, ok in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
