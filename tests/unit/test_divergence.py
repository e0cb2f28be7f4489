"""Pieces of hvabi divergence (gen/hvabi/divergence.py, shape.py) and of the layered
selection (select.layered), on small inputs."""

import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import divergence as dv  # noqa: E402
from hvabi.shape import Leaf, Shape, compare  # noqa: E402

HVABI = [sys.executable, str(REPO / "gen/bin/hvabi")]


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


class DivergencesFile(unittest.TestCase):
    def run_with(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            return subprocess.run(HVABI + ["divergence", "--divergences", f.name], capture_output=True,
                                  text=True)
        finally:
            pathlib.Path(f.name).unlink()

    def test_bad_arch_is_file_line(self):
        got = self.run_with("hvabi: 2\ndivergences:\n  - {tlfs: HV_MSI_ENTRY, arch: i386, fields: [],"
                            " why: x}\n")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertRegex(got.stderr, r"\.yaml:3: error: arch 'i386'")
        self.assertNotIn("Traceback", got.stderr)
        self.assertEqual(got.stdout, "")

    def test_missing_key(self):
        got = self.run_with("hvabi: 2\ndivergences:\n  - {tlfs: HV_MSI_ENTRY, arch: arm64}\n")
        self.assertEqual(got.returncode, 2, got.stderr)
        self.assertIn("exactly the keys tlfs, arch, fields, why", got.stderr)


if __name__ == "__main__":
    unittest.main()
