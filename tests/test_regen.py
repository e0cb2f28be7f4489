#!/usr/bin/python3
"""Regenerating into fresh temporary trees, under different hash seeds and locales, must
give byte-identical files, identical to the ones committed in the repository."""

import filecmp
import os
import pathlib
import subprocess
import sys

from testlib import report
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
RUNS = [{"PYTHONHASHSEED": "0", "LC_ALL": "C"},
        {"PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8", "TZ": "Pacific/Kiritimati"}]


def generate(out, env_extra):
    env = dict(os.environ, **env_extra)
    subprocess.run([sys.executable, str(REPO / "gen/bin/hvabi"), "-q", "generate", "--out", str(out)],
                   env=env, check=True)
    return sorted(p.relative_to(out) for p in pathlib.Path(out).rglob("*") if p.is_file())


def main():
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        trees = []
        for i, env in enumerate(RUNS):
            out = pathlib.Path(tmp) / f"run{i}"
            trees.append((out, generate(out, env)))
        (first, files), (second, files2) = trees
        if files != files2:
            failures.append("the two runs generated different file lists")
        for rel in files:
            checked += 1
            if not filecmp.cmp(first / rel, second / rel, shallow=False):
                failures.append(f"{rel}: differs between runs (not deterministic)")
            elif not (REPO / rel).is_file():
                failures.append(f"{rel}: generated but not committed")
            elif not filecmp.cmp(first / rel, REPO / rel, shallow=False):
                failures.append(f"{rel}: committed copy differs from a fresh generation")
    return report(checked - len(failures), failures)


if __name__ == "__main__":
    sys.exit(main())
