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
import json
import pathlib

from . import model as m
from .errors import HvabiError
from .layout import LayoutError, record_layout
from .select import Abi
from .shape import Leaf, Shape, compare, plain_type, spec_shape
from .spec import expr
from .tlfs_coverage import c_names, load_facts, words

DOC_SCALARS = {"UINT8": "u8", "UINT16": "u16", "UINT32": "u32", "UINT64": "u64", "INT8": "s8",
               "INT16": "s16", "INT32": "s32", "INT64": "s64", "BOOLEAN": "u8", "BOOL": "u8"}
VIEW_LABEL = "tlfs view"


# --- the divergences file -----------------------------------------------------------------

@dataclasses.dataclass
class Known:
    """One entry of spec/divergences.yaml."""
    tlfs: str
    arch: str
    fields: list
    why: str
    pos: object
    used: bool = False


def load_divergences(path):
    """(names {TLFS type: C name}, [Known]) from spec/divergences.yaml."""
    from .spec.yamlsrc import Map, load_file
    path = pathlib.Path(path)
    hint = "see docs/divergence.md for the format of spec/divergences.yaml"
    if not path.exists():
        raise HvabiError(f"cannot read {path}: no such file", None, hint)
    root = load_file(path, str(path))
    if not isinstance(root, Map) or root.get("hvabi") != 2 or set(root) - {"hvabi", "names", "divergences"}:
        raise HvabiError("not a divergences file (hvabi: 2, names:, divergences:)",
                         getattr(root, "pos", f"{path}:1"), hint)
    names = dict(root.get("names") or {})
    known = []
    for item in root.get("divergences") or []:
        if not isinstance(item, Map) or set(item) != {"tlfs", "arch", "fields", "why"}:
            raise HvabiError("a divergence has exactly the keys tlfs, arch, fields, why",
                             getattr(item, "pos", root.pos), hint)
        if item["arch"] not in m.ARCHES:
            raise HvabiError(f"arch {item['arch']!r} is not one of {', '.join(m.ARCHES)}",
                             item.val_pos("arch"), hint)
        if not isinstance(item["fields"], list) or not all(isinstance(f, str) for f in item["fields"]):
            raise HvabiError("fields: a list of member paths (or (size), (kind))", item.val_pos("fields"), hint)
        known.append(Known(item["tlfs"], item["arch"], list(item["fields"]), " ".join(str(item["why"]).split()),
                           item.pos))
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

    @property
    def explained(self):
        return self.status != "differs" or bool(self.reasons)

    def as_dict(self):
        return {"tlfs": self.tlfs, "name": self.name, "arch": self.arch, "selection": self.selection,
                "status": self.status, "page": self.page, "explained": self.explained,
                "diffs": [d.as_dict() for d in self.diffs],
                "reasons": [{"source": s, "why": w} for s, w in self.reasons]}


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
    """The tlfs view on `arch` without the tlfs profile's omit list: what the spec holds
    as documented, whether or not the 6.12 trio carries it."""
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


def findings(spec, inv, names, known):
    """[Finding] for every documented type the spec holds, per arch and selection."""
    abis = {(p, a): Abi.of(spec, m.Selection(p, spec.profiles[p].view, a))
            for p in spec.profiles for a in m.ARCHES}
    tlfs_profiles = [p for p in _profile_order(spec) if spec.profiles[p].view == "tlfs"]
    views = {(p, a): _view_abi(spec, p, a) for p in tlfs_profiles for a in m.ARCHES}
    out = []
    for t in inv["types"]:
        cname = names.get(t["name"]) or next(
            (c for c in c_names("type", t["name"]) if any(c in abi.types for abi in abis.values())), None)
        if cname is None:
            continue
        for arch, definition in sorted(_definitions_by_arch(t).items(), key=lambda x: m.ARCHES.index(x[0])):
            selections = [(p, abis[p, arch]) for p in _profile_order(spec)]
            for p in tlfs_profiles:
                view = views[p, arch]
                if cname not in abis[p, arch].types and cname in view.types:
                    selections.insert(1, (VIEW_LABEL, view))
            for label, abi in selections:
                defn = abi.types.get(cname)
                page = f"{definition['page']}:{definition['line']}"
                if defn is None:
                    out.append(Finding(t["name"], cname, arch, label, "not carried", page, [], []))
                    continue
                diffs = compare(doc_shape(t, definition, abi, inv), spec_shape(abi, defn))
                reasons = []
                if diffs:
                    reasons += _spec_whys(defn)
                    for k in known:
                        if k.tlfs == t["name"] and k.arch == arch:
                            k.used = True
                            reasons.append((f"spec/divergences.yaml:{k.pos.line}" if k.pos else
                                            "spec/divergences.yaml", k.why))
                out.append(Finding(t["name"], cname, arch, label, "differs" if diffs else "same",
                                   page, diffs, reasons))
    return out


def stale(known, found):
    """Entries of spec/divergences.yaml that explain nothing: their type and arch show
    no difference, or a field they name does not differ."""
    problems = []
    for k in known:
        rows = [f for f in found if f.tlfs == k.tlfs and f.arch == k.arch and f.status == "differs"]
        if not rows:
            problems.append((k, "no selection of the spec differs from the documented shape there"))
            continue
        fields = {d.field for f in rows for d in f.diffs}
        missing = [x for x in k.fields if x not in fields]
        if missing:
            problems.append((k, f"no difference in {', '.join(missing)}"))
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
    inv = load_facts(inventory_path, ("pages", "hypercalls", "types", "typedefs", "constants", "msrs",
                                      "registers"))
    names, known = load_divergences(divergences_path)
    found = findings(spec, inv, names, known)
    problems = stale(known, found)
    src = inv["source"]
    return {
        "source": {"tlfs": f"{src.get('repo')} {src.get('commit')}", "divergences": str(divergences_path)},
        "types": found,
        "variants": spec_variants(spec),
        "stale": [{"tlfs": k.tlfs, "arch": k.arch, "pos": f"spec/divergences.yaml:{k.pos.line}", "problem": why}
                  for k, why in problems],
    }


def summary(doc):
    found = doc["types"]
    types = {f.tlfs for f in found}
    differ = {(f.tlfs, f.arch) for f in found if f.status == "differs"}
    unexplained = [f for f in found if not f.explained]
    return {"documented types in spec": len(types),
            "type x arch with a difference": len(differ),
            "differing selections": sum(f.status == "differs" for f in found),
            "unexplained": len(unexplained), "spec variants": len(doc["variants"]),
            "stale divergences": len(doc["stale"])}


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
            lines.append(f"{bullet}{who}:" + ("" if f.explained else " (unexplained)"))
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
            lines.append(f"{bullet}{st['pos']}: {st['tlfs']} {st['arch']}: {st['problem']}")
    return "\n".join(lines) + "\n"


def as_json(doc):
    out = {"source": doc["source"], "summary": summary(doc),
           "types": [f.as_dict() for f in doc["types"]], "variants": doc["variants"], "stale": doc["stale"]}
    return json.dumps(out, indent=1, sort_keys=True) + "\n"
