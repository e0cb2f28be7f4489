#!/usr/bin/python3
"""A real consumer: Debian's bindgen on include/uapi/hyperv/*.h, as they are (no rewriting
of the input), must give Rust whose layout tests pass under `rustc --test`.

  test_bindgen.py [--bindgen PATH] [--rustc PATH]    (default /usr/bin/bindgen, /usr/bin/rustc)

For each arch:
1. bindgen reads a wrapper including every hdk-uapi header in product include order, with
   clang arguments only (target, -nostdinc, our include dir, the exported kernel headers of
   linux-libc-dev, or linux-libc-dev-arm64-cross for arm64); bindgen's layout tests are on
   (its default). Any clang diagnostic fails.
2. Every record the product emits (tests/layout/hdk-uapi/ARCH.facts.json) must have a
   bindgen layout test (at least MIN_SHARE of them), and the size and alignment that test
   asserts (libclang's view of our headers) must equal the spec's.
3. A crate root with `include!` of the bindings is built with `rustc --test --edition 2018`
   and run: every layout test must run and pass. The same crate with one asserted size
   off by one must fail, so a failing layout test is seen. Step 3 needs Rust's std for the
   target; Debian ships it for the host only, so where it is missing (aarch64 on an x86_64
   host) the test says so and that arch stops after steps 1 and 2.
"""

import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi.extract.clang_facts import LIBCLANG  # noqa: E402
from hvabi.model import ARCHES  # noqa: E402
from layout_check import product_named  # noqa: E402
from testlib import report  # noqa: E402

PRODUCT = "hdk-uapi"
# arch: (clang target, Rust target, system include dirs holding linux/, asm/, asm-generic/,
#        the Debian package that provides them)
TARGETS = {
    "x86_64": ("x86_64-linux-gnu", "x86_64-unknown-linux-gnu",
               ["/usr/include/x86_64-linux-gnu", "/usr/include"], "linux-libc-dev"),
    "arm64": ("aarch64-linux-gnu", "aarch64-unknown-linux-gnu",
              ["/usr/aarch64-linux-gnu/include"], "linux-libc-dev-arm64-cross"),
}
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine())
# Records bindgen may leave without a layout test (e.g. ones it cannot lay out itself);
# below this share of the emitted records the consumer story does not hold.
MIN_SHARE = 0.9
CRATE_ROOT = ("#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case,"
              " dead_code, deref_nullptr)]\ninclude!(\"bindings.rs\");\n")
LAYOUT_TEST = re.compile(r"fn\s+bindgen_test_layout_(\w+)\s*\(")
SIZE_ALIGN = r"{fn}_of\s*::\s*<\s*{name}\s*>\s*\(\s*\)\s*,\s*(\d+)usize"
RESULT = re.compile(r"test result: (\w+)\. (\d+) passed; (\d+) failed")
# rustc's words when the target has no standard library installed.
NO_STD = re.compile(r"can't find crate for `(std|core)`")
TIMEOUT = 600


class Unusable(Exception):
    """The tools or inputs are missing: one line, exit status 2."""


def run(cmd, cwd=None):
    # A fixed environment: the pinned tools, Debian's libclang, nothing from another
    # toolchain on PATH (rustup's rustfmt, clang).
    env = {"PATH": "/usr/bin:/bin", "LIBCLANG_PATH": os.path.dirname(LIBCLANG), "LC_ALL": "C"}
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Unusable(f"{cmd[0]} did not finish in {TIMEOUT}s") from None


def tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


def check_tools(bindgen, rustc):
    for tool, package in ((bindgen, "bindgen"), (rustc, "rustc")):
        if not os.path.isabs(tool):
            raise Unusable(f"{tool}: give an absolute path (the tools are pinned, not looked up on PATH)")
        if not os.access(tool, os.X_OK):
            raise Unusable(f"{tool} not found: install Debian's {package} package (./setup does)")
    versions = [run([tool, "--version"]).stdout.strip() for tool in (bindgen, rustc)]
    print(f"using {bindgen} ({versions[0]}), {rustc} ({versions[1]})")


def wrapper(tmp, arch):
    product = product_named(PRODUCT)
    headers = [h.path for h in product.headers if h.arch in (None, arch)]
    root = REPO / product.root
    missing = [h for h in headers if not (root / h).is_file()]
    if not headers or missing:
        raise Unusable(f"{product.root}: headers missing ({', '.join(missing) or 'none listed'}):"
                       " run gen/bin/hvabi generate")
    path = tmp / "wrapper.h"
    path.write_text("".join(f"#include <{h}>\n" for h in headers))
    return path, root, len(headers)


def bindgen_args(arch, root):
    clang_target, _, sysdirs, package = TARGETS[arch]
    if not all(pathlib.Path(d).is_dir() for d in sysdirs) or \
            not any((pathlib.Path(d) / "linux/types.h").is_file() for d in sysdirs):
        raise Unusable(f"no linux/types.h under {' '.join(sysdirs)}: install Debian's {package}")
    args = [f"--target={clang_target}", "-nostdinc", f"-I{root}"]
    for d in sysdirs:
        args += ["-isystem", d]
    return args


def generate(bindgen, arch, tmp):
    """Bindings for `arch` in tmp/bindings.rs; (path, failures)."""
    header, root, count = wrapper(tmp, arch)
    out = tmp / "bindings.rs"
    # --no-rustfmt-bindings only skips pretty-printing the output (rustfmt is not a
    # dependency); everything after -- goes to clang.
    cmd = [bindgen, "--no-rustfmt-bindings", str(header), "-o", str(out), "--", *bindgen_args(arch, root)]
    proc = run(cmd)
    diagnostics = [line for line in proc.stderr.splitlines() if re.search(r"\b(warning|error):", line)]
    if proc.returncode or not out.is_file():
        return None, [f"{arch}: bindgen failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail(proc.stderr)}"]
    if diagnostics:
        return None, [f"{arch}: clang diagnostics from bindgen on our headers:\n" + "\n".join(diagnostics)]
    print(f"{arch}: bindgen read {count} headers: {out.stat().st_size} bytes of Rust")
    return out, []


def check_records(arch, rust):
    """(records tested, layout tests, failures): emitted records without a layout test, or
    whose asserted size/align differ from the spec's facts."""
    doc = json.loads((REPO / "tests/layout" / PRODUCT / f"{arch}.facts.json").read_text())
    records = doc["records"]
    tests = LAYOUT_TEST.findall(rust)
    tested = sorted(set(records) & set(tests))
    anonymous = [t for t in tests if "__bindgen_ty_" in t]
    others = sorted(set(tests) - set(tested) - set(anonymous))
    share = len(tested) / len(records) if records else 1.0
    print(f"{arch}: {len(tests)} bindgen layout tests: {len(tested)} of the {len(records)} records"
          f" the product emits ({share:.0%}), {len(anonymous)} anonymous member types,"
          f" {len(others)} others ({', '.join(others) or '-'})")
    failures = []
    untested = sorted(set(records) - set(tested))
    if untested:
        print(f"{arch}: emitted records without a bindgen layout test: {', '.join(untested)}")
    if share < MIN_SHARE:
        failures.append(f"{arch}: only {len(tested)} of {len(records)} emitted records have a"
                        f" bindgen layout test (need {MIN_SHARE:.0%})")
    for name in tested:
        for key in ("size", "align"):
            found = re.search(SIZE_ALIGN.format(fn=key, name=re.escape(name)), rust)
            if found is None:
                failures.append(f"{arch}: {name}: no {key}_of assertion in its bindgen layout test")
            elif int(found.group(1)) != records[name][key]:
                failures.append(f"{arch}: {name}: bindgen asserts {key} {found.group(1)},"
                                f" the spec says {records[name][key]}")
    return tested, tests, failures


def compile_and_run(rustc, arch, tmp, rust_text, tag):
    """(outcome, detail): outcome is 'passed', 'failed', 'no-std', 'not-run' or 'error'."""
    _, rust_target, _, _ = TARGETS[arch]
    crate = tmp / tag
    crate.mkdir()
    (crate / "bindings.rs").write_text(rust_text)
    (crate / "lib.rs").write_text(CRATE_ROOT)
    exe = crate / "layout_tests"
    cmd = [rustc, "--test", "--edition", "2018", "--target", rust_target, "-o", str(exe), "lib.rs"]
    proc = run(cmd, cwd=crate)
    if proc.returncode:
        missing = NO_STD.search(proc.stderr)
        if missing:
            return "no-std", missing.group(0)
        return "error", f"{' '.join(cmd)} (exit {proc.returncode}):\n{tail(proc.stderr, 30)}"
    warnings = len(re.findall(r"^warning", proc.stderr, re.M))
    if HOST_ARCH != arch:
        return "not-run", f"built for {rust_target}, but this host ({platform.machine()}) cannot run it"
    test = run([str(exe)], cwd=crate)
    result = RESULT.search(test.stdout)
    if result is None:
        return "error", f"{exe} printed no test result (exit {test.returncode}):\n{tail(test.stdout + test.stderr)}"
    detail = dict(status=result.group(1), passed=int(result.group(2)), failed=int(result.group(3)),
                  warnings=warnings, output=test.stdout, exit=test.returncode)
    return ("passed" if test.returncode == 0 and detail["failed"] == 0 else "failed"), detail


def off_by_one(rust, names):
    """`rust` with the size asserted for the first of `names` increased by one."""
    for name in names:
        pattern = re.compile(SIZE_ALIGN.format(fn="size", name=re.escape(name)))
        found = pattern.search(rust)
        if found:
            wrong = found.group(0)[:found.start(1) - found.start(0)] + str(int(found.group(1)) + 1) + "usize"
            return name, rust[:found.start()] + wrong + rust[found.end():]
    return None, rust


def check_arch(bindgen, rustc, arch, tmp):
    """(passed, failures) for one arch."""
    out, failures = generate(bindgen, arch, tmp)
    if out is None:
        return 0, failures
    rust = out.read_text()
    tested, tests, problems = check_records(arch, rust)
    failures += problems
    passed = 1 + max(len(tested) - len(problems), 0)
    outcome, detail = compile_and_run(rustc, arch, tmp, rust, "crate")
    if outcome == "no-std":
        print(f"{arch}: layout tests NOT compiled or run: {rustc} has no standard library for"
              f" {TARGETS[arch][1]} (rustc: {detail}; Debian ships Rust's std for the host only)")
        print(f"{arch}: bindgen parsed the headers; the sizes and alignments it asserts were"
              " checked against the spec only")
        return passed, failures
    if outcome == "not-run":
        print(f"{arch}: layout tests compiled but NOT run: {detail}")
        return passed, failures
    if outcome == "error":
        return passed, failures + [f"{arch}: {detail}"]
    print(f"{arch}: rustc --test: {detail['passed']} passed, {detail['failed']} failed,"
          f" {detail['warnings']} compiler warnings")
    if outcome == "failed":
        return passed, failures + [f"{arch}: bindgen layout tests fail under rustc:\n{tail(detail['output'], 40)}"]
    if detail["passed"] != len(tests):
        return passed, failures + [f"{arch}: {len(tests)} layout tests generated but {detail['passed']} ran"]
    passed += detail["passed"]
    # The harness must see a failing layout test: assert a wrong size for one record.
    name, mutated = off_by_one(rust, tested)
    if name is None:
        return passed, failures + [f"{arch}: no size assertion to mutate"]
    outcome, detail = compile_and_run(rustc, arch, tmp, mutated, "mutated")
    if outcome == "failed" and detail["failed"] == 1 and \
            re.search(rf"bindgen_test_layout_{name} \.\.\. FAILED", detail["output"]):
        print(f"{arch}: with the size of {name} off by one, rustc --test reports that test, and"
              " only it, failed: ok")
        passed += 1
    else:
        failures.append(f"{arch}: a wrong size asserted for {name} was not reported as exactly one"
                        f" failing test ({outcome}: {detail if isinstance(detail, str) else detail['status']})")
    return passed, failures


def main(argv):
    ap = argparse.ArgumentParser(prog="test_bindgen.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindgen", default="/usr/bin/bindgen")
    ap.add_argument("--rustc", default="/usr/bin/rustc")
    opts = ap.parse_args(argv)
    passed, failures = 0, []
    try:
        check_tools(opts.bindgen, opts.rustc)
        for arch in ARCHES:
            with tempfile.TemporaryDirectory(prefix=f"hvabi-bindgen-{arch}-") as tmp:
                p, f = check_arch(opts.bindgen, opts.rustc, arch, pathlib.Path(tmp))
            passed, failures = passed + p, failures + f
    except Unusable as e:
        print(f"test_bindgen: error: {e}", file=sys.stderr)
        return 2
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
