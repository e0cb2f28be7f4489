"""The TLFS inventory reader (tests/reference/tlfs_inventory.py), the name-mapping rule
and the documentation coverage report (hvabi coverage --tlfs-inventory)."""

import importlib.util
import json
import pathlib
import shutil
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import tlfs_coverage as tc  # noqa: E402
from hvabi.errors import HvabiError  # noqa: E402

sys.path.append(str(REPO / "tests"))      # appended: tests/unit's own modules come first
from testlib import hvabi_here  # noqa: E402

INVENTORY = REPO / "tests/reference/tlfs-inventory.json"
OPENVMM = REPO / "tests/reference/openvmm-hvdef.json"
EXCEPTIONS_FILE = REPO / "tests/reference/tlfs-exceptions.yaml"


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "tests/reference" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REPO / "tests/reference"))
    spec.loader.exec_module(module)
    return module


inv = _script("tlfs_inventory")
hvdef = _script("openvmm_hvdef")

# Made-up pages in the shapes the TLFS uses (not TLFS text).
PAGES = {
    "hypercalls/overview.md": "# Hypercall Reference\n\n| Call Code | Type | Hypercall |\n|---|---|---|\n"
                              "| 0x0002 | Simple | [HvCallFooBar](HvCallFooBar.md) |\n"
                              "| 0x8009 | Rep | HvExtCallQux |\n",
    "hypercalls/HvCallFooBar.md": "# HvCallFooBar\n\n## Interface\n\n```c\nHV_STATUS\nHvCallFooBar(\n"
                                  "    _In_ UINT64 A\n    );\n```\n\n## Call Code\n\n`0x0002` (Simple)\n",
    "datatypes/hv_thing.md": "# HV_THING\n\n```c\n#define HV_THING_COUNT (1ULL << 4)\n"
                             "#define HV_X64_MSR_THING 0x40000099\n"
                             "typedef UINT32 HV_THING_ID, *PHV_THING_ID;\n"
                             "typedef union _HV_THING {\n    UINT64 AsUINT64;\n"
                             "#if defined(_AMD64_)\n    struct {\n        UINT64 Low:1;\n"
                             "        UINT64 Rest:63\n    } X;\n#else\n    UINT32 Arm[2];\n#endif\n"
                             "} HV_THING;\n"
                             "typedef enum {\n    HvThingA = 1,\n    HvThingB,\n    HvThingC = 0x10\n}"
                             " HV_THING_KIND;\n```\n\n| Name | Value |\n|---|---|\n"
                             "| HV_THING_NONE | 0x0 |\n",
    "registers.md": "# Registers\n\n## x64 Architecture Registers\n\n| Register | Identifier |\n|---|---|\n"
                    "| HvRegisterPendingThing | 0x00010002 |\n| HvX64RegisterRax | 0x00020000 |\n"
                    "\n## ARM64 Architecture Registers\n\n| Register | Identifier |\n|---|---|\n"
                    "| HvArm64RegisterCcsidrEl1 / Ccsidr2El1 | 0x00040030 /0x00040031 |\n"
                    "| HvArm64RegisterFp (X29) | 0x0002001D |\n\n"
                    "| MSR address | Register Name |\n|---|---|\n| 0x40000080 | SCONTROL |\n"
                    "| 0x000D0006 | HV_X64_REGISTER_NOT_AN_MSR |\n| 0x000D0007 | NOTANMSR |\n\n"
                    "Mentions HvRegisterMentioned and HV_X64_MSR_ONLY_NAMED in prose.\n",
}


class NameRule(unittest.TestCase):
    def test_words(self):
        for camel, upper in [("CreatePartition", "CREATE_PARTITION"),
                             ("GetVpIndexFromApicId", "GET_VP_INDEX_FROM_APIC_ID"),
                             ("MapStatsPage2", "MAP_STATS_PAGE2"), ("GuestCrashP0", "GUEST_CRASH_P0"),
                             ("CrInterceptCr0Mask", "CR_INTERCEPT_CR0_MASK"),
                             ("InterceptTypeX64IoPort", "INTERCEPT_TYPE_X64_IO_PORT"),
                             ("ProcessorCLFlushSize", "PROCESSOR_CL_FLUSH_SIZE"),
                             ("Ia32MiscEnable", "IA32_MISC_ENABLE"), ("Sint15", "SINT15")]:
            self.assertEqual(tc.words(camel), upper, camel)

    def test_c_names(self):
        self.assertEqual(tc.c_names("hypercall", "HvCallFlushVirtualAddressList"),
                         ["HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST"])
        self.assertEqual(tc.c_names("hypercall", "HvExtCallQueryCapabilities"),
                         ["HV_EXT_CALL_QUERY_CAPABILITIES"])
        self.assertEqual(tc.c_names("register", "HvRegisterSint0", "common"), ["HV_REGISTER_SINT0"])
        self.assertEqual(tc.c_names("register", "HvRegisterPendingInterruption", "x64"),
                         ["HV_REGISTER_PENDING_INTERRUPTION", "HV_X64_REGISTER_PENDING_INTERRUPTION"])
        self.assertEqual(tc.c_names("register", "HvX64RegisterRip", "x64"),
                         ["HV_X64_REGISTER_RIP", "HV_REGISTER_RIP"])
        self.assertEqual(tc.c_names("register", "HvArm64RegisterSpEl0", "arm64"),
                         ["HV_ARM64_REGISTER_SP_EL0", "HV_REGISTER_SP_EL0"])
        self.assertEqual(tc.c_names("enumerator", "HvPartitionPropertyPrivilegeFlags"),
                         ["HV_PARTITION_PROPERTY_PRIVILEGE_FLAGS"])
        self.assertEqual(tc.c_names("type", "HV_MESSAGE_HEADER"), ["hv_message_header"])
        self.assertEqual(tc.c_names("typedef", "HV_GPA"), ["hv_gpa", "hv_gpa_t"])
        self.assertEqual(tc.c_names("msr", "HV_X64_MSR_SCONTROL"), ["HV_X64_MSR_SCONTROL"])

    def test_records_of_hypercalls(self):
        self.assertEqual(tc.hypercall_records("HvCallCreatePartition"),
                         ["hv_input_create_partition", "hv_output_create_partition"])
        self.assertTrue(tc.record_of_hypercall("hv_tlb_flush", "HvCallFlushVirtualAddressList"))
        self.assertTrue(tc.record_of_hypercall("hv_send_ipi", "HvCallSendSyntheticClusterIpi"))
        self.assertFalse(tc.record_of_hypercall("hv_gpa_page_range", "HvCallFlushGuestPhysicalAddressList"))


class Inventory(unittest.TestCase):
    def setUp(self):
        self.doc = inv.inventory(PAGES, "0" * 40)

    def named(self, table, name, arch=None):
        rows = [r for r in self.doc[table] if r["name"] == name and (arch is None or r.get("arch") == arch)]
        self.assertEqual(len(rows), 1, f"{table} {name}: {rows}")
        return rows[0]

    def test_hypercalls(self):
        h = self.named("hypercalls", "HvCallFooBar")
        self.assertEqual((h["code"], h["call_kind"]), (2, "Simple"))
        self.assertEqual(h["pages"], ["hypercalls/HvCallFooBar.md", "hypercalls/overview.md"])
        self.assertEqual(self.named("hypercalls", "HvExtCallQux")["code"], 0x8009)

    def test_types(self):
        t = self.named("types", "HV_THING")
        self.assertEqual(t["kind"], "union")
        members = t["definitions"][0]["members"]
        self.assertEqual([m["name"] for m in members], ["AsUINT64", "X", "Arm"])
        self.assertEqual(members[1]["arch"], "x86_64")
        self.assertEqual([(m["name"], m["bits"]) for m in members[1]["members"]], [("Low", 1), ("Rest", 63)])
        self.assertEqual((members[2]["arch"], members[2]["count"], members[2]["type"]), ("arm64", "2", "UINT32"))
        e = self.named("types", "HV_THING_KIND")["definitions"][0]["enumerators"]
        self.assertEqual([(x["name"], x["value"]) for x in e], [("HvThingA", 1), ("HvThingB", 2), ("HvThingC", 16)])

    def test_typedefs_constants_msrs(self):
        self.assertEqual(self.named("typedefs", "HV_THING_ID")["type"], "UINT32")
        self.assertEqual(self.named("constants", "HV_THING_COUNT")["value"], 16)
        self.assertEqual(self.named("constants", "HV_THING_NONE")["value"], 0)
        self.assertEqual(self.named("msrs", "HV_X64_MSR_THING")["value"], 0x40000099)
        self.assertEqual(self.named("msrs", "HV_X64_MSR_SCONTROL")["value"], 0x40000080)
        self.assertIsNone(self.named("msrs", "HV_X64_MSR_ONLY_NAMED").get("value"))
        msrs = [m["name"] for m in self.doc["msrs"]]
        self.assertNotIn("HV_X64_MSR_HV_X64_REGISTER_NOT_AN_MSR", msrs)
        self.assertNotIn("HV_X64_MSR_NOTANMSR", msrs)          # 0x000D0007 is no synthetic MSR

    def test_registers(self):
        self.assertEqual(self.named("registers", "HvRegisterPendingThing")["arch"], "x64")
        self.assertEqual(self.named("registers", "HvX64RegisterRax")["value"], 0x00020000)
        self.assertEqual(self.named("registers", "HvArm64RegisterCcsidr2El1")["value"], 0x00040031)
        self.assertEqual(self.named("registers", "HvArm64RegisterFp")["value"], 0x0002001D)
        self.assertEqual(self.named("registers", "HvRegisterMentioned")["arch"], "common")

    def test_deterministic(self):
        again = inv.inventory(dict(reversed(list(PAGES.items()))), "0" * 40)
        self.assertEqual(inv.dump(self.doc), inv.dump(again))

    def test_committed_inventory_is_facts_only(self):
        doc = tc.load_facts(INVENTORY, ("pages", "hypercalls", "types", "typedefs", "constants",
                                        "msrs", "registers"))
        self.assertEqual(len(doc["source"]["commit"]), 40)
        self.assertGreater(len(doc["hypercalls"]), 50)
        text = INVENTORY.read_text()
        self.assertEqual(text, inv.dump(json.loads(text)), "not in the tool's deterministic form")


class OpenvmmFacts(unittest.TestCase):
    SOURCE = """
    open_enum! { pub enum HypercallCode: u16 {
        #![expect(non_upper_case_globals)]
        HvCallFoo = 0x0002, // a comment = 7
        HvExtCallBar = 0x8001,
    } }
    pub const HV_X64_MSR_GUEST_OS_ID: u32 = 0x40000000;
    macro_rules! registers { ($name:ident { $($variant:ident = $value:expr),* }) => {
        open_enum! { pub enum $name: u32 { $($variant = $value,)* Sint0 = 0x000A0000, } }
    }; }
    registers! { HvX64RegisterName { Rax = 0x00020000, } }
    registers! { HvArm64RegisterName { X0 = 0x00020000, } }
    """

    def test_facts(self):
        doc = hvdef.facts(self.SOURCE, "1" * 40)
        self.assertEqual([(h["name"], h["code"]) for h in doc["hypercalls"]],
                         [("HvCallFoo", 2), ("HvExtCallBar", 0x8001)])
        self.assertEqual([(r["arch"], r["name"], r["value"]) for r in doc["registers"]],
                         [("common", "HvRegisterSint0", 0xA0000), ("x64", "HvX64RegisterRax", 0x20000),
                          ("arm64", "HvArm64RegisterX0", 0x20000)])
        self.assertEqual(doc["msrs"], [{"name": "HV_X64_MSR_GUEST_OS_ID", "value": 0x40000000}])

    def test_changed_shape_is_an_error(self):
        with self.assertRaises(hvdef.HvdefError):
            hvdef.facts("pub struct Nothing;", "1" * 40)


class FakeNames:
    """SpecNames with chosen contents."""

    def __init__(self, values, links):
        self.values = {"x86_64": values, "arm64": values}
        self.types = {"x86_64": {"hv_thing"}, "arm64": {"hv_thing"}}
        self.enum_items = {"hv_thing_kind": {1: {"HV_THING_KIND_A"}}}
        self.links = links

    has = tc.SpecNames.has
    value_names = tc.SpecNames.value_names
    values_of = tc.SpecNames.values_of


class Report(unittest.TestCase):
    def setUp(self):
        self.doc = inv.inventory(PAGES, "0" * 40)

    def test_findings(self):
        names = FakeNames({"HVCALL_FOO_BAR": {2}, "HV_X64_MSR_THING": {0x40000098},
                           "HV_X64_REGISTER_RAX_OTHER": {0x20000}}, {})
        found = {(f.category, f.name): f for f in tc.compare_inventory(self.doc, names)}
        self.assertEqual(found["hypercalls", "HvCallFooBar"].status, "in spec")
        self.assertEqual(found["hypercalls", "HvExtCallQux"].status, "missing")
        self.assertEqual(found["types", "HV_THING"].status, "in spec")
        self.assertEqual(found["types", "HV_THING_KIND"].status, "missing")
        self.assertEqual(found["enumerators", "HvThingA"].status, "other name")   # by value
        self.assertEqual(found["enumerators", "HvThingB"].status, "missing")
        msr = found["msrs", "HV_X64_MSR_THING"]
        self.assertEqual(msr.status, "in spec")
        self.assertTrue(msr.note.startswith("value differs"), msr.note)
        rax = found["registers x64", "HvX64RegisterRax"]
        self.assertEqual((rax.status, rax.note), ("other name", "spec has HV_X64_REGISTER_RAX_OTHER"))

    def test_links(self):
        links = {1: ("datatypes/hv_thing.md", "a.yaml:1", {"hv_thing"}, True),
                 2: ("datatypes/hv_thing.md", "a.yaml:2", {"hv_other"}, True),
                 3: ("no/such/page.md", "a.yaml:3", {"hv_thing"}, True),
                 4: ("hypercalls/HvCallFooBar.md", "a.yaml:4", {"hv_input_foo_bar"}, True),
                 5: ("hypercalls/HvCallFooBar.md", "a.yaml:5", {"HVCALL_RENAMED"}, False),
                 6: ("registers.md", "a.yaml:6", {"HV_REGISTER_MENTIONED"}, False)}
        names = FakeNames({"HVCALL_RENAMED": {2}}, links)
        bad, _, _, checked = tc.check_links(self.doc, names)
        self.assertEqual(checked, 6)
        self.assertEqual([b[1] for b in bad], ["a.yaml:2", "a.yaml:3"])

    def test_load_facts_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, "inv.json")
            path.write_text('{"format": 1,\n "source": {},\n "hypercalls": [\n')
            with self.assertRaises(HvabiError) as e:
                tc.load_facts(path, ("hypercalls",))
            self.assertTrue(str(e.exception).startswith(f"{path}:4: error: not JSON"), str(e.exception))
            path.write_text('{"format": 1, "source": {},\n "hypercalls": [\n {"name": "HvCallX", "code": "2"}]}\n')
            with self.assertRaises(HvabiError) as e:
                tc.load_facts(path, ("hypercalls",))
            self.assertIn(f"{path}:3: error: hypercalls: HvCallX: code is not an integer", str(e.exception))


EXCEPTIONS = """hvabi: 2
renamed:
  - category: enumerators
    why: The spec spells it differently.
    names: {HvThingA: HV_THING_KIND_A}
absent:
  - category: enumerators
    why: Not in the spec, for a reason.
    names: [HvThingB]
  - category: types
    why: Not in the spec either.
    names: [HV_THING_KIND]
links:
  - page: datatypes/hv_thing.md
    why: The page documents hv_other as HV_THING_COUNT.
    names: {hv_other: HV_THING_COUNT}
  - page: registers.md
    why: Prose only.
    names: {hv_prose: null}
"""


class Exceptions(unittest.TestCase):
    """Named exceptions: each one excepts what it names, and each check fails without it,
    or when it is stale or not backed by the inventory."""

    LINKS = {1: ("datatypes/hv_thing.md", "a.yaml:1", {"hv_thing"}, True),
             2: ("datatypes/hv_thing.md", "a.yaml:2", {"hv_other"}, True),
             3: ("registers.md", "a.yaml:3", {"hv_prose"}, True)}

    def setUp(self):
        self.doc = inv.inventory(PAGES, "0" * 40)
        self.names = FakeNames({"HVCALL_FOO_BAR": {2}, "HV_EXT_CALL_QUX": {0x8009},
                                "HV_THING_KIND_A": {1}, "HV_THING_C": {0x10}}, dict(self.LINKS))
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def load(self, text):
        path = pathlib.Path(self.tmp.name, "tlfs-exceptions.yaml")
        path.write_text(text)
        return tc.load_exceptions(path)

    def run_all(self, text):
        """(findings by (category, name), problems, wrong links, excepted links)."""
        exc = self.load(text)
        findings = tc.compare_inventory(self.doc, self.names)
        problems = tc.apply_exceptions(findings, exc, self.names)
        bad, excepted, link_problems, _ = tc.check_links(self.doc, self.names, exc)
        return ({(f.category, f.name): f for f in findings}, [m for _, m in problems + link_problems],
                [b[1] for b in bad], [e[1] for e in excepted])

    def test_all_named(self):
        found, problems, bad, excepted = self.run_all(EXCEPTIONS)
        self.assertEqual(problems, [])
        self.assertEqual(bad, [])
        self.assertEqual(excepted, ["a.yaml:2", "a.yaml:3"])
        self.assertEqual(found["enumerators", "HvThingA"].status, "excepted")
        self.assertEqual(found["enumerators", "HvThingA"].note, "renamed: spec has HV_THING_KIND_A")
        self.assertEqual(found["enumerators", "HvThingB"].status, "excepted")
        self.assertEqual(found["types", "HV_THING_KIND"].status, "excepted")
        self.assertFalse([f.name for f in found.values() if f.category in ("types", "enumerators")
                          and f.status in ("missing", "other name")])
        line = next(x for x in tc.table(list(found.values()), "t") if x.split()[0] == "enumerators")
        self.assertEqual(line.split()[1:], ["3", "1", "2", "0", "0", "0", "100", "%"])

    def test_removing_an_exception_fails(self):
        found, problems, bad, _ = self.run_all(EXCEPTIONS.replace("    names: [HvThingB]\n", "    names: []\n"))
        self.assertEqual(problems, [])
        self.assertEqual(found["enumerators", "HvThingB"].status, "missing")
        found, problems, bad, _ = self.run_all(EXCEPTIONS.replace("{HvThingA: HV_THING_KIND_A}", "{}"))
        self.assertEqual(found["enumerators", "HvThingA"].status, "other name")
        _, problems, bad, excepted = self.run_all(EXCEPTIONS.replace("{hv_other: HV_THING_COUNT}", "{}"))
        self.assertEqual((problems, bad, excepted), ([], ["a.yaml:2"], ["a.yaml:3"]))

    def test_a_wrong_link_fails(self):
        self.names.links[4] = ("registers.md", "a.yaml:4", {"hv_thing"}, True)
        _, problems, bad, _ = self.run_all(EXCEPTIONS)
        self.assertEqual((problems, bad), ([], ["a.yaml:4"]))

    def test_stale_exceptions_fail(self):
        cases = {
            # the rule finds HV_THING in the spec by itself
            "    names: [HV_THING_KIND]": ("    names: [HV_THING_KIND, HV_THING]",
                                          "stale exception: types HV_THING is in the spec"),
            # the inventory documents no such name
            "    names: [HvThingB]": ("    names: [HvThingB, HvThingZ]",
                                     "stale exception: the inventory documents no enumerators HvThingZ"),
            # the link is recognised without it
            "{hv_other: HV_THING_COUNT}": ("{hv_other: HV_THING_COUNT, hv_thing: HV_THING}",
                                           "stale exception: hv_thing's tlfs: datatypes/hv_thing.md is"
                                           " recognised without it"),
            # no spec entry links that page with that name
            "{hv_prose: null}": ("{hv_prose: null, hv_gone: null}",
                                 "stale exception: no spec entry named hv_gone links registers.md"),
        }
        for old, (new, message) in cases.items():
            with self.subTest(new):
                _, problems, _, _ = self.run_all(EXCEPTIONS.replace(old, new))
                self.assertEqual(len(problems), 1, problems)
                self.assertTrue(problems[0].startswith(message), problems)

    def test_unbacked_exceptions_fail(self):
        cases = {
            "{HvThingA: HV_THING_KIND_A}": ("{HvThingA: HV_THING_KIND_Z}", "the spec has no HV_THING_KIND_Z"),
            "{HvThingA: HV_THING_KIND_A}\n": ("{HvThingA: HV_THING_C}\n", "the spec's value is 0x10"),
            "{hv_other: HV_THING_COUNT}": ("{hv_other: HV_NOT_THERE}", "the inventory lists no HV_NOT_THERE"),
            "{hv_other: HV_THING_COUNT}\n": ("{hv_other: HV_THING.Nope}\n",
                                             "the inventory documents no member Nope of HV_THING"),
        }
        for old, (new, message) in cases.items():
            with self.subTest(new):
                _, problems, _, _ = self.run_all(EXCEPTIONS.replace(old, new))
                self.assertEqual(len(problems), 1, problems)
                self.assertIn(message, problems[0])
        _, problems, _, _ = self.run_all(EXCEPTIONS.replace("{hv_other: HV_THING_COUNT}", "{hv_other: HV_THING.Low}"))
        self.assertEqual(problems, [])

    def test_a_rename_documents_the_spec_name_on_the_page(self):
        self.names.links[5] = ("datatypes/hv_thing.md", "a.yaml:5", {"HV_THING_KIND_A"}, False)
        self.names.links[6] = ("registers.md", "a.yaml:6", {"HV_THING_KIND_A"}, False)
        _, _, bad, _ = self.run_all(EXCEPTIONS)
        self.assertEqual(bad, ["a.yaml:6"])

    def test_bad_files(self):
        for text, message in [("hvabi: 2\nrenamed: {}\n", ":2: error: renamed: a list of groups"),
                              ("hvabi: 1\n", ":1: error: not a TLFS exceptions file"),
                              ("hvabi: 2\nabsent:\n  - {category: types, names: [A]}\n",
                               ":3: error: a absent group has exactly the keys category, names, why"),
                              ("hvabi: 2\nabsent:\n  - {category: type, why: x, names: [A]}\n",
                               ":3: error: category 'type' is not one of"),
                              ("hvabi: 2\nabsent:\n  - {category: types, why: x, names: [A, A]}\n",
                               ":3: error: absent: types: A is named twice"),
                              ("hvabi: 2\nrenamed:\n  - {category: types, why: x, names: {A: null}}\n",
                               ":3: error: names: a mapping TLFS name: spec name")]:
            with self.subTest(text), self.assertRaises(HvabiError) as e:
                self.load(text)
            self.assertIn(message, str(e.exception))


class Cli(unittest.TestCase):
    def run_cov(self, *args, spec=None):
        return hvabi_here([*(["--spec", str(spec)] if spec else []), "coverage", *args])

    def test_committed_inventory(self):
        run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--openvmm", str(OPENVMM), "-v", "--complete")
        # The spec has every hypercall code and register number openvmm's hvdef defines
        # (some under another name): --complete passes, nothing is missing.
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertNotIn("missing:", run.stdout)
        self.assertRegex(run.stdout, r"tlfs: links: \d+ spec entries link a TLFS page; 0 link")
        self.assertIn("openvmm (microsoft/openvmm", run.stdout)
        table = run.stdout.split("openvmm (microsoft/openvmm", 1)[1].splitlines()[2:]
        rows = {" ".join(r.split()[:-8]): r.split()[-4] for r in table if r.rstrip().endswith("%")}
        self.assertEqual(set(rows), {"hypercalls", "msrs", "registers common", "registers x64",
                                     "registers arm64"}, run.stdout)
        self.assertEqual(set(rows.values()), {"0"}, run.stdout)

    def tlfs_rows(self, stdout):
        rows = stdout.split("\n", 2)[2].split("tlfs: links:")[0].splitlines()
        return {" ".join(r.split()[:-8]): r.split()[-2] for r in rows}

    def test_strict_on_the_committed_files(self):
        # Every TLFS row at 100 %, no wrong link, no stale exception (ctest coverage_tlfs).
        run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--strict")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertEqual(set(self.tlfs_rows(run.stdout).values()), {"100"}, run.stdout)
        self.assertNotIn("error:", run.stdout)

    def test_strict_fails_without_an_exception(self):
        text = EXCEPTIONS_FILE.read_text()
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, "exc.yaml")
            path.write_text(text.replace("      HvMessageTypeNone: HVMSG_NONE\n", ""))
            run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--tlfs-exceptions", str(path), "--strict")
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertEqual(self.tlfs_rows(run.stdout)["enumerators"], "99.2", run.stdout)
            run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--tlfs-exceptions", str(path))
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            # a link exception removed: the wrong link is back
            path.write_text(text.replace("      hv_synic_sint: HvRegisterSint0\n", ""))
            run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--tlfs-exceptions", str(path), "--strict", "-v")
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertRegex(run.stdout, r"; 1 link a page that documents none of their names")
            self.assertRegex(run.stdout, r"tlfs: inter-partition-communication.md: .*: hv_synic_sint")
            # a stale exception fails in any mode
            path.write_text(text.replace("      HV_VP_SET: hv_vpset\n", "      HV_VP_SET: hv_vpset\n"
                                         "      HV_MESSAGE: hv_message\n"))
            run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--tlfs-exceptions", str(path))
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn("error: stale exception: types HV_MESSAGE is in the spec", run.stdout)

    def test_strict_fails_on_a_wrong_link(self):
        with tempfile.TemporaryDirectory() as tmp:
            spec = pathlib.Path(tmp, "spec")
            shutil.copytree(REPO / "spec", spec)
            f = spec / "defs/10-hvgdk_mini.yaml"
            text = f.read_text()
            old = "  - struct: hv_message\n    header: {tlfs: generic}\n    tlfs: datatypes/hv_message.md\n"
            self.assertEqual(text.count(old), 1)
            f.write_text(text.replace(old, old.replace("datatypes/hv_message.md", "timers.md")))
            run = self.run_cov("--tlfs-inventory", str(INVENTORY), "--strict", "-v", spec=spec)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertRegex(run.stdout, r"tlfs: timers.md: the page documents none of these names"
                                         r" \(named on datatypes/hv_message.md.*\): hv_message")

    def test_broken_inventory(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp, "inv.json")
            path.write_text('{"format": 1, "source": {}, "pages": [], "hypercalls": [], "types": []}\n')
            run = self.run_cov("--tlfs-inventory", str(path))
            self.assertEqual(run.returncode, 2)
            self.assertIn(f"{path}:1: error: no \"typedefs\" table", run.stderr)
            self.assertNotIn("Traceback", run.stderr)
            self.assertEqual(run.stdout, "")
        self.assertEqual(self.run_cov("--openvmm", str(OPENVMM)).returncode, 2)


if __name__ == "__main__":
    unittest.main()
