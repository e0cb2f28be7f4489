"""Facts from bindgen's Rust output: constants, enums, type aliases, records (size,
alignment and field offsets as the layout tests state them, field types, derived traits)
and bitfield accessor names. Nothing else of the text is kept.

Reads both shapes bindgen has written: rustfmt'ed or token-spaced text (`--no-rustfmt-bindings`),
layout tests as `#[test] fn bindgen_test_layout_X` with `assert_eq!` (bindgen <= 0.6x) or
as `const _: () = { ["Size of X"][...] }` (newer). Used by tests/reference/bindings_snapshot.py
(rust-vmm's committed bindings) and tests/test_bindgen.py (bindgen on our headers), so both
sides are read by the same code.

`facts(source)` gives a JSON-able document; `flatten(doc)` gives {key: value} with one key per
fact (`const HV_X`, `record hv_y.size`, `field hv_y.z`, ...), and `compare(a, b)` lists the
keys that are missing, extra or different.
"""

import re

TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<str>b?"(?:[^"\\]|\\.)*")
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<lifetime>'\w+)
  | (?P<num>\d[\w]*(?:\.\d\w*)?)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct>::|->|=>|[^\sA-Za-z_0-9])
""", re.S | re.X)

PRIMITIVES = {"u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128",
              "usize", "isize", "f32", "f64", "bool"}
ANON_ENUM = re.compile(r"_bindgen_ty_\d+$")
INT = re.compile(r"(0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\d[\d_]*)(?:[iu](?:8|16|32|64|128|size))?$")
# Layout assertions, on the text re-joined with one space between tokens.
SIZE = re.compile(r"size_of :: < (\w+) (?:, )?> \( \) [-,] (\d+)usize")
ALIGN = re.compile(r"align_of :: < (\w+) (?:, )?> \( \) [-,] (\d+)usize")
OFFSET_NEW = re.compile(r"offset_of ! \( (\w+) , (\w+) \) - (\d+)usize")
OFFSET_OLD = re.compile(r"addr_of ! \( \( \* ptr \) \. (\w+) \) as usize - ptr as usize \} ,"
                        r" (\d+)usize , concat ! \( \"Offset of field: \" , stringify ! \( (\w+) \)")


class RustFactsError(Exception):
    """The text is not bindgen output this reader understands."""


def tokenize(text):
    tokens = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            tokens.append(m.group())
    # `punct` takes any other character, so nothing is dropped unseen.
    return tokens


def _close(tokens, i, open_="{", close="}"):
    """Index just past the bracket matching tokens[i] (== open_)."""
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j] == open_:
            depth += 1
        elif tokens[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    raise RustFactsError(f"unbalanced {open_!r} at token {i}")


def text(tokens):
    """Tokens joined as a person writes Rust: `[__u8; 16usize]`, `::std::os::raw::c_uint`."""
    out = ""
    prev = None
    for t in tokens:
        if prev is not None:
            word = (prev[0].isalnum() or prev[0] in "_\"'") and (t[0].isalnum() or t[0] in "_\"'")
            if word or prev in (",", ";", ":", "->", "=") or t in ("->", "="):
                out += " "
        out += t
        prev = t
    return out


def _value(expr):
    """An integer if `expr` (tokens) is one, else the tokens joined."""
    neg = expr[:1] == ["-"]
    body = expr[1:] if neg else expr
    if len(body) == 1:
        m = INT.match(body[0])
        if m:
            value = int(m.group(1).replace("_", ""), 0)
            return -value if neg else value
    return text(expr)


def _split_top(tokens, sep=","):
    """Split tokens on `sep` outside (), [], {}, <>."""
    parts, cur, depth = [], [], 0
    for t in tokens:
        if t in "([{<" and len(t) == 1:
            depth += 1
        elif t in ")]}>" and len(t) == 1:
            depth -= 1
        if t == sep and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts


def _attributes(tokens, i):
    """(index after the attributes at i, {'repr': str, 'derive': [..], 'test': bool})."""
    attrs = {"repr": [], "derive": [], "test": False}
    while i < len(tokens) and tokens[i] == "#" and tokens[i + 1] == "[":
        end = _close(tokens, i + 1, "[", "]")
        body = tokens[i + 2:end - 1]
        if body[:1] == ["repr"]:
            attrs["repr"] += [text(p) for p in _split_top(body[2:-1])]
        elif body[:1] == ["derive"]:
            attrs["derive"] += [p[-1] for p in _split_top(body[2:-1])]
        elif body == ["test"]:
            attrs["test"] = True
        i = end
    return i, attrs


def _impl_accessors(body):
    """{getter: type} for bitfield accessors in an impl body: `fn X(&self) -> T` with a
    `fn set_X(&mut self, val: T)`; `new_bitfield_N` and the `_raw` variants are left out."""
    getters, setters = {}, set()
    i = 0
    while i < len(body):
        if body[i] == "fn" and i + 2 < len(body) and body[i + 2] == "(":
            name = body[i + 1]
            args_end = _close(body, i + 2, "(", ")")
            args = body[i + 3:args_end - 1]
            if args == ["&", "self"] and body[args_end] == "->":
                j = args_end + 1
                ret = []
                while body[j] != "{":
                    ret.append(body[j])
                    j += 1
                getters[name] = text(ret)
            elif args[:3] == ["&", "mut", "self"] and name.startswith("set_"):
                setters.add(name[4:])
            i = args_end
        else:
            i += 1
    return {n: t for n, t in getters.items()
            if n in setters and not n.endswith("_raw") and not re.match(r"new_bitfield_\d+$", n)}


def facts(source):
    """The facts document of one bindings.rs text."""
    tokens = tokenize(source)
    constants, aliases, records, accessors, traits = {}, {}, {}, {}, {}
    i = 0
    n = len(tokens)
    while i < n:
        i, attrs = _attributes(tokens, i)
        if i >= n:
            break
        t = tokens[i]
        if t == "pub" and tokens[i + 1] == "const":
            name = tokens[i + 2]
            eq = tokens.index("=", i)
            semi = tokens.index(";", eq)
            constants[name] = {"type": text(tokens[i + 4:eq]), "value": _value(tokens[eq + 1:semi])}
            i = semi + 1
        elif t == "pub" and tokens[i + 1] == "type":
            semi = tokens.index(";", i)
            aliases[tokens[i + 2]] = text(tokens[i + 4:semi])
            i = semi + 1
        elif t == "pub" and tokens[i + 1] in ("struct", "union"):
            name = tokens[i + 2]
            if tokens[i + 3] == "{":
                end = _close(tokens, i + 3)
                fields = []
                for part in _split_top(tokens[i + 4:end - 1]):
                    if part[:1] == ["pub"] and part[2:3] == [":"]:
                        fields.append([part[1], text(part[3:])])
                    elif part[1:2] == [":"]:
                        fields.append([part[0], text(part[2:])])
                records[name] = {"kind": tokens[i + 1], "repr": ", ".join(attrs["repr"]), "fields": fields}
                traits.setdefault(name, set()).update(attrs["derive"])
                i = end
            elif tokens[i + 3] == "<" and name.startswith("__"):
                i = _skip_item(tokens, i)        # bindgen's generic helpers
            else:
                raise RustFactsError(f"unknown record shape: {text(tokens[i:i + 6])} ...")
        elif t == "impl":
            brace = tokens.index("{", i)
            head = tokens[i + 1:brace]
            body_end = _close(tokens, brace)
            if head[:1] != ["<"]:
                if "for" in head:
                    k = head.index("for")
                    traits.setdefault(head[k + 1], set()).add(head[k - 1])
                elif len(head) == 1:
                    found = _impl_accessors(tokens[brace + 1:body_end - 1])
                    if found:
                        accessors.setdefault(head[0], {}).update(found)
            i = body_end
        elif tokens[i:i + 2] == ["const", "_"] or (attrs["test"] and t == "fn"):
            i = _skip_item(tokens, i)            # layout tests, read below from the text
        else:
            # Anything else (functions, statics, Rust enums, ...) would be a kind of item
            # this reader does not compare: refuse rather than drop it unseen.
            raise RustFactsError(f"unknown item at token {i}: {text(tokens[i:i + 6])} ...")

    joined = " ".join(tokens)
    sizes = dict(SIZE.findall(joined))
    aligns = dict(ALIGN.findall(joined))
    offsets = {}
    for rec, field, off in OFFSET_NEW.findall(joined):
        offsets.setdefault(rec, {})[field] = int(off)
    for field, off, rec in OFFSET_OLD.findall(joined):
        offsets.setdefault(rec, {})[field] = int(off)
    stated = joined.count('"Offset of field')
    if stated != sum(len(v) for v in offsets.values()):
        raise RustFactsError(f"{stated} field offset assertions, {sum(len(v) for v in offsets.values())}"
                             " understood: an unknown layout test shape")
    for key, table in (("Size of", sizes), ("Alignment of", aligns)):
        if len(re.findall(rf'"{key}', joined)) != len(table):
            raise RustFactsError(f"{key} assertions not all understood: an unknown layout test shape")

    enums, enum_constants = {}, {}
    for name, c in list(constants.items()):
        ty = c["type"]
        if ty in aliases and ty not in PRIMITIVES:
            del constants[name]
            anon = ANON_ENUM.match(ty)
            enum_constants[name] = {"enum": "(anonymous)" if anon else ty, "value": c["value"]}
            if not anon:
                enums[ty] = aliases[ty]
    types = {k: v for k, v in aliases.items() if k not in enums and not ANON_ENUM.match(k)}

    for name, rec in records.items():
        if name in sizes:
            rec["size"] = int(sizes[name])
        if name in aligns:
            rec["align"] = int(aligns[name])
        rec["offsets"] = offsets.get(name, {})
        rec["traits"] = sorted(traits.get(name, ()))
        rec["bitfields"] = accessors.get(name, {})
    return {"constants": constants, "enums": enums, "enum_constants": enum_constants,
            "types": types, "records": records}


def _skip_item(tokens, i):
    """Index after the item starting at i: up to the `;` or the matching `}` first seen."""
    n = len(tokens)
    j = i
    while j < n:
        if tokens[j] == ";":
            return j + 1
        if tokens[j] == "{":
            end = _close(tokens, j)
            return end + 1 if end < n and tokens[end] == ";" else end
        if tokens[j] in ("(", "["):
            j = _close(tokens, j, tokens[j], {"(": ")", "[": "]"}[tokens[j]])
            continue
        j += 1
    return n


def flatten(doc):
    """{key: value}, one key per fact, for comparing two documents."""
    flat = {}
    for name, c in doc["constants"].items():
        flat[f"const {name}"] = f"{c['type']} = {c['value']}"
    for name, ty in doc["enums"].items():
        flat[f"enum {name}"] = ty
    for name, c in doc["enum_constants"].items():
        flat[f"enumerator {name}"] = f"{c['enum']} = {c['value']}"
    for name, ty in doc["types"].items():
        flat[f"type {name}"] = ty
    for name, rec in doc["records"].items():
        flat[f"record {name}"] = f"{rec['kind']} repr({rec['repr']})"
        for key in ("size", "align"):
            flat[f"record {name}.{key}"] = rec.get(key)
        flat[f"record {name}.traits"] = " ".join(rec["traits"])
        for index, (field, ty) in enumerate(rec["fields"]):
            flat[f"field {name}.{field}"] = f"#{index} {ty}" + (
                f" @{rec['offsets'][field]}" if field in rec["offsets"] else "")
        for field, ty in rec["bitfields"].items():
            flat[f"bitfield {name}.{field}"] = ty
    return flat


def compare(expected, actual):
    """[(key, expected value or None, actual value or None)] for every key that differs,
    is missing from `actual` or only in it; both are facts documents."""
    want, have = flatten(expected), flatten(actual)
    return [(key, want.get(key), have.get(key)) for key in sorted(set(want) | set(have))
            if want.get(key) != have.get(key)]
