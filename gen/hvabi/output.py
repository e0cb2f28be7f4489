"""Writing generated files all or nothing, and refusing to overwrite hand edits.

Every changed file is written in one transaction under OUT/.hvabi-txn/:

  1. each new text to .hvabi-txn/N, flushed to disk;
  2. .hvabi-txn/journal.json, written as journal.json.part and renamed: the commit point.
     It lists the renames N -> path;
  3. the renames, one by one;
  4. the removal of .hvabi-txn.

A run killed before 2 leaves the old tree plus temporaries; killed after 2, the journal says
how to finish. `recover` (run first by every `generate` and `check`) finishes a committed
journal's renames (the new tree) or removes an uncommitted transaction (the old tree), so
after the next run the tree is wholly old or wholly new, never a mix. Unchanged files are
not rewritten (their mtime stays, builds stay incremental).

HVABI_TEST_KILL_AT=N makes the process SIGKILL itself at the N-th step of the transaction
(each temporary written, the journal written and committed, each rename, the cleanup):
tests/test_interrupted_generate.py kills it at every step.
"""

import json
import os
import pathlib
import shutil

from .emit import stamp
from .errors import HvabiError, SpecErrors

TXN = ".hvabi-txn"            # .gitignore: .hvabi-*
JOURNAL = "journal.json"
STRAY = ".hvabi-"             # temporaries of older hvabi versions were .hvabi-XXXXXXXX
_steps = 0


def _step():
    """A point where tests kill the process (HVABI_TEST_KILL_AT)."""
    global _steps
    at = os.environ.get("HVABI_TEST_KILL_AT")
    if at is not None and _steps == int(at):
        import signal
        os.kill(os.getpid(), signal.SIGKILL)
    _steps += 1


def _show(out, rel):
    """`rel` under `out` as the user can open it: relative to the cwd when inside it."""
    path = os.path.join(out, rel)
    shown = os.path.relpath(path)
    return path if shown.startswith("..") else shown


def recover(out):
    """Finish or undo a transaction an earlier run left in `out`; a note for the user, or
    None if there was none."""
    out = pathlib.Path(out)
    txn = out / TXN
    if not txn.is_dir():
        return None
    journal = txn / JOURNAL
    if not journal.is_file():
        shutil.rmtree(txn)
        return "removed the temporaries of an interrupted generate (no file had been replaced)"
    try:
        renames = json.loads(journal.read_text(encoding="utf-8"))["renames"]
        renames = [(str(name), _inside(rel)) for name, rel in renames]
    except (ValueError, KeyError, TypeError) as e:
        raise HvabiError(f"unreadable journal of an interrupted generate: {e}", str(journal),
                         f"hvabi did not write this file; remove {txn} and run `hvabi generate`")
    for name, rel in renames:
        if (txn / name).exists():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(txn / name, out / rel)
    shutil.rmtree(txn)
    return f"finished an interrupted generate: {len(renames)} files put in place"


def _inside(rel):
    rel = str(rel)
    if os.path.isabs(rel) or ".." in pathlib.PurePosixPath(rel).parts:
        raise TypeError(f"path outside the output tree: {rel!r}")
    return rel


def unchanged(path, text):
    """Whether `path` holds exactly `text`."""
    try:
        return path.read_text(encoding="utf-8") == text
    except (FileNotFoundError, UnicodeDecodeError):
        return False


def stamp_judge(rel, text):
    """Why `text` (None: not UTF-8) at `rel` is not what `generate` wrote, or None: its
    stamp does not match (edited since) or it has none (not written by hvabi)."""
    state = stamp.status(text) if text is not None else stamp.UNSTAMPED
    if state == stamp.EDITED:
        return "edited by hand since hvabi generated it"
    if state == stamp.UNSTAMPED:
        return "has no hvabi-stamp: not written by hvabi, or its stamp line was removed"
    return None


def hand_edited(out, changed, judge=stamp_judge):
    """Errors for each file hvabi would replace whose content is not what hvabi wrote,
    as `judge(rel, current text or None)` says (default: by the file's own stamp)."""
    errors = []
    for rel in changed:
        path = pathlib.Path(out) / rel
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text = None
        why = judge(rel, text)
        if why:
            errors.append(HvabiError(why, _show(out, rel)))
    return errors


def remove_strays(out, rels):
    """Delete `.hvabi-*` temporaries older hvabi versions left next to the outputs."""
    out = pathlib.Path(out)
    for folder in sorted({(out / rel).parent for rel in rels}):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.startswith(STRAY) and path.is_file():
                    path.unlink()


HAND_EDIT_HINT = ("move the change into spec/ and regenerate (`git diff` shows it), or run"
                  " `hvabi generate --force` to overwrite")


def write(out, files, force=True, judge=stamp_judge, hint=HAND_EDIT_HINT):
    """Write {relative path: text} under `out` in one transaction; the number of files
    that changed. Unless `force`, refuse (nothing written) if any file to be replaced was
    edited by hand, as `judge` (see hand_edited) says, with `hint`."""
    global _steps
    _steps = 0
    out = pathlib.Path(out)
    remove_strays(out, files)
    changed = {rel: text for rel, text in sorted(files.items()) if not unchanged(out / rel, text)}
    if not force:
        errors = hand_edited(out, changed, judge)
        if errors:
            errors.append(HvabiError(
                f"{len(errors)} file(s) to be replaced hold text hvabi did not write; nothing was"
                " written", None, hint))
            raise SpecErrors(errors)
    if not changed:
        return 0
    txn = out / TXN
    renames = []
    try:
        txn.mkdir(parents=True)
        for i, (rel, text) in enumerate(changed.items()):
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            _write_synced(txn / str(i), text)
            renames.append((str(i), rel))
            _step()
        part = txn / (JOURNAL + ".part")
        _write_synced(part, json.dumps({"renames": renames}, indent=1) + "\n")
        _step()
    except OSError as e:
        shutil.rmtree(txn, ignore_errors=True)
        raise HvabiError(f"cannot write outputs: {e}", None, "nothing was changed")
    os.replace(part, txn / JOURNAL)         # committed: from here on, the new tree
    _step()
    try:
        for name, rel in renames:
            os.replace(txn / name, out / rel)
            _step()
        shutil.rmtree(txn)
        _step()
    except OSError as e:
        raise HvabiError(f"cannot put outputs in place: {e}", None,
                         "fix the cause and run `hvabi generate` or `hvabi check`: it finishes"
                         f" the renames listed in {txn / JOURNAL}")
    return len(changed)


def _write_synced(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o644)
