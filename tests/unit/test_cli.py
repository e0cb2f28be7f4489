"""hvabi's exit statuses: 0 success, 1 a check failed, 2 bad usage. The usage tests run
the script itself, in its own process (the other unit tests run cli.main in-process,
testlib.hvabi_here)."""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
HVABI = [sys.executable, str(REPO / "gen/bin/hvabi")]
sys.path.append(str(REPO / "tests"))      # appended: tests/unit's own modules come first

import testlib  # noqa: E402


def hvabi(*args):
    """hvabi ARGS in a process of its own: the script, its exit status and its output."""
    return subprocess.run([*HVABI, *args], capture_output=True, text=True)


def hvabi_here(*args):
    """hvabi ARGS run by cli.main in this process (what the script runs, after the
    usage tests below prove the script itself): the spec is loaded and rendered once
    for all the runs of a test."""
    return testlib.hvabi_here(args)


class ExitStatus(unittest.TestCase):
    def test_help_is_success(self):
        run = hvabi("--help")
        self.assertEqual(run.returncode, 0)
        self.assertIn("generate", run.stdout)
        self.assertIn("check", run.stdout)

    def test_usage_error_is_2(self):
        self.assertEqual(hvabi("no-such-command").returncode, 2)
        run = hvabi("--spec", "/nonexistent", "validate")
        self.assertEqual(run.returncode, 2)
        self.assertIn("error:", run.stderr)
        self.assertNotIn("Traceback", run.stderr)
        self.assertEqual(run.stdout, "")

    def test_in_process_runs_match_the_script(self):
        # testlib.hvabi_here, which most unit tests use, gives what the script gives: exit
        # status, stdout, stderr (argparse wraps to COLUMNS, a terminal's width otherwise)
        columns = {"COLUMNS": "80"}
        for args in (["--help"], ["--spec", "/nonexistent", "validate"], ["no-such-command"],
                     ["generate", "--no-such-option"]):
            real = subprocess.run([*HVABI, *args], capture_output=True, text=True,
                                  env={**os.environ, **columns})
            here = testlib.hvabi_here(args, env=columns)
            self.assertEqual((here.returncode, here.stdout, here.stderr),
                             (real.returncode, real.stdout, real.stderr), args)

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
