"""C expressions as written (macro bodies, enumerator values, array lengths), in the
spelling of the spec's expression language.

The text keeps the author's tokens and whether a space separated them, so
`GENMASK_ULL(43, 32)` stays `GENMASK_ULL(43, 32)`. Only what a flavor renders
differently is respelled back: uapi headers write `BIT(5)` as `_BITUL(5)` and cast to
`__u64`, the TLFS flavor casts to `unsigned long`. (Our uapi flavor writes `(1UL << (5))`,
which is read back as that expression and renders the same.)
"""

import clang.cindex as ci

from ..errors import HvabiError
from ..spec import expr

_RESPELL = {"_BITUL": "BIT", "_BITULL": "BIT_ULL",
            **{f"__{s}{n}": f"{s}{n}" for s in "us" for n in (8, 16, 32, 64)}}
# Longest first: `unsigned long long` must not match as `unsigned long` + `long`.
_TYPE_WORDS = ((("unsigned", "long", "long"), "u64"), (("unsigned", "long"), "ulong"),
               (("unsigned", "int"), "u32"), (("unsigned", "short"), "u16"),
               (("unsigned", "char"), "u8"), (("long", "long"), "s64"))


class Unrepresentable(Exception):
    """The expression is valid C but not in the spec's expression language."""


def text(tokens):
    """Spec spelling of a token sequence (libclang Tokens), validated by the spec parser."""
    words = []                                   # (spelling, space before it)
    prev = None
    for tok in tokens:
        if tok.kind == ci.TokenKind.COMMENT:
            continue                             # prose is never imported
        gap = prev is not None and (tok.extent.start.line != prev.extent.end.line
                                    or tok.extent.start.offset > prev.extent.end.offset)
        words.append((_RESPELL.get(tok.spelling, tok.spelling), gap))
        prev = tok
    out = "".join((" " if gap else "") + word for word, gap in _join_type_words(words))
    try:
        expr.parse(out)
    except HvabiError as e:
        raise Unrepresentable(e.what) from None
    return out


def _join_type_words(words):
    out, i = [], 0
    while i < len(words):
        for seq, name in _TYPE_WORDS:
            if tuple(w for w, _ in words[i:i + len(seq)]) == seq:
                out.append((name, words[i][1]))
                i += len(seq)
                break
        else:
            out.append(words[i])
            i += 1
    return out
