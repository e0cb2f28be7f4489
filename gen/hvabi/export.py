"""`hvabi export TARGET TREE`: the generated headers written into a real source tree.

  linux TREE      a Linux tree: Linux 6.14 or later (it has include/hyperv/) gets the
                  hdk-kernel product as include/hyperv/*.h; Linux 6.13 or earlier (it has
                  include/asm-generic/hyperv-tlfs.h) gets the tlfs product, the
                  hyperv-tlfs.h trio. The version is read from the top Makefile.
  rust-vmm TREE   a rust-vmm/mshv checkout (Cargo.toml naming mshv-bindings, hv-headers/):
                  the hdk-uapi product as hv-headers/*.h.

The exported text is the generated header without its `hvabi-stamp` line: a stamp changes
with every edit, so a one-definition spec change would touch the file twice. What hvabi
wrote is recorded instead in TREE/.hvabi_export.json (a hash per file, as a stamp holds);
Linux's .gitignore ignores it (`.*`). Before replacing a file, export asks:

  - recorded and the file still hashes to the record: hvabi's own text, replaced;
  - recorded and it does not: edited by hand since hvabi exported it, refused;
  - not recorded (hvabi never exported it here): upstream's file, replaced, unless git
    says it differs from the tree's HEAD (or is untracked): an uncommitted edit, refused.

A refusal writes nothing (gen/hvabi/output.py: one transaction, the record included);
`--force` overwrites. No path outside TREE is written: the paths are fixed and every
directory on the way must resolve inside TREE (a symlink out of it is refused).

`--commit` makes one git commit of the exported files (and nothing else) with a
kernel-style message: subject `hyperv: ...` (`hv-headers: ...` for rust-vmm, as that
repository's history spells it), a body with the ABI change the differ finds between the
files at the tree's HEAD and the new ones (both read as header sets, kernel or uapi
flavor), no Signed-off-by: `git commit -s --amend` or `git format-patch -s` adds it.
"""

import json
import pathlib
import re
import subprocess
import tempfile
import textwrap

from . import output
from .emit import stamp
from .emit.products import render_all
from .errors import HvabiError
from .identity import IdentityMemo, kept_on

STATE = ".hvabi_export.json"     # not .hvabi-*: output.remove_strays deletes those
STATE_FORMAT = "hvabi-export/1"
TARGETS = ("linux", "rust-vmm")
SUBJECT_MAX = 75
BODY_WIDTH = 72
BODY_FINDINGS = 25               # findings listed in a commit body; the rest are counted
HDK_SINCE = (6, 14)              # Linux 6.14 replaced the hyperv-tlfs.h trio by include/hyperv/


class Layout:
    """What a tree is and what export writes into it."""

    def __init__(self, target, what, product, flavor, files, prefix, tlfs=False):
        self.target = target
        self.what = what          # e.g. "Linux 7.3 (include/hyperv/)"
        self.product = product    # the spec/products.yaml product exported
        self.flavor = flavor      # how the differ reads the headers: kernel or uapi
        self.files = files        # {product header path: tree path}
        self.prefix = prefix      # commit subject prefix
        self.tlfs = tlfs          # the hyperv-tlfs.h trio (read per arch as a trio)


def _bad_tree(tree, why, hint):
    return HvabiError(f"{tree}: {why}", None, hint)


def linux_version(tree):
    """(VERSION, PATCHLEVEL) from the top Makefile of a Linux tree, or None."""
    try:
        head = (pathlib.Path(tree) / "Makefile").read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return None
    found = [re.search(rf"^{key}\s*=\s*(\d+)\s*$", head, re.M) for key in ("VERSION", "PATCHLEVEL")]
    return tuple(int(m.group(1)) for m in found) if all(found) else None


def detect(target, tree, products):
    tree = pathlib.Path(tree)
    if not tree.is_dir():
        raise _bad_tree(tree, "no such directory", f"give the top directory of a {target} checkout")
    by_name = {p.name: p for p in products}
    if target == "linux":
        return _linux(tree, by_name)
    return _rust_vmm(tree, by_name)


def _paths(product, rename=lambda path: path):
    return {h.path: rename(h.path) for h in product.headers}


def _linux(tree, products):
    hint = ("hvabi export linux writes include/hyperv/ into Linux 6.14 or later and the"
            " hyperv-tlfs.h trio into Linux 6.13 or earlier; give the top of a Linux source tree")
    version = linux_version(tree)
    if version is None:
        raise _bad_tree(tree, "not the top of a Linux tree (no Makefile with VERSION and"
                        " PATCHLEVEL)", hint)
    shown = "%d.%d" % version
    if version >= HDK_SINCE:
        if not (tree / "include/hyperv").is_dir():
            raise _bad_tree(tree, f"Linux {shown} without include/hyperv/: a layout hvabi does"
                            " not know", hint)
        product = products["hdk-kernel"]
        return Layout("linux", f"Linux {shown} (include/hyperv/)", product, "kernel",
                      _paths(product), "hyperv")
    if not (tree / "include/asm-generic/hyperv-tlfs.h").is_file():
        raise _bad_tree(tree, f"Linux {shown} without include/asm-generic/hyperv-tlfs.h: a"
                        " layout hvabi does not know", hint)
    product = products["tlfs"]
    return Layout("linux", f"Linux {shown} (the hyperv-tlfs.h trio)", product, "kernel",
                  _paths(product), "hyperv", tlfs=True)


def _rust_vmm(tree, products):
    try:
        cargo = (tree / "Cargo.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cargo = ""
    if "mshv-bindings" not in cargo or not (tree / "hv-headers").is_dir() \
            or not (tree / "mshv-bindings").is_dir():
        raise _bad_tree(tree, "not a rust-vmm/mshv checkout (want Cargo.toml naming"
                        " mshv-bindings, mshv-bindings/ and hv-headers/)",
                        "give the top of a clone of https://github.com/rust-vmm/mshv")
    product = products["hdk-uapi"]
    return Layout("rust-vmm", "rust-vmm/mshv (hv-headers/)", product, "uapi",
                  _paths(product, lambda p: "hv-headers/" + p.rpartition("/")[2]), "hv-headers")


def texts(spec, layout):
    """{tree path: exported text} of the layout's product. Rendered once per loaded spec
    and product: a process exporting into several trees (the tests) renders each once."""
    cache = kept_on(spec, "_exported", IdentityMemo)
    rendered = cache.get(layout.product)
    if rendered is None:
        rendered = cache[layout.product] = render_all(spec, [layout.product])
    return {tree_rel: stamp.remove(rendered[f"{layout.product.root}/{rel}"])
            for rel, tree_rel in layout.files.items()}


# --- what hvabi wrote before ---------------------------------------------------------------

def read_state(tree):
    path = pathlib.Path(tree) / STATE
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != STATE_FORMAT or not isinstance(doc.get("files"), dict):
            raise ValueError(f"not a {STATE_FORMAT} document")
        return {str(k): str(v) for k, v in doc["files"].items()}
    except (ValueError, UnicodeDecodeError, AttributeError) as e:
        raise HvabiError(f"unreadable record of what hvabi exported: {e}", str(path),
                         "remove it (then every file counts as upstream's) or run with --force")


def state_text(target, files):
    return json.dumps({"format": STATE_FORMAT, "target": target,
                       "files": {rel: stamp.digest(text) for rel, text in sorted(files.items())}},
                      indent=1) + "\n"


def _git(tree, *args, check=False):
    run = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
    if check and run.returncode:
        raise HvabiError(f"git {' '.join(args[:2])} in {tree} failed: {run.stderr.strip()}")
    return run


def git_prefix(tree):
    """TREE's path inside its git work tree ("" at the top), or None if not in one."""
    run = _git(tree, "rev-parse", "--show-prefix")
    return run.stdout.strip() if run.returncode == 0 else None


def uncommitted(tree, rels):
    """The paths among `rels` git reports as modified, added or untracked in TREE."""
    prefix = git_prefix(tree)
    if prefix is None:
        return set()
    run = _git(tree, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *rels,
               check=True)
    found = set()
    for entry in run.stdout.split("\0"):
        path = entry[3:]
        if path.startswith(prefix):
            found.add(path[len(prefix):])
    return found & set(rels)


def judge(tree, recorded, rels):
    """The output.write judge: why a file export would replace is not its to replace."""
    edited_upstream = uncommitted(tree, rels)

    def why(rel, text):
        if rel == STATE:
            return None
        if rel in recorded:
            if text is not None and stamp.digest(text) == recorded[rel]:
                return None
            return "changed since hvabi exported it (edited by hand, or replaced by git)"
        if rel in edited_upstream:
            return ("hvabi never exported this file and git says it differs from the tree's"
                    " HEAD: an uncommitted edit")
        return None
    return why


def check_inside(tree, rels):
    """Refuse a path whose directories lead out of TREE (a symlink)."""
    top = pathlib.Path(tree).resolve()
    for rel in rels:
        parent = (pathlib.Path(tree) / rel).parent
        while not parent.exists():
            parent = parent.parent
        resolved = parent.resolve()
        if resolved != top and top not in resolved.parents:
            raise HvabiError(f"{pathlib.Path(tree) / rel}: its directory leads outside the tree"
                             f" (to {resolved})", None,
                             "export writes only inside TREE; replace the symlink by a directory")


# --- the commit message --------------------------------------------------------------------

def head_texts(tree, rels):
    """{rel: text at the tree's HEAD} of those `rels` HEAD has."""
    prefix = git_prefix(tree) or ""
    if _git(tree, "rev-parse", "--verify", "--quiet", "HEAD").returncode:
        return {}
    out = {}
    for rel in rels:
        run = _git(tree, "show", f"HEAD:{prefix}{rel}")
        if run.returncode == 0:
            out[rel] = run.stdout
    return out


def _facts(root, layout, present, arch):
    from .extract import header_sets
    if layout.tlfs:
        return header_sets.tlfs_facts(root, arch)
    headers = sorted(str(pathlib.Path(root) / rel) for rel in present)
    return header_sets.read(headers, arch, layout.flavor)


def abi_diff(layout, old, new):
    """The differ's Result between two {rel: text} header sets (None if `old` is empty)."""
    from .diff import classify
    from .diff.compare import Result
    from .extract.clang_facts import ExtractError, TRIPLES
    if not old or (layout.tlfs and not all(rel in old for rel in new)):
        return None
    result = Result("HEAD", "export", [])
    per_arch = []
    with tempfile.TemporaryDirectory(prefix="hvabi-export-") as tmp:
        sides = []
        for name, files in (("old", old), ("new", new)):
            root = pathlib.Path(tmp, name)
            for rel, text in files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text, encoding="utf-8")
            sides.append((root, files))
        for arch in TRIPLES:
            try:
                o, n = (_facts(root, layout, files, arch) for root, files in sides)
            except ExtractError as e:
                raise HvabiError(f"cannot read the headers for {arch} to describe the change: {e}",
                                 None, "nothing was written; fix the tree's headers or export"
                                 " without --commit")
            result.compared.append(arch)
            per_arch.append((arch, classify.classify(o, n, old_flags=False, new_flags=False,
                                                     uapi=layout.flavor == "uapi")))
    result.findings = classify.merge(per_arch)
    return result


def _name(f):
    return f.definition if f.category in ("macro", "enumerator") else f"{f.category} {f.definition}"


def subject(layout, result, changed_rels):
    """`hyperv: ...` in at most 75 characters."""
    head = f"{layout.prefix}: "
    where = "the hyperv-tlfs.h headers" if layout.tlfs else "the Hyper-V headers"
    if result is None:
        text = f"Add {where} generated by hvabi"
    elif not result.findings:
        text = f"Update {where} (no ABI change)"
    else:
        defs = {}
        for f in result.findings:
            defs.setdefault(_name(f), set()).add(f.kind)
        if len(defs) == 1:
            (name, kinds), = defs.items()
            verb = ("Add" if kinds == {"definition-added"} else
                    "Remove" if kinds == {"definition-removed"} else "Update")
            text = f"{verb} {name}"
        else:
            added = sum(1 for k in defs.values() if k == {"definition-added"})
            removed = sum(1 for k in defs.values() if k == {"definition-removed"})
            counts = [f"{n} {w}" for n, w in ((added, "added"), (len(defs) - added - removed,
                                                               "changed"), (removed, "removed")) if n]
            text = f"Update {where}: {', '.join(counts)}"
    text = head + text
    return text if len(text) <= SUBJECT_MAX else text[:SUBJECT_MAX - 3].rstrip() + "..."


def spec_revision(spec_dir):
    """`abc1234` (`abc1234-dirty` if the spec has uncommitted changes) of the git checkout
    the spec is in, or None."""
    run = _git(spec_dir, "rev-parse", "--short=12", "HEAD")
    if run.returncode:
        return None
    dirty = _git(spec_dir, "status", "--porcelain", "--", ".").stdout.strip()
    return run.stdout.strip() + ("-dirty" if dirty else "")


def _wrap(text, indent="", hang=""):
    return textwrap.wrap(text, BODY_WIDTH, initial_indent=indent,
                         subsequent_indent=indent + hang, break_long_words=False,
                         break_on_hyphens=False) or [indent]


def _files(rels):
    """`include/hyperv/` if `rels` are all in one directory, else their list."""
    dirs = {rel.rpartition("/")[0] for rel in rels}
    return f"{dirs.pop()}/" if len(dirs) == 1 and len(rels) > 2 else ", ".join(sorted(rels))


def message(layout, result, changed_rels, revision):
    """The commit message: subject, blank line, body; no Signed-off-by."""
    from .diff import report
    source = "the hvabi spec" + (f" (revision {revision})" if revision else "")
    read = f"read as {layout.flavor}-flavor headers for {' and '.join(result.compared)}" \
        if result else ""
    if result is None:
        lines = _wrap(f"Add {_files(changed_rels)}, generated by hvabi export from {source}.")
    elif not result.findings:
        lines = _wrap(f"Regenerate {_files(changed_rels)} with hvabi export from {source}.")
        lines += [""] + _wrap(f"The ABI does not change: hvabi diff finds no difference between"
                              f" the previous and the new headers ({read}). Only the text"
                              " changes: spelling, comments and order.")
    else:
        lines = _wrap(f"Regenerate {_files(changed_rels)} with hvabi export from {source}.")
        c = report.counts(result)
        lines += [""] + _wrap(f"ABI changes as hvabi diff finds them between the previous and"
                              f" the new headers ({read}): {c['breaking']} breaking,"
                              f" {c['review']} review, {c['compatible']} compatible.")
        listed = 0
        for heading, findings in report._groups(result.findings):
            if listed >= BODY_FINDINGS:
                break
            lines += ["", heading]
            for f in findings[:BODY_FINDINGS - listed]:
                only = report._where(f, result.compared)
                lines += _wrap(f"{f.severity} {f.kind}: {f.detail}" + (f" [{only}]" if only else ""),
                               "  ", "  ")
                listed += 1
        if listed < len(result.findings):
            lines += [""] + _wrap(f"... and {len(result.findings) - listed} more: run hvabi diff"
                                  f" --headers-flavor {layout.flavor} on the two header sets"
                                  " for the full list.")
    return subject(layout, result, changed_rels) + "\n\n" + "\n".join(lines) + "\n"


def commit(tree, rels, text):
    """One commit of `rels` only, with the user's git identity."""
    _git(tree, "add", "--", *rels, check=True)
    run = subprocess.run(["git", "-C", str(tree), "commit", "--quiet", "-F", "-", "--", *rels],
                         input=text, capture_output=True, text=True)
    if run.returncode:
        raise HvabiError(f"git commit in {tree} failed: {run.stderr.strip() or run.stdout.strip()}",
                         None, "the headers are written; commit them yourself (`git -C TREE"
                         " commit`), e.g. after setting user.name and user.email")
    return _git(tree, "rev-parse", "--short=12", "HEAD", check=True).stdout.strip()


# --- the command ---------------------------------------------------------------------------

def run(spec, products, spec_dir, target, tree, force=False, do_commit=False, quiet=False,
        log=print):
    tree = pathlib.Path(tree)
    layout = detect(target, tree, products)
    if do_commit and git_prefix(tree) is None:
        raise _bad_tree(tree, "--commit needs a git work tree", "run `git init` there, or"
                        " export without --commit")
    note = output.recover(tree)
    if note:
        log(f"hvabi: {tree}: {note}")
    new = texts(spec, layout)
    rels = sorted(new)
    check_inside(tree, rels + [STATE])
    try:
        recorded = read_state(tree)
    except HvabiError:
        if not force:
            raise
        recorded = {}                       # --force: the record is rewritten below
    message_text = None
    if do_commit:
        old = head_texts(tree, rels)
        changed_rels = [rel for rel in rels if old.get(rel) != new[rel]]
        if changed_rels:
            result = abi_diff(layout, old, new)
            message_text = message(layout, result, changed_rels, spec_revision(spec_dir))
    changed = [rel for rel in rels if not output.unchanged(tree / rel, new[rel])]
    files = dict(new)
    files[STATE] = state_text(target, new)
    output.write(tree, files, force=force, judge=judge(tree, recorded, rels),
                 hint=f"keep the edit (`git diff`, `git stash`) and put the change into spec/,"
                 f" or run `hvabi export {target} --force` to overwrite it; a tree switched to"
                 f" other headers since the last export needs --force too")
    if not quiet:
        log(f"hvabi: {layout.what}: {len(rels)} headers under {tree}, {len(changed)} changed")
    if do_commit:
        if message_text is None:
            log(f"hvabi: nothing to commit: {tree}'s HEAD has these headers already")
        else:
            rev = commit(tree, rels, message_text)
            log(f"hvabi: committed {rev} in {tree}: {message_text.splitlines()[0]}")
    return 0

