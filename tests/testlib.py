"""What every test driver prints and returns: one FAIL line per failure, then the
"N passed, N failed" line ctest and CI read, and exit status 1 on any failure; and
hvabi_here/main_here, which run a command's main() in this process."""

import collections
import contextlib
import functools
import io
import os
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent


def report(passed, failures, require_some=True):
    for line in failures:
        print(f"FAIL {line}")
    print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or (require_some and not passed) else 0


@functools.lru_cache(maxsize=None)
def profiles_without_omit():
    """spec/profiles.yaml without the profiles' omit lists, for a small test spec: those
    lists name definitions only the real spec has. (libyaml's loader and dumper: the
    pure-Python ones take ~0.3 s on it, and a test may make dozens of small specs.)"""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    profiles = yaml.load((repo / "spec/profiles.yaml").read_text(), Loader=yaml.CSafeLoader)
    for body in profiles["profiles"].values():
        body.pop("omit", None)
    return yaml.dump(profiles, Dumper=yaml.CSafeDumper)


def products_without_order():
    """spec/products.yaml without the headers' `order:` files and `uapi_types:` lists, for
    a small test spec: those name definitions only the real spec has."""
    import pathlib
    import yaml
    repo = pathlib.Path(__file__).resolve().parent.parent
    products = yaml.load((repo / "spec/products.yaml").read_text(), Loader=yaml.CSafeLoader)
    for body in products["products"].values():
        for header in body.get("headers", []):
            header.pop("order", None)
            header.pop("uapi_types", None)
    return yaml.dump(products, Dumper=yaml.CSafeDumper)


# --- running a command's main() in this process ---------------------------------------------

Run = collections.namedtuple("Run", "returncode stdout stderr")


def main_here(main, argv, cwd=None, env=None):
    """Run(returncode, stdout, stderr) of `main(argv)` in this process, as a subprocess
    would give them: stdout and stderr captured, SystemExit caught (argparse's exit 2; a
    string code is printed to stderr and is status 1, as Python does), and the working
    directory, os.environ, sys.argv and sys.path restored afterwards. Any other exception
    propagates, so a traceback fails the test. Used where the process itself is not what
    a test is about: a spec loaded (and rendered) by one run is reused by the next (cli's
    memos). A few tests still run the real script (tests/unit/test_cli.py)."""
    out, err = io.StringIO(), io.StringIO()
    saved = os.getcwd(), dict(os.environ), list(sys.argv), list(sys.path)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if env:
            os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(list(argv))
            except SystemExit as e:
                status = e.code
                if status is None:
                    status = 0
                elif not isinstance(status, int):
                    print(status, file=sys.stderr)
                    status = 1
    finally:
        os.chdir(saved[0])
        os.environ.clear()
        os.environ.update(saved[1])
        sys.argv[:], sys.path[:] = saved[2], saved[3]
    return Run(status, out.getvalue(), err.getvalue())


def hvabi_here(args, cwd=None, env=None):
    """Run(returncode, stdout, stderr) of `hvabi ARGS` by gen/hvabi's cli.main in this
    process (main_here)."""
    if str(REPO / "gen") not in sys.path:
        sys.path.insert(0, str(REPO / "gen"))
    from hvabi import cli
    return main_here(cli.main, args, cwd, env)
