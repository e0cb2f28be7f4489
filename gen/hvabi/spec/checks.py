"""Checks that need a concrete ABI: run for every (profile, arch) selection, and for the
header order of every product. All errors are collected and reported together."""

from .. import model as m
from .. import layout
from ..errors import HvabiError, SpecErrors
from ..select import Abi, selections
from . import expr

MAX_RECORD = 1 << 20          # bytes; the ABI's largest record is a page (4 KiB)
INT_MAX = (1 << 31) - 1


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


def _macro_names(rec, errors, abi):
    """A member named like a constant of the spec would be expanded by its #define."""
    def walk(members):
        for node in members:
            name = node.member if isinstance(node, m.Record) else node.name
            if name and name in abi.consts:
                errors.append(HvabiError(f"member '{name}' of {rec.name} has the name of the constant"
                                         f" defined at {abi.consts[name].pos}", node.pos,
                                         "the constant's #define would replace the member name; rename"
                                         " one of them"))
            if isinstance(node, m.Record):
                walk(node.members)
    walk(rec.members)


def _flex_last(rec, errors, abi):
    """A flexible array (a scalar one or one of an untagged record) ends a struct that
    has other members; C has none in a union."""
    def walk(node):
        for i, x in enumerate(node.members):
            if getattr(x, "count", None) == m.FLEX:
                name = x.member if isinstance(x, m.Record) else x.name
                if node.kind == "union":
                    errors.append(HvabiError(f"flexible array '{name}' in a union in {rec.name}"
                                             f" ({abi.sel_text()})", x.pos,
                                             "C allows flexible arrays in structs only; give it a"
                                             " fixed `count`"))
                elif i != len(node.members) - 1:
                    errors.append(HvabiError(f"flexible array '{name}' is not the last member of its"
                                             f" struct in {rec.name} ({abi.sel_text()})", x.pos,
                                             "move it to the end, or give it a fixed `count`"))
                elif i == 0:
                    errors.append(HvabiError(f"flexible array '{name}' is the only member of its struct"
                                             f" in {rec.name} ({abi.sel_text()})", x.pos,
                                             "C needs another member before a flexible array"))
            if isinstance(x, m.Record):
                walk(x)
    walk(rec)


def _bitfield_types(rec, errors, abi):
    """A bitfield's type is an integer type at least as wide as the bitfield (`bool`: one
    bit), or the C does not compile."""
    def walk(members):
        for node in members:
            if isinstance(node, m.Record):
                walk(node.members)
            elif isinstance(node, m.Bitfield):
                try:
                    tname = layout._resolve_typedef(abi, node.type)
                except HvabiError:
                    continue                      # the typedef's own check reports it
                defn = abi.types.get(tname)
                if tname in expr.SCALARS:
                    width = 1 if tname == "bool" else expr.SCALARS[tname][0]
                elif isinstance(defn, m.Enum):
                    width = 32
                else:
                    if defn is not None:
                        errors.append(HvabiError(f"bitfield '{node.name}' has type {node.type}, which"
                                                 " is not an integer type", node.pos,
                                                 "bitfields take u8..u64, s8..s64, bool, char or an enum"))
                    continue
                if node.width > width:
                    errors.append(HvabiError(
                        f"bitfield '{node.name}' is {node.width} bits wide but its type {node.type} has"
                        f" {width}", node.pos, "split it, or give it a wider type (`type: u64`)"
                        + ("; a bool bitfield is one bit" if tname == "bool" else "")))
    walk(rec.members)


def _register_width(abi, rec):
    """A register's fields stay within its raw view (checked before the layout, which
    would otherwise report the overflow as an uncovered next unit)."""
    raw = next(node for node in rec.members if isinstance(node, m.Field))
    bits = next(node for node in rec.members if isinstance(node, m.Record))
    width = layout._field_size(abi, raw)[0]
    for field in bits.members:
        if field.hi >= width:
            raise HvabiError(f"field '{field.name}' (bits {field.lo}-{field.hi}) goes past the"
                             f" {width} bits of register {rec.name}", field.pos,
                             f"the raw view {raw.name} has bits 0-{width - 1}; shorten the field or"
                             " widen the raw view (`type:`)")


def _typedef_cycles(abi):
    """A typedef that leads back to itself, reported at the typedef."""
    errors = []
    for _, defn in abi.entries:
        if isinstance(defn, m.Typedef):
            seen, name = [defn.name], defn.type.name
            while name in abi.types and isinstance(abi.types[name], m.Typedef) and name not in seen:
                seen.append(name)
                name = abi.types[name].type.name
            if name in seen:
                errors.append(HvabiError(f"typedef '{defn.name}' refers to itself ("
                                         + " -> ".join(seen + [name]) + ")", defn.pos,
                                         "a typedef must end at a scalar or a struct/union/enum"))
    return errors


def _check_enum(abi, enum):
    """Enumerator values C accepts: an implicit value may not pass INT_MAX."""
    previous = None
    for item in enum.items:
        if item.value is None and previous is not None and previous.value >= INT_MAX:
            raise HvabiError(f"enumerator {item.name} follows {previous.value}: its implicit value"
                             " overflows int (C compilers reject it)", item.pos,
                             "give it an explicit `value:`")
        previous = abi.value(item.name)


def _check_alias(abi, enum, aliases):
    alias = enum.alias
    if alias in abi.types or alias in abi.consts or alias in abi.enumerators or alias in aliases:
        raise HvabiError(f"enum alias {alias} is also a name in {abi.sel_text()}", enum.pos,
                         "an alias is `#define ALIAS tag`: pick a name nothing else has")
    aliases.add(alias)


def check_abi(abi):
    errors = []
    for name, first, second in abi.duplicates:
        first, second = (x[1] if isinstance(x, tuple) else x for x in (first, second))  # enumerators
        errors.append(HvabiError(f"duplicate name '{name}' in {abi.sel_text()}", second.pos,
                                 f"the first definition is at {first.pos}; give them disjoint"
                                 " arch/view/profile conditions or rename one"))
    cycles = _typedef_cycles(abi)
    if cycles:
        return errors + cycles
    aliases = set()
    for _, defn in abi.entries:
        try:
            if isinstance(defn, m.Record):
                _member_names(defn, errors, abi)
                _macro_names(defn, errors, abi)
                _flex_last(defn, errors, abi)
                before = len(errors)
                _bitfield_types(defn, errors, abi)
                if len(errors) != before:
                    continue
                for node, tname in _walk_types(defn.members):
                    layout.size_align(abi, tname, node.pos)
                if defn.register:
                    _register_width(abi, defn)
                lay = layout.record_layout(abi, defn)
                if lay.size > MAX_RECORD:
                    big = max(lay.members, key=lambda p: p.bits)
                    raise HvabiError(f"{defn.kind} {defn.name} is {lay.size} bytes in {abi.sel_text()};"
                                     f" its member {big.path} is {big.bits // 8} bytes", big.node.pos,
                                     f"hvabi takes records up to {MAX_RECORD} bytes; check the array"
                                     " length (`count`)")
                if defn.register:
                    layout.check_register(abi, defn)
                for a in defn.asserts:
                    _check_assert(abi, defn, a)
            elif isinstance(defn, m.Typedef):
                if defn.type.name not in expr.SCALARS:
                    layout.size_align(abi, defn.type.name, defn.pos)
            elif isinstance(defn, m.ConstGroup):
                for const in defn.items:
                    _check_const(abi, const)
            elif isinstance(defn, m.Enum):
                if not defn.items:
                    raise HvabiError(f"enum {defn.name or '(anonymous)'} has no enumerators in"
                                     f" {abi.sel_text()}", defn.pos, "C needs at least one")
                _check_enum(abi, defn)
                if defn.alias:
                    _check_alias(abi, defn, aliases)
        except HvabiError as e:
            if e.pos is None:
                e.pos = defn.pos
            errors.append(e)
    return errors


_COMPARE = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y, "<=": lambda x, y: x <= y,
            ">=": lambda x, y: x >= y, "<": lambda x, y: x < y, ">": lambda x, y: x > y}


def _check_assert(abi, defn, a):
    """An `asserts:` item holds in the selection, as the compiler will find it."""
    lhs, rhs = abi.evaluate(a.lhs, a.pos).value, abi.evaluate(a.rhs, a.pos).value
    if not _COMPARE[a.op](lhs, rhs):
        raise HvabiError(f"assertion after {defn.kind} {defn.name} is false in {abi.sel_text()}:"
                         f" {lhs} {a.op} {rhs}", a.pos,
                         "fix the record or the assertion; the compiler would stop at it")


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
    """Within a product's include order, a type must be defined before a record uses it;
    a header's `order:` file names only definitions the header holds."""
    from ..emit.products import spec_names, defined_names
    errors, held = [], {}
    for arch in m.ARCHES:
        defined = set()
        for header in product.headers:
            if header.arch not in (None, arch):
                continue
            abi, defs = header_defs(spec, product, header, arch)
            for _, defn in defs:
                held.setdefault(id(header), set()).update(defined_names(defn))
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
    for header in product.headers:
        for name, pos in header.uapi_types.items():
            if name not in held.get(id(header), ()):
                errors.append(HvabiError(
                    f"uapi_types lists {name}, which header {header.path} does not hold",
                    pos, "list the records of this header whose types it spells __u8..__u64"))
    known = None
    for header in product.headers:
        for name in header.order or ():
            if name in held.get(id(header), ()):
                continue
            known = known or spec_names(spec)
            if name not in known:
                errors.append(HvabiError(
                    f"order file lists {name!r}, which the spec does not define",
                    header.order_pos[name], "list type names, enum names and constant names;"
                    " remove or fix this line"))
            else:
                errors.append(HvabiError(
                    f"order file lists {name}, which header {header.path} does not hold",
                    header.order_pos[name], "remove the line: the definition went to another"
                    " header, or left this product"))
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
    """Every definition the product's profile selects lands in one of its headers (a
    constant in the header its own `header:` names, if it has one)."""
    errors = []
    for arch in m.ARCHES:
        ids = {h.id for h in product.headers if h.arch in (None, arch)}
        abi, _ = header_defs(spec, product, product.headers[0], arch)
        for entry, defn in abi.entries:
            home = entry.placement.header_for(abi.sel)
            nodes = [(defn, home, entry.placement)]
            if isinstance(defn, m.ConstGroup):
                own = [(c, c.placement and c.placement.header_for(abi.sel)) for c in defn.items]
                nodes = [(c, where, c.placement) for c, where in own if where] + \
                    ([(defn, home, entry.placement)] if any(not where for _, where in own) else [])
            for node, where, placement in nodes:
                if where not in ids:
                    key = abi.sel.profile if abi.sel.profile in placement.by_key else abi.sel.view
                    pos = getattr(placement, "pos_of", {}).get(key) if where else node.pos
                    errors.append(HvabiError(
                        f"{node.name or 'enum'} is selected by profile {product.profile} on {arch} but"
                        f" placed in header {where!r}, which product {product.name} does not have",
                        pos or node.pos, f"headers of {product.name}: {', '.join(sorted(ids))}; fix"
                        " `header:` on the entry, its items or its file"))
    return errors


def _cached_header_defs(spec):
    """products.header_defs with one Abi per (profile, arch), shared by every check."""
    from ..emit.products import ordered, placed_part
    abis = {}

    def abi_for(sel):
        key = (sel.profile, sel.arch)
        if key not in abis:
            abis[key] = Abi.of(spec, sel)
        return abis[key]

    def header_defs(spec_, product, header, arch=None):
        profile = spec.profiles[product.profile]
        abi = abi_for(m.Selection(profile.name, profile.view, arch or header.arch))
        out = []
        for entry, defn in abi.entries:
            part = placed_part(entry, defn, abi.sel, header.id)
            if part is not None:
                out.append((entry, part))
        return abi, ordered(out, header)
    return header_defs, abi_for


def check_spec(spec, products=(), header_defs=None):
    """Every check; `header_defs` is accepted for older callers, the checks use their own
    (the same function with one Abi per selection)."""
    header_defs, abi_for = _cached_header_defs(spec)
    errors = check_omits(spec)
    seen = set()
    for sel in selections(spec):
        for err in check_abi(abi_for(sel)):
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
