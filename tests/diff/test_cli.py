"""`hvabi diff` as CI runs it: git revisions of a scratch repository holding a copy of
spec/, the three output formats, suppression files, and the exit status (0 no breaking
change, 1 breaking or --strict review, 2 bad input, always without a traceback).

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest discover -s tests/diff
"""

import contextlib
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

from test_sources import EDITS, SYNIC

REPO = pathlib.Path(__file__).resolve().parents[2]
HVABI = [sys.executable, str(REPO / "gen/bin/hvabi")]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import cli  # noqa: E402


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def edit(spec, name):
    path = spec / SYNIC
    text = path.read_text()
    for old, new in zip(EDITS[name][::2], EDITS[name][1::2]):
        text = text.replace(old, new)
    path.write_text(text)


class DiffCommand(unittest.TestCase):
    """v0.1: spec/ as it is; v0.2: a reserved bit named (compatible); the work tree: a
    member renamed (breaking for the uapi profile rust-vmm, review elsewhere)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.repo = pathlib.Path(cls.tmp.name, "repo")
        spec = cls.repo / "spec"
        shutil.copytree(REPO / "spec", spec)
        git(cls.repo, "init", "-q")
        git(cls.repo, "add", "spec")
        git(cls.repo, "commit", "-q", "-m", "v0.1")
        git(cls.repo, "tag", "v0.1")
        edit(spec, "named")
        git(cls.repo, "commit", "-q", "-a", "-m", "v0.2")
        git(cls.repo, "tag", "v0.2")
        edit(spec, "renamed")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def hvabi(self, *args, status):
        """hvabi diff ARGS from the scratch repository, run by cli.main in this process:
        each revision's spec is read once for all the tests (test_bare_clone runs the
        script itself)."""
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(self.repo)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = cli.main(["diff", *args])
                except SystemExit as e:
                    code = e.code
        finally:
            os.chdir(cwd)
        run = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
        self.assertEqual(run.returncode, status, run.stdout + run.stderr)
        self.assertNotIn("Traceback", run.stderr)
        return run

    def test_compatible_release_exits_0(self):
        run = self.hvabi("v0.1:spec", "v0.2:spec", "--arch", "x86_64", status=0)
        self.assertIn("union hv_message_flags\n  compatible  reserved-named       reserved reserved"
                      " (bits 1-7) -> new_flag (bit 1), reserved (bits 2-7)\n", run.stdout)
        self.assertIn("0 breaking, 0 review, 1 compatible", run.stdout)

    def test_uapi_rename_exits_1(self):
        run = self.hvabi("v0.2:spec", "spec", status=1)
        self.assertIn("breaking    member-renamed       bit 0: msg_pending renamed to message_pending"
                      " (user space code using the old name no longer builds)  [rust-vmm only]",
                      run.stdout)
        self.assertIn("review      member-renamed       bit 0: msg_pending renamed to message_pending"
                      "  [linux, tlfs only]", run.stdout)

    def test_review_fails_only_with_strict(self):
        self.hvabi("v0.2:spec", "spec", "--profile", "linux", "--arch", "arm64", status=0)
        self.hvabi("v0.2:spec", "spec", "--profile", "linux", "--arch", "arm64", "--strict", status=1)

    def test_json(self):
        run = self.hvabi("v0.1:spec", "spec", "--arch", "x86_64", "--format", "json", status=1)
        doc = json.loads(run.stdout)
        self.assertEqual(doc["format"], "hvabi-diff/1")
        self.assertEqual((doc["old"], doc["new"]), ("v0.1:spec", "spec"))
        self.assertEqual(doc["compared"], ["linux/x86_64", "rust-vmm/x86_64", "tlfs/x86_64"])
        self.assertEqual(doc["summary"],
                         {"breaking": 1, "review": 1, "compatible": 1, "suppressed": 0})
        breaking = doc["findings"][0]
        self.assertEqual(breaking, {
            "category": "union", "definition": "hv_message_flags", "member": "msg_pending",
            "kind": "member-renamed", "severity": "breaking",
            "old": [{"path": "msg_pending", "offset": 0, "bits": 1, "type": "u8", "reserved": False}],
            "new": [{"path": "message_pending", "offset": 0, "bits": 1, "type": "u8",
                     "reserved": False}],
            "detail": "bit 0: msg_pending renamed to message_pending"
                      " (user space code using the old name no longer builds)",
            "where": ["rust-vmm/x86_64"], "suppressed": None})

    def test_markdown(self):
        run = self.hvabi("v0.1:spec", "spec", "--arch", "x86_64", "--format", "markdown", status=1)
        lines = run.stdout.splitlines()
        self.assertEqual(lines[0], "### hvabi ABI diff: `v0.1:spec` → `spec`")
        self.assertIn("**1 breaking**, 1 review, 1 compatible. Compared: linux/x86_64, rust-vmm/x86_64,"
                      " tlfs/x86_64.", lines)
        self.assertIn("| **breaking** | `hv_message_flags.msg_pending` | member-renamed | bit 0:"
                      " msg_pending renamed to message_pending (user space code using the old name no"
                      " longer builds) *(rust-vmm only)* |", lines)
        self.assertIn("<details><summary>1 compatible or suppressed</summary>", lines)

    def test_history_of_three_releases(self):
        run = self.hvabi("v0.1:spec", "v0.2:spec", "spec", "--arch", "x86_64", "--format", "json",
                         status=1)
        docs = json.loads(run.stdout)
        self.assertEqual([(d["old"], d["new"], d["summary"]["breaking"]) for d in docs],
                         [("v0.1:spec", "v0.2:spec", 0), ("v0.2:spec", "spec", 1)])

    def test_bare_clone(self):
        bare = pathlib.Path(self.tmp.name, "bare.git")
        git(self.tmp.name, "clone", "-q", "--bare", str(self.repo), str(bare))
        run = subprocess.run([*HVABI, "diff", "v0.1:spec", "v0.2:spec", "--arch", "arm64"], cwd=bare,
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("reserved-named", run.stdout)

    def test_suppression(self):
        rules = self.repo / "accepted.txt"
        rules.write_text("# accepted for v0.3\n"
                         "breaking  hv_message_flags.msg_*  member-renamed   # renamed on purpose\n"
                         "review    HV_NO_SUCH_*\n")
        run = self.hvabi("v0.2:spec", "spec", "--arch", "x86_64", "--suppress", str(rules), status=0)
        self.assertIn(f"[rust-vmm only; suppressed by {rules}:2]", run.stdout)
        self.assertIn("(1 suppressed)", run.stdout)
        self.assertEqual(run.stderr, f"{rules}:3: note: suppression matched nothing\n")

    def test_bad_suppression_file(self):
        rules = self.repo / "bad.txt"
        rules.write_text("fatal hv_*\n")
        run = self.hvabi("v0.1:spec", "v0.2:spec", "--suppress", str(rules), status=2)
        self.assertEqual(run.stderr, f"{rules}:1: error: unknown severity 'fatal'\n"
                                     "  hint: use one of breaking, review, compatible or *\n")

    def test_missing_revision(self):
        run = self.hvabi("v9.9:spec", "spec", status=2)
        self.assertEqual(run.stderr.splitlines()[0],
                         f"error: v9.9:spec: no revision 'v9.9' in {self.repo / '.git'}")
        self.assertIn("hint: list candidates with `git tag`", run.stderr)

    def test_empty_revision(self):
        # What the CI line gives when `git describe` finds no tag.
        run = self.hvabi(":spec", "spec", status=2)
        self.assertIn("error: :spec: no revision before ':'", run.stderr)

    def test_missing_path_in_revision(self):
        run = self.hvabi("v0.1:specs", "spec", status=2)
        self.assertIn("error: v0.1:specs: revision 'v0.1' has no 'specs'", run.stderr)

    def test_unparsable_header(self):
        bad = self.repo / "bad.h"
        bad.write_text("struct broken { int x }\n")
        run = self.hvabi(str(bad), str(bad), "--arch", "arm64", status=2)
        self.assertIn("cannot read the headers for arm64: headers do not compile:\n"
                      f"  {bad}:1: expected ';'", run.stderr)

    def test_unparsable_header_in_a_history(self):
        # Header sides are parsed one ahead on a second thread: a failure there is
        # reported like any other, and one ahead of a failure is dropped quietly.
        good, bad = self.repo / "good.h", self.repo / "bad2.h"
        good.write_text("struct fine { int x; };\n")
        bad.write_text("struct broken { int x }\n")
        for sides in ((good, good, bad), (bad, good, good)):
            with self.subTest(sides=[s.name for s in sides]):
                run = self.hvabi(*map(str, sides), "--arch", "both", status=2)
                self.assertEqual(run.stderr.splitlines()[0],
                                 f"error: {bad}: cannot read the headers for x86_64: headers"
                                 " do not compile:")

    def test_usage_errors(self):
        self.hvabi("spec", status=2)
        self.hvabi("spec", "spec", "--format", "xml", status=2)
        run = self.hvabi("spec", str(REPO / "include/uapi/hyperv"), "--profile", "nope", status=2)
        self.assertIn("no profile nope", run.stderr)

    def test_arches_are_the_models(self):
        # cli takes the arches from the libclang reader to stay clear of the model's imports.
        from hvabi import cli, model
        self.assertEqual(cli.ARCHES, model.ARCHES)


if __name__ == "__main__":
    unittest.main()
