"""Classify every difference between two facts documents of one arch (docs/abi-diff.md).

A layout-only differ sees a reserved field disappear and new fields appear and calls it
breaking. Here the old reserved ranges are matched against the new members that now
occupy exactly those bits: if nothing that existed before moved, the change is
compatible, however the range was cut up (named fields plus a reserved remainder).
"""

import re

from .plain import Frozen, Plain

BREAKING, REVIEW, COMPATIBLE = "breaking", "review", "compatible"
SEVERITIES = (BREAKING, REVIEW, COMPATIBLE)          # report order: worst first

# Every kind of finding; docs/abi-diff.md explains each. Renames (of members, and of
# records whose layout is unchanged) are breaking in uapi only.
KINDS = {
    "definition-added": COMPATIBLE, "definition-removed": BREAKING,
    "definition-renamed": REVIEW,
    "kind-changed": BREAKING, "size-changed": BREAKING, "align-changed": BREAKING,
    "value-changed": BREAKING,
    "member-added": COMPATIBLE, "member-removed": BREAKING, "member-reserved": BREAKING,
    "member-moved": BREAKING, "member-resized": BREAKING, "member-type-changed": BREAKING,
    "member-renamed": REVIEW,
    "reserved-named": COMPATIBLE, "reserved-split": COMPATIBLE, "reserved-renamed": COMPATIBLE,
    "reserved-unnamed": COMPATIBLE, "reserved-removed": REVIEW,
    "doc-changed": REVIEW, "provenance-changed": REVIEW,
}

# The fallback for headers and objects, which cannot say which members are reserved.
# pad also covers padding*; mbz is "must be zero"; resvd/rserved and a bare res are the
# spellings upstream headers use for padding too.
_RESERVED_NAME = re.compile(r"(reserved|rsvd|resvd|rserved|pad|mbz)|res[0-9]*$", re.IGNORECASE)


def reserved_by_name(path):
    """True if the member's own name (last path component) looks reserved."""
    return bool(_RESERVED_NAME.match(path.rpartition(".")[2]))


class Finding(Plain):
    __slots__ = (
        "category",               # struct, union, enum, enumerator, macro
        "definition",
        "member",                 # member path, or None for the definition itself
        "kind",                   # what changed, e.g. reserved-named (docs/abi-diff.md)
        "severity",
        "old",                    # JSON-ready: a size, a value, member spans, a text
        "new",
        "detail",                 # one line for people, bit ranges included
        "where",                  # "profile/arch" or "arch", filled by merge(); default []
        "suppressed",             # file:line of the suppression rule; default None
    )
    _defaults = {"where": list, "suppressed": lambda: None}

    @property
    def target(self):
        """What suppression patterns match: `definition` or `definition.member`."""
        return self.definition if self.member is None else f"{self.definition}.{self.member}"

    def key(self):
        return (self.category, self.definition, self.member, self.kind, self.severity,
                repr(self.old), repr(self.new), self.detail)


class _Member(Frozen):
    __slots__ = (
        "path",
        "offset",                 # bits from the start of the record
        "bits",
        "type",
        "bitfield",
        "reserved",
    )

    def __init__(self, path, offset, bits, type, bitfield, reserved):   # noqa: A002
        # Spelled out: made for every member of every changed record.
        self.path, self.offset, self.bits, self.type = path, offset, bits, type
        self.bitfield, self.reserved = bitfield, reserved

    @property
    def parent(self):
        return self.path.rpartition(".")[0]

    @property
    def end(self):
        return self.offset + self.bits

    @property
    def layout(self):
        return (self.offset, self.bits, self.type, self.bitfield)

    def span(self):
        """`bit 16`, `bits 44-63`, or `bytes 8-15` for a byte-aligned plain member."""
        if self.bits == 0:
            return f"flexible array at byte {self.offset // 8}"
        lo, hi, unit = self.offset, self.end - 1, "bit"
        if not self.bitfield and not (self.offset | self.bits) % 8:
            lo, hi, unit = self.offset // 8, self.end // 8 - 1, "byte"
        return f"{unit} {lo}" if lo == hi else f"{unit}s {lo}-{hi}"

    @property
    def name(self):
        return self.path

    def text(self):
        return f"{self.name} ({self.span()})"

    def json(self):
        return {"path": self.path, "offset": self.offset, "bits": self.bits, "type": self.type,
                "reserved": self.reserved}


class _Tail(_Member):
    """The unnamed bits after the last bitfield of a storage unit (old side): reserved
    space that no member names, so `path` is None (null in JSON)."""
    __slots__ = ("parent",)       # a slot, over _Member's property: there is no path

    def __init__(self, parent, offset, bits, type):   # noqa: A002
        super().__init__(None, offset, bits, type, True, True)
        self.parent = parent

    def _values(self):
        return (None, self.offset, self.bits, self.type, self.parent)

    @property
    def name(self):
        return "unnamed tail"


# Storage unit of a bitfield, in bits, by its declared (normalised) type.
_UNIT_BITS = {"u8": 8, "s8": 8, "char": 8, "bool": 8, "u16": 16, "s16": 16,
              "u32": 32, "s32": 32, "u64": 64, "s64": 64}


def _unnamed_tails(members, size_bits):
    """The unnamed tails of the storage units of `members` (one record's): after a
    bitfield that no other bitfield at its level follows within the unit its last bit
    lies in, up to the end of that unit, cut short where another member at that level
    begins or where the enclosing member (or the record) ends. A gap between two
    bitfields of one unit is not a tail."""
    levels, ends = {}, {}
    for m in members:
        levels.setdefault(m.parent, []).append(m)
        ends[m.path] = m.end
    tails = {}
    for parent, level in levels.items():
        limit = ends.get(parent, size_bits) if parent else size_bits
        for m in level:
            unit = _UNIT_BITS.get(m.type) if m.bitfield else None
            if not unit or not m.bits:
                continue
            end = min(((m.end - 1) // unit + 1) * unit, limit)
            after = [o for o in level if m.end <= o.offset < end]
            if any(o.bitfield for o in after):
                continue
            end = min([end] + [o.offset for o in after])
            if end > m.end:
                tails[(parent, m.end)] = _Tail(parent, m.end, end - m.end, m.type)
    return list(tails.values())


def _finding(category, definition, member, kind, old, new, detail, severity=None):
    """A Finding with the severity of its kind unless given (renames depend on uapi)."""
    return Finding(category, definition, member, kind, severity or KINDS[kind], old, new, detail)


def _member(fact, reserved_by_flag):
    reserved = fact.get("reserved", False) if reserved_by_flag else reserved_by_name(fact["path"])
    return _Member(fact["path"], fact["offset"], fact["bits"], fact["type"],
                   fact.get("bitfield", False), reserved)


def classify(old, new, *, old_flags=False, new_flags=False, uapi=False, old_notes=None,
             new_notes=None):
    """Findings between facts documents `old` and `new` of one arch.

    `*_flags`: that side's members carry the spec's `reserved` flag (else names decide).
    `uapi`: the ABI is user space's, where a renamed member breaks the build.
    `*_notes`: spec sides only, {"name" or "name.member": {"doc": ..., "provenance": ...}}.
    """
    out = []
    old_records, new_records = old.get("records", {}), new.get("records", {})
    renamed = _record_renames(old_records, new_records)
    for name in sorted(set(old_records) | set(new_records)):
        o, n = old_records.get(name), new_records.get(name)
        category = (n or o)["kind"]
        if n is None and name in renamed:
            out.append(_finding(category, name, None, "definition-renamed", name, renamed[name],
                                f"{category} {name} renamed to {renamed[name]}, layout unchanged"
                                + (" (user space code using the old name no longer builds)"
                                   if uapi else ""),
                                BREAKING if uapi else None))
        elif o is None and name in renamed.values():
            continue
        elif n is None:
            out.append(_finding(category, name, None, "definition-removed", _record_summary(o), None,
                                f"{category} {name} removed"))
        elif o is None:
            out.append(_finding(category, name, None, "definition-added", None, _record_summary(n),
                                f"{category} {name} added"))
        else:
            out += _compare_record(name, o, n, old_flags, new_flags, uapi)
    out += _compare_enums(old, new)
    out += _compare_values(old, new, "enumerators", "enumerator")
    out += _compare_values(old, new, "macros", "macro")
    if old_notes is not None and new_notes is not None:
        out += _compare_notes(old, new, old_notes, new_notes)
    return out


def _record_summary(rec):
    return {"kind": rec["kind"], "size": rec["size"]}


def _record_renames(old_records, new_records):
    """{old name: new name} for records that went away while a record with exactly their
    layout (kind, size, alignment, every member's path, place and type) arrived, when
    that pairing is the only one either name has. Records without members never pair."""
    def layout(rec):
        return (rec["kind"], rec["size"], rec.get("align"),
                tuple((m["path"], m["offset"], m["bits"], m["type"], m.get("bitfield", False))
                      for m in rec["members"]))
    gone = {name: layout(r) for name, r in old_records.items()
            if name not in new_records and r["members"]}
    arrived = {name: layout(r) for name, r in new_records.items()
               if name not in old_records and r["members"]}
    pairs = {}
    for name, shape in gone.items():
        matches = [n for n, s in arrived.items() if s == shape]
        if len(matches) == 1 and [g for g, s in gone.items() if s == shape] == [name]:
            pairs[name] = matches[0]
    return pairs


# --- records -----------------------------------------------------------------------------

def _compare_record(name, o, n, old_flags, new_flags, uapi):
    if o == n and old_flags == new_flags:
        return []                 # the common case, and every member is read alike
    cat = n["kind"]
    out = []
    if o["kind"] != n["kind"]:
        out.append(_finding(cat, name, None, "kind-changed", o["kind"], n["kind"],
                            f"was a {o['kind']}, now a {n['kind']}"))
    if o["size"] != n["size"]:
        out.append(_finding(cat, name, None, "size-changed", o["size"], n["size"],
                            f"size {o['size']} -> {n['size']} bytes"))
    if "align" in o and "align" in n and o["align"] != n["align"]:
        out.append(_finding(cat, name, None, "align-changed", o["align"], n["align"],
                            f"alignment {o['align']} -> {n['align']} bytes"))
    old_members = [_member(x, old_flags) for x in o["members"]]
    new_members = [_member(x, new_flags) for x in n["members"]]
    out += _Members(cat, name, old_members, new_members, uapi, 8 * o["size"]).findings()
    return out


class _Members:
    """The member-level findings of one record present on both sides."""

    def __init__(self, category, name, old, new, uapi, old_size_bits):
        self.cat, self.name, self.uapi = category, name, uapi
        self.old, self.old_size_bits = old, old_size_bits
        self.out = []
        old_by_path = {m.path: m for m in old}
        new_by_path = {m.path: m for m in new}
        # Members that are not simply unchanged; only these can explain each other.
        self.gone = [m for m in old if m.path not in new_by_path]
        self.arrived = [m for m in new if m.path not in old_by_path]
        self.moved = [(m, new_by_path[m.path]) for m in old
                      if m.path in new_by_path and new_by_path[m.path].layout != m.layout]
        self.flipped = [(m, new_by_path[m.path]) for m in old
                        if m.path in new_by_path and new_by_path[m.path].layout == m.layout
                        and new_by_path[m.path].reserved != m.reserved]
        self.used = set()         # paths of new members already explained

    def add(self, member, kind, old, new, detail, severity=None):
        self.out.append(_finding(self.cat, self.name, member, kind, old, new, detail, severity))

    def findings(self):
        for o, n in self.flipped:
            if o.reserved:
                self.add(o.path, "reserved-named", [o.json()], [n.json()],
                         f"{o.span()}: reserved {o.path} is no longer reserved")
            else:
                self.add(o.path, "member-reserved", [o.json()], [n.json()],
                         f"{o.span()}: {o.path} is now reserved")
        self._reserved_ranges()
        self._removed(self._renames([m for m in self.gone if not m.reserved]))
        self._changed()
        for n in self.arrived:
            if n.path not in self.used:
                self.add(n.path, "member-added", None, [n.json()], f"new member {n.text()}")
        return self.out

    # A reserved member that changed or went away is explained when the new members in
    # its range, all new or formerly reserved themselves, occupy nothing outside it.
    # Adjacent reserved members are also tried as one range (two ranges merged, or a
    # field straddling the old boundary between them). The unnamed tail of a storage
    # unit is reserved space too, tried when a changed member lies in it; one that is
    # not cleanly reused is not reported (it was never a member; what took it is).

    def _reserved_ranges(self):
        """Explain every old reserved member that changed or went away."""
        old_reserved = [m for m in self.gone if m.reserved] + [o for o, _ in self.moved if o.reserved]
        changed = self._changed_new()
        tails = [t for t in _unnamed_tails(self.old, self.old_size_bits) if any(
                 n.parent == t.parent and n.bits and n.offset < t.end and t.offset < n.end
                 for n in changed)] if changed else []
        unexplained = []
        for m in old_reserved + tails:
            if not self._cover([m]):
                unexplained.append(m)
        for run in _adjacent_runs(unexplained):
            if len(run) > 1 and self._cover(run):
                unexplained = [m for m in unexplained if m not in run]
        for m in unexplained:
            if m.path is not None:
                self.add(m.path, "reserved-removed", [m.json()], None,
                         f"{m.text()} was reserved; its bits are not cleanly reused")

    def _candidates(self):
        """New members that may take over old reserved bits: new names, or members that
        were reserved before and changed."""
        moved_reserved = [n for o, n in self.moved if o.reserved]
        return [n for n in self.arrived + moved_reserved if n.path not in self.used]

    def _cover(self, olds):
        lo, hi, parent = olds[0].offset, olds[-1].end, olds[0].parent
        candidates = self._candidates()
        inside = []
        for n in self._changed_new():
            if n.parent != parent or n.end <= lo or n.offset >= hi or n.bits == 0:
                continue
            if n.offset < lo or n.end > hi or n not in candidates:
                return False
            inside.append(n)
        named = [n for n in inside if not n.reserved]
        if not inside:
            kind, what = "reserved-unnamed", "unnamed padding"
        elif named:
            kind, what = "reserved-named", ", ".join(n.text() for n in inside)
        else:
            kind = "reserved-split" if len(inside) > 1 else "reserved-renamed"
            what = ", ".join(n.text() for n in inside)
        was = _Member(" + ".join(m.name for m in olds), lo, hi - lo, olds[0].type,
                      olds[0].bitfield, True)
        named_olds = [m.path for m in olds if m.path is not None]
        # A finding is filed under the old reserved member, or for a tail alone (never
        # taken by nothing: see _reserved_ranges) under the first member now in it.
        self.add((named_olds or [inside[0].path])[0], kind, [m.json() for m in olds],
                 [n.json() for n in inside],
                 f"{'reserved ' if named_olds else ''}{was.text()} -> {what}")
        self.used |= {n.path for n in inside}
        self.used |= set(named_olds)              # a same-named reserved remainder
        return True

    def _changed_new(self):
        return self.arrived + [n for _, n in self.moved]

    def _renames(self, gone_named):
        """Report renames among `gone_named`; return those that were not renamed."""
        left = []
        for o in gone_named:
            n = next((n for n in self.arrived if n.path not in self.used and not n.reserved
                      and n.parent == o.parent and n.layout == o.layout), None)
            if n is None:
                left.append(o)
                continue
            self.used.add(n.path)
            self.add(o.path, "member-renamed", [o.json()], [n.json()],
                     f"{o.span()}: {o.path} renamed to {n.path}"
                     + (" (user space code using the old name no longer builds)" if self.uapi else ""),
                     BREAKING if self.uapi else None)
        return left

    def _removed(self, gone_named):
        left = []
        for run in _adjacent_runs(gone_named):
            if len(run) == 1 or not self._withdrawn_together(run):
                left += run
        for o in sorted(left, key=gone_named.index):
            now = [n for n in self.arrived if n.path not in self.used and n.parent == o.parent
                   and n.offset < o.end and o.offset < n.end and n.bits]
            if now and all(n.reserved and o.offset <= n.offset and n.end <= o.end for n in now):
                self.used |= {n.path for n in now}
                self.add(o.path, "member-reserved", [o.json()], [n.json() for n in now],
                         f"{o.text()} removed; its bits are now reserved: "
                         + ", ".join(n.text() for n in now))
            else:
                self.add(o.path, "member-removed", [o.json()], None, f"{o.text()} removed")

    def _withdrawn_together(self, run):
        """Adjacent named members whose bits are now one reserved member (or several)
        lying within them, each member under at least one: all withdrawn."""
        lo, hi, parent = run[0].offset, run[-1].end, run[0].parent
        now = [n for n in self.arrived if n.path not in self.used and n.parent == parent
               and n.offset < hi and lo < n.end and n.bits]
        if not now or not all(n.reserved and lo <= n.offset and n.end <= hi for n in now):
            return False
        under = {o.path: [n for n in now if n.offset < o.end and o.offset < n.end] for o in run}
        if not all(under.values()):
            return False
        self.used |= {n.path for n in now}
        for o in run:
            self.add(o.path, "member-reserved", [o.json()], [n.json() for n in under[o.path]],
                     f"{o.text()} removed; its bits are now reserved: "
                     + ", ".join(n.text() for n in under[o.path]))
        return True

    def _changed(self):
        for o, n in self.moved:
            if o.reserved:
                continue          # explained by _reserved_ranges
            if o.offset != n.offset:
                kind = "member-moved"
            elif o.bits != n.bits:
                kind = "member-resized"
            else:
                kind = "member-type-changed"
            what = [f"{o.span()} -> {n.span()}"] if (o.offset, o.bits) != (n.offset, n.bits) else []
            if (o.type, o.bitfield) != (n.type, n.bitfield):
                what.append(f"type {_type_text(o)} -> {_type_text(n)}")
            self.add(o.path, kind, [o.json()], [n.json()], f"{o.path}: " + ", ".join(what))


def _adjacent_runs(members):
    """Maximal runs of members with one parent, each starting where the previous ends."""
    runs = []
    for m in sorted(members, key=lambda m: (m.parent, m.offset)):
        if runs and runs[-1][-1].parent == m.parent and runs[-1][-1].end == m.offset:
            runs[-1].append(m)
        else:
            runs.append([m])
    return runs


def _type_text(m):
    return f"{m.type}:{m.bits}" if m.bitfield else m.type


# --- enums, enumerators, macros ----------------------------------------------------------

def _compare_enums(old, new):
    if "enums" not in old or "enums" not in new:
        return []
    out = []
    o, n = old["enums"], new["enums"]
    for name in sorted(set(o) | set(n)):
        if name not in n:
            out.append(_finding("enum", name, None, "definition-removed", o[name]["size"],
                                None, f"enum {name} removed"))
        elif name not in o:
            out.append(_finding("enum", name, None, "definition-added", None,
                                n[name]["size"], f"enum {name} added"))
        elif o[name]["size"] != n[name]["size"]:
            out.append(_finding("enum", name, None, "size-changed", o[name]["size"], n[name]["size"],
                                f"size {o[name]['size']} -> {n[name]['size']} bytes"))
    return out


def _compare_values(old, new, table, category):
    """Enumerators or macros: a name is the definition, its integer value the ABI."""
    if table not in old or table not in new:
        return []   # e.g. pahole facts have records only
    out = []
    o, n = old[table], new[table]
    added = [name for name in n if name not in o]
    for name in sorted(set(o) | set(n)):
        if name not in n:
            out.append(_finding(category, name, None, "definition-removed", o[name], None,
                                f"{category} {name} removed (was {_value_text(o[name])})"
                                + _maybe_renamed(name, o[name], added, n)))
        elif name not in o:
            out.append(_finding(category, name, None, "definition-added", None, n[name],
                                f"new {category} {name} = {_value_text(n[name])}"))
        elif o[name] != n[name]:
            out.append(_finding(category, name, None, "value-changed", o[name], n[name],
                                f"{name}: {_value_text(o[name])} -> {_value_text(n[name])}"))
    return out


def _maybe_renamed(name, value, added, new_values):
    """A hint when one new name with the same value looks like this one renamed (same first
    and last word: HV_X64_VTL_MASK, HV_VTL_MASK). Only a hint: equal values do not make
    two constants the same one, so the removal stays breaking."""
    words = name.split("_")
    like = [a for a in added if new_values[a] == value
            and a.split("_")[0] == words[0] and a.split("_")[-1] == words[-1]]
    return f"; renamed to {like[0]}? (same value)" if len(like) == 1 else ""


def _value_text(value):
    return f"{value:#x}" if value > 9 else str(value)


# --- descriptions and provenance (spec sides) --------------------------------------------

def _compare_notes(old, new, old_notes, new_notes):
    """Review findings for names on both sides whose description or provenance changed."""
    categories = _categories(new)
    out = []
    for key in sorted(set(old_notes) & set(new_notes)):
        definition, _, member = key.partition(".")
        if definition not in categories:
            continue
        for aspect, kind, label in (("doc", "doc-changed", "description"),
                                    ("provenance", "provenance-changed", "provenance")):
            a, b = old_notes[key].get(aspect), new_notes[key].get(aspect)
            if a != b:
                out.append(_finding(categories[definition], definition, member or None, kind, a, b,
                                    f"{key}: {label} changed"))
    return out


def _categories(doc):
    cats = {name: rec["kind"] for name, rec in doc.get("records", {}).items()}
    cats.update((name, "enum") for name in doc.get("enums", {}))
    cats.update((name, "enumerator") for name in doc.get("enumerators", {}))
    cats.update((name, "macro") for name in doc.get("macros", {}))
    return cats


# --- several selections ------------------------------------------------------------------

def merge(results):
    """One finding per distinct change over [(where, findings)], e.g. where = "x86_64" or
    "rust-vmm/arm64"; each merged finding lists where it occurs, in the given order."""
    merged = {}
    for where, findings in results:
        for f in findings:
            merged.setdefault(f.key(), f).where.append(where)
    return sorted(merged.values(), key=lambda f: (f.definition, SEVERITIES.index(f.severity),
                                                  f.member or "", f.kind))
