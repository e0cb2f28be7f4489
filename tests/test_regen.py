#!/usr/bin/python3
"""Generating into a fresh temporary tree, under another hash seed, locale and time zone
than the `in_sync` test's `hvabi check --diff` (PYTHONHASHSEED=0, LC_ALL=C, see
CMakeLists.txt), must give the files committed in the repository, byte for byte, and no
file that is not committed. Each run is compared with the committed tree, so the two
environments give identical output without a third generation to compare them."""

import filecmp
import os
import pathlib
import subprocess
import sys
import tempfile

from testlib import report

REPO = pathlib.Path(__file__).resolve().parents[1]
ENV = {"PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8", "TZ": "Pacific/Kiritimati"}


def generate(out):
    """The files `hvabi generate` writes into `out`, as a real process under ENV."""
    subprocess.run([sys.executable, str(REPO / "gen/bin/hvabi"), "-q", "generate", "--out", str(out)],
                   env=dict(os.environ, **ENV), check=True)
    return sorted(p.relative_to(out) for p in pathlib.Path(out).rglob("*") if p.is_file())


def main():
    failures, checked = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "run"
        for rel in generate(out):
            checked += 1
            if not (REPO / rel).is_file():
                failures.append(f"{rel}: generated but not committed")
            elif not filecmp.cmp(out / rel, REPO / rel, shallow=False):
                failures.append(f"{rel}: committed copy differs from a fresh generation"
                                f" ({' '.join(f'{k}={v}' for k, v in ENV.items())})")
    return report(checked - len(failures), failures)


if __name__ == "__main__":
    sys.exit(main())
