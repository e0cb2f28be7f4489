"""A header's `order:` file (products.ordered): the trio keeps its own definition order."""

import importlib.util
import pathlib
import sys
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))
from hvabi import model as m  # noqa: E402
from hvabi.emit import products, stamp  # noqa: E402

_td = importlib.util.spec_from_file_location("token_diff", REPO / "tools/token_diff.py")
td = importlib.util.module_from_spec(_td)
_td.loader.exec_module(td)

TLFS_6_12 = REPO / "build/kernel/linux-source-6.12"


def names(defs):
    return [d.name or d.items[0].name for _, d in defs]


class Ordered(unittest.TestCase):
    def header(self, order):
        return products.Header("h", "h.h", "_H", order=tuple(order))

    def defs(self):
        group = m.ConstGroup(None, items=[m.Const("C1"), m.Const("C2")])
        return [(None, d) for d in (m.Record("a"), m.Record("b"), group, m.Record("d"),
                                    m.Record("e"))]

    def test_listed_in_file_order_unlisted_after_spec_neighbour(self):
        out = products.ordered(self.defs(), self.header(["d", "a"]))
        self.assertEqual(names(out), ["d", "e", "a", "b", "C1"])

    def test_a_group_ranks_by_any_constant_and_unlisted_lead_stays_first(self):
        out = products.ordered(self.defs(), self.header(["C2", "b"]))
        self.assertEqual(names(out), ["a", "C1", "d", "e", "b"])

    def test_no_order_keeps_spec_order(self):
        defs = self.defs()
        self.assertEqual(products.ordered(defs, products.Header("h", "h.h", "_H")), defs)


def _sequence(text):
    out = []
    for item in td.items(td.tokenize(text)):
        name = td.item_name(item)
        if name and name.startswith(("#define", "struct", "union", "enum", "typedef")):
            out.append(name.split()[-1])
    return out


class TrioOrder(unittest.TestCase):
    """The generated trio places what it shares with Linux 6.12's in the same order: types
    one by one, a constant group where upstream defines the first of its constants (the
    order inside a group, and a group upstream splits, are tools/token_diff.py's count)."""

    def test_each_part_follows_upstream(self):
        from hvabi.cli import load
        spec, prods = load(REPO / "spec")
        tlfs = next(p for p in prods if p.name == "tlfs")
        for header in tlfs.headers:
            with self.subTest(header.path):
                _, defs = products.header_defs(spec, tlfs, header)
                key = {n: i for i, (_, d) in enumerate(defs) for n in products.defined_names(d)}
                ours = _sequence(stamp.remove((REPO / tlfs.root / header.path).read_text()))
                theirs = _sequence((TLFS_6_12 / header.path).read_text())
                common = set(ours) & set(theirs) & set(key)
                self.assertGreater(len(common), 4)
                self.assertEqual(_first_seen(ours, common, key), _first_seen(theirs, common, key))


def _first_seen(sequence, common, key):
    out = []
    for name in sequence:
        if name in common and key[name] not in out:
            out.append(key[name])
    return out


if __name__ == "__main__":
    unittest.main()
