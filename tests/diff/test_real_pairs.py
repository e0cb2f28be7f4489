"""`hvabi diff` on real history: consecutive revisions of rust-vmm/mshv hv-headers/.

The snapshots in mshv-hv-headers/REV/ are facts only (snapshot_mshv.py). The expected
findings below were written by reading each upstream commit's diff, and list every
finding: anything more or less fails. Bit ranges are counted from the start of the union.
EXPECTED is a history (consecutive revisions); COMMITS are single commits outside it.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest discover -s tests/diff
"""

import os
import pathlib
import tempfile
import unittest

from hvabi.diff import compare, sources

HERE = pathlib.Path(__file__).resolve().parent
SNAPSHOTS = HERE / "mshv-hv-headers"
PPF = "hv_partition_processor_features"
XSAVE = "hv_partition_processor_xsave_features"
SYNTH = "hv_partition_synthetic_processor_features"
BOTH = ["x86_64", "arm64"]

# (old, new): [(definition[.member], kind, severity, where, "old -> new")]
EXPECTED = {
    # "hv-headers: add more supported CPU features": the second bank's reserved tail is
    # handed out to new features, on arm64 with a 4-bit reserved remainder that keeps
    # the old name. A layout-only differ calls reserved_bank1's shrink breaking.
    ("04c4d56", "91af527"): [
        (f"{PPF}.reserved_bank1", "reserved-named", "compatible", ["x86_64"],
         "reserved_bank1 126-127 -> idle_hlt_intercept_support 126, msr_list_support 127"),
        (f"{PPF}.reserved_bank1", "reserved-named", "compatible", ["arm64"],
         "reserved_bank1 110-127 -> gpa3 110, apa3_base 111, apa3_ep 112, apa3_ep2 113,"
         " apa3_ep2_fp 114, apa3_ep2_fpc 115, lrcpc3 116, sme 117, sme_f32_f32 118,"
         " sme_b16_f32 119, sme_f16_f32 120, sme_i8_i32 121, sme_f64_f64 122, sme_i16_i64 123,"
         " reserved_bank1 124-127"),
        ("HV_PARTITION_PROCESSOR_FEATURES_RESERVEDBANK1_BITFIELD_COUNT", "definition-added",
         "compatible", BOTH, "None -> 4"),
    ],
    # "hvgdk_mini.h: Introduce intermediate CR3": one new register name, x86 only.
    ("91af527", "4a71914"): [
        ("HV_X64_REGISTER_INTERMEDIATE_CR3", "definition-added", "compatible", ["x86_64"],
         "None -> 266242"),
    ],
    # "hv-headers: refresh hv_partition_processor_features union": the layout is
    # unchanged, which is why a layout-only differ passes it; but three arm64 bits and
    # one x86 bit now mean something else under a new name, and two x86 features are
    # withdrawn into reserved bits. For user space (uapi) all of that breaks.
    ("4a71914", "f74ce6c"): [
        (f"{PPF}.l1ip_vipt", "member-renamed", "breaking", ["arm64"], "l1ip_vipt 89 -> ecv 89"),
        (f"{PPF}.debug_v8", "member-renamed", "breaking", ["arm64"], "debug_v8 90 -> ecv_poff 90"),
        (f"{PPF}.debug_v8p2", "member-renamed", "breaking", ["arm64"],
         "debug_v8p2 91 -> nested_virt_support 91"),
        (f"{PPF}.lass_support", "member-reserved", "breaking", ["x86_64"],
         "lass_support 125 -> reserved0 125"),
        (f"{PPF}.idle_hlt_intercept_support", "member-reserved", "breaking", ["x86_64"],
         "idle_hlt_intercept_support 126 -> reserved1 126"),
        (f"{PPF}.msr_list_support", "member-renamed", "breaking", ["x86_64"],
         "msr_list_support 127 -> tsa_fill_no_supported 127"),
    ],
    # "hv-headers: refresh hv_partition_processor_xsave_features union": two new x86
    # features out of reserved1 (the rest stays reserved, renamed); the union moves under
    # #if defined(__x86_64__), so it is gone from arm64.
    ("f74ce6c", "1d9b3a4"): [
        (XSAVE, "definition-removed", "breaking", ["arm64"], "union 8 -> None"),
        (f"{XSAVE}.reserved1", "reserved-named", "compatible", ["x86_64"],
         "reserved1 38-63 -> apx_support 38, apx_nci_ndd_nf_support 39, reserved 40-63"),
        ("HV_PARTITION_PROCESSOR_XSAVE_FEATURES_RESERVED_BITFIELD_COUNT", "definition-added",
         "compatible", ["x86_64"], "None -> 24"),
    ],
    # "hv-headers: update synthetic feature definitions": access_vsm out of reserved_z16;
    # the 20 reserved tail bits become ten per-arch bits (named on one arch, reserved_zNN
    # on the other) and a 10-bit `Reserved`.
    ("1d9b3a4", "1e75b16"): [
        (f"{SYNTH}.reserved_z16", "reserved-named", "compatible", BOTH,
         "reserved_z16 16 -> access_vsm 16"),
        (f"{SYNTH}.reserved", "reserved-named", "compatible", ["x86_64"],
         "reserved 44-63 -> reserved_z44 44, map_partition_event_log_buffer 45,"
         " lower_vtl_guest_request_support 46, proxy_interrupt_redirect_support 47,"
         " install_intercept 48, reserved_z49 49, pin_gpa_page_range_support 50,"
         " heat_hint_beneficial_support 51, ring_buffer_message_port_support 52,"
         " flush_guest_physical_address_space 53, Reserved 54-63"),
        (f"{SYNTH}.reserved", "reserved-named", "compatible", ["arm64"],
         "reserved 44-63 -> management_vtl_spi_support 44, map_partition_event_log_buffer 45,"
         " reserved_z46 46, reserved_z47 47, install_intercept 48,"
         " access_reserved_sint_interrupt_id 49, pin_gpa_page_range_support 50,"
         " heat_hint_beneficial_support 51, ring_buffer_message_port_support 52,"
         " reserved_z53 53, Reserved 54-63"),
        ("HV_PARTITION_SYNTHETIC_PROCESSOR_FEATURES_RESERVED_BITFIELD_COUNT", "definition-added",
         "compatible", BOTH, "None -> 10"),
    ],
}


# (parent, commit): findings, as in EXPECTED.
COMMITS = {
    # "mshv: Add access_vp_regs synthetic proc features" (842b84c~1..842b84c): the old
    # bitfields end with reserved:30 at bit 62, leaving bit 63 of the u64 unnamed. Bits
    # 33-43 become eleven per-arch bits (named on one arch, reserved_zNN on the other;
    # wake_vps, access_vp_regs, management_vtl_synic_support and mmio_hypercalls on
    # both) and a 20-bit `reserved` that runs to bit 63: the old reserved range plus the
    # unnamed tail of the storage unit, handed out. No other definition changes.
    ("1c98eab", "842b84c"): [
        (f"{SYNTH}.reserved", "reserved-named", "compatible", ["x86_64"],
         "reserved 33-62, unnamed tail 63 -> nested_debug_ctl 33,"
         " synthetic_time_unhalted_timer 34, idle_spec_ctrl 35, reserved_z36 36, wake_vps 37,"
         " access_vp_regs 38, reserved_z39 39, management_vtl_synic_support 40,"
         " proxy_interrupt_doorbell_support 41, reserved_z42 42, mmio_hypercalls 43,"
         " reserved 44-63"),
        (f"{SYNTH}.reserved", "reserved-named", "compatible", ["arm64"],
         "reserved 33-62, unnamed tail 63 -> reserved_z33 33, reserved_z34 34, reserved_z35 35,"
         " register_intercepts_v1 36, wake_vps 37, access_vp_regs 38, sync_context 39,"
         " management_vtl_synic_support 40, reserved_z41 41, intercept_system_reset 42,"
         " mmio_hypercalls 43, reserved 44-63"),
    ],
}


def change(value):
    """A finding's old or new side as `name lo-hi, ...` (member spans) or the value."""
    if isinstance(value, list):
        return ", ".join((s["path"] or "unnamed tail") + (f" {s['offset']}" if s["bits"] == 1 else
                                      f" {s['offset']}-{s['offset'] + s['bits'] - 1}")
                         for s in value)
    if isinstance(value, dict):
        return f"{value['kind']} {value['size']}"
    return str(value)


def findings(old, new, flavor="uapi"):
    with tempfile.TemporaryDirectory() as tmp:
        sides = [sources.open_side(str(SNAPSHOTS / rev), tmp) for rev in (old, new)]
        [result] = compare.compare(sides, ("x86_64", "arm64"), [None], flavor)
        return result.findings


class RealPairs(unittest.TestCase):
    def test_every_pair_gives_exactly_the_expected_findings(self):
        for (old, new), expected in {**EXPECTED, **COMMITS}.items():
            with self.subTest(pair=f"{old}..{new}"):
                got = [(f.target, f.kind, f.severity, f.where, f"{change(f.old)} -> {change(f.new)}")
                       for f in findings(old, new)]
                self.assertCountEqual(got, expected)

    def test_history_scan_gives_the_same_findings(self):
        revs = [old for old, _ in EXPECTED] + [list(EXPECTED)[-1][1]]
        with tempfile.TemporaryDirectory() as tmp:
            sides = [sources.open_side(str(SNAPSHOTS / rev), tmp) for rev in revs]
            results = compare.compare(sides, ("x86_64", "arm64"), [None], "uapi")
        self.assertEqual([(r.old, r.new) for r in results],
                         [(str(SNAPSHOTS / old), str(SNAPSHOTS / new)) for old, new in EXPECTED])
        for result, pair in zip(results, EXPECTED):
            self.assertEqual([f.key() for f in result.findings], [f.key() for f in findings(*pair)])

    def test_the_pairs_are_consecutive(self):
        revs = [old for old, _ in EXPECTED] + [list(EXPECTED)[-1][1]]
        from snapshot_mshv import PAIRS, REVISIONS
        self.assertEqual(tuple(revs), REVISIONS)
        self.assertEqual(tuple(COMMITS), PAIRS)

    def test_kernel_flavor_renames_need_review_only(self):
        got = {(f.target, f.severity) for f in findings("4a71914", "f74ce6c", "kernel")}
        self.assertIn((f"{PPF}.l1ip_vipt", "review"), got)
        self.assertIn((f"{PPF}.lass_support", "breaking"), got)     # a removal stays breaking


@unittest.skipUnless(os.environ.get("MSHV_GIT_DIR"), "set MSHV_GIT_DIR to a clone of rust-vmm/mshv")
class Snapshots(unittest.TestCase):
    def test_snapshots_are_what_the_script_writes(self):
        import snapshot_mshv
        with tempfile.TemporaryDirectory() as tmp:
            for rev in snapshot_mshv.SNAPSHOTS:
                for arch, doc in snapshot_mshv.snapshot(os.environ["MSHV_GIT_DIR"], rev, tmp).items():
                    with self.subTest(rev=rev, arch=arch):
                        committed = (SNAPSHOTS / rev / f"{arch}.facts.json").read_text()
                        self.assertEqual(snapshot_mshv.dump(doc), committed)


if __name__ == "__main__":
    unittest.main()
