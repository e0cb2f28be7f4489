"""`hvabi generate` never overwrites a hand edit without --force, and writes all or nothing
(gen/hvabi/output.py). Small self-made outputs stand in for the rendered spec; the real
CLI is run on the real spec in test_cli.py and tests/test_interrupted_generate.py.

Run: PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_generate_safety.py
"""

import contextlib
import io
import json
import pathlib
import tempfile
import unittest
from unittest import mock

from hvabi import cli, errors, output
from hvabi.emit import stamp

REPO = pathlib.Path(__file__).resolve().parents[2]


def header(body):
    return stamp.fill(f"/*\n * hvabi-stamp: {stamp.PLACEHOLDER}\n */\n{body}\n")


def facts(value):
    return stamp.fill(json.dumps({"format": "hvabi-facts/1", stamp.KEY: stamp.PLACEHOLDER,
                                  "macros": {"X": value}}, sort_keys=True, indent=1) + "\n")


OLD = {"include/a.h": header("int a;"), "include/b.h": header("int b;"),
       "tests/layout/x.facts.json": facts(1)}
NEW = {"include/a.h": header("long a;"), "include/b.h": header("long b;"),
       "tests/layout/x.facts.json": facts(2)}


def tree(root):
    return {str(p.relative_to(root)): p.read_text() for p in sorted(pathlib.Path(root).rglob("*"))
            if p.is_file()}


class Generate:
    """Run `hvabi generate` (or check) with `files` as the rendered outputs."""

    def hvabi(self, files, *args):
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.object(cli, "render_everything", lambda spec: dict(files)), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main([*args[:1], "--out", self.tmp, *args[1:]])
        return status, out.getvalue(), err.getvalue()

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.tmp = self._dir.name
        self.root = pathlib.Path(self.tmp)
        self.assertEqual(self.hvabi(OLD, "generate")[0], 0)
        self.assertEqual(tree(self.tmp), OLD)

    def tearDown(self):
        self._dir.cleanup()


class Stamps(unittest.TestCase):
    def test_status(self):
        text = header("int a;")
        self.assertEqual(stamp.status(text), stamp.OK)
        self.assertEqual(stamp.status(text.replace("int a", "int b")), stamp.EDITED)
        self.assertEqual(stamp.status("int a;\n"), stamp.UNSTAMPED)
        self.assertEqual(stamp.status(facts(1)), stamp.OK)
        self.assertEqual(stamp.status(facts(1).replace(": 1", ": 3")), stamp.EDITED)

    def test_every_committed_output_carries_its_own_stamp(self):
        files = [p for d in ("include", "tests/layout") for p in (REPO / d).rglob("*")
                 if p.is_file() and p.suffix in (".h", ".c", ".json")]
        self.assertGreater(len(files), 20)
        for path in files:
            self.assertEqual(stamp.status(path.read_text()), stamp.OK, path)


class HandEdits(Generate, unittest.TestCase):
    def test_a_hand_edit_blocks_the_whole_run(self):
        a = self.root / "include/a.h"
        a.write_text(a.read_text().replace("int a;", "int a; /* mine */"))
        before = tree(self.tmp)
        status, _, err = self.hvabi(NEW, "generate")
        self.assertEqual(status, errors.EXIT_BAD_INPUT)
        self.assertIn("include/a.h: error: edited by hand since hvabi generated it", err)
        self.assertIn("hint:", err)
        self.assertIn("--force", err)
        self.assertNotIn("b.h", err)
        self.assertEqual(tree(self.tmp), before)          # b.h and the facts untouched too

    def test_force_overwrites(self):
        a = self.root / "include/a.h"
        a.write_text("edited\n" + a.read_text())
        self.assertEqual(self.hvabi(NEW, "generate", "--force")[0], 0)
        self.assertEqual(tree(self.tmp), NEW)

    def test_a_file_without_stamp_is_hand_made(self):
        (self.root / "tests/layout/x.facts.json").write_text('{"macros": {"X": 1}}\n')
        status, _, err = self.hvabi(NEW, "generate")
        self.assertEqual(status, errors.EXIT_BAD_INPUT)
        self.assertIn("tests/layout/x.facts.json: error: has no hvabi-stamp", err)
        self.assertEqual(tree(self.tmp)["include/a.h"], OLD["include/a.h"])

    def test_an_edit_hvabi_would_not_replace_is_left_alone(self):
        # The edited file is what the spec gives anyway: nothing to refuse.
        (self.root / "include/a.h").write_text(NEW["include/a.h"])
        self.assertEqual(self.hvabi(NEW, "generate")[0], 0)
        self.assertEqual(tree(self.tmp), NEW)

    def test_check_names_hand_edits(self):
        a = self.root / "include/a.h"
        a.write_text(a.read_text() + "int c;\n")
        status, out, _ = self.hvabi(OLD, "check")
        self.assertEqual(status, errors.EXIT_CHECK_FAILED)
        self.assertIn("edited by hand since hvabi generated it: include/a.h", out)


class Transactions(Generate, unittest.TestCase):
    def test_stray_temporaries_are_removed(self):
        stray = self.root / "include/.hvabi-k3j2x9"        # as older versions left them
        stray.write_text("half")
        self.assertEqual(self.hvabi(NEW, "generate")[0], 0)
        self.assertFalse(stray.exists())
        self.assertEqual(tree(self.tmp), NEW)

    def test_uncommitted_transaction_is_rolled_back(self):
        txn = self.root / output.TXN
        txn.mkdir()
        (txn / "0").write_text(NEW["include/a.h"])
        (txn / (output.JOURNAL + ".part")).write_text('{"renames": [["0", "incl')
        status, _, err = self.hvabi(OLD, "check")
        self.assertEqual(status, 0)
        self.assertIn("removed the temporaries of an interrupted generate", err)
        self.assertEqual(tree(self.tmp), OLD)

    def test_committed_journal_is_finished(self):
        txn = self.root / output.TXN
        txn.mkdir()
        (txn / "1").write_text(NEW["include/b.h"])
        (txn / output.JOURNAL).write_text(json.dumps({"renames": [["0", "include/a.h"],
                                                                   ["1", "include/b.h"]]}))
        (self.root / "include/a.h").write_text(NEW["include/a.h"])   # renamed before the kill
        status, _, err = self.hvabi(OLD, "check")
        self.assertEqual(status, 1)                                  # the tree is NEW's now
        self.assertIn("finished an interrupted generate: 2 files", err)
        self.assertEqual({k: v for k, v in tree(self.tmp).items() if k.startswith("include")},
                         {k: v for k, v in NEW.items() if k.startswith("include")})
        self.assertFalse(txn.exists())

    def test_journal_outside_the_tree_is_refused(self):
        txn = self.root / output.TXN
        txn.mkdir()
        (txn / output.JOURNAL).write_text(json.dumps({"renames": [["0", "../evil"]]}))
        status, _, err = self.hvabi(OLD, "generate")
        self.assertEqual(status, errors.EXIT_BAD_INPUT)
        self.assertIn("unreadable journal", err)
        self.assertIn("hint:", err)


if __name__ == "__main__":
    unittest.main()
