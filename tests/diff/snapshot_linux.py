#!/usr/bin/python3
"""Write layout-facts snapshots of Linux include/hyperv/ at the revisions the real-pair
tests compare (names, sizes, offsets, bit positions, values: facts only, no code).

  snapshot_linux.py LINUX

LINUX is a clone of github.com/torvalds/linux (work tree or git directory), or a directory
holding copies laid out as COMMIT/include/hyperv/FILE for every (file, commit) below.
Writes tests/diff/linux-include-hyperv/REV/<arch>.facts.json for every REV in REVISIONS,
read with hvabi's kernel-flavor header reader exactly as `hvabi diff --headers-flavor
kernel` reads a header directory. The headers themselves stay outside the repository.

Each revision is a set of the five headers, each at the commit given below. These are
the versions of the headers that could be read at a known commit; the revisions are in
the order their contents grew (each keeps the definitions of the one before, plus more),
and each pair swaps in the next known version of one or two headers. Upstream commits
may lie between two revisions: a pair is the sum of those changes to the swapped files.
hvgdk.h is at 512a93a9 throughout: its other readable version (946661e3) differs only in
a comment (GNU/Linux vs Linux). hvgdk_ext.h has a single version.
"""

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "gen"))
sys.path.insert(0, str(HERE))

from hvabi.extract.header_sets import kernel_facts  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402
from snapshot_mshv import snapshot_main  # noqa: E402

FILES = ("hvgdk.h", "hvgdk_ext.h", "hvgdk_mini.h", "hvhdk.h", "hvhdk_mini.h")
C_0B11 = "0b119045b79a672bc6d8f18641c60fc8ce1b4585"
C_4136 = "41362886881f6af28fdf416be662c02968c37d81"
C_512A = "512a93a93dbe739aa5f6aeb22f179dff3f89300e"
C_8927 = "8927a108a7662eb83eb667bc0c5a0633397122b1"
C_8E73 = "8e73eeb41ac4cad04c651839fcf692a7e14a8abb"
C_B3CC = "b3cc7428a32202936904b5b07cf9f135025bafd6"
C_CF82 = "cf82dd5ea95815e6c0612b61118d2358ef5c05b0"
_BASE = {"hvgdk.h": C_512A, "hvgdk_ext.h": C_8E73}

# REV: {file: commit}. REV names the commit of the header(s) that entered last.
REVISIONS = {
    # The oldest readable version of every header.
    "0b11904": {**_BASE, "hvgdk_mini.h": C_8E73, "hvhdk_mini.h": C_B3CC, "hvhdk.h": C_0B11},
    # hvgdk_mini.h and hvhdk_mini.h as of cf82dd5e.
    "cf82dd5": {**_BASE, "hvgdk_mini.h": C_CF82, "hvhdk_mini.h": C_CF82, "hvhdk.h": C_0B11},
    # hvhdk_mini.h as of 41362886.
    "4136288": {**_BASE, "hvgdk_mini.h": C_CF82, "hvhdk_mini.h": C_4136, "hvhdk.h": C_0B11},
    # hvhdk.h as of 8927a108: the set tests/reference/linux-hvhdk-*.facts.json was made from.
    "8927a10": {**_BASE, "hvgdk_mini.h": C_CF82, "hvhdk_mini.h": C_4136, "hvhdk.h": C_8927},
}
OUT = HERE / "linux-include-hyperv"


def _git_dir(linux):
    for candidate in (pathlib.Path(linux, ".git"), pathlib.Path(linux)):
        if (candidate / "objects").is_dir() and (candidate / "HEAD").is_file():
            return candidate
    return None


def read_header(linux, commit, name):
    """The bytes of include/hyperv/NAME at COMMIT, from a clone or a directory of copies."""
    git_dir = _git_dir(linux)
    if git_dir is not None:
        return subprocess.run(["git", "--git-dir", str(git_dir), "show",
                               f"{commit}:include/hyperv/{name}"],
                              check=True, capture_output=True).stdout
    return pathlib.Path(linux, commit, "include/hyperv", name).read_bytes()


def source_text(rev):
    return "Linux include/hyperv: " + ", ".join(f"{name}@{REVISIONS[rev][name][:12]}"
                                                  for name in FILES)


def snapshot(linux, rev, tmp):
    """{arch: facts document} of revision REV, its headers written under tmp."""
    directory = pathlib.Path(tmp, rev, "include/hyperv")
    directory.mkdir(parents=True, exist_ok=True)
    headers = []
    for name in FILES:
        path = directory / name
        path.write_bytes(read_header(linux, REVISIONS[rev][name], name))
        headers.append(path)
    docs = {}
    for arch in ARCHES:
        doc = kernel_facts(headers, arch)
        doc["source"] = source_text(rev)
        docs[arch] = doc
    return docs


def main(argv):
    return snapshot_main(argv, __doc__, REVISIONS, snapshot, OUT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
