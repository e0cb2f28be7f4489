#!/usr/bin/python3
"""One-off migration of a format-1 spec to format 2 (kept for the record of how spec/ was
converted; see docs/spec-format.md).

    tools/migrate_v1.py V1_GEN_DIR V1_SPEC_DIR OUT_SPEC_DIR

V1_GEN_DIR is the `gen/hvabi` package of a format-1 checkout (imported as `hvabi_v1`).
Every (profile, arch) selection of the old spec is read as the old tool resolves it; the
selections are folded with the n-way merge (importer/merge.py), so one definition is
written once and what differs stays as explicit variants; which copy lists a name becomes
the profiles' `omit` lists; integer spellings that give the same C constant are one fact.
It also prints the redundancy figures of the old spec.
"""

import collections
import dataclasses
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gen"))
from hvabi import model as m  # noqa: E402
from hvabi.importer import merge, writer  # noqa: E402
from hvabi.spec import expr  # noqa: E402

FOLD = [("linux", "x86_64"), ("linux", "arm64"), ("rust-vmm", "x86_64"), ("rust-vmm", "arm64"),
        ("tlfs", "x86_64"), ("tlfs", "arm64")]


def load_v1(gen_dir):
    pkg = pathlib.Path(gen_dir).resolve()
    sys.path.insert(0, str(pkg.parent))
    name = "hvabi_v1"
    if pkg.name != name:
        link = pathlib.Path("/tmp") / "hvabi_v1_pkg"
        link.mkdir(exist_ok=True)
        target = link / name
        if not target.exists():
            target.symlink_to(pkg)
        sys.path.insert(0, str(link))
    v1 = importlib.import_module(name)
    return (importlib.import_module(f"{name}.spec.loader"), importlib.import_module(f"{name}.select"),
            importlib.import_module(f"{name}.model"), v1)


def to_v2(node):
    """A resolved format-1 node (dataclass of hvabi_v1) as the same format-2 node, plain."""
    if isinstance(node, list):
        return [to_v2(x) for x in node]
    if isinstance(node, tuple):
        return tuple(to_v2(x) for x in node)
    if not dataclasses.is_dataclass(node):
        return node
    cls_name = type(node).__name__
    if cls_name == "Cond":
        return m.ALWAYS
    cls = getattr(m, cls_name, None) or getattr(expr, cls_name)
    kw = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        if f.name == "values":
            value = [(m.ALWAYS, to_v2(v)) for _, v in value]
        else:
            value = to_v2(value)
        kw[f.name] = value
    return cls(**kw)


def def_key(defn):
    if isinstance(defn, m.ConstGroup):
        # One group is one description: format 1 split groups into blocks per copy and
        # reused labels (`hv`) for unrelated groups.
        doc = " ".join(defn.doc.replace(", as the documented view lists them", "")
                       .replace(", as the HDK lists them", "").split())
        return ("consts", doc)
    if isinstance(defn, m.Enum):
        return ("enum", defn.name or "~" + defn.items[0].name)
    return ("type", defn.name)


def reading(v1sel, v1m, spec1, profile, view, arch, notes):
    """The definitions of one selection, constant groups of one label joined, plus notes
    (placement, page, file, first doc) per definition key and per constant."""
    abi = v1sel.Abi(spec1, v1m.Selection(profile, view, arch))
    out, groups = [], {}
    for entry, defn in abi.entries:
        d = to_v2(defn)
        key = def_key(d)
        header = entry.placement.header_for(abi.sel)
        note = notes.setdefault(key, {"file": entry.source_file, "tlfs": entry.tlfs_page,
                                      "doc": d.doc, "header": {}})
        note["tlfs"] = note["tlfs"] or entry.tlfs_page
        note["doc"] = note["doc"] or d.doc
        note["header"].setdefault((profile, arch), header)
        if isinstance(d, m.ConstGroup):
            note["doc"] = " ".join(key[1].split())
            for c in d.items:
                notes.setdefault(("const", c.name), {"header": {}})["header"][(profile, arch)] = header
            if key in groups:
                groups[key].items.extend(d.items)
                continue
            groups[key] = d
        out.append(d)
    return out


# --- conditions and omissions --------------------------------------------------------------

VIEWS = {"tlfs": "tlfs", "linux": "hdk", "rust-vmm": "hdk"}
ALL = frozenset(FOLD)


def natural(keys, universe):
    """Views x arches a node exists in (its condition); the rest of `universe` inside
    that is what some profile omits."""
    views = {VIEWS[p] for p, _ in keys}
    arches = {a for _, a in keys}
    return frozenset((p, a) for p, a in universe if VIEWS[p] in views and a in arches)


def membership(node, universe, omit, name):
    """Give `node` the condition of its views and arches; what a profile lacks inside
    those goes to `omit`."""
    keys = merge.keys_of(node)
    nat = natural(keys, universe)
    names = [name] if name else [i.name for i in node.items]    # an unnamed group: its items
    for p in sorted({p for p, _ in nat - keys}):
        missing = {a for q, a in nat - keys if q == p}
        have = {a for q, a in nat if q == p}
        for n in names:
            if missing == have:
                omit[p].add(n)
            else:
                omit[p] |= {f"{n}@{a}" for a in missing}
    return dataclasses.replace(node, cond=cond_of(nat, universe))


def cond_of(keys, universe):
    pairs = merge.express(keys, universe, VIEWS)
    return m.ALWAYS if pairs is None else m.Cond(pairs)


def items_relative(defn, omit, stats):
    """Constants and enumerators: same-name variants that differ by arch only become one
    value map; which copy lists an item goes to `omit`; real variants keep conditions."""
    keys = merge.keys_of(defn)
    items = merge.join_arch_values(defn.items)
    counts = collections.Counter(i.name for i in items)
    out = []
    for item in items:
        if counts[item.name] == 1:
            out.append(membership(item, keys, omit, item.name))
        else:
            stats["item variants"] += 1
            out.append(dataclasses.replace(item, cond=cond_of(merge.keys_of(item), keys)))
    return out


CONFLICTS = []
TODO_WHY = "TODO: why"


def _names_copies(defn):
    """Some member, bitfield or item has a condition that names a view or profile."""
    names = [i.name for i in getattr(defn, "items", [])]
    if len(names) != len(set(names)):
        return True

    def walk(node, top):
        if not top and node.cond.names_profiles and not isinstance(node, (m.Const, m.Enumerator)):
            return True
        if isinstance(node, (m.Const, m.Enumerator)) and node.cond.where is not None and any(
                who not in (m.ANY, "hdk", "tlfs") for who, _ in node.cond.where):
            return True
        kids = getattr(node, "members", None) or getattr(node, "items", None) or []
        return any(walk(k, False) for k in kids)
    return walk(defn, True)


def placement_of(per_key, what=""):
    """{(profile, arch): header id} -> a placement map by view, or by profile where the
    profiles of a view disagree. A profile whose arches disagree keeps its first arch's."""
    out = {}
    for view in ("hdk", "tlfs"):
        profiles = [p for p in VIEWS if VIEWS[p] == view]
        ids = {}
        for p in profiles:
            mine = [per_key[k] for k in FOLD if k[0] == p and per_key.get(k)]
            if mine:
                ids[p] = mine[0]
                if len(set(mine)) > 1:
                    CONFLICTS.append((what, p, mine))
        if len(set(ids.values())) == 1:
            out[view] = next(iter(ids.values()))
        else:
            out.update(ids)
    return out


def main(argv):
    gen_dir, spec_dir, out_dir = argv
    loader, v1sel, v1m, _ = load_v1(gen_dir)
    spec1 = loader.load_spec(spec_dir)
    notes = {}
    merged = merge.Merge(def_key)
    for profile, arch in FOLD:
        merged.add(reading(v1sel, v1m, spec1, profile, VIEWS[profile], arch, notes), (profile, arch))
    omit = collections.defaultdict(set)
    stats = collections.Counter()
    files = collections.defaultdict(list)
    for key, run in merged.slots:
        note = notes[key]
        total = frozenset().union(*(merge.keys_of(v) for v in run))
        out = []
        for v in run:
            if isinstance(v, (m.ConstGroup, m.Enum)):
                v = dataclasses.replace(v, items=items_relative(v, omit, stats))
            elif isinstance(v, m.Record):
                v = dataclasses.replace(v, members=[merge.relative(x, merge.keys_of(v), VIEWS)
                                                    for x in v.members])
            out.append(v)
        if len(out) == 1:
            out = [membership(out[0], ALL, omit, out[0].name if not isinstance(out[0], m.ConstGroup)
                              else None)]
            if isinstance(out[0], m.ConstGroup):
                out[0] = dataclasses.replace(out[0], cond=cond_of(natural(total, ALL), ALL))
        else:
            stats["definition variants"] += len(out)
            # Each variant says where it is; nothing else to omit.
            out = [dataclasses.replace(v, cond=cond_of(merge.keys_of(v), ALL), why=TODO_WHY) for v in out]
        if len(out) == 1 and _names_copies(out[0]):
            out[0] = dataclasses.replace(out[0], why=TODO_WHY)
        if isinstance(out[0], m.ConstGroup):
            home = placement_of(note["header"])
            items = []
            for c in out[0].items:
                mine = placement_of(notes[("const", c.name)]["header"], c.name)
                items.append(dataclasses.replace(c, placement=None if all(
                    home.get(k) == h for k, h in mine.items()) else m.Placement(mine)))
            out[0] = dataclasses.replace(out[0], items=items)
        out[0] = dataclasses.replace(out[0], doc=note["doc"])
        files[note["file"]].append((out, note))
    types = {v.name: v for _, run in merged.slots for v in run if not isinstance(v, m.ConstGroup)}
    style = SpecStyle(types)
    files = {f: [([textify(v, style) for v in out], note) for out, note in entries]
             for f, entries in files.items()}
    write(out_dir, files, omit)
    for c in CONFLICTS:
        print("placement differs by arch:", c)
    for k, v in sorted(stats.items()):
        print(f"{k}: {v}")
    return 0


def write(out_dir, files, omit):
    out_dir = pathlib.Path(out_dir)
    (out_dir / "defs").mkdir(parents=True, exist_ok=True)
    for file, entries in files.items():
        name = pathlib.Path(file).name
        stem = name.split("-", 1)[1].rsplit(".", 1)[0]
        default = {"hdk": stem}

        def attrs(defn, entries=entries):
            note = next(n for out, n in entries if out[0] is defn)
            place = placement_of(note["header"])
            extra = {k: v for k, v in place.items() if default.get(k) != v}
            pairs = [("header", writer.flow(sorted(extra.items())))] if extra else []
            if note["tlfs"]:
                pairs.append(("tlfs", writer.text_scalar(note["tlfs"])))
            return pairs
        text = writer.render([out if len(out) > 1 else out[0] for out, _ in entries], default, attrs)
        (out_dir / "defs" / name).write_text(text)
    print({p: len(v) for p, v in omit.items()})
    lines = ["hvabi: 2", PROFILES_HEAD.rstrip(), "profiles:"]
    for name, body in PROFILES.items():
        lines.append(f"  {name}:")
        lines += [f"    {k}: {writer.text_scalar(v)}" for k, v in body.items()]
        names = sorted(omit.get(name, ()))
        if names:
            lines.append("    omit: [")
            line = "      "
            for n in names:
                if len(line) + len(n) + 2 > 100:
                    lines.append(line.rstrip())
                    line = "      "
                line += n + ", "
            lines.append(line.rstrip().rstrip(",") + "]")
    (out_dir / "profiles.yaml").write_text("\n".join(lines) + "\n")


PROFILES_HEAD = """
# A profile is one copy of the ABI that a product reproduces: the definitions of its view,
# less the names it omits (NAME, or NAME@ARCH for one arch only). `omit` lists what that
# upstream copy does not carry; it says nothing about the ABI itself.
"""
PROFILES = {
    "tlfs": {"view": "tlfs",
             "doc": "The documented TLFS view as Linux 6.12 carries it in its hyperv-tlfs.h headers.",
             "reference": "Linux 6.12 hyperv-tlfs.h (include/asm-generic, arch/x86, arch/arm64)"},
    "linux": {"view": "hdk",
              "doc": "Microsoft's HDK headers as Linux mainline carries them in include/hyperv.",
              "reference": "Linux include/hyperv"},
    "rust-vmm": {"view": "hdk",
                 "doc": "Microsoft's HDK headers as the rust-vmm mshv crates carry them in hv-headers.",
                 "reference": "rust-vmm/mshv hv-headers"},
}


class SpecStyle:
    """Expression text as the spec writes it."""

    def __init__(self, types):
        self.types = types

    def symbol(self, name):
        return name

    def scalar(self, name):
        return name

    def type_name(self, name):
        defn = self.types.get(name)
        if isinstance(defn, m.Record):
            return f"{defn.kind} {name}"
        if isinstance(defn, m.Enum):
            return f"enum {name}"
        return name

    def bit_macro(self, fn, args, tree):
        return f"{fn}({', '.join(args)})"


def textify(node, style):
    """Expression trees in `node` as spec text (what the writer takes)."""
    def text(tree):
        return tree if tree is None or tree == m.FLEX or isinstance(tree, str) else expr.render(tree, style)
    if isinstance(node, m.ConstGroup):
        return dataclasses.replace(node, items=[dataclasses.replace(
            c, values=[(cond, text(v)) for cond, v in c.values]) for c in node.items])
    if isinstance(node, m.Enum):
        return dataclasses.replace(node, items=[dataclasses.replace(i, value=text(i.value))
                                                for i in node.items])
    if isinstance(node, m.Record):
        return dataclasses.replace(node, count=text(node.count),
                                   members=[textify(x, style) for x in node.members])
    if isinstance(node, m.Field):
        return dataclasses.replace(node, count=text(node.count))
    return node


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
