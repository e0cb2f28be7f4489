"""Coverage of what the Hyper-V TLFS documents, and of what openvmm's hvdef defines, by
the spec; and a check of the spec's `tlfs:` page links.

Inputs are facts files made by tests/reference/tlfs_inventory.py (the TLFS pages) and
tests/reference/openvmm_hvdef.py (openvmm vm/hv1/hvdef). The spec is read only through
`load_spec`, `Abi(spec, Selection)` (its `consts`, `enumerators`, `types`, `value()`)
and, for the link check, the `tlfs:` page of each selected entry (`tlfs_links` below is
the one place that knows where that is kept).

A documented name is "in the spec" if any profile selects it on a matching arch.

The name-mapping rule (TLFS spelling -> the C names the spec may use), `c_names`:
  hypercall   HvCallFooBar -> HVCALL_FOO_BAR; HvExtCallFooBar -> HV_EXT_CALL_FOO_BAR.
              Hypercalls are matched by call code (any HVCALL_* / HV_EXT_CALL_* / HV_EXTCALL_*
              constant with that value); a code present under another name is reported as such.
  register    HvRegisterFoo -> HV_REGISTER_FOO, and HV_X64_REGISTER_FOO /
              HV_ARM64_REGISTER_FOO when the TLFS lists it under that arch;
              HvX64RegisterFoo -> HV_X64_REGISTER_FOO or HV_REGISTER_FOO;
              HvArm64RegisterFoo -> HV_ARM64_REGISTER_FOO or HV_REGISTER_FOO.
  enumerator  HvFooBar -> HV_FOO_BAR.
  type        HV_FOO_BAR -> hv_foo_bar (struct, union or enum tag).
  typedef     HV_FOO -> hv_foo or hv_foo_t (any type the spec names so).
  constant, MSR   the same name (HV_MESSAGE_SIZE, HV_X64_MSR_SCONTROL).
CamelCase is split into words before each capital that follows a lower-case letter or a
digit, and before the last capital of a run followed by a lower-case letter; digits stay
with the word before them: GetVpIndexFromApicId -> GET_VP_INDEX_FROM_APIC_ID,
GuestCrashP0 -> GUEST_CRASH_P0, CrInterceptCr0Mask -> CR_INTERCEPT_CR0_MASK,
InterceptTypeX64IoPort -> INTERCEPT_TYPE_X64_IO_PORT, ProcessorCLFlushSize ->
PROCESSOR_CL_FLUSH_SIZE. A name the rule misses but whose value the spec has under
another name of the same family (registers, MSRs, enumerators of the same enum) is
counted "other name", not missing.

Link check: a spec entry with `tlfs: PAGE` is linked right if PAGE documents one of the
entry's names (the entry's type name, its enumerators or constants), mapped with the rule
above. A page documents what the inventory lists for it and every HV_* / Hv* name it
mentions (HV_FOO as HV_FOO or hv_foo). A hypercall's own page also documents its call
code and its input and output records: hv_input_foo_bar / hv_output_foo_bar for
HvCallFooBar, or any record at least half of whose words (without hv, input, output, in,
out) are words of the hypercall's name (hv_tlb_flush on HvCallFlushVirtualAddressList).

Named exceptions (tests/reference/tlfs-exceptions.yaml, `load_exceptions`): what the
rule cannot see, each with its reason. `renamed`: a documented name the spec holds under
another name (TLFS name -> spec name; the spec name must exist, with the documented value
where there is one); a page documenting the TLFS name also documents the spec name for
the link check. `absent`: a documented name the spec does not hold. `links`: a spec entry
whose page documents it under a name the rule does not map to it (spec name -> the TLFS
name the inventory lists on that page, or TYPE.Member for a member of a type documented
there, or null where only prose documents it). Each exception must still be needed: one
that names nothing in the inventory, or a fact the rule now finds by itself, or a TLFS
name the page does not show, is a problem (exit 1).
"""

import json
import pathlib
import re

from . import model as m
from .errors import HvabiError
from .select import Abi

CATEGORIES = ("hypercalls", "types", "enumerators", "typedefs", "constants", "msrs",
              "registers common", "registers x64", "registers arm64")
REG_ARCH = {"x64": "x86_64", "arm64": "arm64", "common": None}
HYPERCALL_PREFIXES = ("HVCALL_", "HV_EXT_CALL_", "HV_EXTCALL_")
REGISTER_PREFIXES = ("HV_REGISTER_", "HV_X64_REGISTER_", "HV_ARM64_REGISTER_")
WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])\d*|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")


# --- the name-mapping rule ----------------------------------------------------------------

def words(camel):
    """CamelCase -> upper-case words joined by '_' (see the module doc)."""
    return "_".join(w.upper() for w in WORD.findall(camel))


def c_names(kind, name, arch=None):
    """The C names the spec may give a TLFS name of `kind` (see the module doc)."""
    if kind == "hypercall":
        for prefix, c in (("HvExtCall", "HV_EXT_CALL_"), ("HvCall", "HVCALL_")):
            if name.startswith(prefix):
                return [c + words(name[len(prefix):])]
        return []
    if kind == "register":
        for prefix, own in (("HvX64Register", "HV_X64_REGISTER_"), ("HvArm64Register", "HV_ARM64_REGISTER_")):
            if name.startswith(prefix):
                rest = words(name[len(prefix):])
                return [own + rest, "HV_REGISTER_" + rest]
        if name.startswith("HvRegister"):
            rest = words(name[len("HvRegister"):])
            own = {"x64": ["HV_X64_REGISTER_" + rest], "arm64": ["HV_ARM64_REGISTER_" + rest]}.get(arch, [])
            return ["HV_REGISTER_" + rest] + own
        return []
    if kind == "enumerator":
        return ["HV_" + words(name[2:])] if name.startswith("Hv") else [name]
    if kind == "type":
        return [name.lower()]
    if kind == "typedef":
        return [name.lower(), name.lower() + "_t"]
    return [name]


def hypercall_records(name):
    """Input and output records of a hypercall, by the Linux convention."""
    for prefix in ("HvExtCall", "HvCall"):
        if name.startswith(prefix):
            rest = words(name[len(prefix):]).lower()
            return [f"hv_input_{rest}", f"hv_output_{rest}"]
    return []


# --- inputs -------------------------------------------------------------------------------

def _line_of(text, needle):
    i = text.find(needle)
    return text.count("\n", 0, i) + 1 if i >= 0 else None


def load_facts(path, required):
    """A facts file as a dict, checked for the shape the report needs; bad input raises
    HvabiError with file:line and a hint."""
    path = pathlib.Path(path)
    hint = f"regenerate it with tests/reference/{'tlfs_inventory' if 'types' in required else 'openvmm_hvdef'}.py"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise HvabiError(f"cannot read {path}: {e.strerror}", None, "give the committed facts file,"
                         " e.g. tests/reference/tlfs-inventory.json")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise HvabiError(f"not JSON: {e.msg}", f"{path}:{e.lineno}", hint)
    if not isinstance(doc, dict) or doc.get("format") != 1:
        raise HvabiError("not a facts file of format 1 (no \"format\": 1)", f"{path}:1", hint)
    for key in ("source",) + required:
        if key not in doc:
            raise HvabiError(f"no \"{key}\" table", f"{path}:1", hint)
    for key in required:
        if not isinstance(doc[key], list):
            where = _line_of(text, json.dumps(key))
            raise HvabiError(f"\"{key}\" is not a list", f"{path}:{where or 1}", hint)
        for item in doc[key]:
            if key == "pages":
                if not isinstance(item, str):
                    where = _line_of(text, json.dumps(key))
                    raise HvabiError("pages: not a list of page paths", f"{path}:{where or 1}", hint)
                continue
            problem = _bad_item(key, item)
            if problem:
                where = _line_of(text, json.dumps(item.get("name"))) if isinstance(item, dict) else None
                raise HvabiError(f"{key}: {problem}", f"{path}:{where or 1}", hint)
    return doc


def _bad_item(table, item):
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        return "an item without a name"
    number = {"hypercalls": "code", "msrs": "value", "registers": "value", "constants": "value"}.get(table)
    if number and item.get(number) is not None and not isinstance(item[number], int):
        return f"{item['name']}: {number} is not an integer"
    if table == "registers" and item.get("arch") not in REG_ARCH:
        return f"{item['name']}: arch is not one of common, x64, arm64"
    if "pages" in item and not (isinstance(item["pages"], list) and all(isinstance(p, str) for p in item["pages"])):
        return f"{item['name']}: pages is not a list of page paths"
    if table == "types":
        defs = item.get("definitions")
        if not isinstance(defs, list) or not all(isinstance(d, dict) and isinstance(d.get("page"), str) for d in defs):
            return f"{item['name']}: definitions is not a list of {{page, ...}}"
    return None


# --- named exceptions ---------------------------------------------------------------------

EXCEPTION_KINDS = ("renamed", "absent", "links")
EXCEPTED_CATEGORIES = CATEGORIES


class Exception_:
    """One named exception: a documented name (`renamed`, `absent`) or a spec entry's link
    (`links`), with its group's reason and its place in the exceptions file."""

    def __init__(self, kind, key, target, why, pos, group):
        self.kind, self.key, self.target, self.why, self.pos, self.group = kind, key, target, why, pos, group
        self.used = False


class Exceptions:
    """tests/reference/tlfs-exceptions.yaml: `renamed` {(category, TLFS name): spec name},
    `absent` {(category, TLFS name)}, `links` {(page, spec name): TLFS name or None}."""

    def __init__(self, path=None):
        self.path = path
        self.groups = []                     # (kind, label, why, [Exception_])
        self.renamed, self.absent, self.links = {}, {}, {}

    def all(self):
        return [e for _, _, _, items in self.groups for e in items]

    def aliases(self):
        """{TLFS name: {spec names}} of the renames (for the link check)."""
        out = {}
        for (_, tlfs), e in self.renamed.items():
            out.setdefault(tlfs, set()).add(e.target)
        return out


def load_exceptions(path):
    """Exceptions from a file (see the module doc and the file's own header); bad input
    raises HvabiError at file:line."""
    from .spec.yamlsrc import Map, Seq, load_file
    path = pathlib.Path(path)
    hint = "see docs/coverage.md, \"Named exceptions\", for the format"
    if not path.exists():
        raise HvabiError(f"cannot read {path}: no such file", None, hint)
    root = load_file(path, str(path))
    if root.get("hvabi") != 2 or set(root) - {"hvabi", *EXCEPTION_KINDS}:
        raise HvabiError(f"not a TLFS exceptions file (hvabi: 2, {', '.join(EXCEPTION_KINDS)})",
                         root.pos, hint)
    exc = Exceptions(str(path))
    for kind in EXCEPTION_KINDS:
        groups = root.get(kind)
        if groups is None:
            continue
        if not isinstance(groups, Seq):
            raise HvabiError(f"{kind}: a list of groups", root.val_pos(kind), hint)
        for g in groups:
            want = {"page" if kind == "links" else "category", "why", "names"}
            if not isinstance(g, Map) or set(g) != want:
                raise HvabiError(f"a {kind} group has exactly the keys {', '.join(sorted(want))}",
                                 getattr(g, "pos", groups.pos), hint)
            label = g["page" if kind == "links" else "category"]
            if kind != "links" and label not in EXCEPTED_CATEGORIES:
                raise HvabiError(f"category {label!r} is not one of {', '.join(EXCEPTED_CATEGORIES)}",
                                 g.val_pos("category"), hint)
            if not isinstance(g["why"], str) or not g["why"].strip():
                raise HvabiError("why: the reason, in our own words", g.val_pos("why"), hint)
            why = " ".join(g["why"].split())
            names = g["names"]
            items = []
            if kind == "absent":
                if not isinstance(names, Seq) or not all(isinstance(n, str) for n in names):
                    raise HvabiError("names: a list of TLFS names", g.val_pos("names"), hint)
                pairs = [(n, None, names.item_pos(i)) for i, n in enumerate(names)]
            else:
                if not isinstance(names, Map) or not all(
                        isinstance(k, str) and (isinstance(v, str) or (v is None and kind == "links"))
                        for k, v in names.items()):
                    what = ("spec name: TLFS name on the page (TYPE.Member, or null for prose)"
                            if kind == "links" else "TLFS name: spec name")
                    raise HvabiError(f"names: a mapping {what}", g.val_pos("names"), hint)
                pairs = [(k, v, names.key_pos(k)) for k, v in names.items()]
            table = {"renamed": exc.renamed, "absent": exc.absent, "links": exc.links}[kind]
            for name, target, pos in pairs:
                key = (label, name)
                if key in table:
                    raise HvabiError(f"{kind}: {label}: {name} is named twice", pos, hint)
                e = Exception_(kind, key, target, why, pos, label)
                table[key] = e
                items.append(e)
            exc.groups.append((kind, label, why, items))
    return exc


def _member_documented(t, member):
    """Whether a documented type has a member (at any depth) of that name."""
    def walk(members):
        return any(mem.get("name") == member or walk(mem.get("members", ())) for mem in members)
    return any(walk(d.get("members", ())) or any(e["name"] == member for e in d.get("enumerators", ()))
               for d in t["definitions"])


def apply_exceptions(findings, exc, names):
    """Mark the findings a `renamed` or `absent` exception names as `excepted`; returns the
    problems [(pos, message)]: exceptions that name nothing the inventory documents, that
    the rule no longer needs, or whose spec name the spec lacks."""
    problems = []
    for f in findings:
        key = (f.category, f.name)
        e = exc.renamed.get(key) or exc.absent.get(key)
        if e is None:
            continue
        e.used = True
        if f.status == "in spec":
            problems.append((e.pos, f"stale exception: {f.category} {f.name} is in the spec by the name"
                             f" rule ({f.note or 'same name'}); remove it from {e.kind}"))
            continue
        if e.kind == "renamed":
            arch = REG_ARCH.get(f.category.split()[-1]) if f.category.startswith("registers") else \
                "x86_64" if f.category == "msrs" else None
            if not names.has(e.target, arch):
                problems.append((e.pos, f"renamed: {f.name} -> {e.target}: the spec has no {e.target}"
                                 f"{' on ' + arch if arch else ''}"))
                continue
            have = names.values_of(e.target, arch)
            if f.value is not None and have and f.value not in have:
                problems.append((e.pos, f"renamed: {f.name} = {_hex(f.value)} -> {e.target}: the spec's"
                                 f" value is {', '.join(_hex(v) for v in sorted(have))}"))
                continue
            f.note = f"renamed: spec has {e.target}"
        else:
            f.note = f"absent ({f.status}{': ' + f.note if f.note else ''})"
        f.status, f.exception = "excepted", e
    for e in exc.all():
        if e.kind != "links" and not e.used:
            problems.append((e.pos, f"stale exception: the inventory documents no {e.key[0]} {e.key[1]};"
                             f" remove it from {e.kind}"))
    return problems


# --- the spec side ------------------------------------------------------------------------

class SpecNames:
    """What every selection of the spec names: value names with their values per arch,
    type names, and the `tlfs:` links of entries."""

    def __init__(self, spec):
        self.values = {a: {} for a in m.ARCHES}     # arch -> name -> set of values
        self.types = {a: set() for a in m.ARCHES}
        self.enum_items = {}                        # enum type name -> {value: {names}}
        self.links = {}                             # id(entry) -> (page, pos, names)
        for profile in sorted(spec.profiles):
            for arch in m.ARCHES:
                abi = Abi.of(spec, m.Selection(profile, spec.profiles[profile].view, arch))
                self._read(abi, arch)

    def _read(self, abi, arch):
        values = self.values[arch]
        for name in list(abi.consts) + list(abi.enumerators):
            values.setdefault(name, set())
            try:
                values[name].add(abi.value(name).value)
            except (HvabiError, KeyError, RecursionError):
                pass                        # a macro with parameters, or no integer value
        self.types[arch] |= set(abi.types)
        for enum, item in abi.enumerators.values():
            if enum.name:
                try:
                    v = abi.value(item.name).value
                except (HvabiError, KeyError):
                    continue
                self.enum_items.setdefault(enum.name, {}).setdefault(v, set()).add(item.name)
        for key, page, pos, names, is_record in tlfs_links(abi):
            known = self.links.setdefault(key, (page, pos, set(), is_record))
            known[2].update(names)

    def has(self, name, arch=None):
        arches = [arch] if arch else m.ARCHES
        return any(name in self.values[a] or name in self.types[a] for a in arches)

    def value_names(self, value, arch, prefixes):
        """Names of the family `prefixes` holding `value` on `arch` (any arch if None)."""
        arches = [arch] if arch else m.ARCHES
        return sorted({n for a in arches for n, vs in self.values[a].items()
                       if value in vs and n.startswith(prefixes)})

    def values_of(self, name, arch=None):
        arches = [arch] if arch else m.ARCHES
        return set().union(*(self.values[a].get(name, set()) for a in arches))


def tlfs_links(abi):
    """(entry key, page, position, names) of every selected entry with a `tlfs:` page.
    The one place that reads where the spec keeps an entry's page (Entry.tlfs_page)."""
    for entry, defn in abi.entries:
        page = getattr(entry, "tlfs_page", None)
        if not page:
            continue
        # a type's name, its enumerators, a group's constants (a group's own name is a
        # label, no C name: only names in the Abi's tables count)
        names = {defn.name} if getattr(defn, "name", None) in abi.types else set()
        names |= {item.name for item in getattr(defn, "items", ())
                  if getattr(item, "name", None) in abi.consts or getattr(item, "name", None) in abi.enumerators}
        is_record = getattr(defn, "members", None) is not None
        yield id(entry), page, getattr(defn, "pos", None), names, is_record


# --- the comparison -----------------------------------------------------------------------

class Finding:
    """One documented name: its status (`in spec`, `excepted`, `other name`, `missing`)
    and details."""

    def __init__(self, category, name, status, pages=(), value=None, note="", item=None):
        self.category, self.name, self.status = category, name, status
        self.pages, self.value, self.note, self.item = list(pages), value, note, item
        self.exception = None


def _hex(v):
    return f"0x{v:x}" if isinstance(v, int) and v >= 0 else str(v)


def compare_inventory(inv, names):
    """[Finding] for every fact of a TLFS inventory."""
    out = []
    for h in inv["hypercalls"]:
        out.append(_hypercall(h, names))
    for t in inv["types"]:
        status = "in spec" if any(names.has(c) for c in c_names("type", t["name"])) else "missing"
        out.append(Finding("types", t["name"], status, t["pages"], note=t.get("kind", ""), item=t))
        if t.get("kind") == "enum":
            out += _enumerators(t, names)
    for t in inv["typedefs"]:
        status = "in spec" if any(names.has(c) for c in c_names("typedef", t["name"])) else "missing"
        out.append(Finding("typedefs", t["name"], status, t["pages"], note=_typedef_note(t), item=t))
    for c in inv["constants"]:
        out.append(_valued("constants", c, c_names("constant", c["name"]), None, (), names))
    for r in inv["msrs"]:
        out.append(_valued("msrs", r, c_names("msr", r["name"]), "x86_64", ("HV_X64_MSR_",), names))
    for r in inv["registers"]:
        out.append(_valued(f"registers {r['arch']}", r, c_names("register", r["name"], r["arch"]),
                           REG_ARCH[r["arch"]], REGISTER_PREFIXES, names))
    return out


def compare_openvmm(doc, names):
    out = [_hypercall(h, names) for h in doc["hypercalls"]]
    for r in doc["registers"]:
        out.append(_valued(f"registers {r['arch']}", r, c_names("register", r["name"], r["arch"]),
                           REG_ARCH[r["arch"]], REGISTER_PREFIXES, names))
    for r in doc.get("msrs", ()):
        out.append(_valued("msrs", r, [r["name"]], "x86_64", ("HV_X64_MSR_",), names))
    return out


def _hypercall(h, names):
    code, wanted = h.get("code"), c_names("hypercall", h["name"])
    if code is None:
        status = "in spec" if any(names.has(c) for c in wanted) else "missing"
        return Finding("hypercalls", h["name"], status, h.get("pages", ()), note="no call code", item=h)
    holders = names.value_names(code, None, HYPERCALL_PREFIXES)
    if not holders:
        return Finding("hypercalls", h["name"], "missing", h.get("pages", ()), code,
                       note=f"C name {wanted[0]}" if wanted else "", item=h)
    note = "" if set(wanted) & set(holders) else f"spec name {', '.join(holders)}"
    return Finding("hypercalls", h["name"], "in spec", h.get("pages", ()), code, note=note, item=h)


def _valued(category, fact, wanted, arch, family, names):
    """A name with a value: found by name (then its value is compared), else by value in
    its family (`other name`), else missing."""
    value = fact.get("value")
    found = [c for c in wanted if names.has(c, arch)]
    if found:
        have = names.values_of(found[0], arch)
        note = ""
        if value is not None and have and value not in have:
            note = f"value differs: spec {', '.join(_hex(v) for v in sorted(have))}"
        return Finding(category, fact["name"], "in spec", fact.get("pages", ()), value,
                       note=note if note else ("" if found[0] == fact["name"] else f"as {found[0]}"),
                       item=fact)
    if value is not None and family:
        others = names.value_names(value, arch, family)
        if others:
            return Finding(category, fact["name"], "other name", fact.get("pages", ()), value,
                           note=f"spec has {', '.join(others)}", item=fact)
    return Finding(category, fact["name"], "missing", fact.get("pages", ()), value,
                   note=f"C name {wanted[0]}" if wanted and wanted[0] != fact["name"] else "", item=fact)


def _enumerators(t, names):
    out, enum_c = [], c_names("type", t["name"])[0]
    by_value = names.enum_items.get(enum_c, {})
    seen = set()
    for d in t["definitions"]:
        for e in d.get("enumerators", ()):
            if e["name"] in seen:
                continue
            seen.add(e["name"])
            wanted = c_names("enumerator", e["name"])
            value = e.get("value")
            if any(names.has(c) for c in wanted):
                status, note = "in spec", ""
            elif value is not None and by_value.get(value):
                status, note = "other name", f"spec has {', '.join(sorted(by_value[value]))}"
            else:
                status, note = "missing", f"C name {wanted[0]}, in {t['name']}"
            out.append(Finding("enumerators", e["name"], status, [d["page"]], value, note, e))
    return out


def _typedef_note(t):
    types = [f"{k[5:] + ': ' if k != 'type' else ''}{v}" for k, v in sorted(t.items()) if k.startswith("type")]
    return "; ".join(types)


def mention_names(name):
    """C names of a name a page mentions, by its spelling (see the module doc)."""
    if name.startswith(("HvCall", "HvExtCall")):
        return c_names("hypercall", name)
    if REGISTER_WORD.match(name):
        return c_names("register", name, "x64") + c_names("register", name, "arm64")
    if name.startswith("Hv"):
        return c_names("enumerator", name)
    return [name, name.lower()]


REGISTER_WORD = re.compile(r"Hv(?:X64|Arm64)?Register[A-Z]")
NOT_WORDS = {"hv", "input", "output", "in", "out"}


def record_of_hypercall(record, hypercall):
    """Whether a record is named after a hypercall: at least half of its words (without
    hv, input, output, in, out) are words of the hypercall's name (hv_tlb_flush for
    HvCallFlushVirtualAddressList, hv_send_ipi for HvCallSendSyntheticClusterIpi)."""
    mine = [w for w in record.lower().split("_") if w and w not in NOT_WORDS]
    theirs = set(words(re.sub(r"^Hv(Ext)?Call", "", hypercall)).lower().split("_"))
    return bool(mine) and 2 * sum(w in theirs for w in mine) >= len(mine)


def page_raw_names(inv):
    """{page: TLFS names (as the TLFS spells them) the inventory lists for the page}: what
    it mentions and every fact whose pages include it."""
    raw = {p: set() for p in inv.get("pages", ())}
    for page, said in inv.get("mentions", {}).items():
        raw.setdefault(page, set()).update(said)
    for table in ("hypercalls", "typedefs", "constants", "msrs", "registers"):
        for fact in inv[table]:
            for p in fact.get("pages", ()):
                raw.setdefault(p, set()).add(fact["name"])
    for t in inv["types"]:
        for p in t["pages"]:
            raw.setdefault(p, set()).add(t["name"])
        for d in t["definitions"]:
            raw.setdefault(d["page"], set()).update([t["name"]] + [e["name"] for e in d.get("enumerators", ())])
    return raw


def page_names(inv, aliases=None):
    """{page: (C names it documents, hypercall codes it documents, hypercall names)} by
    the rule; a name the page mentions anywhere counts as documented there, and so does
    the spec name of a `renamed` exception (aliases {TLFS name: {spec names}}) whose TLFS
    name the page shows."""
    pages = {p: (set(), set(), set()) for p in inv.get("pages", ())}

    def add(ps, cnames, code=None, hypercall=None):
        for p in ps:
            entry = pages.setdefault(p, (set(), set(), set()))
            entry[0].update(cnames)
            if code is not None:
                entry[1].add(code)
            if hypercall:
                entry[2].add(hypercall)

    for page, said in inv.get("mentions", {}).items():
        add([page], [c for name in said for c in mention_names(name)])
    for h in inv["hypercalls"]:
        add(h["pages"], c_names("hypercall", h["name"]) + hypercall_records(h["name"]), h.get("code"),
            h["name"] if any(p.startswith("hypercalls/Hv") for p in h["pages"]) else None)
    for t in inv["types"]:
        for d in t["definitions"]:
            enums = [c for e in d.get("enumerators", ()) for c in c_names("enumerator", e["name"])]
            add([d["page"]], c_names("type", t["name"]) + enums)
        add(t["pages"], c_names("type", t["name"]))
    for t in inv["typedefs"]:
        add(t["pages"], c_names("typedef", t["name"]))
    for c in inv["constants"]:
        add(c["pages"], c_names("constant", c["name"]))
    for r in inv["msrs"]:
        add(r["pages"], c_names("msr", r["name"]))
    for r in inv["registers"]:
        add(r["pages"], c_names("register", r["name"], r["arch"]))
    if aliases:
        for page, raw in page_raw_names(inv).items():
            for tlfs in raw & set(aliases):
                add([page], aliases[tlfs])
    return pages


def _link_ok(page, entry_names, is_record, pages, names):
    documented, codes, hypercalls = pages[page]
    if entry_names & documented:
        return True
    if is_record and page.startswith("hypercalls/Hv") and any(
            record_of_hypercall(n, h) for n in entry_names for h in hypercalls):
        return True
    return any(v in codes for n in entry_names if n.startswith(HYPERCALL_PREFIXES)
               for v in names.values_of(n))


def check_links(inv, names, exc=None):
    """(wrong, excepted, problems, number checked): wrong [(page, position, sorted names,
    why)] of the spec entries whose `tlfs:` page documents none of their names and no
    `links` exception names; excepted [(page, position, sorted names, Exception_)];
    problems [(pos, message)] of `links` exceptions that are stale or not backed by the
    inventory."""
    exc = exc or Exceptions()
    pages = page_names(inv, exc.aliases())
    raw = page_raw_names(inv)
    types = {t["name"]: t for t in inv["types"]}
    bad, excepted, problems = [], [], []
    for page, pos, entry_names, is_record in names.links.values():
        if page in pages and _link_ok(page, entry_names, is_record, pages, names):
            for n in entry_names:
                e = exc.links.get((page, n))
                if e and not e.used:
                    e.used = True
                    problems.append((e.pos, f"stale exception: {n}'s tlfs: {page} is recognised without"
                                     " it; remove it from links"))
            continue
        named = [exc.links[(page, n)] for n in sorted(entry_names) if (page, n) in exc.links]
        if page in pages and named:
            for e in named:
                e.used = True
                why = _unbacked(e, page, raw, types)
                if why:
                    problems.append((e.pos, f"links: {e.key[1]} -> {e.target} on {page}: {why}"))
            excepted.append((page, pos, sorted(entry_names), named[0]))
            continue
        if page not in pages:
            bad.append((page, pos, sorted(entry_names), "no such page in the inventory"))
            continue
        elsewhere = sorted(p for p, (doc, _, _) in pages.items() if entry_names & doc)
        why = "the page documents none of these names"
        if elsewhere:
            why += f" (named on {', '.join(elsewhere[:3])}{', ...' if len(elsewhere) > 3 else ''})"
        bad.append((page, pos, sorted(entry_names), why))
    for e in exc.all():
        if e.kind == "links" and not e.used:
            problems.append((e.pos, f"stale exception: no spec entry named {e.key[1]} links"
                             f" {e.key[0]}; remove it from links"))
    bad.sort(key=lambda b: (str(b[1]), b[0]))
    excepted.sort(key=lambda b: (str(b[1]), b[0]))
    return bad, excepted, problems, len(names.links)


def _unbacked(e, page, raw, types):
    """Why a `links` exception's TLFS name is not on its page by the inventory (None if it
    is, or if the exception is for prose)."""
    if e.target is None:
        return None
    tlfs, _, member = e.target.partition(".")
    if tlfs not in raw.get(page, ()):
        return f"the inventory lists no {tlfs} on the page"
    if member and (tlfs not in types or not _member_documented(types[tlfs], member)):
        return f"the inventory documents no member {member} of {tlfs}"
    return None


# --- the report ---------------------------------------------------------------------------

STATUSES = ("in spec", "excepted", "other name", "missing")


def table(findings, title):
    """Per category: documented, in spec, excepted (named in the exceptions file), other
    name, missing, differing values, and the share in spec or excepted."""
    lines = [f"{title:28} {'documented':>10} {'in spec':>8} {'excepted':>8} {'other name':>10}"
             f" {'missing':>8} {'differ':>7} {'covered':>8}"]
    for cat in CATEGORIES:
        rows = [f for f in findings if f.category == cat]
        if not rows:
            continue
        counts = [sum(f.status == s for f in rows) for s in STATUSES]
        differ = sum(f.note.startswith("value differs") for f in rows)
        covered = f"{100 * (counts[0] + counts[1]) / len(rows):.1f} %"
        covered = "100 %" if counts[0] + counts[1] == len(rows) else covered
        lines.append(f"  {cat:26} {len(rows):>10} {counts[0]:>8} {counts[1]:>8} {counts[2]:>10}"
                     f" {counts[3]:>8} {differ:>7} {covered:>8}")
    return lines


def details(findings):
    """Names not in the spec (missing, or there under another name) and names whose value
    or hypercall name differs, one per line; missing types with their members. Excepted
    names are listed with their groups (`exception_lines`)."""
    lines = []
    for f in findings:
        if f.status == "excepted" or (f.status == "in spec" and not f.note.startswith(("value differs", "spec name"))):
            continue
        value = f" = {_hex(f.value)}" if f.value is not None else ""
        note = f"  ({f.note})" if f.note else ""
        status = f.status if f.status != "in spec" else "renamed" if f.note.startswith("spec name") else "differs"
        kind = " ".join([f.category.split()[0][:-1]] + f.category.split()[1:])   # "register x64"
        lines.append(f"  {status}: {kind} {f.name}{value}{note}  [{', '.join(f.pages)}]")
        if f.category == "types" and f.status == "missing":
            lines += ["      " + line for line in render_type(f.item)]
    return lines


def exception_lines(exc, verbose):
    """The named exceptions by group with counts (the reasons and every name, with -v)."""
    if not exc.path:
        return ["exceptions: none (no exceptions file)"]
    by_kind = {k: [g for g in exc.groups if g[0] == k] for k in EXCEPTION_KINDS}
    counts = ", ".join(f"{k} {sum(len(g[3]) for g in gs)} in {len(gs)} groups" for k, gs in by_kind.items())
    prose = sum(1 for e in exc.all() if e.kind == "links" and e.target is None)
    lines = [f"exceptions ({exc.path}): {counts} ({prose} links documented in prose only)"]
    if not verbose:
        for kind in EXCEPTION_KINDS:
            per = {}
            for k, label, _, items in exc.groups:
                if k == kind:
                    per[label] = per.get(label, 0) + len(items)
            lines.append(f"  {kind}: " + (", ".join(f"{label} {n}" for label, n in per.items()) or "none"))
        return lines
    for kind, label, why, items in exc.groups:
        lines.append(f"  {kind}: {label}: {len(items)}: {why}")
        if verbose:
            for e in items:
                target = "" if kind == "absent" else f" -> {e.target if e.target else '(prose)'}"
                lines.append(f"      {e.key[1]}{target}")
    return lines


def render_type(t):
    """A TLFS type's documented shape, one member per line (names and types only)."""
    out = []
    for d in t["definitions"]:
        arch = f" ({d['arch']})" if d.get("arch") else ""
        out.append(f"{t['kind']} {t['name']}{arch} [{d['page']}:{d['line']}]")
        if "enumerators" in d:
            for e in d["enumerators"]:
                v = _hex(e["value"]) if e.get("value") is not None else e.get("expr", "?")
                out.append(f"  {e['name']} = {v}" + (f"  [{e['arch']}]" if e.get("arch") else ""))
        else:
            out += _render_members(d.get("members", []), 1)
    return out


def _render_members(members, depth):
    out, pad = [], "  " * depth
    for mem in members:
        arch = f"  [{mem['arch']}]" if mem.get("arch") else ""
        count = f"[{mem['count']}]" if "count" in mem else ""
        if "members" in mem:
            out.append(f"{pad}{mem['kind']} {{{arch}")
            out += _render_members(mem["members"], depth + 1)
            out.append(f"{pad}}} {mem['name'] or ''}{count}".rstrip())
        else:
            bits = f" : {mem['bits']}" if mem.get("bits") is not None else ""
            out.append(f"{pad}{mem.get('type')} {mem['name']}{count}{bits}{arch}")
    return out


def default_exceptions(inventory_path):
    """The exceptions file that goes with an inventory: tlfs-exceptions.yaml next to it."""
    path = pathlib.Path(inventory_path).with_name("tlfs-exceptions.yaml")
    return path if path.exists() else None


class Result:
    """What the report found: `missing` (not in the spec, not excepted: TLFS missing or
    under another name, and openvmm missing), `wrong_links` (not excepted) and `problems`
    (stale or unbacked exceptions)."""

    def __init__(self, lines, missing, unnamed, wrong_links, problems):
        self.lines, self.missing, self.unnamed = lines, missing, unnamed
        self.wrong_links, self.problems = wrong_links, problems


def report(spec, inventory_path, openvmm_path=None, verbose=False, exceptions_path=None):
    """A Result. `exceptions_path` None: the inventory's default (`default_exceptions`);
    False: none."""
    inv = load_facts(inventory_path, ("pages", "hypercalls", "types", "typedefs", "constants", "msrs", "registers"))
    if exceptions_path is None:
        exceptions_path = default_exceptions(inventory_path)
    exc = load_exceptions(exceptions_path) if exceptions_path else Exceptions()
    names = SpecNames(spec)
    findings = compare_inventory(inv, names)
    problems = apply_exceptions(findings, exc, names)
    src = inv["source"]
    lines = [f"TLFS ({src.get('repo')} {str(src.get('commit'))[:12]}, {len(inv['pages'])} pages)"
             " documented vs the spec (all profiles and arches):"]
    lines += table(findings, "  category")
    if verbose:
        lines += details(findings)
    missing = sum(f.status == "missing" for f in findings)
    unnamed = sum(f.status in ("missing", "other name") for f in findings)
    bad, excepted, link_problems, checked = check_links(inv, names, exc)
    problems += link_problems
    lines.append(f"tlfs: links: {checked} spec entries link a TLFS page; {len(bad)} link a page"
                 f" that documents none of their names; {len(excepted)} excepted (documented"
                 " there under a name the rule does not map)")
    for page, pos, entry_names, why in bad if verbose else ():
        lines.append(f"  {pos}: tlfs: {page}: {why}: {', '.join(entry_names)}")
    lines += exception_lines(exc, verbose)
    for pos, message in sorted(problems, key=lambda pm: (str(pm[0]), pm[1])):
        lines.append(f"{pos}: error: {message}")
    if openvmm_path:
        doc = load_facts(openvmm_path, ("hypercalls", "registers"))
        ofind = compare_openvmm(doc, names)
        src = doc["source"]
        lines.append(f"openvmm ({src.get('repo')} {str(src.get('commit'))[:12]} {src.get('path')})"
                     " defined vs the spec:")
        lines += table(ofind, "  category")
        if verbose:
            lines += details(ofind)
        missing += sum(f.status == "missing" for f in ofind)
    return Result(lines, missing, unnamed, len(bad), problems)
