"""Coverage of the upstream header sets by the spec: per set and arch, how many of its
records, enumerators and integer macros the matching profile defines, how many of those
differ (size, offsets, bits, values), and how many definitions the spec holds beyond it
(marked `ahead`, or not). Both sides are facts documents, so the numbers come from the
same comparison the parity tests use.

The references are inputs, never files of this repository:
  tlfs      --tlfs-src TREE: the v6.12 hyperv-tlfs.h trio, read with libclang
  linux     --linux-src TREE: include/hyperv of a Linux tree (Linux 7.3), read with libclang
  mshv      --linux-src TREE: include/uapi/linux/mshv.h of the same tree, uapi flavor (one
            file: no rows per file)
  rust-vmm  --rust-vmm-facts PREFIX: PREFIX-<arch>.facts.json and PREFIX.files.json, a facts
            snapshot of rust-vmm/mshv hv-headers (the tests use tests/reference's)
A profile without a reference gets a row saying so.

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


class References:
    """Where each profile's upstream copy is read from."""

    def __init__(self, tlfs_src=None, linux_src=None, rust_vmm_facts=None):
        self.tlfs_src, self.linux_src, self.rust_vmm_facts = tlfs_src, linux_src, rust_vmm_facts

    def option_for(self, profile):
        return {"tlfs": "--tlfs-src", "linux": "--linux-src", "mshv": "--linux-src",
                "rust-vmm": "--rust-vmm-facts"}.get(profile)

    def facts(self, profile, arch):
        """Facts of the upstream set a profile reproduces, or None if none was given."""
        if profile == "linux" and self.linux_src:
            from .extract.header_sets import linux_facts
            return linux_facts(self.linux_src, arch)
        if profile == "mshv" and self.linux_src:
            from .extract.header_sets import linux_mshv_facts
            return linux_mshv_facts(self.linux_src, arch)
        if profile == "rust-vmm" and self.rust_vmm_facts:
            return factsmod.load(f"{self.rust_vmm_facts}-{arch}.facts.json")
        if profile == "tlfs" and self.tlfs_src:
            from .extract.header_sets import tlfs_facts
            return tlfs_facts(self.tlfs_src, arch)
        return None

    def files(self, profile, arch):
        """{table: {name: upstream file}}, or None."""
        from .extract.header_files import files_of
        if profile == "linux" and self.linux_src:
            from .extract.header_sets import linux_hyperv_headers
            return files_of(linux_hyperv_headers(self.linux_src), arch, "kernel")
        if profile == "rust-vmm" and self.rust_vmm_facts:
            path = pathlib.Path(f"{self.rust_vmm_facts}.files.json")
            return json.loads(path.read_text())[arch] if path.exists() else None
        if profile == "tlfs" and self.tlfs_src:
            from .extract.header_sets import tlfs_include_dirs
            arch_inc, generic_inc = tlfs_include_dirs(pathlib.Path(self.tlfs_src), arch)
            return files_of([arch_inc / "asm/hyperv-tlfs.h", generic_inc / "asm-generic/hyperv-tlfs.h"],
                            arch, "kernel", [arch_inc, generic_inc])
        return None


def coverage_row(spec, profile, arch, upstream, within=None):
    """{table: (covered, total)} plus the mismatch lines, for one profile and arch;
    `within` ({table: names}) limits it to the names of one upstream file."""
    sel = m.Selection(profile, spec.profiles[profile].view, arch)
    ours = spec_facts(Abi.of(spec, sel))
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


def _verdict(spec, profile, arch, upstream):
    """importer.compare.against_reference() for the profile's selection."""
    from .importer.compare import against_reference
    abi = Abi.of(spec, m.Selection(profile, spec.profiles[profile].view, arch))
    return against_reference(upstream, spec_facts(abi), abi)


def _drop(mismatches, accepted):
    return [p for p in mismatches if not any(p.startswith(f"record {r}:") for r in accepted)]


def report(spec, refs, verbose=False):
    """Text table; returns (lines, total mismatches, total missing, total unmarked)."""
    lines = [f"{'profile arch / upstream file':{HEAD}} {'records':>12} {'enumerators':>12} {'macros':>12}"
             f" {'mismatches':>10} {'missing':>8} {'ahead':>6}",
             "  (each profile row is followed by one row per upstream file)"]
    total = absent = unmarked_total = 0
    for profile in sorted(spec.profiles):
        for arch in m.ARCHES:
            upstream = refs.facts(profile, arch)
            if upstream is None:
                lines.append(f"{profile:10} {arch:7} (no reference given: {refs.option_for(profile)})")
                continue
            counts, mismatches, missing = coverage_row(spec, profile, arch, upstream)
            verdict = _verdict(spec, profile, arch, upstream)
            accepted, ahead, unmarked = verdict.accepted, verdict.ahead, verdict.unmarked
            mismatches = _drop(mismatches, accepted)
            total += len(mismatches)
            absent += len(missing)
            unmarked_total += len(unmarked)
            lines.append(_row(profile, arch, counts, mismatches) + f" {len(ahead):>6}")
            files = refs.files(profile, arch)
            for name, within in sorted(_by_file(files).items()) if files else ():
                fcounts, fmis, _ = coverage_row(spec, profile, arch, upstream, within)
                fmis = _drop(fmis, accepted)
                if any(n for _, n in fcounts.values()):
                    lines.append(_row("", "", fcounts, fmis, "  " + name))
            if verbose:
                lines += [f"  {line}" for line in mismatches + missing]
                lines += [f"  {name}: ahead of upstream" for name in ahead]
            lines += [f"  {name}: beyond the reference and not marked `ahead`" for name in unmarked]
    return lines, total, absent, unmarked_total


HEAD = 40


def _row(profile, arch, counts, mismatches, label=None):
    cells = " ".join(f"{c:>5}/{n:<6}" for c, n in (counts[t] for t in TABLES))
    missing = sum(n - c for c, n in counts.values())
    head = (label if label else f"{profile} {arch}").ljust(HEAD)
    return f"{head} {cells} {len(mismatches):>10} {missing:>8}"


def documentation_report(spec, inventory, openvmm=None, verbose=False, exceptions=None):
    """TLFS (and openvmm hvdef) names vs the spec, and the spec's `tlfs:` links, less the
    named exceptions: a tlfs_coverage.Result. See tlfs_coverage.py."""
    from .tlfs_coverage import report as tlfs_report
    return tlfs_report(spec, inventory, openvmm, verbose, exceptions)
