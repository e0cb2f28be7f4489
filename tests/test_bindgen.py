#!/usr/bin/python3
"""A real consumer: Debian's bindgen on include/uapi/hyperv/*.h, as they are (no rewriting
of the input), must give Rust whose layout tests pass under `rustc --test`; and rust-vmm's
bindgen recipe on them must give what rust-vmm's committed bindings hold.

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
4. rust-vmm's recipe (rust-vmm/mshv scripts/generate_binding.py) on our headers: the same
   combined header it builds (`typedef _Bool bool;`, then hvgdk_mini.h, hvgdk.h, hvhdk_mini.h,
   hvhdk.h concatenated, their #include lines dropped, `BIT(X)` written `(1 << (X))`) and its
   bindgen options (RECIPE_OPTIONS). Its facts (hvabi.extract.rust_facts) must equal the
   facts of rust-vmm's committed bindings (tests/reference/rustvmm-bindings-ARCH.facts.json,
   made by tests/reference/bindings_snapshot.py with the same reader): every constant with
   its Rust type and value, enum, enum constant, type alias, record (kind, repr, size,
   alignment, derived traits, fields with type and offset), bitfield accessor. Each
   difference fails unless tests/reference/rustvmm-bindings.exceptions.yaml lists it with
   its reason; an exception that matches nothing fails too.
5. A crate using HV_HYP_PAGE_SIZE and HV_HYP_PAGE_MASK as rust-vmm's mshv-bindings
   (hvdef.rs) and mshv-ioctls (vcpu.rs) do, with the recipe's bindings, is built and run
   with `rustc --test` (with the bindings' layout tests); with the bindings' integer
   constants but HV_HYP_PAGE_MASK, it must not type-check, and for that name alone. Needs
   std for the target, as step 3.
"""

import argparse
import fnmatch
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

import yaml  # noqa: E402

from hvabi.extract import rust_facts  # noqa: E402
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

# rust-vmm/mshv scripts/generate_binding.py: the headers it concatenates, in its order, and
# its bindgen options: --no-doc-comments --with-derive-default always, plus the derives its
# usage example passes, which its committed bindings show (Debug, Default, Copy, Clone,
# PartialOrd, Ord, PartialEq, Eq). It also feeds the kernel's include/uapi/linux/mshv.h,
# which hvabi does not generate (see the exceptions file); --no-rustfmt-bindings only
# skips pretty-printing.
RECIPE_HEADERS = ["hvgdk_mini.h", "hvgdk.h", "hvhdk_mini.h", "hvhdk.h"]
RECIPE_OPTIONS = ["--no-doc-comments", "--with-derive-default", "--with-derive-eq",
                  "--with-derive-partialeq", "--with-derive-ord", "--no-rustfmt-bindings"]
SNAPSHOT = REPO / "tests/reference/rustvmm-bindings-{arch}.facts.json"
EXCEPTIONS = REPO / "tests/reference/rustvmm-bindings.exceptions.yaml"
# How rust-vmm uses the page constants: mshv-bindings/src/hvdef.rs derives its page size
# from HV_HYP_PAGE_SIZE as usize; mshv-ioctls/src/ioctls/vcpu.rs keeps a GVA's page offset
# with `gva & !(HV_HYP_PAGE_MASK as u64)`, which needs the mask sign-extended to 64 bits.
USES_PAGE_CONSTANTS = """
pub mod uses {
    use super::*;
    pub const HV_PAGE_SIZE: usize = HV_HYP_PAGE_SIZE as usize;
    pub fn gpa_of(gpa_page: u64, gva: u64) -> u64 {
        (gpa_page << HV_HYP_PAGE_SHIFT) | (gva & !(HV_HYP_PAGE_MASK as u64))
    }
    const _: () = assert!(HV_PAGE_SIZE == 4096);
    const _: () = assert!(HV_HYP_PAGE_MASK as u64 == 0xffff_ffff_ffff_f000);
    #[test]
    fn page_constants_as_rust_vmm_uses_them() {
        assert_eq!(gpa_of(0x12345, 0xdead_beef_0000_0abc), 0x1234_5abc);
    }
}
"""
MISSING_VALUE = re.compile(r"error\[E0425\]: cannot find value `(\w+)`")
# a top-level integer constant of bindgen's output (one line, tokens spaced: `pub const
# HV_HYP_PAGE_SIZE : u32 = 4096 ;`)
INTEGER_CONSTANT = re.compile(r"pub const \w+\s*:\s*(?:[ui](?:8|16|32|64|size))\s*=[^;]*;")


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
    """(name, test): a copy of the layout test of the first of `names` that asserts a size,
    named bindgen_test_layout_NAME_off_by_one and asserting that size plus one."""
    for name in names:
        start = re.search(rf"#\s*\[test\]\s*fn\s+bindgen_test_layout_{re.escape(name)}\s*\(\s*\)\s*\{{", rust)
        if start is None:
            continue
        text = rust[start.start():_block_end(rust, start.end() - 1)]
        found = re.search(SIZE_ALIGN.format(fn="size", name=re.escape(name)), text)
        if found:
            text = text[:found.start(1)] + str(int(found.group(1)) + 1) + text[found.end(1):]
            return name, "\n" + re.sub(rf"(bindgen_test_layout_{re.escape(name)})(?=\s*\()",
                                       r"\1_off_by_one", text, count=1) + "\n"
    return None, ""


def _block_end(text, brace):
    """The index just past the `}` closing the `{` at `brace` (string literals skipped)."""
    depth, i = 0, brace
    while i < len(text):
        c = text[i]
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced braces in bindgen's output")


def check_arch(bindgen, rustc, arch, tmp):
    """(passed, failures) for one arch."""
    out, failures = generate(bindgen, arch, tmp)
    if out is None:
        return 0, failures
    rust = out.read_text()
    tested, tests, problems = check_records(arch, rust)
    failures += problems
    passed = 1 + max(len(tested) - len(problems), 0)
    # The harness must see a failing layout test: one more test asserts a wrong size for
    # one record, compiled into the same crate (one rustc run, not two).
    name, wrong = off_by_one(rust, tested)
    if name is None:
        return passed, failures + [f"{arch}: no size assertion to mutate"]
    outcome, detail = compile_and_run(rustc, arch, tmp, rust + wrong, "crate")
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
    wrong_failed = re.search(rf"bindgen_test_layout_{name}_off_by_one \.\.\. FAILED", detail["output"])
    own_failed = detail["failed"] - bool(wrong_failed)
    print(f"{arch}: rustc --test: {detail['passed']} passed, {own_failed} failed (and the wrong-size"
          f" copy {'failed' if wrong_failed else 'did NOT fail'}), {detail['warnings']} compiler warnings")
    if own_failed:
        return passed, failures + [f"{arch}: bindgen layout tests fail under rustc:\n{tail(detail['output'], 40)}"]
    if detail["passed"] != len(tests):
        return passed, failures + [f"{arch}: {len(tests)} layout tests generated but {detail['passed']} ran"]
    passed += detail["passed"]
    if outcome == "failed" and wrong_failed:
        print(f"{arch}: with the size of {name} off by one, rustc --test reports that test, and"
              " only it, failed: ok")
        passed += 1
    else:
        failures.append(f"{arch}: a wrong size asserted for {name} was not reported as exactly one"
                        f" failing test ({outcome}: {detail['status']})")
    return passed, failures


def recipe_header(tmp):
    """The combined header rust-vmm's recipe builds, made from our uapi headers."""
    root = REPO / product_named(PRODUCT).root / "hyperv"
    text = ""
    for name in RECIPE_HEADERS:
        if not (root / name).is_file():
            raise Unusable(f"{root / name}: missing: run gen/bin/hvabi generate")
        text += (root / name).read_text()
    # The recipe empties every line matching one of the header names (as a regular
    # expression: their #include lines) and spells the kernel's BIT(X) as (1 << (X)).
    for name in RECIPE_HEADERS:
        text = re.sub(f".*{name}.*", "", text, flags=re.M)
    text = re.sub(r"BIT\(([A-Z_0-9]+)\)", r"(1 << (\1))", text)
    path = tmp / "combined_mshv.h"
    path.write_text("typedef _Bool bool;\n" + text)
    return path, root


def generate_recipe(bindgen, arch, tmp):
    """Bindings of our headers made as rust-vmm makes its own; (path, failures)."""
    header, root = recipe_header(tmp)
    out = tmp / "recipe.rs"
    # Our hvgdk.h includes hvgdk_ext.h, which the recipe's list lacks: -I finds it.
    clang = bindgen_args(arch, REPO / product_named(PRODUCT).root) + ["-I", str(root)]
    cmd = [bindgen, *RECIPE_OPTIONS, str(header), "-o", str(out), "--", *clang]
    proc = run(cmd)
    diagnostics = [line for line in proc.stderr.splitlines() if re.search(r"\b(warning|error):", line)]
    if proc.returncode or not out.is_file() or diagnostics:
        return None, [f"{arch}: bindgen with rust-vmm's recipe failed (exit {proc.returncode}):"
                      f" {' '.join(cmd)}\n{tail(proc.stderr)}"]
    return out, []


class Listed:
    """One entry of the exceptions file: differences it covers, and how many it met per arch."""

    def __init__(self, entry, where):
        self.where = where
        self.keys, self.reason = entry["keys"], entry["reason"]
        self.arch = entry.get("arch", list(ARCHES))
        self.values = {side: entry[side] for side in ("rust_vmm", "ours") if side in entry}
        self.used = {a: 0 for a in self.arch}

    def matches(self, arch, key, theirs, ours):
        if arch not in self.arch or not any(fnmatch.fnmatchcase(key, k) for k in self.keys):
            return False
        if "rust_vmm" in self.values and self.values["rust_vmm"] != theirs:
            return False
        if "ours" in self.values and self.values["ours"] != ours:
            return False
        self.used[arch] += 1
        return True


def load_exceptions(path=EXCEPTIONS):
    """[Listed] from the exceptions file; Unusable naming file:line of a malformed entry."""
    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader, node):
        value = loader.construct_mapping(node, deep=True)
        value["__line__"] = node.start_mark.line + 1
        return value
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        entries = yaml.load(path.read_text(), Loader=Loader)
    except (OSError, yaml.YAMLError) as e:
        raise Unusable(f"{path}: {e}") from None
    if not isinstance(entries, list):
        raise Unusable(f"{path}:1: expected a list of exceptions (hint: see the comment at its top)")
    out = []
    for entry in entries:
        line = entry.get("__line__", 1) if isinstance(entry, dict) else 1
        where = f"{path.relative_to(REPO)}:{line}"
        allowed = {"keys", "reason", "arch", "rust_vmm", "ours", "__line__"}
        if not isinstance(entry, dict) or not isinstance(entry.get("keys"), list) or \
                not all(isinstance(k, str) for k in entry["keys"]) or \
                not isinstance(entry.get("reason"), str) or not entry["reason"].strip() or \
                set(entry) - allowed or \
                not set(entry.get("arch", ARCHES)) <= set(ARCHES):
            raise Unusable(f"{where}: an exception needs `keys` (a list of patterns) and a"
                           f" `reason`, and may have `arch` ({', '.join(ARCHES)}), `rust_vmm`"
                           f" and `ours` (hint: unknown keys: {', '.join(sorted(set(entry) - allowed)) if isinstance(entry, dict) else '-'})")
        out.append(Listed(entry, where))
    return out


def compare_with_rust_vmm(arch, rust, exceptions):
    """(facts compared, failures): the recipe's bindings of our headers vs rust-vmm's."""
    try:
        ours = rust_facts.facts(rust)
    except rust_facts.RustFactsError as e:
        return 0, [f"{arch}: cannot read bindgen's output with rust-vmm's recipe: {e}"]
    snapshot = pathlib.Path(str(SNAPSHOT).format(arch=arch))
    try:
        theirs = json.loads(snapshot.read_text())
    except (OSError, ValueError) as e:
        raise Unusable(f"{snapshot}: {e} (hint: tests/reference/bindings_snapshot.py writes it)") from None
    failures, excused = [], 0
    for key, want, have in rust_facts.compare(theirs, ours):
        if any(e.matches(arch, key, want, have) for e in exceptions):
            excused += 1
        elif have is None:
            failures.append(f"{arch}: {key}: rust-vmm's bindings have `{want}`, ours lack it")
        elif want is None:
            failures.append(f"{arch}: {key}: ours have `{have}`, rust-vmm's bindings lack it")
        else:
            failures.append(f"{arch}: {key}: rust-vmm's bindings have `{want}`, ours `{have}`")
    total = len(rust_facts.flatten(theirs))
    print(f"{arch}: rust-vmm's recipe on our headers vs its committed bindings ({theirs['source']},"
          f" bindgen {theirs['bindgen']}): {total} facts, {len(failures)} differ,"
          f" {excused} differences listed as exceptions")
    for name in ("HV_HYP_PAGE_SIZE", "HV_HYP_PAGE_MASK"):
        c = ours["constants"].get(name)
        print(f"{arch}: ours: {name}: " + (f"{c['type']} = {c['value']}" if c else "missing"))
    return total - len(failures), failures


def check_page_constants(rustc, arch, tmp, rust):
    """(passed, failures): the crate using the page constants builds and runs with the
    recipe's bindings, and does not type-check without HV_HYP_PAGE_MASK."""
    outcome, detail = compile_and_run(rustc, arch, tmp, rust + USES_PAGE_CONSTANTS, "uses")
    if outcome == "no-std":
        print(f"{arch}: the use of HV_HYP_PAGE_SIZE / HV_HYP_PAGE_MASK NOT compiled: no standard"
              f" library for {TARGETS[arch][1]} ({detail})")
        return 0, []
    if outcome == "not-run":
        print(f"{arch}: the use of HV_HYP_PAGE_SIZE / HV_HYP_PAGE_MASK compiled but NOT run: {detail}")
        return 1, []
    if outcome != "passed":
        # rustc's own lines (the bindings are one long line each, not worth showing)
        shown = "\n".join(re.findall(r"^(?:error|warning|thread|test ).*", detail, re.M)) \
            if isinstance(detail, str) else tail(detail["output"], 40)
        return 0, [f"{arch}: a crate using HV_HYP_PAGE_SIZE and HV_HYP_PAGE_MASK as rust-vmm"
                   f" does fails with the recipe's bindings ({outcome}):\n{shown}"]
    print(f"{arch}: HV_HYP_PAGE_SIZE / HV_HYP_PAGE_MASK used as rust-vmm does: rustc --test"
          f" {detail['passed']} passed (layout tests and the use)")
    # Without the mask in the bindings the use must not type-check. Its crate holds the
    # bindings' integer constants only (all the use can name; type-checking the whole
    # bindings again took a second): any other name it misses fails the test below.
    constants = "\n".join(INTEGER_CONSTANT.findall(rust))
    without = re.sub(r"pub const HV_HYP_PAGE_MASK\s*:[^;]*;", "", constants)
    crate = tmp / "without-mask"
    crate.mkdir()
    (crate / "bindings.rs").write_text(without + USES_PAGE_CONSTANTS)
    (crate / "lib.rs").write_text(CRATE_ROOT)
    proc = run([rustc, "--edition", "2018", "--crate-type", "lib", "--emit", "metadata",
                "--target", TARGETS[arch][1], "-o", str(crate / "lib.rmeta"), "lib.rs"], cwd=crate)
    if without != constants and proc.returncode \
            and set(MISSING_VALUE.findall(proc.stderr)) == {"HV_HYP_PAGE_MASK"}:
        print(f"{arch}: without HV_HYP_PAGE_MASK in the bindings, rustc reports it missing: ok")
        return 2, []
    errors = "\n".join(re.findall(r"^error.*", proc.stderr, re.M))
    return 1, [f"{arch}: the crate still type-checks, or fails otherwise, with HV_HYP_PAGE_MASK"
               f" taken out of the bindings (exit {proc.returncode}):\n{errors}"]


def check_recipe(bindgen, rustc, arch, tmp, exceptions):
    """(passed, failures) of steps 4 and 5 for one arch."""
    out, failures = generate_recipe(bindgen, arch, tmp)
    if out is None:
        return 0, failures
    rust = out.read_text()
    passed, failures = compare_with_rust_vmm(arch, rust, exceptions)
    p, f = check_page_constants(rustc, arch, tmp, rust)
    return passed + p, failures + f


def main(argv):
    ap = argparse.ArgumentParser(prog="test_bindgen.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindgen", default="/usr/bin/bindgen")
    ap.add_argument("--rustc", default="/usr/bin/rustc")
    opts = ap.parse_args(argv)
    passed, failures = 0, []
    try:
        check_tools(opts.bindgen, opts.rustc)
        exceptions = load_exceptions()
        for arch in ARCHES:
            with tempfile.TemporaryDirectory(prefix=f"hvabi-bindgen-{arch}-") as tmp:
                p, f = check_arch(opts.bindgen, opts.rustc, arch, pathlib.Path(tmp))
            passed, failures = passed + p, failures + f
            with tempfile.TemporaryDirectory(prefix=f"hvabi-bindgen-recipe-{arch}-") as tmp:
                p, f = check_recipe(opts.bindgen, opts.rustc, arch, pathlib.Path(tmp), exceptions)
            passed, failures = passed + p, failures + f
        for e in exceptions:
            for arch, used in e.used.items():
                if not used:
                    failures.append(f"{e.where}: exception matches no difference on {arch}"
                                    f" ({', '.join(e.keys)}): remove it or narrow its `arch`")
    except Unusable as e:
        print(f"test_bindgen: error: {e}", file=sys.stderr)
        return 2
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
