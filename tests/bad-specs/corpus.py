"""The bad-spec corpus: realistic mistakes, each a fixed mutation of a slice of the real
spec (base.py) with the file, line and message it must be reported with.

A case is (category, name, file, mutation, message fragment, where). The mutation edits
one file of the slice: a text substitution on the first line holding an anchor, a line
inserted or duplicated, the file replaced, or its bytes re-encoded. `where` says which
line the error must name: by default the first line the mutation changed; a string names
the first line of the mutated file holding it; `expect` names another file.
`python3 tests/bad-specs/corpus.py [--list | --write DIR]` lists the cases or writes each
one as DIR/NAME/spec (with DIR/NAME/expect.txt)."""

import pathlib
import random
import re
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Union

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import base                                         # noqa: E402

MINI = "defs/10-hvgdk_mini.yaml"
EXT = "defs/20-hvgdk_ext.yaml"
GDK = "defs/30-hvgdk.yaml"
HMINI = "defs/40-hvhdk_mini.yaml"
HDK = "defs/50-hvhdk.yaml"
PRODUCTS = "products.yaml"
PROFILES = "profiles.yaml"
ORDER = "order/tlfs-generic.yaml"
DEFS = [MINI, EXT, GDK, HMINI, HDK]
ALL_FILES = DEFS + [PRODUCTS, PROFILES]
ESCAPE = "hvabi-escape"        # a directory next to the output root no case may create


class CaseError(Exception):
    """The mutation does not apply to the slice (an anchor is gone from the real spec)."""


@dataclass
class Case:
    category: str
    name: str
    file: str
    mutate: Callable
    fragment: str
    where: Union[None, str, int, Callable] = None
    expect: Optional[str] = None          # the file the error names, if not `file`

    def apply(self, files, tmp):
        """(mutated files, expected file, expected line)."""
        old = files[self.file]
        new = self.mutate(old, tmp) if _takes_tmp(self.mutate) else self.mutate(old)
        out = dict(files)
        out[self.file] = new
        expect = self.expect or self.file
        text = out[expect]
        if callable(self.where):
            line = self.where(text)
        elif isinstance(self.where, int):
            line = self.where
        elif isinstance(self.where, str):
            line = _line_of(text, self.where)
        else:
            line = _first_change(old, new)
        return out, expect, line


def _takes_tmp(fn):
    return getattr(fn, "takes_tmp", False)


def _lines(text):
    return text.split(b"\n") if isinstance(text, bytes) else text.split("\n")


def _first_change(old, new):
    a, b = _lines(old), _lines(new if isinstance(new, type(old)) else new)
    if isinstance(new, bytes) and not isinstance(old, bytes):
        a = _lines(old.encode())
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i + 1
    return min(len(a), len(b)) + 1


def _line_of(text, anchor):
    for i, line in enumerate(_lines(text)):
        if anchor in (line.decode("utf-8", "replace") if isinstance(line, bytes) else line):
            return i + 1
    raise CaseError(f"no line holds {anchor!r}")


# -- mutations --------------------------------------------------------------------------

def on_line(anchor, old, new):
    """From the first line holding `anchor` on, replace the first `old` with `new`."""
    def mutate(text):
        lines = text.split("\n")
        start = _line_of(text, anchor) - 1
        for i in range(start, len(lines)):
            if old in lines[i]:
                lines[i] = lines[i].replace(old, new, 1)
                return "\n".join(lines)
        raise CaseError(f"no {old!r} after the line with {anchor!r}")
    return mutate


def sub(old, new):
    def mutate(text):
        if old not in text:
            raise CaseError(f"no {old!r}")
        return text.replace(old, new, 1)
    return mutate


def insert_after(anchor, *new_lines):
    def mutate(text):
        lines = text.split("\n")
        at = _line_of(text, anchor)
        return "\n".join(lines[:at] + list(new_lines) + lines[at:])
    return mutate


def duplicate(anchor):
    def mutate(text):
        lines = text.split("\n")
        at = _line_of(text, anchor)
        return "\n".join(lines[:at] + [lines[at - 1]] + lines[at:])
    return mutate


def delete(anchor):
    def mutate(text):
        lines = text.split("\n")
        at = _line_of(text, anchor)
        return "\n".join(lines[:at - 1] + lines[at:])
    return mutate


def whole(new):
    return lambda text: new


def append(*new_lines):
    return lambda text: text.rstrip("\n") + "\n" + "\n".join(new_lines) + "\n"


def as_bytes(fn):
    return lambda text: fn(text.encode())


def with_tmp(fn):
    fn.takes_tmp = True
    return fn


# -- the cases --------------------------------------------------------------------------

CASES = []


def add(category, name, file, mutate, fragment, where=None, expect=None):
    CASES.append(Case(category, name, file, mutate, fragment, where, expect))


def _binary_line(text):
    """The line of the first byte a binary file is rejected for."""
    data = text if isinstance(text, bytes) else text.encode()
    control = re.search(rb"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]", data)
    try:
        data.decode()
        bad = len(data)
    except UnicodeDecodeError as e:
        bad = e.start
    at = min(control.start() if control else len(data), bad)
    return data.count(b"\n", 0, at) + 1


def _encoding():
    for f in ALL_FILES:
        short = pathlib.PurePath(f).stem
        add("encoding", f"latin1-{short}", f, as_bytes(lambda b: b.replace(b"\n", b" \xe9t\xe9\n", 3)),
            "not UTF-8 text: byte 0xe9", 1)
        add("encoding", f"utf16-bom-{short}", f, lambda t: t.encode("utf-16"), "UTF-16 text", 1)
        add("encoding", f"utf16le-nobom-{short}", f, lambda t: t.encode("utf-16-le"),
            "control character U\\+0000", 1)
        add("encoding", f"nul-{short}", f, lambda t: t.replace("\n", "\n\0", 2).replace("\n\0", "\n", 1),
            "control character U\\+0000", 3)
        add("encoding", f"binary-{short}", f,
            lambda t, n=len(f): random.Random(n).getrandbits(8 * 4096).to_bytes(4096, "little"),
            "not UTF-8 text|control character", _binary_line)
        add("encoding", f"truncated-utf8-{short}", f, as_bytes(lambda b: b[:40] + b"\xe2\x80"),
            "not UTF-8 text: byte 0xe2", None)
    for f, ch, code in ((MINI, "\x01", "0001"), (HMINI, "\x1b", "001B"), (HDK, "\x7f", "007F"),
                        (GDK, "\x08", "0008"), (PRODUCTS, "\x0c", "000C"), (PROFILES, "\x00", "0000"),
                        (EXT, "\u0085", None), (MINI, "\u0090", "0090"), (HDK, "\ufffe", "FFFE")):
        if code is None:
            continue
        add("encoding", f"control-{code}-{pathlib.PurePath(f).stem}", f,
            lambda t, ch=ch: t.replace("doc: ", "doc: x" + ch, 1) if "doc: " in t else t.replace("\n", ch + "\n", 3),
            f"control character U\\+{code}", "doc: x" if f not in (PRODUCTS, PROFILES) else None)
    add("encoding", "utf32-mini", MINI, lambda t: t.encode("utf-32"), "UTF-32 text", 1)
    add("encoding", "utf16be-bom-products", PRODUCTS, lambda t: t.encode("utf-16-be").join([b"\xfe\xff", b""]),
        "UTF-16 text", 1)
    add("encoding", "cp1252-quote-doc", HDK, as_bytes(lambda b: b.replace(b"doc: ", b"doc: \x93quoted\x94 ", 1)),
        "not UTF-8 text: byte 0x93", "doc: ")
    add("encoding", "elf-binary", GDK, lambda t: b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4,
        "control character U\\+007F", 1)
    add("encoding", "gzip-binary", HMINI, lambda t: b"\x1f\x8b\x08\x00" + bytes(range(255, 0, -1)),
        "control character U\\+001F", 1)


def _yaml():
    add("yaml", "bad-indent", MINI, on_line("struct: hv_vpset", "    packed: true", "      packed: true"),
        "YAML syntax", None)
    add("yaml", "tab-indent", MINI, on_line("name: valid_bank_mask", "      - ", "\t- "),
        "YAML syntax", None)
    add("yaml", "unclosed-flow", MINI, on_line("name: valid_bank_mask", "doc: Which banks are present in bank_contents.}",
                                               "doc: Which banks are present in bank_contents."),
        "YAML syntax", "name: bank_contents")
    add("yaml", "unclosed-quote", HMINI, on_line("HV_GENERIC_SET_SPARSE_4K", 'doc: "Sparse', 'doc: "Sparse \\q'),
        "YAML syntax", None)
    add("yaml", "missing-colon", GDK, on_line("register: hv_connection_id", "register:", "register"),
        "YAML syntax", lambda text: _line_of(text, "register hv_connection_id") + 1)
    add("yaml", "duplicate-key", MINI, on_line("name: format, type: u64", "type: u64,", "type: u64, type: u32,"),
        "duplicate key 'type'", None)
    add("yaml", "duplicate-entry-key", HDK, insert_after("struct: hv_stats_page", "    packed: false"),
        "duplicate key 'packed'", "    packed: true")
    add("yaml", "anchor-alias", MINI, on_line("struct: hv_vpset", "hv_vpset", "hv_vpset\n    x: &a [1]\n    y: *a"),
        "YAML aliases", "y: *a")
    add("yaml", "alias-bomb", EXT, append("x0: &x0 [a, a, a, a, a, a, a, a, a]", "x1: &x1 [*x0, *x0, *x0, *x0]",
                                          "x2: &x2 [*x1, *x1, *x1, *x1]", "x3: [*x2, *x2, *x2, *x2]"),
        "YAML aliases", "x1: ")
    add("yaml", "merge-key", GDK, on_line("struct: hv_enlightenments_control", "control", "control\n    <<: {packed: true}"),
        "YAML merge keys", "<<:")
    add("yaml", "python-tag", MINI, on_line("struct: hv_vpset", "hv_vpset", "!!python/object:os.system hv_vpset"),
        "YAML tag", None)
    add("yaml", "local-tag", HMINI, on_line("name: HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8", "value: !hex 8"),
        "YAML tag", None)
    add("yaml", "binary-tag", HDK, on_line("struct: hv_stats_page", "hv_stats_page", "!!binary aGk="),
        "YAML tag", None)
    add("yaml", "set-tag", GDK, on_line("name: HV_LINUX_VENDOR_ID", "value: 0x8100", "value: !!set {a}"),
        "YAML tag", None)
    add("yaml", "deep-block-400", EXT,
        lambda t: t + "deep:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 400)) + "  " * 400 + "k: 1\n",
        "nested more than 64 levels", "  k64:")
    add("yaml", "deep-flow-100000", MINI, lambda t: t + "deep: " + "[" * 100000 + "]" * 100000 + "\n",
        "nested more than 64 levels", "deep: ")
    add("yaml", "deep-flow-map", PRODUCTS, lambda t: t + "deep: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
        "nested more than 64 levels", "deep: ")
    add("yaml", "deep-seq-compact", PROFILES, lambda t: t + "deep:\n" + "- " * 300 + "x\n",
        "nested more than 64 levels", "- - -")
    add("yaml", "deep-members-70", HDK, lambda t: t + "  - struct: hv_deep\n    members:\n" + "".join(
        "  " * (i + 3) + f"- anon: struct  # level {i // 2}\n" + "  " * (i + 4) + "members:\n" for i in range(0, 140, 2))
        + "  " * 145 + "- {name: x, type: u8}\n",
        "nested more than 64 levels", "# level 30")
    add("yaml", "empty-file", HMINI, whole(""), "spec file is empty", 1)
    add("yaml", "comments-only", GDK, whole("# nothing here\n"), "spec file is empty", 1)
    add("yaml", "scalar-file", EXT, whole("just some text\n"), "holds a YAML scalar, not a mapping", 1)
    add("yaml", "list-file", GDK, whole("- a\n- b\n"), "holds a YAML list, not a mapping", 1)
    add("yaml", "scalar-products", PRODUCTS, whole("products\n"), "holds a YAML scalar", 1)
    add("yaml", "list-profiles", PROFILES, whole("- tlfs\n- linux\n"), "holds a YAML list", 1)
    add("yaml", "two-documents", MINI, lambda t: t + "---\nhvabi: 2\n", "YAML syntax", "---")
    add("yaml", "key-not-name", HDK, on_line("struct: hv_stats_page", "    only: hdk", "    5: hdk"),
        "mapping key", None)
    add("yaml", "null-key", HMINI, on_line("enum: hv_partition_property_code", "    only: hdk", "    ~: hdk"),
        "mapping key", None)
    add("yaml", "complex-key", GDK, on_line("struct: hv_enlightenments_control", "    packed: true", "    ? [a]\n    : 1"),
        "mapping key", None)
    add("yaml", "float-value", MINI, on_line("name: HV_HYP_PAGE_SHIFT", "value: 12", "value: 12.5"),
        "floating-point", None)
    add("yaml", "float-bits", MINI, on_line("name: enable, bits: 0", "bits: 0", "bits: 0.5"),
        "floating-point", None)
    add("yaml", "json-file", PRODUCTS, whole('{"products": {"x": [1, 2'), "YAML syntax", 2)
    add("yaml", "too-large", EXT, lambda t: t + "# " + "x" * (9 << 20) + "\n", "larger than 8 MiB", 1)


def _integers():
    cases = [
        ("octal-08", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: 08", "cannot read integer '08'|08"),
        ("octal-017", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8", "value: 010", "cannot read integer"),
        ("binary-0b", GDK, "HV_LINUX_VENDOR_ID", "value: 0x8100", "value: 0b101", "cannot read integer"),
        ("underscore", EXT, "HV_EXT_CALL_QUERY_CAPABILITIES", "value: 0x8001", "value: 1_000", "cannot read integer"),
        ("sexagesimal", EXT, "HV_EXT_CALL_MEMORY_HEAT_HINT", "value: 0x8003", "value: 1:30", "cannot read integer"),
        ("plus-sign", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: +12", "cannot read integer"),
        ("expr-octal", MINI, "HV_MESSAGE_SIZE", "(256)", "(0256)", "octal"),
        ("expr-08", MINI, "HV_MESSAGE_SIZE", "(256)", "(08)", "octal|not an integer literal"),
        ("expr-0b", MINI, "HV_MESSAGE_PAYLOAD_BYTE_COUNT", "(240)", "(0b1)", "not an integer literal"),
        ("expr-1_000", MINI, "HV_MESSAGE_PAYLOAD_QWORD_COUNT", "(30)", "(1_000)", "not an integer literal"),
        ("suffix-ULLL", HDK, "HV_MAKE_COMPATIBILITY_VERSION", "<< 8", "<< 8ULLL", "not an integer literal"),
        ("suffix-lL", MINI, "HV_MESSAGE_SIZE", "(256)", "(256lL)", "not an integer literal"),
        ("suffix-uu", MINI, "HV_MESSAGE_SIZE", "(256)", "(256uu)", "not an integer literal"),
        ("suffix-f", MINI, "HV_MESSAGE_SIZE", "(256)", "(256f)", "not an integer literal"),
        ("hex-no-digits", MINI, "HV_MESSAGE_SIZE", "(256)", "(0x)", "not an integer literal"),
        ("hex-bad-digit", MINI, "HV_MESSAGE_SIZE", "(256)", "(0x1g)", "not an integer literal"),
        ("float-in-expr", MINI, "HV_MESSAGE_SIZE", "(256)", "(2.5)", "unexpected|bad constant"),
        ("decimal-2e64", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: 18446744073709551616",
         "too large for any C integer type"),
        ("decimal-2e63", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: 9223372036854775808",
         "so large that C makes it unsigned"),
        ("decimal-u64max", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8", "value: 18446744073709551615",
         "so large that C makes it unsigned"),
        ("below-s64", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8", "value: -9223372036854775809",
         "so large|too large"),
        ("s64-min-literal", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8", "value: -9223372036854775808",
         "so large that C makes it unsigned"),
        ("hex-2e64", GDK, "HV_LINUX_VENDOR_ID", "value: 0x8100", "value: 0x10000000000000000", "too large"),
        ("expr-2e64", MINI, "HV_MESSAGE_SIZE", "(256)", "(18446744073709551616)", "too large"),
        ("expr-2e70-hex", MINI, "HV_MESSAGE_SIZE", "(256)", "(0x400000000000000000)", "too large"),
        ("expr-2e63", MINI, "HV_MESSAGE_SIZE", "(256)", "(9223372036854775808)", "so large"),
        ("enum-2e64", HMINI, "HV_PARTITION_PROPERTY_PRIVILEGE_FLAGS", "0x00010000", "18446744073709551616",
         "too large"),
        ("enum-octal", HMINI, "HV_PARTITION_PROPERTY_SUSPEND", "0x00020000", "020000", "cannot read integer"),
        ("enum-0b", HMINI, "HV_PARTITION_PROPERTY_SUSPEND", "0x00020000", "0b1", "cannot read integer"),
        ("count-2e64", MINI, "name: payload, type: u64", "count: HV_MESSAGE_PAYLOAD_QWORD_COUNT",
         "count: 18446744073709551616", "too large"),
        ("count-octal", HDK, "name: instruction_bytes", "count: 16", "count: 016", "cannot read integer"),
        ("count-0x-bad", HDK, "name: instruction_bytes", "count: 16", "count: \"0x\"", "not an integer literal"),
        ("bool-value", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: true", "`value` is true: YAML reads"),
        ("null-value", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: ~", "`value` has no value"),
        ("empty-value", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", 'value: ""', "empty constant expression"),
        ("list-value", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: [12]", "is not valid"),
        ("arch-value-typo", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: {x86: 12}", "is not valid|x86"),
    ]
    for name, f, anchor, old, new, frag in cases:
        add("integers", name, f, on_line(anchor, old, new), frag)


def _expressions():
    cases = [
        ("bit-minus-1", MINI, "HV_X64_AS_SWITCH_RECOMMENDED", "BIT(0)", "BIT(-1)", "BIT\\(\\) of bit -1"),
        ("bit-64", MINI, "HV_X64_LOCAL_TLB_FLUSH_RECOMMENDED", "BIT(1)", "BIT(64)", "BIT\\(\\) of bit 64"),
        ("bit-2e32", MINI, "HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED", "BIT(2)", "BIT(0x100000000)", "bit 4294967296"),
        ("bit-huge", MINI, "HV_X64_APIC_ACCESS_RECOMMENDED", "BIT(3)", "BIT(0xffffffffffffffff)", "BIT\\(\\) of bit"),
        ("bit-ull-64", MINI, "HV_X64_SYSTEM_RESET_RECOMMENDED", "BIT(4)", "BIT_ULL(64)", "BIT_ULL\\(\\) of bit 64"),
        ("bit-arity", MINI, "HV_X64_RELAXED_TIMING_RECOMMENDED", "BIT(5)", '"BIT(5, 6)"', "takes 1 argument"),
        ("bit-no-args", MINI, "HV_DEPRECATING_AEOI_RECOMMENDED", "BIT(9)", "BIT()", "unexpected"),
        ("genmask-reversed", MINI, "HV_X64_CLUSTER_IPI_RECOMMENDED", "BIT(10)", '"GENMASK(3, 5)"', "high bit comes first"),
        ("genmask-64", MINI, "HV_X64_CLUSTER_IPI_RECOMMENDED", "BIT(10)", '"GENMASK(64, 0)"', "bit 64"),
        ("genmask-name", MINI, "HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED", "BIT(11)", '"GENMASK(HV_HYP_PAGE_SHIFT, 0)"',
         "bit numbers written as integers"),
        ("genmask-arity", MINI, "HV_X64_HYPERV_NESTED", "BIT(12)", "GENMASK_ULL(12)", "takes 2 argument"),
        ("shift-minus-1", MINI, "HV_X64_ENLIGHTENED_VMCS_RECOMMENDED", "BIT(14)", "(1 << -1)", "shift by -1"),
        ("shift-32", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(1 << 32)", "shift by 32"),
        ("shift-40", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(1U << 40)", "shift by 40"),
        ("shift-64-ull", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(1ULL << 64)", "shift by 64"),
        ("shift-right-99", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(0x100 >> 99)", "shift by 99"),
        ("shift-into-33", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(2 << 31)", "does not fit in a signed 32-bit"),
        ("shift-negative", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(-1 << 2)", "left shift of a negative"),
        ("shift-huge-count", MINI, "HV_X64_USE_MMIO_HYPERCALLS", "BIT(21)", "(1 << 0x100000000)", "shift by 4294967296"),
        ("int-overflow-add", MINI, "HV_MESSAGE_SIZE", "(256)", "(0x7fffffff + 1)", "overflows a signed 32-bit"),
        ("int-overflow-mul", MINI, "HV_MESSAGE_SIZE", "(256)", "(65536 * 65536)", "overflows a signed 32-bit"),
        ("s64-overflow", MINI, "HV_MESSAGE_SIZE", "(256)", "(0x7fffffffffffffff + 1)", "overflows a signed 64-bit"),
        ("int-min-neg", MINI, "HV_MESSAGE_SIZE", "(256)", "(-(-2147483647 - 1))", "overflows a signed 32-bit"),
        ("int-min-div", MINI, "HV_MESSAGE_SIZE", "(256)", "((-2147483647 - 1) / -1)", "overflows a signed 32-bit"),
        ("div-zero", MINI, "HV_MESSAGE_SIZE", "(256)", "(256 / 0)", "division by zero"),
        ("mod-zero", MINI, "HV_MESSAGE_SIZE", "(256)", "(256 % (1 - 1))", "division by zero"),
        ("unknown-name", MINI, "HV_HYP_PAGE_SIZE", "BIT(HV_HYP_PAGE_SHIFT)", "BIT(HV_HYP_PAGE_SHIFTT)",
         "unknown constant 'HV_HYP_PAGE_SHIFTT'"),
        ("self-reference", MINI, "HV_HYP_PAGE_SHIFT", "value: 12", "value: (HV_HYP_PAGE_SHIFT + 1)",
         "in terms of itself"),
        ("unbalanced-open", MINI, "HV_HYP_PAGE_MASK", "(~(HV_HYP_PAGE_SIZE - 1))", "(~(HV_HYP_PAGE_SIZE - 1)",
         "expected '\\)'"),
        ("unbalanced-close", MINI, "HV_HYP_PAGE_MASK", "(~(HV_HYP_PAGE_SIZE - 1))", "(~(HV_HYP_PAGE_SIZE - 1)))",
         "unexpected '\\)'"),
        ("trailing-op", MINI, "HV_MESSAGE_SIZE", "(256)", "(256 +)", "unexpected"),
        ("two-numbers", MINI, "HV_MESSAGE_SIZE", "(256)", "(256 16)", "expected '\\)', found '16'"),
        ("bad-char", MINI, "HV_MESSAGE_SIZE", "(256)", "(256 @ 1)", "unexpected '@"),
        ("dollar", MINI, "HV_MESSAGE_SIZE", "(256)", "($x)", "unexpected"),
        ("string-literal", MINI, "HV_MESSAGE_SIZE", "(256)", "('a')", "unexpected"),
        ("ternary", MINI, "HV_MESSAGE_SIZE", "(256)", '"(1 ? 2 : 3)"', "unexpected"),
        ("comparison", MINI, "HV_MESSAGE_SIZE", "(256)", "(1 < 2)", "unexpected"),
        ("sizeof-unknown", HDK, "name: data, type: u64", "sizeof(u64)", "sizeof(u128)", "unknown type 'u128'"),
        ("sizeof-expr", HDK, "name: data, type: u64", "sizeof(u64)", "sizeof(1)", "sizeof takes a type name"),
        ("cast-unknown", HDK, "HV_MAKE_COMPATIBILITY_VERSION", "(u32)", "(u128)", "a cast to a type expressions do not know"),
        ("macro-arity", HDK, "name: data, type: u64", "HV_HYP_PAGE_SIZE / sizeof(u64)",
         "HV_MAKE_COMPATIBILITY_VERSION(1) / sizeof(u64)", "takes 2 argument"),
        ("macro-unbound", HDK, "HV_MAKE_COMPATIBILITY_VERSION", "(minor_)", "(minor)", "unknown constant 'minor'"),
        ("macro-no-args", HDK, "name: data, type: u64", "HV_HYP_PAGE_SIZE / sizeof(u64)",
         "HV_MAKE_COMPATIBILITY_VERSION / sizeof(u64)", "used without arguments"),
        ("call-non-macro", HDK, "name: data, type: u64", "HV_HYP_PAGE_SIZE / sizeof(u64)",
         "HV_HYP_PAGE_SIZE(1)", "is not a spec macro"),
        ("offsetof-unknown", MINI, "name: payload, type: u64", "count: HV_MESSAGE_PAYLOAD_QWORD_COUNT",
         "count: \"offsetof(struct hv_message_header, nope)\"", "has no member 'nope'"),
        ("count-zero", HDK, "name: instruction_bytes", "count: 16", "count: 0", "has 0 elements"),
        ("count-negative", HDK, "name: instruction_bytes", "count: 16", "count: -1", "has -1 elements"),
        ("count-minus-expr", HDK, "name: instruction_bytes", "count: 16", "count: (4 - 8)", "has -4 elements"),
        ("count-huge", HDK, "name: instruction_bytes", "count: 16", "count: 0xffffffffffffffff",
         "its member instruction_bytes is"),
        ("count-2e40", HDK, "name: instruction_bytes", "count: 16", "count: 0x10000000000", "is 1099511627776 bytes"),
        ("count-flexx", HDK, "name: instruction_bytes", "count: 16", "count: flexx", "unknown constant 'flexx'"),
        ("enum-shift", HMINI, "HV_PARTITION_PROPERTY_SUSPEND", "0x00020000", "(1 << 33)", "shift by 33"),
        ("enum-unknown", HMINI, "HV_PARTITION_PROPERTY_CPU_CAP", "0x00020002", "HV_NOPE", "unknown constant 'HV_NOPE'"),
        ("enum-self", HMINI, "HV_PARTITION_PROPERTY_CPU_CAP", "0x00020002", "HV_PARTITION_PROPERTY_CPU_CAP",
         "in terms of itself|unknown"),
    ]
    for name, f, anchor, old, new, frag in cases:
        add("expressions", name, f, on_line(anchor, old, new), frag)


RESERVED = ["BIT", "BIT_ULL", "GENMASK", "u64", "u8", "s32", "__u32", "NSEC_PER_SEC", "PAGE_SIZE",
            "bool", "NULL", "__packed", "CONFIG_X86", "true", "offsetof", "_BITUL", "__x86_64__", "ulong"]
KEYWORDS = ["int", "struct", "sizeof", "static", "_Bool", "while"]
BAD_IDENTS = ["1abc", "a-b", "a b", "a.b", "é", "a$"]


def _names():
    spots = [   # (what, file, anchor, old, how the new name is written there)
        ("const", MINI, "name: HV_HYP_PAGE_SHIFT", "HV_HYP_PAGE_SHIFT", "{}"),
        ("enumerator", HMINI, "name: HV_SUBNODE_SOCKET", "HV_SUBNODE_SOCKET", "{}"),
        ("struct", MINI, "struct: hv_vpset", "hv_vpset", "{}"),
        ("member", HDK, "name: rip, type: u64", "rip", "{}"),
        ("bitfield", MINI, "name: masked, bits: 16", "masked", "{}"),
        ("typedef", HMINI, "typedef: hv_pci_rid", "hv_pci_rid", "{}"),
        ("macro-param", HDK, "HV_MAKE_COMPATIBILITY_VERSION", "minor_]", "{}]"),
        ("struct_name", GDK, "struct_name: u", "struct_name: u", "struct_name: {}"),
        ("alias", HMINI, "alias: HV_GENERIC_SET_FORMAT", "HV_GENERIC_SET_FORMAT", "{}"),
        ("nested-member", MINI, "      - struct: page", "page", "{}"),
        ("raw", GDK, "raw: asu32", "asu32", "{}"),
        ("enum", HMINI, "enum: hv_partition_property_code", "hv_partition_property_code", "{}"),
        ("register", MINI, "register: hv_synic_sint", "hv_synic_sint", "{}"),
    ]
    for i, name in enumerate(RESERVED):
        what, f, anchor, old, how = spots[i % len(spots)]
        add("names", f"reserved-{name}-as-{what}", f, on_line(anchor, old, how.format(f'"{name}"')), "already use")
    for i, name in enumerate(KEYWORDS):
        what, f, anchor, old, how = spots[(i + 5) % len(spots)]
        add("names", f"keyword-{name}-as-{what}", f, on_line(anchor, old, how.format(name)), "is a C keyword")
    for i, name in enumerate(BAD_IDENTS):
        what, f, anchor, old, how = spots[(i + 2) % len(spots)]
        add("names", f"bad-ident-{i}-as-{what}", f, on_line(anchor, old, how.format(f'"{name}"')),
            "not a valid C identifier")
    for what, f, anchor, old, how in spots:
        name = old.rstrip("]").split(": ")[-1]
        add("names", f"trailing-newline-{what}", f, on_line(anchor, old, how.format(f'"{name}\\n"')),
            "not a valid C identifier")
    add("names", "unquoted-NULL-as-raw", GDK, on_line("raw: asu32", "asu32", "NULL"), "`raw` has no value")
    add("names", "unquoted-true-as-const", MINI, on_line("name: HV_HYP_PAGE_SHIFT", "HV_HYP_PAGE_SHIFT", "true"),
        "`name` is true: YAML reads")
    add("names", "unquoted-no-as-enumerator", HMINI, on_line("name: HV_SUBNODE_SOCKET", "HV_SUBNODE_SOCKET", "no"),
        "`name` is false: YAML reads")
    add("names", "typedef-u32", HMINI, on_line("typedef: hv_pci_rid", "hv_pci_rid", "u32"), "already use")
    add("names", "duplicate-enumerator-line", HMINI, duplicate("name: HV_SUBNODE_CLUSTER"),
        "listed twice: a variant needs a `why`")
    add("names", "duplicate-const-line", MINI, duplicate("name: HV_MESSAGE_SIZE"), "listed twice")
    add("names", "duplicate-member-line", HDK, duplicate("name: rip, type: u64"), "duplicate member 'rip'")
    add("names", "duplicate-bitfield-line", HDK, duplicate("name: cr0_pe, bits: 2"), "duplicate member 'cr0_pe'|overlaps")
    add("names", "duplicate-struct", HDK, on_line("struct: hv_input_translate_virtual_address",
                                                  "hv_input_translate_virtual_address", "hv_input_connect_port"),
        "duplicate name 'hv_input_connect_port'")
    add("names", "const-named-as-struct", MINI, on_line("name: HV_MESSAGE_SIZE", "HV_MESSAGE_SIZE", "hv_vpset"),
        "duplicate name 'hv_vpset'")
    add("names", "enumerator-named-as-const", HMINI, on_line("name: HV_SUBNODE_L3", "HV_SUBNODE_L3", "HV_HYP_PAGE_SIZE"),
        "duplicate name 'HV_HYP_PAGE_SIZE'")
    add("names", "alias-collides", HMINI, on_line("alias: HV_GENERIC_SET_FORMAT", "HV_GENERIC_SET_FORMAT",
                                                  "HV_GENERIC_SET_ALL"), "alias HV_GENERIC_SET_ALL is also a name",
        "      - only: linux")
    add("names", "alias-is-tag", HMINI, on_line("alias: HV_GENERIC_SET_FORMAT", "HV_GENERIC_SET_FORMAT",
                                                "hv_vpset"), "alias hv_vpset is also a name",
        "      - only: linux")
    add("names", "member-dup-in-anon", MINI, on_line("name: attributes, type: u16", "attributes", "base"),
        "duplicate member 'base'")
    add("names", "member-named-as-const", HDK, on_line("name: rip, type: u64", "rip", "HV_HYP_PAGE_SIZE"),
        "has the name of the constant")
    add("names", "bitfield-named-as-const", MINI, on_line("name: masked, bits: 16", "masked", "HV_MESSAGE_SIZE"),
        "has the name of the constant")
    add("names", "macro-param-twice", HDK, on_line("HV_MAKE_COMPATIBILITY_VERSION", "minor_]", "major_]"),
        "names a parameter twice")
    add("names", "profile-name-arch", PROFILES, on_line("  linux:", "linux", "x86_64"), "is not usable")
    add("names", "guard-is-spec-name", PRODUCTS, on_line("guard: _HV_HVGDK_MINI_H", "_HV_HVGDK_MINI_H", "HV_MESSAGE_SIZE"),
        "guard HV_MESSAGE_SIZE is also a name in the spec")


def _layout():
    add("layout", "bitfield-wider-than-u8", HDK, on_line("name: instruction_length", "bits: 32-35", "bits: 32-40"),
        "9 bits wide but its type u8 has 8")
    add("layout", "register-field-wider", HDK, on_line("name: vtl, bits: 7-10", "bits: 7-10", "bits: 7-25"),
        "is 19 bits wide but its type u16 has 16")
    add("layout", "bool-storage", GDK, sub("    type: u32\n    raw: asu32", "    type: bool\n    raw: asu32"),
        "is 24 bits wide but its type bool has 1", "name: id, bits: 0-23")
    add("layout", "bool-bitfield-2", GDK, on_line("name: msr_bitmap, type: u32", "type: u32, bits: 1", "type: bool, bits: 1-2"),
        "is 2 bits wide but its type bool has 1")
    add("layout", "bits-2e64", MINI, on_line("name: guest_physical_address, bits: 12-63", "12-63", "2-18446744073709551615"),
        "beyond any record")
    add("layout", "bits-huge-single", MINI, on_line("name: enable, bits: 0", "bits: 0", "bits: 99999999999"),
        "beyond any record")
    add("layout", "bits-reversed", MINI, on_line("name: reserved1, bits: 8-15", "8-15", "15-8"), "reversed")
    add("layout", "bits-overlap", MINI, on_line("name: masked, bits: 16", "bits: 16", "bits: 15"), "overlaps")
    add("layout", "bits-gap", MINI, on_line("name: auto_eoi, bits: 17", "bits: 17", "bits: 18"), "not covered")
    add("layout", "bits-past-register", MINI, on_line("name: reserved2, bits: 21-63", "21-63", "21-64"),
        "goes past the 64 bits of register hv_synic_sint")
    add("layout", "bits-short-register", MINI, on_line("name: reserved2, bits: 21-63", "21-63", "21-62"),
        "not covered")
    add("layout", "bits-negative", MINI, on_line("name: enable, bits: 0", "bits: 0", "bits: -1"),
        "is less than the minimum|is not valid")
    add("layout", "bits-text", MINI, on_line("name: enable, bits: 0", "bits: 0", "bits: low"), "is not N or LO-HI")
    add("layout", "bits-three-parts", MINI, on_line("name: reserved, bits: 1-11", "1-11", "1-5-11"), "is not N or LO-HI")
    add("layout", "bitfield-struct-type", HDK, on_line("name: cr8, type: u8", "type: u8", "type: hv_x64_segment_register"),
        "is not an integer type")
    add("layout", "bitfield-unknown-type", HDK, on_line("name: cr8, type: u8", "type: u8", "type: u9"),
        "unknown type 'u9'")
    for value in ("3", "6", "1099511627776", "18446744073709551616", "8192", "0", "-8", "yes", "\"8\""):
        add("layout", f"aligned-{value.strip(chr(34))}", HDK, insert_after("struct: hv_stats_page", f"    aligned: {value}"),
            "is not a power of two|less than the minimum|is not of type|YAML reads")
    add("layout", "flex-in-union", HDK, on_line("name: as_uint32, type: u32, count: 4", "count: 4", "count: flex"),
        "flexible array 'as_uint32' in a union")
    add("layout", "flex-only-member", MINI, lambda t: delete("name: format, type: u64")(delete("name: valid_bank_mask")(t)),
        "only member of its struct", "name: bank_contents")
    add("layout", "flex-not-last", MINI, on_line("name: valid_bank_mask", "type: u64,", "type: u64, count: flex,"),
        "not the last member")
    add("layout", "flex-in-nested-union", MINI, on_line("name: payload, type: u64", "count: HV_MESSAGE_PAYLOAD_QWORD_COUNT",
                                                        "count: flex"), "in a union")
    add("layout", "flex-on-bitfield", HDK, on_line("name: cr8, type: u8", "bits: 36-39", "bits: 36-39, count: flex"),
        "a bitfield cannot be an array")
    add("layout", "count-name-without-count", MINI, on_line("name: valid_bank_mask", "type: u64,",
                                                            "type: u64, count_name: BANK_COUNT,"),
        "names the length of a member that has none")
    add("layout", "count-name-keyword", MINI, on_line("name: payload, type: u64", "count: HV_MESSAGE_PAYLOAD_QWORD_COUNT",
                                                      "count: HV_MESSAGE_PAYLOAD_QWORD_COUNT, count_name: int"),
        "count_name 'int'")
    add("layout", "count-name-on-bitfield", HDK, on_line("name: cr8, type: u8", "bits: 36-39",
                                                         "bits: 36-39, count_name: CR8_LEN"),
        "count_name is for an array member")
    add("layout", "last-comma-text", HMINI, insert_after("enum: hv_generic_set_format", "    last_comma: sometimes"),
        "is not of type|YAML reads")
    add("layout", "last-comma-on-struct", MINI, insert_after("struct: hv_vpset", "    last_comma: false"),
        "last_comma")
    add("layout", "assert-no-comparison", MINI,
        insert_after("struct: hv_vpset", '    asserts:\n      - that: "sizeof(struct hv_vpset)"'),
        "is not `LHS OP RHS` with one comparison", "- that:")
    add("layout", "assert-two-comparisons", MINI,
        insert_after("struct: hv_vpset", '    asserts:\n      - that: "1 == 1 == 1"'),
        "is not `LHS OP RHS` with one comparison", "- that:")
    add("layout", "assert-bad-expression", MINI,
        insert_after("struct: hv_vpset", '    asserts:\n      - that: "sizeof(struct hv_vpset) == 16 +"'),
        "unexpected", "- that:")
    add("layout", "assert-false", MINI,
        insert_after("struct: hv_vpset", '    asserts:\n      - that: "sizeof(struct hv_vpset) == 3"'),
        "assertion after struct hv_vpset is false", "- that:")
    add("layout", "assert-unknown-key", MINI,
        insert_after("struct: hv_vpset", '    asserts:\n      - {that: "sizeof(struct hv_vpset) == 16", unless: x86}'),
        "unless|Additional properties", "- {that:")
    add("layout", "count-on-anon", MINI, on_line("      - anon: struct", "anon: struct", "anon: struct\n        count: 2"),
        "anonymous struct/union member cannot be an array", "count: 2")
    add("layout", "enum-implicit-overflow", HMINI, on_line("name: HV_SUBNODE_ANY", "value: 0", "value: 0x7fffffff"),
        "overflows int", "name: HV_SUBNODE_SOCKET")
    add("layout", "enum-implicit-after-uint", HMINI, on_line("name: HV_SUBNODE_ANY", "value: 0", "value: 0xffffffff"),
        "overflows int", "name: HV_SUBNODE_SOCKET")
    add("layout", "enum-implicit-after-64bit", HMINI, on_line("name: HV_SUBNODE_ANY", "value: 0", "value: 0x100000000"),
        "overflows int", "name: HV_SUBNODE_SOCKET")
    add("layout", "enum-empty", HMINI, lambda t: re.sub(r"(enum: ~\n(?:    .*\n)*?    items:\n)(      - .*\n)+",
                                                      r"\1", t, count=1).replace("    items:\n\n", "    items: []\n\n", 1),
        "has no enumerators", "enum: ~")
    add("layout", "typedef-self", HMINI, on_line("    type: u16", "u16", "hv_pci_rid"), "typedef 'hv_pci_rid' refers to itself",
        "typedef: hv_pci_rid")
    add("layout", "typedef-cycle", HMINI, lambda t: on_line("    type: u16", "u16", "hv_pci_rid2")(t)
        + "\n  - typedef: hv_pci_rid2\n    header: {tlfs: generic}\n    type: hv_pci_rid\n",
        "refers to itself", "typedef: hv_pci_rid")
    add("layout", "typedef-unknown", HMINI, on_line("    type: u16", "u16", "u17"), "unknown type 'u17'",
        "typedef: hv_pci_rid")
    add("layout", "member-unknown-type", HDK, on_line("name: rip, type: u64", "type: u64", "type: uint64_t"),
        "unknown type 'uint64_t'")
    add("layout", "member-type-empty", HDK, on_line("name: rip, type: u64", "type: u64", "type: \"\""),
        "unknown type ''")
    add("layout", "record-contains-itself", HDK, on_line("name: rip, type: u64", "type: u64",
                                                        "type: hv_x64_intercept_message_header"),
        "contains itself", "struct: hv_x64_intercept_message_header")
    add("layout", "register-raw-struct", GDK, sub("    type: u32\n    raw: asu32", "    type: hv_enlightenments_control\n    raw: asu32"),
        "is not an integer type", "name: id, bits: 0-23")
    add("layout", "raw-count-zero", GDK, on_line("raw: asu32", "asu32", "{name: asu32, count: 0}"), "0 elements",
        "register: hv_connection_id")
    add("layout", "bit-position-wrong", HDK, on_line("name: instruction_length", "bits: 32-35", "bits: 33-36"),
        "not covered|C places it")
    add("layout", "union-bitfield-offset", MINI, on_line("name: additional_pages", "bits: 0-10", "bits: 1-11"),
        "C places it|not covered|overlaps")
    add("layout", "variant-bits-gap", MINI, on_line("name: reserved2, bits: 19-63", "19-63", "20-63"), "not covered")
    add("layout", "record-before-use", MINI, lambda t: _move_entry(t, "struct: hv_message_header", "struct: hv_message"),
        "before it is defined", "name: header, type: hv_message_header")


def _move_entry(text, first, second):
    """Swap two adjacent entries, so the first uses a type defined after it."""
    blocks = re.split(r"(?m)^(?=  - )", text)
    i = next(i for i, b in enumerate(blocks) if b.startswith("  - " + first + "\n"))
    j = next(i for i, b in enumerate(blocks) if b.startswith("  - " + second + "\n"))
    blocks[i], blocks[j] = blocks[j], blocks[i]
    return "".join(blocks)


def _schema():
    unknown = [
        ("file-top", MINI, "header: {hdk: hvgdk_mini}", "header:", "headers:", "Additional properties"),
        ("entry", MINI, "struct: hv_vpset", "    packed: true", "    pakced: true", "Additional properties"),
        ("member", MINI, "name: valid_bank_mask", "doc:", "dco:", "Additional properties"),
        ("bitfield", MINI, "name: masked, bits: 16", "doc:", "docs:", "Additional properties"),
        ("const-item", MINI, "name: HV_HYP_PAGE_SHIFT", "doc:", "description:", "Additional properties"),
        ("enumerator", HMINI, "name: HV_SUBNODE_SOCKET", "doc:", "comment:", "Additional properties"),
        ("variant", HMINI, "why: \"Linux adds", "why:", "reason:", "Additional properties|required"),
        ("nested", MINI, "      - struct: page", "struct: page", "struct: page\n        pack: true",
         "Additional properties"),
        ("raw-map", GDK, "raw: asu32", "asu32", "{name: asu32, lats: true}", "Additional properties"),
        ("value-map", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12", "value: {x86_64: 12, arm: 12}", "is not valid"),
        ("kind-typo", HDK, "struct: hv_stats_page", "struct:", "strcut:", "kind key .*this one has none"),
        ("two-kinds", HDK, "struct: hv_stats_page", "struct: hv_stats_page", "struct: hv_stats_page\n    union: x",
         "exactly one kind key"),
        ("member-two-kinds", MINI, "      - struct: page", "struct: page", "struct: page\n        union: p",
         "a member is either"),
    ]
    for name, f, anchor, old, new, frag in unknown:
        add("schema", f"unknown-key-{name}", f, on_line(anchor, old, new), frag)
    wrong_types = [
        ("doc-list", MINI, "struct: hv_vpset", "    packed: true", "    packed: [true]", "is not of type 'boolean'"),
        ("packed-string", MINI, "struct: hv_tlb_flush", "    packed: true", "    packed: yes please", "is not of type 'boolean'"),
        ("members-map", HDK, "struct: hv_input_translate_virtual_address", "    members:", "    members: {}\n    x:",
         "YAML syntax|is not of type|Additional"),
        ("items-string", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "      - {name", "      - - {name", "is not of type 'object'|is not valid"),
        ("name-int", HMINI, "name: HV_SUBNODE_SOCKET", "name: HV_SUBNODE_SOCKET", "name: 5", "is not of type 'string'"),
        ("name-missing", HDK, "name: rip, type: u64", "name: rip, ", "", "a member is either"),
        ("type-missing", HDK, "name: rip, type: u64", "type: u64, ", "", "a member is either"),
        ("value-missing", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12, ", "", "'value' is a required property"),
        ("bits-missing", MINI, "name: masked, bits: 16", "bits: 16, ", "", "'bits' is a required property"),
        ("defs-map", EXT, "defs:", "defs:", "defs: {}\nx:", "YAML syntax|is not of type|Additional"),
        ("hvabi-1", GDK, "hvabi: 2", "hvabi: 2", "hvabi: 1", "2 was expected"),
        ("hvabi-missing", GDK, "hvabi: 2", "hvabi: 2", "version: 2", "required property|Additional"),
        ("reserved-string", MINI, "name: reserved1, bits: 8-15", "reserved: true", "reserved: maybe", "is not of type 'boolean'"),
        ("volatile-int", HDK, "name: rip, type: u64", "type: u64", "type: u64, volatile: 1", "is not of type 'boolean'"),
        ("anon-kind", MINI, "      - anon: struct", "anon: struct", "anon: enum", "is not one of|is not valid"),
        ("variants-one", HMINI, "      - only: rust-vmm", "rust-vmm", "rust-vmm\n        kind: enum", "is not one of|is not valid"),
        ("header-list", MINI, "header: {hdk: hvgdk_mini}", "{hdk: hvgdk_mini}", "[hvgdk_mini]", "is not of type 'object'"),
        ("header-value-int", HDK, "struct: hv_stats_page", "    only: hdk", "    only: hdk\n    header: {hdk: 5}",
         "is not of type 'string'"),
    ]
    for name, f, anchor, old, new, frag in wrong_types:
        add("schema", name, f, on_line(anchor, old, new), frag)
    conditions = [
        ("only-typo", HDK, "struct: hv_stats_page", "only: hdk", "only: hkd", "names no arch, view or profile"),
        ("only-empty", HDK, "struct: hv_stats_page", "only: hdk", "only: []", "should be non-empty|is not valid|too short"),
        ("only-arch-typo", MINI, "hv_x64_msr_hypercall_contents", "only: x86_64", "only: x86", "names no arch"),
        ("only-at-typo", MINI, "only: hdk@x86_64", "hdk@x86_64", "hdk@x86-64", "names no arch"),
        ("only-at-two", MINI, "only: hdk@x86_64", "hdk@x86_64", "hdk@x86_64@arm64", "names no arch"),
        ("only-list-typo", MINI, "only: [linux, tlfs]", "[linux, tlfs]", "[linux, tlsf]", "names no arch"),
        ("only-int", HDK, "struct: hv_stats_page", "only: hdk", "only: 5", "is not valid"),
        ("only-member-typo", EXT, "name: heat_type", "only: hdk", "only: hdkk", "names no arch"),
        ("only-bitfield-typo", MINI, "name: as_intercept", "only: hdk", "only: HDK", "names no arch"),
        ("only-enumerator-typo", HMINI, "name: HV_SUBNODE_SOCKET", "doc:", "only: armv8, doc:", "names no arch"),
        ("only-profile-no-why", HDK, "struct: hv_stats_page", "only: hdk", "only: linux", "needs a `why`"),
        ("only-member-view-no-why", HDK, "name: rip, type: u64", "type: u64,", "type: u64, only: tlfs,", "needs a `why`"),
        ("variant-no-why", HMINI, "why: \"rust-vmm's copy", "        why:", "        note:", "required|Additional"),
        ("variant-kind-on-enum", HMINI, "      - only: rust-vmm", "only: rust-vmm", "only: rust-vmm\n        kind: struct",
         "`kind` in a variant of enum"),
        ("ahead-unknown", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8,", "value: 8, ahead: [rustvmm],",
         "unknown profile 'rustvmm'"),
        ("ahead-false", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8,", "value: 8, ahead: false,", "`ahead` is false: YAML reads"),
        ("ahead-empty", HMINI, "HV_MAX_CONTIGUOUS_ALLOCATION_PAGES", "value: 8,", "value: 8, ahead: [],", "is too short"),
        ("header-key-typo", MINI, "header: {tlfs: generic}", "{tlfs: generic}", "{tfls: generic}", "is no view or profile"),
        ("header-key-file", HMINI, "header: {hdk: hvhdk_mini}", "{hdk: hvhdk_mini}", "{hdkk: hvhdk_mini}",
         "is no view or profile"),
        ("header-key-item", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12,", "value: 12, header: {rust: hvgdk},",
         "is no view or profile"),
        ("header-id-typo", HDK, "struct: hv_stats_page", "only: hdk", "only: hdk\n    header: {hdk: hvhdkk}",
         "placed in header 'hvhdkk'", "header: {hdk: hvhdkk}"),
        ("header-id-typo-item", MINI, "name: HV_HYP_PAGE_SHIFT", "value: 12,", "value: 12, header: {tlfs: genric},",
         "placed in header 'genric'"),
        ("header-missing", MINI, "header: {hdk: hvgdk_mini}", "header: {hdk: hvgdk_mini}", "doc: no header",
         "has no header placement", "consts: hvgdk-mini-h-version"),
    ]
    for case in conditions:
        name, f, anchor, old, new, frag = case[:6]
        add("schema", name, f, on_line(anchor, old, new), frag, *case[6:])
    add("schema", "omit-unknown-name", PROFILES, on_line("HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION",
                                                         "HVGDK_MINI_H_VERSIONN"), "which the spec does not define")


def _profiles():
    cases = [
        ("unknown-top-key", "profiles:", "profiles:", "profile:", "unknown key 'profile'"),
        ("profiles-list", "profiles:", "profiles:", "profiles: []\nx:", "YAML syntax|needs a `profiles:`|unknown key"),
        ("unknown-profile-key", "    view: \"hdk\"", "view:", "veiw:", "unknown key 'veiw'"),
        ("view-typo", "    view: \"hdk\"", "\"hdk\"", "\"hdkk\"", "needs a `view:` of spec/profiles.yaml"),
        ("view-list", "    view: \"hdk\"", "\"hdk\"", "[hdk]", "needs a `view:` of spec/profiles.yaml"),
        ("omit-arch-typo", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION", "HVGDK_MINI_H_VERSION@x86", "is not NAME or NAME@ARCH"),
        ("omit-bad-name", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION", "HVGDK MINI", "is not NAME or NAME@ARCH"),
        ("omit-newline", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION", "\"HVGDK_MINI_H_VERSION\\n\"", "is not NAME or NAME@ARCH"),
        ("omit-twice", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION, HVGDK_MINI_H_VERSION,",
         "omits HVGDK_MINI_H_VERSION twice"),
        ("omit-string", "    omit: [", "    omit: [", "    omit: HVGDK_MINI_H_VERSION\n    x: [", "must be a list|unknown key"),
        ("omit-wrong-view", "hv_input_vtl@arm64", "hv_input_vtl@arm64", "hv_stats_page", "does not have anyway"),
        ("omit-at-at", "HVGDK_MINI_H_VERSION,", "HVGDK_MINI_H_VERSION", "HVGDK_MINI_H_VERSION@arm64@x86_64",
         "is not NAME or NAME@ARCH"),
        ("profile-not-map", "  linux:", "  linux:", "  linux: hdk\n  linux2:", "must be a mapping"),
        ("hvabi-1", "hvabi: 2", "hvabi: 2", "hvabi: 1", "needs `hvabi: 2`"),
        ("profile-name-bad", "  linux:", "linux", "li nux", "is not usable"),
        ("doc-list", "    doc: \"Microsoft", "doc:", "doc: [x]\n    reference2:", "unknown key|must be text"),
    ]
    for name, anchor, old, new, frag in cases:
        add("profiles", name, PROFILES, on_line(anchor, old, new), frag)
    add("profiles", "no-profiles", PROFILES, whole("hvabi: 2\n"), "needs a `profiles:` mapping", 1)
    add("profiles", "only-names-removed-profile", PROFILES, lambda t: re.sub(r"  rust-vmm:\n(    .*\n)*", "", t),
        "names no arch, view or profile|unknown profile", "only: rust-vmm", HMINI)


def _products():
    cases = [
        ("header-without-path", "{id: hvgdk_ext, path: include/hyperv/hvgdk_ext.h,", "path: include/hyperv/hvgdk_ext.h, ",
         "", "is missing \\(`path:`\\)"),
        ("product-without-root", "    root: include/uapi", "    root: include/uapi", "    rot: include/uapi",
         "unknown key 'rot'|root of product"),
        ("header-as-string", "{id: hvgdk_ext, path: hyperv/hvgdk_ext.h",
         "{id: hvgdk_ext, path: hyperv/hvgdk_ext.h, guard: _UAPI_HYPERV_HVGDK_EXT_H,", "hyperv/hvgdk_ext.h\n      - {x: y,",
         "must be a mapping"),
        ("products-misspelt", "products:", "products:", "product:", "unknown key 'product'"),
        ("products-list", "products:", "products:", "products: []\nx:", "YAML syntax|needs a `products:`|unknown key"),
        ("unknown-product-key", "    flavor: uapi", "flavor:", "falvor:", "unknown key 'falvor'|unknown flavor"),
        ("unknown-header-key", "{id: hvgdk, path: hyperv/hvgdk.h", "{id: hvgdk,", "{id: hvgdk, trailer: [],",
         "unknown key 'trailer'"),
        ("flavor-typo", "    flavor: uapi", "uapi", "uappi", "unknown flavor 'uappi'"),
        ("profile-typo", "    profile: rust-vmm", "rust-vmm", "rustvmm", "unknown profile 'rustvmm'"),
        ("selector-without-hdk", "hdk: \"<hyperv/hvhdk.h>\"", "hdk: \"<hyperv/hvhdk.h>\", ", "",
         "the selector header needs `hdk:`", "{id: selector"),
        ("selector-hdk-bare", "hdk: \"<hyperv/hvhdk.h>\"", "\"<hyperv/hvhdk.h>\"", "hyperv/hvhdk.h",
         "the selector header needs `hdk:`"),
        ("selector-extra-key", "hdk: \"<hyperv/hvhdk.h>\"", "hdk:", "includes: [], hdk:", "unknown key 'includes'"),
        ("hdk-key-on-kernel", "{id: hvhdk, path: include/hyperv/hvhdk.h", "{id: hvhdk,", "{id: hvhdk, hdk: \"<x.h>\",",
         "unknown key 'hdk'"),
        ("includes-string", "{id: hvgdk_mini, path: hyperv/hvgdk_mini.h", "includes: [\"<linux/types.h>\", \"<linux/const.h>\"]",
         "includes: \"<linux/types.h>\"", "must be a list of"),
        ("include-bare", "includes: [\"<linux/types.h>\", \"<linux/const.h>\"]", "\"<linux/const.h>\"", "linux/const.h",
         "must be a list of"),
        ("include-unclosed", "includes: [\"<linux/types.h>\", \"<linux/const.h>\"]", "\"<linux/const.h>\"", "\"<linux/const.h\"",
         "must be a list of"),
        ("include-injection", "includes: [\"<linux/types.h>\", \"<linux/const.h>\"]", "\"<linux/const.h>\"",
         "\"<linux/const.h>\\n#define X 1\"", "must be a list of"),
        ("trailer-bare", "trailer_includes: [\"<asm-generic/hyperv-tlfs.h>\"]", "\"<asm-generic/hyperv-tlfs.h>\"",
         "asm-generic/hyperv-tlfs.h", "must be a list of"),
        ("duplicate-header-id", "{id: hvhdk_mini, path: hyperv/hvhdk_mini.h", "{id: hvhdk_mini,", "{id: hvgdk,",
         "header id 'hvgdk' is listed twice"),
        ("duplicate-guard", "guard: _UAPI_HYPERV_HVGDK_EXT_H", "_UAPI_HYPERV_HVGDK_EXT_H", "_UAPI_HYPERV_HVGDK_MINI_H",
         "guard _UAPI_HYPERV_HVGDK_MINI_H is used twice"),
        ("guard-dash", "guard: _HV_HVGDK_H", "_HV_HVGDK_H", "_HV-HVGDK_H", "not a valid C identifier"),
        ("guard-keyword", "guard: _HV_HVGDK_H", "_HV_HVGDK_H", "int", "is a C keyword"),
        ("guard-missing", "guard: _HV_HVGDK_H", "guard: _HV_HVGDK_H,", "", "has no `guard:`"),
        ("guard-newline", "guard: _HV_HVGDK_H", "_HV_HVGDK_H", "\"_HV_HVGDK_H\\n\"", "not a valid C identifier"),
        ("colliding-paths", "{id: hvgdk_ext, path: include/hyperv/hvgdk_ext.h", "include/hyperv/hvgdk_ext.h",
         "include/hyperv/hvgdk_mini.h", "which product 'hdk-kernel' writes too"),
        ("colliding-products", "    root: include/uapi", "include/uapi", "include/hvhdk/include", "writes too",
         "{id: hvgdk_mini, path: hyperv/hvgdk_mini.h"),
        ("root-dotdot", "    root: include/uapi", "include/uapi", "../" + ESCAPE, "not a relative path inside"),
        ("root-inner-dotdot", "    root: include/uapi", "include/uapi", "include/../../" + ESCAPE, "not a relative path inside"),
        ("root-empty", "    root: include/uapi", "include/uapi", "\"\"", "not a relative path inside"),
        ("root-dot", "    root: include/uapi", "include/uapi", ".", "not a relative path inside"),
        ("root-git", "    root: include/uapi", "include/uapi", ".git/hooks", "not a relative path inside"),
        ("root-trailing-slash", "    root: include/uapi", "include/uapi", "include/uapi/", "not a relative path inside"),
        ("root-int", "    root: include/uapi", "include/uapi", "5", "not a relative path inside"),
        ("path-dotdot", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "../../" + ESCAPE + "/x.h",
         "not a relative path inside"),
        ("path-absolute", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "/tmp/" + ESCAPE + ".h",
         "not a relative path inside"),
        ("path-not-header", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "hyperv/hvgdk.c",
         "not a relative path inside"),
        ("path-backslash", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "hyperv\\\\..\\\\x.h",
         "not a relative path inside"),
        ("path-double-slash", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "hyperv//hvgdk.h",
         "not a relative path inside"),
        ("path-hidden", "{id: hvgdk, path: hyperv/hvgdk.h", "hyperv/hvgdk.h", "hyperv/.hvabi-txn/x.h",
         "not a relative path inside"),
        ("name-dotdot", "  hdk-uapi:", "hdk-uapi", "../" + ESCAPE, "product name '../"),
        ("name-slash", "  hdk-uapi:", "hdk-uapi", "a/b", "product name 'a/b'"),
        ("name-dot", "  hdk-uapi:", "hdk-uapi", "\".hidden\"", "product name"),
        ("doc-comment-end", "    doc: HDK view, uapi flavor", "standalone", "standalone */ int x; /*",
         "contains a comment delimiter"),
        ("spdx-comment-end", "    spdx: GPL-2.0 WITH Linux-syscall-note", "Linux-syscall-note",
         "Linux-syscall-note */", "contains a comment delimiter"),
        ("spdx-junk", "    spdx: GPL-2.0 WITH Linux-syscall-note", "GPL-2.0 WITH Linux-syscall-note",
         "\"GPL-2.0;\"", "not an SPDX license expression"),
        ("spdx-missing", "    spdx: GPL-2.0 WITH Linux-syscall-note", "    spdx:", "    license:", "unknown key 'license'|has no `spdx`"),
        ("doc-list", "    doc: HDK view, uapi flavor", "doc: HDK view, uapi flavor; standalone, for user space and bindgen.",
         "doc: [a]", "must be text"),
        ("header-arch-typo", "{id: arch, arch: x86_64", "arch: x86_64", "arch: x86-64", "is no arch"),
        ("uapi-types-elsewhere", "uapi_types: [hv_message_flags", "hv_message_flags", "hv_vp_assist_page",
         "uapi_types lists hv_vp_assist_page, which header include/asm-generic/hyperv-tlfs.h does not hold"),
        ("uapi-types-string", "uapi_types: [hv_message_flags", "uapi_types: [hv_message_flags,",
         "uapi_types: \"hv_message_flags\", x: [", "must be a list of record names|unknown key"),
        ("arch-test-typo", "guard: _HV_HVHDK_H, arch_test: IS_ENABLED", "IS_ENABLED", "is_enabled",
         "arch_test 'is_enabled' of a header of product 'hdk-kernel' is not defined or IS_ENABLED"),
        ("arch-test-uapi", "guard: _UAPI_HYPERV_HVHDK_H", "_UAPI_HYPERV_HVHDK_H,",
         "_UAPI_HYPERV_HVHDK_H, arch_test: IS_ENABLED,", "is not possible in a uapi header"),
        ("header-id-typo", "{id: hvgdk_ext, path: hyperv/hvgdk_ext.h", "id: hvgdk_ext", "id: hvgdk_extt",
         "header id 'hvgdk_extt' of product 'hdk-uapi' receives no definition"),
        ("header-id-bad", "{id: hvgdk_ext, path: hyperv/hvgdk_ext.h", "id: hvgdk_ext", "id: \"hvgdk ext\"",
         "is not a name"),
        ("headers-empty", "    headers:", "    headers:", "    headers: []\n    x:", "YAML syntax|needs `headers:`|unknown key"),
        ("headers-string", "    headers:", "    headers:", "    headers: hvgdk\n    x:", "needs `headers:`|unknown key"),
        ("product-string", "  selector:", "  selector:", "  selector: yes\n  selector2:", "must be a mapping"),
    ]
    for name, anchor, old, new, frag, *where in cases:
        add("products", name, PRODUCTS, on_line(anchor, old, new), frag, *where)
    add("products", "root-absolute", PRODUCTS,
        with_tmp(lambda t, tmp: on_line("    root: include/uapi", "include/uapi", str(tmp / ESCAPE))(t)),
        "not a relative path inside")
    add("products", "empty-file", PRODUCTS, whole(""), "spec file is empty", 1)
    add("products", "no-products", PRODUCTS, whole("products: {}\n"), "needs a `products:` mapping", 1)
    add("products", "header-id-typo-kernel", PRODUCTS, on_line("{id: hvhdk_mini, path: include/hyperv/hvhdk_mini.h",
                                                               "id: hvhdk_mini", "id: hvhdk_mnii"),
        "receives no definition")


def _order():
    add("order", "order-unknown-name", ORDER, on_line("  - HV_HYP_PAGE_SHIFT", "SHIFT", "SHIFTT"),
        "which the spec does not define")
    add("order", "order-listed-twice", ORDER, duplicate("  - HV_HYP_PAGE_SHIFT"), "twice")
    add("order", "order-not-in-header", ORDER, insert_after("  - HV_HYP_PAGE_SHIFT",
                                                                 "  - hv_partition_property_code"),
        "which header include/asm-generic/hyperv-tlfs.h does not hold")
    add("order", "order-not-a-list", ORDER, whole("order: HV_HYP_PAGE_SHIFT\n"), "must hold `order:`", 1)
    add("order", "order-file-missing", PRODUCTS, on_line("order: order/tlfs-generic.yaml", "tlfs-generic",
                                                   "tlfs-generik"), "does not exist")
    add("order", "order-path-escapes", PRODUCTS, on_line("order: order/tlfs-generic.yaml", "order/tlfs",
                                                   "../order/tlfs"), "not a relative path")


def _text():
    spots = [
        (MINI, "struct: hv_vpset", "    doc: \"A set", "    doc: \"A /* set"),
        (MINI, "name: valid_bank_mask", "doc: Which banks", "doc: Which */ banks"),
        (MINI, "name: masked, bits: 16", "doc: The source", "doc: The */ source"),
        (MINI, "name: HV_HYP_PAGE_SHIFT", "doc: Base-2", "doc: Base-2 */"),
        (HMINI, "name: HV_SUBNODE_SOCKET", "doc: The subnode", "doc: The /* subnode"),
        (HMINI, "doc: Selectors of the partition", "doc: Selectors", "doc: Selectors */"),
        (GDK, "doc: Identifier of an inter-partition", "doc: Identifier", "doc: Identifier /*"),
        (HDK, "doc: One output element", "doc: One", "doc: One /*"),
        (HDK, "doc: Settings of a message connection", "doc: Settings", "doc: Settings */"),
        (EXT, "name: heat_type", "doc: \"Heat type", "doc: \"Heat */ type"),
    ]
    for i, (f, anchor, old, new) in enumerate(spots):
        add("text", f"comment-delimiter-{i}", f, on_line(anchor, old, new), "comment delimiter")
    add("text", "doc-not-text", MINI, on_line("name: valid_bank_mask", "doc: Which banks are present in bank_contents.",
                                              "doc: [a]"), "is not of type 'string'")
    add("text", "why-not-text", HMINI, on_line("why: \"rust-vmm's copy", "why:", "why: [x]\n        y:"),
        "YAML syntax|is not of type|Additional")


_encoding()
_yaml()
_integers()
_expressions()
_names()
_layout()
_schema()
_profiles()
_products()
_order()
_text()
CASES = [c for c in CASES if c is not None]


def main(argv):
    if "--list" in argv:
        for case in CASES:
            print(f"{case.category:12} {case.name:40} {case.file}")
        print(len(CASES), "cases")
        return 0
    if "--write" in argv:
        out = pathlib.Path(argv[argv.index("--write") + 1])
        files = base.build()
        for case in CASES:
            mutated, expect, line = case.apply(files, out / case.name)
            base.write(mutated, out / case.name / "spec")
            (out / case.name / "expect.txt").write_text(f"spec/{expect}:{line}: {case.fragment}\n")
        print(len(CASES), "cases written to", out)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
