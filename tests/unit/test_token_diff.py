"""tools/token_diff.py: the C tokenizer and the explanation of differences, on small
headers written here."""

import importlib.util
import pathlib
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("token_diff", REPO / "tools/token_diff.py")
td = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(td)


def texts(src):
    return [t.text for t in td.tokenize(src)]


def kinds(ours, theirs):
    return sorted(h.kind for h in td.structured(td.tokenize(ours), td.tokenize(theirs)))


class Tokenizer(unittest.TestCase):
    def test_comments_directives_and_header_names(self):
        src = ("/* a\n comment */\n#include <linux/types.h>\n#define A \\\n\t(1 << 3) // x\n"
               "struct s { u64 a:1; } __packed;\n")
        self.assertEqual(texts(src), [
            "#", "include", "<linux/types.h>", "<eol>",
            "#", "define", "A", "(", "1", "<<", "3", ")", "<eol>",
            "struct", "s", "{", "u64", "a", ":", "1", ";", "}", "__packed", ";"])
        lines = {t.text: t.line for t in td.tokenize(src)}
        self.assertEqual(lines["include"], 3)
        self.assertEqual(lines["struct"], 6)     # the line splice counts as a line

    def test_numbers_and_strings(self):
        self.assertEqual(texts('x = 0x1ULL + 1e+5 + "a /* b */";'),
                         ["x", "=", "0x1ULL", "+", "1e+5", "+", '"a /* b */"', ";"])


class Explain(unittest.TestCase):
    def test_moved_definition(self):
        self.assertEqual(kinds("#define A 1\n#define B 2\n#define C 3\n",
                               "#define B 2\n#define C 3\n#define A 1\n"),
                         ["moved (definition order)"])

    def test_config_spelling_and_numbers(self):
        self.assertEqual(kinds("#if defined(CONFIG_X86)\n#define A 0x0\n#endif\n",
                               "#if IS_ENABLED(CONFIG_X86)\n#define A 0\n#endif\n"),
                         ["#if defined(CONFIG_X) vs IS_ENABLED(CONFIG_X)",
                          "number spelling (same value)"])

    def test_flex_array_types_and_one_sided(self):
        self.assertEqual(kinds("struct s { u32 n; u64 v[]; };\n#define ONLY 1\n",
                               "struct s { __u32 n; DECLARE_FLEX_ARRAY(u64, v); };\n"),
                         ["#define only in ours", "flexible array: DECLARE_FLEX_ARRAY() vs []",
                          "type spelling (u64 vs __u64)"])

    def test_identical(self):
        self.assertEqual(kinds("enum e { A = 1, };\n", "enum e {\n\tA = 1, /* x */\n};\n"), [])


if __name__ == "__main__":
    unittest.main()
