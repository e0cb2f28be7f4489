#!/usr/bin/python3
"""Kernel tools on the generated headers, as a maintainer would run them:

  test_kernel_style.py checkpatch KERNEL_SRC   checkpatch.pl --strict --no-tree -f, from a
                                               temporary copy of each product's output root
                                               with relative paths (checkpatch writes its
                                               .checkpatch-camelcase.* cache into its working
                                               directory: never the repository); any ERROR or
                                               WARNING fails (CHECKs are listed)
  test_kernel_style.py kernel-doc KERNEL_SRC   kernel-doc -none -Wall -Werror: must be silent

KERNEL_SRC is Debian's linux-source-6.12 as extracted by ./setup. The headers of every
uapi product (spec/products.yaml) are checked where a kernel tree keeps them,
include/uapi/PATH (linked there in a temporary directory), so checkpatch applies its uapi
rules to them.
"""

import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

from testlib import report

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))
# (directory to run from, glob of headers relative to it)
KERNEL_HEADERS = [
    ("include/hvhdk", "include/hyperv/*.h"),
    ("include/hvhdk", "include/asm-generic/*.h"),
    ("include/hdk-layered", "include/hyperv/*.h"),
    ("include/hyperv-tlfs", "include/asm-generic/*.h"),
    ("include/hyperv-tlfs", "arch/*/include/asm/*.h"),
]


def uapi_headers(tmp):
    """(directory, path) of each uapi product header, linked as include/uapi/PATH in tmp."""
    from hvabi.emit.products import read_products
    out = []
    for product in read_products(REPO / "spec"):
        if product.flavor != "uapi":
            continue
        for header in product.headers:
            rel = pathlib.Path("include/uapi", header.path)
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).symlink_to(REPO / product.root / header.path)
            out.append((tmp, rel))
    return sorted(out)


def headers(tmp):
    for root, pattern in KERNEL_HEADERS:
        for path in sorted((REPO / root).glob(pattern)):
            yield REPO / root, path.relative_to(REPO / root)
    yield from uapi_headers(pathlib.Path(tmp))


def checkpatch(ksrc, tmp):
    script = ksrc / "scripts/checkpatch.pl"
    failures, passed = [], 0
    by_root = {}
    for root, rel in headers(tmp):
        by_root.setdefault(root, []).append(rel)
    # The headers of one root are copied to the same relative paths under a scratch root
    # (checkpatch writes a cache into its working directory, never into the source tree)
    # and checked by one run: its report of each file ends with a `total:` line.
    with tempfile.TemporaryDirectory(prefix="hvabi-checkpatch-") as scratch:
        for n, (root, rels) in enumerate(by_root.items()):
            cwd = pathlib.Path(scratch, str(n))
            for rel in rels:
                (cwd / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / rel, cwd / rel)
            run = subprocess.run(["perl", str(script), "--no-tree", "--strict", "--show-types",
                                  "--max-line-length=100", "-f", *map(str, rels)],
                                 cwd=cwd, capture_output=True, text=True)
            reports = re.split(r"(?m)^total: .*\n", run.stdout)
            if len(reports) != len(rels) + 1:
                failures.append(f"{root}: checkpatch gave {len(reports) - 1} reports for {len(rels)}"
                                f" files (exit {run.returncode}):\n{run.stdout}{run.stderr}")
                continue
            for rel, text in zip(rels, reports):
                # volatile is ABI here (the TSC page is updated by the hypervisor while the
                # guest reads it); the spec marks each such member, so that warning is expected.
                bad = [line for line in text.splitlines() if re.match(r"^(ERROR|WARNING):", line)
                       and not line.startswith("WARNING:VOLATILE:")]
                for line in text.splitlines():
                    if line.startswith("CHECK:"):
                        print(f"note {rel}: {line}")
                if bad:
                    failures.append(f"{rel}:\n{text}")
                else:
                    passed += 1
    return passed, failures


def kernel_doc(ksrc, tmp):
    script = ksrc / "scripts/kernel-doc"
    failures, passed = [], 0
    for cwd, rel in headers(tmp):
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
    with tempfile.TemporaryDirectory() as tmp:
        passed, failures = (checkpatch if argv[0] == "checkpatch" else kernel_doc)(ksrc, tmp)
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
