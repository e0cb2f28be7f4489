"""`hvabi diff` on real history: Linux include/hyperv/ (kernel flavor).

The snapshots in linux-include-hyperv/REV/ are facts only (snapshot_linux.py, which also
says which commit each of the five headers is read at). The expected findings below were
written by reading the C diff of each pair, and list every finding: anything more or less
fails. Changed and removed definitions are spelled out in full; new definitions, which
are compatible whatever their value, are listed by name and by where they appear.
Bit ranges are counted from the start of the record.

Run: cd /work/main && PYTHONPATH=gen /usr/bin/python3 -m unittest discover -s tests/diff
"""

import os
import pathlib
import tempfile
import unittest

from hvabi.diff import compare, sources
from test_real_pairs import change

HERE = pathlib.Path(__file__).resolve().parent
SNAPSHOTS = HERE / "linux-include-hyperv"
BOTH, X86, ARM = ["x86_64", "arm64"], ["x86_64"], ["arm64"]
GSP_IN, GSP_OUT = "hv_input_get_system_property", "hv_output_get_system_property"
REGPAGE = "hv_vp_register_page"

# The x86 register page members that hvhdk.h 8927a108 put under #if IS_ENABLED(CONFIG_X86):
# on arm64 they are gone (member path, first bit, last bit).
_REGPAGE_X86_ONLY = [
    ("registers", 64, 1215), ("gp_registers", 64, 1087),
    *[(r, 64 + 64 * i, 127 + 64 * i) for i, r in enumerate(
        ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"))],
    ("xmm_registers", 1216, 1983),
    *[(f"xmm{i}", 1216 + 128 * i, 1343 + 128 * i) for i in range(6)],
    ("segment_registers", 1984, 2751),
    *[(s, 1984 + 128 * i, 2111 + 128 * i) for i, s in enumerate(("es", "cs", "ss", "ds", "fs", "gs"))],
    *[(c, 2752 + 64 * i, 2815 + 64 * i) for i, c in enumerate(
        ("cr0", "cr3", "cr4", "cr8", "efer", "dr7", "pending_interruption", "interrupt_state",
         "instruction_emulation_hints"))],
]

# (old, new): [(definition[.member], kind, severity, where, "old -> new")]
EXPECTED = {
    # hvgdk_mini.h 8e73eeb4 -> cf82dd5e, hvhdk_mini.h b3cc7428 -> cf82dd5e. Two constants
    # renamed with their values kept: HV_X64_VTL_MASK (HV_VTL_MASK now serves arm64 too)
    # and HVCALL_GET_VP_ID_FROM_APIC_ID; code using the old names no longer builds, and
    # equal values cannot prove a rename, so they stay breaking (the detail names the
    # likely new name). A struct renamed with its layout kept needs review only in the
    # kernel. Two output structs grow. A layout-only differ sees no macros at all, and
    # calls the struct rename a removal.
    ("0b11904", "cf82dd5"): [
        ("HVCALL_GET_VP_ID_FROM_APIC_ID", "definition-removed", "breaking", BOTH, "154 -> None"),
        ("HV_X64_VTL_MASK", "definition-removed", "breaking", BOTH, "15 -> None"),
        ("hv_get_partition_id", "definition-renamed", "review", BOTH,
         "hv_get_partition_id -> hv_output_get_partition_id"),
        # A union member for a CPUID-like query, x86 only.
        (f"{GSP_IN}.hv_processor_feature", "member-added", "compatible", X86,
         "None -> hv_processor_feature 32-63"),
        # The output union grows from the u32 scheduler_type to 8 bytes on both arches
        # (crash-dump area and trampoline address; the processor feature value on x86).
        (GSP_OUT, "size-changed", "breaking", BOTH, "4 -> 8"),
        (f"{GSP_OUT}.hv_cda_info", "member-added", "compatible", BOTH, "None -> hv_cda_info 0-63"),
        (f"{GSP_OUT}.hv_tramp_pa", "member-added", "compatible", BOTH, "None -> hv_tramp_pa 0-63"),
        (f"{GSP_OUT}.hv_processor_feature_value", "member-added", "compatible", X86,
         "None -> hv_processor_feature_value 0-63"),
        # u64 ext_status_deprecated[5] appended after the (per-arch sized) interrupt entry.
        ("hv_output_map_device_interrupt", "size-changed", "breaking", X86, "16 -> 56"),
        ("hv_output_map_device_interrupt", "size-changed", "breaking", ARM, "24 -> 64"),
        ("hv_output_map_device_interrupt.ext_status_deprecated", "member-added", "compatible", X86,
         "None -> ext_status_deprecated 128-447"),
        ("hv_output_map_device_interrupt.ext_status_deprecated", "member-added", "compatible", ARM,
         "None -> ext_status_deprecated 192-511"),
        # __TRAILING_OVERLAP(struct hv_vpset, hv_vp_set, bank_contents, ...): gva_list now
        # overlays the flexible bank_contents; the offset filler is new, nothing moves.
        ("hv_tlb_flush_ex.__offset_to_bank_contents", "member-added", "compatible", BOTH,
         "None -> __offset_to_bank_contents 128-255"),
    ],
    # hvhdk_mini.h cf82dd5e -> 41362886: HV_INPUT_GET_SYSTEM_PROPERTY gets its u32
    # reserved field after property_id, so the argument union moves from byte 4 to byte 8
    # and widens to u64. A real break, and the one a layout-only differ gets right.
    ("cf82dd5", "4136288"): [
        (GSP_IN, "size-changed", "breaking", BOTH, "8 -> 16"),
        (f"{GSP_IN}.as_uint32", "member-reserved", "breaking", BOTH, "as_uint32 32-63 -> reserved 32-63"),
        (f"{GSP_IN}.hv_processor_feature", "member-moved", "breaking", X86,
         "hv_processor_feature 32-63 -> hv_processor_feature 64-95"),
        (f"{GSP_IN}.as_uint64", "member-added", "compatible", BOTH, "None -> as_uint64 64-127"),
    ],
    # hvhdk.h 0b119045 -> 8927a108. Arch-specific members: the register page becomes
    # x86-only inside (on arm64 only version/isvalid/rsvdz/dirty remain) and grows on x86;
    # hv_interrupt_control keeps x86's bits and gets GIC bits on arm64, where two x86
    # flags are withdrawn into rsvd1 and `asserted` comes out of the reserved tail. The
    # VP state page inputs narrow `type` to u16 to make room for input_vtl and flags, and
    # the map input grows a requested location. The *_COUNT sentinel moves with a new
    # page type.
    ("4136288", "8927a10"): [
        ("HV_VP_STATE_PAGE_COUNT", "value-changed", "breaking", BOTH, "2 -> 3"),
        ("hv_input_map_vp_state_page", "size-changed", "breaking", BOTH, "16 -> 24"),
        ("hv_input_map_vp_state_page.type", "member-resized", "breaking", BOTH, "type 96-127 -> type 96-111"),
        ("hv_input_map_vp_state_page.input_vtl", "member-added", "compatible", BOTH,
         "None -> input_vtl 112-119"),
        ("hv_input_map_vp_state_page.flags", "member-added", "compatible", BOTH, "None -> flags 120-127"),
        ("hv_input_map_vp_state_page.flags.as_uint8", "member-added", "compatible", BOTH,
         "None -> flags.as_uint8 120-127"),
        ("hv_input_map_vp_state_page.flags.map_location_provided", "member-added", "compatible", BOTH,
         "None -> flags.map_location_provided 120"),
        ("hv_input_map_vp_state_page.flags.reserved", "member-added", "compatible", BOTH,
         "None -> flags.reserved 121-127"),
        ("hv_input_map_vp_state_page.requested_map_location", "member-added", "compatible", BOTH,
         "None -> requested_map_location 128-191"),
        ("hv_input_unmap_vp_state_page.type", "member-resized", "breaking", BOTH,
         "type 96-127 -> type 96-111"),
        ("hv_input_unmap_vp_state_page.input_vtl", "member-added", "compatible", BOTH,
         "None -> input_vtl 112-119"),
        ("hv_input_unmap_vp_state_page.reserved0", "member-added", "compatible", BOTH,
         "None -> reserved0 120-127"),
        ("hv_interrupt_control.level_triggered", "member-reserved", "breaking", ARM,
         "level_triggered 32 -> rsvd1 32-33"),
        ("hv_interrupt_control.logical_dest_mode", "member-reserved", "breaking", ARM,
         "logical_dest_mode 33 -> rsvd1 32-33"),
        ("hv_interrupt_control.rsvd", "reserved-named", "compatible", ARM,
         "rsvd 34-63 -> asserted 34, rsvd2 35-63"),
        (REGPAGE, "size-changed", "breaking", X86, "416 -> 688"),
        (REGPAGE, "size-changed", "breaking", ARM, "416 -> 8"),
        (f"{REGPAGE}.xfem", "member-added", "compatible", X86, "None -> xfem 3328-3391"),
        (f"{REGPAGE}.reserved1", "member-added", "compatible", X86, "None -> reserved1 3392-5439"),
        (f"{REGPAGE}.interrupt_vectors", "member-added", "compatible", X86,
         "None -> interrupt_vectors 5440-5503"),
        *[(f"{REGPAGE}.{m}", "member-removed", "breaking", ARM, f"{m} {lo}-{hi} -> None")
          for m, lo, hi in _REGPAGE_X86_ONLY],
    ],
}

# (old, new): {where: names of new definitions (records, enums, enumerators, macros)}
ADDED = {
    ("0b11904", "cf82dd5"): {
        "both": """
            HVCALL_ACQUIRE_SPARSE_SPA_PAGE_HOST_ACCESS HVCALL_CLEAR_VIRTUAL_INTERRUPT
            HVCALL_DISABLE_HYP_EX HVCALL_ENTER_SLEEP_STATE HVCALL_GET_GPA_PAGES_ACCESS_STATES
            HVCALL_GET_PARTITION_PROPERTY_EX HVCALL_GET_VP_CPUID_VALUES
            HVCALL_GET_VP_INDEX_FROM_APIC_ID HVCALL_INSTALL_INTERCEPT HVCALL_MAP_STATS_PAGE
            HVCALL_MAP_STATS_PAGE2 HVCALL_NOTIFY_PARTITION_EVENT HVCALL_POST_MESSAGE_DIRECT
            HVCALL_REGISTER_INTERCEPT_RESULT HVCALL_RELEASE_SPARSE_SPA_PAGE_HOST_ACCESS
            HVCALL_SCRUB_PARTITION HVCALL_SET_SYSTEM_PROPERTY HVCALL_SIGNAL_EVENT_DIRECT
            HVCALL_TRANSLATE_VIRTUAL_ADDRESS HVCALL_UNMAP_STATS_PAGE
            HV_STATUS_INSUFFICIENT_CONTIGUOUS_MEMORY HV_HYP_LARGE_PAGE_SHIFT HV_NORMAL_VTL
            HV_VTL_MASK HYPERV_VS_PROPERTIES_EAX_CONFIDENTIAL_VMBUS_AVAILABLE
            HV_MAX_CONTIGUOUS_ALLOCATION_PAGES HV_PARTITION_VMM_CAPABILITIES_BANK_COUNT
            HV_PARTITION_VMM_CAPABILITIES_RESERVED_BITFIELD_COUNT HV_PFN_RANGE_PGBITS
            HV_REGISTER_VSM_CAPABILITIES HV_REGISTER_VSM_CODE_PAGE_OFFSETS
            HV_REGISTER_VSM_PARTITION_CONFIG
            HV_INTERCEPT_TYPE_EXCEPTION HV_INTERCEPT_TYPE_RESERVED0 HV_INTERCEPT_TYPE_MMIO
            HV_INTERCEPT_TYPE_HYPERCALL HV_INTERCEPT_TYPE_INVALID
            HV_PARTITION_PROPERTY_INTEGRATED_SCHEDULER_ENABLED HV_PARTITION_PROPERTY_XSAVE_STATES
            HV_PARTITION_PROPERTY_VMM_CAPABILITIES
            HV_STATS_AREA_SELF HV_STATS_AREA_PARENT HV_STATS_AREA_INTERNAL HV_STATS_AREA_COUNT
            HV_STATS_OBJECT_HYPERVISOR HV_STATS_OBJECT_LOGICAL_PROCESSOR HV_STATS_OBJECT_PARTITION
            HV_STATS_OBJECT_VP
            HV_SNP_STATUS_NONE HV_SNP_STATUS_AVAILABLE HV_SNP_STATUS_INCOMPATIBLE
            HV_SNP_STATUS_PSP_UNAVAILABLE HV_SNP_STATUS_PSP_INIT_FAILED
            HV_SNP_STATUS_PSP_BAD_FW_VERSION HV_SNP_STATUS_BAD_CONFIGURATION
            HV_SNP_STATUS_PSP_FW_UPDATE_IN_PROGRESS HV_SNP_STATUS_PSP_RB_INIT_FAILED
            HV_SNP_STATUS_PSP_PLATFORM_STATUS_FAILED HV_SNP_STATUS_PSP_INIT_LATE_FAILED
            HV_SYSTEM_PROPERTY_SLEEP_STATE HV_DYNAMIC_PROCESSOR_FEATURE_PROPERTY
            HV_SYSTEM_PROPERTY_CRASHDUMPAREA
            HV_SLEEP_STATE_S1 HV_SLEEP_STATE_S2 HV_SLEEP_STATE_S3 HV_SLEEP_STATE_S4
            HV_SLEEP_STATE_S5 HV_SLEEP_STATE_LOCK
            HV_X64_DYNAMIC_PROCESSOR_FEATURE_MAX_ENCRYPTED_PARTITIONS
            HV_X64_DYNAMIC_PROCESSOR_FEATURE_SNP_STATUS
            HV_CRASHDUMP_NONE HV_CRASHDUMP_SUSPEND_ALL_VPS HV_CRASHDUMP_PREPARE_FOR_STATE_SAVE
            HV_CRASHDUMP_STATE_SAVED HV_CRASHDUMP_ENTRY HV_PARTITION_EVENT_ROOT_CRASHDUMP
            hv_register_vsm_partition_config hv_register_vsm_capabilities
            hv_register_vsm_page_offsets hv_intercept_type hv_intercept_parameters
            hv_stats_area_type hv_stats_object_type hv_stats_object_identity
            hv_partition_property_vmm_capabilities hv_snp_status hv_pfn_range hv_sleep_state
            hv_dynamic_processor_feature_property hv_sleep_state_info
            hv_input_set_system_property hv_input_enter_sleep_state hv_input_map_stats_page
            hv_input_map_stats_page2 hv_output_map_stats_page hv_input_unmap_stats_page
            hv_crashdump_action hv_partition_event_root_crashdump_input hv_input_disable_hyp_ex
            hv_crashdump_area hv_partition_event_input hv_partition_event
            hv_input_notify_partition_event""",
        # HV_INTERCEPT_TYPE_MAX follows the last enumerator, which is x86-only: 0xd on
        # x86, 9 on arm64, so two findings.
        "x86_64": """
            HV_INTERCEPT_TYPE_X64_IO_PORT HV_INTERCEPT_TYPE_X64_MSR HV_INTERCEPT_TYPE_X64_CPUID
            HV_INTERCEPT_TYPE_X64_GLOBAL_CPUID HV_INTERCEPT_TYPE_X64_APIC_SMI
            HV_INTERCEPT_TYPE_X64_APIC_INIT_SIPI HV_INTERCEPT_MC_UPDATE_PATCH_LEVEL_MSR_READ
            HV_INTERCEPT_TYPE_X64_APIC_WRITE HV_INTERCEPT_TYPE_X64_MSR_INDEX HV_INTERCEPT_TYPE_MAX
            HV_VP_DISPATCH_INTERRUPT_INJECTION_AVAILABLE HV_VP_GHCB_ROOT_MAPPING_AVAILABLE
            HV_X64_REGISTER_DR0 HV_X64_REGISTER_DR1 HV_X64_REGISTER_DR2 HV_X64_REGISTER_DR3
            HV_X64_REGISTER_DR6 HV_X64_REGISTER_DR7 HV_X64_REGISTER_REG_PAGE
            HV_X64_REGISTER_MSR_MTRR_CAP HV_X64_REGISTER_MSR_MTRR_DEF_TYPE
            HV_X64_REGISTER_MSR_MTRR_FIX64K00000 HV_X64_REGISTER_MSR_MTRR_FIX16K80000
            HV_X64_REGISTER_MSR_MTRR_FIX16KA0000 HV_X64_REGISTER_MSR_MTRR_FIX4KC0000
            HV_X64_REGISTER_MSR_MTRR_FIX4KC8000 HV_X64_REGISTER_MSR_MTRR_FIX4KD0000
            HV_X64_REGISTER_MSR_MTRR_FIX4KD8000 HV_X64_REGISTER_MSR_MTRR_FIX4KE0000
            HV_X64_REGISTER_MSR_MTRR_FIX4KE8000 HV_X64_REGISTER_MSR_MTRR_FIX4KF0000
            HV_X64_REGISTER_MSR_MTRR_FIX4KF8000 """
            + " ".join(f"HV_X64_REGISTER_MSR_MTRR_PHYS_{kind}{i:X}"
                       for kind in ("BASE", "MASK") for i in range(16)),
        "arm64": "HV_INTERCEPT_TYPE_MAX",
    },
    ("cf82dd5", "4136288"): {
        "both": """HV_PARTITION_ALL_LOGICAL_PROCESSORS_STARTED
                   hv_input_get_logical_processor_run_time hv_output_get_logical_processor_run_time""",
    },
    ("4136288", "8927a10"): {
        "both": """
            hv_stats_page HV_VP_REGISTER_PAGE_MAX_VECTOR_COUNT hv_vp_register_page_interrupt_vectors
            HV_PARTITION_CREATION_FLAG_SMT_ENABLED_GUEST
            HV_PARTITION_CREATION_FLAG_NESTED_VIRTUALIZATION_CAPABLE
            HV_PARTITION_CREATION_FLAG_GPA_SUPER_PAGES_ENABLED
            hv_partition_property_arg hv_input_get_partition_property_ex
            HV_PARTITION_PROPERTY_EX_MAX_VAR_SIZE hv_partition_property_ex
            hv_output_get_partition_property_ex HV_VP_STATE_PAGE_GHCB hv_x64_apic_eoi_message
            hv_async_completion_message_payload hv_x64_vp_execution_state
            hv_x64_intercept_message_header hv_x64_memory_access_info
            hv_x64_memory_intercept_message HV_DISPATCH_VP_FLAG_SCAN_INTERRUPT_INJECTION
            hv_input_modify_sparse_spa_page_host_access
            HV_MODIFY_SPA_PAGE_HOST_ACCESS_MAKE_EXCLUSIVE HV_MODIFY_SPA_PAGE_HOST_ACCESS_MAKE_SHARED
            HV_MODIFY_SPA_PAGE_HOST_ACCESS_LARGE_PAGE HV_MODIFY_SPA_PAGE_HOST_ACCESS_HUGE_PAGE""",
        "arm64": """hv_arm64_vp_execution_state hv_arm64_intercept_message_header
                    hv_arm64_memory_access_info hv_arm64_memory_intercept_message""",
    },
}
WHERE = {"both": BOTH, "x86_64": X86, "arm64": ARM}


def findings(old, new):
    with tempfile.TemporaryDirectory() as tmp:
        sides = [sources.open_side(str(SNAPSHOTS / rev), tmp) for rev in (old, new)]
        [result] = compare.compare(sides, ("x86_64", "arm64"), [None], "kernel")
        return result.findings


class LinuxPairs(unittest.TestCase):
    def test_every_pair_gives_exactly_the_expected_findings(self):
        for (old, new), expected in EXPECTED.items():
            with self.subTest(pair=f"{old}..{new}"):
                found = findings(old, new)
                got = [(f.target, f.kind, f.severity, f.where, f"{change(f.old)} -> {change(f.new)}")
                       for f in found if f.kind != "definition-added"]
                self.assertCountEqual(got, expected)
                added = [(f.target, f.where) for f in found if f.kind == "definition-added"]
                self.assertCountEqual(added, [(name, WHERE[where])
                                              for where, names in ADDED[(old, new)].items()
                                              for name in names.split()])

    def test_the_pairs_are_consecutive(self):
        from snapshot_linux import REVISIONS
        revs = [old for old, _ in EXPECTED] + [list(EXPECTED)[-1][1]]
        self.assertEqual(revs, list(REVISIONS))
        self.assertEqual(list(ADDED), list(EXPECTED))

    def test_renamed_constants_are_named_in_the_detail(self):
        details = {f.target: f.detail for f in findings("0b11904", "cf82dd5")}
        self.assertTrue(details["HV_X64_VTL_MASK"].endswith("renamed to HV_VTL_MASK? (same value)"))
        self.assertTrue(details["HVCALL_GET_VP_ID_FROM_APIC_ID"].endswith(
            "renamed to HVCALL_GET_VP_INDEX_FROM_APIC_ID? (same value)"))

    def test_uapi_flavor_makes_the_struct_rename_breaking(self):
        with tempfile.TemporaryDirectory() as tmp:
            sides = [sources.open_side(str(SNAPSHOTS / rev), tmp) for rev in ("0b11904", "cf82dd5")]
            [result] = compare.compare(sides, ("x86_64", "arm64"), [None], "uapi")
        renamed = [f for f in result.findings if f.kind == "definition-renamed"]
        self.assertEqual([(f.target, f.severity) for f in renamed], [("hv_get_partition_id", "breaking")])

    def test_last_revision_is_the_parity_reference(self):
        # tests/reference/linux-hvhdk-*.facts.json came from the same five files.
        import json
        for arch in ("x86_64", "arm64"):
            ours = json.loads((SNAPSHOTS / "8927a10" / f"{arch}.facts.json").read_text())
            ref = json.loads((HERE.parent / "reference" / f"linux-hvhdk-{arch}.facts.json").read_text())
            ours.pop("source"), ref.pop("source")
            self.assertEqual(ours, ref, arch)


@unittest.skipUnless(os.environ.get("LINUX_REVS"),
                     "set LINUX_REVS to a Linux clone, or to a directory of COMMIT/include/hyperv/FILE")
class Snapshots(unittest.TestCase):
    def test_snapshots_are_what_the_script_writes(self):
        import snapshot_linux
        from snapshot_mshv import dump
        with tempfile.TemporaryDirectory() as tmp:
            for rev in snapshot_linux.REVISIONS:
                for arch, doc in snapshot_linux.snapshot(os.environ["LINUX_REVS"], rev, tmp).items():
                    with self.subTest(rev=rev, arch=arch):
                        committed = (SNAPSHOTS / rev / f"{arch}.facts.json").read_text()
                        self.assertEqual(dump(doc), committed)


if __name__ == "__main__":
    unittest.main()
