"""Coverage of the upstream header sets by the spec: per set and arch, how many of its
records, enumerators and integer macros the matching profile defines, and how many of
those differ (size, offsets, bits, values). Both sides are facts documents, so the
numbers come from the same comparison the parity tests use.

Upstream sets and where their facts come from:
  linux     tests/reference/linux-hvhdk-<arch>.facts.json (Linux include/hyperv snapshot)
  rust-vmm  tests/reference/rustvmm-hvheaders-<arch>.facts.json (rust-vmm/mshv hv-headers)
  tlfs      the v6.12 hyperv-tlfs.h trio, read with libclang from a linux-source-6.12 tree
Which upstream file defines each name comes from tests/reference/<set>.files.json (names
and file names only; snapshot.py writes them) or, for the trio, from reading it.

`documentation_report` is the other question: how much of what the TLFS documents (and
openvmm's hvdef defines) the spec has, from committed facts files; tlfs_coverage.py.
"""

import json

import pathlib

from . import facts as factsmod
from . import model as m
from .layout import facts as spec_facts
from .select import Abi

TABLES = ("records", "enumerators", "macros")
REPO = pathlib.Path(__file__).resolve().parents[2]
SNAPSHOTS = {
    "linux": "tests/reference/linux-hvhdk-{arch}.facts.json",
    "rust-vmm": "tests/reference/rustvmm-hvheaders-{arch}.facts.json",
}
FILE_MAPS = {
    "linux": "tests/reference/linux-hvhdk.files.json",
    "rust-vmm": "tests/reference/rustvmm-hvheaders.files.json",
}


def upstream_files(profile, arch, tlfs_src=None):
    """{table: {name: upstream file}}, or None if not available."""
    if profile in FILE_MAPS:
        return json.loads((REPO / FILE_MAPS[profile]).read_text())[arch]
    if profile == "tlfs" and tlfs_src:
        from .extract.header_files import files_of
        from .extract.header_sets import tlfs_include_dirs
        arch_inc, generic_inc = tlfs_include_dirs(pathlib.Path(tlfs_src), arch)
        return files_of([arch_inc / "asm/hyperv-tlfs.h", generic_inc / "asm-generic/hyperv-tlfs.h"],
                        arch, "kernel", [arch_inc, generic_inc])
    return None


def upstream_facts(profile, arch, tlfs_src=None):
    """Facts of the upstream set a profile reproduces, or None if it is not available."""
    if profile in SNAPSHOTS:
        return factsmod.load(REPO / SNAPSHOTS[profile].format(arch=arch))
    if profile == "tlfs" and tlfs_src:
        from .extract.header_sets import tlfs_facts
        return tlfs_facts(tlfs_src, arch)
    return None


def coverage_row(spec, profile, arch, upstream, within=None):
    """{table: (covered, total)} plus the mismatch lines, for one profile and arch;
    `within` ({table: names}) limits it to the names of one upstream file."""
    sel = m.Selection(profile, spec.profiles[profile].view, arch)
    ours = spec_facts(Abi(spec, sel))
    counts, common, missing = {}, set(), []
    for table in TABLES:
        names = set(upstream[table]) if within is None else set(upstream[table]) & within[table]
        counts[table] = (len(names & set(ours[table])), len(names))
        common |= names & set(ours[table])
        missing += [f"{table[:-1]} {name}: not in the spec" for name in sorted(names - set(ours[table]))]
    mismatches = factsmod.compare(upstream, ours, common) if common else []
    return counts, mismatches, missing


def _by_file(files):
    out = {}
    for table, names in files.items():
        for name, f in names.items():
            out.setdefault(f, {t: set() for t in TABLES})[table].add(name)
    return out


def report(spec, tlfs_src=None, verbose=False):
    """Text table; returns (lines, total mismatches, total missing)."""
    lines = [f"{'profile arch / upstream file':{HEAD}} {'records':>12} {'enumerators':>12} {'macros':>12}"
             f" {'mismatches':>10} {'missing':>8}",
             "  (each profile row is followed by one row per upstream file)"]
    total = absent = 0
    for profile in sorted(spec.profiles):
        for arch in m.ARCHES:
            upstream = upstream_facts(profile, arch, tlfs_src)
            if upstream is None:
                lines.append(f"{profile:10} {arch:7} (upstream facts not available: pass --tlfs-src)")
                continue
            counts, mismatches, missing = coverage_row(spec, profile, arch, upstream)
            total += len(mismatches)
            absent += len(missing)
            lines.append(_row(profile, arch, counts, mismatches))
            files = upstream_files(profile, arch, tlfs_src)
            for name, within in sorted(_by_file(files).items()) if files else ():
                fcounts, fmis, _ = coverage_row(spec, profile, arch, upstream, within)
                if any(n for _, n in fcounts.values()):
                    lines.append(_row("", "", fcounts, fmis, "  " + name))
            if verbose:
                lines += [f"  {line}" for line in mismatches + missing]
    return lines, total, absent


HEAD = 40


def _row(profile, arch, counts, mismatches, label=None):
    cells = " ".join(f"{c:>5}/{n:<6}" for c, n in (counts[t] for t in TABLES))
    missing = sum(n - c for c, n in counts.values())
    head = (label if label else f"{profile} {arch}").ljust(HEAD)
    return f"{head} {cells} {len(mismatches):>10} {missing:>8}"


def documentation_report(spec, inventory, openvmm=None, verbose=False):
    """TLFS (and openvmm hvdef) names vs the spec, and the spec's `tlfs:` links: returns
    (lines, number missing, number of wrong links). See tlfs_coverage.py."""
    from .tlfs_coverage import report as tlfs_report
    return tlfs_report(spec, inventory, openvmm, verbose)
