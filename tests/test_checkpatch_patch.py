#!/usr/bin/python3
"""checkpatch --strict in patch mode on a first export over upstream's own headers (ctest
`checkpatch_patch`).

For each Linux layout, a scratch git repository holds upstream's files at their in-tree
paths, committed:

  - Linux 7.3: Makefile and include/hyperv/*.h from linux-source-7.3 (KERNEL_SRC_7_3);
  - Linux 6.12: the hyperv-tlfs.h trio from linux-source-6.12 (KERNEL_SRC) and a Makefile
    saying 6.12.

`hvabi export linux TREE --commit` rewrites them (one commit, no Signed-off-by), and
6.12's scripts/checkpatch.pl --strict --no-tree reads the commit as
`git format-patch -1 --signoff`: its message, the Signed-off-by the user adds (hvabi never
signs for them, see docs/export.md) and the diff `git diff` shows before the commit. It
must be clean, but for CAMELCASE checks on names the replaced upstream file already has
(ABI names, e.g. the TLFS's HvSubnodeAny; renaming them would break their users) and
VOLATILE warnings on a line the replaced upstream file has word for word (the TSC page's
`volatile` members are ABI; whether checkpatch sees such a line depends only on how git
aligns the diff).

The diff alone is not checked again: checkpatch reads the same hunks in the patch, so it
reports the same findings on them (it did, finding for finding, when both were run), and
only the message checks are added. Without `--signoff` checkpatch adds its
MISSING_SIGN_OFF error and nothing else.

Anything else checkpatch reports fails the test, and is printed.
  tests/test_checkpatch_patch.py [--spec DIR]   export from another spec (default: spec/)
"""

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from testlib import hvabi_here

REPO = pathlib.Path(__file__).resolve().parents[1]
K73 = pathlib.Path(os.environ.get("KERNEL_SRC_7_3", REPO / "build/kernel/linux-source-7.3"))
K612 = pathlib.Path(os.environ.get("KERNEL_SRC", REPO / "build/kernel/linux-source-6.12"))
TRIO = ["include/asm-generic/hyperv-tlfs.h", "arch/x86/include/asm/hyperv-tlfs.h",
        "arch/arm64/include/asm/hyperv-tlfs.h"]
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Test User", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test User", "GIT_COMMITTER_EMAIL": "test@example.com"}
# checkpatch's report: `TYPE:NAME: message` then `#N: FILE: path:line:` and the line
FINDING = re.compile(r"^(ERROR|WARNING|CHECK):([A-Z_]+): (.*)$")
WHERE = re.compile(r"^#\d+: FILE: ([^:]+):")


def git(tree, *args):
    run = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True,
                         env=GIT_ENV)
    if run.returncode:
        sys.exit(f"git {' '.join(args)}: {run.stderr}")
    return run.stdout


def checkpatch(patch):
    """[(level, type, message, file, line)] checkpatch --strict reports on `patch`, and its
    text."""
    with tempfile.TemporaryDirectory() as cwd:      # checkpatch may write a cache into cwd
        run = subprocess.run(["perl", str(K612 / "scripts/checkpatch.pl"), "--strict",
                              "--no-tree", "--show-types", "-"], input=patch,
                             capture_output=True, text=True, cwd=cwd)
    found, lines = [], run.stdout.splitlines()
    for i, line in enumerate(lines):
        m = FINDING.match(line)
        if m:
            where = WHERE.match(lines[i + 1]) if i + 1 < len(lines) else None
            text = lines[i + 2][1:] if where and i + 2 < len(lines) else None
            found.append((m.group(1), m.group(2), m.group(3), where and where.group(1), text))
    if not re.search(r"^total: \d+ errors", run.stdout, re.M):
        sys.exit(f"checkpatch.pl gave no summary:\n{run.stdout}{run.stderr}")
    return found, run.stdout


def inherent(finding, upstream):
    """A complaint an unsigned generated patch over upstream's headers cannot avoid."""
    level, kind, message, path, text = finding
    if path not in upstream:
        return False
    if (level, kind) == ("CHECK", "CAMELCASE"):
        name = re.search(r"<([A-Za-z_0-9]+)>", message)
        return bool(name and re.search(rf"\b{name.group(1)}\b", upstream[path]))
    if (level, kind) == ("WARNING", "VOLATILE"):
        return text is not None and text in upstream[path].splitlines()
    return False


def make_tree(tmp, layout):
    tree = tmp / layout
    if layout == "linux-7.3":
        rels = [f"include/hyperv/{p.name}" for p in sorted((K73 / "include/hyperv").glob("*.h"))]
        src = K73
    else:
        rels, src = TRIO, K612
    for rel in rels:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, tree / rel)
    if layout == "linux-7.3":
        shutil.copyfile(K73 / "Makefile", tree / "Makefile")
    else:
        (tree / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "upstream")
    return tree, {rel: (tree / rel).read_text() for rel in rels}


def check_layout(tmp, layout, spec):
    tree, upstream = make_tree(tmp, layout)
    # by cli.main in this process (testlib.hvabi_here; git, which hvabi runs, gets
    # GIT_ENV): both layouts export from one loaded spec
    argv = [*(["--spec", spec] if spec else []), "export", "linux", str(tree), "--commit"]
    run = hvabi_here(argv, env=GIT_ENV)
    if run.returncode:
        sys.exit(f"hvabi {' '.join(argv)}: exit {run.returncode}\n{run.stderr}")
    if git(tree, "rev-list", "--count", "HEAD").strip() != "2":
        sys.exit(f"{layout}: export --commit made no commit\n{run.stderr}")
    what = "git format-patch -1 --signoff"
    found, text = checkpatch(git(tree, "format-patch", "-1", "--stdout", "--signoff"))
    allowed = [f for f in found if inherent(f, upstream)]
    rest = [f for f in found if f not in allowed]
    summary = re.search(r"^total: .*$", text, re.M).group()
    print(f"{layout}: {what} | checkpatch.pl --strict --no-tree: {summary}")
    for f in allowed:
        print(f"  inherent: {f[0]}:{f[1]}: {f[2][:60]} ({f[3]}: upstream has it: {f[4].strip()})")
    for f in rest:
        print(f"  FAIL {f[0]}:{f[1]}: {f[2]} ({f[3]})")
    if rest:
        print(text)
        return [what]
    return []


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", help="export from this spec directory (named spec)")
    args = p.parse_args()
    for path in (K73 / "include/hyperv", K612 / "scripts/checkpatch.pl", *(K612 / r for r in TRIO)):
        if not path.exists():
            sys.exit(f"{path}: missing\n  hint: ./setup extracts linux-source-7.3 and 6.12 under"
                     " build/kernel")
    failures = []
    with tempfile.TemporaryDirectory(prefix="hvabi-checkpatch-patch-") as tmp:
        for layout in ("linux-7.3", "linux-6.12"):
            failures += [f"{layout}: {what}" for what in
                         check_layout(pathlib.Path(tmp), layout, args.spec)]
    if failures:
        print("checkpatch in patch mode is not clean for: " + "; ".join(failures),
              file=sys.stderr)
        return 1
    print("checkpatch --strict in patch mode: clean but for the inherent complaints above")
    return 0


if __name__ == "__main__":
    sys.exit(main())
