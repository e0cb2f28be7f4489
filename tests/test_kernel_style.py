#!/usr/bin/python3
"""Kernel tools on the generated headers, as a maintainer would run them:

  test_kernel_style.py checkpatch KERNEL_SRC   checkpatch.pl --strict --no-tree -f, from a
                                               temporary copy of each product's output root
                                               with relative paths (checkpatch writes its
                                               .checkpatch-camelcase.* cache into its working
                                               directory: never the repository); any ERROR or
                                               WARNING fails (CHECKs are listed)
  test_kernel_style.py kernel-doc KERNEL_SRC   kernel-doc -none -Wall -Werror: must be silent

KERNEL_SRC is Debian's linux-source-6.12 as extracted by ./setup.
"""

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from testlib import report

REPO = pathlib.Path(__file__).resolve().parents[1]
# (directory to run from, glob of headers relative to it)
KERNEL_HEADERS = [
    ("include/hvhdk", "include/hyperv/*.h"),
    ("include/hvhdk", "include/asm-generic/*.h"),
    ("include/hdk-layered", "include/hyperv/*.h"),
    ("include/hyperv-tlfs", "include/asm-generic/*.h"),
    ("include/hyperv-tlfs", "arch/*/include/asm/*.h"),
]
UAPI_HEADERS = [(".", "include/uapi/hyperv/*.h")]


def headers(sets):
    for root, pattern in sets:
        for path in sorted((REPO / root).glob(pattern)):
            yield REPO / root, path.relative_to(REPO / root)


def checkpatch(ksrc):
    script = ksrc / "scripts/checkpatch.pl"
    failures, passed = [], 0
    with tempfile.TemporaryDirectory(prefix="hvabi-checkpatch-") as tmp:
        for root, rel in headers(KERNEL_HEADERS + UAPI_HEADERS):
            # The same relative path under a scratch root: checkpatch's messages and its
            # path-dependent rules see what they would in the repository.
            cwd = pathlib.Path(tmp) / root.relative_to(REPO)
            (cwd / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, cwd / rel)
            run = subprocess.run(["perl", str(script), "--no-tree", "--strict", "--show-types",
                                  "--max-line-length=100", "-f", str(rel)],
                                 cwd=cwd, capture_output=True, text=True)
            # volatile is ABI here (the TSC page is updated by the hypervisor while the
            # guest reads it); the spec marks each such member, so that warning is expected.
            bad = [line for line in run.stdout.splitlines()
                   if re.match(r"^(ERROR|WARNING):", line) and not line.startswith("WARNING:VOLATILE:")]
            for line in run.stdout.splitlines():
                if line.startswith("CHECK:"):
                    print(f"note {rel}: {line}")
            if bad:
                failures.append(f"{rel}:\n{run.stdout}")
            else:
                passed += 1
    return passed, failures


def kernel_doc(ksrc):
    script = ksrc / "scripts/kernel-doc"
    failures, passed = [], 0
    for cwd, rel in headers(KERNEL_HEADERS + UAPI_HEADERS):
        run = subprocess.run(["perl", str(script), "-none", "-Wall", "-Werror", str(rel)],
                             cwd=cwd, capture_output=True, text=True)
        if run.returncode or run.stderr.strip():
            failures.append(f"{rel}:\n{run.stderr}")
        else:
            passed += 1
    return passed, failures


def main(argv):
    if len(argv) != 2 or argv[0] not in ("checkpatch", "kernel-doc"):
        print(__doc__, file=sys.stderr)
        return 2
    ksrc = pathlib.Path(argv[1])
    if not (ksrc / "scripts/checkpatch.pl").is_file():
        print(f"FAIL {ksrc}/scripts not found: run ./setup")
        return 1
    passed, failures = (checkpatch if argv[0] == "checkpatch" else kernel_doc)(ksrc)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
