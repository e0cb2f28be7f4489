"""The few libclang functions the facts reader needs, bound with ctypes directly.

clang.cindex wraps every cursor, type and kind in Python objects (each `.kind` goes
through CursorKind.from_id, each string through a checking converter) and takes ~20 ms
to import; reading the facts of one header set through it cost several times the parse.
Here cursors and types are bare ctypes structures and kinds are plain ints, so a caller
pays only for the calls it makes. The importer still uses clang.cindex; both load the
same library, so a translation unit made by one can be read by the other.
"""

import _thread
import ctypes
from ctypes import POINTER, byref, c_char_p, c_int, c_longlong, c_uint, c_ulonglong, c_void_p

PATH = "/usr/lib/llvm-14/lib/libclang.so.1"

# enum CXCursorKind (clang-c/Index.h)
STRUCT_DECL, UNION_DECL, ENUM_DECL, FIELD_DECL, ENUM_CONSTANT_DECL = 2, 3, 5, 6, 7
VAR_DECL, TYPEDEF_DECL = 9, 20
MACRO_DEFINITION, MACRO_INSTANTIATION, INCLUSION_DIRECTIVE = 501, 502, 503

# enum CXTypeKind
(BOOL, CHAR_U, UCHAR, CHAR16, CHAR32, USHORT, UINT, ULONG, ULONGLONG, UINT128,
 CHAR_S, SCHAR, WCHAR, SHORT, INT, LONG, LONGLONG, INT128) = range(3, 21)
POINTER_TYPE, RECORD, ENUM = 101, 105, 106
CONSTANT_ARRAY, INCOMPLETE_ARRAY = 112, 114

# enum CXDiagnosticSeverity
WARNING, ERROR = 2, 3

PARSE_DETAILED_PROCESSING_RECORD = 1
CHILD_VISIT_CONTINUE = 1
EVAL_INT = 1


class Cursor(ctypes.Structure):
    _fields_ = [("kind", c_int), ("xdata", c_int), ("data", c_void_p * 3)]


class Type(ctypes.Structure):
    _fields_ = [("kind", c_int), ("data", c_void_p * 2)]


class SourceLocation(ctypes.Structure):
    _fields_ = [("ptr_data", c_void_p * 2), ("int_data", c_uint)]


class SourceRange(ctypes.Structure):
    _fields_ = [("ptr_data", c_void_p * 2), ("begin_int_data", c_uint), ("end_int_data", c_uint)]


class String(ctypes.Structure):
    _fields_ = [("data", c_void_p), ("private_flags", c_uint)]


class Token(ctypes.Structure):
    _fields_ = [("int_data", c_uint * 4), ("ptr_data", c_void_p)]


class UnsavedFile(ctypes.Structure):
    _fields_ = [("filename", c_char_p), ("contents", c_char_p), ("length", ctypes.c_ulong)]


CURSOR_VISITOR = ctypes.CFUNCTYPE(c_int, Cursor, Cursor, ctypes.py_object)
FIELD_VISITOR = ctypes.CFUNCTYPE(c_int, Cursor, ctypes.py_object)
INCLUSION_VISITOR = ctypes.CFUNCTYPE(None, c_void_p, POINTER(SourceLocation), c_uint,
                                     ctypes.py_object)

_P = c_void_p           # CXIndex, CXTranslationUnit, CXFile, CXDiagnostic, CXEvalResult
_PU = POINTER(c_uint)
_FUNCTIONS = {
    "clang_createIndex": ([c_int, c_int], _P),
    "clang_disposeIndex": ([_P], None),
    "clang_parseTranslationUnit": ([_P, c_char_p, POINTER(c_char_p), c_int,
                                    POINTER(UnsavedFile), c_uint, c_uint], _P),
    "clang_disposeTranslationUnit": ([_P], None),
    "clang_getTranslationUnitCursor": ([_P], Cursor),
    "clang_visitChildren": ([Cursor, CURSOR_VISITOR, ctypes.py_object], c_uint),
    "clang_getCursorSpelling": ([Cursor], String),
    "clang_getCString": ([String], c_char_p),
    "clang_disposeString": ([String], None),
    "clang_getCursorLocation": ([Cursor], SourceLocation),
    "clang_getCursorExtent": ([Cursor], SourceRange),
    "clang_getRangeStart": ([SourceRange], SourceLocation),
    "clang_getRangeEnd": ([SourceRange], SourceLocation),
    "clang_getExpansionLocation": ([SourceLocation, POINTER(_P), _PU, _PU, _PU], None),
    "clang_getFileName": ([_P], String),
    "clang_getFile": ([_P, c_char_p], _P),
    "clang_getFileContents": ([_P, _P, POINTER(ctypes.c_size_t)], _P),
    "clang_isCursorDefinition": ([Cursor], c_uint),
    "clang_getCursorType": ([Cursor], Type),
    "clang_getCanonicalType": ([Type], Type),
    "clang_getTypeDeclaration": ([Type], Cursor),
    "clang_getTypeSpelling": ([Type], String),
    "clang_Type_getSizeOf": ([Type], c_longlong),
    "clang_Type_getAlignOf": ([Type], c_longlong),
    "clang_Type_visitFields": ([Type, FIELD_VISITOR, ctypes.py_object], c_uint),
    "clang_Cursor_getOffsetOfField": ([Cursor], c_longlong),
    "clang_getFieldDeclBitWidth": ([Cursor], c_int),
    "clang_getNumElements": ([Type], c_longlong),
    "clang_getElementType": ([Type], Type),
    "clang_getPointeeType": ([Type], Type),
    "clang_getEnumDeclIntegerType": ([Cursor], Type),
    "clang_getEnumConstantDeclValue": ([Cursor], c_longlong),
    "clang_getEnumConstantDeclUnsignedValue": ([Cursor], c_ulonglong),
    "clang_getNumDiagnostics": ([_P], c_uint),
    "clang_getDiagnostic": ([_P, c_uint], _P),
    "clang_disposeDiagnostic": ([_P], None),
    "clang_getDiagnosticSeverity": ([_P], c_int),
    "clang_getDiagnosticLocation": ([_P], SourceLocation),
    "clang_getDiagnosticSpelling": ([_P], String),
    "clang_getDiagnosticOption": ([_P, POINTER(String)], String),
    "clang_getInclusions": ([_P, INCLUSION_VISITOR, ctypes.py_object], None),
    "clang_tokenize": ([_P, SourceRange, POINTER(POINTER(Token)), _PU], None),
    "clang_getTokenSpelling": ([_P, Token], String),
    "clang_getTokenExtent": ([_P, Token], SourceRange),
    "clang_disposeTokens": ([_P, POINTER(Token), c_uint], None),
    "clang_Cursor_Evaluate": ([Cursor], _P),
    "clang_EvalResult_getKind": ([_P], c_int),
    "clang_EvalResult_isUnsignedInt": ([_P], c_uint),
    "clang_EvalResult_getAsUnsigned": ([_P], c_ulonglong),
    "clang_EvalResult_getAsLongLong": ([_P], c_longlong),
    "clang_EvalResult_dispose": ([_P], None),
}


class _Lib:
    """The loaded library: one attribute per function of _FUNCTIONS, typed."""

    def __init__(self, path):
        dll = ctypes.CDLL(path)
        for name, (argtypes, restype) in _FUNCTIONS.items():
            fn = getattr(dll, name)
            fn.argtypes, fn.restype = argtypes, restype
            setattr(self, name[len("clang_"):], fn)


_lib = None
_loading = _thread.allocate_lock()      # clang_facts may load it from a second thread


def lib():
    """The library, loaded on first use (loading it takes ~15 ms)."""
    global _lib
    if _lib is None:
        with _loading:
            if _lib is None:
                _lib = _Lib(PATH)
    return _lib


def text(lib_, string):
    """The Python str of a CXString, which is disposed of."""
    s = lib_.getCString(string)
    if string.private_flags:        # 0 is CXS_Unmanaged: nothing to free
        lib_.disposeString(string)
    return s.decode() if s is not None else ""


def children(lib_, cursor):
    """The direct children of `cursor`, as a list."""
    out = []
    lib_.visitChildren(cursor, _CHILD_APPENDER, out)
    return out


def fields(lib_, record_type):
    """The fields of a record type, the implicit ones of anonymous members included."""
    out = []
    lib_.Type_visitFields(record_type, _FIELD_APPENDER, out)
    return out


# Out-parameters of clang_getExpansionLocation, made once: allocating them per call was
# most of its cost (it runs for every top-level cursor). Not for concurrent threads.
_file, _line, _offset = c_void_p(), c_uint(), c_uint()
_FILE, _LINE, _OFFSET = byref(_file), byref(_line), byref(_offset)


def expansion(lib_, location):
    """(CXFile pointer value or None, line, byte offset) where `location` is expanded."""
    lib_.getExpansionLocation(location, _FILE, _LINE, None, _OFFSET)
    return _file.value, _line.value, _offset.value


def expansion_file(lib_, location):
    """The CXFile pointer value (or None) of the file where `location` is expanded."""
    lib_.getExpansionLocation(location, _FILE, None, None, None)
    return _file.value


def extent_end(lib_, cursor):
    """The byte offset (in its expansion file) where `cursor`'s extent ends."""
    return expansion(lib_, lib_.getRangeEnd(lib_.getCursorExtent(cursor)))[2]


def file_name(lib_, file):
    return text(lib_, lib_.getFileName(file))


def file_contents(lib_, tu, file):
    """The bytes libclang read for `file`."""
    size = ctypes.c_size_t()
    data = lib_.getFileContents(tu, file, byref(size))
    return ctypes.string_at(data, size.value) if data else b""


def tokens(lib_, tu, cursor):
    """[(spelling, start offset, end offset)] of the tokens (comments included) in
    `cursor`'s extent."""
    buf, count = POINTER(Token)(), c_uint()
    lib_.tokenize(tu, lib_.getCursorExtent(cursor), byref(buf), byref(count))
    try:
        out = []
        for i in range(count.value):
            extent = lib_.getTokenExtent(tu, buf[i])
            out.append((text(lib_, lib_.getTokenSpelling(tu, buf[i])),
                        expansion(lib_, lib_.getRangeStart(extent))[2],
                        expansion(lib_, lib_.getRangeEnd(extent))[2]))
        return out
    finally:
        if count.value:
            lib_.disposeTokens(tu, buf, count)


def parse(lib_, index, name, text_, args, options):
    """A translation unit of the in-memory file `name` holding `text_`, or None."""
    data = text_.encode()
    unsaved = UnsavedFile(name.encode(), data, len(data))
    argv = (c_char_p * len(args))(*(a.encode() for a in args))
    return lib_.parseTranslationUnit(index, name.encode(), argv, len(args),
                                     byref(unsaved), 1, options)


def diagnostics(lib_, tu):
    """[(severity, file name or None, line, text, option)] of the translation unit;
    `option` is the warning flag that controls it (-Wsomething) or ""."""
    out = []
    for i in range(lib_.getNumDiagnostics(tu)):
        d = lib_.getDiagnostic(tu, i)
        try:
            severity = lib_.getDiagnosticSeverity(d)
            f, line, _ = expansion(lib_, lib_.getDiagnosticLocation(d))
            disable = String()
            option = text(lib_, lib_.getDiagnosticOption(d, byref(disable)))
            text(lib_, disable)
            out.append((severity, file_name(lib_, f) if f else None, line,
                        text(lib_, lib_.getDiagnosticSpelling(d)), option))
        finally:
            lib_.disposeDiagnostic(d)
    return out


def included_files(lib_, tu):
    """The CXFile of every file the translation unit read, its main file included."""
    return list(dict.fromkeys(file for file, _ in inclusions(lib_, tu)))


def inclusions(lib_, tu):
    """[(CXFile, ((CXFile, byte offset) of each #include that led to it, innermost
    first))] of every file the translation unit read, in the order they were entered:
    the main file first, with no #include; a file entered twice (no include guard) is
    listed twice."""
    entries = []
    lib_.getInclusions(tu, _INCLUSION_COLLECTOR, entries)
    return [(file, tuple(expansion(lib_, loc)[::2] for loc in stack)) for file, stack in entries]


def _append_child(cursor, _parent, out):
    out.append(cursor)
    return CHILD_VISIT_CONTINUE


def _append_field(cursor, out):
    out.append(cursor)
    return CHILD_VISIT_CONTINUE


def _collect_inclusion(file, stack, depth, entries):
    # the stack lives only as long as the call
    entries.append((file, [SourceLocation.from_buffer_copy(stack[i]) for i in range(depth)]))


_CHILD_APPENDER = CURSOR_VISITOR(_append_child)
_FIELD_APPENDER = FIELD_VISITOR(_append_field)
_INCLUSION_COLLECTOR = INCLUSION_VISITOR(_collect_inclusion)
