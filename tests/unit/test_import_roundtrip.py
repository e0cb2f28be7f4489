"""Round trip: importing our own generated headers gives back our spec, descriptions aside.

For each product (hdk-kernel, hdk-uapi, mshv-uapi, tlfs), its committed headers are imported into a
temporary spec (with our profiles.yaml and products.yaml), which must
  - load and pass every spec check,
  - give the same layout facts as tests/layout/<product>/<arch>.facts.json, and
  - hold, header by header and in order, the same definitions as the real spec for the
    product's profile: names, kinds, member order and nesting, bit ranges, types, array
    lengths and constant values as written (rendered in the product's flavor, so the
    uapi spelling `(1UL << (3))` of `BIT(3)` counts as the same).

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest tests/unit/test_import_roundtrip.py
"""

import pathlib
import tempfile
import unittest

import yaml

from hvabi import cli, facts, layout
from hvabi import model as m
from hvabi.emit.flavors import FLAVORS
from hvabi.emit.products import header_defs
from hvabi.importer import run
from hvabi.select import Abi

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC = REPO / "spec"


def import_product(product, spec, out_dir):
    """Import the committed headers of `product` into out_dir (a spec directory)."""
    root = REPO / product.root
    sources = [run.parse_source(f"{h.arch}:{root / h.path}" if h.arch else str(root / h.path))
               for h in product.headers]
    flavor = "uapi" if product.flavor == "uapi" else "kernel"
    # TLFS headers include <asm-generic/hyperv-tlfs.h> from their own tree.
    include_dirs = [root / "include"] if product.flavor == "tlfs" else []
    imported = run.import_headers(sources, flavor, include_dirs)
    (out_dir / "defs").mkdir(parents=True)
    for name, text in imported.files.items():
        (out_dir / "defs" / name).write_text(text)
    # The imported spec holds one profile's copy: that profile alone, selecting everything.
    # The importer places definitions by the hypervisor views (tlfs, hdk); a product of
    # another view (mshv-uapi) is imported as one of those.
    profile = spec.profiles[product.profile]
    view = profile.view if profile.view in ("tlfs", "hdk") else "hdk"
    (out_dir / "profiles.yaml").write_text(
        f"hvabi: 2\nprofiles:\n  {profile.name}: {{view: {view}}}\n")
    products = yaml.safe_load((SPEC / "products.yaml").read_text())
    products["products"] = {product.name: products["products"][product.name]}
    for header in products["products"][product.name]["headers"]:
        header.pop("order", None)        # the round trip compares structure, not order
    (out_dir / "products.yaml").write_text(yaml.safe_dump(products))


def structure(defn, flavor):
    """What C says about a definition, descriptions and conditions aside."""
    render = flavor.render
    if isinstance(defn, m.ConstGroup):
        return [("const", c.name, render(c.values[0][1])) for c in defn.items]
    if isinstance(defn, m.Enum):
        return [("enum", defn.name, [(i.name, i.value and render(i.value)) for i in defn.items])]
    if isinstance(defn, m.Typedef):
        return [("typedef", defn.name, defn.type.name)]
    return [("register" if defn.register else defn.kind, defn.name, defn.packed, defn.aligned,
             _members(defn.members, render))]


def _members(members, render):
    out = []
    for node in members:
        if isinstance(node, m.Record):
            count = node.count if node.count in (None, m.FLEX) else render(node.count)
            out.append((node.kind, node.member, count, node.packed, node.aligned,
                        _members(node.members, render)))
        elif isinstance(node, m.Bitfield):
            out.append(("bits", node.name, node.type, node.lo, node.hi))
        else:
            count = node.count if node.count in (None, m.FLEX) else render(node.count)
            out.append(("field", node.name, node.type.name, node.type.volatile, count))
    return out


class RoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.spec, products = cli.load(SPEC)
        # A layered product (layer_on) is not standalone: its headers hold what its base
        # lacks and compile only on top of it; the round trip takes whole products.
        cls.products = {p.name: p for p in products if p.flavor != "selector" and not p.layer_on}
        cls.imported = {}
        for name, product in cls.products.items():
            out = pathlib.Path(cls.tmp.name, name)
            import_product(product, cls.spec, out)
            cls.imported[name] = cli.load(out)     # loads and runs every spec check

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def selection(self, name, arch, spec=None):
        profile = (spec or self.spec).profiles[self.products[name].profile]
        return m.Selection(profile.name, profile.view, arch)

    def test_layout_facts_equal_the_committed_ones(self):
        for name in self.products:
            for arch in m.ARCHES:
                with self.subTest(product=name, arch=arch):
                    spec, _ = self.imported[name]
                    ours = layout.facts(Abi(spec, self.selection(name, arch, spec)))
                    expected = facts.load(REPO / "tests/layout" / name / f"{arch}.facts.json")
                    self.assertEqual(facts.compare(expected, ours), [])

    def test_definitions_equal_the_spec_header_by_header(self):
        for name, product in self.products.items():
            imported_spec, _ = self.imported[name]
            for arch in m.ARCHES:
                for header in product.headers:
                    if header.arch not in (None, arch):
                        continue
                    with self.subTest(product=name, arch=arch, header=header.path):
                        self.assertEqual(self.header_structure(imported_spec, product, header, arch),
                                         self.header_structure(self.spec, product, header, arch))

    def header_structure(self, spec, product, header, arch):
        abi, defs = header_defs(spec, product, header, arch)
        flavor = FLAVORS[product.flavor](abi.types)
        return [item for _, defn in defs for item in structure(defn, flavor)]


if __name__ == "__main__":
    unittest.main()
