"""Products: which profile, flavor and headers to generate (spec/products.yaml), and the
rendering of every header of every product into memory."""

import dataclasses
import functools
import pathlib
import re
from dataclasses import dataclass, field
from typing import Optional

from .. import model as m
from ..errors import HvabiError, SpecErrors
from ..select import Abi, layered
from ..spec.loader import _IDENT, ident_problem
from ..spec.yamlsrc import Map, load_file_cached
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
    pos: object = field(default=None, compare=False)     # where products.yaml lists it
    # How an arch test is spelled: `defined(CONFIG_X86)` or `IS_ENABLED(CONFIG_X86)`
    # (kernel flavors only), as the header upstream writes it.
    arch_test: str = "defined"
    # Records whose u8..s64 members this header spells __u8..__s64 (`uapi_types:`), as
    # upstream's copy of the header does, and where products.yaml lists each.
    uapi_types: dict = field(default_factory=dict, compare=False)
    # The header's own definition order (`order:` FILE): names, and where FILE lists each.
    order: Optional[tuple] = field(default=None, compare=False)
    order_pos: dict = field(default_factory=dict, compare=False)


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


_HEADER_KEYS = {"id", "path", "guard", "arch", "includes", "trailer_includes", "order", "arch_test",
                "uapi_types"}
_ARCH_TESTS = ("defined", "IS_ENABLED")
_SELECTOR_KEYS = {"id", "path", "guard", "hdk", "tlfs"}
_PRODUCT_KEYS = {"doc", "profile", "flavor", "root", "spdx", "headers", "layer_on"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")             # a product name is a directory
_PATH_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_+-]*(?:\.[A-Za-z0-9_+-]+)*")
_INCLUDE = re.compile(r'<[A-Za-z0-9_][A-Za-z0-9_./+-]*\.h>|"[A-Za-z0-9_][A-Za-z0-9_./+-]*\.h"')
_SPDX = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+() -]*")


def load_products(path, spec, orders=True):
    """spec/products.yaml as Products. Everything a product says is checked here, at its
    line, before anything is rendered: names and paths stay inside the output tree, guards
    and header ids are C identifiers and unique, includes are <...> or "...", texts close
    no C comment, and each header id receives definitions of the product's profile.
    `orders=False` skips the headers' order files (a caller that wants only which product
    renders which profile, with a spec of profiles only)."""
    path = pathlib.Path(path)
    shown = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    root = load_file_cached(path, shown)
    errors = []

    def fail(what, pos, hint=None):
        errors.append(HvabiError(what, pos, hint))

    body_of = root.get("products") if isinstance(root, Map) else None
    for key in root if isinstance(root, Map) else ():
        if key != "products":
            fail(f"unknown key {key!r} in products.yaml", root.key_pos(key), "the file holds `products:` only")
    if not isinstance(body_of, Map) or not body_of:
        fail("products.yaml needs a `products:` mapping of product names", getattr(root, "pos", None),
             "see docs/spec-format.md and the committed spec/products.yaml")
        raise SpecErrors(errors)
    products, outputs, guards = [], {}, {}
    names = spec_names(spec)
    for name, body in body_of.items():
        pos = body_of.key_pos(name)
        if not _NAME.fullmatch(name):
            fail(f"product name {name!r} is not usable", pos,
                 "letters, digits, '_' and '-' (it names tests/layout/NAME/)")
            continue
        if not isinstance(body, Map):
            fail(f"product {name!r} must be a mapping", pos, "give it flavor, profile, root, spdx, headers")
            continue
        for key in body:
            if key not in _PRODUCT_KEYS:
                fail(f"unknown key {key!r} in product {name!r}", body.key_pos(key),
                     "keys: " + ", ".join(sorted(_PRODUCT_KEYS)))
        flavor = body.get("flavor")
        if flavor not in FLAVORS and flavor != "selector":
            fail(f"product {name!r}: unknown flavor {flavor!r}", body.val_pos("flavor"),
                 f"use one of {', '.join(sorted(FLAVORS) + ['selector'])}")
            continue
        profile = body.get("profile")
        if flavor != "selector" and (not isinstance(profile, str) or profile not in spec.profiles):
            fail(f"product {name!r}: unknown profile {profile!r}", body.val_pos("profile"),
                 f"profiles are defined in spec/profiles.yaml: {', '.join(sorted(spec.profiles))}")
            continue
        doc = _text(body, "doc", fail, name, required=False)
        spdx = _text(body, "spdx", fail, name)
        if spdx is not None and not _SPDX.fullmatch(spdx):
            fail(f"product {name!r}: spdx {spdx!r} is not an SPDX license expression",
                 body.val_pos("spdx"), "e.g. `GPL-2.0` or `GPL-2.0 WITH Linux-syscall-note`")
        out_root = _relative_path(body, "root", fail, f"root of product {name!r}", header=False)
        headers = _headers(body, name, flavor, fail, guards, names, path.parent if orders else None)
        if out_root is None or headers is None or doc is None or spdx is None:
            continue
        for header in headers:
            full = f"{out_root}/{header.path}"
            if full in outputs:
                fail(f"product {name!r} writes {full}, which {outputs[full][0]} writes too",
                     header.pos, f"the other one is at line {outputs[full][1].line}")
            outputs[full] = (f"product {name!r}", header.pos)
        product = Product(name, doc, profile, flavor, out_root, spdx, headers, body.get("layer_on"))
        if flavor != "selector":
            _placed_ids(spec, product, fail)
        products.append(product)
    by_name = {p.name: p for p in products}
    for product in products:
        base = by_name.get(product.layer_on)
        if product.layer_on is not None and (base is None or base.profile is None or base.layer_on):
            body = body_of[product.name]
            fail(f"product {product.name!r}: layer_on names {product.layer_on!r}, which is no"
                 " product with a profile of its own", body.val_pos("layer_on"),
                 "layer_on takes one of " + ", ".join(sorted(p.name for p in products
                                                              if p.profile and not p.layer_on)))
        elif base is not None:
            product.base_profile = base.profile
    if errors:
        raise SpecErrors(errors)
    return products


def read_products(spec_dir):
    """spec_dir/products.yaml read against the profiles alone: where each product's files
    go, its flavor and headers, without loading the definitions (which the checks that
    need them, guards against names and header ids against placements, are skipped for:
    `hvabi validate` makes them)."""
    from ..spec.loader import load_profiles
    spec_dir = pathlib.Path(spec_dir)
    return load_products(spec_dir / "products.yaml",
                         m.Spec(profiles=load_profiles(spec_dir / "profiles.yaml")), orders=False)



def product_profile(spec, product):
    """The profile a product emits: its own, or for a layered product (`layer_on`) its own
    less what the base product's profile defines (select.layered)."""
    if not product.layer_on:
        return spec.profiles[product.profile]
    return layered(spec, product.profile, product.base_profile)[0]


def layer_changes(spec, product):
    """The layered product's definitions that its base defines in another shape."""
    return layered(spec, product.profile, product.base_profile)[1] if product.layer_on else []


def spec_names(spec):
    """Every C name the spec defines (types, constants, enumerators)."""
    names = set()
    for entry in spec.entries:
        defn = entry.defn
        names.add(defn.name)
        names.update(item.name for item in getattr(defn, "items", []))
        names.add(getattr(defn, "alias", None))
    names.discard(None)
    return names


def _text(body, key, fail, name, required=True):
    """A one-line text of a product that lands in a C comment."""
    if key not in body:
        if required:
            fail(f"product {name!r} has no `{key}`", body.pos, f"add `{key}:` (see spec/products.yaml)")
            return None
        return ""
    text = body[key]
    if not isinstance(text, str):
        fail(f"`{key}` of product {name!r} must be text", body.val_pos(key), "one line of text")
        return None
    if "*/" in text or "/*" in text:
        fail(f"`{key}` of product {name!r} contains a comment delimiter ('/*' or '*/')",
             body.val_pos(key), "it would end the generated C comment early; reword it")
        return None
    return " ".join(text.split())


def _relative_path(node, key, fail, what, header=True, tree="the output tree"):
    """A path under the output root (or `tree`): relative, no '..', '.' or empty parts, no
    hidden names, a header ending in .h."""
    if key not in node:
        fail(f"{what} is missing (`{key}:`)", node.pos, "it says where under the output root the file goes")
        return None
    text = node[key]
    parts = text.split("/") if isinstance(text, str) else []
    if not parts or not all(_PATH_PART.fullmatch(p) for p in parts) \
            or (header and not text.endswith(".h")):
        fail(f"{what} {text!r} is not a relative path inside {tree}", node.val_pos(key),
             "write DIR/.../NAME" + (".h" if header else "") + ": no leading '/', no '..' or '.'"
             " parts, no hidden names; letters, digits, '_', '-', '+' and '.'")
        return None
    return text


def _headers(body, name, flavor, fail, guards, names, spec_dir):
    raw = body.get("headers")
    if not isinstance(raw, list) or not raw:
        fail(f"product {name!r} needs `headers:`, a list of header mappings", body.val_pos("headers")
             if "headers" in body else body.pos, "see spec/products.yaml")
        return None
    allowed = _SELECTOR_KEYS if flavor == "selector" else _HEADER_KEYS
    headers, ok = [], True
    for i, h in enumerate(raw):
        hpos = raw.item_pos(i)
        if not isinstance(h, Map):
            fail(f"header {i + 1} of product {name!r} must be a mapping", hpos,
                 "{id: ..., path: ..., guard: ..., includes: [...]}")
            ok = False
            continue
        for key in h:
            if key not in allowed:
                fail(f"unknown key {key!r} in a header of product {name!r}", h.key_pos(key),
                     "keys: " + ", ".join(sorted(allowed)))
                ok = False
        hid = h.get("id")
        if not isinstance(hid, str) or not _IDENT.fullmatch(hid):
            fail(f"header id {hid!r} of product {name!r} is not a name", h.val_pos("id") if "id" in h else h.pos,
                 "the id `header:` placements in spec/defs use: letters, digits and '_'")
            ok = False
        hpath = _relative_path(h, "path", fail, f"header path of product {name!r}")
        guard = h.get("guard")
        problem = ident_problem(guard)
        if guard is None:
            fail(f"a header of product {name!r} has no `guard:`", h.pos,
                 "give it an include guard, e.g. guard: _HV_HVGDK_H")
        elif problem:
            fail(f"include guard {guard!r} {problem[0]}", h.val_pos("guard") if "guard" in h else h.pos,
                 problem[1])
        elif guard in guards and guards[guard][1] != h.get("path"):
            # alternative products of one header (hdk-kernel, hdk-layered) share its guard
            fail(f"include guard {guard} is used twice", h.val_pos("guard"),
                 f"the other one is at line {guards[guard][0].line}, for another path")
        elif guard in names:
            fail(f"include guard {guard} is also a name in the spec", h.val_pos("guard"),
                 "pick a guard no definition, constant or enumerator uses")
        else:
            guards.setdefault(guard, (h.val_pos("guard"), h.get("path")))
        arch = h.get("arch")
        if arch is not None and arch not in m.ARCHES:
            fail(f"header arch {arch!r} is no arch", h.val_pos("arch"), "arches: " + ", ".join(m.ARCHES))
            ok = False
        arch_test = h.get("arch_test", "defined")
        if arch_test not in _ARCH_TESTS or (arch_test != "defined" and flavor == "uapi"):
            fail(f"arch_test {arch_test!r} of a header of product {name!r} is not "
                 + ("defined or IS_ENABLED" if arch_test not in _ARCH_TESTS else
                    "possible in a uapi header (no IS_ENABLED() outside the kernel)"),
                 h.val_pos("arch_test"), "arch_test: defined (the default) or IS_ENABLED,"
                 " the kernel flavors only")
            ok = False
        uapi_types = {}
        listed = h.get("uapi_types", [])
        if not isinstance(listed, list) or not all(isinstance(x, str) and _IDENT.fullmatch(x)
                                                    for x in listed):
            fail(f"`uapi_types` of a header of product {name!r} must be a list of record names",
                 h.val_pos("uapi_types"), "e.g. uapi_types: [hv_message_header, hv_message]")
            ok = False
        elif listed and flavor not in ("kernel", "tlfs"):
            fail(f"`uapi_types` of a header of product {name!r}: its flavor {flavor} spells its"
                 " own types", h.val_pos("uapi_types"), "uapi_types is for the kernel flavors")
            ok = False
        else:
            uapi_types = {x: listed.item_pos(i) for i, x in enumerate(listed)}
        lists = {}
        for key in ("includes", "trailer_includes"):
            value = h.get(key, [])
            if not isinstance(value, list) or not all(isinstance(x, str) and _INCLUDE.fullmatch(x) for x in value):
                fail(f"`{key}` of a header of product {name!r} must be a list of <file.h> or"
                     ' "file.h"', h.val_pos(key), 'e.g. includes: ["<linux/types.h>", \'"hvgdk_mini.h"\']')
                ok = False
            lists[key] = list(value) if isinstance(value, list) else []
        options = {}
        if flavor == "selector":
            for key in ("hdk", "tlfs"):
                value = h.get(key)
                if not isinstance(value, str) or not _INCLUDE.fullmatch(value):
                    fail(f"the selector header needs `{key}:`, the header it includes as <file.h>",
                         h.val_pos(key) if key in h else h.pos, 'e.g. hdk: "<hyperv/hvhdk.h>"')
                    ok = False
                options[key] = value
        for other in headers:
            if other.id == hid and (other.arch is None or arch is None or other.arch == arch):
                fail(f"header id {hid!r} is listed twice in product {name!r}", hpos,
                     f"the first is at line {other.pos.line}; two headers may share an id only"
                     " with different `arch:`")
                ok = False
        if not ok or hpath is None or problem:
            ok = False
            continue
        header = Header(hid, hpath, guard, arch, lists["includes"], lists["trailer_includes"], options,
                        hpos, arch_test, uapi_types)
        if "order" in h and spec_dir is not None:
            header.order, header.order_pos = _order_file(h, spec_dir, fail) or (None, {})
        headers.append(header)
    return headers if ok else None


def _order_file(h, spec_dir, fail):
    """A header's `order:` file: `order:`, the list of names its definitions appear in (a
    constant group by any one of its constants). (names, {name: pos}) or None. Whether the
    spec defines each name, in that header, is checks.check_order's question: it is asked
    after the spec's own checks, whose errors come first."""
    rel = _relative_path(h, "order", fail, "order file", header=False, tree=f"{spec_dir.name}/")
    if rel is None:
        return None
    path = spec_dir / rel
    if not path.is_file():
        fail(f"order file {rel} does not exist", h.val_pos("order"),
             f"the path is relative to {spec_dir.name}/; see docs/spec-format.md, \"Order\"")
        return None
    try:
        root = load_file_cached(path, f"{spec_dir.name}/{rel}")
    except HvabiError as e:
        fail(e.what, e.pos, e.hint)
        return None
    listed = root.get("order")
    if set(root) != {"order"} or not isinstance(listed, list):
        fail(f"order file {rel} must hold `order:`, a list of names, and nothing else", root.pos,
             "e.g. order: [HV_HYP_PAGE_SHIFT, ms_hyperv_tsc_page]")
        return None
    out, where = [], {}
    for i, name in enumerate(listed):
        pos = listed.item_pos(i)
        if not isinstance(name, str) or not _IDENT.fullmatch(name):
            fail(f"order file lists {name!r}, which is not a name", pos,
                 "list type names, enum names and constant names; remove or fix this line")
        elif name in where:
            fail(f"order file lists {name} twice", pos, f"the first is at line {where[name].line}")
        else:
            out.append(name)
            where[name] = pos
    return tuple(out), where


def defined_names(defn):
    """The names one placed definition gives the header: a constant group its constants'."""
    return [c.name for c in defn.items] if isinstance(defn, m.ConstGroup) else [defn.name]


def ordered(defs, header):
    """`defs` ((entry, defn) in spec order) in `header`'s `order:`: listed definitions in
    the file's order, each followed by the unlisted ones that follow it in the spec, so a
    new definition needs no entry in the file to land next to its spec neighbour.
    (checks.check_order rejects a listed name the header does not hold.)"""
    if not header.order:
        return defs
    rank = {name: i for i, name in enumerate(header.order)}
    lead, runs = [], []
    for entry, defn in defs:
        ranks = [rank[n] for n in defined_names(defn) if n in rank]
        if ranks:
            runs.append((min(ranks), [(entry, defn)]))
        else:
            (runs[-1][1] if runs else lead).append((entry, defn))
    runs.sort(key=lambda run: run[0])
    return lead + [d for _, run in runs for d in run]


def _placed_ids(spec, product, fail):
    """A header id of `product` that receives nothing while definitions of its profile are
    placed in an id it lacks is a typo in products.yaml: say so here, at the header, and
    not at every definition it strands."""
    profile = spec.profiles[product.profile]
    sel = m.Selection(profile.name, profile.view, None)
    used = set()
    for entry in spec.entries:
        home = entry.placement.header_for(sel)
        used.add(home)
        for item in getattr(entry.defn, "items", []):
            placement = getattr(item, "placement", None)
            if placement:
                used.add(placement.header_for(sel) or home)
    used.discard(None)
    ids = {header.id for header in product.headers}
    stranded = sorted(used - ids)
    for header in product.headers:
        if header.id not in used and stranded:
            fail(f"header id {header.id!r} of product {product.name!r} receives no definition, while"
                 f" spec/defs places definitions of profile {profile.name} in"
                 f" {', '.join(map(repr, stranded))}, which the product lacks", header.pos,
                 "is the id misspelt? ids that `header:` in spec/defs gives"
                 f" {profile.name}: {', '.join(sorted(used))}")


@functools.lru_cache(maxsize=None)
def _env():
    """One environment per process: it compiles each template once. jinja2 is imported
    here: `hvabi validate` and the tests that read products.yaml render nothing."""
    import jinja2
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                              autoescape=False)


def header_defs(spec, product, header, arch=None):
    """(entry, resolved defn) pairs that go into `header`, in spec order. Resolved for
    `arch` if given, else for the header's arch (None: every arch variant kept)."""
    profile = product_profile(spec, product)
    abi = Abi.of(spec, m.Selection(profile.name, profile.view, arch or header.arch), profile=profile)
    out = []
    for entry, defn in abi.entries:
        defn = placed_part(entry, defn, abi.sel, header.id)
        if defn is not None:
            out.append((entry, defn))
    return abi, ordered(out, header)


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
        abi = Abi.of(spec, m.Selection(profile.name, profile.view, header.arch))
    flavor = FLAVORS[product.flavor](abi.types, header.arch_test)
    uapi = flavor.with_uapi_scalars() if header.uapi_types else flavor
    items = [(_arch_guard(d), render.def_view(d, uapi if d.name in header.uapi_types else flavor,
                                              header.arch)) for _, d in defs]
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
