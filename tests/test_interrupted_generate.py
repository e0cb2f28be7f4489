#!/usr/bin/python3
"""`hvabi generate` killed (SIGKILL) at any moment leaves, once the next `generate` or
`check` has run, either the whole old tree or the whole new one, and no .hvabi-* file.

An old tree (a stamped older version of every 4th generated file) is copied for each trial;
`hvabi generate` runs on it in a forked child with HVABI_TEST_KILL_AT=N, which SIGKILLs
the child at step N of its transaction (gen/hvabi/output.py), for every N from the first
temporary to the cleanup, until a run completes. Then the next command recovers:
`hvabi check` (in-process, and for one trial as a real subprocess: a kill halfway through
the renames, which leaves a mixed tree the journal must finish) or `hvabi generate`.
Kills up to the journal's commit must give the old tree, later ones the new tree. Rendering
the spec (about a second) is done once: the children reuse it.
"""

import contextlib
import io
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from unittest import mock

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import cli, output          # noqa: E402
from hvabi.emit import stamp           # noqa: E402
from testlib import report             # noqa: E402



def older(text):
    """A stamped, different version of a generated file: what an older spec gave."""
    unfilled = re.sub(r'(hvabi-stamp"?: "?)[0-9a-f]{16}', rf"\g<1>{stamp.PLACEHOLDER}", text, count=1)
    if unfilled.lstrip().startswith("{"):
        unfilled = unfilled.replace(f'"{stamp.PLACEHOLDER}"', f'"{stamp.PLACEHOLDER}",\n "older": 1', 1)
    else:
        unfilled = unfilled.replace("\n", "\n/* older */\n", 1)
    return stamp.fill(unfilled)


def snapshot(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(pathlib.Path(root).rglob("*"))
            if p.is_file()}


def quiet_main(argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(argv)


def killed_generate(out, step):
    """Fork `hvabi generate --out OUT` killed at `step`; its wait status."""
    pid = os.fork()
    if pid == 0:
        os.environ["HVABI_TEST_KILL_AT"] = str(step)
        status = quiet_main(["generate", "--out", str(out)])
        os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    return wait_status


def main():
    failures, passed = [], 0
    new_files = cli.render_everything(REPO / "spec")
    # Every 4th file differs (8 of 29, in every output directory): each kind of step is
    # killed in several places, between files generate leaves alone.
    old_files = {rel: older(text) if i % 4 == 0 else text
                 for i, (rel, text) in enumerate(sorted(new_files.items()))}
    changed = sum(old_files[k] != new_files[k] for k in new_files)
    commit_step = changed + 1                 # temporaries 0..n-1, journal part n, commit n+1
    subprocess_step = commit_step + 1 + changed // 2   # recovered by a real `hvabi check` run
    mixed_before_recovery = 0
    with tempfile.TemporaryDirectory(prefix="hvabi-kill-") as tmp, \
            mock.patch.object(cli, "render_everything", lambda spec: dict(new_files)):
        base = pathlib.Path(tmp) / "old"
        output.write(base, old_files)
        old, new = snapshot(base), {k: v.encode() for k, v in new_files.items()}
        if sum(old[k] != new[k] for k in new) != changed or changed < 4:
            failures.append("the old tree must differ from the new one in several files")
        step = 0
        while True:
            trial = pathlib.Path(tmp) / f"trial{step}"
            shutil.copytree(base, trial)
            wait_status = killed_generate(trial, step)
            if os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == 0:
                if snapshot(trial) != new:
                    failures.append("an uninterrupted generate did not write the new tree")
                break
            if not (os.WIFSIGNALED(wait_status) and os.WTERMSIG(wait_status) == signal.SIGKILL):
                failures.append(f"step {step}: generate was not SIGKILLed (wait status {wait_status})")
                break
            after_kill = snapshot(trial)
            generated = {k: v for k, v in after_kill.items() if k in new}
            mixed = generated != old and generated != new
            mixed_before_recovery += mixed
            if step == subprocess_step and not mixed:
                failures.append(f"step {step}: the real `hvabi check` process was to recover a"
                                " mixed tree, and the kill left none")
            # The next run recovers: check (in-process or a real subprocess), or generate.
            if step == subprocess_step:
                how = "hvabi check (subprocess)"
                subprocess.run([sys.executable, str(REPO / "gen/bin/hvabi"), "-q", "check", "--out",
                                str(trial)], capture_output=True)
            elif step % 3 == 2:
                how = "hvabi generate"
                quiet_main(["generate", "--out", str(trial)])
            else:
                how = "hvabi check"
                quiet_main(["check", "--out", str(trial)])
            now = snapshot(trial)
            expect = new if step >= commit_step or how == "hvabi generate" else old
            litter = [k for k in now if any(part.startswith(".hvabi-") for part in k.split("/"))]
            what = ("old" if now == old else "new" if now == new else "a mix")
            if litter:
                failures.append(f"killed at step {step}, then {how}: left {litter}")
            elif now != expect:
                failures.append(f"killed at step {step}, then {how}: the tree is {what}, expected"
                                f" {'new' if expect is new else 'old'}")
            else:
                passed += 1
            shutil.rmtree(trial)
            step += 1
    print(f"{step} kill points ({changed} of {len(new_files)} files changed: {changed} temporaries,"
          f" the journal, its commit, {changed} renames, the cleanup); {mixed_before_recovery}"
          " left a mixed tree until the next run recovered it")
    if mixed_before_recovery == 0:
        failures.append("no kill point fell between two renames: the test proves nothing")
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main())
