#!/usr/bin/python3
"""`hvabi export` into real tree layouts (ctest `export`):

  - a Linux 7.3 tree: Debian's linux-source-7.3 Makefile and include/hyperv/ copied into a
    scratch git repository (KERNEL_SRC_7_3);
  - a Linux 6.12 tree: the hyperv-tlfs.h trio from linux-source-6.12 (KERNEL_SRC) and a
    Makefile saying VERSION = 6, PATCHLEVEL = 12 (the extracted 6.12 tree has none);
  - a rust-vmm/mshv layout: Cargo.toml naming mshv-bindings, mshv-bindings/, hv-headers/
    holding our own uapi headers with one value changed.

Each export is committed with --commit; the test reads the commit back. A one-definition
spec change (in a scratch copy of spec/) must change one line of one file; a file edited by
hand since the export must be refused (nothing written) unless --force; a tree of a layout
hvabi does not know, a symlink out of the tree and --commit outside git are refused with
exit status 2 and nothing written. The commit of the one-definition change must pass
checkpatch --strict in patch mode (with a Signed-off-by added by format-patch -s).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[1]
K73 = pathlib.Path(os.environ.get("KERNEL_SRC_7_3", REPO / "build/kernel/linux-source-7.3"))
K612 = pathlib.Path(os.environ.get("KERNEL_SRC", REPO / "build/kernel/linux-source-6.12"))
TRIO = ["include/asm-generic/hyperv-tlfs.h", "arch/x86/include/asm/hyperv-tlfs.h",
        "arch/arm64/include/asm/hyperv-tlfs.h"]
STAMP = re.compile(r"^ \* hvabi-stamp: [0-9a-f]{16}\n", re.M)
# The one-definition change: a constant every product carries.
NAME, OLD, NEW = "HV_X64_MSR_HYPERCALL", "0x40000001", "0x40000011"
# git for the scratch repositories: the test's own identity and no user configuration.
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
sys.path.insert(0, str(REPO / "tests"))

from testlib import hvabi_here  # noqa: E402


def run(*argv, cwd=None):
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=GIT_ENV)


def git(tree, *args):
    result = run("git", "-C", str(tree), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def export(*args, spec=None):
    """hvabi export ARGS, run by cli.main in this process (testlib.hvabi_here): the spec is
    loaded and checked once for every export of the test (and git, which hvabi runs, sees
    GIT_ENV's settings)."""
    return hvabi_here([*(["--spec", str(spec)] if spec else []), "export", *map(str, args)],
                      env=GIT_ENV)


def make_repo(tree):
    git(tree, "init", "-q")
    git(tree, "config", "user.name", "Test User")
    git(tree, "config", "user.email", "test@example.com")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "upstream")


def generated(root, rel):
    """A generated file of ours without its stamp line: what export writes."""
    return STAMP.sub("", (REPO / root / rel).read_text(), count=1)


def changed_lines(tree, rev="HEAD"):
    """The -/+ lines of commit `rev`, with the file each is in."""
    out, path = [], None
    for line in git(tree, "show", "--format=", "-U0", rev).splitlines():
        if line.startswith("+++ b/"):
            path = line[6:]
        elif line[:1] in "+-" and not line.startswith(("+++", "---")):
            out.append((path, line))
    return out


def tree_files(tree):
    return sorted(str(p.relative_to(tree)) for p in pathlib.Path(tree).rglob("*")
                  if ".git" not in p.relative_to(tree).parts)


class Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # the one-definition change, in a scratch copy named spec/ (the headers name their
        # sources as spec/defs/...); one for every test, so it is loaded once
        cls.spec_tmp = pathlib.Path(tempfile.mkdtemp(prefix="hvabi-export-spec-"))
        cls.spec2 = cls.spec_tmp / "changed" / "spec"
        shutil.copytree(REPO / "spec", cls.spec2)
        yaml = cls.spec2 / "defs/10-hvgdk_mini.yaml"
        text = yaml.read_text()
        before = f"{{name: {NAME}, value: {OLD},"
        assert text.count(before) == 1, before
        yaml.write_text(text.replace(before, f"{{name: {NAME}, value: {NEW},"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.spec_tmp)

    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="hvabi-export-test-"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def linux_7_3(self):
        tree = self.tmp / "linux"
        (tree / "include").mkdir(parents=True)
        shutil.copyfile(K73 / "Makefile", tree / "Makefile")
        shutil.copytree(K73 / "include/hyperv", tree / "include/hyperv")
        make_repo(tree)
        return tree

    def assert_one_definition_commit(self, tree, path, prefix):
        lines = changed_lines(tree)
        self.assertEqual([p for p, _ in lines], [path, path], lines)
        self.assertTrue(lines[0][1].startswith(f"-#define {NAME}\t") and lines[0][1].endswith(OLD), lines)
        self.assertTrue(lines[1][1].startswith(f"+#define {NAME}\t") and lines[1][1].endswith(NEW), lines)
        msg = git(tree, "log", "-1", "--format=%B")
        self.assertEqual(msg.splitlines()[0], f"{prefix}: Update {NAME}")
        self.assertIn(f"breaking value-changed: {NAME}: {OLD} -> 0x40000011", msg)
        self.assertIn("[x86_64 only]", msg)
        return msg

    def assert_message_shape(self, msg, prefix):
        lines = msg.splitlines()
        self.assertTrue(lines[0].startswith(f"{prefix}: "), lines[0])
        self.assertLessEqual(len(lines[0]), 75)
        self.assertEqual(lines[1], "")
        self.assertTrue(all(len(line) <= 75 for line in lines), msg)
        self.assertNotIn("Signed-off-by", msg)

    def test_linux_7_3(self):
        tree = self.linux_7_3()
        base = git(tree, "rev-parse", "HEAD").strip()
        first = export("linux", str(tree), "--commit")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("Linux 7.3 (include/hyperv/): 5 headers", first.stderr)
        # one commit, of include/hyperv/*.h only, with a kernel-style message
        self.assertEqual(git(tree, "rev-list", "--count", f"{base}..HEAD").strip(), "1")
        names = git(tree, "show", "--format=", "--name-only", "HEAD").split()
        self.assertEqual(names, [f"include/hyperv/{n}.h" for n in
                                 ("hvgdk", "hvgdk_ext", "hvgdk_mini", "hvhdk", "hvhdk_mini")])
        msg = git(tree, "log", "-1", "--format=%B")
        print(f"---- first export over Linux 7.3's include/hyperv, the commit message:\n{msg}")
        self.assert_message_shape(msg, "hyperv")
        self.assertIn("(read as kernel-flavor headers for x86_64 and arm64)", " ".join(msg.split()))
        self.assertEqual(git(tree, "log", "-1", "--format=%an <%ae>").strip(),
                         "Test User <test@example.com>")
        for rel in names:
            text = (tree / rel).read_text()
            self.assertEqual(text, generated("include/hvhdk", rel))
            self.assertNotIn("hvabi-stamp", text)
        self.assertTrue((tree / ".hvabi_export.json").is_file())

        # again: nothing changes, nothing to commit
        again = export("linux", str(tree), "--commit")
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("0 changed", again.stderr)
        self.assertIn("nothing to commit", again.stderr)

        # a one-definition spec change: one line of one file
        head = git(tree, "rev-parse", "HEAD")
        one = export("linux", str(tree), "--commit", spec=self.spec2)
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assertNotEqual(git(tree, "rev-parse", "HEAD"), head)
        msg = self.assert_one_definition_commit(tree, "include/hyperv/hvgdk_mini.h", "hyperv")
        self.assert_message_shape(msg, "hyperv")
        print(f"---- a one-definition change, the commit:\n{git(tree, 'show', '-U1', 'HEAD')}")
        self.assert_checkpatch_clean(tree)

        # a hand edit, committed: the next export refuses and writes nothing
        hvgdk = tree / "include/hyperv/hvgdk.h"
        hvgdk.write_text(hvgdk.read_text().replace("#define HV_LINUX_VENDOR_ID",
                                                   "/* mine */\n#define HV_LINUX_VENDOR_ID", 1))
        git(tree, "commit", "-q", "-am", "a hand edit")
        state = (tree / ".hvabi_export.json").read_text()
        mini = (tree / "include/hyperv/hvgdk_mini.h").read_text()
        refused = export("linux", str(tree), "--commit")     # would restore the old value
        self.assertEqual(refused.returncode, 2, refused.stderr)
        print(f"---- export over a hand edit:\n{refused.stderr}")
        self.assertIn(f"{hvgdk}: error: changed since hvabi exported it", refused.stderr)
        self.assertIn("nothing was written", refused.stderr)
        self.assertIn("--force", refused.stderr)
        self.assertNotIn("Traceback", refused.stderr)
        self.assertIn("/* mine */", hvgdk.read_text())
        self.assertEqual((tree / "include/hyperv/hvgdk_mini.h").read_text(), mini)
        self.assertEqual((tree / ".hvabi_export.json").read_text(), state)
        self.assertEqual(git(tree, "log", "-1", "--format=%s").strip(), "a hand edit")
        self.assertEqual(git(tree, "status", "--porcelain"), "?? .hvabi_export.json\n")

        forced = export("linux", str(tree), "--force", "--commit")
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertNotIn("/* mine */", hvgdk.read_text())
        self.assertEqual(hvgdk.read_text(), generated("include/hvhdk", "include/hyperv/hvgdk.h"))
        self.assertEqual(git(tree, "status", "--porcelain"), "?? .hvabi_export.json\n")

    def assert_checkpatch_clean(self, tree):
        """checkpatch --strict in patch mode on HEAD (Signed-off-by added by format-patch)."""
        patch = git(tree, "format-patch", "-1", "--stdout", "--signoff", "HEAD")
        with tempfile.TemporaryDirectory() as cwd:     # checkpatch writes a cache into its cwd
            result = subprocess.run(["perl", str(K612 / "scripts/checkpatch.pl"), "--strict",
                                     "--no-tree", "-"], input=patch, capture_output=True,
                                    text=True, cwd=cwd)
        print(f"---- checkpatch --strict on that commit:\n{result.stdout}")
        self.assertIn("total: 0 errors, 0 warnings, 0 checks", result.stdout)

    def test_upstream_file_with_uncommitted_edit_is_refused(self):
        tree = self.linux_7_3()
        mini = tree / "include/hyperv/hvgdk_mini.h"
        mini.write_text(mini.read_text() + "/* uncommitted */\n")
        refused = export("linux", str(tree))
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn(f"{mini}: error: hvabi never exported this file and git says it differs",
                      refused.stderr)
        self.assertEqual(git(tree, "status", "--porcelain"), " M include/hyperv/hvgdk_mini.h\n")
        self.assertEqual(git(tree, "diff", "--stat", "HEAD").count("|"), 1)

    def test_unknown_layouts_are_refused(self):
        empty = self.tmp / "empty"
        empty.mkdir()
        cases = [
            (("linux", empty), "not the top of a Linux tree"),
            (("rust-vmm", empty), "not a rust-vmm/mshv checkout"),
            (("linux", self.tmp / "nowhere"), "no such directory"),
        ]
        no_hyperv = self.tmp / "linux-no-hyperv"
        no_hyperv.mkdir()
        shutil.copyfile(K73 / "Makefile", no_hyperv / "Makefile")
        cases.append((("linux", no_hyperv), "Linux 7.3 without include/hyperv/"))
        old = self.tmp / "linux-6.12-no-trio"
        old.mkdir()
        (old / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\n")
        cases.append((("linux", old), "Linux 6.12 without include/asm-generic/hyperv-tlfs.h"))
        cases.append((("rust-vmm", self.linux_7_3()), "not a rust-vmm/mshv checkout"))
        for (target, tree), why in cases:
            before = tree_files(tree) if tree.exists() else None
            result = export(target, str(tree))
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(f"{tree}: {why}", result.stderr)
            self.assertIn("hint:", result.stderr)
            self.assertNotIn("Traceback", result.stderr)
            self.assertEqual(tree_files(tree) if tree.exists() else None, before)

    def test_never_writes_outside_the_tree(self):
        tree = self.tmp / "linux"
        outside = self.tmp / "outside"
        outside.mkdir()
        (tree / "include").mkdir(parents=True)
        shutil.copyfile(K73 / "Makefile", tree / "Makefile")
        (tree / "include/hyperv").symlink_to(outside)
        result = export("linux", str(tree))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("leads outside the tree", result.stderr)
        self.assertEqual(list(outside.iterdir()), [])
        self.assertEqual(tree_files(tree), ["Makefile", "include", "include/hyperv"])

    def test_commit_needs_git(self):
        tree = self.tmp / "linux"
        (tree / "include").mkdir(parents=True)
        shutil.copyfile(K73 / "Makefile", tree / "Makefile")
        shutil.copytree(K73 / "include/hyperv", tree / "include/hyperv")
        before = {p: p.read_text() for p in (tree / "include/hyperv").iterdir()}
        result = export("linux", str(tree), "--commit")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--commit needs a git work tree", result.stderr)
        self.assertEqual({p: p.read_text() for p in (tree / "include/hyperv").iterdir()}, before)
        # without --commit, a tree outside git is fine
        self.assertEqual(export("linux", str(tree)).returncode, 0)

    def test_linux_6_12_trio(self):
        tree = self.tmp / "linux-6.12"
        for rel in TRIO:
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(K612 / rel, tree / rel)
        (tree / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n")
        make_repo(tree)
        first = export("linux", str(tree), "--commit")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn("Linux 6.12 (the hyperv-tlfs.h trio): 3 headers", first.stderr)
        self.assertEqual(sorted(git(tree, "show", "--format=", "--name-only", "HEAD").split()),
                         sorted(TRIO))
        msg = git(tree, "log", "-1", "--format=%B")
        self.assert_message_shape(msg, "hyperv")
        for rel in TRIO:
            self.assertEqual((tree / rel).read_text(), generated("include/hyperv-tlfs", rel))
        self.assertFalse((tree / "include/hyperv").exists())

        one = export("linux", str(tree), "--commit", spec=self.spec2)
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assert_one_definition_commit(tree, "arch/x86/include/asm/hyperv-tlfs.h", "hyperv")

    def test_rust_vmm(self):
        tree = self.tmp / "mshv"
        (tree / "hv-headers").mkdir(parents=True)
        (tree / "mshv-bindings").mkdir()
        (tree / "mshv-bindings/Cargo.toml").write_text('[package]\nname = "mshv-bindings"\n')
        (tree / "Cargo.toml").write_text('[workspace]\nmembers = ["mshv-bindings", "mshv-ioctls"]\n')
        # rust-vmm's four headers (no hvgdk_ext.h), here ours with one value changed
        for name in ("hvgdk_mini", "hvgdk", "hvhdk_mini", "hvhdk"):
            text = generated("include/uapi", f"hyperv/{name}.h")
            text = "".join(ln for ln in text.splitlines(True) if "hvgdk_ext.h" not in ln)
            text = re.sub(rf"^(#define {NAME}\s+){OLD}$", r"\g<1>0x40000002", text, flags=re.M)
            (tree / "hv-headers" / f"{name}.h").write_text(text)
        make_repo(tree)
        result = export("rust-vmm", str(tree), "--commit")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("rust-vmm/mshv (hv-headers/): 5 headers", result.stderr)
        msg = git(tree, "log", "-1", "--format=%B")
        print(f"---- export into a rust-vmm/mshv layout, the commit message:\n{msg}")
        self.assert_message_shape(msg, "hv-headers")
        self.assertEqual(msg.splitlines()[0], f"hv-headers: Update {NAME}")
        self.assertIn(f"breaking value-changed: {NAME}: 0x40000002 -> {OLD}", msg)
        self.assertIn("(read as uapi-flavor headers for x86_64 and arm64)", " ".join(msg.split()))
        for name in ("hvgdk_mini", "hvgdk_ext", "hvgdk", "hvhdk_mini", "hvhdk"):
            self.assertEqual((tree / "hv-headers" / f"{name}.h").read_text(),
                             generated("include/uapi", f"hyperv/{name}.h"))

        one = export("rust-vmm", str(tree), "--commit", spec=self.spec2)
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assert_one_definition_commit(tree, "hv-headers/hvgdk_mini.h", "hv-headers")


if __name__ == "__main__":
    unittest.main(verbosity=2)
