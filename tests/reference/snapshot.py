#!/usr/bin/python3
"""Write a layout-facts snapshot of an upstream header set (names, sizes, offsets, bit
positions, values: facts only, no code) for the parity tests.

  snapshot.py [--flavor kernel|uapi] NAME REVISION HEADER...      e.g.
  snapshot.py linux-hvhdk cf82dd5e... ~/linux/include/hyperv/*.h
      the headers as given, read in FLAVOR (default kernel: Linux include/hyperv)

  snapshot.py --mshv GIT_DIR [REF]
      rust-vmm/mshv hv-headers/*.h at the newest commit that touched hv-headers/ up to
      REF (default HEAD), read in the uapi flavor, as rustvmm-hvheaders; the headers
      are exported from the git repository to a temporary directory

Writes tests/reference/NAME-<arch>.facts.json for x86_64 and arm64, with `source`
naming NAME, the upstream revision and the headers read. The upstream headers themselves
stay outside the repository.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import facts  # noqa: E402
from hvabi.extract.clang_facts import ExtractError  # noqa: E402
from hvabi.extract.header_files import files_of  # noqa: E402
from hvabi.extract.header_sets import FLAVORS, read  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402

MSHV_NAME = "rustvmm-hvheaders"
MSHV_DIR = "hv-headers"


class SnapshotError(Exception):
    """Bad input: reported as one line, exit status 2."""


def write(name, revision, headers, flavor, out=HERE):
    """Write OUT/NAME-<arch>.facts.json for every arch from `headers` read in `flavor`."""
    for header in headers:
        if not header.is_file():
            raise SnapshotError(f"{header}: no such header")
    for arch in ARCHES:
        try:
            doc = read(headers, arch, flavor)
        except ExtractError as e:
            raise SnapshotError(f"{arch}: {e}") from None
        doc["source"] = f"{name} at {revision}: " + ", ".join(h.name for h in headers)
        (out / f"{name}-{arch}.facts.json").write_text(facts.dump(doc))
        print(f"{name}-{arch}: {len(doc['records'])} records, {len(doc['enumerators'])} enumerators,"
              f" {len(doc['macros'])} macros")
    # Which header defines each name (for coverage per upstream file): names only.
    files = {arch: files_of(headers, arch, flavor) for arch in ARCHES}
    (out / f"{name}.files.json").write_text(json.dumps(files, sort_keys=True, indent=1) + "\n")


def git(git_dir, *args):
    proc = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True)
    if proc.returncode:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise SnapshotError(f"git {' '.join(args)} in {git_dir}: {err[-1] if err else 'failed'}")
    return proc.stdout


def mshv_export(git_dir, ref, tmp):
    """(commit, [header paths]): hv-headers/*.h of rust-vmm/mshv at the newest commit up to
    REF that touched hv-headers/, written under tmp."""
    commit = git(git_dir, "log", "-1", "--format=%H", ref, "--", MSHV_DIR).decode().strip()
    if not commit:
        raise SnapshotError(f"{git_dir}: no commit up to {ref} touches {MSHV_DIR}/")
    names = git(git_dir, "ls-tree", "--name-only", commit, f"{MSHV_DIR}/").decode().split()
    headers = []
    for name in sorted(n for n in names if n.endswith(".h")):
        path = pathlib.Path(tmp, pathlib.PurePath(name).name)
        path.write_bytes(git(git_dir, "show", f"{commit}:{name}"))
        headers.append(path)
    if not headers:
        raise SnapshotError(f"{git_dir}: no {MSHV_DIR}/*.h at {commit}")
    return commit, headers


def main(argv):
    ap = argparse.ArgumentParser(prog="snapshot.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flavor", choices=FLAVORS, default="kernel")
    ap.add_argument("--mshv", metavar="GIT_DIR", help="a clone or mirror of rust-vmm/mshv")
    ap.add_argument("args", nargs="*")
    opts = ap.parse_args(argv)
    try:
        if opts.mshv:
            if len(opts.args) > 1:
                ap.error("--mshv takes at most one REF")
            ref = opts.args[0] if opts.args else "HEAD"
            with tempfile.TemporaryDirectory() as tmp:
                commit, headers = mshv_export(opts.mshv, ref, tmp)
                write(MSHV_NAME, f"rust-vmm/mshv {commit}", headers, "uapi")
            return 0
        if len(opts.args) < 3:
            ap.error("expected NAME REVISION HEADER...")
        name, revision = opts.args[0], opts.args[1]
        write(name, revision, [pathlib.Path(h).resolve() for h in opts.args[2:]], opts.flavor)
        return 0
    except SnapshotError as e:
        print(f"snapshot.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
