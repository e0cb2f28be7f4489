"""libclang facts extractor and facts comparison, on tiny self-made headers.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_clang_facts.py
"""

import _thread
import os
import tempfile
import unittest
from unittest import mock

from hvabi import facts
from hvabi.extract import clang_facts, macro_probes

HEADER = """\
#include "dep/dep.h"
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

enum t_sign { T_NEG = -2, T_POS = 5 };
enum { T_ANON = 7 };

/* A TLFS-style register: packed union over an anonymous bitfield struct. */
union t_reg {
    u64 as_uint64;
    struct {
        u64 a : 3;
        u64 b : 5;
        u64 : 4;
        u64 c : 52;
    } __attribute__((packed));
} __attribute__((packed));

struct t_outer {
    u32 x;
    struct {
        u16 lo;
        u16 hi;
    } parts;
    union {
        u32 word;
        u8 bytes[4];
    };
    struct dep_rec dep;
    unsigned long ul;
    _Bool flag;
    char ch;
    signed char sc;
    u8 grid[2][3];
    enum t_sign sign;
};

struct t_flex {
    u32 count;
    u32 reserved;
    u64 items[];
};

#define T_BIT(n) (1UL << (n))
#define T_FLAG T_BIT(3)
#define T_PAREN (5)
#define T_ALL_ONES ((u64)-1)
#define T_SELF ((u32)-2)
#define T_MINUS_ONE (-1)
#define T_CHAR_MAX_BITS ((char)-1)
#define T_ULONG (~0UL)
#define T_OUTER_SIZE sizeof(struct t_outer)
#define T_STRING "not a number"
#define T_TYPE unsigned int
#define T_EMPTY
#define T_OVERSHIFT (1 << 40)
"""

DEP = """\
struct dep_rec { unsigned int v; };
#define DEP_VALUE 42
"""


def member(record, path):
    return next(m for m in record["members"] if m["path"] == path)


class ExtractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        os.mkdir(os.path.join(root, "dep"))
        cls.header = os.path.join(root, "t.h")
        with open(cls.header, "w") as f:
            f.write(HEADER)
        with open(os.path.join(root, "dep", "dep.h"), "w") as f:
            f.write(DEP)
        # `dep/` lies under the header's directory, so scope it out explicitly
        # to check that only_files limits what is reported.
        cls.facts = {arch: clang_facts.extract([cls.header], arch, only_files=[cls.header])
                     for arch in clang_facts.TRIPLES}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def write(self, name, text):
        """The path of a new header `name` in the scratch directory, holding `text`."""
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def each_arch(self):
        for arch, result in self.facts.items():
            with self.subTest(arch=arch):
                yield arch, result

    def test_packed_register_union(self):
        for _, f in self.each_arch():
            reg = f["records"]["t_reg"]
            self.assertEqual((reg["kind"], reg["size"], reg["align"]), ("union", 8, 1))
            self.assertEqual(
                [(m["path"], m["offset"], m["bits"], m.get("bitfield", False)) for m in reg["members"]],
                [("as_uint64", 0, 64, False), ("a", 0, 3, True), ("b", 3, 5, True), ("c", 12, 52, True)])
            self.assertEqual(member(reg, "c")["type"], "u64")

    def test_nested_members_and_types(self):
        for _, f in self.each_arch():
            outer = f["records"]["t_outer"]
            paths = [m["path"] for m in outer["members"]]
            self.assertEqual(paths, ["x", "parts", "parts.lo", "parts.hi", "word", "bytes",
                                     "dep", "ul", "flag", "ch", "sc", "grid", "sign"])
            self.assertEqual(member(outer, "parts"), {"path": "parts", "offset": 32, "bits": 32, "type": "struct"})
            self.assertEqual(member(outer, "parts.hi")["offset"], 48)
            self.assertEqual(member(outer, "bytes"), {"path": "bytes", "offset": 64, "bits": 32, "type": "u8[4]"})
            types = {m["path"]: m["type"] for m in outer["members"]}
            self.assertEqual(types["dep"], "struct dep_rec")
            self.assertEqual(types["ul"], "u64")
            self.assertEqual(types["flag"], "bool")
            self.assertEqual(types["ch"], "char")
            self.assertEqual(types["sc"], "s8")
            self.assertEqual(types["grid"], "u8[2][3]")
            self.assertEqual(types["sign"], "enum t_sign")
            self.assertEqual(member(outer, "ul")["offset"], 128)

    def test_flexible_array(self):
        for _, f in self.each_arch():
            flex = f["records"]["t_flex"]
            self.assertEqual(flex["size"], 8)
            self.assertEqual(member(flex, "items"), {"path": "items", "offset": 64, "bits": 0, "type": "u64[]"})

    def test_enums(self):
        for _, f in self.each_arch():
            self.assertEqual(f["enums"], {"t_sign": {"size": 4}})
            self.assertEqual(f["enumerators"], {"T_NEG": -2, "T_POS": 5, "T_ANON": 7})

    def test_macros(self):
        for arch, f in self.each_arch():
            outer_size = f["records"]["t_outer"]["size"]
            self.assertEqual(f["macros"], {
                "T_FLAG": 8,
                "T_PAREN": 5,
                "T_ALL_ONES": 18446744073709551615,
                "T_SELF": 4294967294,
                "T_MINUS_ONE": -1,
                # plain char is signed on x86_64, unsigned on arm64
                "T_CHAR_MAX_BITS": -1 if arch == "x86_64" else 255,
                "T_ULONG": 18446744073709551615,
                "T_OUTER_SIZE": outer_size,
            })

    def test_only_files_scope(self):
        f = clang_facts.extract([self.header], "x86_64")  # default: the header's directory tree
        self.assertIn("dep_rec", f["records"])
        self.assertEqual(f["macros"]["DEP_VALUE"], 42)
        self.assertNotIn("dep_rec", self.facts["x86_64"]["records"])

    def test_compile_error_raises(self):
        bad = self.write("bad.h", "struct broken { int x }\n")
        with self.assertRaisesRegex(clang_facts.ExtractError, r"bad\.h:1: expected ';'"):
            clang_facts.extract([bad], "x86_64")

    def test_probe_cut_off_by_a_bad_one(self):
        # D_OPEN expands to `( 1`: error recovery swallows the probe of D_GOOD after it,
        # which has no diagnostic of its own and is valued only by a pass without D_OPEN.
        hdr = self.write("derail.h", "#define D_LP (\n#define D_OPEN D_LP 1\n"
                         "#define D_GOOD 11\n#define D_UNDEF nope\n")
        macros = clang_facts.extract([hdr], "x86_64", only_files=[hdr])["macros"]
        self.assertEqual(macros.get("D_GOOD"), 11)
        self.assertFalse({"D_LP", "D_OPEN", "D_UNDEF"} & set(macros))

    def test_probes_that_change_what_later_ones_see(self):
        # F_CALL fails but declares foo(), after which F_SIZE would fold; read on its own
        # (as the passes without failed probes do), F_SIZE warns and has no value.
        hdr = self.write("implicit.h", "#define F_CALL foo(1)\n"
                         "#define F_SIZE sizeof(foo(1))\n#define F_OK 4\n")
        macros = clang_facts.extract([hdr], "x86_64", only_files=[hdr])["macros"]
        self.assertEqual(macros, {"F_OK": 4})

    def test_probes_that_depend_on_their_place(self):
        # __LINE__ differs from pass to pass: the passes go on until one has no failure.
        hdr = self.write("line.h", "#define L_BAD nope\n#define L_LINE __LINE__\n")
        text, _ = clang_facts._tu_source([hdr], "x86_64", (), (), (), None)
        macros = clang_facts.extract([hdr], "x86_64", only_files=[hdr])["macros"]
        self.assertEqual(macros, {"L_LINE": text.count("\n") + 1})   # its line once alone

    def test_one_parse_or_passes_alike(self):
        # The headers' parse carries probes for the guessed names; with nothing guessed,
        # the macros are probed in passes of their own. Both read the same.
        one = clang_facts.extract([self.header], "arm64", only_files=[self.header])
        guess = macro_probes.guess
        macro_probes.guess = lambda paths: []
        try:
            passes = clang_facts.extract([self.header], "arm64", only_files=[self.header])
        finally:
            macro_probes.guess = guess
        self.assertEqual(one, passes)

    def test_parse_ahead(self):
        # A unit parsed ahead, on another thread, reads as one parsed in place; one that
        # extract() does not take is freed by drop_ahead().
        threads = []
        run = clang_facts._FirstParse._run

        def spy(first):
            threads.append(_thread.get_ident())
            return run(first)
        with mock.patch.object(clang_facts._FirstParse, "_run", spy):
            clang_facts.parse_ahead([self.header], "arm64")
            clang_facts.parse_ahead([self.header], "arm64")        # already under way
            clang_facts.parse_ahead([self.header], "x86_64", defines=["T_UNUSED=1"])
            ahead = clang_facts.extract([self.header], "arm64", only_files=[self.header])
            self.assertEqual(len(clang_facts._ahead), 1)
            clang_facts.drop_ahead()
        self.assertEqual(ahead, self.facts["arm64"])
        self.assertEqual(clang_facts._ahead, {})
        self.assertEqual(len(threads), 2)
        self.assertNotIn(_thread.get_ident(), threads)

    def test_parse_ahead_failure(self):
        # What goes wrong on the thread is raised where the result is taken.
        failure = clang_facts.ExtractError("libclang could not parse the translation unit")
        with mock.patch.object(clang_facts, "_parse", side_effect=failure):
            clang_facts.parse_ahead([self.header], "x86_64")
            clang_facts.parse_ahead([self.header], "arm64")
            with self.assertRaisesRegex(clang_facts.ExtractError, "could not parse"):
                clang_facts.extract([self.header], "x86_64")
            clang_facts.drop_ahead()
        self.assertEqual(clang_facts._ahead, {})

    def test_guess(self):
        hdr = self.write("g.h", "#define G_A 1 /* { */\n  #  define G_B (2 | \\\n 3)\n"
                         "#define G_F(x) x\n#define G_S \"s\"\n#define G_BRACE {\n"
                         "// #define G_C 4\n#define G_D 4 / 2\n")
        self.assertEqual(macro_probes.guess([hdr]), ["G_A", "G_B", "G_D"])

    def test_header_that_ends_inside_a_declaration(self):
        hdr = self.write("cut.h", "#define CUT_OK 1\nstruct cut { int a; }\n")
        with self.assertRaisesRegex(clang_facts.ExtractError, r"headers do not compile:\n.*cut\.h:2"):
            clang_facts.extract([hdr], "x86_64")

    def test_prelude_and_defines(self):
        hdr = self.write("p.h", "struct p { PTYPE v; } __packed;\n"
                         "#define P_SIZE sizeof(struct p)\n")
        f = clang_facts.extract([hdr], "arm64", defines=["PTYPE=short"], only_files=[hdr],
                                prelude="#define __packed __attribute__((__packed__))\n")
        self.assertEqual(f["records"]["p"]["members"][0]["type"], "s16")
        self.assertEqual(f["macros"], {"P_SIZE": 2})


class CompareTest(unittest.TestCase):
    def doc(self):
        d = facts.new_facts("x86_64", "test")
        d["records"]["r"] = {"kind": "struct", "size": 8, "align": 8, "members": [
            {"path": "a", "offset": 0, "bits": 3, "bitfield": True, "type": "u64"},
            {"path": "b", "offset": 3, "bits": 61, "bitfield": True, "type": "u64"}]}
        d["enums"]["e"] = {"size": 4}
        d["enumerators"]["E0"] = 0
        d["macros"]["M"] = 1
        return d

    def test_equal(self):
        self.assertEqual(facts.compare(self.doc(), self.doc()), [])

    def test_mismatches(self):
        a, b = self.doc(), self.doc()
        b["records"]["r"]["members"][1]["offset"] = 4
        b["records"]["r"]["members"][0].pop("bitfield")
        b["macros"]["M"] = 2
        b["macros"]["EXTRA"] = 3
        self.assertEqual(facts.compare(a, b), [
            "record r: member a: bitfield True != False",
            "record r: member b: offset 3 != 4",
            "missing in A: macro EXTRA",
            "macro M: 1 != 2",
        ])
        self.assertEqual(facts.compare(a, b, only_common=True), [
            "record r: member a: bitfield True != False",
            "record r: member b: offset 3 != 4",
            "macro M: 1 != 2",
        ])
        self.assertEqual(facts.compare(a, b, names={"M", "E0", "NOPE"}),
                         ["macro M: 1 != 2", "missing in A and B: NOPE"])

    def test_dump_is_deterministic_and_loads(self):
        d = self.doc()
        text = facts.dump(d)
        self.assertTrue(text.endswith("}\n"))
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text)
        try:
            self.assertEqual(facts.load(f.name), d)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
