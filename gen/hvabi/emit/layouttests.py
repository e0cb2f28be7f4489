"""Layout tests generated from the spec, per product x arch (committed under tests/layout/):

  <product>/<arch>.facts.json  what the spec's layout engine says (the expected values)
  <product>/<arch>.c           _Static_assert on sizeof/_Alignof/offsetof of every record and
                               non-bitfield member; compiled against the product's headers
  <product>/mask-x86_64.c      a program that sets each bitfield to all ones and compares the
                               record's bytes with the spec's mask

Bitfield positions cannot be checked by offsetof; tests/layout_check.py compares them with
pahole's reading of the DWARF of the compiled <arch>.c.
"""

from .. import facts as factsmod
from .. import model as m
from ..layout import facts as spec_facts
from ..select import Abi
from . import stamp
from .products import _env, header_defs

MASK_ARCH = "x86_64"


def product_records(spec, product, arch):
    """Facts of the records, enumerators and macros that `product` emits for `arch`."""
    profile = spec.profiles[product.profile]
    abi = Abi.of(spec, m.Selection(profile.name, profile.view, arch))
    wanted = set()
    for header in product.headers:
        if header.arch in (None, arch):
            _, defs = header_defs(spec, product, header, arch)
            wanted |= {d.name for _, d in defs if d.name}
            for _, d in defs:
                if isinstance(d, m.ConstGroup):
                    wanted |= {c.name for c in d.items}
                elif isinstance(d, m.Enum):
                    wanted |= {i.name for i in d.items}
    doc = spec_facts(abi)
    for table in ("records", "enums", "enumerators", "macros"):
        doc[table] = {k: v for k, v in doc[table].items() if k in wanted}
    return doc


def includes(product, arch):
    """The #include lines a test translation unit needs for this product and arch."""
    if product.flavor == "tlfs":
        return ["<asm/hyperv-tlfs.h>"]
    return [f"<{h.path.split('include/', 1)[-1]}>" for h in product.headers]


def _static_checks(doc):
    checks = []
    for name, rec in sorted(doc["records"].items()):
        ctype = f"{rec['kind']} {name}"
        checks.append((f"sizeof({ctype})", rec["size"]))
        checks.append((f"_Alignof({ctype})", rec["align"]))
        for mem in rec["members"]:
            if mem.get("bitfield"):
                continue
            checks.append((f"offsetof({ctype}, {mem['path']})", mem["offset"] // 8))
            if mem["bits"]:
                checks.append((f"sizeof((({ctype} *)0)->{mem['path']})", mem["bits"] // 8))
    for name, value in sorted(doc["enumerators"].items()) + sorted(doc["macros"].items()):
        checks.append((f"{name} == {_c_int(value)}", None))
    return checks


def _c_int(value):
    if value < 0:
        return f"({value}LL)"
    return f"{value}ULL"


def _mask_cases(doc):
    cases = []
    for name, rec in sorted(doc["records"].items()):
        fields = [mem for mem in rec["members"] if mem.get("bitfield")]
        if not fields:
            continue
        for mem in fields:
            mask = bytearray(rec["size"])
            for bit in range(mem["offset"], mem["offset"] + mem["bits"]):
                mask[bit // 8] |= 1 << (bit % 8)
            cases.append({"ctype": f"{rec['kind']} {name}", "path": mem["path"],
                          "mask": ", ".join(f"0x{b:02x}" for b in mask)})
    return cases


def render_static(product_name, arch, include_lines, doc):
    return stamp.fill(_env().get_template("static_asserts.c.j2").render(
        product=product_name, arch=arch, includes=include_lines,
        checks=_static_checks(doc), records=sorted(doc["records"].items()), stamp=stamp.PLACEHOLDER))


def render_mask(product_name, include_lines, doc):
    return stamp.fill(_env().get_template("mask.c.j2").render(
        product=product_name, includes=include_lines, cases=_mask_cases(doc), stamp=stamp.PLACEHOLDER))


def render_all(spec, products):
    files = {}
    for product in products:
        if product.flavor == "selector":
            continue
        for arch in m.ARCHES:
            doc = product_records(spec, product, arch)
            base = f"tests/layout/{product.name}"
            files[f"{base}/{arch}.facts.json"] = stamp.fill(factsmod.dump({**doc, stamp.KEY: stamp.PLACEHOLDER}))
            files[f"{base}/{arch}.c"] = render_static(product.name, arch, includes(product, arch), doc)
            if arch == MASK_ARCH:
                files[f"{base}/mask-{arch}.c"] = render_mask(product.name, includes(product, arch), doc)
    return files
