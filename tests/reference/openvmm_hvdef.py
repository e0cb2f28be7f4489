#!/usr/bin/python3
"""Facts from microsoft/openvmm's `vm/hv1/hvdef` (the Rust definitions of the Hyper-V
ABI OpenVMM uses): hypercall codes, register names and synthetic MSR numbers. Names
and numbers only; no code is kept.

  openvmm_hvdef.py CHECKOUT_OR_GITDIR [--rev REV] [--out FILE]

Reads vm/hv1/hvdef/src/lib.rs from a work tree (as it is, or at --rev) or a git
directory (at --rev, default HEAD) and writes FILE (default
tests/reference/openvmm-hvdef.json):
  hypercalls  the variants of `enum HypercallCode` (name, code)
  registers   the `registers!` enums: HvX64RegisterName (arch x64), HvArm64RegisterName
              (arm64), and the list the `registers!` macro adds to every one of them
              (common); names are given as the TLFS spells them (HvRegisterFoo,
              HvX64RegisterFoo, HvArm64RegisterFoo) so the coverage report maps them
              to C names with the same rule as the TLFS inventory's
  msrs        `pub const HV_X64_MSR_*: u32 = VALUE;`
Exit status: 0 written, 2 bad input (nothing is written).
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from tlfs_inventory import write_atomically  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "openvmm-hvdef.json"
UPSTREAM = "microsoft/openvmm"
PATH = "vm/hv1/hvdef/src/lib.rs"
PREFIX = {"common": "HvRegister", "x64": "HvX64Register", "arm64": "HvArm64Register"}
ENUMS = {"HvX64RegisterName": "x64", "HvArm64RegisterName": "arm64"}


class HvdefError(Exception):
    pass


def read_source(source, rev=None):
    source = pathlib.Path(source)
    if not source.is_dir():
        raise HvdefError(f"{source}: not a directory (give a checkout or a git directory of {UPSTREAM})")

    def git(*args, **kw):
        proc = subprocess.run(["git", *args], capture_output=True, **kw)
        if proc.returncode:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise HvdefError(f"git {' '.join(args)}: {err[-1] if err else 'failed'}")
        return proc.stdout.decode()

    if (source / PATH).is_file() and rev is None:
        try:
            commit = git("-C", str(source), "rev-parse", "HEAD").strip()
        except HvdefError:
            commit = "unknown (not a git work tree)"
        return (source / PATH).read_text(encoding="utf-8"), commit
    where = ["--git-dir", str(source)] if (source / "objects").is_dir() else ["-C", str(source)]
    commit = git(*where, "rev-parse", "--verify", f"{rev or 'HEAD'}^{{commit}}").strip()
    return git(*where, "show", f"{commit}:{PATH}"), commit


def _strip(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"#!?\[[^\]]*\]", "", text)


def _block(text, start):
    """The text between the `{` at or after `start` and its matching `}`."""
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j]
    raise HvdefError(f"{PATH}: unbalanced braces after offset {start}")


VARIANT = re.compile(r"\b([A-Z]\w*)\s*=\s*(0[xX][0-9A-Fa-f_]+|\d[\d_]*)\s*,?")


def _variants(body):
    return [(m.group(1), int(m.group(2).replace("_", ""), 0)) for m in VARIANT.finditer(body)]


def facts(source_text, commit):
    text = _strip(source_text)
    m = re.search(r"\benum\s+HypercallCode\s*:\s*u16\s*", text)
    if not m:
        raise HvdefError(f"{PATH}: no `enum HypercallCode: u16` (has the file changed shape?)")
    hypercalls = [{"name": n, "code": v} for n, v in _variants(_block(text, m.end()))]
    m = re.search(r"macro_rules!\s*registers\s*", text)
    if not m:
        raise HvdefError(f"{PATH}: no `macro_rules! registers`")
    macro = _block(text, m.end())
    inner = re.search(r"pub\s+enum\s+\$name\s*:\s*u32\s*", macro)
    if not inner:
        raise HvdefError(f"{PATH}: the registers! macro has no `pub enum $name: u32`")
    registers = [{"name": PREFIX["common"] + n, "arch": "common", "value": v}
                 for n, v in _variants(_block(macro, inner.end()))]
    for m in re.finditer(r"\bregisters!\s*\{\s*(\w+)\s*", text):
        arch = ENUMS.get(m.group(1))
        if arch:
            registers += [{"name": PREFIX[arch] + n, "arch": arch, "value": v}
                          for n, v in _variants(_block(text, m.end()))]
    msrs = [{"name": m.group(1), "value": int(m.group(2), 0)}
            for m in re.finditer(r"pub\s+const\s+(HV_X64_MSR_\w+)\s*:\s*u32\s*=\s*(0[xX][0-9A-Fa-f]+|\d+)\s*;", text)]
    if not hypercalls or not registers:
        raise HvdefError(f"{PATH}: found {len(hypercalls)} hypercall codes and {len(registers)} registers")
    order = {"common": 0, "x64": 1, "arm64": 2}
    return {
        "format": 1,
        "source": {"repo": UPSTREAM, "commit": commit, "path": PATH,
                   "made_by": "tests/reference/openvmm_hvdef.py"},
        "hypercalls": sorted(hypercalls, key=lambda e: (e["code"], e["name"])),
        "registers": sorted(registers, key=lambda e: (order[e["arch"]], e["value"], e["name"])),
        "msrs": sorted(msrs, key=lambda e: (e["value"], e["name"])),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("source", metavar="CHECKOUT_OR_GITDIR")
    p.add_argument("--rev")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    try:
        text, commit = read_source(args.source, args.rev)
        doc = facts(text, commit)
        write_atomically(args.out, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    except (HvdefError, OSError, UnicodeDecodeError) as e:
        print(f"openvmm_hvdef: error: {e}", file=sys.stderr)
        return 2
    print(f"openvmm_hvdef: {PATH} at {commit[:12]}: {len(doc['hypercalls'])} hypercalls,"
          f" {len(doc['registers'])} registers, {len(doc['msrs'])} msrs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
