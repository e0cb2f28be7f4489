"""`hvabi show NAME`: one definition as every selection sees it.

NAME is a struct/union/enum/typedef name, a constant or enumerator name, or a constant
group label. For each entry that defines it: where it is written, its description, TLFS
page, variants (with their reasons) and `ahead` marks; then per product and arch whether
the profile carries it (or omits it), the header it lands in, its layout, and the C the
product renders for it.
"""

import dataclasses

from . import layout
from . import model as m
from .emit import render
from .emit.flavors import FLAVORS
from .emit.products import _env, placed_part
from .errors import HvabiError
from .select import Abi


def _matches(defn, name):
    if defn.name == name:
        return True
    return any(i.name == name for i in getattr(defn, "items", []))


def _only(node):
    from .importer.writer import only_text
    return "everywhere" if node.cond.always else only_text(node.cond)


def _c_text(defn, abi, flavor_name):
    flavor = FLAVORS[flavor_name](abi.types)
    view = render.def_view(defn, flavor, abi.sel.arch)
    macros = _env().get_template("c.j2").make_module()
    return str(macros.block(view, "")).rstrip()


def _layout_lines(abi, defn, name):
    doc = {"records": {}, "enums": {}, "enumerators": {}, "macros": {}}
    layout.add_facts(doc, abi, defn)
    if defn.name == name and isinstance(defn, m.Record):
        rec = doc["records"][name]
        lines = [f"size {rec['size']}, align {rec['align']}"]
        for mem in rec["members"]:
            kind = "bitfield" if mem.get("bitfield") else "member"
            lines.append(f"  {mem['path']}: {mem.get('type', '')} {kind}, offset {mem['offset']},"
                         f" {mem['bits']} bits" + (" (reserved)" if mem.get("reserved") else ""))
        return lines
    values = {**doc["enumerators"], **doc["macros"]}
    if name in values:
        return [f"value {values[name]} ({values[name]:#x})"]
    return [f"{k} = {v}" for k, v in values.items()]


def show(spec, products, name, profile=None, arch=None):
    """Text lines describing `name`; HvabiError if the spec has no such name."""
    entries = [e for e in spec.entries if _matches(e.defn, name)]
    if not entries:
        raise HvabiError(f"the spec defines no {name!r}", None,
                         "give a type, constant, enumerator or constant group name")
    out = []
    first = entries[0]
    kind = type(first.defn).__name__
    out.append(f"{name}: {kind} {first.defn.name or ''} at {first.defn.pos}".rstrip())
    if first.defn.doc:
        out.append(f"  doc: {first.defn.doc}")
    if first.tlfs_page:
        out.append(f"  tlfs: {first.tlfs_page}")
    for e in entries:
        d = e.defn
        node = next((i for i in getattr(d, "items", []) if i.name == name), d)
        if node.cond.always:
            node = d                 # an item exists where its group does
        line = (f"  variant at {node.pos}: only {_only(node)}" if len(entries) > 1 else f"  only {_only(node)}") \
            if len(entries) > 1 or not node.cond.always \
            else f"  exists wherever its profile carries it ({node.pos})"
        if node.why or d.why:
            line += f"; why: {node.why or d.why}"
        if node.ahead or d.ahead:
            marks = node.ahead or d.ahead
            line += "; ahead of upstream: " + ("no upstream copy has it yet" if m.ANY in marks
                                               else "the copies of " + ", ".join(sorted(marks)) + " lack it")
        out.append(line)
    for prof in sorted(spec.profiles.values(), key=lambda p: p.name):
        if profile and prof.name != profile:
            continue
        if name in prof.omit:
            where = "every arch" if prof.omit[name] is None else ", ".join(sorted(prof.omit[name]))
            out.append(f"  profile {prof.name} omits it on {where} (spec/profiles.yaml)")
        for product in products:
            if product.profile != prof.name:
                continue
            for a in m.ARCHES:
                if arch and a != arch:
                    continue
                out += _in_product(spec, product, prof, a, name)
    return out


def _in_product(spec, product, prof, arch, name):
    abi = Abi.of(spec, m.Selection(prof.name, prof.view, arch))
    for entry, defn in abi.entries:
        if not _matches(defn, name):
            continue
        for header in product.headers:
            if header.arch not in (None, arch):
                continue
            part = placed_part(entry, defn, abi.sel, header.id)
            if part is None or not _matches(part, name):
                continue
            if isinstance(part, m.ConstGroup):
                part = dataclasses.replace(part, items=[i for i in part.items if i.name == name])
            lines = [f"  {product.name} ({prof.name}), {arch}: {product.root}/{header.path}"]
            lines += ["    " + x for x in _layout_lines(abi, part, name)]
            flavor = "kernel" if product.flavor == "kernel" else product.flavor
            lines += ["    | " + x for x in _c_text(part, abi, flavor).splitlines()]
            return lines
    return [f"  {product.name} ({prof.name}), {arch}: not carried"]
