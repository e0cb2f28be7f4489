#!/usr/bin/python3
"""Parity of the generated headers with the upstream ones, both read by libclang (not by
our layout engine), for every definition the product emits, on x86_64 and arm64:

  test_parity.py tlfs KERNEL_SRC   documented view vs the real v6.12 hyperv-tlfs.h trio,
                                   extracted from Debian's linux-source-6.12 at test time
  test_parity.py linux KERNEL_SRC  HDK kernel flavor vs tests/reference/linux-hvhdk-*.facts.json,
                                   a facts snapshot of Linux include/hyperv (see snapshot.py)
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "gen"))
from hvabi import facts  # noqa: E402
from hvabi.extract.header_sets import kernel_facts, tlfs_facts  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402
from testlib import report  # noqa: E402

def kernel_hdk_facts(arch):
    hdir = REPO / "include/hvhdk/include/hyperv"
    return kernel_facts(sorted(hdir.glob("*.h")), arch)


def emitted_names(product, arch):
    doc = json.loads((REPO / "tests/layout" / product / f"{arch}.facts.json").read_text())
    return {table: set(doc[table]) for table in ("records", "enumerators", "macros")}


def main(argv):
    if len(argv) != 2 or argv[0] not in ("tlfs", "linux"):
        print(__doc__, file=sys.stderr)
        return 2
    which, ksrc = argv[0], pathlib.Path(argv[1])
    failures, passed = [], 0
    for arch in ARCHES:
        if which == "tlfs":
            upstream = tlfs_facts(ksrc, arch)
            ours = tlfs_facts(REPO / "include/hyperv-tlfs", arch)
            names = emitted_names("tlfs", arch)
        else:
            upstream = facts.load(REPO / f"tests/reference/linux-hvhdk-{arch}.facts.json")
            ours = kernel_hdk_facts(arch)
            names = emitted_names("hdk-kernel", arch)
        wanted = set().union(*names.values())
        problems = facts.compare(upstream, ours, wanted)
        counts = ", ".join(f"{len(v)} {k}" for k, v in names.items())
        print(f"{which} {arch}: compared {counts}: {len(problems)} mismatches")
        failures += [f"{arch}: {p}" for p in problems]
        passed += len(wanted) - len(problems)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
