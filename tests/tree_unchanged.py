#!/usr/bin/python3
"""No test may write into the source tree.

  tree_unchanged.py snapshot STATE [EXCLUDE...]   record the tree before the tests (ctest
                                                 fixture setup)
  tree_unchanged.py compare STATE [EXCLUDE...]    after every other test (fixture cleanup):
                                                 fail on any file added, removed or changed

The tree's state is what `git status --ignored=matching -uall` lists (untracked, modified
and ignored files: a test's litter may match .gitignore, e.g. a .checkpatch-camelcase.*
cache or an .hvabi-* temporary) with a hash of each file's content, so a file a developer
had already modified before the tests still counts if a test changes it again. A
directory .gitignore names is listed as itself, not walked: the build directory holds the
kernel trees (git walked them for most of a second, pathspec exclusion or not), and a new
ignored directory (an .hvabi-txn/ left behind) still shows. Python's __pycache__ and the
EXCLUDE paths (the build directory) are not looked at.
"""

import hashlib
import json
import pathlib
import subprocess
import sys

from testlib import report

REPO = pathlib.Path(__file__).resolve().parents[1]


def state(excludes):
    specs = ["."] + [f":(exclude){e}" for e in excludes]
    run = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain=v1", "-z", "--ignored=matching",
                          "-uall", "--no-renames", "--", *specs],
                         capture_output=True, text=True, check=True)
    out = {}
    for entry in run.stdout.split("\0"):
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        if "__pycache__/" in path:
            continue
        full = REPO / path
        digest = hashlib.sha256(full.read_bytes()).hexdigest() if full.is_file() else "absent"
        out[path] = f"{status} {digest}"
    return out


def main(argv):
    if len(argv) < 2 or argv[0] not in ("snapshot", "compare"):
        print(__doc__, file=sys.stderr)
        return 2
    saved = pathlib.Path(argv[1])
    excludes = []
    for e in argv[2:]:
        p = pathlib.Path(e).resolve()
        if p.is_relative_to(REPO):
            excludes.append(str(p.relative_to(REPO)))
    now = state(excludes)
    if argv[0] == "snapshot":
        saved.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"{len(now)} untracked, ignored or modified files recorded")
        return 0
    before = json.loads(saved.read_text())
    failures = []
    for path in sorted(set(before) | set(now)):
        if path not in before:
            failures.append(f"{path}: appeared while the tests ran ({now[path][:2].strip()})")
        elif path not in now:
            failures.append(f"{path}: disappeared while the tests ran")
        elif before[path] != now[path]:
            failures.append(f"{path}: changed while the tests ran")
    if failures:
        failures.append("a test wrote into the source tree: make it use a temporary directory")
    return report(0 if failures else 1, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
