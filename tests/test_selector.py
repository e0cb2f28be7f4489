#!/usr/bin/python3
"""hyperv-defs.h selects the HDK headers when HV_HYPERV_DEFS is defined and the TLFS
headers otherwise. Each branch must compile on both arches and expose its own set: a type
only the HDK has, and one only the TLFS header has."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi.extract.header_sets import kernel_cflags, tlfs_include_dirs  # noqa: E402

HDK = "struct hv_input_get_vp_registers"     # HDK-only spelling
TLFS = "struct hv_get_vp_registers_input"    # TLFS-only spelling
TARGETS = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}


def compile_with(arch, defines, probe):
    # sizeof needs the complete type: a pointer would accept an undeclared struct.
    src = f"#include <asm-generic/hyperv-defs.h>\nunsigned long hvabi_probe = sizeof({probe});\n"
    dirs = [REPO / "include/hvhdk/include", *tlfs_include_dirs(REPO / "include/hyperv-tlfs", arch)]
    # -Wno-gnu as the kernel's Makefile passes it to clang: the TLFS headers embed a struct
    # ending in a flexible array (hv_vpset) before other members, a GNU extension.
    cmd = ["clang", f"--target={TARGETS[arch]}", "-fsyntax-only", "-Wall", "-Werror", "-Wno-gnu",
           "-std=gnu11",
           *kernel_cflags(arch), *[f"-D{d}" for d in defines], *[f"-I{d}" for d in dirs],
           "-x", "c", "-"]
    run = subprocess.run(cmd, input=src, capture_output=True, text=True)
    return run.returncode == 0, run.stderr


def main():
    results = []
    for arch in TARGETS:
        for defines, present, absent, branch in (
                (["HV_HYPERV_DEFS"], HDK, TLFS, "HDK"), ([], TLFS, HDK, "TLFS")):
            ok, err = compile_with(arch, defines, present)
            results.append((f"{arch} {branch} branch compiles and has {present}", ok, err))
            ok, _ = compile_with(arch, defines, absent)
            results.append((f"{arch} {branch} branch does not define {absent}", not ok, ""))
    for what, ok, err in results:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok and err:
            print(err)
    failed = sum(not ok for _, ok, _ in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
