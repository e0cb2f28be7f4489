"""Memos keyed by an object's identity, for model nodes that are unhashable or costly to
hash (records, enums, conditions), and memos kept on the object they are computed from."""


def kept_on(obj, name, factory=dict):
    """The memo `name` kept on `obj`, made by factory() the first time: for a Spec or an
    Abi, which do not change once built, so what is computed from one stays true while it
    lives and goes with it."""
    memo = obj.__dict__.get(name)
    if memo is None:
        memo = obj.__dict__[name] = factory()
    return memo


class IdentityMemo:
    """{object: value} by id(object), holding each key object too: a freed object's id can
    be reused by a new one (divergence builds records for one call), which must not find
    the freed one's value."""

    __slots__ = ("_items",)

    def __init__(self):
        self._items = {}

    def get(self, obj, default=None):
        hit = self._items.get(id(obj))
        return default if hit is None else hit[1]

    def __contains__(self, obj):
        return id(obj) in self._items

    def __setitem__(self, obj, value):
        self._items[id(obj)] = obj, value

    def __delitem__(self, obj):
        del self._items[id(obj)]
