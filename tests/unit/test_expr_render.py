"""Rendering keeps C's tokens apart: a negation of a negative value is not a decrement
(found by tools/fuzz_spec.py: `value: "--18"` was rendered as `--18`)."""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "gen"))

from hvabi.emit.flavors import Kernel, Uapi  # noqa: E402
from hvabi.spec import expr  # noqa: E402


class Render(unittest.TestCase):
    def test_no_decrement_or_increment(self):
        for text, want in (("--18", "-(-18)"), ("-(-18)", "-(-18)"), ("+-1", "+(-1)"), ("~-1", "~-1"),
                           ("- +1", "-(+1)")):
            for flavor in (Kernel({}), Uapi({})):
                self.assertEqual(expr.render(expr.parse(text), flavor), want)


if __name__ == "__main__":
    unittest.main()
