"""`hvabi import` on small self-written headers: every C shape the importer must read,
the arch merge, the YAML it writes, and bad input.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_import.py
"""

import pathlib
import sys
import tempfile
import unittest

from hvabi.importer import c_reader, run, verify

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.append(str(REPO / "tests"))      # appended: tests/unit's own modules come first
from testlib import hvabi_here  # noqa: E402

HEADER = """\
#include <linux/types.h>
#include <linux/bits.h>

#define T_FLAG		BIT(3)
#define T_MASK		GENMASK_ULL(43, 32)
#define T_COUNT		(2 + 2)
#if defined(CONFIG_X86)
#define T_MAX		2048
#else
#define T_MAX		320
#endif

#define T_OTHER		0x0010
#define T_HZ		(NSEC_PER_SEC / 100)
#define T_FN(x)		((x) + 1)
#define T_CALLED	T_FN(3)
#define T_BLOCK(x)	do { (x); } while (0)
#define T_LOCAL		2

enum t_kind { T_NEG = -2, T_NEXT, T_BIG = 0x10, T_AFTER };
#define T_KIND t_kind

union t_reg {
	u64 as_uint64;
	struct {
		u64 vector:8;
		u64 masked:1;
		u64 rest:55;
	} __packed;
};

union t_reg2 {
	struct {
		u32 lo:16;
		u32 hi:16;
	} bits;
	u32 raw[T_COUNT / 4];
};

struct t_deep {
	u32 head;
	union {
		struct {
			union {
				u32 word;
				struct {
					u16 lo:4;
					u16 hi:12;
					u16 top;
				};
			};
		};
		u64 raw;
	};
	struct {
		u8 a;
		u8 b;
	} named;
	u32 table[T_COUNT];
#if defined(CONFIG_X86)
	u32 x86_only;
#endif
	u64 tail[];
} __packed;

#if defined(CONFIG_X86)
struct t_arch {
	u64 a;
};
#else
struct t_arch {
	u32 a;
	u32 b;
} __aligned(16);
#endif

typedef u16 t_id;

struct t_ptr {
	void *p;
};

struct t_local {
	u8 bytes[T_LOCAL];
};
#undef T_LOCAL
"""


def hvabi(*args):
    """hvabi ARGS by cli.main in this process (testlib.hvabi_here)."""
    return hvabi_here(args)


class SmallHeader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.header = pathlib.Path(cls.tmp.name, "t_head.h")
        cls.header.write_text(HEADER)
        cls.imported = run.import_headers([run.parse_source(str(cls.header))], "kernel")
        cls.text = cls.imported.files["t_head.yaml"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def assertLines(self, *lines):
        for line in lines:
            self.assertIn(line + "\n", self.text)

    def test_file_level_placement(self):
        self.assertTrue(self.text.startswith("hvabi: 2\nheader: {hdk: t_head}\ndefs:\n"))

    def test_macros_keep_their_expressions(self):
        self.assertLines("      - {name: T_FLAG, value: BIT(3)}",
                         '      - {name: T_MASK, value: "GENMASK_ULL(43, 32)"}',
                         "      - {name: T_COUNT, value: (2 + 2)}",
                         "      - {name: T_OTHER, value: 0x0010}",
                         "      - {name: T_HZ, value: (NSEC_PER_SEC / 100)}",
                         "      - {name: T_FN, params: [x], value: ((x) + 1)}",
                         "      - {name: T_CALLED, value: T_FN(3)}")
        self.assertNotIn("T_BLOCK", self.text)

    def test_per_arch_constant_value(self):
        self.assertLines("      - {name: T_MAX, value: {x86_64: 2048, arm64: 320}}")

    def test_blank_lines_and_code_split_constant_groups(self):
        self.assertEqual(self.text.count("  - consts: t  # TODO: describe\n"), 2)
        self.assertIn("      - {name: T_MAX, value: {x86_64: 2048, arm64: 320}}\n\n  - consts: t", self.text)

    def test_enum_negative_and_implicit_values(self):
        self.assertLines("  - enum: t_kind  # TODO: describe\n    doc: \"t_kind: imported; describe it.\"\n"
                         "    alias: T_KIND",
                         "      - {name: T_NEG, value: -2}", "      - {name: T_NEXT}",
                         "      - {name: T_BIG, value: 0x10}", "      - {name: T_AFTER}")

    def test_register_idiom(self):
        self.assertLines("  - register: t_reg  # TODO: describe", "      - {name: vector, bits: 0-7}",
                         "      - {name: masked, bits: 8}", "      - {name: rest, bits: 9-63}")
        self.assertLines("  - register: t_reg2  # TODO: describe\n    doc: \"t_reg2: imported; describe it.\"\n"
                         "    type: u32\n    raw: {name: raw, count: T_COUNT / 4, last: true}\n"
                         "    struct_name: bits\n    bits_packed: false\n    fields:\n"
                         "      - {name: lo, bits: 0-15}\n      - {name: hi, bits: 16-31}")

    def test_nested_records(self):
        block = self.text[self.text.index("  - struct: t_deep"):self.text.index("  - struct: t_arch")]
        self.assertEqual(block.split("\n")[1:], """\
    doc: "t_deep: imported; describe it."
    packed: true
    members:
      - {name: head, type: u32}
      - anon: union
        members:
          - anon: struct
            members:
              - anon: union
                members:
                  - {name: word, type: u32}
                  - anon: struct
                    members:
                      - {name: lo, type: u16, bits: 0-3}
                      - {name: hi, type: u16, bits: 4-15}
                      - {name: top, type: u16}
          - {name: raw, type: u64}
      - struct: named
        members:
          - {name: a, type: u8}
          - {name: b, type: u8}
      - {name: table, type: u32, count: T_COUNT}
      - {name: x86_only, type: u32, only: x86_64}
      - {name: tail, type: u64, count: flex}

""".split("\n"))

    def test_arch_specific_whole_definition(self):
        # one entry, one variant per arch shape, each with a reason left to a person
        self.assertLines('  - struct: t_arch  # TODO: describe\n    doc: "t_arch: imported; describe it."\n'
                         '    variants:\n      - only: x86_64\n        why: "TODO: say why the shapes differ"\n'
                         '        members:\n          - {name: a, type: u64}\n'
                         '      - only: arm64\n        why: "TODO: say why the shapes differ"\n'
                         '        aligned: 16')

    def test_typedef(self):
        self.assertLines("  - typedef: t_id  # TODO: describe\n    doc: \"t_id: imported; describe it.\"\n"
                         "    type: u16")

    def test_unsupported_is_reported_not_guessed(self):
        self.assertNotIn("t_ptr", self.text)
        skips = {s.name: s for s in self.imported.skips}
        self.assertIn("no spec spelling", skips["t_ptr"].why)
        line = HEADER.splitlines().index("struct t_ptr {") + 1
        self.assertTrue(skips["t_ptr"].pos.endswith(f"t_head.h:{line}"))
        self.assertEqual(skips["T_BLOCK"].why, c_reader.NOT_ABI[0])
        self.assertIn("#undef", skips["T_LOCAL"].why)
        # the #undef'd helper is written out where the array uses it
        self.assertNotIn("t_local", skips)
        self.assertLines("      - {name: bytes, type: u8, count: 2}")

    def test_loads_and_lays_out_as_the_compiler_says(self):
        for result in verify.verify(self.imported):
            self.assertEqual(result.problems, [], result.arch)
            # 2 consts groups (T_CALLED valued through T_FN), enum, 5 records, typedef
            self.assertEqual(result.matched, 9)

    def test_deterministic(self):
        again = run.import_headers([run.parse_source(str(self.header))], "kernel")
        self.assertEqual(again.files, self.imported.files)


class CommandLine(unittest.TestCase):
    def test_writes_files_and_checks(self):
        with tempfile.TemporaryDirectory() as tmp:
            header = pathlib.Path(tmp, "hvgdk_mini.h")
            header.write_text("#include <linux/types.h>\nstruct t_s { u32 a; };\n")
            out = pathlib.Path(tmp, "defs")
            result = hvabi("import", "--check", "--out", str(out), str(header))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("header: {hdk: hvgdk_mini}", (out / "hvgdk_mini.yaml").read_text())
            self.assertIn("x86_64: 1 definitions lay out as the compiler says", result.stderr)

    def test_compare_reports_and_proposes_only_what_the_spec_lacks(self):
        """Our own linux headers plus one new macro and struct: --compare names exactly
        those, exits 1, and proposes YAML holding them alone; spec/ is not touched."""
        with tempfile.TemporaryDirectory() as tmp:
            hdir = pathlib.Path(tmp, "hyperv")
            hdir.mkdir()
            names = ("hvgdk_mini", "hvgdk_ext", "hvgdk", "hvhdk_mini", "hvhdk")
            for name in names:
                text = (REPO / "include/hvhdk/include/hyperv" / f"{name}.h").read_text()
                if name == "hvhdk":
                    text = text.replace("#endif /* _HV_HVHDK_H */",
                                        "#define HVCALL_T_NEW\t0x00f9\n\nstruct hv_t_new {\n\tu64 a;\n"
                                        "\tu32 b;\n} __packed;\n\n#endif /* _HV_HVHDK_H */")
                (hdir / f"{name}.h").write_text(text)
            spec_before = {p: p.read_bytes() for p in (REPO / "spec").rglob("*.yaml")}
            out = pathlib.Path(tmp, "proposal")
            result = hvabi("import", "--compare", "linux", "--out", str(out),
                           *[str(hdir / f"{n}.h") for n in names])
            self.assertEqual(result.returncode, 1, result.stderr)
            for arch in ("x86_64", "arm64"):
                self.assertIn(f"{arch}: missing in B: macro HVCALL_T_NEW", result.stdout)
                self.assertIn(f"{arch}: missing in B: record hv_t_new", result.stdout)
            self.assertEqual(len(result.stdout.splitlines()), 4, result.stdout)
            proposed = (out / "hvhdk.yaml").read_text()
            self.assertIn("{name: HVCALL_T_NEW, value: 0x00f9}", proposed)
            self.assertIn("  - struct: hv_t_new", proposed)
            self.assertEqual(proposed.count("\n  - "), 2, proposed)       # those two alone
            self.assertEqual({p: p.read_bytes() for p in (REPO / "spec").rglob("*.yaml")}, spec_before)

    def test_bad_input_is_2_without_traceback(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = pathlib.Path(tmp, "bad.h")
            bad.write_text("struct s { int a }\n")
            for args in (["/nonexistent/x.h"], [str(bad)], ["--compare", "nosuch", str(bad)]):
                result = hvabi("import", *args)
                self.assertEqual(result.returncode, 2, args)
                self.assertIn("error:", result.stderr)
                self.assertNotIn("Traceback", result.stderr)
            self.assertIn("bad.h:1", hvabi("import", str(bad)).stderr)


if __name__ == "__main__":
    unittest.main()
