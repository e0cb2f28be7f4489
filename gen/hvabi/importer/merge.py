"""One n-way merge of readings of the same ABI into one list of definitions.

A *reading* is the list of definitions one source gives for one (who, arch) key: the
x86_64 and arm64 parses of one header set, or every (profile, arch) selection of a spec.
Readings are folded in one at a time. Definitions are aligned by key in source order
(difflib); a definition or member that some earlier key already has in the same shape
just gains the new key; what differs is kept side by side at the finest level that still
gives back every reading exactly (a member, a bitfield, an enumerator, a constant, else
the whole definition as a variant). While merging, every node's `cond` holds the explicit
set of keys it exists in; `conditions()` then states them relative to the parent, as
`only:` terms. Filtering the result by any key gives back that reading.
"""

import dataclasses
import difflib

from .. import model as m
from ..spec import expr

_IGNORED = ("pos", "doc", "cond", "why", "ahead", "placement")


def shape(node):
    """Hashable form of a node without positions, descriptions and conditions, with
    integer literals by C value and type (`0x2` and `2` are the same constant)."""
    if isinstance(node, expr.Num):
        return ("num", expr._literal(node))
    if dataclasses.is_dataclass(node) and not isinstance(node, m.Cond):
        return (type(node).__name__,) + tuple(
            shape(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name not in _IGNORED)
    if isinstance(node, (list, tuple)):
        return tuple(shape(x) for x in node if not isinstance(x, m.Cond))
    return node


def keys_of(node):
    return node.cond.where


def _with_keys(node, keys):
    return dataclasses.replace(node, cond=m.Cond(frozenset(keys)))


def tag(node, key):
    """`node` and everything in it as existing in `key` only."""
    changes = {}
    if isinstance(node, m.Record):
        changes["members"] = [tag(x, key) for x in node.members]
    elif isinstance(node, (m.Enum, m.ConstGroup)):
        changes["items"] = [tag(x, key) for x in node.items]
    return dataclasses.replace(node, cond=m.Cond(frozenset([key])), **changes)


def project(node, key):
    """`node` as reading `key` sees it (None where it does not exist)."""
    if key not in keys_of(node):
        return None
    changes = {}
    if isinstance(node, m.Record):
        changes["members"] = [p for p in (project(x, key) for x in node.members) if p is not None]
    elif isinstance(node, (m.Enum, m.ConstGroup)):
        changes["items"] = [p for p in (project(x, key) for x in node.items) if p is not None]
    return dataclasses.replace(node, **changes)


def _clone_key(node, old, new):
    """Wherever `old` exists in `node`, `new` now exists too."""
    if old not in keys_of(node):
        return node
    changes = {"cond": m.Cond(keys_of(node) | {new})}
    if isinstance(node, m.Record):
        changes["members"] = [_clone_key(x, old, new) for x in node.members]
    elif isinstance(node, (m.Enum, m.ConstGroup)):
        changes["items"] = [_clone_key(x, old, new) for x in node.items]
    return dataclasses.replace(node, **changes)


def _same_as_some_key(node, new_shape):
    """A key whose view of `node` has `new_shape`, or None."""
    for key in sorted(keys_of(node)):
        if shape(project(node, key)) == new_shape:
            return key
    return None


def same_head(x, y):
    """Two records or two enums that can be merged member by member: the same everything
    but their members."""
    if isinstance(x, m.Record) and isinstance(y, m.Record):
        return (x.kind, x.packed, x.aligned, x.member, x.count, x.register, x.name) == \
            (y.kind, y.packed, y.aligned, y.member, y.count, y.register, y.name)
    if isinstance(x, m.Enum) and isinstance(y, m.Enum):
        return (x.name, x.alias) == (y.name, y.alias)
    if isinstance(x, m.ConstGroup) and isinstance(y, m.ConstGroup):
        return True                 # aligned by key already; labels are not identities
    return False


def member_key(node):
    if isinstance(node, m.Record):
        return ("record", node.kind, node.member)
    return ("member", node.name)


def _merge_one(x, y, key):
    """Fold node `y` (seen by `key` only) into merged node `x`: the merged node, or None
    when they cannot be one node."""
    old = _same_as_some_key(x, shape(y))
    if old is not None:
        return _clone_key(x, old, key)
    if not same_head(x, y):
        return None
    kids = "members" if isinstance(x, m.Record) else "items"
    keys = keys_of(x) | {key}
    # Order is ABI for members, and for enumerators that take the previous value + 1.
    ordered = isinstance(x, m.Record) or isinstance(x, m.Enum) and any(
        i.value is None for i in x.items + y.items)
    merged = merge_seq(getattr(x, kids), getattr(y, kids), key, ordered)
    if isinstance(x, m.Record) and x.register and (
            len(merged) != 2 or any(keys_of(k) != keys for k in merged)):
        return None     # a register's raw view and bitfield struct take no conditions
    return dataclasses.replace(x, cond=m.Cond(keys), **{kids: merged})


def merge_seq(xs, ys, key, ordered, key_of=member_key):
    """Fold the plain nodes `ys` of reading `key` into the merged nodes `xs`."""
    merge = Merge(key_of, ordered)
    for x in xs:
        if merge.slots and merge.slots[-1][0] == key_of(x):
            merge.slots[-1][1].append(x)
        else:
            merge.slots.append((key_of(x), [x]))
    merge.add(ys, key)
    return merge.definitions()


def merge_into_run(run, y, key):
    """Fold `y` into the first node of `run` (same key) it matches, else add it."""
    for i, x in enumerate(run):
        if _same_as_some_key(x, shape(y)) is not None:
            return run[:i] + [_merge_one(x, y, key)] + run[i + 1:]
    for i, x in enumerate(run):
        merged = _merge_one(x, y, key)
        if merged is not None:
            return run[:i] + [merged] + run[i + 1:]
    return run + [tag(y, key)]


class Merge:
    """Top-level definitions of every reading folded in so far, in source order. A name
    may hold several variants (shapes that could not be merged member by member)."""

    def __init__(self, key_of, ordered=False):
        self.key_of = key_of
        self.ordered = ordered       # order is ABI (members, enumerators): never reorder
        self.slots = []              # [(definition key, [variant nodes])]

    def add(self, defs, key, def_keys=None):
        """Fold reading `key` (its definitions, and their keys if not `key_of` them)."""
        keys = [k for k, _ in self.slots]
        new_keys = def_keys or [self.key_of(d) for d in defs]
        matcher = difflib.SequenceMatcher(None, keys, new_keys, autojunk=False)
        opcodes = matcher.get_opcodes()
        matched = {i for op, i1, i2, _, _ in opcodes if op == "equal" for i in range(i1, i2)}
        once = {k for k in keys if keys.count(k) == 1}
        runs = [run for _, run in self.slots]
        inserts = {}                 # slot index -> new slots to put before it
        for op, i1, i2, j1, j2 in opcodes:
            if op == "equal":
                for i, d in zip(range(i1, i2), defs[j1:j2]):
                    runs[i] = merge_into_run(runs[i], d, key)
                continue
            for k, d in zip(new_keys[j1:j2], defs[j1:j2]):
                # Listed elsewhere in this reading's order: fold into that one slot.
                at = keys.index(k) if not self.ordered and k in once \
                    and keys.index(k) not in matched else None
                if at is not None:
                    runs[at] = merge_into_run(runs[at], d, key)
                    matched.add(at)
                else:
                    inserts.setdefault(i2, []).append((k, [tag(d, key)]))
        out = []
        for i, (k, _) in enumerate(self.slots):
            out += inserts.get(i, [])
            out.append((k, runs[i]))
        out += inserts.get(len(self.slots), [])
        self.slots = out

    def definitions(self):
        return [v for _, run in self.slots for v in run]


# --- conditions ---------------------------------------------------------------------------

def express(keys, universe, views):
    """`keys` (explicit (who, arch) pairs) as `only:` pairs relative to `universe`, the
    pairs the parent exists in; None when the node exists wherever its parent does.
    `views` maps each profile to its view: a view stands for all its profiles."""
    keys, universe = frozenset(keys), frozenset(universe)
    if keys >= universe:
        return None
    whos = sorted({w for w, _ in universe})
    arches = sorted({a for _, a in universe})
    # Only the arch narrows it.
    by_arch = {a for _, a in keys}
    if keys == {(w, a) for w in whos for a in by_arch if (w, a) in universe}:
        return frozenset((m.ANY, a) for a in by_arch)
    out = set()
    covered = set()
    for view in sorted(set(views.values())):
        members = [w for w in whos if views.get(w) == view]
        if not members:
            continue
        sets = {w: {a for ww, a in keys if ww == w} for w in members}
        # Within the parent, a view stands for those of its profiles the parent has.
        if all(sets[w] == sets[members[0]] and sets[w] for w in members):
            arch_set = sets[members[0]]
            if arch_set >= set(arches) or all((w, a) not in universe or a in arch_set
                                              for w in members for a in arches):
                out.add((view, m.ANY))
            else:
                out |= {(view, a) for a in arch_set}
            covered |= set(members)
    for w in whos:
        if w in covered:
            continue
        arch_set = {a for ww, a in keys if ww == w}
        if not arch_set:
            continue
        if all((w, a) not in universe or a in arch_set for a in arches):
            out.add((w, m.ANY))
        else:
            out |= {(w, a) for a in arch_set}
    return frozenset(out)


def relative(node, parent_keys, views):
    """`node` with its explicit key sets stated as `only:` relative to its parent's keys,
    all the way down."""
    keys = keys_of(node)
    pairs = express(keys, parent_keys, views)
    changes = {"cond": m.ALWAYS if pairs is None else m.Cond(pairs)}
    if isinstance(node, m.Record):
        changes["members"] = [relative(x, keys, views) for x in node.members]
    elif isinstance(node, (m.Enum, m.ConstGroup)):
        changes["items"] = [relative(x, keys, views) for x in node.items]
    return dataclasses.replace(node, **changes)


def join_arch_values(nodes):
    """Constants of one name whose variants differ only by arch become one constant with a
    value per arch (`value: {x86_64: ..., arm64: ...}`); nodes still hold explicit keys."""
    by_name = {}
    for node in nodes:
        if isinstance(node, m.Const):
            by_name.setdefault(node.name, []).append(node)
    out, done = [], set()
    for node in nodes:
        same = by_name.get(node.name, []) if isinstance(node, m.Const) else []
        if len(same) < 2:
            out.append(node)
            continue
        if node.name in done:
            continue
        done.add(node.name)
        whos = {frozenset(w for w, _ in keys_of(v)) for v in same}
        arches = [[a for _, a in keys_of(v)] for v in same]
        flat = [a for a_list in arches for a in set(a_list)]
        if len(whos) != 1 or len(flat) != len(set(flat)) or any(len(v.values) != 1 for v in same):
            out += same                          # a real variant, not an arch value map
            continue
        values = sorted(((a, v.values[0][1]) for v in same for a in {a for _, a in keys_of(v)}),
                        key=lambda x: m.ARCHES.index(x[0]))
        out.append(dataclasses.replace(node, cond=m.Cond(frozenset().union(*(keys_of(v) for v in same))),
                                       values=[(m.Cond.on_arches([a]), v) for a, v in values]))
    return out


# --- the importer's use: the arches of one header set ------------------------------------

ARCH_VIEWS = {}                      # arch readings name no profile


def merge_arches(per_arch):
    """[(definition, group_break)] from {arch: [c_reader.Unit]}, constants one per item
    (not grouped yet), with arch conditions where the arches differ."""
    merged = Merge(None)
    breaks = {}
    for arch, units in per_arch.items():
        merged.add([u.defn for u in units], (m.ANY, arch), [u.key for u in units])
        for u in units:
            breaks[u.key] = breaks.get(u.key, False) or u.group_break
    universe = frozenset((m.ANY, a) for a in per_arch)
    out = []
    for key, run in merged.slots:
        for node in join_arch_values(run):
            out.append((relative(node, universe, ARCH_VIEWS), breaks[key]))
    return out


def merge(per_arch):
    """Definitions (ConstGroup, Enum, Record, Typedef) from {arch: [c_reader.Unit]}."""
    return group_consts(merge_arches(per_arch))


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
