"""`hvabi import --compare PROFILE`: an upstream header set against the spec.

The spec is written by hand; an upstream copy is a compatibility reference. This reads
the headers (per arch, with libclang) and the spec's selection for PROFILE, and reports
what the headers have that the spec lacks, what both have but lay out or value
differently, and what the spec has beyond the headers (and whether it is marked
`ahead`). The definitions the spec lacks can be written as proposed YAML: never into
spec/ itself.
"""

import dataclasses
from dataclasses import dataclass, field

from .. import layout
from .. import model as m
from ..extract import clang_facts
from ..select import Abi
from .run import import_headers

TABLES = ("records", "enumerators", "macros")
NAMED = TABLES + ("enums",)           # what a reference check names: enum tags too


@dataclass
class ArchReport:
    arch: str
    missing: list = field(default_factory=list)     # (table, name) the headers have, not the spec
    problems: list = field(default_factory=list)    # against_reference() lines, missing ones too
    ahead: list = field(default_factory=list)       # what the spec holds beyond them, marked

    @property
    def clean(self):
        return not self.problems


def ahead_names(abi):
    """Names of the selection marked `ahead` for its profile (definition or item)."""
    out = set()
    for _, defn in abi.entries:
        if defn.is_ahead(abi.sel.profile):
            out.add(defn.name)
        for item in getattr(defn, "items", []):
            if item.is_ahead(abi.sel.profile) or defn.is_ahead(abi.sel.profile):
                out.add(item.name)
    return out


def _ahead_members(abi):
    """{record name: names of its members marked ahead for the selection's profile}."""
    out = {}

    def walk(rec, members):
        for node in members:
            if isinstance(node, m.Record):
                walk(rec, node.members)
            elif node.is_ahead(abi.sel.profile):
                out.setdefault(rec, set()).add(node.name)
    for _, defn in abi.entries:
        if isinstance(defn, m.Record):
            walk(defn.name, defn.members)
    return out


@dataclass
class Verdict:
    """What against_reference() found."""
    problems: list            # lines, each a failure
    ahead: list               # lines: what the spec holds beyond the reference, marked
    accepted: set             # records that differ only by ahead-marked compatible changes
    unmarked: list            # names beyond the reference without an `ahead` mark


def against_reference(upstream, ours, abi):
    """`ours` (facts of the selection `abi` or of its product) against an upstream
    reference of the same arch. Every upstream definition must be in ours and identical,
    except a record whose changes the differ calls compatible (a reserved range or unnamed
    tail now named, a member added at the end) and whose new members the spec marks
    `ahead`; anything beyond the reference must be marked `ahead` too."""
    from ..diff.classify import COMPATIBLE, classify, reserved_by_name
    from ..facts import compare as compare_facts
    theirs = set().union(*(set(upstream.get(t, {})) for t in NAMED))
    problems = compare_facts(upstream, ours, theirs)
    marked, members = ahead_names(abi), _ahead_members(abi)
    ahead, accepted = [], set()
    for name in sorted({p.split(":")[0][len("record "):] for p in problems if p.startswith("record ")}):
        old, new = upstream["records"][name], ours["records"].get(name)
        if new is None:
            continue
        findings = classify({"records": {name: old}}, {"records": {name: new}})
        added = {x["path"].rpartition(".")[2] for x in new["members"]} \
            - {x["path"].rpartition(".")[2] for x in old["members"]}
        if findings and all(f.severity == COMPATIBLE for f in findings) \
                and {a for a in added if not reserved_by_name(a)} <= members.get(name, set()):
            problems = [p for p in problems if not p.startswith(f"record {name}:")]
            accepted.add(name)
            ahead.append(f"{name} ({', '.join(sorted(added))})")
    beyond = set().union(*(set(ours.get(t, {})) for t in NAMED)) - theirs
    unmarked = sorted(beyond - marked)
    ahead += sorted(beyond & marked)
    problems += [f"{n}: not in the reference and not marked `ahead` in the spec" for n in unmarked]
    return Verdict(problems, ahead, accepted, unmarked)


def compare(spec, profile, imported):
    """[ArchReport] per arch: the headers of `imported` against `profile`'s selection."""
    view = spec.profiles[profile].view
    reports = []
    for arch, reading in imported.readings.items():
        paths = [s.path for s in imported.sources if s.arch in (None, arch)]
        theirs = clang_facts.facts_of(reading.parsed, clang_facts.Scope(paths), "libclang")
        abi = Abi.of(spec, m.Selection(profile, view, arch))
        ours = layout.facts(abi)
        rep = ArchReport(arch)
        verdict = against_reference(theirs, ours, abi)
        rep.problems, rep.ahead = verdict.problems, verdict.ahead
        rep.missing = [(t, n) for t in TABLES for n in sorted(set(theirs[t]) - set(ours[t]))]
        reports.append(rep)
    return reports


def proposal(imported, flavor, reports):
    """Spec files holding only the definitions (and constants, enumerators) the spec
    lacks on some arch, as the importer reads them."""
    missing = {name for rep in reports for _, name in rep.missing}

    def keep(defn):
        if isinstance(defn, (m.ConstGroup, m.Enum)) and not (defn.name and defn.name in missing):
            items = [i for i in defn.items if i.name in missing]
            return dataclasses.replace(defn, items=items) if items else None
        return defn if defn.name in missing else None
    return import_headers(imported.sources, flavor, keep=keep, read=imported.read)
