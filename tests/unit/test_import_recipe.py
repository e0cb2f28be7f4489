"""`hvabi import --recipe`: three small self-written header sets (an HDK copy in the kernel
flavor, a later HDK copy in the uapi flavor, a TLFS copy) merged into one spec.

Checks that every profile's selection lays out exactly as its own headers (verify_sets),
that what the sets share is written once and what differs gets `profile:`/`view:` at the
finest level, that the order keeps each set's order, and that docs from an existing spec
are carried over (placeholders are not).

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_import_recipe.py
"""

import pathlib
import shutil
import tempfile
import unittest

from hvabi.errors import HvabiError
from hvabi.importer import recipe, verify
from hvabi.spec.loader import load_spec

REPO = pathlib.Path(__file__).resolve().parents[2]

LINUX = """\
#include <linux/types.h>
#include <linux/bits.h>
#define T_SHARED	BIT(1)
#define T_LINUX_ONLY	7
struct t_same {
	u32 a;
	u32 b;
};
union t_reg {
	u64 as_uint64;
	struct {
		u64 on:1;
		u64 reserved:63;
	} __packed;
};
struct t_grows {
	u64 id;
	u32 count;
	u32 rsvd;
};
"""

RUSTVMM = """\
#include <linux/types.h>
#include <linux/const.h>
#define T_SHARED	_BITUL(1)
struct t_same {
	__u32 a;
	__u32 b;
};
union t_reg {
	__u64 as_uint64;
	struct {
		__u64 on:1;
		__u64 reserved:63;
	} __attribute__((packed));
};
struct t_grows {
	__u64 id;
	__u32 count;
	__u32 flags;
	__u64 extra;
};
#define T_RUST_ONLY	9
"""

TLFS = """\
#include <linux/types.h>
#include <linux/bits.h>
#define T_SHARED	BIT(1)
union t_reg {
	u64 as_uint64;
	struct {
		u64 on:1;
		u64 off:1;
		u64 reserved:62;
	} __packed;
};
"""

RECIPE = """\
sources:
  - profile: linux
    headers: [$T_DIR/linux/hvgdk_mini.h]
  - profile: rust-vmm
    flavor: uapi
    headers: [$T_DIR/rust/hvgdk_mini.h]
  - profile: tlfs
    headers: [$T_DIR/tlfs/hyperv-tlfs.h]
"""


class Recipe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = pathlib.Path(cls.tmp.name)
        for sub, text, name in (("linux", LINUX, "hvgdk_mini.h"), ("rust", RUSTVMM, "hvgdk_mini.h"),
                                ("tlfs", TLFS, "hyperv-tlfs.h")):
            (root / sub).mkdir()
            (root / sub / name).write_text(text)
        (root / "recipe.yaml").write_text(RECIPE.replace("$T_DIR", str(root)))
        cls.result = recipe.import_recipe(root / "recipe.yaml", REPO / "spec")
        cls.text = cls.result.files["10-hvgdk_mini.yaml"]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_profile_lays_out_as_its_headers(self):
        results = verify.verify_sets(self.result.files, self.result.profiles_yaml,
                                     [(s.profile, s.view, s.readings, s.sources) for s in self.result.sets])
        self.assertEqual(len(results), 6)               # 3 profiles x 2 arches
        for r in results:
            self.assertEqual((r.problems, r.failed), ([], 0), r.arch)
            self.assertGreater(r.matched, 0, r.arch)

    def test_shared_definitions_are_written_once(self):
        self.assertEqual(self.text.count("struct: t_same"), 1)
        # Linux and rust-vmm are the HDK view's profiles: said as the view.
        self.assertIn("  - struct: t_same  # TODO: describe\n    view: hdk\n", self.text)
        # The same macro in all three sets (uapi `_BITUL(1)` reads back as BIT(1)): no condition.
        self.assertIn("  - consts: t-shared  # TODO: describe\n    header: {tlfs: generic}\n", self.text)
        self.assertEqual(self.text.count("{name: T_SHARED, value: BIT(1)}"), 1)

    def test_differences_are_explicit_at_the_finest_level(self):
        # t_grows: one entry; the Linux-only rsvd and the rust-vmm-only members by profile.
        self.assertEqual(self.text.count("struct: t_grows"), 1)
        self.assertIn("{name: rsvd, type: u32, profile: linux}", self.text)
        self.assertIn("{name: flags, type: u32, profile: rust-vmm}", self.text)
        self.assertIn("{name: extra, type: u64, profile: rust-vmm}", self.text)
        # t_reg: TLFS names bit 1, the HDK keeps it reserved: bitfields by view.
        self.assertEqual(self.text.count("register: t_reg"), 1)
        self.assertIn('{name: "off", bits: 1, view: tlfs}', self.text)
        self.assertIn("{name: reserved, bits: 1-63, view: hdk}", self.text)
        self.assertIn("{name: reserved, bits: 2-63, view: tlfs}", self.text)

    def test_placement_per_view(self):
        self.assertTrue(self.text.startswith("hvabi: 1\nheader: {hdk: hvgdk_mini}\n"))
        self.assertIn("header: {tlfs: generic}", self.text)

    def test_order_keeps_each_set_order(self):
        names = ["T_SHARED", "T_LINUX_ONLY", "t_same", "t_reg", "t_grows", "T_RUST_ONLY"]
        at = [self.text.index(n) for n in names]
        self.assertEqual(at, sorted(at))

    def test_docs_carried_over_placeholders_not(self):
        spec = pathlib.Path(self.tmp.name, "spec")
        (spec / "defs").mkdir(parents=True)
        shutil.copy(REPO / "spec/profiles.yaml", spec)
        text = self.text.replace('doc: "t_same: imported; describe it."', "doc: Two words.", 1)
        text = text.replace("{name: a, type: u32}", "{name: a, type: u32, doc: The first.}", 1)
        # A member the old spec lacks is marked reserved by its name; one it has (count)
        # keeps what people decided.
        text = text.replace("      - {name: rsvd, type: u32, profile: linux}\n", "")
        (spec / "defs/10-hvgdk_mini.yaml").write_text(text)
        again = recipe.import_recipe(pathlib.Path(self.tmp.name, "recipe.yaml"), REPO / "spec",
                                     load_spec(spec), reserved_by_name=True)
        out = again.files["10-hvgdk_mini.yaml"]
        self.assertIn("  - struct: t_same\n    view: hdk\n    doc: Two words.\n", out)
        self.assertIn("{name: a, type: u32, doc: The first.}", out)
        self.assertIn("  - struct: t_grows  # TODO: describe\n", out)
        self.assertIn("{name: rsvd, type: u32, profile: linux, reserved: true}", out)
        self.assertIn("{name: count, type: u32}", out)

    def test_bad_recipe(self):
        bad = pathlib.Path(self.tmp.name, "bad.yaml")
        for text, what in (("sources: []\n", "no `sources:`"),
                           ("sources:\n  - {profile: nope, headers: []}\n", "unknown profile 'nope'"),
                           ("sources:\n  - {profile: linux, headers: [$HVABI_UNSET_VAR/x.h]}\n",
                            "environment variable is not set")):
            bad.write_text(text)
            with self.assertRaises(HvabiError) as cm:
                recipe.import_recipe(bad, REPO / "spec")
            self.assertIn(what, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
