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
from ..facts import compare as compare_facts
from ..select import Abi
from .run import import_headers

TABLES = ("records", "enumerators", "macros")


@dataclass
class ArchReport:
    arch: str
    missing: list = field(default_factory=list)     # (table, name) the headers have, not the spec
    differ: list = field(default_factory=list)      # problem lines for names both have
    ahead: list = field(default_factory=list)       # (table, name) only in the spec, marked ahead
    unmarked: list = field(default_factory=list)    # (table, name) only in the spec, not marked

    @property
    def clean(self):
        return not (self.missing or self.differ or self.unmarked)


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


def compare(spec, profile, imported):
    """[ArchReport] per arch: the headers of `imported` against `profile`'s selection."""
    view = spec.profiles[profile].view
    reports = []
    for arch, reading in imported.readings.items():
        paths = [s.path for s in imported.sources if s.arch in (None, arch)]
        theirs = clang_facts.facts_of(reading.parsed, clang_facts.Scope(paths), "libclang")
        abi = Abi(spec, m.Selection(profile, view, arch))
        ours = layout.facts(abi)
        marked = ahead_names(abi)
        rep = ArchReport(arch)
        for table in TABLES:
            a, b = set(ours[table]), set(theirs[table])
            rep.missing += [(table, n) for n in sorted(b - a)]
            for n in sorted(a - b):
                (rep.ahead if n in marked else rep.unmarked).append((table, n))
            rep.differ += compare_facts(ours, theirs, sorted(a & b), only_common=True)
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
