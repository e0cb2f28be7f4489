"""One comparable form of a definition's shape, and a field-by-field comparison of two:
used by `hvabi divergence` (documented vs the spec) and by layered products (a profile's
definition vs the one the base product already provides)."""

import dataclasses
import difflib

from . import model as m
from .layout import record_layout, type_fact


@dataclasses.dataclass
class Leaf:
    path: str
    type: str
    offset: object = None         # bits from the start of the record; None when unknown
    bits: object = None
    value: object = None          # enumerators

    def text(self):
        if self.value is not None:
            return str(self.value)
        where = "" if self.offset is None else f" @{self.offset}"
        width = "" if self.bits is None else f":{self.bits}"
        return f"{self.type}{where}{width}".strip()


@dataclasses.dataclass
class Shape:
    kind: str                     # struct, union, enum
    leaves: list
    size: object = None           # bytes; None when unknown


def plain_type(fact):
    """`union hv_msi_address_register` -> hv_msi_address_register: the documented side
    cannot know whether a type it names is a struct or a union."""
    return fact.split(" ", 1)[1] if fact.startswith(("struct ", "union ", "enum ")) else fact


def spec_shape(abi, defn):
    if isinstance(defn, m.Enum):
        return Shape("enum", [Leaf(i.name, "", value=abi.value(i.name).value) for i in defn.items])
    lay = record_layout(abi, defn)
    return Shape(defn.kind, [Leaf(p.path, plain_type(p.type), p.offset, p.bits) for p in lay.members], lay.size)


@dataclasses.dataclass
class Diff:
    field: str                    # a member path, or (size), (kind), (order)
    what: str                     # documented only, spec only, type, offset, bits, value, size, kind, order
    documented: str = ""
    spec: str = ""

    def text(self, a="documented", b="spec"):
        """One line; `a` and `b` name the two sides (two profiles for a spec variant)."""
        if self.what == "documented only":
            return f"{self.field}: {a} only ({self.documented})"
        if self.what == "spec only":
            return f"{self.field}: {b} only ({self.spec})"
        return f"{self.field}: {self.what}: {a} {self.documented}, {b} {self.spec}"

    def as_dict(self):
        return dataclasses.asdict(self)


def compare(doc, spec):
    """[Diff] between two shapes, field by field: kind, size, each member path (type,
    offset, width; or value for an enumerator), members on one side only, and order."""
    out = []
    if doc.kind != spec.kind:
        out.append(Diff("(kind)", "kind", doc.kind, spec.kind))
    if doc.size is not None and spec.size is not None and doc.size != spec.size:
        out.append(Diff("(size)", "size", f"{doc.size} bytes", f"{spec.size} bytes"))
    a, b = [x.path for x in doc.leaves], [x.path for x in spec.leaves]
    by_a, by_b = {x.path: x for x in doc.leaves}, {x.path: x for x in spec.leaves}
    common = [p for p in a if p in by_b]
    for p in common:
        d, s = by_a[p], by_b[p]
        if d.value is not None or s.value is not None:
            if d.value != s.value:
                out.append(Diff(p, "value", str(d.value), str(s.value)))
            continue
        if d.type != s.type:
            out.append(Diff(p, "type", d.type, s.type))
        if d.offset is not None and s.offset is not None and d.offset != s.offset:
            out.append(Diff(p, "offset", f"bit {d.offset}", f"bit {s.offset}"))
        if d.bits is not None and s.bits is not None and d.bits != s.bits and d.type == s.type:
            out.append(Diff(p, "bits", str(d.bits), str(s.bits)))
    out += [Diff(p, "documented only", documented=by_a[p].text()) for p in a if p not in by_b]
    out += [Diff(p, "spec only", spec=by_b[p].text()) for p in b if p not in by_a]
    order_b = [p for p in b if p in by_a]
    if common != order_b:
        moved = [op for op in difflib.SequenceMatcher(None, common, order_b, autojunk=False).get_opcodes()
                 if op[0] != "equal"]
        first = moved[0]
        out.append(Diff("(order)", "order", ", ".join(common[first[1]:first[2]]) or "-",
                        ", ".join(order_b[first[3]:first[4]]) or "-"))
    return out




def same_value(top, below, name):
    try:
        return top.value(name).value == below.value(name).value
    except Exception:           # a macro with parameters: compare its text
        return False


def typedef_fact(abi, defn):
    return type_fact(abi, defn.type.name)
