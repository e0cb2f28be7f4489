"""Table-driven tests of the engines every product rests on, each against an independent
oracle: constant expressions evaluated by the spec vs the C compiler, `only:` terms and
`omit` vs the selections they must keep, record layouts by the spec's engine vs libclang.

Run: cd tests/unit && PYTHONPATH=../../gen /usr/bin/python3 -m unittest test_tables
"""

import pathlib
import subprocess
import tempfile
import unittest

from hvabi import layout
from hvabi.facts import compare
from hvabi import model as m
from hvabi.extract import clang_facts
from hvabi.select import Abi
from hvabi.spec import expr
from hvabi.spec.loader import load_spec, parse_term

# --- expressions: the spec's value and C type vs the compiler's ---------------------------

EXPRESSIONS = [
    "0", "0x2", "2147483647", "2147483648", "0x80000000", "0xffffffff", "4294967296",
    "0xf0000000ull", "10u", "-1", "~0", "~0u", "((u64)-1)", "((u32)-1)", "((u8)0x1ff)",
    "((s8)0x80)", "(u16)65535 + 1", "BIT(0)", "BIT(31)", "BIT(63)", "BIT_ULL(40)",
    "GENMASK(7, 4)", "GENMASK_ULL(43, 32)", "(1 << 31)", "(1u << 31)", "(1ull << 63)",
    "(-8 / 3)", "(-8 % 3)", "(7 / -2)", "(0xff & ~0x0f) | 0x100", "(1 ^ 3) + (6 >> 1)",
    "sizeof(u64) * 8 - 2", "(4096 / sizeof(u64)) - 2", "(~(4096 - 1))", "-(1 << 4)",
    "2 * 3 + 4 % 3 - 1", "!0 + !5",
]

C_PRELUDE = """
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
typedef unsigned long long u64; typedef signed char s8; typedef short s16;
typedef int s32; typedef long long s64;
#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) (((~0UL) - (1UL << (l)) + 1) & (~0UL >> (64 - 1 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) - (1ULL << (l)) + 1) & (~0ULL >> (64 - 1 - (h))))
#define SIGNED(x) ((__typeof__(x))-1 < 0)
"""


def _spec_value(text):
    def no_name(name):
        raise AssertionError(f"no constants in this table: {name}")
    return expr.evaluate(expr.parse(text), no_name, lambda t: expr.SCALARS[t][0] // 8).wrap()


def _compiles(source, compiler):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp, "t.c")
        path.write_text(source)
        run = subprocess.run([compiler, "-std=gnu11", "-fsyntax-only", "-Werror=overflow", str(path)],
                             capture_output=True, text=True)
        return run.returncode == 0, run.stderr


class Expressions(unittest.TestCase):
    def assertion(self, text):
        v = _spec_value(text)
        # The spec values an expression as C does where it is used: promoted (`+(x)`).
        return (f"_Static_assert(({text}) == {v.value}{'' if v.signed else 'u'}LL"
                f" && sizeof(+({text})) == {v.bits // 8} && SIGNED(+({text})) == {int(v.signed)},"
                f" \"{text}\");")

    def test_values_widths_and_signedness_match_the_compiler(self):
        for compiler in ("gcc", "aarch64-linux-gnu-gcc", "clang"):
            body = "\n".join(self.assertion(t) for t in EXPRESSIONS)
            ok, err = _compiles(C_PRELUDE + body, compiler)
            if not ok:      # say which rows
                bad = [t for t in EXPRESSIONS if not _compiles(C_PRELUDE + self.assertion(t), compiler)[0]]
                self.fail(f"{compiler}: the spec evaluates differently from C: {bad}\n{err[:2000]}")

    def test_the_oracle_can_disagree(self):
        # A wrong expected value must not compile: the comparison above is real.
        ok, _ = _compiles(C_PRELUDE + "_Static_assert((0x80000000) == 2147483648LL && SIGNED(0x80000000)"
                          " == 1, \"x\");", "gcc")
        self.assertFalse(ok)


# --- selection: `only:` terms and omit lists ------------------------------------------------

PROFILES = {"tlfs": "tlfs", "linux": "hdk", "rust-vmm": "hdk"}
SELECTION = [
    # only terms, omit (profile -> {name: arches or None}), where it must exist
    ([], {}, {(p, a) for p in PROFILES for a in m.ARCHES}),
    (["x86_64"], {}, {(p, "x86_64") for p in PROFILES}),
    (["hdk"], {}, {("linux", a) for a in m.ARCHES} | {("rust-vmm", a) for a in m.ARCHES}),
    (["tlfs@x86_64", "hdk"], {}, {("tlfs", "x86_64")} | {(p, a) for p in ("linux", "rust-vmm") for a in m.ARCHES}),
    (["linux@arm64"], {}, {("linux", "arm64")}),
    (["hdk"], {"rust-vmm": {"X": None}}, {("linux", a) for a in m.ARCHES}),
    ([], {"tlfs": {"X": frozenset(["arm64"])}}, {(p, a) for p in PROFILES for a in m.ARCHES} - {("tlfs", "arm64")}),
    (["arm64", "tlfs"], {}, {(p, "arm64") for p in PROFILES} | {("tlfs", "x86_64")}),
]


class Selection(unittest.TestCase):
    def test_terms_and_omissions_keep_exactly_their_selections(self):
        for terms, omit, want in SELECTION:
            pairs = frozenset(parse_term(t, PROFILES) for t in terms)
            cond = m.Cond(pairs) if pairs else m.ALWAYS
            node = m.ConstGroup("g", items=[m.Const("X", cond=cond, values=[(m.ALWAYS, expr.Num(1, "1"))])])
            spec = m.Spec([m.Entry(node, m.Placement({"hdk": "h", "tlfs": "h"}))],
                          {p: m.Profile(p, v, omit=omit.get(p, {})) for p, v in PROFILES.items()})
            got = {(p, a) for p in PROFILES for a in m.ARCHES
                   if "X" in Abi(spec, m.Selection(p, PROFILES[p], a)).consts}
            self.assertEqual(got, want, (terms, omit))

    def test_unknown_terms_are_refused(self):
        for term in ("x86", "hdk@arm", "nosuch", "tlfs@"):
            self.assertIsNone(parse_term(term, PROFILES), term)


# --- layout: the spec's engine vs libclang ---------------------------------------------------

LAYOUTS = [
    # (spec YAML of one record, the same record in C)
    ("""struct: t_plain
    members:
      - {name: a, type: u8}
      - {name: b, type: u64}
      - {name: c, type: u16, count: 3}""",
     "struct t_plain { u8 a; u64 b; u16 c[3]; };"),
    ("""struct: t_packed
    packed: true
    members:
      - {name: a, type: u8}
      - {name: b, type: u32}""",
     "struct t_packed { u8 a; u32 b; } __attribute__((packed));"),
    ("""struct: t_bits
    members:
      - {name: a, type: u32, bits: 0-2}
      - {name: b, type: u32, bits: 3-30}
      - {name: r, type: u32, bits: 31, reserved: true}
      - {name: c, type: u8}""",
     "struct t_bits { u32 a:3; u32 b:28; u32 r:1; u8 c; };"),
    ("""union: t_union
    aligned: 16
    members:
      - {name: w, type: u64}
      - anon: struct
        members:
          - {name: lo, type: u32}
          - {name: hi, type: u16}""",
     "union t_union { u64 w; struct { u32 lo; u16 hi; }; } __attribute__((aligned(16)));"),
    ("""struct: t_pbits
    packed: true
    members:
      - {name: a, type: u8}
      - {name: b, type: u32, bits: 8-37}
      - {name: c, type: u32, bits: 38-63}""",
     "struct t_pbits { u8 a; u32 b:30; u32 c:26; } __attribute__((packed));"),
    ("""struct: t_flex
    members:
      - {name: n, type: u16}
      - {name: e, type: u64, count: flex}""",
     "struct t_flex { u16 n; u64 e[]; };"),
    ("""register: t_reg
    type: u32
    fields:
      - {name: v, bits: 0-7}
      - {name: m, bits: 8}
      - {name: r, bits: 9-31, reserved: true}""",
     "union t_reg { u32 as_uint64; struct { u32 v:8; u32 m:1; u32 r:23; } __attribute__((packed)); };"),
]


class Layout(unittest.TestCase):
    def test_records_lay_out_as_libclang_says(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            spec = tmp / "spec"
            (spec / "defs").mkdir(parents=True)
            (spec / "profiles.yaml").write_text("hvabi: 2\nprofiles:\n  p: {view: hdk}\n")
            body = "".join(f"  - {y}\n    doc: A test record.\n" for y, _ in LAYOUTS)
            (spec / "defs/10-t.yaml").write_text("hvabi: 2\nheader: {hdk: t}\ndefs:\n" + body)
            header = tmp / "t.h"
            header.write_text("typedef unsigned char u8; typedef unsigned short u16;"
                              " typedef unsigned int u32; typedef unsigned long long u64;\n"
                              + "\n".join(c for _, c in LAYOUTS) + "\n")
            loaded = load_spec(spec)
            for arch in m.ARCHES:
                ours = layout.facts(Abi(loaded, m.Selection("p", "hdk", arch)))
                theirs = clang_facts.extract([header], arch)
                self.assertEqual(len(ours["records"]), len(LAYOUTS))
                self.assertEqual(compare(theirs, ours, set(ours["records"])), [], arch)


if __name__ == "__main__":
    unittest.main()
