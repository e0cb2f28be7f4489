#!/usr/bin/python3
"""The three maintainer tasks of docs/walkthrough.md, done on a copy of spec/:

  (a) a hypercall code and its input struct, in the HDK products only;
  (b) a reserved bit named in the HDK view only;
  (c) a member on arm64 only.

Each must be one local edit (one hunk of one spec file), load, generate, land in exactly
the products and arches it says, and keep every product reproducing its upstream
reference (coverage --strict against Linux 7.3, the 6.12 trio and rust-vmm's facts), with
the new facts listed as ahead of upstream. The same edits without `ahead` must fail that
check: a definition beyond the reference has to say so.

    test_maintainer_tasks.py KERNEL_SRC_6_12 KERNEL_SRC_7_3
"""

import difflib
import json
import pathlib
import shutil
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from testlib import hvabi_here, report  # noqa: E402

# (file, the line the edit goes after, the lines it adds or the line it replaces -> lines)
TASKS = {
    "a": ("10-hvgdk_mini.yaml",
          "      - {name: HVCALL_GET_LOGICAL_PROCESSOR_RUN_TIME,",
          """      - {name: HVCALL_EXAMPLE_QUERY, value: 0x00f7, only: hdk, ahead: true, doc: Query the example state of a partition.}
""", None),
    "a2": ("10-hvgdk_mini.yaml", None, """
  - struct: hv_input_example_query
    only: hdk
    ahead: true
    header: {hdk: hvhdk}
    doc: Input of the example query hypercall.
    packed: true
    members:
      - {name: partition_id, type: u64, doc: Partition to query.}
      - {name: flags, type: u32, doc: Query options; none are defined yet.}
      - {name: reserved, type: u32, reserved: true}
""", None),
    "b": ("10-hvgdk_mini.yaml", "  - register: hv_x64_msr_hypercall_contents", None,
          ("      - {name: reserved, bits: 1-11, reserved: true}\n",
           """      - {name: locked, bits: 1, only: hdk, ahead: true, why: the HDK names the lock bit the 6.12 trio keeps reserved, doc: The MSR can no longer be written.}
      - {name: reserved, bits: 1-11, reserved: true, only: tlfs, why: the 6.12 trio keeps bit 1 reserved}
      - {name: reserved, bits: 2-11, reserved: true, only: hdk}
""")),
    "c": ("10-hvgdk_mini.yaml", "  - struct: hv_input_example_query", None,
          ("      - {name: reserved, type: u32, reserved: true}\n",
           """      - {name: reserved, type: u32, reserved: true}
      - {name: vtl_mask, type: u64, only: arm64, ahead: true, doc: VTLs whose state to return (arm64 only).}
""")),
}


def edit(spec, task, ahead=True):
    """Apply one task to spec/defs; returns the number of hunks it made."""
    name, anchor, insert, replace = TASKS[task]
    if not ahead:
        # Only the task's own lines lose their mark; the file's other ahead facts stay.
        def strip(s):
            return s.replace(", ahead: true", "").replace("    ahead: true\n", "")
        insert = insert and strip(insert)
        replace = replace and (replace[0], strip(replace[1]))
    path = spec / "defs" / name
    before = path.read_text()
    text = before
    if replace is None and anchor is None:
        text = text.rstrip("\n") + "\n" + insert
    elif replace is None:
        at = text.index(anchor)
        end = text.index("\n", at) + 1
        text = text[:end] + insert + text[end:]
    else:
        at = text.index(anchor)
        old, new = replace
        at = text.index(old, at)
        text = text[:at] + new + text[at + len(old):]
    path.write_text(text)
    hunks = [g for g in difflib.SequenceMatcher(None, before.splitlines(), text.splitlines()).get_opcodes()
             if g[0] != "equal"]
    return len(hunks)


def run(*args):
    """hvabi ARGS by cli.main in this process (testlib.hvabi_here): coverage and generate
    on one edited spec load it once."""
    return hvabi_here(args)


def facts(out, product, arch):
    return json.loads((out / "tests/layout" / product / f"{arch}.facts.json").read_text())


def main(argv):
    ksrc_6_12, ksrc_7_3 = argv
    failures, passed = [], 0

    def check(ok, what):
        nonlocal passed
        if ok:
            passed += 1
        else:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="hvabi-tasks-") as tmp:
        tmp = pathlib.Path(tmp)
        for ahead in (True, False):
            spec = tmp / f"spec-{ahead}"
            shutil.copytree(REPO / "spec", spec)
            for task in TASKS:
                check(edit(spec, task, ahead) == 1, f"task {task}: not one hunk")
            refs = ["--tlfs-src", ksrc_6_12, "--linux-src", ksrc_7_3,
                    "--rust-vmm-facts", str(REPO / "tests/reference/rustvmm-hvheaders")]
            cov = run("--spec", str(spec), "coverage", "--strict", "--complete", "-v", *refs)
            if not ahead:
                # Unmarked, the same facts are beyond the references without saying so.
                check(cov.returncode == 1 and "HVCALL_EXAMPLE_QUERY: beyond the reference" in cov.stdout
                      and "hv_input_example_query: beyond the reference" in cov.stdout,
                      f"without `ahead` coverage --strict must fail naming them:\n{cov.stdout[-2000:]}")
                continue
            check(cov.returncode == 0, f"coverage --strict with the tasks:\n{cov.stdout}{cov.stderr}")
            check("HVCALL_EXAMPLE_QUERY: ahead of upstream" in cov.stdout, "the code is not listed as ahead")
            out = tmp / "out"
            gen = run("--spec", str(spec), "generate", "--out", str(out))
            check(gen.returncode == 0, f"generate: {gen.stderr}")
            if gen.returncode:
                continue
            for arch in ("x86_64", "arm64"):
                kernel, uapi, tlfs = (facts(out, p, arch) for p in ("hdk-kernel", "hdk-uapi", "tlfs"))
                # (a) HDK products only, both arches
                check(kernel["macros"].get("HVCALL_EXAMPLE_QUERY") == 0xF7, f"(a) {arch}: kernel lacks the code")
                check(uapi["macros"].get("HVCALL_EXAMPLE_QUERY") == 0xF7, f"(a) {arch}: uapi lacks the code")
                check("HVCALL_EXAMPLE_QUERY" not in tlfs["macros"], f"(a) {arch}: tlfs has the code")
                rec = kernel["records"].get("hv_input_example_query")
                size = 24 if arch == "arm64" else 16
                check(rec is not None and rec["size"] == size, f"(a/c) {arch}: struct size {rec and rec['size']}")
                check("hv_input_example_query" not in tlfs["records"], f"(a) {arch}: tlfs has the struct")
                # (c) arm64 only
                paths = [mem["path"] for mem in rec["members"]] if rec else []
                check(("vtl_mask" in paths) == (arch == "arm64"), f"(c) {arch}: vtl_mask {paths}")
            # (b) x86_64 register: HDK names bit 1, the documented view keeps it reserved
            kernel, tlfs = facts(out, "hdk-kernel", "x86_64"), facts(out, "tlfs", "x86_64")
            k = {mem["path"]: mem for mem in kernel["records"]["hv_x64_msr_hypercall_contents"]["members"]}
            t = {mem["path"]: mem for mem in tlfs["records"]["hv_x64_msr_hypercall_contents"]["members"]}
            check("locked" in k and k["locked"]["offset"] == 1 and k["reserved"]["offset"] == 2,
                  f"(b) HDK: {sorted(k)}")
            check("locked" not in t and t["reserved"]["offset"] == 1 and t["reserved"]["bits"] == 11,
                  f"(b) TLFS: {sorted(t)}")
    return report(passed, failures)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
