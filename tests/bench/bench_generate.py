#!/usr/bin/python3
"""How long hvabi takes next to compiling what it writes, and how it scales (not a ctest).

Part 1, rounds interleaved (one of each per round, so load on a shared machine hits all
alike): `hvabi generate` into a fresh temp tree, `hvabi validate`, `hvabi check` of that
tree, and the compile of everything generate wrote, each file the way the tests compile
it (`-fsyntax-only -Wall -Werror`, kernel stubs and prelude for the kernel flavor): every
product's tests/layout/<arch>.c with gcc (x86_64) and aarch64-linux-gnu-gcc (arm64), the
mask programs, and the selector header's two branches on both arches. Wall and CPU
(user+sys of the children) seconds, min / median, and the ratios to the compile.

Part 2, scaling: specs built in a temp dir from spec/ at 1x, 2x, 5x, 10x, two ways:
  copies  every defs file N times, each copy with every spec name renamed (NAME_cK), the
          profiles' omits and the views' file lists extended to match;
  enums   every enum's enumerators N times (renamed copies appended);
then `validate` and `generate` of each, interleaved; prints the time ratio against 1x
(the goal: at most 1.1 times the size ratio).

  tests/bench/bench_generate.py [--runs N] [--scale-runs N] [--sizes 2,5,10]
                                [--hvabi PATH]... [--no-scaling | --only-scaling]

--hvabi runs another checkout's gen/bin/hvabi (its own spec/), e.g. an earlier commit
extracted with `git archive REV gen spec | tar -x -C DIR`; given twice, each round runs
both (a before/after comparison under the same load).
"""

import argparse
import copy
import os
import pathlib
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))

import yaml                                                   # noqa: E402

from hvabi.emit.products import load_products                # noqa: E402
from hvabi.extract.header_sets import kernel_cflags, tlfs_include_dirs  # noqa: E402
from hvabi.spec.loader import load_spec                       # noqa: E402

PY = "/usr/bin/python3"
CC = {"x86_64": "gcc", "arm64": "aarch64-linux-gnu-gcc"}
FLAGS = ["-fsyntax-only", "-Wall", "-Werror", "-std=gnu11"]


def timed(cmd, **kw):
    """(wall, cpu) seconds of running `cmd`; fails loudly on a non-zero exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))} exited {run.returncode}:\n"
                         f"{run.stdout}{run.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compile_jobs(products, root):
    """The compiler commands that check everything `generate` wrote under `root`."""
    jobs = []
    by_name = {p.name: p for p in products}
    for product in products:
        if product.flavor == "selector":
            continue
        base = root / product.root
        for arch, cc in CC.items():
            if product.flavor == "uapi":
                dirs, extra = [base], []
            else:
                dirs = tlfs_include_dirs(base, arch) if product.flavor == "tlfs" else [base / "include"]
                if product.layer_on:
                    dirs += tlfs_include_dirs(root / by_name[product.layer_on].root, arch)
                extra = kernel_cflags(arch)
            flags = [cc, *FLAGS, *extra, *[f"-I{d}" for d in dirs]]
            layout = root / "tests/layout" / product.name
            jobs.append(flags + [str(layout / f"{arch}.c")])
            if arch == "x86_64":
                jobs.append(flags + [str(layout / "mask-x86_64.c")])
    selector = next(p for p in products if p.flavor == "selector")
    for arch, cc in CC.items():
        dirs = [root / selector.root / "include", *tlfs_include_dirs(root / "include/hyperv-tlfs", arch)]
        for defines in (["-DHV_HYPERV_DEFS"], []):
            jobs.append([cc, *FLAGS, *kernel_cflags(arch), *defines, *[f"-I{d}" for d in dirs],
                         "-include", "asm-generic/hyperv-defs.h", "-x", "c", "/dev/null"])
    return jobs


def summary(values):
    return min(values), statistics.median(values)


def row(name, walls, cpus, ref=None):
    (wmin, wmed), (cmin, cmed) = summary(walls), summary(cpus)
    text = f"  {name:<10} wall {wmin:6.2f} / {wmed:6.2f} s   cpu {cmin:6.2f} / {cmed:6.2f} s"
    if ref:
        (rwmin, rwmed), (rcmin, rcmed) = summary(ref[0]), summary(ref[1])
        text += (f"   / compile: wall {wmin / rwmin:4.2f} / {wmed / rwmed:4.2f}"
                 f"  cpu {cmin / rcmin:4.2f} / {cmed / rcmed:4.2f}")
    print(text)


def part1(hvabis, runs, products):
    times = {(h, k): ([], []) for h in hvabis for k in ("generate", "validate", "check")}
    times["compile"] = ([], [])
    with tempfile.TemporaryDirectory(prefix="hvabi-bench-") as tmp:
        for i in range(runs):
            for n, hvabi in enumerate(hvabis):
                out = pathlib.Path(tmp) / f"out{i}-{n}"
                for what, cmd in (("generate", [hvabi, "generate", "-q", "--out", out]),
                                  ("validate", [hvabi, "validate", "-q"]),
                                  ("check", [hvabi, "check", "-q", "--out", out])):
                    wall, cpu = timed([PY, *map(str, cmd)])
                    times[hvabi, what][0].append(wall)
                    times[hvabi, what][1].append(cpu)
            wall = cpu = 0.0
            for job in compile_jobs(products, out):
                w, c = timed(job)
                wall, cpu = wall + w, cpu + c
            times["compile"][0].append(wall)
            times["compile"][1].append(cpu)
        jobs = len(compile_jobs(products, out))
    print(f"{runs} interleaved rounds, min / median; compile: {jobs} compiler runs, one after another")
    ref = times["compile"]
    for hvabi in hvabis:
        print(f"hvabi {hvabi}")
        for what in ("generate", "validate", "check"):
            row(what, *times[hvabi, what], ref)
    row("compile", *ref)


# --- scaled specs ---------------------------------------------------------------------------

WORD = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def spec_names(spec_dir):
    """Every name the spec defines, less words that are also profiles, views or keys."""
    spec = load_spec(spec_dir)
    names = set()
    for entry in spec.entries:
        defn = entry.defn
        names.add(defn.name)
        names.add(getattr(defn, "alias", None))
        names.update(i.name for i in getattr(defn, "items", ()))
    names.discard(None)
    return names - set(spec.profiles) - set(spec.views) - {"x86_64", "arm64", "name", "value"}


def write_profiles(src, dst, rename_omit, extra_files):
    """spec/profiles.yaml with every omitted name's copies omitted too and the copies of a
    view's files named in its `defs`."""
    doc = yaml.safe_load((src / "profiles.yaml").read_text())
    for profile in doc["profiles"].values():
        if "omit" in profile:
            profile["omit"] = [o for item in profile["omit"] for o in [item, *rename_omit(item)]]
    for view in doc["views"].values():
        if "defs" in view:
            view["defs"] = [f for name in view["defs"] for f in [name, *extra_files(name)]]
    (dst / "profiles.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=100))


def copy_products(src, dst, keep_order=True):
    """spec/products.yaml and the order files its headers name (spec/order/). Without
    keep_order the headers take spec order (the HDK's, definitions before use): an order
    file lists upstream's names, and renamed copies of them interleaved with the originals
    would not come before their use."""
    doc = yaml.safe_load((src / "products.yaml").read_text())
    if not keep_order:
        for product in doc["products"].values():
            for header in product.get("headers", []):
                header.pop("order", None)
    (dst / "products.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, width=100))
    if keep_order and (src / "order").is_dir():
        shutil.copytree(src / "order", dst / "order")


def build_copies(src, dst, n, names):
    """spec/ with every defs file n times, copy K's names suffixed _cK; headers in spec
    order (copy_products)."""
    (dst / "defs").mkdir(parents=True)
    copy_products(src, dst, keep_order=False)

    def renamed(text, k):
        return WORD.sub(lambda mo: f"{mo[0]}_c{k}" if mo[0] in names else mo[0], text)

    def copy_name(name, k):
        prefix, rest = name.split("-", 1)
        return f"{prefix}c{k}-{rest}"      # sorts after the original, before the next file

    for path in sorted((src / "defs").glob("*.yaml")):
        text = path.read_text()
        (dst / "defs" / path.name).write_text(text)
        for k in range(2, n + 1):
            (dst / "defs" / copy_name(path.name, k)).write_text(renamed(text, k))

    def rename_omit(item):
        name, _, arch = item.partition("@")
        return [f"{name}_c{k}{'@' + arch if arch else ''}" for k in range(2, n + 1)] if name in names else []
    write_profiles(src, dst, rename_omit, lambda f: [copy_name(f, k) for k in range(2, n + 1)])


def build_enums(src, dst, n, names):
    """spec/ with every enum's enumerators n times, copy K's names suffixed _eK."""
    (dst / "defs").mkdir(parents=True)
    copy_products(src, dst)
    enumerators = set()
    for path in sorted((src / "defs").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for entry in doc["defs"]:
            if "enum" in entry and isinstance(entry.get("items"), list):
                items = entry["items"]
                enumerators.update(i["name"] for i in items)
                copies = []
                for k in range(2, n + 1):
                    for item in items:
                        item = copy.deepcopy(item)
                        item["name"] = f"{item['name']}_e{k}"
                        copies.append(item)
                entry["items"] = items + copies
        (dst / "defs" / path.name).write_text(yaml.safe_dump(doc, sort_keys=False, width=100,
                                                             allow_unicode=True))

    def rename_omit(item):
        name, _, arch = item.partition("@")
        return [f"{name}_e{k}{'@' + arch if arch else ''}" for k in range(2, n + 1)] \
            if name in enumerators else []
    write_profiles(src, dst, rename_omit, lambda f: [])


def spec_bytes(spec):
    return sum(p.stat().st_size for p in (spec / "defs").glob("*.yaml"))


def part2(hvabis, runs, sizes):
    src = REPO / "spec"
    names = spec_names(src)
    with tempfile.TemporaryDirectory(prefix="hvabi-scale-") as tmp:
        tmp = pathlib.Path(tmp)
        specs = {}
        for kind, build in (("copies", build_copies), ("enums", build_enums)):
            for n in [1, *sizes]:
                specs[kind, n] = tmp / f"{kind}{n}" / "spec"
                build(src, specs[kind, n], n, names)
        size = {key: spec_bytes(spec) for key, spec in specs.items()}
        times = {(h, k, n, what): [] for h in hvabis for (k, n) in specs for what in ("validate", "generate")}
        for i in range(runs):
            for (kind, n), spec in specs.items():
                for h, hvabi in enumerate(hvabis):
                    out = tmp / f"out-{kind}{n}-{h}"
                    for what, cmd in (("validate", [hvabi, "--spec", spec, "validate", "-q"]),
                                      ("generate", [hvabi, "--spec", spec, "generate", "-q", "--out", out])):
                        times[hvabi, kind, n, what].append(timed([PY, *map(str, cmd)])[1])
                    shutil.rmtree(out, ignore_errors=True)
    print(f"scaling: cpu seconds (user+sys), min / median of {runs} rounds; ratio = min(Nx) / min(1x);"
          " size = bytes of spec/defs vs 1x; goal: ratio <= 1.1 x size")
    for kind in ("copies", "enums"):
        print(f"  {kind}: size " + ", ".join(f"{n}x {size[kind, n] / size[kind, 1]:.2f}" for n in sizes))
    for hvabi in hvabis:
        print(f"hvabi {hvabi}")
        for kind in ("copies", "enums"):
            for what in ("validate", "generate"):
                base = min(times[hvabi, kind, 1, what])
                cells = [f"1x {base:5.2f}/{statistics.median(times[hvabi, kind, 1, what]):5.2f}"]
                for n in sizes:
                    t = times[hvabi, kind, n, what]
                    ratio = min(t) / base
                    cells.append(f"{n}x {min(t):6.2f}/{statistics.median(t):6.2f} ratio {ratio:5.2f}"
                                 f" ({ratio / (size[kind, n] / size[kind, 1]):4.2f} size)")
                print(f"  {kind:<6} {what:<8}  " + "   ".join(cells))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5, help="rounds of part 1 (default 5)")
    p.add_argument("--scale-runs", type=int, default=3, help="rounds of part 2 (default 3)")
    p.add_argument("--sizes", default="2,5,10", help="growth factors of part 2 (default 2,5,10)")
    p.add_argument("--hvabi", action="append", help="an hvabi script to time (repeatable: each"
                   " round runs every one; default this checkout's gen/bin/hvabi)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--no-scaling", action="store_true")
    g.add_argument("--only-scaling", action="store_true")
    args = p.parse_args()
    products = load_products(REPO / "spec/products.yaml", load_spec(REPO / "spec"))
    # with PYTHONDONTWRITEBYTECODE set (this sandbox sets it), every run compiles the
    # hvabi modules whose bytecode is missing or stale
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cpus,"
          f" PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    hvabis = args.hvabi or [str(REPO / "gen/bin/hvabi")]
    if not args.only_scaling:
        part1(hvabis, args.runs, products)
    if not args.no_scaling:
        part2(hvabis, args.scale_runs, [int(n) for n in args.sizes.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
