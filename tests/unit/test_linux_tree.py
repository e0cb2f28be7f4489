"""Linux include/hyperv read from a kernel tree at test time (test_parity.py linux TREE,
hvabi coverage --linux-src TREE): the tree here is a copy of our own generated headers,
so it agrees with the spec until one value in it is changed. test_parity.py and hvabi run
by their main() in this process (testlib.main_here), but for one run of test_parity.py in
a process of its own: bad input is exit status 2 without a traceback."""

import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.append(str(REPO / "tests"))      # appended: tests/unit's own modules come first
import test_parity  # noqa: E402
from testlib import hvabi_here, main_here  # noqa: E402


def parity(tree):
    """test_parity.py linux TREE by its main() in this process."""
    return main_here(test_parity.main, ["linux", str(tree)])


class LinuxTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.tree = pathlib.Path(cls.tmp.name, "linux")
        shutil.copytree(REPO / "include/hvhdk/include/hyperv", cls.tree / "include/hyperv")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_parity_passes_on_our_headers_and_fails_on_a_changed_value(self):
        ok = parity(self.tree)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("linux x86_64: reference has", ok.stdout)
        self.assertIn("0 mismatches", ok.stdout)

        with tempfile.TemporaryDirectory() as tmp:
            tree = pathlib.Path(tmp, "linux")
            shutil.copytree(self.tree, tree)
            header = tree / "include/hyperv/hvgdk_mini.h"
            text = header.read_text()
            line = next(ln for ln in text.splitlines() if ln.startswith("#define HVCALL_GET_PARTITION_ID\t"))
            header.write_text(text.replace(line, line.replace("0x0046", "0x0047")))
            bad = parity(tree)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
        self.assertIn("FAIL x86_64: macro HVCALL_GET_PARTITION_ID: 71 != 70", bad.stdout)
        self.assertIn("FAIL arm64: macro HVCALL_GET_PARTITION_ID: 71 != 70", bad.stdout)

    def test_parity_fails_on_upstream_definitions_the_product_lacks(self):
        with tempfile.TemporaryDirectory() as tmp:
            tree = pathlib.Path(tmp, "linux")
            shutil.copytree(self.tree, tree)
            extra = tree / "include/hyperv/zz_extra.h"
            extra.write_text("#define HVABI_TEST_ONLY_UPSTREAM 7\n"
                             "enum hvabi_test_upstream { HVABI_TEST_UPSTREAM_A = 1 };\n")
            out = parity(tree)
        # A reference is reproduced whole: what it has and the product lacks fails.
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        for arch in ("x86_64", "arm64"):
            self.assertIn(f"FAIL {arch}: missing in B: macro HVABI_TEST_ONLY_UPSTREAM", out.stdout)
            self.assertIn(f"FAIL {arch}: missing in B: enumerator HVABI_TEST_UPSTREAM_A", out.stdout)
            self.assertIn(f"FAIL {arch}: missing in B: enum hvabi_test_upstream", out.stdout)

    def test_a_tree_without_include_hyperv_is_bad_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, str(REPO / "tests/test_parity.py"), "linux", tmp],
                                 capture_output=True, text=True)      # the script itself
            self.assertEqual(out.returncode, 2)
            self.assertIn(f"{tmp}/include/hyperv: no *.h here", out.stderr)
            self.assertNotIn("Traceback", out.stderr)
            cov = hvabi_here(["coverage", "--linux-src", tmp])
            self.assertEqual(cov.returncode, 2)
            self.assertIn(f"{tmp}/include/hyperv: no *.h here", cov.stderr)
            self.assertIn("hint:", cov.stderr)
            self.assertNotIn("Traceback", cov.stderr)
            self.assertEqual(cov.stdout, "")


if __name__ == "__main__":
    unittest.main()
