"""The sides of an ABI diff: turn each `OLD` / `NEW` argument into facts documents.

A side is one of
  REV:PATH          PATH at a git revision of the repository git finds from the current
                    directory, e.g. `v0.1:spec`; then read like a directory below
  DIR               a spec (it has profiles.yaml) or a directory of headers (*.h)
  A.h[,B.h...]      a header set, read with libclang in the --headers-flavor
  A.o[,B.o...]      compiled objects, read from DWARF with pahole (arch from the ELF)
  X.facts.json[,..] facts documents (docs/facts-format.md), one per arch, or a directory
                    of them: snapshots such as tests/diff/mshv-hv-headers/REV/
and gives one `View` (facts plus what classification needs) per (profile, arch).
Profiles exist only for spec sides; other sides use the profile None.
"""

import os

from .. import facts as hvfacts
from ..errors import HvabiError
from ..extract import clang_facts, header_sets
from .plain import Plain

SPEC, HEADERS, OBJECTS, FACTS = "spec", "headers", "objects", "facts"
FACTS_SUFFIX = ".facts.json"


class View(Plain):
    """One side's ABI for one (profile, arch)."""
    __slots__ = (
        "facts",
        "reserved_flags",         # members carry the spec's `reserved` flag
        "uapi",                   # user space compiles against it: renames break builds
        "notes",                  # spec only: descriptions and provenance per name; default None
    )
    _defaults = {"notes": lambda: None}


class Side(Plain):
    __slots__ = (
        "label",                  # the argument as given, for reports
        "kind",                   # SPEC, HEADERS, OBJECTS or FACTS
        "paths",                  # the spec directory, or the header / object / facts files,
    )                             # spelled as pathlib spells them (_spelled)

    def profiles(self, flavor=None):
        """A spec side's profiles (those some product renders in `flavor`, if given)."""
        if self.kind != SPEC:
            return []
        from . import spec_side   # see _spec_views
        return spec_side.profiles(self.paths[0], flavor)


def names_revision(text):
    """Whether the argument `text` is REV:PATH (a side exported from git)."""
    return ":" in text and not os.path.exists(text)


def open_side(text, workdir):
    """The side the argument `text` names; a git side is exported into `workdir` first."""
    if names_revision(text):
        return _detect(text, [_export(text, workdir)])
    return _detect(text, [_spelled(p) for p in text.split(",") if p])


# Paths are strings here, not pathlib objects: importing pathlib costs ~3 ms of a
# `hvabi diff` of two header sets. They are spelled as str(pathlib.Path(...)) would be,
# so messages and facts name files as before.

def _spelled(path):
    """`path` as pathlib spells it: without empty or "." parts or a trailing slash."""
    root = ""
    if path.startswith("/"):
        root = "//" if path.startswith("//") and not path.startswith("///") else "/"
    parts = [p for p in path.split("/") if p and p != "."]
    return root + "/".join(parts) if root or parts else "."


def _child(directory, name):
    """pathlib's `directory / name` for a spelled `directory`."""
    if directory == ".":
        return name
    return directory + name if directory.endswith("/") else f"{directory}/{name}"


def _glob(directory, suffix):
    """sorted(pathlib.Path(directory).glob("*" + suffix)), hidden entries included."""
    try:
        names = os.listdir(directory)
    except PermissionError:
        return []
    return [_child(directory, n) for n in sorted(n for n in names if n.endswith(suffix))]


def _detect(label, paths):
    if not paths:
        raise HvabiError("an empty side", None, "give a spec or header directory, files, or REV:PATH")
    for p in paths:
        if not os.path.exists(p):
            raise HvabiError(f"{label}: {p} does not exist", None,
                             "give a spec directory, a header directory, .h or .o files,"
                             " or REV:PATH for a git revision")
    if len(paths) == 1 and os.path.isdir(paths[0]):
        if os.path.isfile(_child(paths[0], "profiles.yaml")):
            return Side(label, SPEC, paths)
        for kind, suffix in ((HEADERS, ".h"), (FACTS, FACTS_SUFFIX)):
            found = _glob(paths[0], suffix)
            if found:
                return Side(label, kind, found)
        raise HvabiError(f"{label}: {paths[0]} has no profiles.yaml, *.h or *{FACTS_SUFFIX}", None,
                         "give a spec directory, a directory of headers or one of facts documents")
    for kind, suffix in ((HEADERS, ".h"), (OBJECTS, ".o"), (FACTS, FACTS_SUFFIX)):
        if all(p.rpartition("/")[2].endswith(suffix) for p in paths):
            return Side(label, kind, paths)
    raise HvabiError(f"{label}: cannot tell what this is", None,
                     f"list only .h, only .o or only {FACTS_SUFFIX} files (comma-separated),"
                     " or give a directory")


def _git(git_dir, *args):
    """stdout of a git command, or None if it failed."""
    import subprocess
    run = subprocess.run(["git", *(["--git-dir", git_dir] if git_dir else []), *args],
                         capture_output=True)
    return None if run.returncode else run.stdout


def _export(text, workdir):
    """`git archive REV:PATH` unpacked into workdir; returns the unpacked directory.
    The repository is the one git finds from here (GIT_DIR, or the current directory,
    which may be a bare clone)."""
    rev, _, path = text.partition(":")
    if not rev:
        raise HvabiError(f"{text}: no revision before ':'", None,
                         "write REV:PATH, e.g. v0.1:spec; in CI, `git describe --tags` finds no"
                         " tag in a shallow checkout")
    git_dir = _git(None, "rev-parse", "--absolute-git-dir")
    if git_dir is None:
        raise HvabiError(f"{text}: the current directory is not inside a git repository", None,
                         "run hvabi diff from the repository, or give a directory instead")
    git_dir = git_dir.decode().strip()
    if _git(git_dir, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") is None:
        raise HvabiError(f"{text}: no revision '{rev}' in {git_dir}", None,
                         "list candidates with `git tag` or `git log --oneline`; a CI checkout"
                         " may need the tags and history (e.g. fetch-depth: 0)")
    tree = f"{rev}:{path.strip('/')}"
    data = _git(git_dir, "archive", "--format=tar", tree)
    if data is None:
        raise HvabiError(f"{text}: revision '{rev}' has no '{path}'", None,
                         f"see what it has with `git ls-tree --name-only {rev}`")
    name = _spelled(path).rpartition("/")[2]
    dest = _child(_spelled(os.fspath(workdir)), name if name not in (".", "") else "tree")
    os.makedirs(dest)
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest)      # git archive writes only paths inside the tree
    return dest


# --- reading -----------------------------------------------------------------------------

def read_views(side, arches, profiles=(), flavor="uapi"):
    """{(profile, arch): View} for the arches (and, for a spec, the profiles) asked for.
    An object side has only the arches its objects were built for."""
    if side.kind == SPEC:
        return _spec_views(side, arches, profiles)
    if side.kind == HEADERS:
        return {(None, arch): View(_headers(side, arch, flavor), False, flavor == "uapi")
                for arch in arches}
    if side.kind == FACTS:
        return _facts_views(side, arches, flavor)
    return _object_views(side, arches, flavor)


def read_ahead(side, arches, flavor="uapi"):
    """For a header side, start parsing what read_views() will read, on a second thread;
    drop_ahead() frees what it did not take."""
    if side.kind == HEADERS:
        for arch in arches:
            header_sets.read_ahead(side.paths, arch, flavor)


def drop_ahead():
    clang_facts.drop_ahead()


def _spec_views(side, arches, profiles):
    from . import spec_side   # yaml, jsonschema and jinja2 only when a side is a spec
    return {key: View(facts, True, uapi, notes) for key, (facts, uapi, notes)
            in spec_side.read(side.label, side.paths[0], arches, profiles).items()}


def _headers(side, arch, flavor):
    try:
        return header_sets.read(side.paths, arch, flavor)
    except clang_facts.ExtractError as e:
        other = "kernel" if flavor == "uapi" else "uapi"
        raise HvabiError(f"{side.label}: cannot read the headers for {arch}: {e}", None,
                         f"if these are {other}-flavor headers, pass --headers-flavor {other}")


def _object_views(side, arches, flavor):
    from ..extract import pahole_facts   # pahole only for objects
    by_arch = {}
    try:
        for obj in side.paths:
            by_arch.setdefault(pahole_facts.object_arch(obj), []).append(obj)
        views = {}
        for arch in arches:
            if arch in by_arch:
                docs = [pahole_facts.read_facts(obj, None, arch) for obj in by_arch[arch]]
                for other in docs[1:]:
                    docs[0]["records"].update(other["records"])
                views[(None, arch)] = View(docs[0], False, flavor == "uapi")
    except pahole_facts.PaholeError as e:
        raise HvabiError(f"{side.label}: {e}", None, "objects need DWARF: compile with -g")
    return views


def _facts_views(side, arches, flavor):
    docs = {}
    for path in side.paths:
        try:
            doc = hvfacts.load(path)
        except (OSError, ValueError) as e:
            raise HvabiError(f"{side.label}: cannot read {path}: {e}", None,
                             f"give {hvfacts.FORMAT} documents (docs/facts-format.md)")
        if doc.get("arch") in docs:
            raise HvabiError(f"{side.label}: two documents for {doc['arch']}", None,
                             "give one facts document per arch")
        docs[doc.get("arch")] = doc
    return {(None, arch): View(docs[arch], _has_reserved_flags(docs[arch]), flavor == "uapi")
            for arch in arches if arch in docs}


def _has_reserved_flags(doc):
    """Only the spec's layout engine writes reserved flags, and then on every reserved
    member; in a document without any, names must decide."""
    return any("reserved" in m for rec in doc["records"].values() for m in rec["members"])
