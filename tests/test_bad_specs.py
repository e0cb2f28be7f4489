#!/usr/bin/python3
"""Malformed specs are reported, not crashed on, and nothing is written.

Two sets of cases, each run through hvabi's command line in this process (the same
`cli.main` the hvabi script calls, so hundreds of cases take seconds, not minutes):

  - tests/bad-specs/*.yaml: small hand-written defs files, each added to a one-constant
    spec; its `# expect: LINE: REGEX` comment gives the line and message;
  - tests/bad-specs/corpus.py: fixed mutations of a slice of the real spec (base.py),
    each with the file, line and message it must be reported with.

For every case both `hvabi validate` and `hvabi generate --out OUT` must exit 2, print
`FILE:LINE: error: ...MESSAGE` followed by a hint, print no traceback, and leave the
whole scratch tree (spec, OUT and what lies next to them) exactly as it was. The result is
reported per category. `--only SUBSTRING` runs the cases whose name holds it; `-v` prints
each case's error."""

import contextlib
import hashlib
import io
import pathlib
import re
import shutil
import sys
import tempfile
import time
import traceback

REPO = pathlib.Path(__file__).resolve().parents[1]
CASES = REPO / "tests/bad-specs"
sys.path.insert(0, str(REPO / "gen"))
sys.path.insert(0, str(CASES))

import base                                    # noqa: E402
import corpus                                  # noqa: E402
from testlib import products_without_order, profiles_without_omit, report  # noqa: E402
from hvabi import cli                          # noqa: E402

GOOD = """hvabi: 2
header: {hdk: hvgdk_mini, tlfs: generic}
defs:
  - consts: good
    doc: A valid constant so the spec is not empty.
    items: [{name: HV_GOOD, value: 1}]
"""


def snapshot(tree):
    out = {}
    for p in sorted(pathlib.Path(tree).rglob("*")):
        rel = p.relative_to(tree)
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def run_cli(argv):
    """(exit status, stdout + stderr) of `hvabi ARGV` in this process; an exception
    escaping main() is printed as the traceback the hvabi script would print."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            status = cli.main(argv)
        except SystemExit as e:
            status = e.code
        except BaseException:           # noqa: B902 - a crash is what this test looks for
            traceback.print_exc(file=out)
            status = "crash"
    return status, out.getvalue()


def check(tmp, spec, expect_file, line, fragment, escape=None):
    """Problems of one case whose spec is written under tmp/case/spec."""
    out = tmp / "case/out"
    out.mkdir()
    (out / "untouched.txt").write_text("hvabi must not write here\n")
    before = snapshot(tmp)
    problems, shown = [], ""
    want = re.compile(rf"^spec/{re.escape(expect_file)}:{line}: error: .*(?:{fragment})", re.M)
    for argv in (["--spec", str(spec), "validate"], ["--spec", str(spec), "generate", "--out", str(out)]):
        status, text = run_cli(argv)
        shown = shown or text
        cmd = argv[2]
        if "Traceback" in text or status == "crash":
            problems.append(f"{cmd}: printed a traceback:\n{text}")
            continue
        if status != 2:
            problems.append(f"{cmd}: exit status {status}, expected 2")
        found = want.search(text)
        if not found:
            problems.append(f"{cmd}: no `spec/{expect_file}:{line}: error: ...{fragment}` in:\n{text}")
        elif not text[found.end():].split("\n", 2)[1].startswith("  hint: "):
            problems.append(f"{cmd}: the error has no hint:\n{text}")
    if snapshot(tmp) != before:
        problems.append("the scratch tree changed (something was written)")
    if escape is not None and escape.exists():
        problems.append(f"{escape} was created")
    return problems, shown


def fresh(tmp):
    shutil.rmtree(tmp / "case", ignore_errors=True)
    (tmp / "case").mkdir()


def hand_written(tmp, only):
    """tests/bad-specs/*.yaml: (name, problems, error text)."""
    for case in sorted(CASES.glob("*.yaml")):
        if only and only not in case.stem:
            continue
        fresh(tmp)
        spec = tmp / "case/spec"
        (spec / "defs").mkdir(parents=True)
        (spec / "profiles.yaml").write_text(profiles_without_omit())
        (spec / "products.yaml").write_text(products_without_order())
        (spec / "defs/00-good.yaml").write_text(GOOD)
        shutil.copy(case, spec / "defs" / case.name)
        line, pattern = re.search(r"^# expect: (\d+): (.*)$", case.read_text(), re.M).groups()
        problems, text = check(tmp, spec, f"defs/{case.name}", line, pattern)
        yield "hand-written", case.stem, problems, text


def mutations(tmp, only, files):
    """corpus.CASES applied to the slice `files`: (category, name, problems, error text)."""
    for case in corpus.CASES:
        if only and only not in case.name:
            continue
        fresh(tmp)
        try:
            mutated, expect, line = case.apply(files, tmp / "case")
        except corpus.CaseError as e:
            yield case.category, case.name, [f"the mutation does not apply to the slice: {e}"], ""
            continue
        base.write(mutated, tmp / "case/spec")
        problems, text = check(tmp, tmp / "case/spec", expect, line, case.fragment,
                               escape=tmp / corpus.ESCAPE)
        yield case.category, case.name, problems, text


def main(argv):
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    verbose = "-v" in argv
    start = time.time()
    failures, passed, per_category = [], 0, {}
    with tempfile.TemporaryDirectory(prefix="hvabi-bad-specs-") as tmp:
        tmp = pathlib.Path(tmp)
        # The slice itself must be valid, or every case would pass for the wrong reason.
        fresh(tmp)
        files = base.build()
        base.write(files, tmp / "case/spec")
        status, text = run_cli(["--spec", str(tmp / "case/spec"), "validate"])
        if status != 0:
            print(f"FAIL the unmutated slice of the spec does not validate:\n{text}")
            return 1
        cases = list(hand_written(tmp, only)) + list(mutations(tmp, only, files))
        for category, name, problems, text in cases:
            counts = per_category.setdefault(category, [0, 0])
            counts[1] += 1
            if problems:
                failures.append(f"{category}/{name}: " + "; ".join(problems))
            else:
                counts[0] += 1
                passed += 1
                if verbose:
                    print(f"ok   {category}/{name}: {text.splitlines()[0] if text else ''}")
    for category, (ok, total) in per_category.items():
        print(f"{category:14} {ok:4} / {total:4} rejected cleanly")
    print(f"{sum(t for _, t in per_category.values())} cases in {time.time() - start:.1f} s")
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
