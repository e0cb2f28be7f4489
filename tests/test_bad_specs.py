#!/usr/bin/python3
"""Malformed specs are reported, not crashed on: each file in tests/bad-specs/ is added to a
small valid spec; `hvabi generate` must exit 2, print `FILE:LINE: error:` with the line and
message given in the file's `# expect: LINE: REGEX` comment, print no traceback, and leave
the output tree exactly as it was."""

import hashlib
import pathlib
import re
import shutil
import subprocess
import sys

from testlib import profiles_without_omit, report
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
CASES = REPO / "tests/bad-specs"
GOOD = """hvabi: 2
header: {hdk: hvgdk_mini, tlfs: generic}
defs:
  - consts: good
    doc: A valid constant so the spec is not empty.
    items: [{name: HV_GOOD, value: 1}]
"""


def snapshot(tree):
    return {p.relative_to(tree): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tree.rglob("*")) if p.is_file()}


def run_case(case, tmp):
    spec = tmp / case.stem / "spec"
    (spec / "defs").mkdir(parents=True)
    (spec / "profiles.yaml").write_text(profiles_without_omit())
    shutil.copy(REPO / "spec/products.yaml", spec)
    (spec / "defs/00-good.yaml").write_text(GOOD)
    shutil.copy(case, spec / "defs" / case.name)
    out = tmp / case.stem / "out"
    shutil.copytree(REPO / "include", out / "include")
    before = snapshot(out)
    run = subprocess.run([sys.executable, str(REPO / "gen/bin/hvabi"), "--spec", str(spec), "generate",
                          "--out", str(out)], capture_output=True, text=True)
    line, pattern = re.search(r"^# expect: (\d+): (.*)$", case.read_text(), re.M).groups()
    problems = []
    if run.returncode != 2:
        problems.append(f"exit status {run.returncode}, expected 2")
    if "Traceback" in run.stderr:
        problems.append("printed a traceback")
    want = re.compile(rf"spec/defs/{re.escape(case.name)}:{line}: error: .*{pattern}")
    if not want.search(run.stderr):
        problems.append(f"no `{case.name}:{line}: error: ...{pattern}` in:\n{run.stderr}")
    if snapshot(out) != before:
        problems.append("the output tree was modified")
    return problems


def main():
    failures, passed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in sorted(CASES.glob("*.yaml")):
            problems = run_case(case, pathlib.Path(tmp))
            if problems:
                failures.append(f"{case.name}: " + "; ".join(problems))
            else:
                passed += 1
                print(f"ok   {case.name}")
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main())
