"""Integer values of object-like macros, by probing.

A probe is a declaration appended to the translation unit of the headers,

    static const __typeof__((NAME)) __hvabi_m_NAME = NAME;

whose initializer clang constant-folds. A probe with a diagnostic (warnings count: a
warned-about value such as an oversized shift is not trustworthy) fails, and its macro
has no integer value; __typeof__ keeps the expression's own type, so its signedness and
width decide how the folded value reads (((u32)-2) -> 4294967294), and the bare
initializer rejects a top-level comma (`1, 2` is no constant).

The probes of one unit are parsed together, in passes: each pass drops the probes that
failed, until one has no failure. A pass after one with failures can only come out
differently if a failed probe affected the others; when the unit shows that none did
(Block.independent), it is not needed. For the same reason, the probes can go into the
headers' own parse (extract() in clang_facts) when their names are guessed right.
"""

import bisect
import re

from . import libclang as cx

PROBE_PREFIX = "__hvabi_m_"
MAX_PROBE_PASSES = 4
# Clean declarations around the probes: a header that ends inside a declaration shows
# at the first, error recovery running off the last probe at the second.
_BEGIN_NAME, _END_NAME = "__hvabi_begin", "__hvabi_end"
_BEGIN = f"static const int {_BEGIN_NAME} = 0;\n"
_END = f"static const int {_END_NAME} = 0;\n"
# What makes a probe's outcome depend on where it is or on what went before it: pragmas
# and the position and counter macros (searched for in every source of the unit).
STATEFUL = (b"_Pragma", b"__pragma", b"__LINE__", b"__COUNTER__")

# Tokens that cannot occur in an integer constant expression.
_UNPROBEABLE_TOKENS = {"{", "}", ";", "#", "##"}
_OPENERS, _CLOSERS = {"(", "["}, {")", "]"}
_UNPROBEABLE_BYTES = frozenset(b"{};#")
_OPENER_BYTES, _CLOSER_BYTES = frozenset(b"(["), frozenset(b")]")
# A macro body without these characters (nor "??") has no comment, literal, line
# continuation or trigraph, so its characters are its tokens' spellings.
_NOT_PLAIN = frozenset(b"\"'/\\")

_EVAL_SIGNED = {cx.SCHAR, cx.SHORT, cx.INT, cx.LONG, cx.LONGLONG, cx.INT128}
_EVAL_UNSIGNED = {cx.UCHAR, cx.USHORT, cx.UINT, cx.ULONG, cx.ULONGLONG, cx.UINT128, cx.BOOL}


class ProbeError(Exception):
    """The probes broke the translation unit (`diagnostics`: the errors), or kept failing."""

    def __init__(self, what, diagnostics):
        super().__init__(what)
        self.what, self.diagnostics = what, diagnostics


# --- which macros get a probe -------------------------------------------------------------

def is_plain(body):
    """Whether the probe test can read `body` (a definition's bytes after the name)
    byte by byte instead of token by token."""
    return _NOT_PLAIN.isdisjoint(body) and b"??" not in body


def plain_ok(body):
    """The probe test on a plain body: non-empty, not function-like (`(` glued to the
    name), and nothing that could derail the parsing of the probes after it."""
    if not body.strip() or body[:1] == b"(":
        return False
    if _UNPROBEABLE_BYTES.intersection(body):
        return False
    depth = 0
    for ch in body:
        if ch in _OPENER_BYTES:
            depth += 1
        elif ch in _CLOSER_BYTES:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def tokens_ok(tokens):
    """The probe test on libclang's [(spelling, start, end)] tokens of a definition
    (name first, comments included)."""
    if len(tokens) < 2:
        return False
    # `#define F(x)` has '(' glued to the name; `#define V (x)` does not.
    if tokens[1][0] == "(" and tokens[1][1] == tokens[0][2]:
        return False
    depth = 0
    for spelling, _, _ in tokens[1:]:
        if spelling in _UNPROBEABLE_TOKENS:
            return False
        depth += (spelling in _OPENERS) - (spelling in _CLOSERS)
        if depth < 0:
            return False
    return depth == 0


# Not anchored at line starts (re.M makes the search ~8x slower): a guess may hold more.
_DEFINE = re.compile(rb"#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)([^\n]*)")
_COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)


def guess(paths):
    """Names the probe test would likely pass, from the #define lines of the files at
    `paths` (all of them, whatever #if they are under): a guess, which the caller
    checks against the definitions the compiler saw."""
    names = {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue
        if b"/" in data:
            data = _COMMENT.sub(b" ", data)
        for m in _DEFINE.finditer(data.replace(b"\\\n", b" ")):
            body = m.group(2)       # comments are gone, so `/` is division here
            if b'"' not in body and b"'" not in body and plain_ok(body):
                names[m.group(1).decode()] = None
    return list(names)


# --- probing ------------------------------------------------------------------------------

class Block:
    """The probes for `names` as appended to a unit whose text is `text`; `guarded`: with
    a clean declaration before and after them (for probes in the headers' own parse)."""

    def __init__(self, text, names, guarded=False):
        self.names = list(names)
        self.guarded = guarded
        lines = [_probe(name) for name in self.names]
        self.labels = [PROBE_PREFIX + name for name in self.names]
        if guarded:
            lines = [_BEGIN, *lines, _END]
            self.labels = [_BEGIN_NAME, *self.labels, _END_NAME]
        self.text = "".join(lines)
        # the line of the first probe; expansion locations put a probe's diagnostics there
        self.first_line = text.count("\n") + 1 + guarded
        self.offsets = []                             # byte offset of each line, and the end
        offset = len(text.encode())
        for line in lines:
            self.offsets.append(offset)
            offset += len(line.encode())
        self.offsets.append(offset)

    @property
    def start(self):
        return self.offsets[0]

    def outcome(self, diagnostics, tu_name):
        """(indexes into names of the probes that failed, errors outside the probes)."""
        failed, stray = set(), []
        for d in diagnostics:
            severity, file, line = d[0], d[1], d[2]
            if severity < cx.WARNING:
                continue
            index = line - self.first_line
            if file == tu_name and 0 <= index < len(self.names):
                failed.add(index)
            elif severity >= cx.ERROR:
                stray.append(d)
        return failed, stray

    def declarations(self, lib, cursors):
        """{name: the probe's declaration} of every probe that has one, among the unit's
        top-level `cursors` in the block."""
        decls = {}
        for c in cursors:
            if c.kind == cx.VAR_DECL:
                name = cx.text(lib, lib.getCursorSpelling(c))
                if name.startswith(PROBE_PREFIX):
                    decls[name[len(PROBE_PREFIX):]] = c
        return decls

    def independent(self, lib, tu, tu_name, diagnostics, cursors, sources):
        """{name: declaration} if each probe's outcome depended on that probe alone (and
        the headers), else None. `cursors` are the unit's top-level cursors in the block,
        `sources` the bytes of every file of the unit.

        It did if each probe, failed or not, and each clean declaration is a declaration
        of its own spanning its own line from its start (error recovery after a probe
        did not run into the next), the probes declared nothing else (a tag mentioned or
        defined in a cast, a function called without a declaration), and no source holds
        one of STATEFUL. Then a pass without some of the probes gives the others the same
        outcome, whatever their order."""
        if any(any(word in data for word in STATEFUL) for data in sources):
            return None
        for d in diagnostics:
            if d[1] == tu_name and d[2] >= self.first_line and d[4].startswith("-Wimplicit"):
                return None
        main = lib.getFile(tu, tu_name.encode())
        expected = self.labels
        first_probe = 1 if self.guarded else 0
        seen = set()
        decls = {}
        for c in cursors:
            extent = lib.getCursorExtent(c)
            file, _, first = cx.expansion(lib, lib.getRangeStart(extent))
            last = cx.expansion(lib, lib.getRangeEnd(extent))[2]
            line = _line(self.offsets, first)
            if c.kind != cx.VAR_DECL or file != main or line is None or line in seen \
                    or not first < last < self.offsets[line + 1] \
                    or cx.text(lib, lib.getCursorSpelling(c)) != expected[line]:
                return None
            seen.add(line)
            if 0 <= line - first_probe < len(self.names):
                decls[self.names[line - first_probe]] = c
        return decls if len(seen) == len(expected) else None

    def values(self, lib, decls, skip=(), only=None):
        """{name: value} of the probes not in `skip` (indexes), and in `only` if given, with
        an integer value."""
        values = {}
        for i, name in enumerate(self.names):
            c = decls.get(name)
            if i not in skip and c is not None and (only is None or name in only):
                value = evaluate(lib, c)
                if value is not None:
                    values[name] = value
        return values


def passes(lib, index, text, args, names, tu_name, sources):
    """{name: value} of the macros in `names` that are integer constants, probed in
    passes appended to `text` (which compiles cleanly); `sources(tu)` gives the bytes of
    every file of a unit (Block.independent)."""
    for _ in range(MAX_PROBE_PASSES):
        block = Block(text, names)
        # No detailed preprocessing record: only the probe declarations are read back.
        tu = cx.parse(lib, index, tu_name, text + block.text, args, 0)
        if not tu:
            raise ProbeError("libclang could not parse the macro probes", [])
        try:
            diagnostics = cx.diagnostics(lib, tu)
            failed, stray = block.outcome(diagnostics, tu_name)
            if stray:
                raise ProbeError("macro probes broke the translation unit", stray)
            cursors = block_cursors(lib, tu, tu_name, block.start)
            if not failed:
                return block.values(lib, block.declarations(lib, cursors))
            decls = block.independent(lib, tu, tu_name, diagnostics, cursors, sources(tu))
            if decls is not None:
                return block.values(lib, decls, failed)
        finally:
            lib.disposeTranslationUnit(tu)
        names = [n for i, n in enumerate(names) if i not in failed]
    raise ProbeError(f"macro probes still fail after {MAX_PROBE_PASSES} passes", [])


def block_cursors(lib, tu, tu_name, start):
    """The unit's top-level cursors in its main file from byte `start` on, for a unit
    parsed without the detailed preprocessing record (whose children are declarations,
    in source order): the probes are the unit's last text, so these come last."""
    children = cx.children(lib, lib.getTranslationUnitCursor(tu))
    main = lib.getFile(tu, tu_name.encode())
    n = len(children)
    while n:
        location = lib.getCursorLocation(children[n - 1])
        if cx.expansion_file(lib, location) != main or cx.expansion(lib, location)[2] < start:
            break
        n -= 1
    return children[n:]


def _probe(name):
    return f"static const __typeof__(({name})) {PROBE_PREFIX}{name} = {name};\n"


def _line(offsets, offset):
    """The line of the block that starts at byte `offset`, or None."""
    i = bisect.bisect_left(offsets, offset)
    return i if i < len(offsets) - 1 and offsets[i] == offset else None


def evaluate(lib, var):
    """The C value of an integer-typed probe's initializer, else None."""
    var_type = lib.getCursorType(var)
    signed = _integer_signedness(lib, lib.getCanonicalType(var_type))
    if signed is None:
        return None
    result = lib.Cursor_Evaluate(var)
    if not result:
        return None
    try:
        if lib.EvalResult_getKind(result) != cx.EVAL_INT:
            return None
        if lib.EvalResult_isUnsignedInt(result):
            raw = lib.EvalResult_getAsUnsigned(result)
        else:
            raw = lib.EvalResult_getAsLongLong(result)
    finally:
        lib.EvalResult_dispose(result)
    # libclang hands back 64 bits; read them at the probe type's width and
    # signedness, which is what the C expression means.
    bits = 8 * lib.Type_getSizeOf(var_type)
    raw &= (1 << bits) - 1
    return raw - (1 << bits) if signed and raw >> (bits - 1) else raw


def _integer_signedness(lib, t):
    """True/False for integer types up to 64 bits (libclang returns at most
    64 value bits), None for anything else."""
    if t.kind == cx.ENUM:
        t = lib.getCanonicalType(lib.getEnumDeclIntegerType(lib.getTypeDeclaration(t)))
    if lib.Type_getSizeOf(t) > 8:
        return None
    if t.kind in _EVAL_SIGNED:
        return True
    if t.kind in _EVAL_UNSIGNED:
        return False
    if t.kind in (cx.CHAR_S, cx.CHAR_U):
        return t.kind == cx.CHAR_S
    return None
