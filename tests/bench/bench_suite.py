#!/usr/bin/python3
"""How long the test suite takes without the kernel builds (not a ctest).

Runs `ctest --test-dir BUILD -j2 -LE kernel` N times, one after another, and prints for
each run its wall time, the CPU time (user + sys) of everything it ran, and the time of a
fixed pure-Python loop measured just before it: on a shared machine the same suite takes
a quarter longer when the machine is slow, and the loop shows when that was so. Then
min / median of wall and CPU, and the tests with the most time in the last run (ctest's
own per-test figures, build/Testing/Temporary/CTestCostData.txt).

  tests/bench/bench_suite.py [--runs N] [--build DIR] [--first-run]

--first-run deletes ctest's cost data before each run, so tests start in the order of
their COST properties (CMakeLists.txt), as on a fresh clone in CI.
"""

import argparse
import pathlib
import resource
import statistics
import subprocess
import sys
import time

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
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run(["ctest", "--test-dir", str(build), "-j2", "-LE", "kernel"],
                         capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode:
        sys.exit(f"ctest failed (exit {run.returncode}):\n{run.stdout[-3000:]}{run.stderr}")
    return wall, cpu


def costs(build):
    """[(seconds, test)] of ctest's last run, longest first."""
    path = build / "Testing/Temporary/CTestCostData.txt"
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append((float(parts[2]), parts[0]))
    return sorted(out, reverse=True)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--build", type=pathlib.Path, default=REPO / "build")
    p.add_argument("--first-run", action="store_true",
                   help="delete ctest's cost data before each run")
    args = p.parse_args(argv)
    if not (args.build / "CTestTestfile.cmake").is_file():
        print(f"bench_suite: error: {args.build} is not a configured build directory\n"
              "  hint: run ./setup first", file=sys.stderr)
        return 2
    walls, cpus = [], []
    for i in range(args.runs):
        if args.first_run:
            (args.build / "Testing/Temporary/CTestCostData.txt").unlink(missing_ok=True)
        loop = calibration()
        wall, cpu = run_suite(args.build)
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {i + 1}: wall {wall:6.1f} s   cpu {cpu:6.1f} s   (loop {loop:.3f} s)",
              flush=True)
    print(f"ctest -j2 -LE kernel, {args.runs} runs, min / median:"
          f" wall {min(walls):.1f} / {statistics.median(walls):.1f} s,"
          f" cpu {min(cpus):.1f} / {statistics.median(cpus):.1f} s")
    print("longest tests of the last run (s):")
    for seconds, name in costs(args.build)[:12]:
        print(f"  {seconds:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
