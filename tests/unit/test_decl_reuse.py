"""Declaration facts reused across header sets (extract/decl_reuse.py), on self-made
revisions: each case reads an old revision and then a new one in this process, and the
new one's facts must equal a reading of it from nothing. The cases change what a
declaration means without changing its text; a key that missed the change would hand
back the old facts.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_decl_reuse.py
"""

import os
import tempfile
import unittest

from hvabi import facts
from hvabi.extract import clang_facts, decl_reuse

# Text every revision shares: unchanged declarations after the file that changes.
TAIL = """
struct stable { unsigned int a; unsigned short b; };
enum stable_e { STABLE_A = 1, STABLE_B = 9 };
"""


class DeclReuse(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        decl_reuse.forget()

    def revision(self, name, files):
        """A directory holding `files` ({name: text}); the headers in order."""
        root = os.path.join(self.tmp.name, name)
        os.makedirs(root)
        for file, text in files.items():
            with open(os.path.join(root, file), "w", encoding="utf-8") as f:
                f.write(text)
        return [os.path.join(root, file) for file in files]

    def read(self, headers, arch="x86_64"):
        return facts.dump(clang_facts.extract(headers, arch))

    def check(self, old, new, replayed=True):
        """Reading `new` after `old` gives what reading it alone gives."""
        old_dir = self.revision("old", old)
        new_dir = self.revision("new", new)
        self.read(old_dir)
        before = dict(decl_reuse.counts)
        after_old = self.read(new_dir)
        reused = decl_reuse.counts["replayed"] - before["replayed"]
        decl_reuse.forget()
        self.assertEqual(after_old, self.read(new_dir))
        if replayed:
            self.assertGreater(reused, 0, "nothing was reused")
        return after_old

    def test_unchanged_declarations_are_replayed(self):
        old = {"a.h": "struct one { int x; };\n", "b.h": TAIL}
        new = {"a.h": "struct one { int x; long y; };\n", "b.h": TAIL}
        self.check(old, new)
        # and the same text in another directory is the same declaration
        decl_reuse.forget()
        first = self.revision("first", {"c.h": TAIL})
        second = self.revision("second", {"c.h": TAIL})
        self.read(first)
        self.read(second)
        self.assertEqual(decl_reuse.counts["read"], 2)
        self.assertEqual(decl_reuse.counts["replayed"], 2)

    def test_macro_value(self):
        struct = "struct sized { unsigned char bytes[SIZE]; };\n"
        facts_new = self.check({"a.h": "#define SIZE 4\n", "b.h": struct + TAIL},
                               {"a.h": "#define SIZE 8\n", "b.h": struct + TAIL})
        self.assertIn('"size": 8', facts_new)

    def test_macro_through_macro(self):
        struct = "struct sized { unsigned char bytes[SIZE]; };\n"
        self.check({"a.h": "#define INNER 4\n#define SIZE (INNER * 2)\n", "b.h": struct + TAIL},
                   {"a.h": "#define INNER 6\n#define SIZE (INNER * 2)\n", "b.h": struct + TAIL})

    def test_enumerator_value(self):
        struct = "struct sized { unsigned char bytes[E_SIZE]; };\n"
        self.check({"a.h": "enum { E_SIZE = 2 };\n", "b.h": struct + TAIL},
                   {"a.h": "enum { E_SIZE = 3 };\n", "b.h": struct + TAIL})

    def test_typedef_of_a_tag_defined_later(self):
        # `outer` and the typedef keep their text; the tag the typedef names grows.
        head = "typedef struct later later_t;\n"
        use = "struct outer { later_t inner; };\n"
        self.check({"a.h": head, "b.h": "struct later { int a; };\n" + use + TAIL},
                   {"a.h": head, "b.h": "struct later { int a; int b; };\n" + use + TAIL})

    def test_member_type(self):
        use = "struct outer { struct inner in; char c; };\n"
        self.check({"a.h": "struct inner { char a; };\n", "b.h": use + TAIL},
                   {"a.h": "struct inner { long a; };\n", "b.h": use + TAIL})

    def test_macro_defined_after_the_declaration(self):
        # `count` is renamed by the macro only where the macro is already defined.
        struct = "struct counted { int count; };\n"
        new = self.check({"a.h": "#define count number\n" + struct, "b.h": TAIL},
                         {"a.h": struct + "#define count number\n", "b.h": TAIL})
        self.assertIn('"path": "count"', new)

    def test_redefined_macros(self):
        # The same two definitions in the other order: only the last one counts.
        struct = "struct sized { unsigned char bytes[SIZE]; };\n"
        one, two = "#define SIZE 4\n", "#define SIZE 8\n"
        for between in ("#undef SIZE\n", ""):     # clang only warns about a redefinition
            with self.subTest(between=between):
                decl_reuse.forget()
                self.tmp.cleanup()
                os.makedirs(self.tmp.name)
                new = self.check({"a.h": one + between + two + struct + TAIL},
                                 {"a.h": two + between + one + struct + TAIL})
                self.assertIn('"size": 4', new)

    def test_arches_are_apart(self):
        headers = self.revision("one", {"a.h": "struct l { long x; };\n"})
        x86 = self.read(headers, "x86_64")
        arm = self.read(headers, "arm64")
        decl_reuse.forget()
        self.assertEqual(arm, self.read(headers, "arm64"))
        self.assertNotEqual(x86, arm)


if __name__ == "__main__":
    unittest.main()
