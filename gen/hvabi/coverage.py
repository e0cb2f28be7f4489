"""Coverage of the upstream header sets by the spec: per set and arch, how many of its
records, enumerators and integer macros the matching profile defines, and how many of
those differ (size, offsets, bits, values). Both sides are facts documents, so the
numbers come from the same comparison the parity tests use.

Upstream sets and where their facts come from:
  linux     tests/reference/linux-hvhdk-<arch>.facts.json (Linux include/hyperv snapshot)
  rust-vmm  tests/diff/mshv-hv-headers/1e75b16/<arch>.facts.json (newest hv-headers change)
  tlfs      the v6.12 hyperv-tlfs.h trio, read with libclang from a linux-source-6.12 tree
"""

import pathlib

from . import facts as factsmod
from . import model as m
from .layout import facts as spec_facts
from .select import Abi

TABLES = ("records", "enumerators", "macros")
REPO = pathlib.Path(__file__).resolve().parents[2]
SNAPSHOTS = {
    "linux": "tests/reference/linux-hvhdk-{arch}.facts.json",
    "rust-vmm": "tests/diff/mshv-hv-headers/1e75b16/{arch}.facts.json",
}


def upstream_facts(profile, arch, tlfs_src=None):
    """Facts of the upstream set a profile reproduces, or None if it is not available."""
    if profile in SNAPSHOTS:
        return factsmod.load(REPO / SNAPSHOTS[profile].format(arch=arch))
    if profile == "tlfs" and tlfs_src:
        from .extract.header_sets import tlfs_facts
        return tlfs_facts(tlfs_src, arch)
    return None


def coverage_row(spec, profile, arch, upstream):
    """{table: (covered, total)} plus the mismatch lines, for one profile and arch."""
    sel = m.Selection(profile, spec.profiles[profile].view, arch)
    ours = spec_facts(Abi(spec, sel))
    counts = {}
    for table in TABLES:
        names = set(upstream[table])
        counts[table] = (len(names & set(ours[table])), len(names))
    common = set().union(*(set(upstream[t]) & set(ours[t]) for t in TABLES))
    mismatches = factsmod.compare(upstream, ours, common) if common else []
    return counts, mismatches


def report(spec, tlfs_src=None, verbose=False):
    """Text table; returns (lines, total mismatches)."""
    lines = [f"{'profile':10} {'arch':7} {'records':>12} {'enumerators':>12} {'macros':>12}"
             f" {'mismatches':>10}"]
    total = 0
    for profile in sorted(spec.profiles):
        for arch in m.ARCHES:
            upstream = upstream_facts(profile, arch, tlfs_src)
            if upstream is None:
                lines.append(f"{profile:10} {arch:7} (upstream facts not available: pass --tlfs-src)")
                continue
            counts, mismatches = coverage_row(spec, profile, arch, upstream)
            total += len(mismatches)
            cells = " ".join(f"{c:>5}/{n:<6}" for c, n in (counts[t] for t in TABLES))
            lines.append(f"{profile:10} {arch:7} {cells} {len(mismatches):>10}")
            if verbose:
                lines += [f"  {line}" for line in mismatches]
    return lines, total
