"""Carry what people wrote in an existing spec over to a fresh import.

An import knows layouts and values, not meaning: descriptions, `reserved` marks and TLFS
pages are written by people. When a spec is re-imported (new upstream revisions, a new
profile), they are looked up by definition key and member path in the old spec and put
back on the new nodes, so nothing written by hand is lost. Members not marked in the old
spec may be marked reserved by name (diff.classify.reserved_by_name: `reserved*`, `rsvd*`,
`pad*`, `mbz*`, ...), the fallback the ABI differ uses for plain headers.
"""

import dataclasses
import re

from .. import model as m
from .profile_merge import key_of

from ..diff.classify import reserved_by_name
# writer.py's placeholder for an entry nobody has described yet: not a description.
PLACEHOLDER = re.compile(r"^\S+: imported; describe it\.$")


def _written(doc):
    return "" if not doc or PLACEHOLDER.match(doc) else doc


@dataclasses.dataclass
class Notes:
    doc: str = ""
    tlfs: str = None
    members: dict = dataclasses.field(default_factory=dict)   # path -> Node (doc, reserved)


def _paths(members, prefix=""):
    for node in members:
        if isinstance(node, m.Record):
            sub = prefix + node.member + "." if node.member else prefix
            if node.member:
                yield prefix + node.member, node
            yield from _paths(node.members, sub)
        else:
            yield prefix + node.name, node


def _group_key(group):
    """The same group in two specs: the same names under the same conditions."""
    return ("group", group.cond) + tuple((c.name, c.cond) for c in group.items)


class Overlay:
    def __init__(self, spec=None, reserved_by_name=False):
        self.notes, self.group_doc = {}, {}
        self.reserved_by_name = reserved_by_name
        for entry in (spec.entries if spec else []):
            self._learn(entry.defn, entry.tlfs_page)

    def _learn(self, defn, tlfs):
        if isinstance(defn, m.ConstGroup):
            self.group_doc.setdefault(_group_key(defn), _written(defn.doc))
            for const in defn.items:
                self.group_doc.setdefault(const.name, _written(defn.doc))
                self._note(("const", const.name), const.doc, tlfs)
            return
        if isinstance(defn, m.Record):
            pairs = list(_paths(defn.members))
        else:
            pairs = [(i.name, i) for i in defn.items] if isinstance(defn, m.Enum) else []
        # Per variant (same key and conditions) first, then per key for any variant.
        for key in ((key_of(defn), defn.cond), key_of(defn)):
            notes = self._note(key, defn.doc, tlfs)
            for path, node in pairs:
                if path not in notes.members or (node.doc and not notes.members[path].doc):
                    notes.members[path] = node

    def _note(self, key, doc, tlfs):
        notes = self.notes.setdefault(key, Notes())
        notes.doc = notes.doc or _written(doc)
        notes.tlfs = notes.tlfs or tlfs
        return notes

    def tlfs_page(self, defn):
        if isinstance(defn, m.ConstGroup):
            notes = self.notes.get(("const", defn.items[0].name))
        else:
            notes = self.notes.get((key_of(defn), defn.cond)) or self.notes.get(key_of(defn))
        return notes.tlfs if notes else None

    def apply(self, defn):
        """`defn` with the docs and marks known for it (a new node; `defn` is unchanged)."""
        if isinstance(defn, m.ConstGroup):
            items = [self._apply_node(c, self.notes.get(("const", c.name))) for c in defn.items]
            doc = defn.doc or self.group_doc.get(_group_key(defn)) or next(
                (self.group_doc[c.name] for c in defn.items if self.group_doc.get(c.name)), "")
            return dataclasses.replace(defn, items=items, doc=doc)
        notes = self.notes.get((key_of(defn), defn.cond)) or self.notes.get(key_of(defn), Notes())
        defn = dataclasses.replace(defn, doc=defn.doc or notes.doc)
        if isinstance(defn, m.Enum):
            return dataclasses.replace(defn, items=[
                self._apply_node(i, None, notes.members.get(i.name)) for i in defn.items])
        if isinstance(defn, m.Record):
            return dataclasses.replace(defn, members=self._members(defn.members, notes, ""))
        return defn

    def _members(self, members, notes, prefix):
        out = []
        for node in members:
            if isinstance(node, m.Record):
                path = prefix + node.member if node.member else None
                old = notes.members.get(path) if path else None
                sub = path + "." if path else prefix
                out.append(dataclasses.replace(node, doc=node.doc or (old.doc if old else ""),
                                               members=self._members(node.members, notes, sub)))
            else:
                out.append(self._apply_node(node, None, notes.members.get(prefix + node.name)))
        return out

    def _apply_node(self, node, notes, old=None):
        doc = node.doc or (old.doc if old else "") or (notes.doc if notes else "")
        changes = {"doc": doc}
        if isinstance(node, (m.Field, m.Bitfield)):
            if old is not None:
                changes["reserved"] = node.reserved or old.reserved
            else:
                changes["reserved"] = node.reserved or (
                    self.reserved_by_name and not doc and reserved_by_name(node.name))
        return dataclasses.replace(node, **changes)
