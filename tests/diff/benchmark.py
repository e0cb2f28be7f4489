#!/usr/bin/python3
"""Time `hvabi diff` against a check-uapi.sh-style pipeline on real hv-headers history.

  benchmark.py MSHV_GIT_DIR [--arch x86_64|arm64] [--runs N] [--bytecode]

The pipeline is Linux scripts/check-uapi.sh's, applied to the whole header set at once:
each side compiled into a dummy shared object (`-g -fno-eliminate-unused-debug-types`),
then `abidiff --non-reachable-types`; like check-uapi.sh it fails unless the only changes
are additions. Both tools read the same exported header directories (exporting is not
timed) for the revisions in snapshot_mshv.REVISIONS, and each timing is the best of
--runs. Prints, per consecutive pair, both times, the ratio and both verdicts next to the
verdict test_real_pairs.py expects; then a history scan: one `hvabi diff` over every
revision against the pipeline run pair by pair. The tools take turns run by run, so
that a busier stretch of the machine does not favour one.

hvabi is timed as it runs here: if PYTHONDONTWRITEBYTECODE is set (this repository's
sandbox sets it), every run compiles hvabi's Python sources. --bytecode adds a column
with hvabi run from a byte-compiled copy of gen/ (what an installed Python program runs),
for comparison; the targets are met, or not, in the first column.
"""

import argparse
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
HVABI = [sys.executable, str(REPO / "gen/bin/hvabi")]
sys.path.insert(0, str(REPO / "gen"))

from snapshot_mshv import REVISIONS, git  # noqa: E402
from test_real_pairs import EXPECTED  # noqa: E402

COMPILERS = {"x86_64": "gcc", "arm64": "aarch64-linux-gnu-gcc"}
# check-uapi.sh compiles with -std=c90; hv-headers have // comments since 1e75b16.
CFLAGS = ["-shared", "-nostdlib", "-fPIC", "-x", "c", "-O0", "-std=gnu11",
          "-fno-eliminate-unused-debug-types", "-g", "-DBIT(x)=(1UL<<(x))"]
ABIDIFF_CHANGE, ABIDIFF_INCOMPATIBLE = 4, 8


def export(git_dir, rev, dest):
    dest.mkdir(parents=True)
    for name in git(git_dir, "ls-tree", "--name-only", rev, "hv-headers/").decode().split():
        if name.endswith(".h"):
            (dest / pathlib.PurePath(name).name).write_bytes(git(git_dir, "show", f"{rev}:{name}"))
    return dest


def best_of(runs, *fns):
    """[(smallest wall time, smallest CPU time, result of the last run)] per function in
    `fns`, run in turn (one run of each, `runs` times), so that a slower or busier
    stretch of the machine hits them alike. CPU time is user + system time of the child
    processes a function ran."""
    walls = [[] for _ in fns]
    cpus = [[] for _ in fns]
    results = [None] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            cpu, start = _children_cpu(), time.perf_counter()
            results[i] = fn()
            walls[i].append(time.perf_counter() - start)
            cpus[i].append(_children_cpu() - cpu)
    return [(min(w), min(c), r) for w, c, r in zip(walls, cpus, results)]


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hvabi(dirs, arch, command=HVABI):
    """Verdict of one `hvabi diff` run over `dirs` (two or more releases)."""
    run = subprocess.run([*command, "diff", *map(str, dirs), "--arch", arch], capture_output=True)
    if run.returncode not in (0, 1):
        raise SystemExit(f"hvabi diff failed:\n{run.stderr.decode()}")
    return "breaking" if run.returncode else "ok"


def pipeline(old, new, arch, work):
    """check-uapi.sh's verdict for one pair: compile both sides, abidiff them."""
    objs = []
    for side in (old, new):
        obj = work / f"{side.name}-{arch}.bin"
        includes = [arg for h in sorted(side.glob("*.h")) for arg in ("-include", str(h))]
        subprocess.run([COMPILERS[arch], *CFLAGS, f"-I{side}", *includes, "-o", str(obj), "-"],
                       input=b"int f(void) { return 0; }\n", check=True)
        objs.append(str(obj))
    run = subprocess.run(["abidiff", "--non-reachable-types", *objs], capture_output=True, text=True)
    if run.returncode & ~(ABIDIFF_CHANGE | ABIDIFF_INCOMPATIBLE):
        raise SystemExit(f"abidiff failed ({run.returncode}):\n{run.stderr}")
    summary = next((line for line in run.stdout.splitlines() if "Unreachable types summary" in line), "")
    only_added = "0 removed" in summary and "0 changed" in summary
    return "ok" if run.returncode == 0 or only_added else "breaking"


def byte_compiled(work):
    """The command running hvabi from a copy of gen/ (the kernel stand-ins it reads
    included) whose modules are compiled to __pycache__, whatever PYTHONDONTWRITEBYTECODE says."""
    shutil.copytree(REPO / "gen", work / "copy/gen", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(work / "copy/gen")], check=True)
    return [sys.executable, str(work / "copy/gen/bin/hvabi")]


def expected(pair, arch):
    breaking = any(sev == "breaking" and arch in where for _, _, sev, where, _ in EXPECTED[pair])
    return "breaking" if breaking else "ok"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("git_dir", metavar="MSHV_GIT_DIR")
    p.add_argument("--arch", choices=sorted(COMPILERS), default="x86_64")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--bytecode", action="store_true",
                   help="also time hvabi from a byte-compiled copy of gen/")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        dirs = [export(a.git_dir, rev, work / rev) for rev in REVISIONS]
        compiled = byte_compiled(work) if a.bytecode else None
        extra = f" {'hvabi*':>7} {'ratio*':>6}" if compiled else ""
        print(f"{'pair':<18} {'hvabi':>7} {'pipeline':>9} {'ratio':>6}{extra}   {'hvabi':<9}"
              f" {'abidiff':<9} expected  ({a.arch}, best of {a.runs}, "
              f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})")
        total = total_cpu = 0.0
        wrong = {"hvabi": 0, "abidiff": 0}
        for old, new in zip(dirs, dirs[1:]):
            fns = [lambda: hvabi([old, new], a.arch), lambda: pipeline(old, new, a.arch, work)]
            if compiled:
                fns.append(lambda: hvabi([old, new], a.arch, compiled))
            (ours, _, ours_verdict), (theirs, their_cpu, their_verdict), *fast = \
                best_of(a.runs, *fns)
            want = expected((old.name, new.name), a.arch)
            wrong["hvabi"] += ours_verdict != want
            wrong["abidiff"] += their_verdict != want
            total += theirs
            total_cpu += their_cpu
            extra = ""
            if compiled:
                assert fast[0][2] == ours_verdict
                extra = f" {fast[0][0]:6.3f}s {theirs / fast[0][0]:5.2f}x"
            print(f"{old.name}..{new.name:<9} {ours:6.3f}s {theirs:8.3f}s {theirs / ours:5.2f}x{extra}"
                  f"   {ours_verdict:<9} {their_verdict:<9} {want}")
        fns = [lambda: hvabi(dirs, a.arch)] + ([lambda: hvabi(dirs, a.arch, compiled)] if compiled else [])
        (scan, scan_cpu, _), *fast = best_of(a.runs, *fns)
        extra = f" {fast[0][0]:6.3f}s {total / fast[0][0]:5.2f}x" if compiled else ""
        print(f"{'history scan':<18} {scan:6.3f}s {total:8.3f}s {total / scan:5.2f}x{extra}"
              f"   (one hvabi run over {len(dirs)} revisions vs the pipeline pair by pair)")
        print(f"{'  cpu time':<18} {scan_cpu:6.3f}s {total_cpu:8.3f}s {total_cpu / scan_cpu:5.2f}x"
              "   (user + system: hvabi parses the next revision on a second core)")
        print(f"wrong verdicts: hvabi {wrong['hvabi']}, abidiff pipeline {wrong['abidiff']}"
              f" of {len(dirs) - 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
