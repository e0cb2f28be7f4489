"""Layout facts documents (`hvabi-facts/1`, see docs/facts-format.md).

Every layout oracle (spec layout engine, libclang, pahole) emits this one JSON
shape so that any two of them can be checked against each other with
`compare`.
"""

FORMAT = "hvabi-facts/1"

# Member keys compared one by one; `bitfield` is optional in the document
# and means False when absent.
_MEMBER_KEYS = ("offset", "bits", "bitfield", "type")


def new_facts(arch, source):
    """An empty facts document for one architecture."""
    return {
        "format": FORMAT,
        "arch": arch,
        "source": source,
        "records": {},
        "enums": {},
        "enumerators": {},
        "macros": {},
    }


def dump(facts):
    """Deterministic JSON text, so facts files diff cleanly: json.dumps(sort_keys=True,
    indent=1), written by `_json` at a third of the cost (indent makes json use its
    pure-Python encoder); json.dumps for anything `_json` does not know."""
    import json.encoder   # here: `hvabi diff` of header sets needs no JSON (~1.3 ms)
    try:
        return _json(facts, "\n", json.encoder.encode_basestring_ascii) + "\n"
    except _NotPlain:
        return json.dumps(facts, sort_keys=True, indent=1) + "\n"


class _NotPlain(Exception):
    pass


def _json(value, nl, quote):
    """`value` as json.dumps(sort_keys=True, indent=1) writes it at the depth whose line
    break and indent is `nl`. Only str keys and str, int, bool, None, list and dict values."""
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    inner = nl + " "
    if isinstance(value, dict):
        if not value:
            return "{}"
        if not all(isinstance(k, str) for k in value):
            raise _NotPlain
        return "{" + inner + ("," + inner).join(
            f"{quote(k)}: {_json(value[k], inner, quote)}" for k in sorted(value)) + nl + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join(_json(v, inner, quote) for v in value) + nl + "]"
    raise _NotPlain


def load(path):
    import json
    with open(path, encoding="utf-8") as f:
        facts = json.load(f)
    if facts.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} document")
    return facts


def compare(a, b, names=None, only_common=False):
    """Mismatch lines between facts documents `a` and `b` (empty: they agree).

    `names` restricts the check to those record/enum/enumerator/macro names;
    a name absent from one side is then a mismatch. Without `names` every
    name of either side is checked, unless `only_common` limits it to the
    names both sides have.
    """
    out = []
    if a.get("arch") != b.get("arch"):
        out.append(f"arch: {a.get('arch')} != {b.get('arch')}")
    sections = (
        ("records", "record", _compare_record),
        ("enums", "enum", _compare_enum),
        ("enumerators", "enumerator", _compare_value),
        ("macros", "macro", _compare_value),
    )
    for key, label, fn in sections:
        sa, sb = a.get(key, {}), b.get(key, {})
        for name in _selected(sa, sb, names, only_common):
            if name not in sb:
                out.append(f"missing in B: {label} {name}")
            elif name not in sa:
                out.append(f"missing in A: {label} {name}")
            else:
                out.extend(f"{label} {name}: {m}" for m in fn(sa[name], sb[name]))
    if names is not None:
        everywhere = [set(d.get(k, {})) for d in (a, b) for k, _, _ in sections]
        known = set().union(*everywhere)
        out.extend(f"missing in A and B: {n}" for n in sorted(set(names) - known))
    return out


def _selected(sa, sb, names, only_common):
    if names is not None:
        return sorted(n for n in names if n in sa or n in sb)
    if only_common:
        return sorted(set(sa) & set(sb))
    return sorted(set(sa) | set(sb))


def _compare_value(va, vb):
    return [] if va == vb else [f"{va} != {vb}"]


def _compare_enum(ea, eb):
    return _compare_value(ea.get("size"), eb.get("size"))


def _compare_record(ra, rb):
    out = [
        f"{k} {ra.get(k)} != {rb.get(k)}"
        for k in ("kind", "size", "align")
        if ra.get(k) != rb.get(k)
    ]
    ma = {m["path"]: m for m in ra.get("members", [])}
    mb = {m["path"]: m for m in rb.get("members", [])}
    for path in ma:
        if path not in mb:
            out.append(f"member {path} missing in B")
            continue
        for k in _MEMBER_KEYS:
            va, vb = _member_field(ma[path], k), _member_field(mb[path], k)
            if va != vb:
                out.append(f"member {path}: {k} {va} != {vb}")
    out.extend(f"member {p} missing in A" for p in mb if p not in ma)
    if [p for p in ma if p in mb] != [p for p in mb if p in ma]:
        out.append("member order differs")
    return out


def _member_field(member, key):
    return member.get(key, False) if key == "bitfield" else member.get(key)
