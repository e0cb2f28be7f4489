"""A slice of the real spec that the bad-spec corpus mutates: a few dozen real entries
(chosen for the features they show) with every definition they need, the real
products.yaml, and profiles.yaml with the `omit` entries that name what the slice holds.
Loading and checking the whole spec takes seconds; the slice takes a tenth of one, so
hundreds of mutations run in-process in tens of seconds. The text of every entry is the
real spec's, line for line."""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "gen"))

from hvabi import model as m                      # noqa: E402
from hvabi.spec import expr, loader, yamlsrc       # noqa: E402

# Entries every slice keeps, by name: each shows a feature the mutations need.
SEEDS = [
    "hv-status",                       # constants with a doc per item
    "HV_HYP_PAGE_SHIFT",               # an expression using another constant
    "HV_MAKE_COMPATIBILITY_VERSION",   # a macro with params
    "hv_generic_set_format",           # an enum with an alias
    "hv_vpset",                        # a flexible array of u64
    "hv_x64_segment_register",         # variants, nested anon records, bitfields
    "hv_synic_sint",                   # a register
    "hv_message",                      # nested named union, arrays
    "HV_SUBNODE_INVALID",              # an enum with negative values
    "hv_pci_rid",                      # a typedef
    "hv_partition_property_code",      # a big enum with implicit values
    "hv_input_get_vp_registers",       # a struct using typedefs and a flex array
    "hv_x64_msr_hypercall_contents",   # a register with struct_name
    "hv_tlb_flush",                    # a tlfs-only struct (or both views)
    "hv_nested_enlightenments_control",
    "hv_memory_hint",                  # hvgdk_ext
    "hv_enlightenments_control",       # hvgdk, bitfields
    # Named so that adding entries elsewhere cannot drop what the cases anchor on.
    "HV_X64_CLUSTER_IPI_RECOMMENDED",  # a constant group of BIT() values
    "hv_port_id",                      # registers with struct_name and raw
    "hv_connection_id",
    "hv_connection_info",              # a union of per-type settings
    "hv_cpuid_result",                 # as_uint32 arrays
    "hv_output_get_vp_cpuid_values",
    "hv_x64_memory_intercept_message", # instruction_bytes
    "hv_input_translate_virtual_address",  # renamed onto hv_input_connect_port
    "hv_input_connect_port",
]
EVERY = 40                             # and every 40th entry of each file


def _raw_entries(spec_dir):
    """[(file, name, first line, last line)] of every entry of spec_dir/defs, in order."""
    out = []
    for path in sorted((spec_dir / "defs").glob("*.yaml")):
        root = yamlsrc.load_file(path, path.name)
        lines = path.read_text().splitlines()
        starts = [node.pos.line for node in root["defs"]]
        for i, node in enumerate(root["defs"]):
            kind = next(k for k in ("consts", "enum", "struct", "union", "register", "typedef") if k in node)
            end = starts[i + 1] - 1 if i + 1 < len(starts) else len(lines)
            items = [x.get("name") for x in node.get("items", [])]
            out.append((path.name, node[kind], starts[i], end, items))
    return out


def _needs(defn):
    """Names `defn` uses: types of members, constants of expressions."""
    out = set()

    def tree_names(tree):
        if tree is None or tree == m.FLEX:
            return set()
        return expr.names(tree) | expr.sizeof_types(tree)

    def walk(members):
        for node in members:
            if isinstance(node, m.Record):
                out.update(tree_names(node.count))
                walk(node.members)
            elif isinstance(node, m.Field):
                out.add(node.type.name)
                out.update(tree_names(node.count))
            elif isinstance(node, m.Bitfield):
                out.add(node.type)
    if isinstance(defn, m.Record):
        walk(defn.members)
    elif isinstance(defn, m.Typedef):
        out.add(defn.type.name)
    elif isinstance(defn, m.ConstGroup):
        for const in defn.items:
            for _, tree in const.values:
                out.update(tree_names(tree))
            out -= set(const.params or ())
    elif isinstance(defn, m.Enum):
        for item in defn.items:
            out.update(tree_names(item.value))
    return out


def build(spec_dir=REPO / "spec"):
    """{file name relative to spec/: text} of the slice."""
    spec_dir = pathlib.Path(spec_dir)
    spec = loader.load_spec(spec_dir)
    raw = _raw_entries(spec_dir)
    # model entries -> raw entry index, by file and line
    index_of, defines = {}, {}
    for i, (fname, name, first, last, items) in enumerate(raw):
        for key in [name] + items:
            defines.setdefault(key, set()).add(i)
    for entry in spec.entries:
        fname = pathlib.Path(entry.source_file).name
        line = entry.defn.pos.line
        for i, (rf, _, first, last, _) in enumerate(raw):
            if rf == fname and first <= line <= last:
                index_of.setdefault(i, []).append(entry.defn)
    keep, todo = set(), []
    for seed in SEEDS:
        todo.extend(defines.get(seed, ()))
    by_file = {}
    for i, r in enumerate(raw):
        by_file.setdefault(r[0], []).append(i)
    for indexes in by_file.values():
        todo.extend(indexes[::EVERY])
    while todo:
        i = todo.pop()
        if i in keep:
            continue
        keep.add(i)
        for defn in index_of.get(i, []):
            for name in _needs(defn):
                todo.extend(defines.get(name, ()))
    files = {}
    for fname in sorted({r[0] for r in raw}):
        lines = (spec_dir / "defs" / fname).read_text().splitlines(True)
        chosen = [r for i, r in enumerate(raw) if r[0] == fname and i in keep]
        if not chosen:
            continue
        first_entry = min(r[2] for r in raw if r[0] == fname)
        text = "".join(lines[:first_entry - 1])
        for _, _, first, last, _ in chosen:
            text += "".join(lines[first - 1:last])
        files[f"defs/{fname}"] = text
    names = set()
    for i in keep:
        names.add(raw[i][1])
        names.update(raw[i][4])
    files["profiles.yaml"] = _profiles(spec_dir, spec, names)
    files["products.yaml"] = products_text(spec_dir / "products.yaml", names)
    for path in sorted((spec_dir / "order").glob("*.yaml")):
        files[f"order/{path.name}"] = order_text(path, names)
    return files


def products_text(path, names):
    """products.yaml with each header's `uapi_types:` cut to the records this slice holds
    (the rest would not be in the header)."""
    import re

    def cut(m):
        kept = [x for x in re.split(r"[\s,]+", m.group(2)) if x in names]
        return f"{m.group(1)}[{', '.join(kept)}]"
    return re.sub(r"(uapi_types: )\[([^\]]*)\]", cut, path.read_text())


def order_text(path, names):
    """A header's order file with the names this slice holds (the rest would be unknown)."""
    keep = [line for line in path.read_text().splitlines(True)
            if not line.lstrip().startswith("- ") or line.split("- ", 1)[1].strip() in names]
    text = "".join(keep)
    return text if any(line.lstrip().startswith("- ") for line in keep) else \
        text.replace("order:\n", "order: []\n")


def _profiles(spec_dir, spec, names):
    root = yamlsrc.load_file(spec_dir / "profiles.yaml")
    text = (spec_dir / "profiles.yaml").read_text()
    head = text[:text.index("\nprofiles:") + 1]          # hvabi: and views:, as they are
    out = [head.rstrip("\n"), "", "# The real profiles, with the omit entries that name what this slice holds.",
           "profiles:"]
    for name, body in root["profiles"].items():
        out.append(f"  {name}:")
        for key in ("view", "doc", "reference"):
            if key in body:
                out.append(f"    {key}: {_quote(body[key])}")
        omit = [t for t in body.get("omit", []) if t.partition("@")[0] in names]
        if omit:
            out.append("    omit: [")
            line = "      "
            for term in omit:
                if len(line) + len(term) > 90:
                    out.append(line.rstrip())
                    line = "      "
                line += term + ", "
            out.append(line.rstrip().rstrip(","))
            out.append("    ]")
    return "\n".join(out) + "\n"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(files, spec_dir):
    for rel, text in files.items():
        path = pathlib.Path(spec_dir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)


if __name__ == "__main__":
    import tempfile
    import time
    t = time.time()
    files = build()
    t1 = time.time()
    for rel, text in sorted(files.items()):
        print(rel, text.count("\n"), "lines")
    with tempfile.TemporaryDirectory() as tmp:
        write(files, pathlib.Path(tmp) / "spec")
        from hvabi import cli
        t2 = time.time()
        status = cli.main(["--spec", str(pathlib.Path(tmp) / "spec"), "validate"])
        t3 = time.time()
        status = cli.main(["--spec", str(pathlib.Path(tmp) / "spec"), "validate"])
        t4 = time.time()
    print("build", round(t1 - t, 2), "validate", round(t3 - t2, 2), round(t4 - t3, 2), status)
