"""Layout facts (docs/facts-format.md) of C headers, read with libclang.

All headers go into one in-memory translation unit. Records, enums and
enumerators come from the AST; object-like macros are valued by appending a
probe declaration per macro and letting clang constant-fold its initializer
(macro_probes.py), in the same parse when the macros' names can be guessed.
libclang is called through the lean ctypes binding of libclang.py (clang.cindex
only for the importer's parse_headers), which keeps `hvabi diff` of header sets fast.

CLI:  python3 -m hvabi.extract.clang_facts --arch x86_64 -I DIR -D N=V \
          --prelude FILE --only DIR HEADER... > facts.json
"""

import _thread
import argparse
import os
import sys

from hvabi import facts as hvfacts

from ..arches import ARCHES
from . import decl_reuse
from . import libclang as cx
from . import macro_probes as mp

LIBCLANG = cx.PATH
TRIPLES = {a.name: a.triple for a in ARCHES.values()}
TU_NAME = "__hvabi_tu__.c"
ERRORS_SHOWN = 5

_RECORD_KINDS = {cx.STRUCT_DECL: "struct", cx.UNION_DECL: "union"}
# Declarations whose children may hold further (nested) tag definitions.
_NESTING_KINDS = {cx.STRUCT_DECL, cx.UNION_DECL, cx.TYPEDEF_DECL}
_DECL_KINDS = {cx.STRUCT_DECL, cx.UNION_DECL, cx.ENUM_DECL, cx.TYPEDEF_DECL}
# Cursors of the preprocessing record that hold no facts (macro definitions do).
_PREPROCESSING = {cx.MACRO_INSTANTIATION, cx.INCLUSION_DIRECTIVE}
_SIGNED = {cx.SCHAR, cx.SHORT, cx.INT, cx.LONG, cx.LONGLONG, cx.INT128}
_UNSIGNED = {cx.UCHAR, cx.USHORT, cx.UINT, cx.ULONG, cx.ULONGLONG, cx.UINT128, cx.BOOL}
_CHAR = {cx.CHAR_S, cx.CHAR_U}
_ARRAYS = {cx.CONSTANT_ARRAY, cx.INCOMPLETE_ARRAY}
# Enumerator types read with clang_getEnumConstantDeclUnsignedValue (as clang.cindex does).
_UNSIGNED_ENUM = {cx.CHAR_U, cx.UCHAR, cx.CHAR16, cx.CHAR32, cx.USHORT, cx.UINT, cx.ULONG,
                  cx.ULONGLONG, cx.UINT128}


class ExtractError(Exception):
    """The headers did not compile cleanly: no facts are returned."""


def extract(headers, arch, include_dirs=(), defines=(), extra_args=(),
            prelude=None, only_files=None):
    """Facts for `headers` (paths) compiled for `arch` (x86_64 or arm64).

    Only declarations located in `only_files` (files or directories; by
    default the directories of `headers`) are reported. If parse_ahead() was called
    with the same arguments, the unit it parsed is used.
    """
    first = _ahead.pop(_job_key(headers, arch, include_dirs, defines, extra_args, prelude),
                       None)
    if first is None:
        first = _FirstParse(headers, arch, include_dirs, defines, extra_args, prelude)
    index, tu = first.result()
    scope = Scope(only_files if only_files is not None
                  else {os.path.dirname(os.path.abspath(h)) for h in headers})
    source = "libclang: " + " ".join(map(str, headers))
    lib = cx.lib()
    text, args, block = first.text, first.args, first.block
    try:
        # One parse for the headers and the probes of the macros they likely define; a
        # wrong guess, or errors outside the probes, and the headers are read alone.
        try:
            diagnostics = cx.diagnostics(lib, tu)
            failed, stray = block.outcome(diagnostics, TU_NAME)
            if not stray:
                parsed = Parsed(arch, None, None, text, args, handle=tu, raw_index=index)
                return facts_of(parsed, scope, source, (block, failed, diagnostics))
        finally:
            lib.disposeTranslationUnit(tu)
        tu = _parse(lib, index, text, args, cx.PARSE_DETAILED_PROCESSING_RECORD)
        try:
            _raise_on_errors(_errors(cx.diagnostics(lib, tu)), "headers do not compile")
            parsed = Parsed(arch, None, None, text, args, handle=tu, raw_index=index)
            return facts_of(parsed, scope, source)
        finally:
            lib.disposeTranslationUnit(tu)
    finally:
        lib.disposeIndex(index)


# --- parsing ahead -------------------------------------------------------------------
# A history scan reads one header set after another. While the facts of one are read
# (Python, one core), the next is parsed on a second thread: ctypes calls libclang
# without holding the GIL, so the parse runs alongside. The thread only loads the
# library and parses (libclang.expansion's shared out-parameters stay on the caller's
# thread). _thread, not threading: importing threading costs ~2.5 ms.

_ahead = {}         # _job_key -> _FirstParse started ahead, until extract() takes it


def parse_ahead(headers, arch, include_dirs=(), defines=(), extra_args=(), prelude=None):
    """Start the first parse of extract() with these arguments on a thread, after the
    parses started ahead before it (one at a time: they share one spare core)."""
    key = _job_key(headers, arch, include_dirs, defines, extra_args, prelude)
    if key not in _ahead:
        _ahead[key] = _FirstParse(headers, arch, include_dirs, defines, extra_args, prelude)
        _ahead[key].start()


def drop_ahead():
    """Wait for the parses started ahead that extract() did not take, and free them."""
    while _ahead:
        try:
            index, tu = _ahead.popitem()[1].result()
        except ExtractError:
            continue
        lib = cx.lib()
        lib.disposeTranslationUnit(tu)
        lib.disposeIndex(index)


def _job_key(headers, arch, include_dirs, defines, extra_args, prelude):
    return (tuple(map(str, headers)), arch, tuple(map(str, include_dirs)), tuple(defines),
            tuple(extra_args), prelude)


class _FirstParse:
    """The first parse of extract(): the headers and the probes of the macros they
    likely define. Run when its result is asked for, or started ahead on a thread."""

    _last = None        # the parse started ahead most recently: the next one waits for it

    def __init__(self, headers, arch, include_dirs, defines, extra_args, prelude):
        self.text, self.args = _tu_source(headers, arch, include_dirs, defines, extra_args,
                                          prelude)
        self.block = mp.Block(self.text, mp.guess(headers), guarded=True)
        self._done = None     # a lock held until a started parse has finished
        self._outcome = None

    def start(self):
        self._done = _thread.allocate_lock()
        self._done.acquire()
        before, _FirstParse._last = _FirstParse._last, self
        _thread.start_new_thread(self._run_after, (before,))

    def result(self):
        """(CXIndex, CXTranslationUnit), which the caller disposes of; raises
        ExtractError if libclang could not parse."""
        if self._done is None:
            self._outcome = self._run()
        else:
            self._wait()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def _wait(self):
        with self._done:
            pass

    def _run_after(self, before):
        try:
            if before is not None:
                before._wait()
            self._outcome = self._run()
        except BaseException as e:    # handed to the thread that asks for the result
            self._outcome = e
        finally:
            self._done.release()

    def _run(self):
        lib = cx.lib()
        index = lib.createIndex(0, 0)
        try:
            return index, _parse(lib, index, self.text + self.block.text, self.args,
                                 cx.PARSE_DETAILED_PROCESSING_RECORD)
        except BaseException:
            lib.disposeIndex(index)
            raise


class Parsed:
    """One translation unit holding a header set, plus what it took to build it (the
    macro probes re-parse the same text with the same arguments). `tu` and `index` are
    clang.cindex objects when parse_headers made it (for the importer), else None;
    `handle` is the CXTranslationUnit either way."""

    def __init__(self, arch, index, tu, text, args, handle=None, raw_index=None):
        self.arch, self.index, self.tu, self.text, self.args = arch, index, tu, text, args
        self.handle = handle if handle is not None else tu.obj
        self.raw_index = raw_index if raw_index is not None else (index.obj if index else None)


def parse_headers(headers, arch, include_dirs=(), defines=(), extra_args=(), prelude=None):
    """`headers` (paths, included in this order) compiled for `arch` (x86_64 or arm64),
    as a clang.cindex translation unit. Raises ExtractError if they do not compile
    cleanly."""
    import clang.cindex as ci   # only the importer walks cindex cursors
    text, args = _tu_source(headers, arch, include_dirs, defines, extra_args, prelude)
    if not ci.Config.loaded and ci.Config.library_file is None:
        ci.Config.set_library_file(LIBCLANG)
    index = ci.Index.create()
    tu = index.parse(TU_NAME, args=args, unsaved_files=[(TU_NAME, text)],
                     options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    _raise_on_errors(_errors(cx.diagnostics(cx.lib(), tu.obj)), "headers do not compile")
    return Parsed(arch, index, tu, text, args)


def _tu_source(headers, arch, include_dirs, defines, extra_args, prelude):
    """(text, compiler arguments) of the translation unit including `headers`."""
    if arch not in TRIPLES:
        raise ValueError(f"unknown arch {arch!r}; expected one of {sorted(TRIPLES)}")
    args = [f"--target={TRIPLES[arch]}", "-std=gnu11", "-ferror-limit=0"]
    args += [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines]
    args += list(extra_args)
    text = (prelude.rstrip("\n") + "\n" if prelude else "") + "".join(
        f'#include "{os.path.abspath(h)}"\n' for h in headers)
    return text, args


def facts_of(parsed, scope, source, probed=None):
    """Facts of the declarations and integer macros of `parsed` that lie in `scope`.
    `probed`: (macro_probes.Block, indexes of its failed probes, diagnostics) if the
    unit holds probes after the headers (extract())."""
    lib = cx.lib()
    tu = parsed.handle
    reader = _Reader(lib, tu)
    result = hvfacts.new_facts(parsed.arch, source)
    # With probes, the unit's main file holds them from byte `start` on; they are set
    # aside (libclang lists a file's macro expansions apart from its declarations, so
    # they are found by place, not by their rank among the unit's children).
    main = lib.getFile(tu, TU_NAME.encode()) if probed else None
    start = probed[0].start if probed else None
    macros, decls, block_cursors = [], [], []
    for c in cx.children(lib, lib.getTranslationUnitCursor(tu)):
        kind = c.kind
        if kind in _PREPROCESSING:
            continue              # nothing else holds facts; skip the location lookup
        file, _, offset = cx.expansion(lib, lib.getCursorLocation(c))
        if main and file == main and offset >= start:
            block_cursors.append(c)
        elif not reader.in_scope(file, scope):
            continue
        elif kind == cx.MACRO_DEFINITION:
            macros.append(_macro(lib, c, file, offset))
        else:
            decls.append((c, file))
    # Declarations are read through decl_reuse, which replays those seen before (in
    # this process) and keys the rest; the others in scope are keyed for the names
    # they define.
    unit = decl_reuse.Unit(lib, tu, parsed.text, parsed.args,
                           lambda f: reader.in_scope(f, scope))
    unit.add_macros(macros)
    for c, file in decls:
        unit.collect(c, file, result, reader.collect_decl if c.kind in _DECL_KINDS else _nothing)
    names = reader.probe_candidates(macros)
    values = None
    if probed and set(names) <= set(probed[0].names):
        # The probes were parsed with the headers, guessed names with them: what each
        # gave holds if it depended on that probe alone (macro_probes.Block.independent).
        block, failed, diagnostics = probed
        decls = block.independent(lib, tu, TU_NAME, diagnostics, block_cursors,
                                  _sources(lib, tu, parsed.args))
        if decls is not None:
            found = block.values(lib, decls, failed, set(names))
            values = {name: found[name] for name in names if name in found}
    if values is None:
        values = _macro_values(lib, parsed, names)
    result["macros"] = values
    return result


def _macro(lib, c, file, offset):
    """What the macro readers need of a macro definition: (cursor, CXFile, offset of its
    name, its name, the offset where its definition ends)."""
    return c, file, offset, cx.text(lib, lib.getCursorSpelling(c)), cx.extent_end(lib, c)


def _nothing(_cursor, _result):
    """A declaration without facts (a variable or a function)."""


def integer_macros(parsed, macro_cursors):
    """{name: value} of the object-like macros among `macro_cursors` (clang.cindex
    cursors) whose body is an integer constant expression."""
    reader = _Reader(cx.lib(), parsed.handle)
    macros = []
    for c in macro_cursors:
        raw = cx.Cursor.from_buffer_copy(c)
        file, _, offset = cx.expansion(reader.lib, reader.lib.getCursorLocation(raw))
        macros.append(_macro(reader.lib, raw, file, offset))
    return _macro_values(reader.lib, parsed, reader.probe_candidates(macros))


def _macro_values(lib, parsed, names):
    """{name: value} of the macros in `names` that are integer constants (probe passes)."""
    index = parsed.raw_index or lib.createIndex(0, 0)
    try:
        return mp.passes(lib, index, parsed.text, parsed.args, names, TU_NAME,
                         lambda tu: _sources(lib, tu, parsed.args))
    except mp.ProbeError as e:
        _raise_on_errors(e.diagnostics, e.what)
        raise ExtractError(e.what) from None
    finally:
        if index != parsed.raw_index:
            lib.disposeIndex(index)


def _sources(lib, tu, args):
    """The bytes of every file the unit read, and of its compiler arguments."""
    return [cx.file_contents(lib, tu, f) for f in cx.included_files(lib, tu)] + \
        ["\0".join(args).encode()]


class Scope:
    """Which source files count as 'ours' (symlinks resolved)."""

    def __init__(self, paths):
        real = [os.path.realpath(p) for p in paths]
        self._dirs = tuple(p.rstrip(os.sep) + os.sep for p in real if os.path.isdir(p))
        self._files = {p for p in real if not os.path.isdir(p)}
        self._cache = {}

    def contains(self, name):
        """Whether the file named `name` (None: no file, e.g. a built-in) is ours."""
        if name is None:
            return False
        if name not in self._cache:
            real = os.path.realpath(name)
            self._cache[name] = real in self._files or real.startswith(self._dirs)
        return self._cache[name]


def _parse(lib, index, text, args, options):
    tu = cx.parse(lib, index, TU_NAME, text, args, options)
    if not tu:
        raise ExtractError("libclang could not parse the translation unit")
    return tu


def _errors(diagnostics):
    return [d for d in diagnostics if d[0] >= cx.ERROR]


def _raise_on_errors(errors, what):
    if not errors:
        return
    lines = [f"{file or '?'}:{line}: {spelling}" for _, file, line, spelling, _ in errors[:ERRORS_SHOWN]]
    more = len(errors) - ERRORS_SHOWN
    if more > 0:
        lines.append(f"... and {more} more")
    raise ExtractError(f"{what}:\n  " + "\n  ".join(lines))


def untagged(decl):
    """Whether a (clang.cindex) record or enum declaration has no tag."""
    return _untagged(decl.spelling)


def _untagged(spelling):
    # libclang 14 spells untagged records ''; newer ones "(unnamed struct at ...)".
    return not spelling or "(" in spelling


class _Reader:
    """Reads one translation unit: cursors in, facts out. Per-unit caches of what files
    are in scope and what each type is (types are keyed by clang's pointer, which is
    only meaningful within one unit)."""

    def __init__(self, lib, tu):
        self.lib, self.tu = lib, tu
        self._files = {}          # CXFile -> (in scope?, name)
        self._types = {}          # (kind, QualType) -> _TypeInfo
        self._contents = {}       # CXFile -> bytes

    def in_scope(self, file, scope):
        if file not in self._files:
            name = cx.file_name(self.lib, file) if file else None
            self._files[file] = scope.contains(name)
        return self._files[file]

    # -- records and enums -------------------------------------------------------

    def collect_decl(self, c, result):
        lib, kind = self.lib, c.kind
        if kind in _RECORD_KINDS:
            if lib.isCursorDefinition(c):
                name = cx.text(lib, lib.getCursorSpelling(c))
                records = result["records"]
                # a typedef'd definition is visited twice
                if not _untagged(name) and name not in records:
                    records[name] = self.record(c, kind)
        elif kind == cx.ENUM_DECL and lib.isCursorDefinition(c):
            self.collect_enum(c, result)
        if kind in _NESTING_KINDS:
            for child in cx.children(lib, c):
                if child.kind in _DECL_KINDS:
                    self.collect_decl(child, result)

    def record(self, c, kind):
        lib = self.lib
        t = lib.getCursorType(c)
        return {
            "kind": _RECORD_KINDS[kind],
            "size": lib.Type_getSizeOf(t),
            "align": lib.Type_getAlignOf(t),
            "members": self.members(t, 0, "", []),
        }

    def members(self, record_type, base, prefix, out):
        """Flattened named members; anonymous/untagged record members are descended."""
        lib, type_info, text = self.lib, self.type_info, cx.text
        offset_of, type_of, width_of, spelling = (
            lib.Cursor_getOffsetOfField, lib.getCursorType, lib.getFieldDeclBitWidth,
            lib.getCursorSpelling)
        # Type_visitFields also yields the implicit unnamed field clang creates for
        # an anonymous struct/union member, which the cursor children do not.
        for f in cx.fields(lib, record_type):
            offset = base + offset_of(f)
            info = type_info(type_of(f))
            # -1: not a bitfield (only integer and enum fields can be one)
            width = width_of(f) if info.integral else -1
            name = text(lib, spelling(f))
            if name:
                path = prefix + name
                if width >= 0:
                    out.append({"path": path, "offset": offset, "type": info.name,
                                "bits": width, "bitfield": True})
                else:
                    out.append({"path": path, "offset": offset, "type": info.name,
                                "bits": info.bits})
                if info.nested:
                    self.members(info.canonical, offset, path + ".", out)
            elif info.nested and width < 0:
                self.members(info.canonical, offset, prefix, out)
            # else: an unnamed padding bitfield.
        return out

    def collect_enum(self, c, result):
        lib = self.lib
        name = cx.text(lib, lib.getCursorSpelling(c))
        if not _untagged(name):
            result["enums"][name] = {"size": lib.Type_getSizeOf(lib.getCursorType(c))}
        enumerators = result["enumerators"]
        for e in cx.children(lib, c):
            if e.kind == cx.ENUM_CONSTANT_DECL:
                enumerators[cx.text(lib, lib.getCursorSpelling(e))] = self.enum_value(e)

    def enum_value(self, e):
        # As clang.cindex's Cursor.enum_value: unsigned if the enumerator's type (or
        # an enum type's integer type) is an unsigned kind, not looking through typedefs.
        lib = self.lib
        t = lib.getCursorType(e)
        if t.kind == cx.ENUM:
            t = lib.getEnumDeclIntegerType(lib.getTypeDeclaration(t))
        if t.kind in _UNSIGNED_ENUM:
            return lib.getEnumConstantDeclUnsignedValue(e)
        return lib.getEnumConstantDeclValue(e)

    def type_info(self, t):
        key = (t.kind, t.data[0])
        try:
            return self._types[key]
        except KeyError:
            info = self._types[key] = _TypeInfo(self, self.lib.getCanonicalType(t))
            return info

    def type_name(self, t):
        """Normalised name of a canonical type, as docs/facts-format.md defines it."""
        lib = self.lib
        dims = ""
        while t.kind in _ARRAYS:
            dims += f"[{lib.getNumElements(t)}]" if t.kind == cx.CONSTANT_ARRAY else "[]"
            t = lib.getCanonicalType(lib.getElementType(t))
        return self.scalar_name(t) + dims

    def scalar_name(self, t):
        lib, kind = self.lib, t.kind
        if kind == cx.BOOL:
            return "bool"
        if kind in _CHAR:
            return "char"
        if kind in _SIGNED:
            return f"s{8 * lib.Type_getSizeOf(t)}"
        if kind in _UNSIGNED:
            return f"u{8 * lib.Type_getSizeOf(t)}"
        if kind in (cx.RECORD, cx.ENUM):
            decl = lib.getTypeDeclaration(t)
            word = "enum" if kind == cx.ENUM else _RECORD_KINDS[decl.kind]
            name = cx.text(lib, lib.getCursorSpelling(decl))
            return word if _untagged(name) else f"{word} {name}"
        if kind == cx.POINTER_TYPE:
            return self.type_name(lib.getCanonicalType(lib.getPointeeType(t))) + "*"
        # float, double, void, function types: rare in ABI headers
        return cx.text(lib, lib.getTypeSpelling(t))

    # -- macros --------------------------------------------------------------------

    def probe_candidates(self, macros):
        """Names of object-like, non-empty macros worth a probe (in order, unique), from
        _macro() tuples. A body of plain characters is judged from the file's bytes; one
        with a comment, literal or line continuation from libclang's tokens (the slower
        way, with the same outcome)."""
        lib, names = self.lib, {}
        for c, file, start, name, end in macros:
            if name in names:
                continue
            spelled = name.encode()
            text = self.contents(file)
            body = text[start + len(spelled):end]
            if text[start:start + len(spelled)] == spelled and mp.is_plain(body):
                ok = mp.plain_ok(body)
            else:
                ok = mp.tokens_ok(cx.tokens(lib, self.tu, c))
            if ok:
                names[name] = None
        return list(names)

    def contents(self, file):
        if file not in self._contents:
            self._contents[file] = cx.file_contents(self.lib, self.tu, file)
        return self._contents[file]


class _TypeInfo:
    """What a member needs of its type: the canonical type, its normalised name, its
    size in bits (0 for a flexible array), whether it is an untagged record, and
    whether it is an integer or enum type (the only ones a bitfield can have)."""
    __slots__ = ("canonical", "name", "bits", "nested", "integral")

    def __init__(self, reader, canonical):
        lib = reader.lib
        self.canonical = canonical
        self.name = reader.type_name(canonical)
        kind = canonical.kind
        self.bits = 0 if kind == cx.INCOMPLETE_ARRAY else 8 * lib.Type_getSizeOf(canonical)
        self.nested = kind == cx.RECORD and _untagged(
            cx.text(lib, lib.getCursorSpelling(lib.getTypeDeclaration(canonical))))
        self.integral = kind in _SIGNED or kind in _UNSIGNED or kind in _CHAR or kind == cx.ENUM


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
