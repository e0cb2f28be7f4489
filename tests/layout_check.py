#!/usr/bin/python3
"""Check one product's generated headers against the spec's layout, with a real compiler.

  layout_check.py PRODUCT ARCH COMPILER

1. compiles tests/layout/PRODUCT/ARCH.c (every size/align/offset/value as _Static_assert)
   with debug info;
2. reads every record back from the object's DWARF with pahole and compares each member's
   bit offset and width, and each record's size, with ARCH.facts.json (the spec's values);
3. on x86_64 with gcc: builds and runs mask-x86_64.c (each bitfield set to all ones must
   give exactly the spec's mask).
Prints "N passed, N failed" and exits 1 on any failure.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi.emit.products import read_products  # noqa: E402
from hvabi.extract import pahole_facts  # noqa: E402
from hvabi.extract.header_sets import kernel_cflags, tlfs_include_dirs  # noqa: E402
from testlib import report  # noqa: E402

def build_flags(product, arch):
    """(include dirs, extra flags) to compile a test against `product`."""
    root = REPO / product.root
    if product.flavor == "uapi":
        return [root], ["-std=gnu11"]
    dirs = tlfs_include_dirs(root, arch) if product.flavor == "tlfs" else [root / "include"]
    if product.layer_on:        # its headers include the base product's
        dirs += tlfs_include_dirs(REPO / product_named(product.layer_on).root, arch)
    return dirs, [*kernel_cflags(arch), "-std=gnu11"]


def product_named(name):
    for product in read_products(REPO / "spec"):
        if product.name == name:
            return product
    raise SystemExit(f"layout_check: no product {name!r} in spec/products.yaml")


def compare_pahole(expected, got):
    """Mismatch lines between the spec's facts and pahole's, for offsets, widths, sizes."""
    problems = []
    for name, rec in sorted(expected["records"].items()):
        if name not in got:
            problems.append(f"{name}: not found in DWARF")
            continue
        if got[name]["size"] != rec["size"]:
            problems.append(f"{name}: size {got[name]['size']} in DWARF, spec says {rec['size']}")
        dwarf = {mem["path"]: mem for mem in got[name]["members"]}
        for mem in rec["members"]:
            seen = dwarf.get(mem["path"])
            if seen is None:
                problems.append(f"{name}.{mem['path']}: not found in DWARF")
            elif (seen["offset"], seen["bits"]) != (mem["offset"], mem["bits"]):
                problems.append(f"{name}.{mem['path']}: DWARF bits {seen['offset']}+{seen['bits']},"
                                f" spec says {mem['offset']}+{mem['bits']}")
    return problems


def check(product, arch, compiler, c_file, facts_file, mask_file=None):
    """Returns (checks passed, list of failures)."""
    expected = json.loads(pathlib.Path(facts_file).read_text())
    dirs, extra = build_flags(product, arch)
    failures, passed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        obj = pathlib.Path(tmp) / "layout.o"
        try:
            pahole_facts.compile_object(str(c_file), str(obj), compiler, arch, [str(d) for d in dirs],
                                        (), extra)
            passed += 1
        except pahole_facts.PaholeError as e:
            return passed, [f"static asserts failed to compile:\n{e}"]
        names = sorted(expected["records"])
        try:
            got = pahole_facts.read_records(str(obj), names, arch) if names else {}
        except pahole_facts.PaholeError as e:
            return passed, [f"pahole: {e}"]
        problems = compare_pahole(expected, got)
        members = sum(len(r["members"]) for r in expected["records"].values())
        passed += len(expected["records"]) + members - len(problems)
        failures += problems
        if mask_file is not None:
            failures += run_mask(mask_file, dirs, extra, tmp)
            passed += 1
    return passed, failures


def run_mask(mask_file, dirs, extra, tmp):
    exe = pathlib.Path(tmp) / "mask"
    cmd = ["gcc", "-O0", "-Wall", "-Werror", *extra, *[f"-I{d}" for d in dirs],
           str(mask_file), "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode:
        return [f"mask test failed to build:\n{build.stderr}"]
    run = subprocess.run([str(exe)], capture_output=True, text=True)
    sys.stdout.write(run.stdout)
    return [] if run.returncode == 0 else [f"mask test: {line}" for line in run.stdout.splitlines()
                                          if line.startswith("FAIL")] or ["mask test failed"]


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, arch, compiler = argv
    product = product_named(name)
    base = REPO / "tests/layout" / name
    mask = base / f"mask-{arch}.c" if arch == "x86_64" and compiler == "gcc" else None
    passed, failures = check(product, arch, compiler, base / f"{arch}.c", base / f"{arch}.facts.json",
                             mask)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
