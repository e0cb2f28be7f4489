#!/usr/bin/python3
"""uapi headers compile standalone, as the kernel's header test does: -std=c90 -Wall
-Werror -nostdinc, each header included twice (guard check), with gcc and clang for
x86_64, aarch64 and i386 (-m32). Every header of every uapi product (spec/products.yaml),
with the product's root as include dir. Only the exported kernel headers (linux/, asm/,
asm-generic/ from Debian's linux-libc-dev) are visible besides: no libc, no kernel macros."""

import pathlib
import subprocess
import sys

from testlib import report
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))
FLAGS = ["-std=c90", "-Wall", "-Wmissing-prototypes", "-Wstrict-prototypes", "-Werror",
         "-Werror=implicit-function-declaration", "-fsyntax-only", "-nostdinc"]
SYSROOTS = {"x86_64": ("/usr/include", "/usr/include/x86_64-linux-gnu/asm"),
            "arm64": ("/usr/aarch64-linux-gnu/include", "/usr/aarch64-linux-gnu/include/asm")}
TARGETS = [
    ("gcc", "x86_64", []), ("clang", "x86_64", ["--target=x86_64-linux-gnu"]),
    ("gcc", "x86_64", ["-m32"]), ("clang", "x86_64", ["--target=i686-linux-gnu"]),
    ("aarch64-linux-gnu-gcc", "arm64", []), ("clang", "arm64", ["--target=aarch64-linux-gnu"]),
]


def staging(tmp, arch):
    """An include dir holding only linux/, asm-generic/ and this arch's asm/."""
    root, asm = SYSROOTS[arch]
    out = pathlib.Path(tmp) / arch
    out.mkdir()
    (out / "linux").symlink_to(f"{root}/linux")
    (out / "asm-generic").symlink_to(f"{root}/asm-generic")
    (out / "asm").symlink_to(asm)
    return out


def uapi_headers():
    """(product root, header path) of every uapi product's headers."""
    from hvabi.emit.products import load_products
    from hvabi.spec.loader import load_spec
    return [(REPO / p.root, REPO / p.root / h.path)
            for p in load_products(REPO / "spec/products.yaml", load_spec(REPO / "spec"))
            if p.flavor == "uapi" for h in p.headers]


def main():
    headers = uapi_headers()
    if not headers:
        print("FAIL no uapi headers generated")
        return 1
    failures, passed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        stage = {arch: staging(tmp, arch) for arch in SYSROOTS}
        for cc, arch, extra in TARGETS:
            for root, header in headers:
                cmd = [cc, *extra, *FLAGS, f"-I{root}", f"-I{stage[arch]}", "-x", "c", "/dev/null",
                       "-include", str(header), "-include", str(header)]
                run = subprocess.run(cmd, capture_output=True, text=True)
                what = f"{cc} {' '.join(extra) or arch}: {header.relative_to(REPO)}"
                if run.returncode:
                    failures.append(f"{what}\n{run.stderr}")
                else:
                    passed += 1
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main())
