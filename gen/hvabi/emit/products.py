"""Products: which profile, flavor and headers to generate (spec/products.yaml), and the
rendering of every header of every product into memory."""

import dataclasses
import pathlib
from dataclasses import dataclass, field
from typing import Optional

import jinja2

from .. import model as m
from ..errors import HvabiError
from ..select import Abi
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


_HEADER_KEYS = {"id", "path", "guard", "arch", "includes", "trailer_includes", "hdk", "tlfs"}
_PRODUCT_KEYS = {"doc", "profile", "flavor", "root", "spdx", "headers"}


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
                                body["root"], body["spdx"], headers))
    return products


def _env():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              autoescape=False)


def header_defs(spec, product, header, arch=None):
    """(entry, resolved defn) pairs that go into `header`, in spec order. Resolved for
    `arch` if given, else for the header's arch (None: every arch variant kept)."""
    profile = spec.profiles[product.profile]
    abi = Abi(spec, m.Selection(profile.name, profile.view, arch or header.arch))
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


def render_header(env, spec, product, header):
    abi, defs = header_defs(spec, product, header)
    flavor = FLAVORS[product.flavor](abi.types)
    items = [(_arch_guard(d), render.def_view(d, flavor, header.arch)) for _, d in defs]
    blocks = render.group_by_arch(items, flavor, header.arch)
    sources = sorted({entry.source_file for entry, _ in defs}) or ["spec/products.yaml"]
    text = env.get_template("header.h.j2").render(
        spdx=product.spdx, title=product.doc, sources=sources,
        stamp=stamp.PLACEHOLDER, guard=header.guard, includes=header.includes,
        trailer_includes=header.trailer_includes, blocks=blocks)
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
