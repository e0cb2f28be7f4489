"""Products: which profile, flavor and headers to generate (spec/products.yaml), and the
rendering of every header of every product into memory."""

import dataclasses
import pathlib
from dataclasses import dataclass, field
from typing import Optional

import jinja2

from .. import model as m
from ..errors import HvabiError
from ..select import Abi, layered
from ..spec.yamlsrc import Map, load_file
from . import render, stamp
from .flavors import FLAVORS

TEMPLATES = pathlib.Path(__file__).with_name("templates")


@dataclass
class Header:
    id: str
    path: str
    guard: str
    arch: Optional[str] = None
    includes: list = field(default_factory=list)
    trailer_includes: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


@dataclass
class Product:
    name: str
    doc: str
    profile: Optional[str]
    flavor: str
    root: str
    spdx: str
    headers: list
    layer_on: Optional[str] = None    # a product whose headers this one's include and extend
    base_profile: Optional[str] = None    # that product's profile


_HEADER_KEYS = {"id", "path", "guard", "arch", "includes", "trailer_includes", "hdk", "tlfs"}
_PRODUCT_KEYS = {"doc", "profile", "flavor", "root", "spdx", "headers", "layer_on"}


def load_products(path, spec):
    root = load_file(path, str(path))
    products = []
    for name, body in root.get("products", {}).items():
        if not isinstance(body, Map) or set(body) - _PRODUCT_KEYS:
            raise HvabiError(f"product '{name}': unknown keys {sorted(set(body) - _PRODUCT_KEYS)}",
                             root.val_pos("products"), f"allowed: {sorted(_PRODUCT_KEYS)}")
        flavor = body.get("flavor")
        if flavor not in FLAVORS and flavor != "selector":
            raise HvabiError(f"product '{name}': unknown flavor {flavor!r}", body.pos,
                             f"use one of {sorted(FLAVORS) + ['selector']}")
        profile = body.get("profile")
        if flavor != "selector" and profile not in spec.profiles:
            raise HvabiError(f"product '{name}': unknown profile {profile!r}", body.pos,
                             f"profiles are defined in spec/profiles.yaml: {sorted(spec.profiles)}")
        headers = []
        for h in body.get("headers", []):
            extra = set(h) - _HEADER_KEYS
            if extra:
                raise HvabiError(f"header entry: unknown keys {sorted(extra)}", h.pos)
            headers.append(Header(h["id"], h["path"], h["guard"], h.get("arch"),
                                  list(h.get("includes", [])), list(h.get("trailer_includes", [])),
                                  {k: h[k] for k in ("hdk", "tlfs") if k in h}))
        products.append(Product(name, " ".join(body.get("doc", "").split()), profile, flavor,
                                body["root"], body["spdx"], headers, body.get("layer_on")))
    by_name = {p.name: p for p in products}
    for product in products:
        base = by_name.get(product.layer_on)
        if product.layer_on and (base is None or base.profile is None or base.layer_on):
            raise HvabiError(f"product '{product.name}': layer_on names {product.layer_on!r}, which is"
                             " no product with a profile of its own", root.val_pos("products"),
                             f"layer_on takes one of {sorted(p.name for p in products if p.profile)}")
        if base is not None:
            product.base_profile = base.profile
    return products


def product_profile(spec, product):
    """The profile a product emits: its own, or for a layered product (`layer_on`) its own
    less what the base product's profile defines (select.layered)."""
    if not product.layer_on:
        return spec.profiles[product.profile]
    return layered(spec, product.profile, product.base_profile)[0]


def layer_changes(spec, product):
    """The layered product's definitions that its base defines in another shape."""
    return layered(spec, product.profile, product.base_profile)[1] if product.layer_on else []


def _env():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              autoescape=False)


def header_defs(spec, product, header, arch=None):
    """(entry, resolved defn) pairs that go into `header`, in spec order. Resolved for
    `arch` if given, else for the header's arch (None: every arch variant kept)."""
    profile = product_profile(spec, product)
    abi = Abi(spec, m.Selection(profile.name, profile.view, arch or header.arch), profile=profile)
    out = []
    for entry, defn in abi.entries:
        defn = placed_part(entry, defn, abi.sel, header.id)
        if defn is not None:
            out.append((entry, defn))
    return abi, out


def placed_part(entry, defn, sel, header_id):
    """The part of `defn` that goes to header `header_id`: a constant group's items may
    each be placed elsewhere; everything else goes whole to its entry's header."""
    home = entry.placement.header_for(sel)
    if not isinstance(defn, m.ConstGroup):
        return defn if home == header_id else None
    items = [c for c in defn.items
             if ((c.placement and c.placement.header_for(sel)) or home) == header_id]
    return dataclasses.replace(defn, items=items) if items else None


def _arch_guard(defn):
    """The arches a definition is wrapped for: its own, or for an enum whose every
    enumerator is arch-specific, theirs (an empty enum elsewhere would not compile)."""
    if defn.cond.arch is None and isinstance(defn, m.Enum) and defn.items \
            and all(i.cond.arch for i in defn.items):
        return frozenset().union(*(i.cond.arch for i in defn.items))
    return defn.cond.arch


def layer_note(spec, product, header, width=80):
    """The comment a layered product's header starts with: each definition of its own that
    the base's headers define in another shape, how it differs, and why. Empty for other
    products."""
    changes = [c for c in layer_changes(spec, product) if header.arch in (None, c.arch)
               and c.entry.placement.header_for(m.Selection(product.profile, spec.profiles[product.profile].view,
                                                            c.arch)) == header.id]
    if not changes:
        return ""
    import textwrap
    by_name = {}
    for c in changes:
        by_name.setdefault((c.kind, c.name), []).append(c)
    lines = textwrap.wrap(f"The {product.layer_on} headers included above define these in another"
                          f" shape, which stays in force here. How the {product.profile} profile's"
                          f" shape differs ({product.base_profile.upper()}: theirs, HDK: the"
                          " HDK's), and why:", width - 3)
    for (kind, name), rows in by_name.items():
        lines.append("")
        first = rows[0]
        title = f"{kind if kind != 'constant' else 'macro'} {name}:"
        lines += textwrap.wrap(f"{title} {first.why}" if first.why else title, width - 3, break_long_words=False,
                               subsequent_indent="  ")
        texts = {c.arch: [d.text("TLFS", "HDK") for d in c.diffs] for c in rows}
        same = len(set(map(tuple, texts.values()))) == 1
        for arch in m.ARCHES:
            if arch not in texts:
                continue
            tag = "" if same and len(texts) == len(m.ARCHES) else f"{arch}: "
            for t in texts[arch]:
                lines += textwrap.wrap(f"- {tag}{t}", width - 3, initial_indent="  ", break_long_words=False,
                                       subsequent_indent="    ")
            if same:
                break
    return "/*\n" + "\n".join(f" * {x}".rstrip() for x in lines) + "\n */"


def render_header(env, spec, product, header):
    abi, defs = header_defs(spec, product, header)
    if product.layer_on:
        # members name types the base's headers define: their kinds come from the profile
        profile = spec.profiles[product.profile]
        abi = Abi(spec, m.Selection(profile.name, profile.view, header.arch))
    flavor = FLAVORS[product.flavor](abi.types)
    items = [(_arch_guard(d), render.def_view(d, flavor, header.arch)) for _, d in defs]
    blocks = render.group_by_arch(items, flavor, header.arch)
    sources = sorted({entry.source_file for entry, _ in defs}) or ["spec/products.yaml"]
    text = env.get_template("header.h.j2").render(
        spdx=product.spdx, title=product.doc, sources=sources,
        stamp=stamp.PLACEHOLDER, guard=header.guard, includes=header.includes,
        trailer_includes=header.trailer_includes, blocks=blocks,
        layer_note=layer_note(spec, product, header))
    return stamp.fill(text)


def render_selector(env, product, header):
    text = env.get_template("selector.h.j2").render(
        spdx=product.spdx, title=product.doc, stamp=stamp.PLACEHOLDER, guard=header.guard,
        hdk=header.options["hdk"], tlfs=header.options["tlfs"])
    return stamp.fill(text)


def render_all(spec, products):
    """{relative output path: text} for every header of every product."""
    env = _env()
    files = {}
    for product in products:
        for header in product.headers:
            path = f"{product.root}/{header.path}"
            if product.flavor == "selector":
                files[path] = render_selector(env, product, header)
            else:
                files[path] = render_header(env, spec, product, header)
    return files
