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


# A process that runs several commands on one spec (tests run hvabi in-process) loads,
# checks and renders it once. The key is every byte `load` reads and the path as given
# (error positions and source markers spell it); the generator's own code and templates
# cannot change within a process. A spec's errors are kept too (the bad-spec corpus runs
# validate and generate on each); at most a few specs.
_LOADED = {}
_RENDERED = {}
_KEEP = 4


def _spec_key(spec_dir):
    import hashlib
    import pathlib
    spec_dir = pathlib.Path(spec_dir)
    digest = hashlib.sha256()
    for path in [spec_dir / "profiles.yaml", spec_dir / "products.yaml",
                 *sorted((spec_dir / "defs").glob("*.yaml")),
                 *sorted((spec_dir / "order").glob("*.yaml"))]:     # headers' order files
        try:
            data = path.read_bytes()
        except OSError:
            return None             # load reports it
        digest.update(str(path).encode() + b"\0" + len(data).to_bytes(8, "little") + data)
    return str(spec_dir), str(spec_dir.resolve()), digest.digest()


def _memo(table, key, make):
    if key is not None and key in table:
        value, error = table[key]
    else:
        try:
            value, error = make(), None
        except HvabiError as e:
            value, error = None, e
        if key is not None:
            if len(table) >= _KEEP:
                table.pop(next(iter(table)))
            table[key] = value, error
    if error is not None:
        # raised anew each time; the error this frame names would make a cycle with the
        # traceback the raise gives it (error -> traceback -> this frame -> error), which
        # keeps the frames of a memoized error alive until a full collection
        try:
            raise error.with_traceback(None)
        finally:
            error = None
    return value


def load(spec_dir):
    """(spec, products) of `spec_dir`, loaded and checked; once per process and spec."""
    return _memo(_LOADED, _spec_key(spec_dir), lambda: _load(spec_dir))


def _load(spec_dir):
    # The spec and emit machinery (yaml, jsonschema, jinja2) is imported by the commands
    # that use it: `hvabi diff` of two header sets runs per pull request and stays lean.
    from .emit.products import header_defs, load_products
    from .gcpause import paused
    from .spec.checks import check_spec
    from .spec.loader import load_spec
    import pathlib
    spec_dir = pathlib.Path(spec_dir)
    with paused():
        spec = load_spec(spec_dir, spec_dir.resolve().parent)
        products = load_products(spec_dir / "products.yaml", spec)
        check_spec(spec, products, header_defs)
    return spec, products


def render_everything(spec_dir):
    """{relative path: text} of every generated file (headers and layout tests)."""
    return dict(_memo(_RENDERED, _spec_key(spec_dir), lambda: _render_everything(spec_dir)))


def _render_everything(spec_dir):
    from .emit import layouttests
    from .emit.products import render_all
    from .gcpause import paused
    with paused():
        spec, products = load(spec_dir)
        files = render_all(spec, products)
        files.update(layouttests.render_all(spec, products))
    return files


def _recover(out):
    """Finish or undo what an interrupted generate left in `out` (gen/hvabi/output.py)."""
    from . import output
    note = output.recover(out)
    if note:
        print(f"hvabi: {out}: {note}", file=sys.stderr)


def cmd_generate(args):
    _recover(args.out)
    files = render_everything(args.spec)
    from . import output
    changed = output.write(args.out, files, force=args.force)
    if not args.quiet:
        print(f"hvabi: {len(files)} files under {args.out}, {changed} changed")
    return errors.EXIT_OK


def cmd_check(args):
    """Regenerate in memory and compare with what is on disk (committed outputs)."""
    _recover(args.out)
    files = render_everything(args.spec)
    import pathlib
    from .emit import stamp
    out = pathlib.Path(args.out)
    stale = []
    for rel, text in sorted(files.items()):
        path = out / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            edited = current is not None and stamp.status(current) != stamp.OK
            stale.append((rel, "edited by hand since hvabi generated it" if edited else "out of date"))
            if args.diff and current is not None:
                import difflib
                sys.stdout.writelines(difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), f"a/{rel}", f"b/{rel}"))
    for rel, why in stale:
        print(f"hvabi: {why}: {rel}")
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


def cmd_show(args):
    from .show import show
    spec, products = load(args.spec)
    if args.profile and args.profile not in spec.profiles:
        raise HvabiError(f"unknown profile {args.profile!r}", None,
                         "profiles: " + ", ".join(sorted(spec.profiles)))
    print("\n".join(show(spec, products, args.name, args.profile, args.arch)))
    return errors.EXIT_OK


def cmd_coverage(args):
    """How much of each upstream header set the spec covers, and how much of it differs."""
    from .coverage import References, documentation_report, report
    from .extract.clang_facts import ExtractError
    if args.openvmm and not args.tlfs_inventory:
        raise HvabiError("--openvmm needs --tlfs-inventory", None,
                         "hvabi coverage --tlfs-inventory tests/reference/tlfs-inventory.json"
                         " --openvmm tests/reference/openvmm-hvdef.json")
    spec, _ = load(args.spec)
    if args.tlfs_inventory:
        res = documentation_report(spec, args.tlfs_inventory, args.openvmm, args.verbose,
                                   False if args.no_tlfs_exceptions else args.tlfs_exceptions)
        print("\n".join(res.lines))
        failed = (res.problems or ((res.wrong_links or res.unnamed) and args.strict)
                  or (res.missing and args.complete))
        return errors.EXIT_CHECK_FAILED if failed else errors.EXIT_OK
    refs = References(args.tlfs_src, args.linux_src, args.rust_vmm_facts)
    try:
        lines, mismatches, missing, unmarked = report(spec, refs, args.verbose)
    except (ExtractError, OSError, ValueError) as e:
        raise HvabiError(f"coverage: cannot read the upstream reference: {e}",
                         hint="--tlfs-src wants a linux-source-6.12 tree, --linux-src a Linux tree"
                         " with include/hyperv/ and include/uapi/linux/mshv.h (./setup extracts both under build/kernel),"
                         " --rust-vmm-facts a facts prefix (tests/reference/rustvmm-hvheaders)") from None
    print("\n".join(lines))
    failed = ((mismatches or unmarked) and args.strict) or (missing and args.complete)
    return errors.EXIT_CHECK_FAILED if failed else errors.EXIT_OK


def cmd_divergence(args):
    """Documented (TLFS) vs implemented (the spec's profiles), field by field."""
    from . import divergence
    divergences = args.divergences or os.path.join(args.spec, "divergences.yaml")
    divergence.load_divergences(divergences)         # a malformed file fails before the spec loads
    spec, _ = load(args.spec)
    doc = divergence.build(spec, args.tlfs_inventory, divergences)
    if args.format == "json":
        sys.stdout.write(divergence.as_json(doc))
    else:
        sys.stdout.write(divergence.as_text(doc, markdown=args.format == "markdown"))
    if doc["stale"]:
        for st in doc["stale"]:
            print(f"{st['pos']}: error: {st['subject']}: {st['problem']}", file=sys.stderr)
        print("  hint: an entry that explains no difference is stale: correct its tlfs/arch/profiles/fields,"
              " or delete it (docs/divergence.md)", file=sys.stderr)
        return errors.EXIT_CHECK_FAILED
    return errors.EXIT_OK


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
    """Headers -> proposed spec YAML; --check proves it lays out like the headers;
    --compare PROFILE reports the headers against the spec and proposes what it lacks."""
    from .importer import run, verify
    if not args.headers:
        raise HvabiError("no headers to import", None, "give HEADER arguments (docs/import.md)")
    sources = [run.parse_source(h) for h in args.headers]
    if args.compare:
        return _import_compare(args, sources)
    imported = run.import_headers(sources, args.flavor, args.include_dirs)
    return _finish_import(args, imported.files, imported.skips, "", lambda: verify.verify(imported))


def _import_compare(args, sources):
    from .importer import compare, run
    spec, _ = load(args.spec)
    if args.compare not in spec.profiles:
        raise HvabiError(f"unknown profile {args.compare!r}", None,
                         "profiles: " + ", ".join(sorted(spec.profiles)))
    imported = run.import_headers(sources, args.flavor, args.include_dirs)
    reports = compare.compare(spec, args.compare, imported)
    for rep in reports:
        for line in rep.problems:
            print(f"{rep.arch}: {line}")
        print(f"hvabi: {rep.arch}: {len(rep.missing)} missing in the spec, {len(rep.problems)}"
              f" problems, {len(rep.ahead)} ahead of the headers (marked)", file=sys.stderr)
    if any(rep.missing for rep in reports):
        proposed = compare.proposal(imported, args.flavor, reports)
        if args.out:
            from . import output
            _recover(args.out)
            output.write(args.out, proposed.files)
            print(f"hvabi: proposed YAML for what the spec lacks in {args.out}", file=sys.stderr)
        elif not args.quiet:
            for name, text in proposed.files.items():
                sys.stdout.write(f"# ---- proposed {name}\n{text}")
    return errors.EXIT_OK if all(rep.clean for rep in reports) else errors.EXIT_CHECK_FAILED


def _finish_import(args, files, skips, what, check):
    """Write or print the files, report what was not imported, run `check` on --check."""
    from .importer import c_reader
    if args.out:
        from . import output
        _recover(args.out)
        output.write(args.out, files)
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


def cmd_export(args):
    """The generated headers into a Linux tree or a rust-vmm/mshv checkout (docs/export.md)."""
    from . import export
    # absolute: the spec sources a header names are then spelled spec/defs/... wherever the
    # command runs from (a relative --spec would give cwd-relative spellings, and churn)
    spec, products = load(os.path.abspath(args.spec))
    return export.run(spec, products, args.spec, args.target, args.tree, force=args.force,
                      do_commit=args.commit, quiet=args.quiet,
                      log=lambda line: print(line, file=sys.stderr))


COMMANDS = ("generate", "check", "validate", "show", "coverage", "divergence", "diff", "import",
            "export")


def _divergence_parser(sub, common):
    div = sub.add_parser("divergence", parents=[common], help="TLFS-documented types vs the spec, field by field",
                         description="For every TLFS-documented type the spec holds: the documented"
                         " members against each profile's selection per arch, with the reason for each"
                         " difference (a spec variant's why, or spec/divergences.yaml); and the spec's"
                         " own tlfs/HDK variants (docs/divergence.md). Exit 1 if an entry of the"
                         " divergences file explains nothing.")
    div.add_argument("--tlfs-inventory", metavar="FILE",
                     default=os.path.join(REPO, "tests", "reference", "tlfs-inventory.json"),
                     help="the TLFS facts file (default: %(default)s)")
    div.add_argument("--divergences", metavar="FILE",
                     help="documented-vs-header divergences with reasons (default: SPEC/divergences.yaml)")
    div.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    div.set_defaults(func=cmd_divergence)


_PARSERS = {}


def parser(only=None):
    """The command line parser; with `only`, holding that subcommand alone (building all
    nine costs ~4 ms of a `hvabi diff`). Built once per process: parsing leaves a parser
    as it was, and the tests run hundreds of commands in one process."""
    if only not in _PARSERS:
        _PARSERS[only] = _build_parser(only)
    return _PARSERS[only]


def _build_parser(only):
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
    g.add_argument("--force", action="store_true",
                   help="overwrite generated files that were edited by hand (or lack an hvabi-stamp)")
    g.set_defaults(func=cmd_generate)


def _check_parser(sub, common):
    c = sub.add_parser("check", parents=[common], help="fail if the committed outputs differ from the spec")
    c.add_argument("--out", default=REPO, help="tree to compare (default: the repository)")
    c.add_argument("--diff", action="store_true", help="print a unified diff of stale files")
    c.set_defaults(func=cmd_check)


def _validate_parser(sub, common):
    v = sub.add_parser("validate", parents=[common], help="load and check the spec only")
    v.set_defaults(func=cmd_validate)


def _show_parser(sub, common):
    sh = sub.add_parser("show", parents=[common], help="one definition as every selection sees it",
                        description="Where NAME (a type, constant, enumerator or constant group) is"
                        " written, its variants and reasons, and per product and arch: carried or"
                        " omitted, its header, its layout and the C it renders to.")
    sh.add_argument("name", metavar="NAME")
    sh.add_argument("--profile", help="only this profile's products")
    sh.add_argument("--arch", choices=ARCHES, help="only this arch")
    sh.set_defaults(func=cmd_show)


def _coverage_parser(sub, common):
    cov = sub.add_parser("coverage", parents=[common], help="coverage of the upstream header sets",
                         description="Per upstream set and arch: definitions the spec covers /"
                         " total, and how many covered ones differ (see gen/hvabi/coverage.py).")
    cov.add_argument("--tlfs-src", help="a linux-source-6.12 tree holding the hyperv-tlfs.h trio"
                     " (./setup extracts one to build/kernel/linux-source-6.12)")
    cov.add_argument("--linux-src", help="a Linux tree whose include/hyperv the linux profile, and"
                     " whose include/uapi/linux/mshv.h the mshv profile, is compared with (./setup"
                     " extracts Linux 7.3's to build/kernel/linux-source-7.3)")
    cov.add_argument("--rust-vmm-facts", metavar="PREFIX",
                     help="facts snapshot of rust-vmm's hv-headers: PREFIX-ARCH.facts.json and"
                     " PREFIX.files.json (tests/reference/rustvmm-hvheaders)")
    cov.add_argument("--tlfs-inventory", metavar="FILE",
                     help="instead: what the TLFS documents (a facts file made by"
                     " tests/reference/tlfs_inventory.py) vs the spec, and a check of the spec's"
                     " `tlfs:` links")
    cov.add_argument("--tlfs-exceptions", metavar="FILE",
                     help="with --tlfs-inventory: the named exceptions (default: tlfs-exceptions.yaml"
                     " next to the inventory, tests/reference/tlfs-exceptions.yaml)")
    cov.add_argument("--no-tlfs-exceptions", action="store_true",
                     help="with --tlfs-inventory: read no exceptions file")
    cov.add_argument("--openvmm", metavar="FILE",
                     help="with --tlfs-inventory: also openvmm hvdef's hypercalls and registers"
                     " (tests/reference/openvmm-hvdef.json)")
    cov.add_argument("-v", "--verbose", action="store_true",
                     help="list every mismatch (with --tlfs-inventory: every missing name and wrong link)")
    cov.add_argument("--strict", action="store_true", help="exit 1 if any covered definition differs,"
                     " or the spec holds one beyond a reference without marking it `ahead`"
                     " (with --tlfs-inventory: if a documented name is missing or under another"
                     " name, or a `tlfs:` link is wrong, and no exception names it; a stale exception"
                     " fails without --strict too)")
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
                       " readings and propose one spec file per header id (hvgdk_mini.yaml, ...)."
                       " Expressions are kept as written; descriptions are placeholders marked"
                       " `# TODO: describe`. With --compare PROFILE, compare the headers with the"
                       " spec instead. See docs/import.md.",
                       epilog="Exit status: 0 ok, 1 --check found a difference, 2 bad input or usage.")
    i.add_argument("headers", nargs="*", metavar="HEADER",
                   help="a header file, or ARCH:FILE to read it on that arch only (x86_64:..., arm64:...);"
                   " compiled in the order given")
    i.add_argument("--flavor", choices=FLAVORS, default="kernel",
                   help="C flavor of the headers (default: %(default)s)")
    i.add_argument("--compare", metavar="PROFILE",
                   help="compare the headers with the spec's PROFILE selection: report what the"
                   " spec lacks or has differently, and propose YAML for what it lacks"
                   " (never writes spec/)")
    i.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="include directory (repeatable)")
    i.add_argument("--out", metavar="DIR", help="write the spec files into DIR (default: print them)")
    i.add_argument("--check", action="store_true",
                   help="load the result and compare every definition's layout and values with the"
                   " compiler's; exit 1 on a difference")
    i.set_defaults(func=cmd_import)


def _export_parser(sub, common):
    e = sub.add_parser("export", parents=[common], help="write the headers into a Linux tree or"
                       " a rust-vmm/mshv checkout",
                       description="linux TREE: include/hyperv/*.h (Linux 6.14 or later) or the"
                       " hyperv-tlfs.h trio (6.13 or earlier), by the tree's Makefile version;"
                       " rust-vmm TREE: hv-headers/*.h in the uapi flavor. Files changed by hand"
                       " since hvabi exported them are not overwritten. See docs/export.md.",
                       epilog="Exit status: 0 ok, 2 bad input, a tree of unknown layout, or a"
                       " refused overwrite (nothing written).")
    e.add_argument("target", choices=("linux", "rust-vmm"))
    e.add_argument("tree", metavar="TREE", help="top directory of the tree to write into")
    e.add_argument("--force", action="store_true",
                   help="overwrite files edited by hand since hvabi exported them")
    e.add_argument("--commit", action="store_true",
                   help="make one git commit of the exported files in TREE, with a kernel-style"
                   " message describing the ABI change (no Signed-off-by)")
    e.set_defaults(func=cmd_export)


_SUBCOMMANDS = {"generate": _generate_parser, "check": _check_parser, "divergence": _divergence_parser,
                "validate": _validate_parser, "show": _show_parser, "coverage": _coverage_parser,
                "diff": _diff_parser, "import": _import_parser, "export": _export_parser}


def main(argv=None):
    own_process = argv is None
    if own_process:
        import signal
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)     # `hvabi show X | head` ends quietly
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
