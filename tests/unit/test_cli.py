"""hvabi's exit statuses: 0 success, 1 a check failed, 2 bad usage."""

import contextlib
import io
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
HVABI = [sys.executable, str(REPO / "gen/bin/hvabi")]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import cli  # noqa: E402


def hvabi(*args):
    return subprocess.run([*HVABI, *args], capture_output=True, text=True)


def hvabi_here(*args):
    """hvabi ARGS run by cli.main in this process (what the script runs, after the
    usage tests above prove the script itself): the spec is loaded and rendered once
    for all the runs of a test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(list(args))
        except SystemExit as e:
            status = e.code
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())


class ExitStatus(unittest.TestCase):
    def test_help_is_success(self):
        run = hvabi("--help")
        self.assertEqual(run.returncode, 0)
        self.assertIn("generate", run.stdout)
        self.assertIn("check", run.stdout)

    def test_usage_error_is_2(self):
        self.assertEqual(hvabi("no-such-command").returncode, 2)
        self.assertEqual(hvabi("--spec", "/nonexistent", "validate").returncode, 2)

    def test_check_detects_a_hand_edit(self):
        hvabi = hvabi_here
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(hvabi("-q", "generate", "--out", tmp).returncode, 0)
            self.assertEqual(hvabi("-q", "check", "--out", tmp).returncode, 0)
            header = pathlib.Path(tmp, "include/hvhdk/include/hyperv/hvgdk_mini.h")
            header.write_text(header.read_text().replace("0x0002", "0x0003", 1))
            run = hvabi("check", "--out", tmp)
            self.assertEqual(run.returncode, 1)
            self.assertIn("edited by hand since hvabi generated it: include/hvhdk/include/hyperv/hvgdk_mini.h",
                          run.stdout)
            # generate refuses to overwrite the edit (bad input, exit 2), --force does it.
            edited = header.read_text()
            run = hvabi("generate", "--out", tmp)
            self.assertEqual(run.returncode, 2, run.stderr)
            self.assertIn("hvgdk_mini.h: error: edited by hand since hvabi generated it", run.stderr)
            self.assertIn("hint: ", run.stderr)
            self.assertNotIn("Traceback", run.stderr)
            self.assertEqual(header.read_text(), edited)
            self.assertEqual(hvabi("-q", "generate", "--force", "--out", tmp).returncode, 0)
            self.assertEqual(hvabi("-q", "check", "--out", tmp).returncode, 0)


if __name__ == "__main__":
    unittest.main()
