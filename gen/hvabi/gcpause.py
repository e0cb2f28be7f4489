"""Pausing Python's cyclic garbage collector around loading and rendering a spec.

Both allocate many long-lived objects and hardly any cyclic garbage, so each full
collection walks the whole model for nothing; their number grows with the heap, which
made time grow faster than the spec (10x spec: 4 -> 37 full collections, 0.2 -> 7.5 s).
Reference counting still frees everything else; collection resumes afterwards, so a
process that loads many specs (tests, tools/fuzz_spec.py) keeps its memory bounded.
"""

import contextlib
import gc


@contextlib.contextmanager
def paused():
    if not gc.isenabled():          # nested, or disabled by the caller: leave it so
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
