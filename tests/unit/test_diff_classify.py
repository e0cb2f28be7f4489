"""hvabi.diff.classify on small hand-made facts documents: one test per rule of
docs/abi-diff.md, including the cases a layout-only differ gets wrong."""

import unittest

from hvabi import facts
from hvabi.diff.classify import classify, merge, reserved_by_name


def bits(path, lo, hi=None, reserved=False, type="u64"):
    """A bitfield member over bits lo..hi (inclusive) of the record."""
    hi = lo if hi is None else hi
    m = {"path": path, "offset": lo, "bits": hi - lo + 1, "bitfield": True, "type": type}
    if reserved:
        m["reserved"] = True
    return m


def plain(path, byte, size, type, reserved=False):
    m = {"path": path, "offset": 8 * byte, "bits": 8 * size, "type": type}
    if reserved:
        m["reserved"] = True
    return m


def doc(records=None, enumerators=None, macros=None):
    d = facts.new_facts("x86_64", "test")
    d["records"] = {name: {"kind": "union", "size": 8, "align": 8, "members": members}
                    for name, members in (records or {}).items()}
    d["enumerators"] = enumerators or {}
    d["macros"] = macros or {}
    return d


def register(*fields):
    """A register union: the raw u64 plus its bitfields."""
    return doc({"r": [plain("as_uint64", 0, 8, "u64"), *fields]})


def summary(findings):
    return sorted((f.member or f.definition, f.kind, f.severity) for f in findings)


class ReservedBits(unittest.TestCase):
    def test_reserved_range_named_with_a_reserved_remainder(self):
        # rust-vmm 91af527 on arm64: 14 new fields, reserved_bank1 shrinks from 18 to 4 bits.
        old = register(bits("a", 0, 45), bits("reserved_bank1", 46, 63))
        new = register(bits("a", 0, 45), bits("x", 46), bits("y", 47, 59),
                       bits("reserved_bank1", 60, 63))
        found = classify(old, new)
        self.assertEqual(summary(found), [("reserved_bank1", "reserved-named", "compatible")])
        self.assertEqual(found[0].detail, "reserved reserved_bank1 (bits 46-63) -> x (bit 46),"
                                          " y (bits 47-59), reserved_bank1 (bits 60-63)")

    def test_reserved_range_fully_named(self):
        old = register(bits("a", 0, 61), bits("reserved", 62, 63))
        new = register(bits("a", 0, 61), bits("b", 62), bits("c", 63))
        self.assertEqual(summary(classify(old, new)), [("reserved", "reserved-named", "compatible")])

    def test_reserved_range_split_and_renamed(self):
        old = register(bits("a", 0, 55), bits("reserved", 56, 63))
        split = register(bits("a", 0, 55), bits("rsvd0", 56, 59), bits("rsvd1", 60, 63))
        renamed = register(bits("a", 0, 55), bits("Reserved", 56, 63))
        self.assertEqual(summary(classify(old, split)), [("reserved", "reserved-split", "compatible")])
        self.assertEqual(summary(classify(old, renamed)),
                         [("reserved", "reserved-renamed", "compatible")])

    def test_adjacent_reserved_ranges_taken_by_one_field(self):
        old = register(bits("a", 0, 31), bits("reserved0", 32, 47), bits("reserved1", 48, 63))
        new = register(bits("a", 0, 31), bits("b", 32, 63))
        found = classify(old, new)
        self.assertEqual(summary(found), [("reserved0", "reserved-named", "compatible")])
        self.assertIn("reserved0 + reserved1 (bits 32-63) -> b (bits 32-63)", found[0].detail)

    def test_reserved_bits_left_unnamed(self):
        old = doc({"s": [plain("a", 0, 4, "u32"), plain("pad", 4, 4, "u32")]})
        new = doc({"s": [plain("a", 0, 4, "u32")]})
        self.assertEqual(summary(classify(old, new)), [("pad", "reserved-unnamed", "compatible")])

    def test_reserved_bytes_named(self):
        old = doc({"s": [plain("a", 0, 4, "u32"), plain("reserved", 4, 4, "u8[4]")]})
        new = doc({"s": [plain("a", 0, 4, "u32"), plain("b", 4, 2, "u16"), plain("c", 6, 2, "u16")]})
        found = classify(old, new)
        self.assertEqual(summary(found), [("reserved", "reserved-named", "compatible")])
        self.assertIn("reserved (bytes 4-7) -> b (bytes 4-5), c (bytes 6-7)", found[0].detail)

    def test_named_field_growing_into_reserved_bits_breaks(self):
        old = register(bits("vector", 0, 7), bits("reserved", 8, 63))
        new = register(bits("vector", 0, 15), bits("reserved", 16, 63))
        self.assertEqual(summary(classify(old, new)), [
            ("reserved", "reserved-removed", "review"),
            ("vector", "member-resized", "breaking"),
        ])

    def test_named_field_now_reserved_breaks(self):
        # rust-vmm f74ce6c on x86_64: lass_support became reserved0.
        old = register(bits("a", 0, 62), bits("lass_support", 63))
        new = register(bits("a", 0, 62), bits("reserved0", 63))
        found = classify(old, new)
        self.assertEqual(summary(found), [("lass_support", "member-reserved", "breaking")])
        self.assertIn("now reserved: reserved0 (bit 63)", found[0].detail)

    def test_adjacent_named_fields_withdrawn_into_one_reserved_field(self):
        # Linux hv_interrupt_control on arm64 (hvhdk.h 0b119045 -> 8927a108):
        # level_triggered (bit 32) and logical_dest_mode (bit 33) became rsvd1 (bits
        # 32-33); asserted took bit 34 out of the reserved tail.
        old = register(bits("level_triggered", 32, type="u32"),
                       bits("logical_dest_mode", 33, type="u32"), bits("rsvd", 34, 63, type="u32"))
        new = register(bits("rsvd1", 32, 33, type="u32"), bits("asserted", 34, type="u32"),
                       bits("rsvd2", 35, 63, type="u32"))
        found = classify(old, new)
        self.assertEqual(summary(found), [
            ("level_triggered", "member-reserved", "breaking"),
            ("logical_dest_mode", "member-reserved", "breaking"),
            ("rsvd", "reserved-named", "compatible"),
        ])
        self.assertIn("logical_dest_mode (bit 33) removed; its bits are now reserved: rsvd1"
                      " (bits 32-33)", [f.detail for f in found])

    def test_reserved_field_under_only_some_of_the_gone_fields(self):
        old = register(bits("a", 0), bits("b", 1), bits("c", 2, 63))
        new = register(bits("reserved", 0), bits("c", 2, 63))
        self.assertEqual(summary(classify(old, new)), [("a", "member-reserved", "breaking"),
                                                       ("b", "member-removed", "breaking")])

    # The unnamed tail of a storage unit: rust-vmm 842b84c, where bit 63 of
    # hv_partition_synthetic_processor_features was left out by the old bitfields.

    def test_reserved_field_growing_into_the_unnamed_tail(self):
        old = register(bits("a", 0, 32), bits("reserved", 33, 62))
        new = register(bits("a", 0, 32), bits("b", 33), bits("reserved", 34, 63))
        found = classify(old, new)
        self.assertEqual(summary(found), [("reserved", "reserved-named", "compatible")])
        self.assertEqual(found[0].detail, "reserved reserved + unnamed tail (bits 33-63) ->"
                                          " b (bit 33), reserved (bits 34-63)")
        self.assertEqual(found[0].old[1], {"path": None, "offset": 63, "bits": 1, "type": "u64",
                                           "reserved": True})
        grown = register(bits("a", 0, 32), bits("reserved", 33, 63))
        self.assertEqual(summary(classify(old, grown)),
                         [("reserved", "reserved-renamed", "compatible")])

    def test_unnamed_tail_named(self):
        old = register(bits("a", 0, 59))
        new = register(bits("a", 0, 59), bits("b", 60), bits("c", 61))
        found = classify(old, new)
        self.assertEqual(summary(found), [("b", "reserved-named", "compatible")])
        self.assertEqual(found[0].detail, "unnamed tail (bits 60-63) -> b (bit 60), c (bit 61)")

    def test_unnamed_tail_ends_with_a_packed_record(self):
        # struct { u64 a:4; } __packed is one byte: its tail is bits 4-7, not 4-63.
        old = doc({"s": [bits("a", 0, 3)]})
        old["records"]["s"].update(kind="struct", size=1, align=1)
        fits = doc({"s": [bits("a", 0, 3), bits("b", 4, 7)]})
        fits["records"]["s"].update(kind="struct", size=1, align=1)
        self.assertEqual(summary(classify(old, fits)), [("b", "reserved-named", "compatible")])
        grows = doc({"s": [bits("a", 0, 3), bits("b", 4, 11)]})
        grows["records"]["s"].update(kind="struct", size=2, align=1)
        self.assertEqual(summary(classify(old, grows)), [("b", "member-added", "compatible"),
                                                         ("s", "size-changed", "breaking")])

    def test_unnamed_tail_ends_where_the_next_member_begins(self):
        # struct { u32 a:20; u8 c; }: c is at byte 3, the tail bits 20-23.
        old = doc({"s": [bits("a", 0, 19, type="u32"), plain("c", 3, 1, "u8")]})
        fits = doc({"s": [bits("a", 0, 19, type="u32"), bits("b", 20, 23, type="u32"),
                          plain("c", 3, 1, "u8")]})
        pushes = doc({"s": [bits("a", 0, 19, type="u32"), bits("b", 20, 27, type="u32"),
                            plain("c", 4, 1, "u8")]})
        found = classify(old, fits)
        self.assertEqual(summary(found), [("b", "reserved-named", "compatible")])
        self.assertEqual(found[0].detail, "unnamed tail (bits 20-23) -> b (bits 20-23)")
        self.assertEqual(summary(classify(old, pushes)), [("b", "member-added", "compatible"),
                                                          ("c", "member-moved", "breaking")])

    def test_each_storage_unit_has_its_tail(self):
        # struct { u32 a:20; u32 b:20; }: b does not fit after a, so it opens the second
        # u32 at bit 32; bits 20-31 are the tail of the first, 52-63 of the second.
        old = doc({"s": [bits("a", 0, 19, type="u32"), bits("b", 32, 51, type="u32")]})
        new = doc({"s": [bits("a", 0, 19, type="u32"), bits("x", 20, 27, type="u32"),
                         bits("b", 32, 51, type="u32"), bits("y", 52, type="u32")]})
        found = classify(old, new)
        self.assertEqual(summary(found), [("x", "reserved-named", "compatible"),
                                          ("y", "reserved-named", "compatible")])
        self.assertEqual([f.detail for f in found], ["unnamed tail (bits 20-31) -> x (bits 20-27)",
                                                     "unnamed tail (bits 52-63) -> y (bit 52)"])

    def test_an_untouched_tail_is_silent(self):
        old = register(bits("a", 0, 3), bits("reserved", 4, 59))
        new = register(bits("a", 0, 3), bits("x", 4), bits("reserved", 5, 59))
        self.assertEqual(summary(classify(old, new)), [("reserved", "reserved-named", "compatible")])

    def test_a_gap_between_bitfields_is_not_a_tail(self):
        old = register(bits("a", 0, 3), bits("b", 8, 63))
        new = register(bits("a", 0, 3), bits("x", 4), bits("b", 8, 63))
        self.assertEqual(summary(classify(old, new)), [("x", "member-added", "compatible")])

    def test_named_members_moving_or_growing_into_the_tail_break(self):
        old = register(bits("a", 0, 59), bits("b", 60))
        moved = register(bits("a", 0, 59), bits("b", 62))
        grown = register(bits("a", 0, 59), bits("b", 60, 63))
        self.assertEqual(summary(classify(old, moved)), [("b", "member-moved", "breaking")])
        self.assertEqual(summary(classify(old, grown)), [("b", "member-resized", "breaking")])
        # and a reserved field growing into the tail past a member that moved there
        old = register(bits("a", 0, 32), bits("reserved", 33, 61), bits("b", 62))
        new = register(bits("a", 0, 32), bits("reserved", 33, 62), bits("b", 63))
        self.assertEqual(summary(classify(old, new)), [("b", "member-moved", "breaking"),
                                                       ("reserved", "reserved-removed", "review")])

    def test_spec_flag_decides_over_the_name(self):
        old = register(bits("a", 0, 61), bits("spare", 62, 63, reserved=True))
        new = register(bits("a", 0, 61), bits("b", 62), bits("reserved_c", 63))
        self.assertEqual(summary(classify(old, new, old_flags=True, new_flags=True)),
                         [("spare", "reserved-named", "compatible")])
        # By name, `spare` is an ordinary field that went away.
        self.assertIn(("spare", "member-removed", "breaking"), summary(classify(old, new)))

    def test_flag_dropped_in_place(self):
        old = register(bits("a", 0, 62), bits("x", 63, reserved=True))
        new = register(bits("a", 0, 62), bits("x", 63))
        self.assertEqual(summary(classify(old, new, old_flags=True, new_flags=True)),
                         [("x", "reserved-named", "compatible")])
        self.assertEqual(summary(classify(new, old, old_flags=True, new_flags=True)),
                         [("x", "member-reserved", "breaking")])

    def test_naming_fallback(self):
        for name in ("reserved", "Reserved_z44", "rsvd1", "RSVD", "pad", "padding3", "u.reserved"):
            self.assertTrue(reserved_by_name(name), name)
        for name in ("preserved", "spare", "reserved.x", "mask_reserved"):
            self.assertFalse(reserved_by_name(name), name)


class Members(unittest.TestCase):
    def test_rename_breaks_uapi_only(self):
        # rust-vmm f74ce6c on arm64: l1ip_vipt became ecv at the same bit.
        old = register(bits("l1ip_vipt", 0), bits("b", 1, 63))
        new = register(bits("ecv", 0), bits("b", 1, 63))
        self.assertEqual(summary(classify(old, new, uapi=True)),
                         [("l1ip_vipt", "member-renamed", "breaking")])
        self.assertEqual(summary(classify(old, new)), [("l1ip_vipt", "member-renamed", "review")])

    def test_moved_resized_retyped(self):
        old = doc({"s": [plain("a", 0, 4, "u32"), plain("b", 4, 4, "u32"), plain("c", 8, 8, "u64")]})
        new = doc({"s": [plain("a", 0, 2, "u16"), plain("b", 2, 2, "u16"), plain("c", 8, 8, "s64")]})
        found = classify(old, new)
        self.assertEqual(summary(found), [("a", "member-resized", "breaking"),
                                          ("b", "member-moved", "breaking"),
                                          ("c", "member-type-changed", "breaking")])
        self.assertEqual([f.detail for f in found], [
            "a: bytes 0-3 -> bytes 0-1, type u32 -> u16",
            "b: bytes 4-7 -> bytes 2-3, type u32 -> u16",
            "c: type u64 -> s64"])

    def test_bit_offset_change_shows_both_ranges(self):
        old = register(bits("as_intercept", 19), bits("reserved", 20, 63))
        new = register(bits("x", 19), bits("as_intercept", 20), bits("reserved", 21, 63))
        found = classify(old, new)
        self.assertIn(("as_intercept", "member-moved", "breaking"), summary(found))
        moved = next(f for f in found if f.kind == "member-moved")
        self.assertEqual(moved.detail, "as_intercept: bit 19 -> bit 20")

    def test_removed_and_added_members(self):
        old = doc({"s": [plain("a", 0, 4, "u32"), plain("b", 4, 4, "u32")]})
        new = doc({"s": [plain("a", 0, 4, "u32"), plain("c", 4, 4, "u32"), plain("d", 8, 4, "u32")]})
        new["records"]["s"]["size"] = 12
        self.assertEqual(summary(classify(old, new, uapi=True)), [
            ("b", "member-renamed", "breaking"),
            ("d", "member-added", "compatible"),
            ("s", "size-changed", "breaking"),
        ])

    def test_record_changes(self):
        old = doc({"s": [plain("a", 0, 8, "u64")], "gone": []})
        new = doc({"s": [plain("a", 0, 8, "u64")], "fresh": []})
        new["records"]["s"].update(kind="struct", align=4)
        self.assertEqual(summary(classify(old, new)), [
            ("fresh", "definition-added", "compatible"),
            ("gone", "definition-removed", "breaking"),
            ("s", "align-changed", "breaking"),
            ("s", "kind-changed", "breaking"),
        ])

    def test_record_renamed_with_its_layout(self):
        # Linux hvgdk_mini.h 8e73eeb4 -> cf82dd5e: struct hv_get_partition_id became
        # hv_output_get_partition_id, same single u64 member.
        old = doc({"hv_get_partition_id": [plain("partition_id", 0, 8, "u64")]})
        new = doc({"hv_output_get_partition_id": [plain("partition_id", 0, 8, "u64")]})
        found = classify(old, new)
        self.assertEqual(summary(found),
                         [("hv_get_partition_id", "definition-renamed", "review")])
        self.assertEqual((found[0].old, found[0].new),
                         ("hv_get_partition_id", "hv_output_get_partition_id"))
        self.assertEqual(summary(classify(old, new, uapi=True)),
                         [("hv_get_partition_id", "definition-renamed", "breaking")])

    def test_record_renames_need_a_unique_match(self):
        one = [plain("partition_id", 0, 8, "u64")]
        old = doc({"gone": one})
        new = doc({"fresh_a": one, "fresh_b": one})
        self.assertEqual(summary(classify(old, new)), [
            ("fresh_a", "definition-added", "compatible"),
            ("fresh_b", "definition-added", "compatible"),
            ("gone", "definition-removed", "breaking"),
        ])
        changed = doc({"fresh": [plain("partition_id", 0, 8, "s64")]})
        self.assertIn(("gone", "definition-removed", "breaking"), summary(classify(old, changed)))

    def test_unchanged_is_silent(self):
        old = register(bits("a", 0, 60), bits("reserved", 61, 63))
        self.assertEqual(classify(old, register(bits("a", 0, 60), bits("reserved", 61, 63))), [])


class Values(unittest.TestCase):
    def test_enumerators_and_macros(self):
        old = doc(enumerators={"E_A": 0, "E_B": 1}, macros={"M_X": 4, "M_GONE": 1})
        new = doc(enumerators={"E_A": 0, "E_B": 2, "E_C": 3}, macros={"M_X": 4})
        self.assertEqual(summary(classify(old, new)), [
            ("E_B", "value-changed", "breaking"),
            ("E_C", "definition-added", "compatible"),
            ("M_GONE", "definition-removed", "breaking"),
        ])

    def test_removed_constant_names_a_likely_rename(self):
        # Linux hvgdk_mini.h 8e73eeb4 -> cf82dd5e: HV_X64_VTL_MASK became HV_VTL_MASK.
        # Equal values do not prove a rename, so the removal stays breaking; it says so.
        old = doc(macros={"HV_X64_VTL_MASK": 15, "HV_MAP_GPA_PERMISSIONS_MASK": 15})
        new = doc(macros={"HV_VTL_MASK": 15, "HV_MAP_GPA_PERMISSIONS_MASK": 15})
        found = classify(old, new)
        removed = next(f for f in found if f.kind == "definition-removed")
        self.assertEqual(removed.severity, "breaking")
        self.assertEqual(removed.detail, "macro HV_X64_VTL_MASK removed (was 0xf);"
                                         " renamed to HV_VTL_MASK? (same value)")
        two = doc(macros={"HV_VTL_MASK": 15, "HV_X_MASK": 15, "HV_MAP_GPA_PERMISSIONS_MASK": 15})
        self.assertNotIn("renamed", next(f for f in classify(old, two)
                                         if f.kind == "definition-removed").detail)

    def test_missing_tables_are_not_removals(self):
        # pahole facts have records only.
        old = doc(macros={"M": 1})
        new = {k: v for k, v in doc().items() if k == "records" or k == "format"}
        self.assertEqual(classify(old, new), [])

    def test_descriptions_and_provenance(self):
        old_notes = {"r": {"doc": "A register.", "provenance": "header hvgdk_mini"},
                     "r.a": {"doc": "Bit a."}}
        new_notes = {"r": {"doc": "A register.", "provenance": "header hvgdk"},
                     "r.a": {"doc": "Bit a, now meaning something else."}}
        reg = register(bits("a", 0, 63))
        self.assertEqual(summary(classify(reg, reg, old_notes=old_notes, new_notes=new_notes)), [
            ("a", "doc-changed", "review"),
            ("r", "provenance-changed", "review"),
        ])


class Merge(unittest.TestCase):
    def test_same_change_on_both_arches_is_one_finding(self):
        old = register(bits("a", 0, 62), bits("reserved", 63))
        new = register(bits("a", 0, 62), bits("b", 63))
        arm_only = register(bits("a", 0, 62), bits("c", 63))
        merged = merge([("x86_64", classify(old, new)), ("arm64", classify(old, new)),
                        ("x86_64", []), ("arm64", classify(new, arm_only))])
        self.assertEqual([(f.kind, f.where) for f in merged], [      # worst first
            ("member-renamed", ["arm64"]),
            ("reserved-named", ["x86_64", "arm64"]),
        ])


if __name__ == "__main__":
    unittest.main()
