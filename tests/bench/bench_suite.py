#!/usr/bin/python3
"""How long the test suite takes without the kernel builds (not a ctest).

Runs `ctest --test-dir BUILD -j2 -LE kernel` N times, one after another, and prints for
each run its wall time, the CPU time (user + sys) of everything it ran, and the time of a
fixed pure-Python loop measured just before it: on a shared machine the same suite takes
a quarter longer when the machine is slow, and the loop shows when that was so. Then
min / median of wall and CPU, and the longest tests, each by its shortest time over the
runs (ctest's own per-test figures, from build/Testing/Temporary/LastTest.log); with two
builds, the tests whose shortest time differs most between them.

  tests/bench/bench_suite.py [--runs N] [--build DIR]... [--first-run]

--build given more than once (each the configured build directory of a checkout, e.g. a
`git worktree` of an earlier commit with its own ./setup) runs the suites in turn, one of
each per round, so a slow spell of the machine hits all alike: a before/after comparison.
--first-run deletes ctest's cost data before each run, so tests start in the order of
their COST properties (CMakeLists.txt), as on a fresh clone in CI.
"""

import argparse
import pathlib
import re
import statistics
import sys
import time

from bench_generate import timed     # (wall, cpu) of a command and its children

REPO = pathlib.Path(__file__).resolve().parents[2]
LOOP = 10_000_000


def calibration():
    """Seconds of a fixed pure-Python loop: the machine's speed right now."""
    start = time.perf_counter()
    total = 0
    for i in range(LOOP):
        total += i
    return time.perf_counter() - start


def run_suite(build):
    """(wall, cpu) seconds of the suite in `build`; a failing suite ends the bench."""
    return timed(["ctest", "--test-dir", str(build), "-j2", "-LE", "kernel"])


def test_times(build):
    """{test: seconds} of ctest's last run in `build`."""
    log = (build / "Testing/Temporary/LastTest.log").read_text(errors="replace")
    out, name = {}, None
    for line in log.splitlines():
        m = re.match(r"^\d+/\d+ Test: (\S+)$", line)
        if m:
            name = m.group(1)
        m = re.match(r"^Test time = +([0-9.]+) sec$", line)
        if m and name:
            out[name] = float(m.group(1))
            name = None
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--build", type=pathlib.Path, action="append")
    p.add_argument("--first-run", action="store_true",
                   help="delete ctest's cost data before each run")
    args = p.parse_args(argv)
    builds = args.build or [REPO / "build"]
    for build in builds:
        if not (build / "CTestTestfile.cmake").is_file():
            print(f"bench_suite: error: {build} is not a configured build directory\n"
                  "  hint: run ./setup first", file=sys.stderr)
            return 2
    walls = {b: [] for b in builds}
    cpus = {b: [] for b in builds}
    per_test = {b: {} for b in builds}      # test -> its shortest time over the runs
    for i in range(args.runs):
        for build in builds:
            if args.first_run:
                (build / "Testing/Temporary/CTestCostData.txt").unlink(missing_ok=True)
            loop = calibration()
            wall, cpu = run_suite(build)
            walls[build].append(wall)
            cpus[build].append(cpu)
            for name, seconds in test_times(build).items():
                per_test[build][name] = min(seconds, per_test[build].get(name, seconds))
            print(f"run {i + 1} {build}: wall {wall:6.1f} s   cpu {cpu:6.1f} s"
                  f"   (loop {loop:.3f} s)", flush=True)
    for build in builds:
        w, c = walls[build], cpus[build]
        print(f"{build}: ctest -j2 -LE kernel, {args.runs} runs, min / median:"
              f" wall {min(w):.1f} / {statistics.median(w):.1f} s,"
              f" cpu {min(c):.1f} / {statistics.median(c):.1f} s")
    for build in builds:
        print(f"longest tests of {build}, shortest time of each over the runs (s):")
        for name, seconds in sorted(per_test[build].items(), key=lambda kv: -kv[1])[:12]:
            print(f"  {seconds:6.2f}  {name}")
    if len(builds) == 2:
        a, b = (per_test[x] for x in builds)
        moved = sorted((b[n] - a[n], n) for n in a.keys() & b.keys())
        print("largest changes from the first build to the second (s):")
        for delta, name in [*moved[:8], *[x for x in moved[-4:] if x not in moved[:8]]]:
            print(f"  {delta:+6.2f}  {name} ({a[name]:.2f} -> {b[name]:.2f})")
        gone, new_ = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        if gone or new_:
            print(f"  only in the first: {', '.join(gone) or '-'}; only in the second:"
                  f" {', '.join(new_) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
