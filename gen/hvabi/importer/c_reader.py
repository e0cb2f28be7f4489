"""Read a header set with libclang, for one architecture, into model nodes.

Each header becomes a list of `Unit`s in source order: one per integer macro, enum,
struct/union and typedef. Sizes, offsets and bit positions come from the compiler;
expressions (macro bodies, enumerator values, array lengths) are kept as written (see
c_expr). What spec format 1 cannot say is returned as a `Skip` with the reason, never
approximated.
"""

import os
import re
from dataclasses import dataclass, field

import clang.cindex as ci

from .. import model as m
from ..errors import HvabiError
from ..extract import clang_facts, header_sets
from ..spec import expr
from . import c_expr

K = ci.CursorKind
T = ci.TypeKind
_RECORD_KINDS = {K.STRUCT_DECL: "struct", K.UNION_DECL: "union"}
_ARRAYS = (T.CONSTANTARRAY, T.INCOMPLETEARRAY)
_SCALARS = {T.BOOL: "bool", T.CHAR_S: "char", T.CHAR_U: "char", T.UCHAR: "u8", T.SCHAR: "s8",
            T.USHORT: "u16", T.SHORT: "s16", T.UINT: "u32", T.INT: "s32",
            T.ULONG: "ulong", T.ULONGLONG: "u64", T.LONGLONG: "s64"}
# Typedefs that spell a scalar in some flavor (`typedef unsigned long long u64;` in a
# self-contained header) are the flavor's base types, not ABI definitions.
SCALAR_TYPEDEFS = frozenset(expr.SCALARS) | {f"__{s}{n}" for s in "us" for n in (8, 16, 32, 64)}

# Why a macro is not imported: not ABI data, reported apart from real gaps.
NOT_ABI = ("function-like macro outside the spec's expression language",
           "macro without an integer value",
           "#undef'd in the header: a helper of limited scope, written out where it is used")


@dataclass
class Unit:
    """One definition of one header, as read for one arch."""
    key: tuple                # identifies it across arches: (kind, name)
    defn: object              # m.Const (one macro), m.Enum, m.Record or m.Typedef
    group_break: bool = True  # macros: a blank line, comment or code comes before it


@dataclass
class Skip:
    pos: str
    name: str
    why: str


@dataclass
class Reading:
    arch: str
    parsed: object                               # clang_facts.Parsed
    units: dict = field(default_factory=dict)    # header (as given) -> [Unit]
    skips: list = field(default_factory=list)


class _Unsupported(Exception):
    pass


def read(headers, arch, flavor, include_dirs=()):
    """Units of `headers` (paths, compiled in this order) for `arch`."""
    options = header_sets.options(arch, flavor, include_dirs)
    # Headers use kernel constants the spec knows (expr.EXTERNAL: NSEC_PER_SEC) without
    # always including their header; defined here, the compiler values what uses them.
    options["prelude"] = (options.get("prelude") or "") + "".join(
        f"#define {name} {value}{'L' if bits == 64 and signed else ''}\n"
        for name, (value, bits, signed, _) in expr.EXTERNAL.items())
    try:
        parsed = clang_facts.parse_headers([str(h) for h in headers], arch, **options)
    except clang_facts.ExtractError as e:
        raise HvabiError(f"{arch}: {e}", None, f"check --flavor ({flavor}) and -I") from None
    reading = Reading(arch, parsed)
    _Reader(reading, {os.path.realpath(h): str(h) for h in headers}).run()
    return reading


def _function_like(tokens):
    """Whether a macro definition's tokens (name first) define a function-like macro:
    `(` glued to the name."""
    return tokens[1].spelling == "(" and tokens[1].extent.start.offset == tokens[0].extent.end.offset


def _has(decl, kind):
    return any(c.kind == kind for c in decl.get_children())


class _Reader:
    def __init__(self, reading, headers):
        self.reading = reading
        self.headers = headers            # real path -> header as given
        self.seen = set()                 # keys already read (typedef'd definitions show twice)
        self.header_by_name = {}          # file name as clang spells it -> header or None

    def header_of(self, cursor):
        f = cursor.location.file
        if not f:
            return None
        # realpath stats every component: once per file, not once per cursor
        name = f.name
        if name not in self.header_by_name:
            self.header_by_name[name] = self.headers.get(os.path.realpath(name))
        return self.header_by_name[name]

    def pos(self, cursor):
        return f"{self.header_of(cursor) or '?'}:{cursor.location.line}"

    def run(self):
        by_header = {h: [] for h in self.headers.values()}
        for c in self.reading.parsed.tu.cursor.get_children():
            header = self.header_of(c)
            if header is not None:
                by_header[header].append(c)
        macros = [c for cs in by_header.values() for c in cs if c.kind == K.MACRO_DEFINITION]
        values = clang_facts.integer_macros(self.reading.parsed, macros)
        # bodies of object-like macros, for those #undef'd (written_out)
        self.scoped = {}
        for c in macros:
            tokens = [t for t in c.get_tokens() if t.kind != ci.TokenKind.COMMENT]
            if len(tokens) > 1 and not _function_like(tokens):
                self.scoped[c.spelling] = tokens[1:]
        for header, cursors in by_header.items():
            cursors.sort(key=lambda c: c.location.offset)
            self.reading.units[header] = self.header_units(header, cursors, values)

    def header_units(self, header, cursors, values):
        with open(header, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        units, prev_end, prev_macro = [], 0, False
        self.undefs = {m_.group(1) for line in lines for m_ in [re.match(r"\s*#\s*undef\s+(\w+)", line)] if m_}
        for c in cursors:
            if c.kind == K.MACRO_DEFINITION:
                unit = self.macro(c, values, lines, units)
                if unit:
                    gap = lines[prev_end:c.extent.start.line - 1]
                    unit.group_break = not prev_macro or any(
                        not line.strip() or not line.lstrip().startswith("#") for line in gap)
                    units.append(unit)
                prev_macro = True
            elif c.kind in (K.MACRO_INSTANTIATION, K.INCLUSION_DIRECTIVE):
                continue
            else:
                units += self.declaration(c)
                prev_macro = False
            prev_end = max(prev_end, c.extent.end.line)
        return units

    def skip(self, cursor, name, why):
        self.reading.skips.append(Skip(self.pos(cursor), name, why))

    # -- macros ----------------------------------------------------------------------------

    def macro(self, c, values, lines, units):
        """A Unit for an integer macro; `#define ALIAS enum_tag` after its enum becomes
        the enum's `alias`."""
        tokens = [t for t in c.get_tokens() if t.kind != ci.TokenKind.COMMENT]
        if len(tokens) < 2:
            return None                   # include guards and other empty macros
        if _function_like(tokens):
            return self.function_macro(c, tokens)
        if len(tokens) == 2 and units and isinstance(units[-1].defn, m.Enum) \
                and units[-1].defn.name == tokens[1].spelling and not units[-1].defn.alias:
            units[-1].defn.alias = c.spelling
            return None
        if c.spelling in self.undefs:
            self.skip(c, c.spelling, NOT_ABI[2])
            return None
        if c.spelling not in values:
            self.skip(c, c.spelling, NOT_ABI[1])
            return None
        try:
            value = c_expr.text(tokens[1:])
        except c_expr.Unrepresentable as e:
            self.skip(c, c.spelling, f"value not in the spec's expression language: {e}")
            return None
        const = m.Const(c.spelling, self.pos(c), values=[(m.ALWAYS, value)])
        return Unit(("const", c.spelling), const)

    def function_macro(self, c, tokens):
        """A Unit for `#define NAME(a, b) body` when the body is a spec expression."""
        close = next((i for i, t in enumerate(tokens) if t.spelling == ")"), None)
        params = [t.spelling for t in tokens[2:close or 0] if t.spelling != ","]
        try:
            if close is None or close + 1 == len(tokens) or not params or c.spelling in self.undefs:
                raise c_expr.Unrepresentable("no body, no parameters or of limited scope")
            value = c_expr.text(tokens[close + 1:])
        except c_expr.Unrepresentable:
            self.skip(c, c.spelling, NOT_ABI[0])
            return None
        const = m.Const(c.spelling, self.pos(c), values=[(m.ALWAYS, value)], params=tuple(params))
        return Unit(("const", c.spelling), const)

    def written_out(self, tokens, depth=0):
        """`tokens` with each macro #undef'd in the header replaced by its body (the spec has
        no macros of limited scope; where such a helper is used, its body is written)."""
        out = []
        for tok in tokens:
            body = self.scoped.get(tok.spelling) if tok.spelling in self.undefs else None
            if body is None or depth > 8:
                out.append(tok)
            else:
                out += self.written_out(body, depth + 1)
        return out

    # -- declarations ----------------------------------------------------------------------

    def declaration(self, c):
        """Units for one top-level declaration: tagged types defined inside a record come
        first (C gives them file scope), then the declaration itself."""
        if c.kind in _RECORD_KINDS or c.kind == K.ENUM_DECL:
            if not c.is_definition() or (c.kind != K.ENUM_DECL and clang_facts.untagged(c)):
                return []                 # a forward declaration, or typedef'd (see typedef)
            return self.tag_definition(c)
        if c.kind == K.TYPEDEF_DECL:
            return self.typedef(c)
        if c.kind in (K.FUNCTION_DECL, K.VAR_DECL):
            self.skip(c, c.spelling, f"{c.kind.name.lower().replace('_decl', '')}: not ABI data")
        return []

    def tag_definition(self, c):
        key = ("enum" if c.kind == K.ENUM_DECL else "record",
               c.spelling or f"anonymous enum at {self.pos(c)}")
        if key in self.seen:
            return []
        self.seen.add(key)
        units = []
        try:
            if c.kind == K.ENUM_DECL:
                defn = self.enum(c)
                if not c.spelling and defn.items:
                    key = ("enum", "anonymous", defn.items[0].name)
            else:
                units += self.nested_tags(c)
                defn = self.record(c)
                fields = list(c.type.get_fields())
                defn.register = defn.kind == "union" and len(fields) == 2 and _register_shape(defn, fields)
        except _Unsupported as e:
            self.skip(c, c.spelling or "anonymous enum", str(e))
            return units
        return units + [Unit(key, defn)]

    def nested_tags(self, decl):
        units = []
        for child in decl.get_children():
            if child.kind in _RECORD_KINDS and child.is_definition():
                if clang_facts.untagged(child):
                    units += self.nested_tags(child)
                else:
                    units += self.tag_definition(child)
            elif child.kind == K.ENUM_DECL and child.is_definition():
                units += self.tag_definition(child)
        return units

    def typedef(self, c):
        if c.spelling in SCALAR_TYPEDEFS:
            return []
        under = c.underlying_typedef_type
        try:
            if under.get_canonical().kind in _ARRAYS or under.get_canonical().kind == T.POINTER:
                raise _Unsupported(f"typedef of {under.spelling}: format 1 has no array or pointer typedefs")
            ref = self.type_ref(under)
        except _Unsupported as e:
            self.skip(c, c.spelling, str(e))
            return []
        return [Unit(("typedef", c.spelling), m.Typedef(c.spelling, self.pos(c), type=ref))]

    def enum(self, c):
        items = []
        for e in c.get_children():
            if e.kind != K.ENUM_CONSTANT_DECL:
                continue
            tokens = list(e.get_tokens())
            if not tokens or tokens[0].spelling != e.spelling:
                raise _Unsupported(f"enumerator {e.spelling} is written by a macro")
            value = None
            if len(tokens) > 2 and tokens[1].spelling == "=":
                try:
                    value = c_expr.text(tokens[2:])
                except c_expr.Unrepresentable as err:
                    raise _Unsupported(f"enumerator {e.spelling}: {err}") from None
            items.append(m.Enumerator(e.spelling, self.pos(e), value=value))
        return m.Enum(c.spelling or None, self.pos(c), items=items)

    # -- records ---------------------------------------------------------------------------

    def record(self, decl, member=None):
        rec = m.Record(None if clang_facts.untagged(decl) else decl.spelling, self.pos(decl),
                       kind=_RECORD_KINDS[decl.kind], packed=_has(decl, K.PACKED_ATTR),
                       aligned=decl.type.get_align() if _has(decl, K.ALIGNED_ATTR) else None,
                       member=member)
        # Type.get_fields() includes the implicit field of an anonymous struct/union member.
        rec.members = [self.member(f) for f in decl.type.get_fields()]
        return rec

    def member(self, f):
        t = f.type
        canon = t.get_canonical()
        if _has(f, K.ALIGNED_ATTR) or (_has(f, K.PACKED_ATTR) and not _packs_like_type(canon)):
            raise _Unsupported(f"member '{f.spelling}' has its own __packed/__aligned: format 1 puts"
                               " attributes on types only")
        if canon.kind == T.RECORD and clang_facts.untagged(canon.get_declaration()):
            if f.is_bitfield():
                raise _Unsupported(f"bitfield '{f.spelling}' of struct type")
            rec = self.record(canon.get_declaration(), f.spelling or None)
            # `struct { ... } name __packed;`: the type is only this member's, and has no
            # padding to remove, so packing the type lays out exactly the same.
            rec.packed = rec.packed or _has(f, K.PACKED_ATTR)
            return rec
        if f.is_bitfield():
            if not f.spelling:
                raise _Unsupported("unnamed (padding) bitfield: format 1 needs a name for every bit range")
            lo = f.get_field_offsetof()
            return m.Bitfield(f.spelling, self.pos(f), type=self.type_ref(t).name,
                              lo=lo, hi=lo + f.get_bitfield_width() - 1)
        count = None
        if t.kind in _ARRAYS:
            count = m.FLEX if t.kind == T.INCOMPLETEARRAY else self.array_length(f)
            t = t.element_type
            elem = t.get_canonical()
            if elem.kind in _ARRAYS:
                raise _Unsupported(f"member '{f.spelling}' is a multidimensional array")
            if elem.kind == T.RECORD and clang_facts.untagged(elem.get_declaration()):
                # `struct { ... } name[N];`: a named nested record with a count.
                rec = self.record(elem.get_declaration(), f.spelling)
                rec.count = count
                return rec
        return m.Field(f.spelling, self.pos(f), type=self.type_ref(t), count=count)

    def array_length(self, f):
        """The tokens between `name[` and the matching `]`, as written."""
        tokens = list(f.get_tokens())
        for i, tok in enumerate(tokens[:-1]):
            if tok.spelling == f.spelling and tokens[i + 1].spelling == "[":
                depth, j = 0, i + 1
                for j in range(i + 1, len(tokens)):
                    depth += {"[": 1, "]": -1}.get(tokens[j].spelling, 0)
                    if depth == 0:
                        break
                length = self.written_out(tokens[i + 2:j])
                scoped = [t.spelling for t in length if t.spelling in self.undefs]
                if scoped:
                    raise _Unsupported(f"the length of '{f.spelling}' uses {scoped[0]}, a macro #undef'd"
                                       " in the header whose definition was not found")
                try:
                    text = c_expr.text(length)
                except c_expr.Unrepresentable as e:
                    raise _Unsupported(f"length of '{f.spelling}': {e}") from None
                tree = expr.parse(text)
                if isinstance(tree, expr.Paren) and expr.is_macro_call(tree.inner):
                    text = text[1:-1]     # the brackets our headers put there for kernel-doc
                return text
        raise _Unsupported(f"the length of '{f.spelling}' is not written in the header (a macro declares it)")

    def type_ref(self, t):
        """A member's type: a typedef of the imported headers by name, a tagged type by tag,
        anything else as the scalar it is."""
        volatile = t.is_volatile_qualified()
        while t.kind in (T.ELABORATED, T.TYPEDEF):
            if t.kind == T.ELABORATED:
                t = t.get_named_type()
                continue
            decl = t.get_declaration()
            if self.header_of(decl) and decl.spelling not in SCALAR_TYPEDEFS:
                return m.TypeRef(decl.spelling, volatile)
            t = decl.underlying_typedef_type
        canon = t.get_canonical()
        if canon.kind in (T.RECORD, T.ENUM):
            decl = canon.get_declaration()
            if clang_facts.untagged(decl):
                raise _Unsupported(f"use of the untagged type {t.spelling}")
            return m.TypeRef(decl.spelling, volatile)
        if canon.kind not in _SCALARS:
            raise _Unsupported(f"type {t.spelling} has no spec spelling"
                               " (u8..u64, s8..s64, bool, char, ulong)")
        return m.TypeRef(_SCALARS[canon.kind], volatile)


def _packs_like_type(canon):
    """Is `__packed` on a member of this (untagged record) type the same as on the type?
    Yes when the type has no padding: a struct's fields end to end, a union's size its
    largest field's."""
    if canon.kind != T.RECORD or not clang_facts.untagged(canon.get_declaration()):
        return False
    fields = list(canon.get_fields())
    if any(f.is_bitfield() for f in fields):
        return False
    sizes = [f.type.get_size() for f in fields]
    if canon.get_declaration().kind == K.UNION_DECL:
        return max(sizes, default=0) == canon.get_size()
    ends = [0]
    for f, size in zip(fields, sizes):
        if f.get_field_offsetof() != ends[-1] * 8:
            return False
        ends.append(ends[-1] + size)
    return ends[-1] == canon.get_size()


def _register_shape(rec, fields):
    """True for the register idiom: a union of a raw scalar view (maybe an array) and a
    struct of bitfields of that scalar type covering it exactly from bit 0."""
    raw, bits = rec.members
    raw_field = fields[0]
    if isinstance(raw, m.Record):
        raw, bits = bits, raw
        raw_field = fields[1]
    if not (isinstance(raw, m.Field) and isinstance(bits, m.Record)) or bits.kind != "struct" \
            or bits.count is not None:
        return False
    if raw.count == m.FLEX or raw.type.volatile or raw.type.name not in expr.SCALARS:
        return False
    if bits.aligned or not bits.members:
        return False
    at = 0
    for node in bits.members:
        if not isinstance(node, m.Bitfield) or node.type != raw.type.name or node.lo != at:
            return False
        at = node.hi + 1
    return at == 8 * raw_field.type.get_size()
