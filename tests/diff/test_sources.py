"""Each kind of side `hvabi diff` reads (spec, headers in both flavors, objects), and the
errors for sides it cannot read, on synthetic changes with a known verdict.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest discover -s tests/diff
"""

import pathlib
import shutil
import tempfile
import unittest

from hvabi.diff import compare, sources
from hvabi.errors import HvabiError
from hvabi.extract import pahole_facts

REPO = pathlib.Path(__file__).resolve().parents[2]
SYNIC = "defs/10-hvgdk_mini.yaml"

# Edits of hv_message_flags (a u8 register in every profile): msg_pending bit 0,
# reserved bits 1-7.
EDITS = {
    "named": ("slot is free.}\n      - {name: reserved, bits: 1-7, reserved: true}",
              "slot is free.}\n"
              "      - {name: new_flag, bits: 1, doc: A new flag.}\n"
              "      - {name: reserved, bits: 2-7, reserved: true}"),
    "resized": ("{name: msg_pending, bits: 0,", "{name: msg_pending, bits: 0-1,",
                "slot is free.}\n      - {name: reserved, bits: 1-7,",
                "slot is free.}\n      - {name: reserved, bits: 2-7,"),
    "renamed": ("{name: msg_pending,", "{name: message_pending,"),
    "doc": ("doc: More messages are queued", "doc: Further messages are queued"),
}


def edited_spec(root, name):
    """A copy of spec/ as root/name/spec with EDITS[name] applied. Named spec/ like the
    real one, so its files show as spec/defs/... and the unchanged ones are parsed once
    for all the copies (the loader keeps a parse by its bytes and shown path)."""
    spec = pathlib.Path(root, name, "spec")
    shutil.copytree(REPO / "spec", spec)
    text = (spec / SYNIC).read_text()
    edit = EDITS.get(name, ())
    for old, new in zip(edit[::2], edit[1::2]):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (spec / SYNIC).write_text(text)
    return spec


def run(old, new, arches=("x86_64",), profiles=(), flavor="uapi"):
    with tempfile.TemporaryDirectory() as tmp:
        sides = [sources.open_side(str(p), pathlib.Path(tmp, side)) for side, p in
                 (("old", old), ("new", new))]
        chosen = compare.choose_profiles(sides, list(profiles), flavor)
        [result] = compare.compare(sides, arches, chosen, flavor)
        return result


def summary(result):
    return sorted((f.target, f.kind, f.severity, tuple(f.where)) for f in result.findings)


class SpecSides(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.spec = {name: edited_spec(cls.tmp.name, name) for name in ("base", *EDITS)}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_same_spec_has_no_findings(self):
        result = run(self.spec["base"], REPO / "spec")
        self.assertEqual(result.findings, [])
        self.assertEqual(result.compared, ["linux/x86_64", "rust-vmm/x86_64", "tlfs/x86_64"])

    def test_reserved_bit_named_is_compatible_everywhere(self):
        result = run(self.spec["base"], self.spec["named"], arches=("x86_64", "arm64"))
        self.assertEqual(summary(result), [
            ("hv_message_flags.reserved", "reserved-named", "compatible", tuple(result.compared))])
        self.assertEqual(result.findings[0].detail,
                         "reserved reserved (bits 1-7) -> new_flag (bit 1), reserved (bits 2-7)")

    def test_wider_field_is_breaking(self):
        self.assertEqual(summary(run(self.spec["base"], self.spec["resized"], profiles=["linux"])), [
            ("hv_message_flags.msg_pending", "member-resized", "breaking", ("linux/x86_64",)),
            ("hv_message_flags.reserved", "reserved-removed", "review", ("linux/x86_64",)),
        ])

    def test_rename_breaks_the_uapi_profile_only(self):
        self.assertEqual(summary(run(self.spec["base"], self.spec["renamed"])), [
            ("hv_message_flags.msg_pending", "member-renamed", "breaking", ("rust-vmm/x86_64",)),
            ("hv_message_flags.msg_pending", "member-renamed", "review",
             ("linux/x86_64", "tlfs/x86_64")),
        ])

    def test_description_only_is_review(self):
        self.assertEqual(summary(run(self.spec["base"], self.spec["doc"], profiles=["rust-vmm"])), [
            ("hv_message_flags.msg_pending", "doc-changed", "review", ("rust-vmm/x86_64",)),
        ])

    def test_spec_against_its_generated_headers(self):
        kernel = run(REPO / "spec", REPO / "include/hvhdk/include/hyperv", ("x86_64", "arm64"),
                     flavor="kernel")
        self.assertEqual((kernel.compared, kernel.findings), (["linux/x86_64", "linux/arm64"], []))
        uapi = run(REPO / "spec", REPO / "include/uapi/hyperv", ("arm64",))
        self.assertEqual((uapi.compared, uapi.findings), (["rust-vmm/arm64"], []))

    def test_unknown_profile(self):
        with self.assertRaisesRegex(HvabiError, "no profile nope"):
            run(self.spec["base"], self.spec["doc"], profiles=["nope"])


UAPI_OLD = """\
#include <linux/types.h>
#define T_COUNT BIT(3)
union t_features {
	__u64 as_uint64;
	struct {
		__u64 a : 1;
		__u64 reserved : 63;
	} __attribute__((packed));
};
"""
# b on x86_64, reserved_z1 on arm64: the rust-vmm idiom for a per-arch feature bit.
UAPI_NEW = UAPI_OLD.replace("__u64 reserved : 63;", """\
#if defined(__x86_64__)
		__u64 b : 1;
#else
		__u64 reserved_z1 : 1;
#endif
		__u64 reserved : 62;""")


class HeaderAndObjectSides(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def test_uapi_headers(self):
        old, new = self.write("old/t.h", UAPI_OLD), self.write("new/t.h", UAPI_NEW)
        self.assertEqual(summary(run(old.parent, new, ("x86_64", "arm64"))), [
            ("t_features.reserved", "reserved-named", "compatible", ("x86_64",)),
            ("t_features.reserved", "reserved-split", "compatible", ("arm64",)),
        ])

    def test_kernel_headers(self):
        kernel = UAPI_OLD.replace("<linux/types.h>", "<linux/types.h>\n#include <linux/bits.h>") \
                         .replace("__u64", "u64").replace("__attribute__((packed))", "__packed")
        old = self.write("old/t.h", kernel)
        new = self.write("new/t.h", kernel.replace("#define T_COUNT BIT(3)", "#define T_COUNT BIT(4)"))
        self.assertEqual(summary(run(old, new, flavor="kernel")),
                         [("T_COUNT", "value-changed", "breaking", ("x86_64",))])

    def test_objects(self):
        objs = {}
        for version, text in (("old", UAPI_OLD), ("new", UAPI_NEW)):
            c_file = self.write(f"{version}.c", text.replace("BIT(3)", "8"))
            for arch, cc in (("x86_64", "gcc"), ("arm64", "aarch64-linux-gnu-gcc")):
                objs[version, arch] = self.dir / f"{version}-{arch}.o"
                pahole_facts.compile_object(c_file, objs[version, arch], cc, arch)
        both = [",".join(str(objs[v, a]) for a in ("x86_64", "arm64")) for v in ("old", "new")]
        self.assertEqual(summary(run(*both, ("x86_64", "arm64"))), [
            ("t_features.reserved", "reserved-named", "compatible", ("x86_64",)),
            ("t_features.reserved", "reserved-split", "compatible", ("arm64",)),
        ])
        with self.assertRaisesRegex(HvabiError, "no arch in common"):
            run(objs["old", "x86_64"], objs["new", "arm64"], ("x86_64", "arm64"))

    def test_unparsable_header(self):
        bad = self.write("bad.h", "struct broken { int x }\n")
        with self.assertRaises(HvabiError) as caught:
            run(bad, bad)
        self.assertIn("cannot read the headers for x86_64", str(caught.exception))
        self.assertIn("bad.h:1", str(caught.exception))
        self.assertIn("hint: if these are kernel-flavor headers, pass --headers-flavor kernel",
                      str(caught.exception))

    def test_paths_spelled_as_pathlib_spells_them(self):
        # sources.py keeps paths as strings (no pathlib import on the diff path).
        for text in ("a/b", "a//b/", "./a/./b", "/", "//a", "///a", ".", "./", "a/../b", "/x/"):
            with self.subTest(text=text):
                self.assertEqual(sources._spelled(text), str(pathlib.Path(text)))
        for name in ("b.h", "a.h", ".hidden.h", "x.hh", "sub.h", "t.facts.json"):
            (self.dir / "g").mkdir(exist_ok=True)
            if name == "sub.h":
                (self.dir / "g" / name).mkdir()
            else:
                (self.dir / "g" / name).write_text("")
        for base in (str(self.dir / "g"), str(self.dir / "g") + "/"):
            for suffix in (".h", ".facts.json"):
                self.assertEqual(sources._glob(sources._spelled(base), suffix),
                                 [str(p) for p in sorted(pathlib.Path(base).glob("*" + suffix))])

    def test_what_is_not_a_side(self):
        self.write("empty/README", "nothing here\n")
        for arg, message in ((self.dir / "missing", "does not exist"),
                             (self.dir / "empty", "has no profiles.yaml, \\*.h or \\*.facts.json"),
                             (self.dir / "empty/README", "cannot tell what this is")):
            with self.subTest(arg=arg), self.assertRaisesRegex(HvabiError, message):
                sources.open_side(str(arg), self.dir / "work")


if __name__ == "__main__":
    unittest.main()
