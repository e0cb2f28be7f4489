"""hvabi command line: one entry point, subcommands.

Exit status: 0 success, 1 a check failed, 2 bad input or usage (with file:line and a hint,
never a traceback).
"""

import argparse
import os
import sys

from . import errors
from .diff import compare, report, sources
from .diff.classify import BREAKING, REVIEW
from .errors import HvabiError
from .extract.clang_facts import TRIPLES
from .extract.header_sets import FLAVORS

# `hvabi diff` of two header sets runs per pull request: its path imports neither the
# model (nor dataclasses), nor pathlib, tempfile, difflib or the spec machinery unless
# needed.
ARCHES = tuple(TRIPLES)   # the arches libclang reads; equal to model.ARCHES (tests/diff/test_cli.py)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))


def load(spec_dir):
    # The spec and emit machinery (yaml, jsonschema, jinja2) is imported by the commands
    # that use it: `hvabi diff` of two header sets runs per pull request and stays lean.
    from .emit.products import header_defs, load_products
    from .spec.checks import check_spec
    from .spec.loader import load_spec
    import pathlib
    spec_dir = pathlib.Path(spec_dir)
    spec = load_spec(spec_dir, spec_dir.resolve().parent)
    products = load_products(spec_dir / "products.yaml", spec)
    check_spec(spec, products, header_defs)
    return spec, products


def render_everything(spec_dir):
    """{relative path: text} of every generated file (headers and layout tests)."""
    from .emit import layouttests
    from .emit.products import render_all
    spec, products = load(spec_dir)
    files = render_all(spec, products)
    files.update(layouttests.render_all(spec, products))
    return files


def write_atomically(out_dir, files):
    """Write every file to a temporary name first, then rename them all: an error while
    writing leaves the previous outputs in place."""
    import pathlib
    out_dir = pathlib.Path(out_dir)
    staged = []
    try:
        for rel, text in sorted(files.items()):
            target = out_dir / rel
            if target.is_file() and target.read_text(encoding="utf-8") == text:
                continue            # unchanged: keep the mtime so builds stay incremental
            target.parent.mkdir(parents=True, exist_ok=True)
            import tempfile
            fd, tmp = tempfile.mkstemp(prefix=".hvabi-", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            staged.append((tmp, target))
    except OSError as e:
        for tmp, _ in staged:
            os.unlink(tmp)
        raise HvabiError(f"cannot write outputs: {e}", None, "nothing was changed")
    for tmp, target in staged:
        os.replace(tmp, target)
    return len(staged)


def cmd_generate(args):
    files = render_everything(args.spec)
    changed = write_atomically(args.out, files)
    if not args.quiet:
        print(f"hvabi: {len(files)} files under {args.out}, {changed} changed")
    return errors.EXIT_OK


def cmd_check(args):
    """Regenerate in memory and compare with what is on disk (committed outputs)."""
    files = render_everything(args.spec)
    import pathlib
    out = pathlib.Path(args.out)
    stale = []
    for rel, text in sorted(files.items()):
        path = out / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(rel)
            if args.diff and current is not None:
                import difflib
                sys.stdout.writelines(difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), f"a/{rel}", f"b/{rel}"))
    for rel in stale:
        print(f"hvabi: out of date: {rel}")
    if stale:
        print(f"hvabi: {len(stale)} of {len(files)} generated files differ from the spec;"
              " run `hvabi generate` and commit the result")
        return errors.EXIT_CHECK_FAILED
    if not args.quiet:
        print(f"hvabi: {len(files)} generated files are up to date")
    return errors.EXIT_OK


def cmd_validate(args):
    load(args.spec)
    if not args.quiet:
        print("hvabi: spec is valid")
    return errors.EXIT_OK


def cmd_coverage(args):
    """How much of each upstream header set the spec covers, and how much of it differs."""
    from .coverage import documentation_report, report
    if args.openvmm and not args.tlfs_inventory:
        raise HvabiError("--openvmm needs --tlfs-inventory", None,
                         "hvabi coverage --tlfs-inventory tests/reference/tlfs-inventory.json"
                         " --openvmm tests/reference/openvmm-hvdef.json")
    spec, _ = load(args.spec)
    if args.tlfs_inventory:
        lines, missing, wrong_links = documentation_report(spec, args.tlfs_inventory, args.openvmm,
                                                           args.verbose)
        print("\n".join(lines))
        failed = (wrong_links and args.strict) or (missing and args.complete)
        return errors.EXIT_CHECK_FAILED if failed else errors.EXIT_OK
    lines, mismatches, missing = report(spec, args.tlfs_src, args.verbose)
    print("\n".join(lines))
    failed = (mismatches and args.strict) or (missing and args.complete)
    return errors.EXIT_CHECK_FAILED if failed else errors.EXIT_OK


def cmd_diff(args):
    """Classify every ABI change between releases; exit 1 on a breaking one."""
    arches = ARCHES if args.arch == "both" else (args.arch,)
    rules = []
    if args.suppress:
        from .diff import suppress
        rules = suppress.load(args.suppress)
    texts = [args.old, args.new, *args.newer]
    with _Scratch(any(map(sources.names_revision, texts))) as tmp:
        sides = [sources.open_side(text, os.path.join(tmp, f"side{i}") if tmp else None)
                 for i, text in enumerate(texts)]
        profiles = compare.choose_profiles(sides, args.profile, args.headers_flavor)
        results = compare.compare(sides, arches, profiles, args.headers_flavor)
    findings = [f for result in results for f in result.findings]
    for rule in suppress.apply(rules, findings) if rules else ():
        print(f"{rule.where}: note: suppression matched nothing", file=sys.stderr)
    sys.stdout.write(report.render(results, args.format))
    failing = {BREAKING, REVIEW} if args.strict else {BREAKING}
    if any(f.severity in failing and not f.suppressed for f in findings):
        return errors.EXIT_CHECK_FAILED
    return errors.EXIT_OK


class _Scratch:
    """A temporary directory for the git sides of a diff, made only if there are any."""

    def __init__(self, needed):
        self._dir = None
        if needed:
            import tempfile
            self._dir = tempfile.TemporaryDirectory(prefix="hvabi-diff-")

    def __enter__(self):
        return self._dir.name if self._dir else None

    def __exit__(self, *exc):
        if self._dir:
            self._dir.cleanup()


class _ModelChoices:
    """argparse choices read from hvabi.model when first needed, so that parsing a
    command line does not import the model (and dataclasses, ~15 ms)."""

    def __init__(self, name):
        self._name = name

    def _values(self):
        from . import model
        return getattr(model, self._name)

    def __contains__(self, value):
        return value in self._values()

    def __iter__(self):
        return iter(self._values())


def cmd_import(args):
    """Headers -> spec YAML; with --check, prove the result lays out like the headers."""
    from .importer import run, verify
    if args.profile and not args.profile.replace("-", "_").isidentifier():
        raise HvabiError(f"bad profile name {args.profile!r}", None, "use a name like linux or rust-vmm")
    if args.recipe:
        return _import_recipe(args)
    if not args.headers:
        raise HvabiError("no headers to import", None, "give HEADER arguments or --recipe FILE")
    sources = [run.parse_source(h) for h in args.headers]
    imported = run.import_headers(sources, args.flavor, args.include_dirs, args.view, args.profile)
    return _finish_import(args, imported.files, imported.skips, "",
                          lambda: verify.verify(imported, args.view, args.profile))


def _import_recipe(args):
    """--recipe: several profiles' headers merged into one spec (importer/recipe.py)."""
    from .importer import recipe, verify
    from .spec.loader import load_spec
    if args.headers:
        raise HvabiError("give either HEADER arguments or --recipe, not both", None,
                         "the recipe lists the headers of every profile")
    old = load_spec(args.docs_from) if args.docs_from else None
    result = recipe.import_recipe(args.recipe, args.spec, old, args.reserved_by_name)
    sets = [(s.profile, s.view, s.readings, s.sources) for s in result.sets]
    return _finish_import(args, result.files, result.skips, f" from {len(result.sets)} profiles",
                          lambda: verify.verify_sets(result.files, result.profiles_yaml, sets))


def _finish_import(args, files, skips, what, check):
    """Write or print the files, report what was not imported, run `check` on --check."""
    from .importer import c_reader
    if args.out:
        write_atomically(args.out, files)
    else:
        for name, text in files.items():
            sys.stdout.write(f"# ---- {name}\n{text}")
    not_abi = [s for s in skips if s.why in c_reader.NOT_ABI]
    for skip in skips:
        if skip not in not_abi:
            print(f"{skip.pos}: warning: {skip.name} not imported: {skip.why}", file=sys.stderr)
    if not args.quiet:
        print(f"hvabi: {len(files)} spec files{what}; {len(skips) - len(not_abi)} definitions"
              f" not imported, {len(not_abi)} macros that are not integer constants", file=sys.stderr)
    if not args.check:
        return errors.EXIT_OK
    try:
        results = check()
    except errors.SpecErrors as e:
        print(f"{e}\nhvabi: the imported files do not load as a spec (positions are in the files"
              " --out writes)", file=sys.stderr)
        return errors.EXIT_CHECK_FAILED
    failed = False
    for result in results:
        for line in result.problems:
            print(line, file=sys.stderr)
        print(f"hvabi: {result.arch}: {result.matched} definitions lay out as the compiler says,"
              f" {result.differ} differ, {result.failed} cannot be laid out", file=sys.stderr)
        failed = failed or bool(result.problems)
    return errors.EXIT_CHECK_FAILED if failed else errors.EXIT_OK


COMMANDS = ("generate", "check", "validate", "coverage", "diff", "import")


def parser(only=None):
    """The command line parser; with `only`, holding that subcommand alone (building all
    six costs ~4 ms of a `hvabi diff`)."""
    p = argparse.ArgumentParser(prog="hvabi", description=__doc__.splitlines()[0],
                                epilog="Exit status: 0 ok, 1 check failed, 2 bad input or usage.")
    p.add_argument("--spec", default=os.path.join(REPO, "spec"), help="spec directory (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true")
    # -q is accepted after the subcommand too (`hvabi generate -q`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in (only,) if only else COMMANDS:
        _SUBCOMMANDS[name](sub, common)
    return p


def _command_named(argv):
    """The subcommand `argv` names, or None (then every one is built, for help and errors)."""
    args = iter(argv)
    for arg in args:
        if arg == "--spec":
            next(args, None)
        elif arg in COMMANDS:
            return arg
        elif not arg.startswith("-"):
            return None
    return None


def _generate_parser(sub, common):
    g = sub.add_parser("generate", parents=[common], help="write every generated header and layout test")
    g.add_argument("--out", default=REPO, help="output root (default: the repository)")
    g.set_defaults(func=cmd_generate)


def _check_parser(sub, common):
    c = sub.add_parser("check", parents=[common], help="fail if the committed outputs differ from the spec")
    c.add_argument("--out", default=REPO, help="tree to compare (default: the repository)")
    c.add_argument("--diff", action="store_true", help="print a unified diff of stale files")
    c.set_defaults(func=cmd_check)


def _validate_parser(sub, common):
    v = sub.add_parser("validate", parents=[common], help="load and check the spec only")
    v.set_defaults(func=cmd_validate)


def _coverage_parser(sub, common):
    cov = sub.add_parser("coverage", parents=[common], help="coverage of the upstream header sets",
                         description="Per upstream set and arch: definitions the spec covers /"
                         " total, and how many covered ones differ (see gen/hvabi/coverage.py).")
    cov.add_argument("--tlfs-src", help="a linux-source-6.12 tree holding the hyperv-tlfs.h trio"
                     " (./setup extracts one to build/kernel/linux-source-6.12)")
    cov.add_argument("--tlfs-inventory", metavar="FILE",
                     help="instead: what the TLFS documents (a facts file made by"
                     " tests/reference/tlfs_inventory.py) vs the spec, and a check of the spec's"
                     " `tlfs:` links")
    cov.add_argument("--openvmm", metavar="FILE",
                     help="with --tlfs-inventory: also openvmm hvdef's hypercalls and registers"
                     " (tests/reference/openvmm-hvdef.json)")
    cov.add_argument("-v", "--verbose", action="store_true",
                     help="list every mismatch (with --tlfs-inventory: every missing name and wrong link)")
    cov.add_argument("--strict", action="store_true", help="exit 1 if any covered definition differs"
                     " (with --tlfs-inventory: if any `tlfs:` link is wrong)")
    cov.add_argument("--complete", action="store_true",
                     help="exit 1 if the spec lacks any upstream (or documented) definition")
    cov.set_defaults(func=cmd_coverage)


def _diff_parser(sub, common):
    d = sub.add_parser("diff", parents=[common], help="classify the ABI changes between releases",
                       description="OLD, NEW and NEWER are each a spec directory, REV:PATH (a git"
                       " revision, e.g. v0.1:spec), a directory of headers, or comma-separated .h,"
                       " .o or .facts.json files. See docs/abi-diff.md.",
                       epilog="Exit status: 0 no breaking change, 1 breaking (or review with --strict),"
                       " 2 bad input or usage.")
    d.add_argument("old", metavar="OLD")
    d.add_argument("new", metavar="NEW")
    d.add_argument("newer", metavar="NEWER", nargs="*",
                   help="later releases, each compared with the one before; every side is read once")
    d.add_argument("--arch", choices=[*ARCHES, "both"], default="both")
    d.add_argument("--format", choices=report.FORMATS, default="text")
    d.add_argument("--strict", action="store_true", help="exit 1 on review findings too")
    d.add_argument("--suppress", metavar="FILE", help="accepted changes (docs/abi-diff.md)")
    d.add_argument("--profile", action="append", default=[],
                   help="spec profile to compare (repeatable; default: see docs/abi-diff.md)")
    d.add_argument("--headers-flavor", choices=FLAVORS, default="uapi",
                   help="how to compile header sides (default: %(default)s)")
    d.set_defaults(func=cmd_diff)


def _import_parser(sub, common):
    i = sub.add_parser("import", parents=[common], help="read C headers into spec YAML",
                       description="Read HEADERs with libclang for x86_64 and arm64, merge the two"
                       " readings and write one spec file per header id (hvgdk_mini.yaml, ...)."
                       " Expressions are kept as written; descriptions are placeholders marked"
                       " `# TODO: describe`. See docs/import.md.",
                       epilog="Exit status: 0 ok, 1 --check found a difference, 2 bad input or usage.")
    i.add_argument("headers", nargs="*", metavar="HEADER",
                   help="a header file, or ARCH:FILE to read it on that arch only (x86_64:..., arm64:...);"
                   " compiled in the order given")
    i.add_argument("--flavor", choices=FLAVORS, default="kernel",
                   help="C flavor of the headers (default: %(default)s)")
    # With a metavar, argparse does not iterate the choices (importing the model) up front.
    i.add_argument("--view", choices=_ModelChoices("VIEWS"), metavar="VIEW",
                   help="write `view: V` in every file (%(choices)s); also the header placement key")
    i.add_argument("--profile", help="write `profile: P` in every file")
    i.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="include directory (repeatable)")
    i.add_argument("--out", metavar="DIR", help="write the spec files into DIR (default: print them)")
    i.add_argument("--check", action="store_true",
                   help="load the result and compare every definition's layout and values with the"
                   " compiler's; exit 1 on a difference")
    i.add_argument("--recipe", metavar="FILE",
                   help="read the header sets of several profiles (a YAML recipe) and merge them"
                   " into one spec (docs/import.md)")
    i.add_argument("--docs-from", metavar="DIR",
                   help="with --recipe: carry descriptions, reserved marks and TLFS pages over"
                   " from this spec")
    i.add_argument("--reserved-by-name", action="store_true",
                   help="with --recipe: mark members named reserved*/rsvd*/pad* reserved unless"
                   " --docs-from says otherwise")
    i.set_defaults(func=cmd_import)


_SUBCOMMANDS = {"generate": _generate_parser, "check": _check_parser,
                "validate": _validate_parser, "coverage": _coverage_parser,
                "diff": _diff_parser, "import": _import_parser}


def main(argv=None):
    own_process = argv is None
    argv = sys.argv[1:] if own_process else argv
    args = parser(_command_named(argv)).parse_args(argv)      # argparse exits 2 on usage errors
    try:
        status = args.func(args)
    except HvabiError as e:
        print(str(e), file=sys.stderr)
        status = errors.EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return errors.EXIT_BAD_INPUT
    if own_process and args.command == "diff":
        _exit_now(status)
    return status


def _exit_now(status):
    """End the program without the interpreter's teardown, which with libclang (LLVM)
    loaded takes ~5 ms of a ~100 ms `hvabi diff`. Everything is written by now (the
    scratch directory is gone, stdout and stderr are flushed here)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
