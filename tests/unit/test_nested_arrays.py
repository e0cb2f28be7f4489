"""Arrays of an untagged struct/union (`struct { ... } name[N];`, `name[]`): a named nested
record with `count`. Loader, checks, layout engine (against libclang too), the C the
emitters write, and the importer, on small self-written examples.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_nested_arrays.py
"""

import pathlib
import sys
import tempfile
import unittest

from hvabi import cli, facts, layout
from hvabi import model as m
from hvabi.errors import SpecErrors
from hvabi.extract import clang_facts
from hvabi.importer import run, verify
from hvabi.select import Abi

sys.path.append(str(pathlib.Path(__file__).resolve().parents[1]))   # after tests/unit's own modules
from testlib import hvabi_here, products_without_order, profiles_without_omit  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]

DEFS = """\
hvabi: 2
header: {hdk: hvgdk_mini, tlfs: generic}
defs:
  - consts: t-slots
    doc: How many slots a table has.
    items:
      - {name: T_SLOTS, value: 3}

  - struct: t_table
    doc: A table of slots followed by a list of entries.
    members:
      - {name: count, type: u16, doc: Number of entries.}
      - union: slot
        count: T_SLOTS
        doc: The slots.
        members:
          - {name: b, type: u8, doc: One byte.}
          - {name: w, type: u32, doc: One word.}
      - struct: nib
        count: 2
        doc: Pairs of nibbles.
        members:
          - {name: lo, type: u8, bits: 0-3, doc: Low nibble.}
          - {name: hi, type: u8, bits: 4-7, doc: High nibble.}
      - struct: entry
        count: flex
        packed: true
        doc: The entries.
        members:
          - {name: id, type: u32, doc: Entry id.}
          - {name: pad, type: u8, count: 3, reserved: true}
          - {name: value, type: u64, doc: Entry value.}
"""

# The same definition in C, as the emitters must write it (kernel flavor).
C_BODY = """\
struct t_table {
	u16 count;
	union {
		u8 b;
		u32 w;
	} slot[T_SLOTS];
	struct {
		u8 lo:4;
		u8 hi:4;
	} nib[2];
	struct {
		u32 id;
		/* private: */
		u8 pad[3];
		/* public: */
		u64 value;
	} __packed entry[];
};
"""

KERNEL_DOC = """\
 * @count: Number of entries.
 * @slot: The slots.
 * @slot.b: One byte.
 * @slot.w: One word.
 * @nib: Pairs of nibbles.
 * @nib.lo: Low nibble.
 * @nib.hi: High nibble.
 * @entry: The entries.
 * @entry.id: Entry id.
 * @entry.value: Entry value.
"""

# What libclang, pahole and the spec's engine all say: arrays are one member each.
MEMBERS = [
    {"path": "count", "offset": 0, "bits": 16, "type": "u16"},
    {"path": "slot", "offset": 32, "bits": 96, "type": "union[3]"},
    {"path": "nib", "offset": 128, "bits": 16, "type": "struct[2]"},
    {"path": "entry", "offset": 144, "bits": 0, "type": "struct[]"},
]


def make_spec(tmp, defs):
    spec = pathlib.Path(tmp, "spec")
    (spec / "defs").mkdir(parents=True)
    (spec / "products.yaml").write_text(products_without_order())
    (spec / "profiles.yaml").write_text(profiles_without_omit())
    (spec / "defs/10-t.yaml").write_text(defs)
    return spec


def hvabi(*args):
    """hvabi ARGS by cli.main in this process (testlib.hvabi_here)."""
    return hvabi_here(args)


class Spec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.spec_dir = make_spec(cls.tmp.name, DEFS)
        cls.spec, _ = cli.load(cls.spec_dir)          # loads and runs every check

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def abi(self, arch="x86_64"):
        return Abi(self.spec, m.Selection("linux", "hdk", arch))

    def test_loader_reads_count_of_nested_records(self):
        table = next(e.defn for e in self.spec.entries if e.defn.name == "t_table")
        slot, nib, entry = table.members[1:]
        self.assertEqual((slot.kind, slot.member), ("union", "slot"))
        self.assertEqual(slot.count.name, "T_SLOTS")
        self.assertEqual(nib.count.value, 2)
        self.assertEqual(entry.count, m.FLEX)

    def test_layout(self):
        for arch in m.ARCHES:
            lay = layout.record_layout(self.abi(arch), self.abi(arch).types["t_table"])
            # u16 | pad 2 | 3 x 4-byte union | 2 x 1-byte struct | packed 15-byte entries at 18
            self.assertEqual((lay.size, lay.align), (20, 4))
            self.assertEqual([p.fact() for p in lay.members], MEMBERS)

    def test_layout_matches_libclang_on_the_generated_header(self):
        out = pathlib.Path(self.tmp.name, "out")
        result = hvabi("--spec", str(self.spec_dir), "generate", "--out", str(out))
        self.assertEqual(result.returncode, 0, result.stderr)
        root = out / "include/uapi"
        for arch in m.ARCHES:
            theirs = clang_facts.extract([str(root / "hyperv/hvgdk_mini.h")], arch, include_dirs=[root])
            ours = layout.facts(self.abi(arch))
            self.assertEqual(facts.compare(ours, theirs, names=["t_table"]), [], arch)

    def test_rendered_c_and_kernel_doc(self):
        out = pathlib.Path(self.tmp.name, "render")
        result = hvabi("--spec", str(self.spec_dir), "generate", "--out", str(out))
        self.assertEqual(result.returncode, 0, result.stderr)
        text = (out / "include/hvhdk/include/hyperv/hvgdk_mini.h").read_text()
        self.assertIn(C_BODY, text)
        self.assertIn(KERNEL_DOC, text)
        tlfs = (out / "include/hyperv-tlfs/include/asm-generic/hyperv-tlfs.h").read_text()
        self.assertIn("\t} __packed entry[];\n", tlfs)
        asserts = (out / "tests/layout/hdk-kernel/x86_64.c").read_text()
        self.assertIn("HVABI_CHECK(offsetof(struct t_table, slot), 4);", asserts)
        self.assertIn("HVABI_CHECK(sizeof(((struct t_table *)0)->slot), 12);", asserts)
        self.assertIn("HVABI_CHECK(offsetof(struct t_table, entry), 18);", asserts)
        self.assertNotIn("slot.b", asserts)      # an array's element members have no path
        self.assertNotIn("sizeof(((struct t_table *)0)->entry)", asserts)


class Rejected(unittest.TestCase):
    """Nonsense is a `file:line: error:` and exit status 2."""

    def check(self, member_yaml, line, message):
        defs = ("hvabi: 2\nheader: {hdk: hvgdk_mini, tlfs: generic}\ndefs:\n"
                "  - struct: t_bad\n    doc: A bad one.\n    members:\n" + member_yaml)
        with tempfile.TemporaryDirectory() as tmp:
            spec = make_spec(tmp, defs)
            with self.assertRaises(SpecErrors) as caught:
                cli.load(spec)
            self.assertIn(f"10-t.yaml:{line}: error: {message}", str(caught.exception))
            result = hvabi("--spec", str(spec), "validate")
            self.assertEqual(result.returncode, 2)
            self.assertIn(f"10-t.yaml:{line}: error: {message}", result.stderr)
            self.assertNotIn("Traceback", result.stderr)

    def test_anonymous_record_with_count(self):
        self.check("      - anon: struct\n        count: 2\n        members:\n"
                   "          - {name: a, type: u32}\n", 8,
                   "an anonymous struct/union member cannot be an array")

    def test_bitfield_with_count(self):
        self.check("      - {name: a, type: u32, bits: 0-31, count: 2}\n", 7, "a bitfield cannot be an array")

    def test_flexible_array_of_records_not_last(self):
        self.check("      - struct: e\n        count: flex\n        members:\n"
                   "          - {name: a, type: u32}\n      - {name: b, type: u32}\n", 7,
                   "flexible array 'e' is not the last member of its struct")

    def test_zero_elements(self):
        self.check("      - struct: e\n        count: 0\n        members:\n"
                   "          - {name: a, type: u32}\n", 7, "array 'e' has 0 elements")


class Import(unittest.TestCase):
    HEADER = """\
#include <linux/types.h>

#define T_N 2

struct t_in {
	struct {
		u64 id;
		u8 pad[4];
	} head;
	union {
		u32 w;
		struct {
			u16 lo:8;
			u16 hi:8;
		};
	} pair[T_N];
	struct {
		u32 name;
		u64 value;
	} element[];
} __packed;
"""

    def test_imported_and_laid_out_as_the_compiler_says(self):
        with tempfile.TemporaryDirectory() as tmp:
            header = pathlib.Path(tmp, "t_in.h")
            header.write_text(self.HEADER)
            imported = run.import_headers([run.parse_source(str(header))], "kernel")
            self.assertEqual(imported.skips, [])
            text = imported.files["t_in.yaml"]
            self.assertIn("""\
      - union: pair
        count: T_N
        members:
          - {name: w, type: u32}
          - anon: struct
            members:
              - {name: lo, type: u16, bits: 0-7}
              - {name: hi, type: u16, bits: 8-15}
      - struct: element
        count: flex
        members:
          - {name: name, type: u32}
          - {name: value, type: u64}
""", text)
            for result in verify.verify(imported):
                self.assertEqual(result.problems, [], result.arch)
                self.assertEqual(result.matched, 2)       # the constant group and t_in


if __name__ == "__main__":
    unittest.main()
