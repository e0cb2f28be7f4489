#!/usr/bin/python3
"""Parity of the generated headers with the upstream ones, both read by libclang (not by
our layout engine), on x86_64 and arm64. An upstream copy is a compatibility reference:
every definition it has must be in the product, identical (size, alignment, offsets,
bits, values); the product may hold more, but only what the spec marks `ahead` for the
profile (not upstream yet). Anything else beyond the reference is a failure.

  test_parity.py tlfs KERNEL_SRC   documented view vs the real v6.12 hyperv-tlfs.h trio,
                                   extracted from Debian's linux-source-6.12 at test time
  test_parity.py linux KERNEL_TREE HDK kernel flavor vs Linux include/hyperv read from
                                   KERNEL_TREE at test time (Linux 7.3: KERNEL_SRC_7_3,
                                   build/kernel/linux-source-7.3, extracted by ./setup)
  test_parity.py mshv KERNEL_TREE  mshv-uapi (include/mshv/linux/mshv.h) vs Linux's
                                   include/uapi/linux/mshv.h read from KERNEL_TREE at test
                                   time (uapi flavor, <linux/ioctl.h> first; Linux 7.3:
                                   KERNEL_SRC_7_3)
  test_parity.py rust-vmm          HDK uapi flavor (include/uapi/hyperv, in product order) vs
                                   tests/reference/rustvmm-hvheaders-*.facts.json, a facts
                                   snapshot of rust-vmm/mshv hv-headers (snapshot.py --mshv)
"""

import functools
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "gen"))
from hvabi import facts  # noqa: E402
from hvabi.extract.clang_facts import ExtractError  # noqa: E402
from hvabi.importer.compare import against_reference  # noqa: E402
from hvabi.extract.header_sets import (kernel_facts, linux_facts, linux_mshv_facts,  # noqa: E402
                                      tlfs_facts, uapi_facts)
from hvabi.model import ARCHES, Selection  # noqa: E402
from layout_check import product_named  # noqa: E402
from testlib import report  # noqa: E402

TABLES = ("records", "enumerators", "macros")

# mode: (number of arguments after the mode, upstream snapshot or None, our product)
MODES = {
    "tlfs": (1, None, "tlfs"),
    "linux": (1, None, "hdk-kernel"),
    "rust-vmm": (0, "tests/reference/rustvmm-hvheaders-{arch}.facts.json", "hdk-uapi"),
    "mshv": (1, None, "mshv-uapi"),
}

def kernel_hdk_facts(arch):
    hdir = REPO / "include/hvhdk/include/hyperv"
    return kernel_facts(sorted(hdir.glob("*.h")), arch)


def uapi_product_facts(arch, name="hdk-uapi"):
    """Facts of a uapi product's headers, read in the order the product includes them."""
    product = product_named(name)
    headers = [REPO / product.root / h.path for h in product.headers if h.arch in (None, arch)]
    return uapi_facts(headers, arch)


@functools.lru_cache(maxsize=None)
def _spec():
    from hvabi.spec.loader import load_spec
    return load_spec(REPO / "spec")


def selection(profile_name, arch):
    """The spec's selection for the profile, which says what is marked `ahead`."""
    from hvabi.select import Abi
    spec = _spec()                  # loaded once for both arches
    profile = spec.profiles[profile_name]
    return Abi.of(spec, Selection(profile.name, profile.view, arch))


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
    profile = product_named(product).profile
    failures, passed = [], 0
    for arch in ARCHES:
        if which == "tlfs":
            upstream = tlfs_facts(pathlib.Path(args[0]), arch)
            ours = tlfs_facts(REPO / "include/hyperv-tlfs", arch)
        elif which == "mshv":
            upstream = linux_mshv_facts(args[0], arch)
            ours = uapi_product_facts(arch, product)
        else:
            upstream = (linux_facts(args[0], arch) if which == "linux"
                        else facts.load(REPO / snapshot.format(arch=arch)))
            ours = uapi_product_facts(arch) if which == "rust-vmm" else kernel_hdk_facts(arch)
        verdict = against_reference(upstream, ours, selection(profile, arch))
        problems, ahead = verdict.problems, verdict.ahead
        counts = ", ".join(f"{len(upstream[t])} {t}" for t in TABLES)
        print(f"{which} {arch}: reference has {counts}; {len(ahead)} definitions ahead of it;"
              f" {len(problems)} mismatches")
        for line in ahead:
            print(f"  ahead of the reference: {line}")
        failures += [f"{arch}: {p}" for p in problems]
        passed += sum(len(ours[t]) for t in TABLES) - len(problems)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
