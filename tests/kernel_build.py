#!/usr/bin/python3
"""Real kernel builds with the exported headers (ctest `kernel_build`, label `kernel`).

For each tree (Debian's linux-source-7.3: `hvabi export` writes include/hyperv/; Debian's
linux-source-6.12: it writes the hyperv-tlfs.h trio) and each arch (x86_64 with gcc, arm64
with aarch64-linux-gnu-gcc):

  1. a work copy of the tree: hard links to the extracted tree (export replaces files by
     rename, so the extracted tree the other tests read is never written);
  2. defconfig plus the Hyper-V options (OPTIONS below; what the arch or tree lacks is
     reported, not an error), debug info off; `make prepare` once per arch, in one output
     directory that both builds reuse;
  3. candidates: the .c/.S files whose #include lines reach one of the tree's Hyper-V
     headers, read as text over the arch's include paths (an over-approximation); each is
     built as a single target, or through the directory of the Makefile that builds it
     when that is not its own (virt/kvm, from arch/*/kvm). The objects compared are those
     whose dependency file (.X.o.cmd, written by the compiler) names a Hyper-V header;
  4. build 1 with the tree's headers; `hvabi export linux`; build 2 of the same targets.
     Kbuild rebuilds what depends on the replaced headers; every object compared must
     have been rebuilt. Each object's code and data (allocated sections, and their
     relocations by symbol name) must be byte-identical; warnings of build 2 that build 1
     did not print (file and message, line numbers aside) are new warnings;
  5. the mutation check: one constant of the exported headers changed (MUTANT), the object
     that uses it rebuilt, and the comparison must report that object, its section and
     the constant; the exported text is put back after.

Prints per tree and arch: candidates, objects compared, identical, differing (with the
sections and the definitions responsible: those whose text differs between the two header
sets and whose name the object's sources use), failed, new warnings, the mutation verdict,
and CPU and wall seconds. Exit status 0 when everything is identical and the mutation is
caught, 1 otherwise, 2 when a tree or a tool is missing.

  tests/kernel_build.py --linux-7.3 DIR --linux-6.12 DIR [--work DIR] [--arch A]...
"""

import argparse
import collections
import os
import pathlib
import platform
import re
import shutil
import struct
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import token_diff  # noqa: E402  (the definitions of a header, for "responsible")
sys.path.insert(0, str(REPO / "gen"))
from hvabi.arches import ARCHES  # noqa: E402  (ARCH= is kernel_dir, CROSS_COMPILE the triple)

# Enabled on top of defconfig; olddefconfig drops what the arch or tree does not offer.
# Enabled on top of defconfig in every configuration (with what they depend on);
# olddefconfig drops what the arch or tree does not offer, and the report names it.
OPTIONS = """HYPERV HYPERV_VMBUS HYPERV_UTILS HYPERV_BALLOON HYPERV_NET HYPERV_STORAGE
HYPERV_KEYBOARD HID_HYPERV_MOUSE VSOCKETS HYPERV_VSOCKETS PCI_HYPERV PCI_HYPERV_INTERFACE
DRM_HYPERV FB FB_HYPERV IRQ_REMAP HYPERV_IOMMU UIO UIO_HV_GENERIC KVM KVM_INTEL KVM_AMD
KVM_HYPERV NET_VENDOR_MELLANOX MLX5_CORE MLX5_CORE_EN""".split()
DISABLE = "DEBUG_INFO DEBUG_INFO_DWARF4 DEBUG_INFO_DWARF5 DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT" \
    " WERROR".split()
# The configurations per tree and arch, and what each adds ("-X" disables X). Linux 7.3's
# MSHV_ROOT excludes HYPERV_VTL_MODE, and MSHV_VTL (x86_64 only) needs it, THP and no MTRR
# (which only EXPERT may turn off): two x86_64 configurations. Linux 6.12 has no mshv driver.
CONFIGS = {
    ("7.3", "x86_64"): {"root": ["MSHV_ROOT"],
                        "vtl": ["HYPERV_VTL_MODE", "TRANSPARENT_HUGEPAGE", "EXPERT", "-MTRR",
                                "MSHV_VTL"]},
    ("7.3", "arm64"): {"root": ["MSHV_ROOT"]},
    ("6.12", "x86_64"): {"vtl": ["HYPERV_VTL_MODE"]},
    ("6.12", "arm64"): {"guest": []},
}
TREES = {
    # tree: the Hyper-V headers export replaces (a directory ends in /)
    "7.3": ["include/hyperv/"],
    "6.12": ["include/asm-generic/hyperv-tlfs.h", "arch/x86/include/asm/hyperv-tlfs.h",
             "arch/arm64/include/asm/hyperv-tlfs.h"],
}
MUTANT = "HVCALL_POST_MESSAGE"       # the constant the mutation changes, in both trees
SKIP_DIRS = {"Documentation", "tools", "samples", "scripts", "usr", ".git"}
INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"]', re.M)
WARNING = re.compile(r"^(\S+?):\d+(?::\d+)?: warning: (.*)$", re.M)
COMPILE = re.compile(r" -c -o (\S+\.o) ")           # Kbuild's cmd_cc_o_c, cmd_as_o_S
ERROR = re.compile(r"^(\S+?):\d+(?::\d+)?: (?:fatal )?error: (.*)$", re.M)
ENV = {**os.environ, "KBUILD_BUILD_TIMESTAMP": "2026-01-01", "KBUILD_BUILD_USER": "hvabi",
       "KBUILD_BUILD_HOST": "hvabi", "LC_ALL": "C"}


def cross_compile(arch):
    """Kbuild's CROSS_COMPILE for `arch`: none on its own host, else the GNU triple."""
    triple = ARCHES[arch].triple
    return "" if triple.split("-")[0] == platform.machine() else triple + "-"


class Failure(Exception):
    """A missing tree or tool: exit status 2."""


# --- the tree's own include graph ---------------------------------------------------------

class IncludeIndex:
    """Every #include line of a tree's .c/.S/.h files (tools/, Documentation/, ... aside),
    read once per tree and resolved per arch."""

    def __init__(self, src):
        self.src = src
        self.includes = {}
        for top in sorted(os.listdir(src)):
            if top in SKIP_DIRS or not (src / top).is_dir():
                continue
            for root, dirs, files in os.walk(src / top):
                dirs.sort()
                rel_root = os.path.relpath(root, src)
                for f in files:
                    if f.endswith((".c", ".S", ".h")):
                        rel = os.path.join(rel_root, f)
                        try:
                            text = (src / rel).read_bytes()
                        except OSError:
                            continue
                        self.includes[rel] = [n.decode("utf-8", "replace")
                                              for n in INCLUDE.findall(text)]

    def candidates(self, arch_dir, targets):
        """The .c/.S files of the arch whose #include lines reach a target header (a target
        ending in / names a directory). A name is looked up in the arch's include paths,
        under every directory above the including file and at the top of the tree, which
        covers Makefiles' -I flags: more files than the compiler reads, never fewer."""
        def builds_here(rel):
            return not rel.startswith("arch/") or rel.startswith(f"arch/{arch_dir}/")

        known = {rel for rel in self.includes if builds_here(rel)}
        paths = [f"arch/{arch_dir}/include", f"arch/{arch_dir}/include/uapi", "include",
                 "include/uapi"]
        includers = collections.defaultdict(set)     # header -> files including it
        for rel in known:
            ancestors = []
            d = os.path.dirname(rel)
            while d:
                ancestors.append(d)
                d = os.path.dirname(d)
            for name in self.includes[rel]:
                tries = [os.path.normpath(f"{d}/{name}") for d in ancestors] + [name]
                tries += [f"{p}/{name}" for p in paths]
                if name.startswith("asm/"):          # Kbuild's generated wrappers
                    tries.append("include/asm-generic/" + name[4:])
                for header in tries:
                    if header in known:
                        includers[header].add(rel)
        reached = {f for f in known if is_target(f, self.src, targets)}
        todo = list(reached)
        while todo:
            for rel in includers.get(todo.pop(), ()):
                if rel not in reached:
                    reached.add(rel)
                    todo.append(rel)
        return sorted(f for f in reached if f.endswith((".c", ".S")))


def build_dir_of(src, arch_dir, rel):
    """The directory target that builds `rel` when its own directory's Makefile does not:
    the directory of an arch Makefile that includes a Makefile fragment naming the object
    (virt/kvm/Makefile.kvm, from arch/*/kvm/Makefile)."""
    obj = os.path.basename(rel)[:-2] + ".o"
    here = src / os.path.dirname(rel)
    own = [p for p in (here / "Makefile", here / "Kbuild") if p.exists()]
    if any(re.search(rf"\b{re.escape(obj)}\b", p.read_text(errors="replace")) for p in own):
        return None
    for fragment in sorted(here.glob("Makefile.*")):
        if not re.search(rf"\b{re.escape(obj)}\b", fragment.read_text(errors="replace")):
            continue
        for root, _, files in os.walk(src / "arch" / arch_dir):
            for f in files:
                if f in ("Makefile", "Kbuild") and fragment.name in \
                        (pathlib.Path(root) / f).read_text(errors="replace"):
                    return os.path.relpath(root, src) + "/"
    return None


def makefile_dir_above(src, obj):
    """The nearest directory above `obj` with a Makefile, as a directory target."""
    up = (src / obj).parent.parent
    while up != src and not (up / "Makefile").exists():
        up = up.parent
    return os.path.relpath(up, src) + "/"


def deps(out, obj):
    """The files the compiler read for `obj`, from Kbuild's .X.o.cmd (None if absent)."""
    cmd = out / os.path.dirname(obj) / f".{os.path.basename(obj)}.cmd"
    try:
        text = cmd.read_text(errors="replace")
    except OSError:
        return None
    body = text.partition("\ndeps_")[2].partition("\n\n")[0]
    return [w for w in body.replace("\\\n", " ").split() if w.endswith(".h")]


def is_target(path, src, targets):
    rel = os.path.relpath(path, src) if os.path.isabs(path) else path
    return any(rel == t or (t.endswith("/") and rel.startswith(t)) for t in targets)


# --- objects: allocated sections and their relocations ------------------------------------

def elf_sections(path):
    """{section name: bytes} of an ELF relocatable's allocated sections, and per relocation
    section of one of them a normalized list (offset, type, symbol name, addend)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not ELF")
    is64, end = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        fmt = end + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        fmt = end + "IIIIIIIIII"
    shdrs = [struct.unpack_from(fmt, data, shoff + i * shentsize) for i in range(shnum)]

    def name_at(strtab, off):
        base = shdrs[strtab][4] + off
        return data[base:data.index(b"\0", base)].decode("utf-8", "replace")

    names = [name_at(shstrndx, h[0]) for h in shdrs]
    symbols = []
    for i, h in enumerate(shdrs):
        if h[1] == 2:                                  # SHT_SYMTAB
            size = 24 if is64 else 16
            for k in range(h[5] // size):
                at = h[4] + k * size
                if is64:
                    st_name, info, _, shndx = struct.unpack_from(end + "IBBH", data, at)
                else:
                    st_name, _, _, info, _, shndx = struct.unpack_from(end + "IIIBBH", data, at)
                name = name_at(h[6], st_name) if st_name else ""
                if not name and (info & 0xF) == 3 and 0 < shndx < len(names):   # STT_SECTION
                    name = names[shndx]
                symbols.append(name)
    out = {}
    for i, h in enumerate(shdrs):
        kind, flags, offset, size, info = h[1], h[2], h[4], h[5], h[7]
        if flags & 0x2:                                # SHF_ALLOC; NOBITS (.bss): its size
            out[names[i]] = size.to_bytes(8, "little") if kind == 8 else \
                data[offset:offset + size]
        elif kind in (4, 9) and info < len(shdrs) and shdrs[info][2] & 0x2:   # RELA, REL
            rela = kind == 4
            if is64:
                entry, layout = (24, "QQq") if rela else (16, "QQ")
            else:
                entry, layout = (12, "IIi") if rela else (8, "II")
            rows = []
            for k in range(size // entry):
                fields = struct.unpack_from(end + layout, data, offset + k * entry)
                r_off, r_info = fields[0], fields[1]
                sym, typ = (r_info >> 32, r_info & 0xFFFFFFFF) if is64 else \
                    (r_info >> 8, r_info & 0xFF)
                rows.append((r_off, typ, symbols[sym] if sym < len(symbols) else sym,
                             fields[2] if rela else 0))
            out[names[i]] = repr(rows).encode()
    return out


def compare(before, after):
    """The sections that differ between two objects (added or gone included)."""
    a, b = elf_sections(before), elf_sections(after)
    return sorted(n for n in set(a) | set(b) if a.get(n) != b.get(n))


# --- what differs between the two header sets ---------------------------------------------

def definitions(text):
    out = {}
    for item in token_diff.items(token_diff.tokenize(text)):
        name = token_diff.item_name(item)
        if name:
            out[name.split()[-1]] = " ".join(t.text for t in item)
    return out


def changed_definitions(before, after):
    """Names defined differently (or on one side only) in two {rel: text} header sets."""
    a, b = {}, {}
    for texts, into in ((before, a), (after, b)):
        for text in texts.values():
            into.update(definitions(text))
    return {n for n in set(a) | set(b) if a.get(n) != b.get(n)}


def responsible(src, obj_source, dep_files, changed, targets):
    """The changed definitions the object's own source or its non-Hyper-V headers name."""
    text = ""
    for rel in [obj_source, *dep_files]:
        if rel and not is_target(rel, src, targets):
            path = pathlib.Path(rel) if os.path.isabs(rel) else src / rel
            try:
                text += path.read_text(errors="replace")
            except OSError:
                pass
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
    return sorted(changed & words)


# --- one tree, one arch -------------------------------------------------------------------

class Build:
    def __init__(self, tree, arch, config, src, work, jobs):
        self.tree, self.arch, self.config, self.src, self.jobs = tree, arch, config, src, jobs
        self.options = OPTIONS + CONFIGS[tree, arch][config]
        name = f"{tree}-{arch}-{config}"
        self.out = work / f"out-{name}"
        self.saved = work / f"build1-{name}"
        self.logs = work / f"log-{name}"
        self.targets = TREES[tree]
        self.arch_dir = ARCHES[arch].kernel_dir
        self.make_vars = [f"ARCH={self.arch_dir}", f"CROSS_COMPILE={cross_compile(arch)}"]
        self.row = collections.OrderedDict(tree=tree, arch=arch)
        self.cpu = self.wall = 0.0
        self.single, self.dirs, self.objects, self.unbuilt = [], [], {}, []

    def make(self, *args, log=None):
        cmd = ["make", "-s", "-C", str(self.src), f"O={self.out}", *self.make_vars,
               f"-j{self.jobs}", *args]
        start, t0 = time.monotonic(), os.times()
        run = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
        t1 = os.times()
        self.cpu += (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
        self.wall += time.monotonic() - start
        if log:
            log.write_text(run.stdout + run.stderr)
        return run

    def make_step(self, target):
        run = self.make(target, log=self.logs / f"{target}.log")
        if run.returncode:
            raise Failure(f"{self.tree} {self.arch}: make {target} failed:\n"
                          + (run.stdout + run.stderr)[-3000:])

    def configure(self):
        shutil.rmtree(self.out, ignore_errors=True)
        shutil.rmtree(self.saved, ignore_errors=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.make_step("defconfig")
        args = [str(self.src / "scripts/config"), "--file", str(self.out / ".config")]
        for opt in self.options:
            args += ["-d", opt[1:]] if opt.startswith("-") else ["-e", opt]
        for opt in DISABLE:
            args += ["-d", opt]
        subprocess.run(args + ["-e", "DEBUG_INFO_NONE"], check=True, env=ENV)
        self.make_step("olddefconfig")
        self.make_step("prepare")
        config = (self.out / ".config").read_text()
        self.missing = [o for o in self.options if not o.startswith("-") and
                        not re.search(rf"^CONFIG_{o}=[ym]$", config, re.M)]

    def plan(self, index):
        """What to build: the candidates this configuration compiles, as Kbuild says in a
        dry run (make -n) of their directories: as single targets, or through the
        directory whose Makefile builds them when that is not their own."""
        self.candidates = index.candidates(self.arch_dir, self.targets)
        via = {rel: build_dir_of(self.src, self.arch_dir, rel) for rel in self.candidates}
        dirs = sorted({d or os.path.dirname(rel) + "/" for rel, d in via.items()})
        run = self.make("-n", "-k", *dirs, log=self.logs / "dry-run.log")
        compiled = {os.path.normpath(o) for o in COMPILE.findall(run.stdout)}
        self.configured = [rel for rel in self.candidates if rel[:-2] + ".o" in compiled]
        for rel in self.configured:
            if via[rel]:
                if via[rel] not in self.dirs:
                    self.dirs.append(via[rel])
            else:
                self.single.append(rel[:-2] + ".o")

    def build(self, n):
        log = self.logs / f"build{n}.log"
        runs = []
        if self.single:
            runs.append(self.make("-k", *self.single, log=log.with_suffix(".single.log")))
        if n == 1:
            # A single target in a directory without a Makefile that Kbuild did not build
            # (vdso32/ in 6.12: the parent's rules build it) is built through the nearest
            # directory above with a Makefile, in both builds.
            for obj in list(self.single):
                here = self.src / os.path.dirname(obj)
                if deps(self.out, obj) is None and not (here / "Makefile").exists() \
                        and not (here / "Kbuild").exists():
                    self.single.remove(obj)
                    where = makefile_dir_above(self.src, obj)
                    if where not in self.dirs:
                        self.dirs.append(where)
        if self.dirs:
            runs.append(self.make("-k", *self.dirs, log=log.with_suffix(".dirs.log")))
        text = "".join(r.stdout + r.stderr for r in runs)
        log.write_text(text)
        return text

    def select(self):
        """Objects built from the candidates whose dependency file names a target."""
        for rel in self.configured:
            obj = rel[:-2] + ".o"
            found = deps(self.out, obj)
            if found is None:
                self.unbuilt.append(obj)
            if found is not None and any(is_target(p, self.src, self.targets) for p in found):
                self.objects[obj] = found

    def source(self, obj):
        """The .c or .S file `obj` is compiled from, or None."""
        return next((self.src / (obj[:-2] + s) for s in (".c", ".S")
                     if (self.src / (obj[:-2] + s)).exists()), None)

    def save(self):
        for obj in self.objects:
            dest = self.saved / obj
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.out / obj, dest)


def warnings(log):
    return {(f.rsplit("/", 1)[-1], m) for f, m in WARNING.findall(log)}


def link_tree(extracted, work_src):
    """A work copy of an extracted tree made of hard links (export renames over them)."""
    shutil.rmtree(work_src, ignore_errors=True)
    subprocess.run(["cp", "-al", str(extracted), str(work_src)], check=True)


def export(work_src):
    run = subprocess.run([sys.executable, str(REPO / "gen/bin/hvabi"), "export", "linux",
                          str(work_src)], capture_output=True, text=True)
    if run.returncode:
        raise Failure(f"hvabi export linux {work_src} failed:\n{run.stdout}{run.stderr}")


def header_texts(src, targets):
    out = {}
    for t in targets:
        paths = sorted((src / t).glob("*.h")) if t.endswith("/") else [src / t]
        for p in paths:
            if p.exists():
                out[os.path.relpath(p, src)] = p.read_text()
    return out


def compare_all(b, changed):
    identical, differing, failed = 0, [], []
    for obj, dep in b.objects.items():
        after, before = b.out / obj, b.saved / obj
        if not after.exists() or after.stat().st_mtime <= before.stat().st_mtime:
            failed.append(f"{obj}: not rebuilt after the export")
            continue
        try:
            sections = compare(before, after)
        except (ValueError, struct.error, IndexError) as e:
            failed.append(f"{obj}: cannot compare: {e}")
            continue
        if not sections:
            identical += 1
            continue
        names = responsible(b.src, b.source(obj), dep, changed, b.targets)
        differing.append(f"{obj}: sections {', '.join(sections)}; definitions "
                         f"{', '.join(names) or '(none of the changed ones named)'}")
    return identical, differing, failed


def mutate(b, name, exported):
    """Change `name`'s value in the exported headers, rebuild the objects whose source
    names it and compare each with build 2's: the report must name an object, a section
    and `name`."""
    for rel, text in exported.items():
        m = re.search(rf"^(#define\s+{name}\s+)(0x[0-9a-fA-F]+|\d+)\b", text, re.M)
        if m:
            break
    else:
        return f"not caught: {name} is not #defined in the exported headers"
    sources = {obj: b.source(obj) for obj in b.objects}
    users = [obj for obj, c in sources.items()
             if c and re.search(rf"\b{name}\b", c.read_text(errors="replace"))]
    if not users:
        return f"not caught: no compared object's source names {name}"
    for obj in users:                  # build 2's objects are the reference now
        shutil.copy2(b.out / obj, b.saved / obj)
    mutated = text[:m.start(2)] + hex(int(m.group(2), 0) + 1) + text[m.end(2):]
    changed = changed_definitions({rel: text}, {rel: mutated})
    path = b.src / rel
    caught = []
    try:
        tmp = path.with_suffix(".mutant")
        tmp.write_text(mutated)
        os.replace(tmp, path)
        b.make(*users, log=b.logs / "mutation.log")
        for obj in users:
            sections = compare(b.saved / obj, b.out / obj)
            names = responsible(b.src, str(sources[obj]), b.objects[obj], changed, b.targets)
            if sections and name in names:
                caught.append(f"{obj} ({', '.join(sections)})")
    finally:
        tmp = path.with_suffix(".restore")
        tmp.write_text(text)
        os.replace(tmp, path)
    if caught:
        return f"caught: {len(caught)} of {len(users)} objects naming it differ: " + \
            ", ".join(caught)
    return f"not caught: none of {', '.join(users)} differs"


def run_tree(tree, extracted, work, arches, jobs, check_mutation):
    src = work / f"src-{tree}"
    targets = TREES[tree]
    link_tree(extracted, src)
    builds = [Build(tree, arch, config, src, work, jobs)
              for arch in arches for config in CONFIGS[tree, arch]]
    upstream = header_texts(src, targets)
    index = IncludeIndex(src)
    for b in builds:
        b.configure()
        b.plan(index)
        b.log1 = b.build(1)
        b.select()
        b.save()
    export(src)
    exported = header_texts(src, targets)
    changed = changed_definitions(upstream, exported)
    rows = []
    for b in builds:
        b.log2 = b.build(2)
        identical, differing, failed = compare_all(b, changed)
        new = sorted(warnings(b.log2) - warnings(b.log1))
        errors = sorted(set(ERROR.findall(b.log2)) - set(ERROR.findall(b.log1)))
        failed += [f"{f}: error: {m}" for f, m in errors]
        verdict = mutate(b, MUTANT, exported) if check_mutation else "not run"
        rows.append((b, identical, differing, failed, new, verdict))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--linux-7.3", dest="k73", type=pathlib.Path,
                    default=REPO / "build/kernel/linux-source-7.3")
    ap.add_argument("--linux-6.12", dest="k612", type=pathlib.Path,
                    default=REPO / "build/kernel/linux-source-6.12")
    ap.add_argument("--work", type=pathlib.Path, default=REPO / "build/kernel-build")
    ap.add_argument("--tree", action="append", choices=sorted(TREES))
    ap.add_argument("--arch", action="append", choices=sorted(ARCHES))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-mutation", action="store_true")
    args = ap.parse_args(argv)
    trees = args.tree or ["7.3", "6.12"]
    arches = args.arch or ["x86_64", "arm64"]
    extracted = {"7.3": args.k73, "6.12": args.k612}
    try:
        for tree in trees:
            if not (extracted[tree] / "Makefile").exists() or \
                    not (extracted[tree] / "arch/x86/Kconfig").exists():
                raise Failure(f"{extracted[tree]}: not a whole extracted Linux {tree} tree"
                              " (./setup extracts it)")
        compilers = [cross_compile(arch) + "gcc" for arch in arches]
        for tool in ("make", "gcc", *compilers, "flex", "bison", "bc"):
            if not shutil.which(tool):
                raise Failure(f"{tool} not found (./setup installs it)")
        args.work.mkdir(parents=True, exist_ok=True)
        rows, wall0 = [], time.monotonic()
        for tree in trees:
            rows += run_tree(tree, extracted[tree].resolve(), args.work.resolve(), arches,
                             args.jobs, not args.no_mutation)
    except Failure as e:
        print(f"kernel_build: {e}", file=sys.stderr)
        return 2
    bad = 0
    print(f"{'tree':5} {'arch/config':13} {'cand':>5} {'config':>6} {'unbuilt':>7} {'objects':>7}"
          f" {'identical':>9} {'differ':>6} {'failed':>6} {'new-warn':>8} {'cpu s':>6}"
          f" {'wall s':>6}")
    for b, identical, differing, failed, new, verdict in rows:
        print(f"{b.tree:5} {b.arch + '/' + b.config:13} {len(b.candidates):5} {len(b.configured):6}"
              f" {len(b.unbuilt):7} {len(b.objects):7} {identical:9} {len(differing):6}"
              f" {len(failed):6} {len(new):8} {b.cpu:6.0f} {b.wall:6.0f}")
    print("cand: sources whose #include lines reach a Hyper-V header; config: those the"
          " configuration compiles (make -n); unbuilt: of those, what build 1 (the tree's own"
          " headers) did not produce; objects: built and reading a Hyper-V header (.o.cmd)")
    for b, identical, differing, failed, new, verdict in rows:
        label = f"{b.tree} {b.arch}/{b.config}"
        if b.missing:
            print(f"{label}: options not offered: {' '.join(b.missing)}")
        print(f"{label}: built {len(b.single)} single targets and directories"
              f" {' '.join(b.dirs) or '-'}; mutation of {MUTANT}: {verdict}")
        if b.unbuilt:
            print(f"{label}: build 1 did not produce {' '.join(b.unbuilt)}")
        for line in differing:
            print(f"{label}: DIFFERS {line}")
        for line in failed:
            print(f"{label}: FAILED {line}")
        for f, m in new:
            print(f"{label}: NEW WARNING {f}: {m}")
        if not b.objects:
            print(f"{label}: FAILED no object includes a Hyper-V header")
        bad += bool(differing or failed or new or not b.objects
                    or not verdict.startswith(("caught", "not run")))
    print(f"kernel_build: {sum(len(r[0].objects) for r in rows)} objects compared in"
          f" {len(rows)} builds, {bad} failing; {time.monotonic() - wall0:.0f} s wall,"
          f" {sum(r[0].cpu for r in rows):.0f} s CPU in make")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
