"""Merge the imports of several upstream copies (profiles) into one spec.

Each source is one profile's header set, already merged across arches (merge.py). A
definition is identified by its key (kind and name) in every source. While merging, every
node carries in `cond.profile` the explicit set of profiles it exists in; a node of a new
source that is identical to what an earlier profile has there (compared on that profile's
projection) joins it, otherwise the two are merged one level down (members, bitfields,
enumerators) or kept side by side. At the end the sets become conditions relative to the
parent: none when the node is everywhere its parent is, `view:` when the set is one view's
profiles, else `profile:`. Projecting the result on any profile gives back that source's
definitions exactly; the loader's checks and `hvabi import --check` prove it.

Order: one sequence of keys that keeps each source's order where the sources agree
(a topological merge, ties and conflicts resolved by the first source's order).
"""

import dataclasses
import difflib
import heapq

from .. import model as m
from .merge import same_head


def key_of(defn):
    if isinstance(defn, m.Const):
        return ("const", defn.name)
    if isinstance(defn, m.Enum):
        return ("enum", defn.name) if defn.name else ("enum", "~" + defn.items[0].name)
    if isinstance(defn, m.Typedef):
        return ("typedef", defn.name)
    return ("record", defn.name)


# --- profile sets -------------------------------------------------------------------------

def _kids_field(node):
    if isinstance(node, m.Record):
        return "members"
    if isinstance(node, m.Enum):
        return "items"
    return None


def _with(node, profiles, kids=None):
    changes = {"cond": dataclasses.replace(node.cond, profile=frozenset(profiles))}
    if kids is not None:
        changes[_kids_field(node)] = kids
    return dataclasses.replace(node, **changes)


def tag(node, profile):
    """`node` and everything in it marked as existing in `profile` only."""
    field = _kids_field(node)
    kids = [tag(k, profile) for k in getattr(node, field)] if field else None
    return _with(node, {profile}, kids)


def _add(node, like, profile):
    """`profile` added wherever `like` is: the new source is `like`'s projection."""
    field = _kids_field(node)
    kids = [(_add(k, like, profile) if like in k.cond.profile else k)
            for k in getattr(node, field)] if field else None
    return _with(node, node.cond.profile | {profile}, kids)


_IGNORED = ("pos", "doc", "cond")


def shape(node, profile=None):
    """Hashable form of `node` as `profile` sees it (all of it for None); conditions other
    than the arch do not count."""
    if isinstance(node, m.Node):
        parts = [type(node).__name__, node.cond.arch]
        for f in dataclasses.fields(node):
            if f.name in _IGNORED:
                continue
            value = getattr(node, f.name)
            if f.name in ("members", "items"):
                value = [k for k in value if profile is None or profile in k.cond.profile]
            parts.append(shape(value, profile))
        return tuple(parts)
    if isinstance(node, (list, tuple)):
        return tuple(shape(x, profile) for x in node)
    if isinstance(node, m.Cond):
        return (node.arch,)
    return node


def _matching_profile(x, y):
    want = shape(y)
    return next((p for p in sorted(x.cond.profile) if shape(x, p) == want), None)


# --- merging ------------------------------------------------------------------------------

def _child_key(node):
    if isinstance(node, m.Record):
        return ("record", node.kind, node.member)
    return ("member", node.name)


def _same_head(x, y):
    # Merged nodes keep one arch condition: the arches must agree too.
    return x.cond.arch == y.cond.arch and same_head(x, y)


def merge_node(x, y, profile):
    """x (accumulated) and y (the new source's, tagged) -> nodes."""
    like = _matching_profile(x, y)
    if like is not None:
        return [_add(x, like, profile)]
    if _same_head(x, y):
        field = _kids_field(x)
        kids = merge_seq(getattr(x, field), getattr(y, field), profile)
        merged = _with(x, x.cond.profile | {profile}, kids)
        # A register's raw view and bitfield struct cannot carry conditions themselves.
        if not getattr(merged, "register", False) or all(k.cond.profile == merged.cond.profile for k in kids):
            return [merged]
    return [x, y]


def merge_seq(xs, ys, profile):
    out = []
    ops = difflib.SequenceMatcher(None, [_child_key(x) for x in xs], [_child_key(y) for y in ys],
                                  autojunk=False).get_opcodes()
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            for x, y in zip(xs[i1:i2], ys[j1:j2]):
                out += merge_node(x, y, profile)
        else:
            out += xs[i1:i2] + ys[j1:j2]
    return out


def merge_variants(xs, ys, profile):
    """All nodes of one key so far (arch variants, profile variants) and the new source's."""
    out, pending = list(xs), []
    for y in ys:
        for i, x in enumerate(out):
            like = _matching_profile(x, y)
            if like is not None:
                out[i] = _add(x, like, profile)
                break
        else:
            pending.append(y)
    if len(pending) == 1 and len(xs) == 1 and len(ys) == 1:
        return merge_node(xs[0], ys[0], profile)
    return out + pending


# --- conditions ---------------------------------------------------------------------------

def finalize(node, parent, view_of):
    """Explicit profile sets -> conditions relative to the parent's set."""
    have = node.cond.profile
    view, profiles = None, None
    if not have >= parent:
        views = {v for v in set(view_of.values())
                 if have == parent & {p for p, pv in view_of.items() if pv == v}}
        if views:
            view = frozenset(views)
        else:
            profiles = frozenset(have)
    field = _kids_field(node)
    changes = {"cond": m.Cond(node.cond.arch, view, profiles)}
    if field:
        changes[field] = [finalize(k, have, view_of) for k in getattr(node, field)]
    return dataclasses.replace(node, **changes)


# --- order --------------------------------------------------------------------------------

def merged_order(sequences):
    """One order of all keys: a topological merge of the sources' orders (each a list of
    keys). Ties, and cycles where sources disagree, go by an anchor: the key's place in the
    first source that has it, or just after the nearest earlier key that source shares."""
    anchor = {}
    for rank, seq in enumerate(sequences):
        last = -1.0
        for i, k in enumerate(seq):
            if k in anchor:
                last = anchor[k][0]
            else:
                anchor[k] = (last + (i + 1) * 1e-6, rank, i)
                last = anchor[k][0]
    succ, indeg = {k: set() for k in anchor}, dict.fromkeys(anchor, 0)
    for seq in sequences:
        for a, b in zip(seq, seq[1:]):
            if b not in succ[a]:
                succ[a].add(b)
                indeg[b] += 1
    ready = [(anchor[k], k) for k, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    placed, order = set(), []
    while len(order) < len(anchor):
        if not ready:                       # a cycle: the sources disagree on the order
            k = min((k for k in anchor if k not in placed), key=anchor.get)
            ready = [(anchor[k], k)]
        _, k = heapq.heappop(ready)
        if k in placed:
            continue
        placed.add(k)
        order.append(k)
        for n in succ[k]:
            indeg[n] -= 1
            if indeg[n] == 0 and n not in placed:
                heapq.heappush(ready, (anchor[n], n))
    return order


# --- the whole merge ----------------------------------------------------------------------

@dataclasses.dataclass
class Merged:
    key: tuple
    nodes: list                   # finalized definitions (usually one)
    headers: dict                 # profile -> header id
    group_break: bool = True


def merge_sources(sources, view_of):
    """sources: [(profile, [(header_id, defn, group_break)])] in priority order.
    Returns [Merged] in merged order."""
    variants, headers, breaks, sequences = {}, {}, {}, []
    for profile, items in sources:
        seq, mine = [], {}
        for hid, defn, brk in items:
            k = key_of(defn)
            if k not in mine:
                seq.append(k)
                mine[k] = []
                headers.setdefault(k, {})[profile] = hid
                breaks.setdefault(k, brk)
            mine[k].append(tag(defn, profile))
        for k, ys in mine.items():
            variants[k] = merge_variants(variants[k], ys, profile) if k in variants else ys
        sequences.append(seq)
    everyone = frozenset(p for p, _ in sources)
    out = []
    for k in merged_order(sequences):
        nodes = [finalize(n, everyone, view_of) for n in variants[k]]
        out.append(Merged(k, nodes, headers[k], breaks[k]))
    return out
