"""Rendering keeps C's tokens apart: a negation of a negative value is not a decrement
(found by tools/fuzz_spec.py: `value: "--18"` was rendered as `--18`)."""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "gen"))

from hvabi.emit.flavors import Kernel, Uapi  # noqa: E402
from hvabi.emit import render  # noqa: E402
from hvabi.spec import expr  # noqa: E402


class Render(unittest.TestCase):
    def test_no_decrement_or_increment(self):
        for text, want in (("--18", "-(-18)"), ("-(-18)", "-(-18)"), ("+-1", "+(-1)"), ("~-1", "~-1"),
                           ("- +1", "-(+1)")):
            for flavor in (Kernel({}), Uapi({})):
                self.assertEqual(expr.render(expr.parse(text), flavor), want)


class DefineWidth(unittest.TestCase):
    """Macros as upstream writes them: an expression past 80 columns goes on continuation
    lines broken after an operator and aligned one past the open parenthesis; a single term
    keeps its aligned line up to 100."""

    def test_expression_wraps_at_80(self):
        got = render._define("HV_MESSAGE_MAX_PARTITION_VP_PAIR_COUNT",
                             "(((sizeof(struct hv_message) - sizeof(struct hv_message_header)) /"
                             " (sizeof(u64) + sizeof(u32))) - 1)", 48)
        self.assertEqual(got, "#define HV_MESSAGE_MAX_PARTITION_VP_PAIR_COUNT \\\n"
                         "\t(((sizeof(struct hv_message) - sizeof(struct hv_message_header)) / \\\n"
                         "\t  (sizeof(u64) + sizeof(u32))) - 1)")
        for line in got.splitlines():
            self.assertLessEqual(render._columns(line), 80, line)

    def test_short_expression_one_continuation(self):
        self.assertEqual(render._define("HV_X64_MSR_CRASH_PARAMS",
                                        "(1 + (HV_X64_MSR_CRASH_P4 - HV_X64_MSR_CRASH_P0))", 48),
                         "#define HV_X64_MSR_CRASH_PARAMS \\\n"
                         "\t(1 + (HV_X64_MSR_CRASH_P4 - HV_X64_MSR_CRASH_P0))")

    def test_single_term_stays_aligned_to_100(self):
        line = render._define("MSHV_GET_GPAP_ACCESS_BITMAP",
                              "_IOWR(MSHV_IOCTL, 0x06, struct mshv_gpap_access_bitmap)", 32)
        self.assertEqual(line, "#define MSHV_GET_GPAP_ACCESS_BITMAP\t"
                         "_IOWR(MSHV_IOCTL, 0x06, struct mshv_gpap_access_bitmap)")


if __name__ == "__main__":
    unittest.main()


class ArchBlocks(unittest.TestCase):
    """A group whose every macro is arch-specific renders as one chain, `#if x86` with all
    x86 values then `#elif arm64` with all arm64 ones (upstream's HV_MSR_* block), not a
    chain per macro; a group with an unconditional macro keeps its order."""

    @staticmethod
    def const(name, *per_arch):
        from hvabi import model as m
        return m.Const(name, values=[(m.Cond.on_arches([arch]), expr.parse(v)) for arch, v in per_arch])

    def chains(self, group):
        view = render.consts_view(group, Kernel({}), None)
        return [[test for test, _ in item.branches] for item in view.items
                if isinstance(item, render.Branches)]

    def test_one_chain_for_an_all_arch_group(self):
        from hvabi import model as m
        group = m.ConstGroup(None, items=[self.const("A", ("x86_64", "1"), ("arm64", "2")),
                                          self.const("B", ("x86_64", "3"), ("arm64", "4")),
                                          m.Const("C", cond=m.Cond.on_arches(["x86_64"]),
                                                  values=[(m.ALWAYS, expr.parse("5"))])])
        self.assertEqual(len(self.chains(group)), 1)
        view = render.consts_view(group, Kernel({}), None)
        x86, arm = view.items[0].branches[:2]
        self.assertEqual([v.text.split()[1] for v in x86[1]], ["A", "B", "C"])
        self.assertEqual([v.text.split()[1] for v in arm[1]], ["A", "B"])

    def test_unconditional_member_keeps_the_order(self):
        from hvabi import model as m
        group = m.ConstGroup(None, items=[self.const("A", ("x86_64", "1"), ("arm64", "2")),
                                          m.Const("U", values=[(m.ALWAYS, expr.parse("0"))]),
                                          self.const("B", ("x86_64", "3"), ("arm64", "4"))])
        self.assertEqual(len(self.chains(group)), 2)
