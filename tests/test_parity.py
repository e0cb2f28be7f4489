#!/usr/bin/python3
"""Parity of the generated headers with the upstream ones, both read by libclang (not by
our layout engine), for every definition the product emits, on x86_64 and arm64:

  test_parity.py tlfs KERNEL_SRC   documented view vs the real v6.12 hyperv-tlfs.h trio,
                                   extracted from Debian's linux-source-6.12 at test time
  test_parity.py linux KERNEL_TREE HDK kernel flavor vs Linux include/hyperv read from
                                   KERNEL_TREE at test time (Linux 7.3: KERNEL_SRC_7_3,
                                   build/kernel/linux-source-7.3, extracted by ./setup)
  test_parity.py linux-snapshot    HDK kernel flavor vs tests/reference/linux-hvhdk-*.facts.json,
                                   the facts snapshot of Linux include/hyperv the spec was
                                   imported from (see snapshot.py)
  test_parity.py rust-vmm          HDK uapi flavor (include/uapi/hyperv, in product order) vs
                                   tests/reference/rustvmm-hvheaders-*.facts.json, a facts
                                   snapshot of rust-vmm/mshv hv-headers (snapshot.py --mshv)
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "gen"))
from hvabi import facts  # noqa: E402
from hvabi.extract.clang_facts import ExtractError  # noqa: E402
from hvabi.extract.header_sets import kernel_facts, linux_facts, tlfs_facts, uapi_facts  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402
from layout_check import product_named  # noqa: E402
from testlib import report  # noqa: E402

# mode: (number of arguments after the mode, upstream snapshot or None, our product)
MODES = {
    "tlfs": (1, None, "tlfs"),
    "linux": (1, None, "hdk-kernel"),
    "linux-snapshot": (0, "tests/reference/linux-hvhdk-{arch}.facts.json", "hdk-kernel"),
    "rust-vmm": (0, "tests/reference/rustvmm-hvheaders-{arch}.facts.json", "hdk-uapi"),
}

def kernel_hdk_facts(arch):
    hdir = REPO / "include/hvhdk/include/hyperv"
    return kernel_facts(sorted(hdir.glob("*.h")), arch)


def uapi_hdk_facts(arch):
    """Facts of our uapi headers, read in the order the product includes them."""
    product = product_named("hdk-uapi")
    headers = [REPO / product.root / h.path for h in product.headers if h.arch in (None, arch)]
    return uapi_facts(headers, arch)


def emitted_names(product, arch):
    doc = json.loads((REPO / "tests/layout" / product / f"{arch}.facts.json").read_text())
    return {table: set(doc[table]) for table in ("records", "enumerators", "macros")}


def main(argv):
    if not argv or argv[0] not in MODES or len(argv) != 1 + MODES[argv[0]][0]:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return compare(argv[0], argv[1:])
    except (OSError, ValueError, ExtractError) as e:
        print(f"test_parity: error: {e}", file=sys.stderr)
        return 2


def compare(which, args):
    _, snapshot, product = MODES[which]
    failures, passed = [], 0
    for arch in ARCHES:
        names = emitted_names(product, arch)
        if which == "tlfs":
            upstream = tlfs_facts(pathlib.Path(args[0]), arch)
            ours = tlfs_facts(REPO / "include/hyperv-tlfs", arch)
        else:
            upstream = (linux_facts(args[0], arch) if which == "linux"
                        else facts.load(REPO / snapshot.format(arch=arch)))
            ours = uapi_hdk_facts(arch) if which == "rust-vmm" else kernel_hdk_facts(arch)
        wanted = set().union(*names.values())
        problems = facts.compare(upstream, ours, wanted)
        counts = ", ".join(f"{len(v)} {k}" for k, v in names.items())
        print(f"{which} {arch}: compared {counts}: {len(problems)} mismatches")
        # Upstream definitions the product does not emit are not compared here:
        # `hvabi coverage --complete` fails on them. Named so a new upstream is visible.
        unemitted = sorted(n for t in names for n in set(upstream.get(t, {})) - names[t])
        unemitted += sorted(f"enum {n}" for n in set(upstream.get("enums", {})) - set(ours["enums"]))
        if unemitted:
            print(f"  not compared, upstream only ({len(unemitted)}): {', '.join(unemitted)}")
        failures += [f"{arch}: {p}" for p in problems]
        passed += len(wanted) - len(problems)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
