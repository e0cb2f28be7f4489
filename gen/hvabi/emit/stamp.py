"""The content stamp every generated file carries: `hvabi-stamp: HASH` in a header or C
comment, `"hvabi-stamp": "HASH"` in a facts document. HASH is the first 16 hex digits of
the SHA-256 of the file with the placeholder in place of the hash, so a file can be
checked on its own: a hand edit anywhere else changes the hash it should carry."""

import hashlib
import re

PLACEHOLDER = "@STAMP@"
KEY = "hvabi-stamp"
_FOUND = re.compile(r'hvabi-stamp"?: "?([0-9a-f]{16})\b')

# What `status` says about a file.
OK, EDITED, UNSTAMPED = "ok", "edited", "unstamped"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fill(text):
    """`text` (holding PLACEHOLDER once) with its stamp filled in."""
    return text.replace(PLACEHOLDER, _digest(text))


def status(text):
    """OK if `text` carries the stamp of its own content, EDITED if it carries another
    (changed since hvabi wrote it), UNSTAMPED if it has none (hvabi did not write it)."""
    found = _FOUND.search(text)
    if not found:
        return UNSTAMPED
    unfilled = text[:found.start(1)] + PLACEHOLDER + text[found.end(1):]
    return OK if _digest(unfilled) == found.group(1) else EDITED


def digest(text):
    """The hash a stamp holds, of any text: what `hvabi export` records of the files it
    writes into another tree (gen/hvabi/export.py)."""
    return _digest(text)


_LINE = re.compile(r"^ \* hvabi-stamp: [0-9a-f]{16}\n", re.M)


def remove(text):
    """A generated header without its stamp line (the exported text: a stamp changes with
    every edit, so a one-definition change would touch two places of the file)."""
    return _LINE.sub("", text, count=1)
