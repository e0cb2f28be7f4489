#!/usr/bin/python3
"""What a layout-only differ says about the Linux include/hyperv pairs of test_linux_pairs.py.

  layout_only_linux.py LINUX        (as for snapshot_linux.py: a clone, or COMMIT/include/hyperv/FILE copies)

Runs check-uapi.sh's pipeline on each consecutive pair and arch: both sides compiled into
a dummy shared object (`-g -fno-eliminate-unused-debug-types`, gen/hvabi/extract/kstubs standing in
for the kernel headers, CONFIG_X86 or CONFIG_ARM64), then `abidiff --non-reachable-types`,
which fails unless the only changes are additions. Prints its verdict next to hvabi's
expected one (test_linux_pairs.EXPECTED) and the types abidiff says were removed or
changed. Needs abigail-tools and aarch64-linux-gnu-gcc; not part of ctest.
"""

import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "gen"))
sys.path.insert(0, str(HERE))

from hvabi.extract.header_sets import kernel_cflags  # noqa: E402
from snapshot_linux import FILES, REVISIONS, read_header  # noqa: E402
from test_linux_pairs import EXPECTED  # noqa: E402

COMPILERS = {"x86_64": "gcc", "arm64": "aarch64-linux-gnu-gcc"}
CFLAGS = ["-shared", "-nostdlib", "-fPIC", "-x", "c", "-O0", "-std=gnu11", "-g",
          "-fno-eliminate-unused-debug-types"]
SOURCE = b'#include "hvhdk.h"\n#include "hvgdk_ext.h"\nint f(void) { return 0; }\n'


def build(linux, rev, arch, work):
    headers = work / rev / "include/hyperv"
    if not headers.is_dir():
        headers.mkdir(parents=True)
        for name in FILES:
            (headers / name).write_bytes(read_header(linux, REVISIONS[rev][name], name))
    obj = work / f"{rev}-{arch}.so"
    subprocess.run([COMPILERS[arch], *CFLAGS, *kernel_cflags(arch), f"-I{headers}", "-", "-o", str(obj)],
                   input=SOURCE, check=True)
    return obj


def abidiff(old, new):
    """(verdict, headline of every removed or changed type)."""
    run = subprocess.run(["abidiff", "--non-reachable-types", str(old), str(new)],
                         capture_output=True, text=True)
    lines = run.stdout.splitlines()
    summary = next((line for line in lines if "Unreachable types summary" in line), "")
    only_added = "0 removed" in summary and "0 changed" in summary
    verdict = "ok" if run.returncode == 0 or only_added else "breaking"
    heads = [line.strip()[:100] for line in lines if line.startswith(("  [C]", "  [D]"))]
    return verdict, heads


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for (old, new), expected in EXPECTED.items():
            for arch in COMPILERS:
                verdict, heads = abidiff(build(argv[0], old, arch, work), build(argv[0], new, arch, work))
                ours = "breaking" if any(sev == "breaking" and arch in where
                                         for _, _, sev, where, _ in expected) else "ok"
                print(f"{old}..{new} {arch:<7} hvabi {ours:<9} abidiff {verdict}")
                for head in heads:
                    print(f"    {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
