"""Layout engine: sizes, alignments, member offsets and bit positions, from the spec alone.

Rules are those of the SysV x86_64 psABI and AAPCS64 (little endian), which agree for
everything the Hyper-V headers use:
  - a member is placed at the next multiple of its alignment (1 inside a packed record);
  - a bitfield goes at the current bit unless, outside a packed record, it would cross a
    naturally aligned unit of its declared type, in which case it starts the next unit;
    named bitfields give the record their type's alignment (not when packed);
  - union members all start at 0; sizes round up to the record's alignment;
    `aligned(n)` raises the alignment to at least n.
The compiler is what the tests check this against, never where expected values come from.
"""

from dataclasses import dataclass, field

from . import model as m
from .errors import HvabiError
from .identity import IdentityMemo, kept_on
from .spec import expr

SCALAR_SIZE = {name: bits // 8 for name, (bits, _) in expr.SCALARS.items()}
SCALAR_FACT = {"ulong": "u64", "bool": "bool", "char": "char"}


@dataclass
class Placed:
    """One member in facts form (see docs/facts-format.md)."""
    path: str
    offset: int                   # bits from the start of the top-level record
    bits: int
    type: str
    bitfield: bool = False
    node: object = None

    def fact(self):
        out = {"path": self.path, "offset": self.offset, "bits": self.bits, "type": self.type}
        if self.bitfield:
            out["bitfield"] = True
        if getattr(self.node, "reserved", False):
            out["reserved"] = True    # so the ABI differ knows reserved bits without guessing
        return out


@dataclass
class RecordLayout:
    kind: str
    size: int
    align: int
    members: list = field(default_factory=list)


class LayoutError(HvabiError):
    pass


def _round_up(value, unit):
    return -(-value // unit) * unit


def _resolve_typedef(abi, name):
    seen = set()
    while name in abi.types and isinstance(abi.types[name], m.Typedef):
        if name in seen:
            raise LayoutError(f"typedef '{name}' refers to itself", None,
                              "a typedef must end at a scalar or a struct/union/enum")
        seen.add(name)
        name = abi.types[name].type.name
    return name


def type_fact(abi, name):
    """Normalised type name for facts: u64 for every 8-byte unsigned integer, etc."""
    name = _resolve_typedef(abi, name)
    if name in expr.SCALARS:
        if name in SCALAR_FACT:
            return SCALAR_FACT[name]
        bits, signed = expr.SCALARS[name]
        return f"{'s' if signed else 'u'}{bits}"
    defn = abi.types[name]
    return f"{'enum' if isinstance(defn, m.Enum) else defn.kind} {name}"


def size_align(abi, name, pos=None):
    """(size, align) in bytes of a scalar or spec type in this selection."""
    name = _resolve_typedef(abi, name)
    if name in SCALAR_SIZE:
        return SCALAR_SIZE[name], SCALAR_SIZE[name]
    defn = abi.types.get(name)
    if defn is None:
        raise LayoutError(f"unknown type '{name}' in {abi.sel_text()}", pos,
                          "use u8..u64, s8..s64, bool, char, ulong or a struct/union/enum/typedef"
                          " defined in the spec for this arch and view")
    if isinstance(defn, m.Enum):
        return 4, 4
    lay = record_layout(abi, defn)
    return lay.size, lay.align


def sizeof(abi, name, pos=None):
    return size_align(abi, name, pos)[0]


def offsetof(abi, name, member, pos=None):
    """Bytes from the start of record `name` to its member `member` (a path)."""
    rec = abi.types.get(name)
    if not isinstance(rec, m.Record):
        raise LayoutError(f"offsetof: '{name}' is not a struct or union here", pos,
                          "name a record of the spec (struct X or union X)")
    for placed in record_layout(abi, rec).members:
        if placed.path == member:
            if placed.offset % 8:
                raise LayoutError(f"offsetof: '{name}.{member}' is a bitfield", pos,
                                  "offsetof() takes a member that starts on a byte")
            return placed.offset // 8
    for placed in record_layout(abi, rec).members:
        # a.b where a is a member of a tagged record type: C's offsetof() goes into it
        node = placed.node
        if member.startswith(placed.path + ".") and isinstance(node, m.Field) \
                and node.count is None and isinstance(abi.types.get(node.type.name), m.Record):
            if placed.offset % 8:
                break
            return placed.offset // 8 + offsetof(abi, node.type.name,
                                                 member[len(placed.path) + 1:], pos)
    raise LayoutError(f"offsetof: '{name}' has no member '{member}'", pos,
                      "give a member path as the facts spell it (a.b through untagged members)")


def record_layout(abi, rec):
    """Layout of a top-level record (memoised per Abi, by identity)."""
    cache = kept_on(abi, "_layouts", IdentityMemo)
    if rec not in cache:
        cache[rec] = None   # marks "in progress" to catch recursive types
        try:
            cache[rec] = _layout(abi, rec, 0, "", [], rec.name)
        except BaseException:
            del cache[rec]  # not in progress any more: a later use reports the error again
            raise
    elif cache.get(rec) is None:
        raise LayoutError(f"record '{rec.name}' contains itself", rec.pos,
                          "a record cannot hold itself (C has no pointers in the ABI); check member types")
    return cache.get(rec)


def _field_size(abi, node):
    size, align = size_align(abi, node.type.name, node.pos)
    bits, fact = _array(abi, node, node.name, size, type_fact(abi, node.type.name))
    return bits, align, fact


def _array(abi, node, name, size, elem):
    """(bits, fact type) of member `name` holding `node.count` elements (None: one) of
    `size` bytes and fact type `elem`; a flexible array takes no bits."""
    if node.count is None:
        return size * 8, elem
    if node.count == m.FLEX:
        return 0, f"{elem}[]"
    count = abi.evaluate(node.count, node.pos).value
    if count <= 0:
        raise LayoutError(f"array '{name}' has {count} elements", node.pos,
                          "use `count: flex` for a flexible array member")
    return size * count * 8, f"{elem}[{count}]"


def _layout(abi, rec, base, prefix, out_members, owner):
    """Lay out `rec` whose first byte is at bit `base` of the top-level record `owner`.
    Appends Placed members to out_members; returns a RecordLayout."""
    members = []
    cur = 0
    end = 0
    align = 1
    run = None                    # (unit bits, first bit) of the current bitfield run
    last_bitfield = None
    union = rec.kind == "union"
    for node in rec.members:
        start = 0 if union else cur
        if isinstance(node, m.Bitfield):
            unit = sizeof(abi, node.type, node.pos) * 8
            if not rec.packed:
                if start // unit != (start + node.width - 1) // unit:
                    start = _round_up(start, unit)
                align = max(align, unit // 8)
            if not union:
                _check_bits(owner, node, start, run)
            run = (unit, start)
            last_bitfield = node
            placed = Placed(prefix + node.name, base + start, node.width,
                            type_fact(abi, node.type), True, node)
            members.append(placed)
            stop = start + node.width
        else:
            if run and not union:
                _check_run_end(owner, run, cur, node, last_bitfield)
            run = None
            if isinstance(node, m.Record):
                sub_prefix = prefix + node.member + "." if node.member else prefix
                inner = []
                lay = _layout(abi, node, 0, sub_prefix, inner, owner)
                size_bits, fact = _array(abi, node, node.member, lay.size, node.kind)
                malign = lay.align
                if node.count is not None:
                    inner = []    # an array is one member: its elements' members are not listed
            else:
                size_bits, malign, fact = _field_size(abi, node)
            if not rec.packed:
                align = max(align, malign)
            start = _round_up(start, 8 * (1 if rec.packed else malign))
            if isinstance(node, m.Record):
                if node.member:
                    members.append(Placed(prefix + node.member, base + start, size_bits, fact, False, node))
                members.extend(Placed(p.path, p.offset + base + start, p.bits, p.type, p.bitfield, p.node)
                               for p in inner)
            else:
                members.append(Placed(prefix + node.name, base + start, size_bits, fact, False, node))
            stop = start + size_bits
        if union:
            end = max(end, stop)
        else:
            cur = end = stop
    if run and not union:
        _check_run_end(owner, run, cur, None, last_bitfield)
    if rec.aligned:
        align = max(align, rec.aligned)
    size = _round_up(end, align * 8) // 8
    out_members.extend(members)
    return RecordLayout(rec.kind, size, align, members)


def _check_bits(what, node, start, run):
    """Bits are data: the declared range must be exactly where C puts the bitfield."""
    if node.lo == start:
        return
    if run and node.lo > start:
        raise LayoutError(f"bits {start}-{node.lo - 1} of {what} are not covered (before '{node.name}')",
                          node.pos, f"add a reserved field: {{name: reservedN, bits: {start}-{node.lo - 1},"
                          " reserved: true}")
    if run and node.lo < start:
        raise LayoutError(f"bitfield '{node.name}' (bits {node.lo}-{node.hi}) overlaps the bits before"
                          f" it, which end at bit {start - 1}", node.pos,
                          "bit ranges in one struct must not overlap; check lo-hi of both fields")
    raise LayoutError(f"bitfield '{node.name}' is declared at bits {node.lo}-{node.hi} but C places it"
                      f" at bits {start}-{start + node.width - 1}", node.pos,
                      "bit positions count from the start of the enclosing struct; a bitfield that"
                      " would cross its type's unit starts the next unit unless the struct is packed")


def _check_run_end(what, run, cur, next_node, last_bitfield):
    unit, _ = run
    if cur % unit:
        end = _round_up(cur, unit) - 1
        pos = (next_node or last_bitfield).pos
        raise LayoutError(f"bits {cur}-{end} of {what} are not covered: the bitfields stop inside a"
                          f" {unit}-bit unit", pos,
                          f"add a reserved field: {{name: reservedN, bits: {cur}-{end}, reserved: true}}")


def _register_bits(abi, rec):
    raw = next(node for node in rec.members if isinstance(node, m.Field))
    return _field_size(abi, raw)[0]


def check_register(abi, rec):
    """A register's bitfields must cover its raw view exactly."""
    bits = next(node for node in rec.members if isinstance(node, m.Record))
    width = _register_bits(abi, rec)
    used = bits.members[-1].hi + 1 if bits.members else 0
    if used != width:
        node = bits.members[-1] if bits.members else rec
        if used < width:
            raise LayoutError(f"bits {used}-{width - 1} of register {rec.name} are not covered", node.pos,
                              f"add a reserved field: {{name: reservedN, bits: {used}-{width - 1},"
                              " reserved: true}")
        raise LayoutError(f"register {rec.name} is {width} bits but its fields reach bit {used - 1}",
                          node.pos, "shorten the last field or widen the raw view")


def facts(abi, names=None):
    """Facts document (docs/facts-format.md) for every record, enumerator and constant."""
    from .facts import new_facts
    doc = new_facts(abi.sel.arch, f"hvabi spec, {abi.sel_text()}")
    for _, defn in abi.entries:
        add_facts(doc, abi, defn)
    return doc


def add_facts(doc, abi, defn):
    """Add the facts of one selected definition to `doc`."""
    if isinstance(defn, m.Record):
        lay = record_layout(abi, defn)
        doc["records"][defn.name] = {"kind": lay.kind, "size": lay.size, "align": lay.align,
                                     "members": [p.fact() for p in lay.members]}
    elif isinstance(defn, m.Enum):
        if defn.name:
            doc["enums"][defn.name] = {"size": 4}
        for item in defn.items:
            doc["enumerators"][item.name] = abi.value(item.name).value
    elif isinstance(defn, m.ConstGroup):
        for const in defn.items:
            if const.params is None:      # facts hold values, which a macro with params has not
                doc["macros"][const.name] = abi.value(const.name).value
