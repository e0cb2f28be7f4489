#!/usr/bin/python3
"""Fuzz the spec loader: random mutations of the real spec, each run through
`hvabi generate --out SCRATCH` in a forked child of this process (hvabi's modules and the
parse of the unchanged files are loaded once), classified as

  rejected    exit 2 with FILE:LINE: error: and nothing written outside SCRATCH
  accepted    exit 0; the generated layout tests of every product are then compiled against
              the generated headers with gcc (x86_64) and aarch64-linux-gnu-gcc (arm64),
              -Wall -Werror: they must compile (this also checks every static assert)
  crash       a traceback, an exit status other than 0 and 2, or a signal
  hang        no exit within --timeout seconds
  no-compile  accepted, but the C does not compile (or warns)
  unplaced    rejected without FILE:LINE

  tools/fuzz_spec.py --minutes 10 [--seed N] [--timeout S] [--findings DIR]

Mutations: numbers replaced by edge values, names by reserved words, keywords, other names
or garbage, keys renamed, values replaced by random expressions or bit ranges, lines
deleted, duplicated, swapped or re-indented, characters inserted (control, non-ASCII,
YAML indicators, comment delimiters), the file truncated or a byte flipped; one to three
per case, in one defs file, products.yaml or profiles.yaml. Every finding is kept under
--findings (the mutated file, the output) with the seed that reproduces it. Exit status 1
if there was any crash, hang or no-compile. This is a benchmark-style tool, not a ctest."""

import argparse
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import cli                                            # noqa: E402
from hvabi.extract.header_sets import kernel_cflags, tlfs_include_dirs  # noqa: E402

POSITIONED = re.compile(r"^\S+:\d+: error: ", re.M)
NUMBERS = ["0", "1", "-1", "7", "8", "31", "32", "63", "64", "65", "127", "255", "256",
           "2147483647", "2147483648", "4294967295", "4294967296", "9223372036854775807",
           "9223372036854775808", "18446744073709551615", "18446744073709551616",
           "0x7fffffff", "0x80000000", "0xffffffff", "0x100000000", "0xffffffffffffffff",
           "0x10000000000000000", "08", "010", "0b101", "1_000", "0o7", "1e3", "1.5", "-0",
           "+1", "0x", "99999999999999999999999", "1:30", "~", "null", "true", "no", '""']
NAMES = ["u8", "u16", "u32", "u64", "s64", "bool", "char", "ulong", "BIT", "GENMASK", "NULL",
         "NSEC_PER_SEC", "PAGE_SIZE", "__packed", "int", "struct", "sizeof", "union", "_Bool",
         "CONFIG_X86", "a-b", "1abc", '"x\\n"', "x y", "é", "flex", "hdk", "tlfs", "linux",
         "rust-vmm", "x86_64", "arm64", "hvgdk_mini", "generic", "arch", "_HV_HVGDK_H"]
KEYS = ["name", "type", "bits", "count", "value", "doc", "only", "why", "ahead", "header",
        "members", "fields", "items", "packed", "aligned", "raw", "struct_name", "alias",
        "params", "reserved", "volatile", "anon", "struct", "union", "enum", "consts",
        "register", "typedef", "variants", "kind", "tlfs", "bits_packed", "last", "id",
        "path", "guard", "root", "includes", "profile", "flavor", "omit", "view"]
INSERTS = ["\x00", "\x01", "\x1b", "\x7f", "\t", "é", "\u2028", "\ufeff", "*/", "/*", "[", "]",
           "{", "}", ":", ": ", "'", '"', "&a ", "*a", "!tag ", "#", "- ", "\\", "%", "@", "`",
           "|", ">", ",", "?", "<<: ", "../", "\n", "\n  ", "\n    - "]
OPS = ["+", "-", "*", "/", "%", "<<", ">>", "|", "&", "^"]


def random_expr(rng, depth=0):
    choice = rng.randrange(9 if depth < 3 else 3)
    if choice == 0:
        return rng.choice(NUMBERS[:30])
    if choice == 1:
        return str(rng.randrange(-70, 70))
    if choice == 2:
        return rng.choice(["HV_HYP_PAGE_SHIFT", "HV_HYP_PAGE_SIZE", "HV_MESSAGE_SIZE", "NSEC_PER_SEC",
                           "HV_NOPE", "HV_STATUS_SUCCESS"])
    if choice == 3:
        return f"BIT({random_expr(rng, depth + 1)})"
    if choice == 4:
        return f"GENMASK({rng.randrange(-2, 70)}, {rng.randrange(-2, 70)})"
    if choice == 5:
        return f"(({rng.choice(['u8', 'u32', 'u64', 's8', 's32', 's64', 'u128'])}){random_expr(rng, depth + 1)})"
    if choice == 6:
        return f"({random_expr(rng, depth + 1)} {rng.choice(OPS)} {random_expr(rng, depth + 1)})"
    if choice == 7:
        return f"{rng.choice(['-', '~', '!'])}{random_expr(rng, depth + 1)}"
    return f"sizeof({rng.choice(['u64', 'struct hv_message', 'hv_vpset', 'nope'])})"


def mutate(text, rng):
    """One random mutation of `text` (str); may return bytes."""
    lines = text.split("\n")
    op = rng.randrange(13)
    i = rng.randrange(len(lines))
    if op == 0:                                   # a number
        spots = [(n, m) for n, line in enumerate(lines) for m in re.finditer(r"\b(0x[0-9a-fA-F]+|\d+)\b", line)]
        if spots:
            n, m = rng.choice(spots)
            lines[n] = lines[n][:m.start()] + rng.choice(NUMBERS) + lines[n][m.end():]
    elif op == 1:                                 # a name
        spots = [(n, m) for n, line in enumerate(lines)
                 for m in re.finditer(r"(?:name|type|struct|union|enum|typedef|register|raw|alias|id|guard"
                                      r"|profile|flavor|view|struct_name): ([\w-]+)", line)]
        if spots:
            n, m = rng.choice(spots)
            pool = NAMES + re.findall(r"name: (\w+)", text)[:200]
            lines[n] = lines[n][:m.start(1)] + rng.choice(pool) + lines[n][m.end(1):]
    elif op == 2:                                 # a key
        spots = [(n, m) for n, line in enumerate(lines) for m in re.finditer(r"([a-z_]+):", line)]
        if spots:
            n, m = rng.choice(spots)
            lines[n] = lines[n][:m.start(1)] + rng.choice(KEYS) + lines[n][m.end(1):]
    elif op == 3:                                 # a value: an expression or bits
        spots = [(n, m) for n, line in enumerate(lines)
                 for m in re.finditer(r"(value|count|bits|aligned): ([^,}]+)", line)]
        if spots:
            n, m = rng.choice(spots)
            if m.group(1) == "bits":
                lo = rng.choice([0, 1, 7, 31, 32, 63, 64, 100, rng.randrange(200)])
                new = f"{lo}-{lo + rng.choice([-1, 0, 1, 7, 31, 32, 63, 64, 1 << 64])}"
            elif m.group(1) == "aligned":
                new = rng.choice(["0", "1", "3", "8", "4096", "8192", str(1 << 40)])
            else:
                new = '"' + random_expr(rng) + '"'
            lines[n] = lines[n][:m.start(2)] + new + lines[n][m.end(2):]
    elif op == 4:
        del lines[i]
    elif op == 5:
        lines.insert(i, lines[i])
    elif op == 6:
        j = min(i + 1, len(lines) - 1)
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 7:                                 # re-indent
        lines[i] = ("  " + lines[i]) if rng.random() < 0.5 else lines[i][2:]
    elif op == 8:                                 # insert characters
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + rng.choice(INSERTS) + lines[i][at:]
    elif op == 9:                                 # truncate
        return text[:rng.randrange(len(text) + 1)]
    elif op == 10:                                # flip a byte
        data = bytearray(text.encode())
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    elif op == 11:                                # a condition or placement
        spots = [(n, m) for n, line in enumerate(lines) for m in re.finditer(r"(only|header|ahead|omit): ", line)]
        if spots:
            n, m = rng.choice(spots)
            new = rng.choice(["hdk", "tlfs", "linux", "x86_64", "arm64@tlfs", "tlfs@arm64", "[]", "[hdk, nope]",
                              "{hdk: nope}", "{tlfs: arch}", "true", "[rust-vmm]", "nope"])
            lines[n] = lines[n][:m.end()] + new + (" #" if not lines[n].rstrip().endswith(("}", "]")) else "") \
                + lines[n][m.end():]
    else:                                         # deep nesting
        depth = rng.choice([30, 70, 500, 5000])
        lines.insert(i, "x: " + "[" * depth + "]" * depth)
    return "\n".join(lines)


def compile_outputs(out, products):
    """Problems compiling each product's generated layout test against its headers."""
    problems = []
    for product in products:
        if product.flavor == "selector":
            continue
        root = out / product.root
        for arch, cc in (("x86_64", "gcc"), ("arm64", "aarch64-linux-gnu-gcc")):
            if shutil.which(cc) is None:
                continue
            if product.flavor == "uapi":
                dirs, extra = [root], ["-std=gnu11"]
            else:
                dirs = tlfs_include_dirs(root, arch) if product.flavor == "tlfs" else [root / "include"]
                extra = [*kernel_cflags(arch), "-std=gnu11"]
            source = out / "tests/layout" / product.name / f"{arch}.c"
            cmd = [cc, "-c", "-Wall", "-Werror", *extra, *[f"-I{d}" for d in dirs], str(source), "-o", os.devnull]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode:
                problems.append(f"{product.name} {arch}: {run.stderr[:2000]}")
    return problems


def run_child(spec, out, log, timeout):
    """(status, output, seconds): `hvabi generate` in a fork; status is an exit code,
    'signal N' or 'timeout'."""
    start = time.time()
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            status = cli.main(["--spec", str(spec), "generate", "--out", str(out), "-q"])
        except BaseException:          # noqa: B902 - the crash is what we look for
            traceback.print_exc()
            status = 70
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status if isinstance(status, int) else 71)
    while True:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.time() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", pathlib.Path(log).read_text(errors="replace"), time.time() - start
        time.sleep(0.02)
    text = pathlib.Path(log).read_text(errors="replace")
    if os.WIFSIGNALED(raw):
        return f"signal {os.WTERMSIG(raw)}", text, time.time() - start
    return os.WEXITSTATUS(raw), text, time.time() - start


def snapshot(tree):
    return {str(p.relative_to(tree)): p.stat().st_size for p in sorted(tree.rglob("*")) if p.is_file()}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--findings", default="/tmp/hvabi-fuzz-findings")
    args = ap.parse_args(argv)
    spec_src = REPO / "spec"
    files = {str(p.relative_to(spec_src)): p.read_text() for p in sorted(spec_src.rglob("*.yaml"))}
    targets = sorted(files)
    weights = [3 if t.startswith("defs/") else 1 for t in targets]
    counts = {k: 0 for k in ("rejected", "accepted", "crash", "hang", "no-compile", "unplaced", "outside")}
    findings = pathlib.Path(args.findings)
    deadline = time.time() + args.minutes * 60
    rng = random.Random(args.seed)
    # The unchanged files are parsed once, here, before the first fork.
    status = cli.main(["--spec", str(spec_src), "validate", "-q"])
    if status != 0:
        print("fuzz_spec: the real spec does not validate", file=sys.stderr)
        return 2
    from hvabi.emit.products import load_products
    from hvabi.spec.loader import load_spec
    runs, slowest = 0, 0.0
    with tempfile.TemporaryDirectory(prefix="hvabi-fuzz-") as tmp:
        tmp = pathlib.Path(tmp)
        while time.time() < deadline:
            case_seed = rng.randrange(1 << 32)
            crng = random.Random(case_seed)
            target = crng.choices(targets, weights)[0]
            text = files[target]
            for _ in range(crng.choice([1, 1, 2, 3])):
                text = mutate(text if isinstance(text, str) else text.decode("utf-8", "replace"), crng)
            case = tmp / "case"
            shutil.rmtree(case, ignore_errors=True)
            spec = case / "spec"
            shutil.copytree(spec_src, spec)
            (spec / target).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
            out = case / "out"
            out.mkdir()
            before = snapshot(spec)
            status, output, secs = run_child(spec, out, tmp / "log", args.timeout)
            runs += 1
            slowest = max(slowest, secs)
            kind = None
            if status == "timeout":
                kind = "hang"
            elif isinstance(status, str) or "Traceback" in output or status not in (0, 2):
                kind = "crash"
            elif snapshot(spec) != before or set(os.listdir(case)) != {"spec", "out"}:
                kind = "outside"
            elif status == 2:
                kind = "rejected" if POSITIONED.search(output) else "unplaced"
            else:
                loaded = load_spec(spec)
                problems = compile_outputs(out, load_products(spec / "products.yaml", loaded))
                kind = "no-compile" if problems else "accepted"
                output += "\n".join(problems)
            counts[kind] += 1
            if kind not in ("rejected", "accepted"):
                where = findings / f"{kind}-{case_seed}"
                where.mkdir(parents=True, exist_ok=True)
                (where / pathlib.Path(target).name).write_bytes((spec / target).read_bytes())
                (where / "output.txt").write_text(f"seed {case_seed}, {target}, status {status}\n{output}")
                print(f"{kind}: seed {case_seed} {target} ({where})", flush=True)
    print(f"fuzz_spec: {runs} runs in {args.minutes:g} min (seed {args.seed}, slowest {slowest:.1f} s): "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    bad = counts["crash"] + counts["hang"] + counts["no-compile"] + counts["outside"] + counts["unplaced"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
