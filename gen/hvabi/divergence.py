"""Documented vs implemented: every TLFS-documented type the spec holds, compared field
by field with each profile's selection, and the spec's own TLFS/HDK variants.

Inputs:
  tests/reference/tlfs-inventory.json   the documented types (tests/reference/tlfs_inventory.py)
  spec/                                  the spec (every profile, both arches)
  spec/divergences.yaml                  where the TLFS text differs from every header copy
                                         the spec reproduces, with the reason (below)

A documented type is matched to the spec by the name-mapping rule of tlfs_coverage.py
(HV_FOO_BAR -> hv_foo_bar), else by the `names:` table of spec/divergences.yaml. Its
documented members become a record (UINT64 -> u64, HV_FOO -> the spec's hv_foo or its
scalar typedef, CamelCase member names -> snake_case) that the spec's own layout engine
lays out on each arch, so both sides are compared as layout facts: member paths in
order, type with array length, offset and width in bits, size. Where a documented member
names a type the spec lacks, only names, types and order are compared.

Each comparison is made for the profiles tlfs (the documented view as Linux 6.12 carries
it), linux and rust-vmm, and for the tlfs view itself where the tlfs profile omits the
definition on that arch (the documented shape the spec holds although the 6.12 trio has
none: an `only: tlfs@ARCH` variant). A difference is explained by the `why:` of the spec
node that makes it (a variant), or by an entry of spec/divergences.yaml: the TLFS text
differs from every header, and the trio defines that name on that arch, so the spec
cannot hold the documented shape in the tlfs view without breaking the tlfs profile.
"""

import dataclasses
import fnmatch
import hashlib
import json
import pathlib
import re

from . import model as m
from .errors import HvabiError
from .identity import kept_on
from .layout import LayoutError, record_layout
from .select import Abi
from .shape import Leaf, Shape, compare, plain_type, spec_shape
from .spec import expr
from .tlfs_coverage import c_names, load_facts, words

DOC_SCALARS = {"UINT8": "u8", "UINT16": "u16", "UINT32": "u32", "UINT64": "u64", "INT8": "s8",
               "INT16": "s16", "INT32": "s32", "INT64": "s64", "BOOLEAN": "u8", "BOOL": "u8"}
VIEW_LABEL = "tlfs view"


# --- the divergences file -----------------------------------------------------------------

HINT = "see docs/divergence.md for the format of spec/divergences.yaml"
ENTRY_KEYS = ("tlfs", "arch", "profiles", "fields", "why")


@dataclasses.dataclass
class Field:
    """A member path or glob (`u.*`, `HVMSG_*`, `(size)`) of an entry, with its own reason
    or None (the entry's)."""
    pattern: str
    why: object
    pos: object

    def matches(self, field):
        return fnmatch.fnmatchcase(field, self.pattern)


@dataclasses.dataclass
class Known:
    """One entry of spec/divergences.yaml: the TLFS types it covers, on which arches and
    selections (None: every one), which differing fields (every one without `fields`),
    and why."""
    tlfs: list
    arches: object
    profiles: object
    fields: list
    why: str
    pos: object
    arch_given: bool = False
    profiles_pos: object = None
    matched: set = dataclasses.field(default_factory=set)       # (tlfs, arch or None) explained
    field_hits: set = dataclasses.field(default_factory=set)    # patterns that matched a difference

    def applies(self, tlfs, arch, selection):
        return (tlfs in self.tlfs and (self.arches is None or arch in self.arches)
                and (self.profiles is None or selection in self.profiles))

    def reason(self, diff):
        """(source, reason) this entry gives `diff`, or None if it does not cover it: the
        first field that matches, with its own reason and line if it has one."""
        if not self.fields:
            return self.where, self.why
        for f in self.fields:
            if f.matches(diff.field):
                self.field_hits.add(f.pattern)
                if f.why:
                    return f"spec/divergences.yaml:{f.pos.line}, {f.pattern}", f.why
                return self.where, self.why
        return None

    @property
    def where(self):
        return f"spec/divergences.yaml:{self.pos.line}" if self.pos else "spec/divergences.yaml"


def _text(value):
    return " ".join(str(value).split())


def _names_list(item, key, what, check=None):
    """A name or a non-empty list of names under `key` of `item` (None when absent)."""
    from .spec.yamlsrc import Seq
    if key not in item:
        return None
    value = item[key]
    values = list(value) if isinstance(value, Seq) else [value]
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise HvabiError(f"{key}: {what}, or a non-empty list of them", item.val_pos(key), HINT)
    if len(set(values)) != len(values):
        dup = next(v for v in values if values.count(v) > 1)
        raise HvabiError(f"{key}: {dup!r} is listed twice", item.val_pos(key), "name each once")
    for v in values:
        if check:
            check(v, item.val_pos(key))
    return values


def _check_tlfs_name(name, pos):
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise HvabiError(f"tlfs: {name!r} is not a TLFS type name", pos,
                         "write the type as the TLFS does, e.g. HV_MSI_ENTRY")


def _check_arch(name, pos):
    if name not in m.ARCHES:
        raise HvabiError(f"arch {name!r} is not one of {', '.join(m.ARCHES)}", pos,
                         f"write one of {', '.join(m.ARCHES)}, a list of them, or leave arch out for both")


def _fields(item):
    from .spec.yamlsrc import Map, Seq
    if "fields" not in item:
        return []
    value = item["fields"]
    bad = HvabiError("fields: a list of member paths or globs ((size), (kind), (order), u.*), each"
                     " optionally with its own reason as {PATH: why}", item.val_pos("fields"), HINT)
    if not isinstance(value, Seq) or not value:
        raise bad
    out = []
    for i, f in enumerate(value):
        pos = value.item_pos(i)
        if isinstance(f, str) and f.strip():
            out.append(Field(f.strip(), None, pos))
        elif isinstance(f, Map) and len(f) == 1:
            (path, why), = f.items()
            if not isinstance(why, str) or not why.strip():
                raise HvabiError(f"fields: the reason of {path!r} is not text", pos,
                                 "write {PATH: why}, the reason in our words")
            out.append(Field(path.strip(), _text(why), pos))
        else:
            raise bad
    seen = [f.pattern for f in out]
    for f in out:
        if seen.count(f.pattern) > 1:
            raise HvabiError(f"fields: {f.pattern!r} is listed twice", f.pos, "name each field once")
    return out


def load_divergences(path):
    """(names {TLFS type: (C name, pos)}, [Known]) from spec/divergences.yaml. A malformed
    file is an HvabiError at its line (exit 2)."""
    from .spec.yamlsrc import Map, Seq, load_file
    path = pathlib.Path(path)
    if not path.exists():
        raise HvabiError(f"cannot read {path}: no such file", None, HINT)
    root = load_file(path, str(path))
    if root.get("hvabi") != 2:
        raise HvabiError("not a divergences file: it needs `hvabi: 2`", root.key_pos("hvabi"), HINT)
    extra = sorted(set(root) - {"hvabi", "names", "divergences"})
    if extra:
        raise HvabiError(f"unknown key {extra[0]!r}", root.key_pos(extra[0]),
                         "a divergences file has the keys hvabi, names and divergences")
    raw_names = root.get("names") or Map()
    if not isinstance(raw_names, Map):
        raise HvabiError("names: a mapping TLFS type -> spec name", root.val_pos("names"), HINT)
    names = {}
    for k, v in raw_names.items():
        _check_tlfs_name(k, raw_names.key_pos(k))
        if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise HvabiError(f"names: {k} maps to {v!r}, not a C name", raw_names.val_pos(k),
                             "write the spec's name of the type, e.g. ms_hyperv_tsc_page")
        names[k] = (v, raw_names.key_pos(k))
    items = root.get("divergences") or Seq()
    if not isinstance(items, Seq):
        raise HvabiError("divergences: a list of entries", root.val_pos("divergences"), HINT)
    known = []
    for i, item in enumerate(items):
        if not isinstance(item, Map):
            raise HvabiError("a divergence is a mapping with tlfs, why and optionally arch, profiles,"
                             " fields", items.item_pos(i), HINT)
        extra = [k for k in item if k not in ENTRY_KEYS]
        if extra:
            raise HvabiError(f"unknown key {extra[0]!r} in a divergence", item.key_pos(extra[0]),
                             f"a divergence has the keys {', '.join(ENTRY_KEYS)}")
        if "tlfs" not in item:
            raise HvabiError("a divergence needs `tlfs:` (the TLFS type, or a list of them)", item.pos, HINT)
        tlfs = _names_list(item, "tlfs", "a TLFS type name", _check_tlfs_name)
        arches = _names_list(item, "arch", "an arch", _check_arch)
        profiles = _names_list(item, "profiles", "a profile (or 'tlfs view')")
        fields = _fields(item)
        why = item.get("why")
        if why is not None and (not isinstance(why, str) or not why.strip()):
            raise HvabiError("why: the reason, as text", item.val_pos("why"), "write why, in our words")
        if why is None and (not fields or any(f.why is None for f in fields)):
            raise HvabiError("a divergence needs `why:` (the reason, our words)", item.pos,
                             "add why:, or give every field its own reason as {PATH: why}")
        known.append(Known(tlfs, arches, profiles, fields, _text(why) if why else "", item.pos,
                           arch_given=arches is not None, profiles_pos=item.val_pos("profiles")))
    return names, known


# --- the documented side ------------------------------------------------------------------

def member_name(name):
    """A documented member name in the spec's spelling: AsUINT64 -> as_uint64,
    TscSequence -> tsc_sequence; names with '_' are only lower-cased (SCTLR_EL1)."""
    if not name:
        return name
    return name.lower() if "_" in name else words(name).lower()


class DocTypes:
    """Documented type names -> the spec's type references, for one selection."""

    def __init__(self, inv, abi):
        self.typedefs = {t["name"]: t for t in inv["typedefs"]}
        self.abi = abi

    def ref(self, text):
        """(TypeRef or None, printable type) of a documented member type."""
        parts = (text or "?").split()
        volatile = parts[0] == "volatile"
        base = parts[-1]
        seen = set()
        while base not in DOC_SCALARS and base in self.typedefs and base not in seen:
            seen.add(base)
            under = self.typedefs[base].get("type") or self.typedefs[base].get(f"type_{self.abi.sel.arch}")
            if not under:
                break
            # a typedef the spec names too (hv_gpa_page_number) is kept as that name
            if any(c in self.abi.types for c in c_names("typedef", base)):
                break
            base = under
        if base in DOC_SCALARS:
            return m.TypeRef(DOC_SCALARS[base], volatile), DOC_SCALARS[base]
        for c in c_names("typedef", base):
            if c in self.abi.types:
                return m.TypeRef(c, volatile), c
        return None, base.lower()


def _count(text, abi):
    if text is None:
        return None
    try:
        tree = expr.parse(str(text))
        abi.evaluate(tree)
        return tree
    except (HvabiError, KeyError, RecursionError):
        return False


def doc_record(kind, members, types, name):
    """The documented members as a model Record, or None if some type or length is not
    known to the spec (then `doc_leaves_plain` is used)."""
    out, cur, known = [], 0, True
    for mem in members:
        if "members" in mem:
            inner = doc_record(mem["kind"], mem["members"], types, None)
            if inner is None:
                return None
            inner.member = member_name(mem.get("name")) or None
            if mem.get("count") is not None:
                inner.count = _count(mem["count"], types.abi)
                if inner.count is False:
                    return None
            out.append(inner)
            known = False
            continue
        ref, _ = types.ref(mem.get("type"))
        if ref is None:
            return None
        if mem.get("bits") is not None:
            if kind == "union":
                cur = 0
            if not known or ref.name not in expr.SCALARS:
                return None
            unit = expr.SCALARS[ref.name][0]
            width = int(mem["bits"])
            if cur // unit != (cur + width - 1) // unit:
                cur = -(-cur // unit) * unit
            out.append(m.Bitfield(member_name(mem["name"]), type=ref.name, lo=cur, hi=cur + width - 1))
            cur += width
            continue
        count = _count(mem.get("count"), types.abi)
        if count is False:
            return None
        out.append(m.Field(member_name(mem["name"]), type=ref, count=count))
        if ref.name in expr.SCALARS and count is None and kind == "struct":
            bits = expr.SCALARS[ref.name][0]
            cur = -(-cur // bits) * bits + bits
        else:
            known = False
    return m.Record(name, kind=kind, members=out)


def doc_leaves_plain(members, types, prefix=""):
    """(path, type) of documented members when no layout can be made."""
    out = []
    for mem in members:
        count = f"[{mem['count']}]" if mem.get("count") is not None else ""
        if "members" in mem:
            sub = prefix + member_name(mem["name"]) + "." if mem.get("name") else prefix
            if mem.get("name"):
                out.append(Leaf(prefix + member_name(mem["name"]), mem["kind"] + count))
            out += doc_leaves_plain(mem["members"], types, sub)
        else:
            _, t = types.ref(mem.get("type"))
            bits = mem.get("bits")
            out.append(Leaf(prefix + member_name(mem["name"]), t + count,
                            bits=int(bits) if bits is not None else None))
    return out


def doc_shape(inv_type, definition, abi, inv):
    if inv_type["kind"] == "enum":
        leaves = []
        for e in definition.get("enumerators", ()):
            if e.get("arch") and e["arch"] != abi.sel.arch:
                continue
            v = e.get("value") if e.get("value") is not None else e.get("expr", "?")
            leaves.append(Leaf(c_names("enumerator", e["name"])[0], "", value=v))
        return Shape("enum", leaves)
    types = DocTypes(inv, abi)
    members = [x for x in definition.get("members", []) if not x.get("arch") or x["arch"] == abi.sel.arch]
    rec = doc_record(inv_type["kind"], members, types, "documented " + inv_type["name"])
    if rec is not None:
        try:
            lay = record_layout(abi, rec)
            return Shape(rec.kind, [Leaf(p.path, plain_type(p.type), p.offset, p.bits) for p in lay.members],
                         lay.size)
        except (LayoutError, HvabiError, KeyError):
            pass
    return Shape(inv_type["kind"], doc_leaves_plain(members, types))


# --- the report ---------------------------------------------------------------------------

@dataclasses.dataclass
class Finding:
    """One documented type on one arch against one selection."""
    tlfs: str
    name: str                     # the spec's C name
    arch: str
    selection: str                # a profile, or VIEW_LABEL
    status: str                   # same, differs, not carried
    page: str
    diffs: list
    reasons: list                 # [(source, text)]: spec file:line or spec/divergences.yaml:line
    spec_why: bool = False        # a spec variant's `why` accounts for the whole shape here
    unexplained_fields: list = dataclasses.field(default_factory=list)

    @property
    def explained(self):
        return self.status != "differs" or self.spec_why or not self.unexplained_fields

    def as_dict(self):
        return {"tlfs": self.tlfs, "name": self.name, "arch": self.arch, "selection": self.selection,
                "status": self.status, "page": self.page, "explained": self.explained,
                "diffs": [d.as_dict() for d in self.diffs],
                "reasons": [{"source": s, "why": w} for s, w in self.reasons],
                "unexplained_fields": [] if self.explained else self.unexplained_fields}


def _spec_whys(defn):
    """(position, why) of a selected definition and of its members that carry a view or
    profile condition: the spec's reasons for the shape this selection has."""
    out = []

    def walk(node):
        if node.why and (node.cond.names_profiles or node is defn):
            out.append((str(node.pos), node.why))
        for child in getattr(node, "members", ()) or ():
            walk(child)
    walk(defn)
    return out


def _profile_order(spec):
    return sorted(spec.profiles, key=lambda p: (spec.profiles[p].view != "tlfs", p))


def _view_abi(spec, profile, arch):
    """The view of `profile` on `arch` without the profile's omit list: what the spec holds
    for that view, whether or not the profile's upstream copy carries it."""
    bare = dataclasses.replace(spec.profiles[profile], omit={})
    return Abi.of(spec, m.Selection(profile, bare.view, arch), profile=bare)


def _definitions_by_arch(inv_type):
    """{arch: definition}: an arch's own definition wins over one for every arch."""
    out = {}
    for d in inv_type["definitions"]:
        for arch in ([d["arch"]] if d.get("arch") else m.ARCHES):
            if arch not in out or d.get("arch"):
                out[arch] = d
    return out


def _explain(diffs, tlfs, arch, label, known):
    """(reasons, unexplained field names) of one differing selection from the entries."""
    reasons, missing = [], []
    for d in diffs:
        covered = False
        for k in known:
            if not k.applies(tlfs, arch, label):
                continue
            got = k.reason(d)
            if got is None:
                continue
            covered = True
            k.matched.add((tlfs, arch if k.arch_given else None))
            if got not in reasons:
                reasons.append(got)
        if not covered and d.field not in missing:
            missing.append(d.field)
    return reasons, missing


def findings(spec, inv, names, known):
    """[Finding] for every documented type the spec holds, per arch and selection. A
    profile whose view never holds the type (the mshv view) is left out."""
    abis = {(p, a): Abi.of(spec, m.Selection(p, spec.profiles[p].view, a))
            for p in spec.profiles for a in m.ARCHES}
    views = {(p, a): _view_abi(spec, p, a) for p in spec.profiles for a in m.ARCHES}
    tlfs_profiles = [p for p in _profile_order(spec) if spec.profiles[p].view == "tlfs"]
    for k in known:
        k.matched, k.field_hits = set(), set()
    out = []
    for t in inv["types"]:
        cname = names[t["name"]][0] if t["name"] in names else next(
            (c for c in c_names("type", t["name"]) if any(c in abi.types for abi in abis.values())), None)
        if cname is None:
            continue
        profiles = [p for p in _profile_order(spec) if any(cname in views[p, a].types for a in m.ARCHES)]
        for arch, definition in sorted(_definitions_by_arch(t).items(), key=lambda x: m.ARCHES.index(x[0])):
            selections = [(p, abis[p, arch]) for p in profiles]
            for p in tlfs_profiles:
                view = views[p, arch]
                if cname not in abis[p, arch].types and cname in view.types:
                    selections.insert(1, (VIEW_LABEL, view))
            # The spec's own `why`s account for a selection's shape only where the spec
            # holds the documented shape itself (its tlfs view matches the text there):
            # then what differs is the spec's documented-vs-HDK variant, and its why says why.
            holds_documented = any(
                cname in views[p, arch].types
                and not compare(doc_shape(t, definition, views[p, arch], inv),
                                spec_shape(views[p, arch], views[p, arch].types[cname]))
                for p in tlfs_profiles)
            for label, abi in selections:
                defn = abi.types.get(cname)
                page = f"{definition['page']}:{definition['line']}"
                if defn is None:
                    out.append(Finding(t["name"], cname, arch, label, "not carried", page, [], []))
                    continue
                diffs = compare(doc_shape(t, definition, abi, inv), spec_shape(abi, defn))
                reasons, missing, whys = [], [], []
                if diffs:
                    whys = _spec_whys(defn)
                    reasons, missing = _explain(diffs, t["name"], arch, label, known)
                    reasons = whys + reasons
                out.append(Finding(t["name"], cname, arch, label, "differs" if diffs else "same",
                                   page, diffs, reasons, bool(whys) and holds_documented, missing))
    return out


def stale(known, found, names, inv, spec):
    """(position, subject, problem) for each entry of spec/divergences.yaml that explains
    nothing: a type that shows no difference (on an arch the entry names), a field that
    matches no difference, a `names:` entry the spec or the inventory does not know or the
    name rule maps anyway."""
    problems = []
    documented = {t["name"] for t in inv["types"]}
    held = {f.tlfs for f in found}
    for k in known:
        arches = k.arches if k.arch_given else [None]
        for tlfs in k.tlfs:
            if tlfs not in documented:
                problems.append((k.where, tlfs, "not a type the TLFS inventory documents"))
                continue
            if tlfs not in held:
                problems.append((k.where, tlfs, "the spec holds no definition of it"))
                continue
            for arch in arches:
                if (tlfs, arch) not in k.matched:
                    subject = f"{tlfs} {arch}" if arch else tlfs
                    scope = f" for {', '.join(k.profiles)}" if k.profiles else ""
                    what = f"no difference in {', '.join(f.pattern for f in k.fields)}" if k.fields else \
                        "no selection of the spec differs from the documented shape there"
                    problems.append((k.where, subject, what + scope))
        unused = [f for f in k.fields if f.pattern not in k.field_hits]
        if unused and all((t, a) in k.matched for t in k.tlfs if t in held
                          for a in (k.arches if k.arch_given else [None])):
            problems.append((k.where, "/".join(k.tlfs),
                             f"no difference in {', '.join(f.pattern for f in unused)}"))
    every = set()
    for abi_types in (Abi.of(spec, m.Selection(p, spec.profiles[p].view, a)).types
                      for p in (spec.profiles if names else ()) for a in m.ARCHES):
        every |= set(abi_types)
    for tlfs, (cname, pos) in sorted(names.items()):
        where = f"spec/divergences.yaml:{pos.line}" if pos else "spec/divergences.yaml"
        if tlfs not in documented:
            problems.append((where, tlfs, "names: not a type the TLFS inventory documents"))
        elif cname not in every:
            problems.append((where, tlfs, f"names: the spec has no type {cname}"))
        elif cname in c_names("type", tlfs):
            problems.append((where, tlfs, f"names: the name rule already maps it to {cname}"))
    return problems


def spec_variants(spec):
    """The spec's own documented-vs-HDK variants: every definition or member with a `why`
    whose `only:` separates the tlfs view from the HDK profiles, and the field-by-field
    difference between the tlfs profile's and each HDK profile's selection of it."""
    order = _profile_order(spec)
    tlfs_profiles = [p for p in order if spec.profiles[p].view == "tlfs"]
    hdk_profiles = [p for p in order if spec.profiles[p].view != "tlfs"]
    abis = {(p, a): Abi.of(spec, m.Selection(p, spec.profiles[p].view, a)) for p in order for a in m.ARCHES}
    out, index = [], {}
    for entry in spec.entries:
        defn = entry.defn
        splits = []

        def walk(node):
            if (node.why or defn.why) and _names_view(node.cond, tlfs_profiles) and _splits(node.cond, spec):
                splits.append(node)
            for child in list(getattr(node, "members", ()) or ()) + list(getattr(node, "items", ()) or ()):
                walk(child)
        walk(defn)
        if not splits:
            continue
        key = defn.name or str(defn.pos)
        if key not in index:
            index[key] = {"name": defn.name or "(constants)", "pos": str(defn.pos), "kind": _kind(defn),
                          "whys": [], "differences": [], "nodes": []}
            out.append(index[key])
            if defn.name:
                index[key]["differences"] = _variant_rows(defn.name, abis, tlfs_profiles, hdk_profiles)
        row = index[key]
        for n in splits:
            why = {"source": str(n.pos if n.why else defn.pos), "why": n.why or defn.why}
            if why not in row["whys"]:
                row["whys"].append(why)
            if n is not defn and (n.name or "(anonymous)") not in row["nodes"]:
                row["nodes"].append(n.name or "(anonymous)")
    return out


def _variant_rows(name, abis, tlfs_profiles, hdk_profiles):
    rows = []
    for arch in m.ARCHES:
        for tp in tlfs_profiles:
            view = _view_abi(abis[tp, arch].spec, tp, arch)
            td = view.types.get(name)
            for hp in hdk_profiles:
                hd = abis[hp, arch].types.get(name)
                if td is None or hd is None:
                    continue
                diffs = compare(spec_shape(view, td), spec_shape(abis[hp, arch], hd))
                if diffs:
                    rows.append({"arch": arch, "tlfs": tp, "hdk": hp,
                                 "diffs": [d.text(VIEW_LABEL, hp) for d in diffs]})
    return rows


def _kind(defn):
    if isinstance(defn, m.Record):
        return "register" if defn.register else defn.kind
    return {m.Enum: "enum", m.ConstGroup: "constants", m.Typedef: "typedef"}.get(type(defn), "?")


def _names_view(cond, tlfs_profiles):
    """True if `cond` names the tlfs or hdk view, or a profile of the tlfs view (a split
    between linux and rust-vmm alone is not documented vs HDK)."""
    return cond.names_profiles and any(who in ("tlfs", "hdk") or who in tlfs_profiles for who, _ in cond.where)


def _splits(cond, spec):
    """True if `cond` holds for some tlfs-view profile and not for some HDK one (or the
    other way round) on one arch."""
    for arch in m.ARCHES:
        got = {p: cond.matches(m.Selection(p, spec.profiles[p].view, arch)) for p in spec.profiles}
        tl = {got[p] for p in got if spec.profiles[p].view == "tlfs"}
        hd = {got[p] for p in got if spec.profiles[p].view != "tlfs"}
        if tl and hd and tl != hd:
            return True
    return False


def build(spec, inventory_path, divergences_path):
    """The divergence document of `spec` against the TLFS inventory, with the reasons of
    spec/divergences.yaml. Once per loaded spec and input files (by content): a process
    printing several formats (the tests) builds it once; the document is not changed by
    the formatters."""
    key = [str(inventory_path), str(divergences_path)]
    for path in (inventory_path, divergences_path):
        try:
            key.append(hashlib.sha256(pathlib.Path(path).read_bytes()).digest())
        except OSError:
            return _build(spec, inventory_path, divergences_path)     # reports it
    cache = kept_on(spec, "_divergence")
    key = tuple(key)
    if key not in cache:
        cache[key] = _build(spec, inventory_path, divergences_path)
    return cache[key]


def _build(spec, inventory_path, divergences_path):
    inv = load_facts(inventory_path, ("pages", "hypercalls", "types", "typedefs", "constants", "msrs",
                                      "registers"))
    names, known = load_divergences(divergences_path)
    labels = set(spec.profiles) | {VIEW_LABEL}
    for k in known:
        for p in k.profiles or ():
            if p not in labels:
                raise HvabiError(f"profiles: {p!r} is not a profile of the spec", k.profiles_pos,
                                 f"name one of {', '.join(sorted(labels))}")
    found = findings(spec, inv, names, known)
    problems = stale(known, found, names, inv, spec)
    src = inv["source"]
    return {
        "source": {"tlfs": f"{src.get('repo')} {src.get('commit')}", "divergences": str(divergences_path)},
        "types": found,
        "variants": spec_variants(spec),
        "entries": len(known),
        "stale": [{"pos": where, "subject": subject, "problem": why} for where, subject, why in problems],
    }


def summary(doc):
    found = doc["types"]
    differing = [f for f in found if f.status == "differs"]
    return {"documented types in spec": len({f.tlfs for f in found}),
            "type x arch with a difference": len({(f.tlfs, f.arch) for f in differing}),
            "differing selections": len(differing),
            "spec variants": len(doc["variants"]),
            "explained": sum(f.explained for f in differing),
            "unexplained": sum(not f.explained for f in differing),
            "stale": len(doc["stale"])}


def _grouped(found):
    """Findings of one (type, arch) whose selections differ identically, grouped."""
    groups = {}
    for f in found:
        key = (f.tlfs, f.arch)
        groups.setdefault(key, []).append(f)
    for key, rows in groups.items():
        merged = []
        for f in rows:
            for g in merged:
                if g[0].status == f.status and [d.text() for d in g[0].diffs] == [d.text() for d in f.diffs]:
                    g.append(f)
                    break
            else:
                merged.append([f])
        yield key, rows[0], merged


def as_text(doc, markdown=False):
    lines = []
    s = summary(doc)
    h1, h2, bullet = ("# ", "## ", "- ") if markdown else ("", "", "  ")
    lines.append(f"{h1}TLFS documented vs spec ({doc['source']['tlfs'][:52]})")
    if markdown:
        lines.append("")
    lines += [f"{bullet}{k}: {v}" for k, v in s.items()]
    lines.append("")
    lines.append(f"{h2}Documented types, field by field")
    for (tlfs, arch), first, merged in _grouped(doc["types"]):
        if all(g[0].status != "differs" for g in merged):
            continue
        if markdown:
            lines += ["", f"### {tlfs} ({first.name}), {arch}", "", f"Documented at {first.page}.", ""]
        else:
            lines.append(f"{tlfs} ({first.name}) {arch} [{first.page}]")
        for group in merged:
            who = ", ".join(f.selection for f in group)
            f = group[0]
            if f.status != "differs":
                lines.append(f"{bullet}{who}: {f.status}")
                continue
            lines.append(f"{bullet}{who}:" + ("" if f.explained else
                                              f" (unexplained: {', '.join(f.unexplained_fields)})"))
            pad = "  " + bullet if markdown else "      "
            lines += [f"{pad}{'`' + d.text() + '`' if markdown else d.text()}" for d in f.diffs]
            for src, why in f.reasons:
                lines.append(f"{pad}why ({src}): {why}")
    lines.append("")
    lines.append(f"{h2}The spec's variants between the tlfs view and the HDK profiles")
    if markdown:
        lines.append("")
    for v in doc["variants"]:
        nodes = f" ({', '.join(v['nodes'])})" if v["nodes"] else ""
        lines.append(f"{bullet}{v['kind']} {v['name']}{nodes} [{v['pos']}]")
        pad = "  " + bullet if markdown else "      "
        for w in v["whys"]:
            lines.append(f"{pad}why ({w['source']}): {w['why']}")
        for row in v["differences"]:
            for d in row["diffs"]:
                text = f"{row['arch']}: {d}"
                lines.append(f"{pad}{'`' + text + '`' if markdown else text}")
    if doc["stale"]:
        lines.append("")
        lines.append(f"{h2}Stale entries of spec/divergences.yaml")
        for st in doc["stale"]:
            lines.append(f"{bullet}{st['pos']}: {st['subject']}: {st['problem']}")
    return "\n".join(lines) + "\n"


def as_json(doc):
    out = {"source": doc["source"], "summary": summary(doc),
           "types": [f.as_dict() for f in doc["types"]], "variants": doc["variants"], "stale": doc["stale"]}
    return json.dumps(out, indent=1, sort_keys=True) + "\n"
