"""Layout facts (docs/facts-format.md) of C headers, read with libclang.

All headers go into one in-memory translation unit. Records, enums and
enumerators come from the AST; object-like macros are valued by appending a
probe declaration per macro and letting clang constant-fold its initializer.

CLI:  python3 -m hvabi.extract.clang_facts --arch x86_64 -I DIR -D N=V \
          --prelude FILE --only DIR HEADER... > facts.json
"""

import argparse
import ctypes
import os
import sys

import clang.cindex as ci

from hvabi import facts as hvfacts

LIBCLANG = "/usr/lib/llvm-14/lib/libclang.so.1"
TRIPLES = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}
TU_NAME = "__hvabi_tu__.c"
PROBE_PREFIX = "__hvabi_m_"
ERRORS_SHOWN = 5
# Each probe pass drops the macros whose probes failed; a further pass finds
# more only if error recovery after one bad probe hid errors in later ones.
MAX_PROBE_PASSES = 4
# Tokens that cannot occur in an integer constant expression.
_UNPROBEABLE_TOKENS = {"{", "}", ";", "#", "##"}
_OPENERS, _CLOSERS = {"(", "["}, {")", "]"}

K = ci.CursorKind
T = ci.TypeKind
_RECORD_KINDS = {K.STRUCT_DECL: "struct", K.UNION_DECL: "union"}
# Declarations whose children may hold further (nested) tag definitions.
_NESTING_KINDS = {K.STRUCT_DECL, K.UNION_DECL, K.TYPEDEF_DECL}
_SIGNED = {T.SCHAR, T.SHORT, T.INT, T.LONG, T.LONGLONG, T.INT128}
_UNSIGNED = {T.UCHAR, T.USHORT, T.UINT, T.ULONG, T.ULONGLONG, T.UINT128, T.BOOL}
_CHAR = {T.CHAR_S, T.CHAR_U}
_ARRAYS = {T.CONSTANTARRAY, T.INCOMPLETEARRAY}

_EVAL_INT = 1  # CXEval_Int
_EVAL_FUNCTIONS = (
    ("clang_Cursor_Evaluate", [ci.Cursor], ctypes.c_void_p),
    ("clang_EvalResult_getKind", [ctypes.c_void_p], ctypes.c_int),
    ("clang_EvalResult_isUnsignedInt", [ctypes.c_void_p], ctypes.c_uint),
    ("clang_EvalResult_getAsUnsigned", [ctypes.c_void_p], ctypes.c_ulonglong),
    ("clang_EvalResult_getAsLongLong", [ctypes.c_void_p], ctypes.c_longlong),
    ("clang_EvalResult_dispose", [ctypes.c_void_p], None),
)


class ExtractError(Exception):
    """The headers did not compile cleanly: no facts are returned."""


def extract(headers, arch, include_dirs=(), defines=(), extra_args=(),
            prelude=None, only_files=None):
    """Facts for `headers` (paths) compiled for `arch` (x86_64 or arm64).

    Only declarations located in `only_files` (files or directories; by
    default the directories of `headers`) are reported.
    """
    parsed = parse_headers(headers, arch, include_dirs, defines, extra_args, prelude)
    scope = Scope(only_files if only_files is not None
                  else {os.path.dirname(os.path.abspath(h)) for h in headers})
    return facts_of(parsed, scope, "libclang: " + " ".join(map(str, headers)))


class Parsed:
    """One translation unit holding a header set, plus what it took to build it (the
    macro probes re-parse the same text with the same arguments)."""

    def __init__(self, arch, index, tu, text, args):
        self.arch, self.index, self.tu, self.text, self.args = arch, index, tu, text, args


def parse_headers(headers, arch, include_dirs=(), defines=(), extra_args=(), prelude=None):
    """`headers` (paths, included in this order) compiled for `arch` (x86_64 or arm64).
    Raises ExtractError if they do not compile cleanly."""
    if arch not in TRIPLES:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(TRIPLES)}")
    _libclang()
    args = [f"--target={TRIPLES[arch]}", "-std=gnu11", "-ferror-limit=0"]
    args += [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines]
    args += list(extra_args)
    text = (prelude.rstrip("\n") + "\n" if prelude else "") + "".join(
        f'#include "{os.path.abspath(h)}"\n' for h in headers)
    index = ci.Index.create()
    tu = _parse(index, text, args)
    _raise_on_errors(_errors(tu.diagnostics), "headers do not compile")
    return Parsed(arch, index, tu, text, args)


def facts_of(parsed, scope, source):
    """Facts of the declarations and integer macros of `parsed` that lie in `scope`."""
    result = hvfacts.new_facts(parsed.arch, source)
    macros = []
    for c in parsed.tu.cursor.get_children():
        if not scope.contains(c.location.file):
            continue
        if c.kind == K.MACRO_DEFINITION:
            macros.append(c)
        else:
            _collect_decl(c, result)
    result["macros"] = integer_macros(parsed, macros)
    return result


def integer_macros(parsed, macro_cursors):
    """{name: value} of the object-like macros among `macro_cursors` whose body is an
    integer constant expression."""
    return _macro_values(_libclang(), parsed.index, parsed.text, parsed.args,
                         _probe_candidates(macro_cursors))


def _libclang():
    """conf.lib with the constant-evaluation API registered (the 14 bindings lack it)."""
    if not ci.Config.loaded and ci.Config.library_file is None:
        ci.Config.set_library_file(LIBCLANG)
    lib = ci.conf.lib
    for name, argtypes, restype in _EVAL_FUNCTIONS:
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = argtypes, restype
    return lib


class Scope:
    """Which source files count as 'ours' (symlinks resolved)."""

    def __init__(self, paths):
        real = [os.path.realpath(p) for p in paths]
        self._dirs = tuple(p.rstrip(os.sep) + os.sep for p in real if os.path.isdir(p))
        self._files = {p for p in real if not os.path.isdir(p)}
        self._cache = {}

    def contains(self, file):
        if file is None:
            return False
        name = file.name
        if name not in self._cache:
            real = os.path.realpath(name)
            self._cache[name] = real in self._files or real.startswith(self._dirs)
        return self._cache[name]


def _parse(index, text, args):
    return index.parse(TU_NAME, args=args, unsaved_files=[(TU_NAME, text)],
                       options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)


def _errors(diagnostics):
    return [d for d in diagnostics if d.severity >= ci.Diagnostic.Error]


def _raise_on_errors(errors, what):
    if not errors:
        return
    lines = [f"{_where(d.location)}: {d.spelling}" for d in errors[:ERRORS_SHOWN]]
    more = len(errors) - ERRORS_SHOWN
    if more > 0:
        lines.append(f"... and {more} more")
    raise ExtractError(f"{what}:\n  " + "\n  ".join(lines))


def _where(loc):
    return f"{loc.file.name if loc.file else '?'}:{loc.line}"


# --- records and enums -------------------------------------------------------

def _collect_decl(c, result):
    if c.kind in _RECORD_KINDS and c.is_definition() and not untagged(c):
        records = result["records"]
        if c.spelling not in records:  # a typedef'd definition is visited twice
            records[c.spelling] = _record(c)
    elif c.kind == K.ENUM_DECL and c.is_definition():
        _collect_enum(c, result)
    if c.kind in _NESTING_KINDS:
        for child in c.get_children():
            _collect_decl(child, result)


def untagged(decl):
    # libclang 14 spells untagged records ''; newer ones "(unnamed struct at ...)".
    return not decl.spelling or "(" in decl.spelling


def _record(c):
    t = c.type
    return {
        "kind": _RECORD_KINDS[c.kind],
        "size": t.get_size(),
        "align": t.get_align(),
        "members": list(_members(t, 0, "")),
    }


def _members(record_type, base, prefix):
    """Flattened named members; anonymous/untagged record members are descended."""
    # Type.get_fields() also yields the implicit unnamed field clang creates for
    # an anonymous struct/union member, which the cursor children do not.
    for f in record_type.get_fields():
        offset = base + f.get_field_offsetof()
        t = f.type.get_canonical()
        nested = t.kind == T.RECORD and untagged(t.get_declaration())
        if f.spelling:
            path = prefix + f.spelling
            yield _member(f, t, offset, path)
            if nested:
                yield from _members(t, offset, path + ".")
        elif nested and not f.is_bitfield():
            yield from _members(t, offset, prefix)
        # else: an unnamed padding bitfield.


def _member(f, t, offset, path):
    m = {"path": path, "offset": offset, "type": type_name(t)}
    if f.is_bitfield():
        m["bits"] = f.get_bitfield_width()
        m["bitfield"] = True
    else:
        m["bits"] = 0 if t.kind == T.INCOMPLETEARRAY else 8 * t.get_size()
    return m


def _collect_enum(c, result):
    if not untagged(c):
        result["enums"][c.spelling] = {"size": c.type.get_size()}
    for e in c.get_children():
        if e.kind == K.ENUM_CONSTANT_DECL:
            result["enumerators"][e.spelling] = e.enum_value


def type_name(t):
    """Normalised name of a clang Type, as docs/facts-format.md defines it."""
    t = t.get_canonical()
    dims = ""
    while t.kind in _ARRAYS:
        dims += f"[{t.element_count}]" if t.kind == T.CONSTANTARRAY else "[]"
        t = t.element_type.get_canonical()
    return _scalar_name(t) + dims


def _scalar_name(t):
    if t.kind == T.BOOL:
        return "bool"
    if t.kind in _CHAR:
        return "char"
    if t.kind in _SIGNED:
        return f"s{8 * t.get_size()}"
    if t.kind in _UNSIGNED:
        return f"u{8 * t.get_size()}"
    if t.kind in (T.RECORD, T.ENUM):
        decl = t.get_declaration()
        word = "enum" if t.kind == T.ENUM else _RECORD_KINDS[decl.kind]
        return word if untagged(decl) else f"{word} {decl.spelling}"
    if t.kind == T.POINTER:
        return type_name(t.get_pointee()) + "*"
    return t.spelling  # float, double, void, function types: rare in ABI headers


# --- macros ------------------------------------------------------------------

def _probe_candidates(macro_cursors):
    """Names of object-like, non-empty macros worth a probe (in order, unique)."""
    names = {}
    for c in macro_cursors:
        tokens = list(c.get_tokens())
        if len(tokens) >= 2 and not _function_like(tokens) and _probeable(tokens[1:]):
            names[c.spelling] = None
    return list(names)


def _function_like(tokens):
    # `#define F(x)` has '(' glued to the name; `#define V (x)` does not.
    return tokens[1].spelling == "(" and \
        tokens[1].extent.start.offset == tokens[0].extent.end.offset


def _probeable(body):
    """False for bodies that cannot be an integer constant and whose probe
    could derail the parsing of the probes after it (e.g. `1)`, `{`)."""
    depth = 0
    for tok in body:
        s = tok.spelling
        if s in _UNPROBEABLE_TOKENS:
            return False
        depth += (s in _OPENERS) - (s in _CLOSERS)
        if depth < 0:
            return False
    return depth == 0


def _macro_values(lib, index, text, args, names):
    """{name: value} of the macros in `names` that are integer constants."""
    first_line = text.count("\n") + 1
    for _ in range(MAX_PROBE_PASSES):
        tu = _parse(index, text + "".join(map(_probe_decl, names)), args)
        failed = _failed_probes(tu, names, first_line)
        if not failed:
            return _probe_values(lib, tu)
        names = [n for i, n in enumerate(names) if i not in failed]
    raise ExtractError(f"macro probes still fail after {MAX_PROBE_PASSES} passes")


def _probe_decl(name):
    # __typeof__ keeps the expression's own type, so its signedness and width
    # decide how the folded value reads (e.g. ((u32)-2) -> 4294967294).
    # The bare initializer rejects a top-level comma (`1, 2` is no constant).
    return f"static const __typeof__(({name})) {PROBE_PREFIX}{name} = {name};\n"


def _failed_probes(tu, names, first_line):
    """Indexes into `names` of probes with a diagnostic (warnings count: a
    warned-about value such as an oversized shift is not trustworthy)."""
    failed, stray = set(), []
    for d in tu.diagnostics:
        if d.severity < ci.Diagnostic.Warning:
            continue
        loc = d.location  # expansion location: the probe line for macro bodies
        index = loc.line - first_line
        if loc.file and loc.file.name == TU_NAME and 0 <= index < len(names):
            failed.add(index)
        elif d.severity >= ci.Diagnostic.Error:
            stray.append(d)
    _raise_on_errors(stray, "macro probes broke the translation unit")
    return failed


def _probe_values(lib, tu):
    values = {}
    for c in tu.cursor.get_children():
        if c.kind == K.VAR_DECL and c.spelling.startswith(PROBE_PREFIX):
            value = _evaluate(lib, c)
            if value is not None:
                values[c.spelling[len(PROBE_PREFIX):]] = value
    return values


def _evaluate(lib, var):
    """The C value of an integer-typed probe's initializer, else None."""
    signed = _integer_signedness(var.type.get_canonical())
    if signed is None:
        return None
    result = lib.clang_Cursor_Evaluate(var)
    if not result:
        return None
    try:
        if lib.clang_EvalResult_getKind(result) != _EVAL_INT:
            return None
        if lib.clang_EvalResult_isUnsignedInt(result):
            raw = lib.clang_EvalResult_getAsUnsigned(result)
        else:
            raw = lib.clang_EvalResult_getAsLongLong(result)
    finally:
        lib.clang_EvalResult_dispose(result)
    # libclang hands back 64 bits; read them at the probe type's width and
    # signedness, which is what the C expression means.
    bits = 8 * var.type.get_size()
    raw &= (1 << bits) - 1
    return raw - (1 << bits) if signed and raw >> (bits - 1) else raw


def _integer_signedness(t):
    """True/False for integer types up to 64 bits (libclang returns at most
    64 value bits), None for anything else."""
    if t.kind == T.ENUM:
        t = t.get_declaration().enum_type.get_canonical()
    if t.get_size() > 8:
        return None
    if t.kind in _SIGNED:
        return True
    if t.kind in _UNSIGNED:
        return False
    if t.kind in _CHAR:
        return t.kind == T.CHAR_S
    return None


# --- CLI ---------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(prog="hvabi.extract.clang_facts", description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(TRIPLES))
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VAL]")
    p.add_argument("--prelude", metavar="FILE", help="text prepended to the translation unit")
    p.add_argument("--only", action="append", metavar="PATH",
                   help="report only declarations in these files/directories (repeatable)")
    p.add_argument("--clang-arg", dest="extra_args", action="append", default=[], metavar="ARG")
    p.add_argument("headers", nargs="+", metavar="HEADER")
    a = p.parse_args(argv)
    prelude = None
    if a.prelude:
        with open(a.prelude, encoding="utf-8") as f:
            prelude = f.read()
    try:
        result = extract(a.headers, a.arch, a.include_dirs, a.defines, a.extra_args,
                         prelude, a.only)
    except ExtractError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(hvfacts.dump(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
