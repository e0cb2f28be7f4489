#!/usr/bin/python3
"""The hdk-layered product (spec/products.yaml, `layer_on: tlfs`): its headers include
the generated <asm/hyperv-tlfs.h> and add only what that header lacks. On both arches,
with gcc and clang:
  - all of them compile together with the trio (-Wall -Werror);
  - they give what only the HDK has, and the trio's definitions stay in force: a
    documented structure the HDK changes keeps its documented shape (hv_synic_sint has
    no as_intercept here), and one only the trio has is there too;
  - no macro is defined both by the trio and by a layered header (from the
    preprocessor's record of every #define and the file it is in): identical
    redefinitions compile silently, so the compiler alone would not tell;
  - every definition whose shape differs is named in a header's comment block."""

import pathlib
import re
import subprocess
import sys

from testlib import report

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi.extract.header_sets import kernel_cflags, tlfs_include_dirs  # noqa: E402

LAYERED = REPO / "include/hdk-layered/include"
TRIO = REPO / "include/hyperv-tlfs"
HEADERS = ["hyperv/hvgdk_mini.h", "hyperv/hvgdk_ext.h", "hyperv/hvgdk.h", "hyperv/hvhdk_mini.h",
           "hyperv/hvhdk.h"]
COMPILERS = {"x86_64": [["gcc"], ["clang", "--target=x86_64-linux-gnu"]],
             "arm64": [["aarch64-linux-gnu-gcc"], ["clang", "--target=aarch64-linux-gnu"]]}
# (what, C that must compile, expected: True compiles / False must not)
PROBES = [
    ("an HDK-only record", "unsigned long p = sizeof(struct hv_input_get_vp_registers);", True),
    ("a record only the trio has", "unsigned long p = sizeof(struct hv_get_vp_registers_input);", True),
    ("the documented hv_synic_sint (reserved2 from bit 19)",
     "union hv_synic_sint s = { .reserved2 = 1 };", True),
    ("no HDK bit as_intercept in the documented hv_synic_sint",
     "union hv_synic_sint s = { .as_intercept = 1 };", False),
    ("the trio's hv_output_map_device_interrupt (no ext_status_deprecated)",
     "unsigned long p = sizeof(((struct hv_output_map_device_interrupt *)0)->ext_status_deprecated);",
     False),
]
CHANGED = ["hv_synic_sint", "hv_message_type", "hv_output_map_device_interrupt",
           "hv_input_unmap_device_interrupt", "hv_input_map_device_interrupt", "hv_synic_event_flags",
           "hv_memory_hint", "hv_tlb_flush_ex"]


def cmd(cc, arch, extra):
    dirs = [LAYERED, *tlfs_include_dirs(TRIO, arch)]
    # -Wno-gnu as the kernel passes to clang: the trio embeds a struct ending in a
    # flexible array (hv_vpset) before other members, a GNU extension.
    return [*cc, "-Wall", "-Werror", "-Wno-gnu" if cc[0] == "clang" else "-Wall", "-std=gnu11",
            *kernel_cflags(arch), *[f"-I{d}" for d in dirs], *extra, "-x", "c", "-"]


def compiles(cc, arch, body):
    src = "".join(f"#include <{h}>\n" for h in HEADERS) + body + "\n"
    run = subprocess.run(cmd(cc, arch, ["-fsyntax-only"]), input=src, capture_output=True, text=True)
    return run.returncode == 0, run.stderr


def defined_twice(cc, arch):
    """Macros #defined both in a trio header and in a layered header."""
    src = "".join(f"#include <{h}>\n" for h in HEADERS)
    run = subprocess.run(cmd(cc, arch, ["-E", "-dD"]), input=src, capture_output=True, text=True)
    where, seen = None, {}
    for line in run.stdout.splitlines():
        mark = re.match(r'# \d+ "([^"]+)"', line)
        if mark:
            where = "trio" if "hyperv-tlfs" in mark.group(1) else \
                "layered" if "hdk-layered" in mark.group(1) else None
            continue
        d = re.match(r"#define (\w+)", line)
        if d and where:
            seen.setdefault(d.group(1), set()).add(where)
    return run.returncode, sorted(n for n, w in seen.items() if len(w) == 2)


def main():
    passed, failures = 0, []
    for arch, compilers in COMPILERS.items():
        for cc in compilers:
            name = f"{arch} {cc[0]}"
            ok, err = compiles(cc, arch, "")
            if ok:
                passed += 1
                print(f"ok   {name}: the layered headers compile with the trio")
            else:
                failures.append(f"{name}: the layered headers do not compile with the trio:\n{err}")
                continue
            for what, body, want in PROBES:
                ok, err = compiles(cc, arch, body)
                if ok == want:
                    passed += 1
                else:
                    failures.append(f"{name}: {what}: {'does not compile' if want else 'compiles'}"
                                    + (f"\n{err}" if want else ""))
            status, twice = defined_twice(cc, arch)
            if status == 0 and not twice:
                passed += 1
                print(f"ok   {name}: no macro defined by both")
            else:
                failures.append(f"{name}: macros defined by the trio and the layered headers: {twice}")
    notes = "".join(p.read_text() for p in sorted((LAYERED / "hyperv").glob("*.h")))
    comments = "".join(re.findall(r"/\*\n \* The tlfs headers included above.*?\*/", notes, re.S))
    missing = [n for n in CHANGED if not re.search(rf"\* (struct|union|enum) {n}:", comments)]
    if missing:
        failures.append(f"not listed as changed in a comment block: {missing}")
    else:
        passed += 1
        print(f"ok   the {len(CHANGED)} changed definitions are listed in the comment blocks")
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main())
