"""Write imported definitions as a spec file in the project's own style.

Deterministic and diff-friendly: entries in source order separated by blank lines, one
flow mapping per line for members, bitfields and items (as in spec/defs), keys in a fixed
order. Descriptions are ours, never upstream prose, so every entry gets a placeholder
`doc` and a `# TODO: describe` comment to find it by.
"""

import re

import yaml

from .. import model as m

TODO = "  # TODO: describe"
_PLAIN = re.compile(r"^[A-Za-z_(~][A-Za-z0-9_ ()<>|&~+*/%^-]*$")
_INT = re.compile(r"^-?(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)$")


def scalar(value):
    """A YAML scalar for flow context: plain when that reads back as the same string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.match(value) and ": " not in value and " #" not in value \
            and yaml.safe_load(value) == value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def text_scalar(value):
    """Prose (a `doc`, a page name) in flow context: plain when YAML reads it back as the
    same string, else quoted."""
    if value and value[0] not in "-?:,[]{}#&*!|>'\"%@`" and ": " not in value and " #" not in value \
            and not any(c in value for c in ",[]{}") and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return scalar(value)


def expression(text):
    """An expression as written: a plain integer literal stays a YAML integer (the loader
    keeps its spelling), anything else is a string."""
    return text if _INT.match(text) else scalar(text)


def flow(pairs):
    return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"


def _names(values):
    return sorted(values)[0] if len(values) == 1 else "[" + ", ".join(sorted(values)) + "]"


def term(who, arch):
    """One `only:` term: `x86_64`, `hdk`, `tlfs@x86_64`."""
    if who == m.ANY:
        return arch
    return who if arch == m.ANY else f"{who}@{arch}"


def only_text(cond):
    return _names({term(*pair) for pair in cond.where})


def _arch(node):
    """The node's condition and reasons as flow pairs."""
    out = [] if node.cond.always else [("only", only_text(node.cond))]
    if node.why:
        out.append(("why", text_scalar(node.why)))
    if node.ahead is not None:
        out.append(("ahead", "true" if m.ANY in node.ahead else _names(node.ahead)))
    return out


def _doc(node):
    return [("doc", text_scalar(" ".join(node.doc.split())))] if node.doc else []


def _reserved(node):
    return [("reserved", "true")] if node.reserved else []


def _count(node):
    if node.count is None:
        return []
    return [("count", node.count if node.count == m.FLEX else expression(node.count))]


def _bits(node):
    return str(node.lo) if node.lo == node.hi else f"{node.lo}-{node.hi}"


def _placeholder(name):
    return scalar(f"{name}: imported; describe it.")


def render(defs, placement, attrs=None, doc=None):
    """Text of one spec file holding `defs`: each a definition, or a list of its variants
    (model nodes of the same name with their own conditions). `attrs(defn)` gives extra
    entry keys as (key, YAML text) pairs (`header`, `tlfs`), written after the
    conditions."""
    lines = ["hvabi: 2"]
    if doc:
        lines.append("doc: " + text_scalar(doc))
    lines += ["header: " + flow(sorted(placement.items())), "defs:" if defs else "defs: []"]
    for i, defn in enumerate(defs):
        if i:
            lines.append("")
        variants = defn if isinstance(defn, list) else [defn]
        lines += entry(variants, attrs(variants[0]) if attrs else [])
    return "\n".join(lines) + "\n"


def kind_of(defn):
    if isinstance(defn, m.ConstGroup):
        return "consts"
    if isinstance(defn, m.Enum):
        return "enum"
    if isinstance(defn, m.Typedef):
        return "typedef"
    return "register" if defn.register else defn.kind


def entry(variants, extra):
    """One spec entry: its head, then its body, or one body per variant."""
    first = variants[0]
    kind = kind_of(first)
    todo = "" if first.doc else TODO
    lines = [f"  - {kind}: {scalar(first.name) if first.name else '~'}{todo}"]
    head = _arch(first) if len(variants) == 1 else []
    lines += [f"    {k}: {v}" for k, v in head + extra]
    doc = text_scalar(" ".join(first.doc.split())) if first.doc else _placeholder(first.name or kind)
    lines.append(f"    doc: {doc}")
    if len(variants) == 1:
        return lines + body(first, "    ")
    lines.append("    variants:")
    for variant in variants:
        pairs = _arch(variant)
        if kind_of(variant) != kind:
            pairs.append(("kind", kind_of(variant)))
        lines.append(f"      - {pairs[0][0]}: {pairs[0][1]}")
        lines += [f"        {k}: {v}" for k, v in pairs[1:]]
        lines += body(variant, "        ")
    return lines


def body(defn, ind):
    """The keys of a definition after its head, at indent `ind`."""
    if isinstance(defn, m.ConstGroup):
        return _consts(defn, ind)
    if isinstance(defn, m.Enum):
        return _enum(defn, ind)
    if isinstance(defn, m.Typedef):
        return [f"{ind}type: {scalar(defn.type.name)}"]
    if defn.register:
        return _register(defn, ind)
    return _record_attrs(defn, ind) + [f"{ind}members:"] + _members(defn.members, ind + "  ")


def _consts(group, ind):
    lines = [f"{ind}items:"]
    for const in group.items:
        if len(const.values) == 1:
            value = expression(const.values[0][1])
        else:
            value = flow((sorted(c.arch)[0], expression(v)) for c, v in const.values)
        params = [("params", "[" + ", ".join(const.params) + "]")] if const.params else []
        header = [("header", flow(sorted(const.placement.by_key.items())))] if const.placement else []
        lines.append(f"{ind}  - " + flow([("name", scalar(const.name))] + params + [("value", value)]
                                          + _arch(const) + header + _doc(const)))
    return lines


def _enum(enum, ind):
    lines = [f"{ind}alias: {scalar(enum.alias)}"] if enum.alias else []
    lines.append(f"{ind}items:")
    for item in enum.items:
        pairs = [("name", scalar(item.name))]
        if item.value is not None:
            pairs.append(("value", expression(item.value)))
        lines.append(f"{ind}  - " + flow(pairs + _arch(item) + _doc(item)))
    return lines


def _record_attrs(rec, indent):
    out = []
    if rec.packed:
        out.append(f"{indent}packed: true")
    if rec.aligned:
        out.append(f"{indent}aligned: {rec.aligned}")
    return out


def _members(members, indent):
    lines = []
    for node in members:
        if isinstance(node, m.Record):
            head = f"{node.kind}: {scalar(node.member)}" if node.member else f"anon: {node.kind}"
            lines.append(f"{indent}- {head}")
            inner = indent + "  "
            lines += [f"{inner}{k}: {v}" for k, v in _count(node) + _arch(node) + _doc(node)]
            lines += _record_attrs(node, inner)
            lines.append(f"{inner}members:" if node.members else f"{inner}members: []")
            lines += _members(node.members, inner + "  ")
        elif isinstance(node, m.Bitfield):
            lines.append(f"{indent}- " + flow([("name", scalar(node.name)), ("type", scalar(node.type)),
                                                ("bits", _bits(node))] + _arch(node)
                                               + _reserved(node) + _doc(node)))
        else:
            pairs = [("name", scalar(node.name)), ("type", scalar(node.type.name))] + _count(node)
            if node.type.volatile:
                pairs.append(("volatile", "true"))
            lines.append(f"{indent}- " + flow(pairs + _arch(node) + _reserved(node) + _doc(node)))
    return lines


def _register(rec, ind):
    """The union { raw; struct { bitfields }; } idiom, written as `register`."""
    raw, bits = rec.members
    last = isinstance(raw, m.Record)
    if last:
        raw, bits = bits, raw
    lines = []
    if raw.type.name != "u64":
        lines.append(f"{ind}type: {scalar(raw.type.name)}")
    if raw.count is not None or last:
        pairs = [("name", scalar(raw.name))]
        if raw.count is not None:
            pairs.append(("count", expression(raw.count)))
        if last:
            pairs.append(("last", "true"))
        lines.append(f"{ind}raw: " + flow(pairs))
    elif raw.name != "as_uint64":
        lines.append(f"{ind}raw: {scalar(raw.name)}")
    if bits.member:
        lines.append(f"{ind}struct_name: {scalar(bits.member)}")
    lines += _record_attrs(rec, ind)
    if not bits.packed:
        lines.append(f"{ind}bits_packed: false")
    lines.append(f"{ind}fields:")
    for node in bits.members:
        lines.append(f"{ind}  - " + flow([("name", scalar(node.name)), ("bits", _bits(node))] + _arch(node)
                                          + _reserved(node) + _doc(node)))
    return lines
