#!/usr/bin/python3
"""uapi headers compile standalone, as the kernel's header test does: -std=c90 -Wall
-Werror -nostdinc, each header included twice (guard check), with gcc and clang for
x86_64, aarch64 and i386 (-m32). Every header of every uapi product (spec/products.yaml),
with the product's root as include dir. Only the exported kernel headers (linux/, asm/,
asm-generic/ from Debian's linux-libc-dev) are visible besides: no libc, no kernel macros.

Compiling is not enough: on every target the headers compile for, one translation unit
per product including all its headers asserts the size and alignment of every record and
enum the spec gives for that arch (tests/layout/PRODUCT/ARCH.facts.json).

i386 is not an arch of the ABI (the hypervisor ABI is defined for x86_64 and arm64; i386
lays out __u64 with 4-byte alignment). By design every uapi header stops there at its
`#error` (each arch chain inside a definition ends in `#else #error`): the test requires
the compile to fail with those #error lines and nothing else, and says so. Were it to
compile, the layout check against the x86_64 facts shows what would be wrong.
"""

import json
import pathlib
import re
import subprocess
import sys

from testlib import report
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))
FACTS = "tests/layout/{product}/{arch}.facts.json"
FLAGS = ["-std=c90", "-Wall", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror",
         "-Werror=implicit-function-declaration", "-fsyntax-only", "-nostdinc"]
SYSROOTS = {"x86_64": ("/usr/include", "/usr/include/x86_64-linux-gnu/asm"),
            "arm64": ("/usr/aarch64-linux-gnu/include", "/usr/aarch64-linux-gnu/include/asm")}
# (compiler, sysroot arch, flags, what the headers must do: "layout" = compile and match
# ARCH's facts; "reject" = stop at their #error, by design)
TARGETS = [
    ("gcc", "x86_64", [], "layout"), ("clang", "x86_64", ["--target=x86_64-linux-gnu"], "layout"),
    ("gcc", "x86_64", ["-m32"], "reject"), ("clang", "x86_64", ["--target=i686-linux-gnu"], "reject"),
    ("aarch64-linux-gnu-gcc", "arm64", [], "layout"),
    ("clang", "arm64", ["--target=aarch64-linux-gnu"], "layout"),
]
# The one diagnostic an undescribed arch may get: the headers' own #error (gcc prints
# `error: #error "..."`, clang `error: "..."` and, after 20, that it stops).
OWN_ERROR = re.compile(r'error: (#error )?"[^"]*: defined for x86_64 and arm64 only"'
                       r'|fatal error: too many errors emitted')


def staging(tmp, arch):
    """An include dir holding only linux/, asm-generic/ and this arch's asm/."""
    root, asm = SYSROOTS[arch]
    out = pathlib.Path(tmp) / arch
    out.mkdir()
    (out / "linux").symlink_to(f"{root}/linux")
    (out / "asm-generic").symlink_to(f"{root}/asm-generic")
    (out / "asm").symlink_to(asm)
    return out


def uapi_products():
    """{product name: (root, [header paths])} of every uapi product."""
    from hvabi.emit.products import read_products
    return {p.name: (REPO / p.root, [REPO / p.root / h.path for h in p.headers])
            for p in read_products(REPO / "spec")
            if p.flavor == "uapi"}


def layout_unit(path, headers, product, arch):
    """A C file including every header and asserting every size and alignment of `arch`;
    the number of assertions."""
    doc = json.loads((REPO / FACTS.format(product=product, arch=arch)).read_text())
    lines = [f'#include "{h}"' for h in headers]
    for name, rec in sorted(doc["records"].items()):
        c = f"{rec['kind']} {name}"
        lines.append(f'_Static_assert(sizeof({c}) == {rec["size"]}, "sizeof({c}) == {rec["size"]}");')
        lines.append(f'_Static_assert(_Alignof({c}) == {rec["align"]}, "_Alignof({c}) == {rec["align"]}");')
    for name, enum in sorted(doc["enums"].items()):
        lines.append(f'_Static_assert(sizeof(enum {name}) == {enum["size"]}, "sizeof(enum {name})");')
    path.write_text("\n".join(lines) + "\n")
    return len(lines) - len(headers)


def errors_of(stderr):
    return [line for line in stderr.splitlines() if "error:" in line]


def main():
    products = uapi_products()
    if not products or not all(headers for _, headers in products.values()):
        print("FAIL no uapi headers generated")
        return 1
    failures, passed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        stage = {arch: staging(tmp, arch) for arch in SYSROOTS}
        for cc, arch, extra, want in TARGETS:
            for product, (root, headers) in sorted(products.items()):
                target = f"{cc} {' '.join(extra) or arch}"
                base = [cc, *extra, *FLAGS, f"-I{root}", f"-I{stage[arch]}"]
                rejected = 0
                for header in headers:
                    run = subprocess.run([*base, "-x", "c", "/dev/null", "-include", str(header),
                                          "-include", str(header)], capture_output=True, text=True)
                    what = f"{target}: {header.relative_to(REPO)}"
                    if want == "layout" and run.returncode:
                        failures.append(f"{what}\n{run.stderr}")
                    elif want == "layout":
                        passed += 1
                    elif not run.returncode:
                        failures.append(f"{what}: compiles, but on an arch the ABI does not define it"
                                        " must stop at its #error")
                    elif not errors_of(run.stderr) or not all(OWN_ERROR.search(e) for e in errors_of(run.stderr)):
                        failures.append(f"{what}: must fail with its #error alone, got\n{run.stderr}")
                    else:
                        rejected += 1
                        passed += 1
                if want == "reject" and rejected == len(headers):
                    print(f"{target}: all {len(headers)} {product} headers stop at their #error, by"
                          " design (the ABI is defined for x86_64 and arm64 only)")
                    continue
                # Layout: on the arches the ABI defines, and, should a rejected target
                # compile after all, against x86_64 to show what would be wrong there.
                unit = pathlib.Path(tmp) / "layout.c"
                count = layout_unit(unit, [str(h) for h in headers], product, arch)
                run = subprocess.run([*base, str(unit)], capture_output=True, text=True)
                if run.returncode:
                    wrong = [e.split("error: ", 1)[1] for e in errors_of(run.stderr)]
                    failures.append(f"{target}: {product} layout differs from"
                                    f" {FACTS.format(product=product, arch=arch)}"
                                    f" ({len(wrong)} of {count} assertions):\n  " + "\n  ".join(wrong[:20]))
                else:
                    print(f"{target}: {product}: {count} size and alignment assertions hold")
                    passed += 1
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main())
