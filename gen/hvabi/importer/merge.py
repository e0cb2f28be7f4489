"""Merge the per-arch readings of one header into one list of definitions.

Definitions are aligned by key in source order (difflib). What is identical on both
arches becomes one node without `arch`; what differs becomes arch-specific at the finest
level that still gives back each arch exactly: a member, a bitfield, an enumerator, a
constant's value map, else the whole definition. Filtering the result by either arch
yields that arch's reading in its own order; that is what makes the merge correct.
Macros are then grouped into `consts` entries by the blank lines and comments between
them.
"""

import dataclasses
import difflib

from .. import model as m

X86, ARM = m.ARCHES


def shape(node):
    """Hashable form of a model node without `pos` and `doc`: equal shapes, same C."""
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            shape(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name not in ("pos", "doc"))
    if isinstance(node, (list, tuple)):
        return tuple(shape(x) for x in node)
    return node


def only(node, arch):
    return dataclasses.replace(node, cond=m.Cond(arch=frozenset([arch])))


def merge(per_arch):
    """Definitions (ConstGroup, Enum, Record, Typedef) from {arch: [c_reader.Unit]}."""
    return group_consts(merge_arches(per_arch))


def merge_arches(per_arch):
    """[(definition, group_break)] with constants still one per item (not grouped)."""
    if len(per_arch) == 1:
        (arch, units), = per_arch.items()
        return [(only(u.defn, arch), u.group_break) for u in units]
    a, b = per_arch[X86], per_arch[ARM]
    items = []
    for op, i1, i2, j1, j2 in _opcodes([u.key for u in a], [u.key for u in b]):
        if op == "equal":
            for ua, ub in zip(a[i1:i2], b[j1:j2]):
                items += [(node, ua.group_break or ub.group_break) for node in _merge_def(ua.defn, ub.defn)]
        else:
            items += [(only(u.defn, X86), u.group_break) for u in a[i1:i2]]
            items += [(only(u.defn, ARM), u.group_break) for u in b[j1:j2]]
    return items


def _opcodes(keys_a, keys_b):
    return difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False).get_opcodes()


def _merge_seq(xs, ys, key, pair):
    out = []
    for op, i1, i2, j1, j2 in _opcodes([key(x) for x in xs], [key(y) for y in ys]):
        if op == "equal":
            for x, y in zip(xs[i1:i2], ys[j1:j2]):
                out += pair(x, y)
        else:
            out += [only(x, X86) for x in xs[i1:i2]] + [only(y, ARM) for y in ys[j1:j2]]
    return out


def _split(x, y):
    return [x] if shape(x) == shape(y) else [only(x, X86), only(y, ARM)]


def _merge_def(x, y):
    if shape(x) == shape(y):
        return [x]
    if isinstance(x, m.Const):
        return [dataclasses.replace(x, values=[(m.Cond(arch=frozenset([X86])), x.values[0][1]),
                                               (m.Cond(arch=frozenset([ARM])), y.values[0][1])])]
    if isinstance(x, m.Enum) and same_head(x, y):
        return [dataclasses.replace(x, items=_merge_seq(x.items, y.items, lambda i: i.name, _split))]
    if isinstance(x, m.Record) and same_head(x, y):
        merged = dataclasses.replace(x, members=_merge_members(x.members, y.members))
        # A register's raw view and bitfield struct cannot carry conditions themselves.
        if not x.register or all(n.cond.always for n in merged.members):
            return [merged]
    return [only(x, X86), only(y, ARM)]


def same_head(x, y):
    """Two records or two enums that can be merged member by member: the same everything
    but their members."""
    if isinstance(x, m.Record) and isinstance(y, m.Record):
        return (x.kind, x.packed, x.aligned, x.member, x.count, x.register, x.name) == \
            (y.kind, y.packed, y.aligned, y.member, y.count, y.register, y.name)
    if isinstance(x, m.Enum) and isinstance(y, m.Enum):
        return (x.name, x.alias) == (y.name, y.alias)
    return False


def _member_key(node):
    return ("record", node.kind, node.member) if isinstance(node, m.Record) else ("member", node.name)


def _merge_member(x, y):
    if isinstance(x, m.Record) and same_head(x, y) and shape(x) != shape(y):
        return [dataclasses.replace(x, members=_merge_members(x.members, y.members))]
    return _split(x, y)


def _merge_members(xs, ys):
    return _merge_seq(xs, ys, _member_key, _merge_member)


# --- constant groups --------------------------------------------------------------------

def group_consts(items):
    """Runs of macros without a break between them become one ConstGroup."""
    out, group = [], None
    for node, brk in items:
        if not isinstance(node, m.Const):
            out.append(node)
            group = None
            continue
        if group is None or brk:
            group = m.ConstGroup(None, node.pos)
            out.append(group)
        group.items.append(node)
    for defn in out:
        if isinstance(defn, m.ConstGroup):
            _finish_group(defn)
    return out


def _finish_group(group):
    group.name = _label([c.name for c in group.items])
    conds = {c.cond for c in group.items}
    if len(conds) == 1 and not next(iter(conds)).always:
        # Every item has the same condition: say it once, on the group.
        group.cond = conds.pop()
        group.items = [dataclasses.replace(c, cond=m.ALWAYS) for c in group.items]


def _label(names):
    """A group label from the words its names share: HV_STATUS_* -> hv-status."""
    words = [n.split("_") for n in names]
    common = []
    for column in zip(*words):
        if len(set(column)) > 1:
            break
        common.append(column[0])
    if len(names) > 1 and len(common) == len(words[0]):
        common.pop()                      # a name that is a prefix of all others
    return "-".join(w for w in (common or words[0]) if w).lower()
