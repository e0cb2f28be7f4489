#!/usr/bin/python3
"""Write layout-facts snapshots of rust-vmm/mshv hv-headers at the revisions the real-pair
tests compare (names, sizes, offsets, bit positions, values: facts only, no code).

  snapshot_mshv.py MSHV_GIT_DIR          e.g. a clone of github.com/rust-vmm/mshv

Writes tests/diff/mshv-hv-headers/REV/<arch>.facts.json for every REV in SNAPSHOTS, read
with hvabi's uapi header reader exactly as `hvabi diff` reads a header directory. The
headers themselves stay outside the repository.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "gen"))

from hvabi.extract.header_sets import uapi_facts  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402

# Consecutive revisions of hv-headers/ (each one's parent in `git log -- hv-headers`):
# the history test_real_pairs.py scans and benchmark.py times.
REVISIONS = ("04c4d56", "91af527", "4a71914", "f74ce6c", "1d9b3a4", "1e75b16")
# Single commits outside that history, as (the commit's parent, the commit).
PAIRS = (("1c98eab", "842b84c"),)        # 842b84c~1..842b84c
SNAPSHOTS = REVISIONS + tuple(rev for pair in PAIRS for rev in pair)
OUT = HERE / "mshv-hv-headers"
COMPACT = (",", ":")


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True,
                          capture_output=True).stdout


def dump(doc):
    """One definition per line: a third of facts.dump's size, and still diffable."""
    lines = []
    for key, value in doc.items():
        if isinstance(value, dict) and value:
            body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True, separators=COMPACT)}"
                              for k, v in sorted(value.items()))
            lines.append(f" {json.dumps(key)}: {{\n{body}\n }}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def snapshot(git_dir, rev, tmp):
    sha = git(git_dir, "rev-parse", f"{rev}^{{commit}}").decode().strip()
    names = git(git_dir, "ls-tree", "--name-only", sha, "hv-headers/").decode().split()
    headers = []
    for name in sorted(n for n in names if n.endswith(".h")):
        path = pathlib.Path(tmp, rev, pathlib.PurePath(name).name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(git(git_dir, "show", f"{sha}:{name}"))
        headers.append(path)
    docs = {}
    for arch in ARCHES:
        doc = uapi_facts(headers, arch)
        doc["source"] = f"rust-vmm/mshv {sha[:12]}: " + ", ".join(h.name for h in headers)
        docs[arch] = doc
    return docs


def write_snapshots(source, revisions, snapshot, out):
    """Write OUT/REV/ARCH.facts.json for every revision; `snapshot(source, rev, tmp)` gives
    {arch: facts} (shared with snapshot_linux.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        for rev in revisions:
            for arch, doc in snapshot(source, rev, tmp).items():
                path = out / rev / f"{arch}.facts.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump(doc))
                print(f"{rev} {arch}: {len(doc['records'])} records, {len(doc['enumerators'])}"
                      f" enumerators, {len(doc['macros'])} macros")


def snapshot_main(argv, usage, revisions, snapshot, out):
    """The command line of a snapshot script: one argument, the upstream source."""
    if len(argv) != 1:
        print(usage, file=sys.stderr)
        return 2
    write_snapshots(argv[0], revisions, snapshot, out)
    return 0


def main(argv):
    return snapshot_main(argv, __doc__, SNAPSHOTS, snapshot, OUT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
