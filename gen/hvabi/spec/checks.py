"""Checks that need a concrete ABI: run for every (profile, arch) selection, and for the
header order of every product. All errors are collected and reported together."""

from .. import model as m
from .. import layout
from ..errors import HvabiError, SpecErrors
from ..select import Abi, selections
from . import expr


def _walk_types(members):
    for node in members:
        if isinstance(node, m.Record):
            yield from _walk_types(node.members)
        elif isinstance(node, m.Field):
            yield node, node.type.name
        elif isinstance(node, m.Bitfield):
            yield node, node.type


def _member_names(rec, errors, abi):
    """Member names must be unique within the namespace C gives them (anonymous levels
    share their parent's)."""
    def walk(members, seen):
        for node in members:
            if isinstance(node, m.Record) and not node.member:
                walk(node.members, seen)
                continue
            name = node.member if isinstance(node, m.Record) else node.name
            if name in seen:
                errors.append(HvabiError(f"duplicate member '{name}' in {rec.name} ({abi.sel_text()})",
                                         node.pos, f"the first is at {seen[name]}"))
            else:
                seen[name] = node.pos
            if isinstance(node, m.Record):
                walk(node.members, {})
    walk(rec.members, {})


def _flex_last(rec, errors, abi):
    """A flexible array (a scalar one or one of an untagged record) ends its struct."""
    def walk(node):
        for i, x in enumerate(node.members):
            if getattr(x, "count", None) == m.FLEX and node.kind == "struct" \
                    and i != len(node.members) - 1:
                name = x.member if isinstance(x, m.Record) else x.name
                errors.append(HvabiError(f"flexible array '{name}' is not the last member of its struct"
                                         f" in {rec.name} ({abi.sel_text()})", x.pos,
                                         "move it to the end, or give it a fixed `count`"))
            if isinstance(x, m.Record):
                walk(x)
    walk(rec)


def check_abi(abi):
    errors = []
    for name, first, second in abi.duplicates:
        errors.append(HvabiError(f"duplicate name '{name}' in {abi.sel_text()}", second.pos,
                                 f"the first definition is at {first.pos}; give them disjoint"
                                 " arch/view/profile conditions or rename one"))
    for _, defn in abi.entries:
        try:
            if isinstance(defn, m.Record):
                _member_names(defn, errors, abi)
                _flex_last(defn, errors, abi)
                for node, tname in _walk_types(defn.members):
                    layout.size_align(abi, tname, node.pos)
                layout.record_layout(abi, defn)
                if defn.register:
                    layout.check_register(abi, defn)
            elif isinstance(defn, m.Typedef):
                if defn.type.name not in expr.SCALARS:
                    layout.size_align(abi, defn.type.name, defn.pos)
            elif isinstance(defn, m.ConstGroup):
                for const in defn.items:
                    _check_const(abi, const)
            elif isinstance(defn, m.Enum):
                for item in defn.items:
                    abi.value(item.name)
        except HvabiError as e:
            errors.append(e)
    return errors


def _check_const(abi, const):
    """A constant has a value; a macro with parameters has one for some arguments (all 1:
    what it names must exist)."""
    if const.params is None:
        abi.evaluate(const.values[0][1], const.pos)
        return
    try:
        abi.evaluate(const.values[0][1], const.pos, {p: expr.Val(1) for p in const.params})
    except HvabiError as e:
        if not e.what.startswith("division by zero"):
            raise


def check_order(spec, product, header_defs):
    """Within a product's include order, a type must be defined before a record uses it."""
    errors = []
    for arch in m.ARCHES:
        defined = set()
        for header in product.headers:
            if header.arch not in (None, arch):
                continue
            abi, defs = header_defs(spec, product, header, arch)
            for entry, defn in defs:
                if isinstance(defn, m.Record):
                    for node, tname in _walk_types(defn.members):
                        if tname in abi.types and tname not in defined and tname != defn.name:
                            errors.append(HvabiError(
                                f"{defn.name} uses {tname} before it is defined in product"
                                f" {product.name} ({header.path})", node.pos,
                                f"move {tname} to an earlier spec file or an earlier header"))
                if defn.name:
                    defined.add(defn.name)
    return errors


def _defined_names(spec):
    """Every name a definition, constant or enumerator has, with the views it exists in."""
    names = {}
    for entry in spec.entries:
        defn = entry.defn
        in_file = spec.views_of(entry) if spec.views else {m.ANY}
        for node in [defn] + list(getattr(defn, "items", [])):
            if node.name:
                views = {w for w, _ in node.cond.where} if node.cond.where else {m.ANY}
                if m.ANY in views:       # every view of its file
                    views = (views - {m.ANY}) | set(in_file)
                names.setdefault(node.name, set()).update(views)
    return names


def check_omits(spec):
    """An `omit` entry must name something the profile would otherwise carry."""
    errors = []
    names = _defined_names(spec)
    for profile in spec.profiles.values():
        for name in profile.omit:
            whos = names.get(name)
            if whos is None:
                errors.append(HvabiError(f"profile {profile.name} omits {name}, which the spec does not"
                                         " define", profile.omit_pos.get(name),
                                         "drop it from `omit`, or check its spelling"))
            elif not whos & {m.ANY, profile.view, profile.name}:
                errors.append(HvabiError(f"profile {profile.name} omits {name}, which its view"
                                         f" ({profile.view}) does not have anyway", profile.omit_pos.get(name),
                                         "drop it from `omit`"))
    return errors


def check_placement(spec, product, header_defs):
    """Every definition the product's profile selects lands in one of its headers."""
    from ..emit.products import placed_part
    errors = []
    for arch in m.ARCHES:
        ids = {h.id for h in product.headers if h.arch in (None, arch)}
        abi, _ = header_defs(spec, product, product.headers[0], arch)
        for entry, defn in abi.entries:
            parts = [placed_part(entry, defn, abi.sel, hid) for hid in ids]
            placed = sum(len(p.items) if isinstance(p, m.ConstGroup) else 1 for p in parts if p)
            want = len(defn.items) if isinstance(defn, m.ConstGroup) else 1
            if placed != want:
                home = entry.placement.header_for(abi.sel)
                errors.append(HvabiError(
                    f"{defn.name or 'enum'} is selected by profile {product.profile} on {arch} but"
                    f" placed in header {home!r}, which product {product.name} does not have",
                    defn.pos, f"headers of {product.name}: {', '.join(sorted(ids))}; fix `header:`"
                    " on the entry, its items or its file"))
    return errors


def check_spec(spec, products=(), header_defs=None):
    errors = check_omits(spec)
    seen = set()
    for sel in selections(spec):
        for err in check_abi(Abi(spec, sel)):
            key = str(err)
            if key not in seen:     # the same mistake shows in many selections: say it once
                seen.add(key)
                errors.append(err)
    for product in products:
        if product.flavor != "selector":
            errors.extend(check_placement(spec, product, header_defs))
            errors.extend(check_order(spec, product, header_defs))
    if errors:
        raise SpecErrors(errors)
