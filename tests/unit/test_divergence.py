"""Pieces of hvabi divergence (gen/hvabi/divergence.py, shape.py) and of the layered
selection (select.layered), on small inputs: the format of spec/divergences.yaml, its
errors, and how entries explain differences field by field or go stale."""

import pathlib
import sys
import tempfile
import textwrap
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))
sys.path.append(str(REPO / "tests"))      # appended: tests/unit's own modules come first

from hvabi import divergence as dv  # noqa: E402
from hvabi.errors import HvabiError  # noqa: E402
from hvabi.shape import Diff, Leaf, Shape, compare  # noqa: E402
from testlib import hvabi_here  # noqa: E402


class Names(unittest.TestCase):
    def test_member_names(self):
        self.assertEqual(dv.member_name("AsUINT64"), "as_uint64")
        self.assertEqual(dv.member_name("TscSequence"), "tsc_sequence")
        self.assertEqual(dv.member_name("SCTLR_EL1"), "sctlr_el1")
        self.assertEqual(dv.member_name("Sp_ELh"), "sp_elh")
        self.assertEqual(dv.member_name("X18"), "x18")


class Compare(unittest.TestCase):
    def test_field_by_field(self):
        doc = Shape("union", [Leaf("as_uint64", "u64", 0, 64), Leaf("address", "u32", 0, 32),
                              Leaf("data", "u32", 32, 32)], 8)
        spec = Shape("union", [Leaf("as_uint64", "u64[2]", 0, 128), Leaf("address", "u64", 0, 64),
                               Leaf("data", "u32", 64, 32), Leaf("reserved", "u32", 96, 32)], 16)
        got = [d.text() for d in compare(doc, spec)]
        self.assertEqual(got, [
            "(size): size: documented 8 bytes, spec 16 bytes",
            "as_uint64: type: documented u64, spec u64[2]",
            "address: type: documented u32, spec u64",
            "data: offset: documented bit 32, spec bit 64",
            "reserved: spec only (u32 @96:32)"])

    def test_order_and_kind(self):
        doc = Shape("struct", [Leaf("a", "u32"), Leaf("b", "u32")])
        spec = Shape("union", [Leaf("b", "u32"), Leaf("a", "u32")])
        got = [d.text() for d in compare(doc, spec)]
        self.assertIn("(kind): kind: documented struct, spec union", got)
        self.assertTrue(any(t.startswith("(order)") for t in got), got)

    def test_same(self):
        s = Shape("struct", [Leaf("a", "u32", 0, 32)], 4)
        self.assertEqual(compare(s, s), [])


class LayoutMemo(unittest.TestCase):
    def test_a_freed_records_id_does_not_return_its_layout(self):
        # divergence lays out a record made for one documented type, per type; the Abi's
        # layout memo (by id) must not hand a later record the layout of a freed one
        # whose id it reuses (CPython reuses a freed object's memory at once).
        from hvabi import cli, model as m
        from hvabi.layout import record_layout
        from hvabi.select import Abi
        spec, _ = cli.load(REPO / "spec")
        abi = Abi.of(spec, m.Selection("linux", "hdk", "x86_64"))
        rec = None
        for n in range(1, 40):
            members = [m.Field(f"f{i}", type=m.TypeRef("u8")) for i in range(n)]
            rec = None                                  # freed here, its id free again
            rec = m.Record(f"documented{n}", members=members)
            self.assertEqual(record_layout(abi, rec).size, n)


def load(text):
    """load_divergences on `text` (dedented) in a temporary file: (names, known) or the
    HvabiError's text."""
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "divergences.yaml"
        path.write_text(textwrap.dedent(text))
        try:
            return dv.load_divergences(path)
        except HvabiError as e:
            return str(e).replace(str(path), "FILE")


class Format(unittest.TestCase):
    def test_entry_forms(self):
        names, known = load("""\
            hvabi: 2
            names:
              HV_REFERENCE_TSC_PAGE: ms_hyperv_tsc_page
            divergences:
              - tlfs: [HV_TSC_EMULATION_CONTROL, HV_TSC_EMULATION_STATUS]
                arch: x86_64
                fields: [(kind), rsvd_*]
                why: >-
                  Same bits,
                  other names.
              - tlfs: HV_MESSAGE
                profiles: [linux, tlfs view]
                fields:
                  - payload: documented name
                  - u.*: the union the headers add
            """)
        self.assertEqual(names["HV_REFERENCE_TSC_PAGE"][0], "ms_hyperv_tsc_page")
        a, b = known
        self.assertEqual(a.tlfs, ["HV_TSC_EMULATION_CONTROL", "HV_TSC_EMULATION_STATUS"])
        self.assertEqual((a.arches, a.arch_given, a.profiles), (["x86_64"], True, None))
        self.assertEqual(a.why, "Same bits, other names.")
        self.assertEqual((b.arches, b.arch_given, b.profiles), (None, False, ["linux", "tlfs view"]))
        self.assertEqual(b.why, "")
        self.assertEqual(a.where, "spec/divergences.yaml:5")
        # globs, and the reason of each field
        self.assertEqual(a.reason(Diff("rsvd_z1", "documented only")),
                         ("spec/divergences.yaml:5", "Same bits, other names."))
        self.assertIsNone(a.reason(Diff("enabled", "type")))
        self.assertEqual(b.reason(Diff("u.payload", "spec only")),
                         ("spec/divergences.yaml:15, u.*", "the union the headers add"))
        self.assertEqual(b.reason(Diff("payload", "documented only")),
                         ("spec/divergences.yaml:14, payload", "documented name"))
        self.assertEqual(b.field_hits, {"u.*", "payload"})
        self.assertTrue(a.applies("HV_TSC_EMULATION_STATUS", "x86_64", "linux"))
        self.assertFalse(a.applies("HV_TSC_EMULATION_STATUS", "arm64", "linux"))
        self.assertFalse(b.applies("HV_MESSAGE", "arm64", "rust-vmm"))
        self.assertTrue(b.applies("HV_MESSAGE", "arm64", "tlfs view"))

    def test_no_fields_covers_every_difference(self):
        _, (k,) = load("hvabi: 2\ndivergences:\n  - {tlfs: HV_MSI_ENTRY, why: all of it}\n")
        self.assertEqual(k.reason(Diff("(size)", "size")), ("spec/divergences.yaml:3", "all of it"))

    def assertError(self, text, line, what):
        got = load(text)
        self.assertIsInstance(got, str, got)
        self.assertRegex(got, rf"^FILE:{line}: error: .*{what}")
        self.assertIn("\n  hint: ", got)

    def test_errors(self):
        head = "hvabi: 2\ndivergences:\n"
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, arch: i386, why: x}\n", 3, "arch 'i386'")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, arch: [arm64, arm64], why: x}\n", 3, "listed twice")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, field: [x], why: x}\n", 3, "unknown key 'field'")
        self.assertError(head + "  - {arch: arm64, why: x}\n", 3, "needs `tlfs:`")
        self.assertError(head + "  - {tlfs: hv_msi_entry, why: x}\n", 3, "not a TLFS type name")
        self.assertError(head + "  - {tlfs: [], why: x}\n", 3, "tlfs: a TLFS type name")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY}\n", 3, "needs `why:`")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, fields: [a, {b: ok}]}\n", 3, "needs `why:`")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, fields: address, why: x}\n", 3, "fields: a list")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, fields: [{a: x, b: y}], why: x}\n", 3,
                         "fields: a list")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, fields: [{a: 5}], why: x}\n", 3, "not text")
        self.assertError(head + "  - tlfs: HV_MSI_ENTRY\n    fields: [a, a]\n    why: x\n", 4,
                         "'a' is listed twice")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY, why: 5}\n", 3, "why: the reason, as text")
        self.assertError(head + "  - just text\n", 3, "a divergence is a mapping")
        self.assertError(head + "  tlfs: HV_MSI_ENTRY\n", 3, "divergences: a list")
        self.assertError("hvabi: 1\ndivergences: []\n", 1, "needs `hvabi: 2`")
        self.assertError("hvabi: 2\nnote: x\n", 2, "unknown key 'note'")
        self.assertError("hvabi: 2\nnames:\n  HV_FOO: 12\n", 3, "not a C name")
        self.assertError(head + "  - {tlfs: HV_MSI_ENTRY\n", 4, "YAML syntax")
        self.assertError("- a\n", 1, "not a mapping")


def finding(tlfs, arch, selection, *fields):
    return dv.Finding(tlfs, tlfs.lower(), arch, selection, "differs", "p.md:1",
                      [Diff(f, "documented only") for f in fields], [])


class Explain(unittest.TestCase):
    """_explain and stale on synthetic findings: field-by-field coverage and staleness."""

    INV = {"types": [{"name": "HV_A"}, {"name": "HV_B"}, {"name": "HV_C"}]}

    def run_entries(self, text, rows):
        names, known = load("hvabi: 2\ndivergences:\n" + textwrap.dedent(text))
        for f in rows:
            f.reasons, f.unexplained_fields = dv._explain(f.diffs, f.tlfs, f.arch, f.selection, known)
        return dv.stale(known, rows, {}, self.INV, None)

    def test_every_field_must_be_covered(self):
        rows = [finding("HV_A", "x86_64", "linux", "a", "b")]
        problems = self.run_entries("  - {tlfs: HV_A, fields: [a], why: one}\n", rows)
        self.assertEqual(problems, [])
        self.assertFalse(rows[0].explained)
        self.assertEqual(rows[0].unexplained_fields, ["b"])
        rows = [finding("HV_A", "x86_64", "linux", "a", "b")]
        self.run_entries("  - {tlfs: HV_A, fields: [a], why: one}\n  - {tlfs: HV_A, fields: [b], why: two}\n",
                         rows)
        self.assertTrue(rows[0].explained)
        self.assertEqual([w for _, w in rows[0].reasons], ["one", "two"])

    def test_one_entry_several_types(self):
        rows = [finding("HV_A", "x86_64", "linux", "u.x"), finding("HV_B", "arm64", "tlfs", "u.y")]
        problems = self.run_entries("  - {tlfs: [HV_A, HV_B], fields: [u.*], why: same}\n", rows)
        self.assertEqual(problems, [])
        self.assertTrue(all(f.explained for f in rows))

    def test_stale(self):
        rows = [finding("HV_A", "x86_64", "linux", "a")]
        problems = self.run_entries("""\
              - {tlfs: HV_A, fields: [a, gone], why: x}
              - {tlfs: HV_A, arch: [x86_64, arm64], why: x}
              - {tlfs: [HV_A, HV_B], why: x}
              - {tlfs: HV_A, profiles: [rust-vmm], why: x}
              - {tlfs: HV_NOT_DOCUMENTED, why: x}
              - {tlfs: HV_C, why: x}
            """, rows)
        got = [(where.split(":")[1], subject, why) for where, subject, why in problems]
        self.assertEqual(got, [
            ("3", "HV_A", "no difference in gone"),
            ("4", "HV_A arm64", "no selection of the spec differs from the documented shape there"),
            ("5", "HV_B", "the spec holds no definition of it"),
            ("6", "HV_A", "no selection of the spec differs from the documented shape there for rust-vmm"),
            ("7", "HV_NOT_DOCUMENTED", "not a type the TLFS inventory documents"),
            ("8", "HV_C", "the spec holds no definition of it")])


class Cli(unittest.TestCase):
    def run_with(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            return hvabi_here(["divergence", "--divergences", f.name])
        finally:
            pathlib.Path(f.name).unlink()

    def test_bad_arch_is_file_line(self):
        got = self.run_with("hvabi: 2\ndivergences:\n  - {tlfs: HV_MSI_ENTRY, arch: i386, fields: [],"
                            " why: x}\n")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertRegex(got.stderr, r"\.yaml:3: error: arch 'i386'.*\n  hint: ")
        self.assertNotIn("Traceback", got.stderr)
        self.assertEqual(got.stdout, "")

    def test_malformed_yaml(self):
        got = self.run_with("hvabi: 2\ndivergences:\n  - tlfs: [HV_MSI_ENTRY\n")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertRegex(got.stderr, r"\.yaml:\d+: error: YAML syntax")
        self.assertNotIn("Traceback", got.stderr)
        self.assertEqual(got.stdout, "")

    def test_unknown_profile(self):
        got = self.run_with("hvabi: 2\ndivergences:\n  - {tlfs: HV_MSI_ENTRY, profiles: [linus], why: x}\n")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertRegex(got.stderr, r"\.yaml:3: error: profiles: 'linus' is not a profile")
        self.assertNotIn("Traceback", got.stderr)


if __name__ == "__main__":
    unittest.main()
