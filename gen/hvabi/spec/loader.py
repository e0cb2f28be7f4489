"""Read spec/*.yaml into the model, with the source position of everything.

Structure is checked by schema.yaml (JSON Schema); this module turns valid structure
into model objects and checks what is local to one entry (identifiers, docs, bit
syntax). Checks that need a concrete ABI (types resolve, bits cover the register,
names unique) run per selection in `spec.checks`.
"""

import pathlib
import re

import jsonschema
import yaml

from .. import model as m
from ..errors import HvabiError, SpecErrors
from . import expr
from .yamlsrc import Map, load_file, position_of

_SCHEMA = None
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
_Imaginary _Noreturn _Static_assert _Thread_local""".split())


def _schema():
    global _SCHEMA
    if _SCHEMA is None:
        path = pathlib.Path(__file__).with_name("schema.yaml")
        _SCHEMA = jsonschema.Draft7Validator(yaml.safe_load(path.read_text()))
    return _SCHEMA


def _schema_errors(root):
    errors = []
    for err in sorted(_schema().iter_errors(root), key=lambda e: list(map(str, e.absolute_path))):
        # For oneOf failures, the deepest sub-error says what is really wrong.
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        path = list(best.absolute_path)
        where = "/".join(str(p) for p in path) or "top level"
        errors.append(HvabiError(f"{best.message} (at {where})", position_of(root, path),
                                 "see docs/spec-format.md for the keys each entry takes"))
    return errors


class _Reader:
    """Builds model nodes from one file's Map/Seq tree, collecting errors."""

    def __init__(self, path):
        self.path = path
        self.errors = []

    def fail(self, what, pos, hint=None):
        self.errors.append(HvabiError(what, pos, hint))

    # -- shared pieces ---------------------------------------------------------------------

    def ident(self, name, pos, what="name"):
        if not isinstance(name, str) or not _IDENT.match(name):
            self.fail(f"{what} {name!r} is not a valid C identifier", pos,
                      "use letters, digits and '_', not starting with a digit")
        elif name in C_KEYWORDS:
            self.fail(f"{what} '{name}' is a C keyword", pos, "pick another name")
        return name

    def doc(self, node):
        text = node.get("doc", "")
        if "*/" in text or "/*" in text:
            self.fail("description contains a comment delimiter ('/*' or '*/')",
                      node.val_pos("doc"), "it would end the generated C comment early; reword it")
        return " ".join(text.split())

    def cond(self, node):
        def axis(key):
            if key not in node:
                return None
            value = node[key]
            return frozenset([value] if isinstance(value, str) else value)
        return m.Cond(axis("arch"), axis("view"), axis("profile"))

    def expr(self, value, pos):
        try:
            return expr.parse(value, pos)
        except HvabiError as e:
            self.errors.append(e)
            return expr.Num(0, "0")

    def bits(self, node):
        raw = node["bits"]
        if isinstance(raw, int):
            return int(raw), int(raw)
        lo, hi = (int(x) for x in raw.replace(" ", "").split("-"))
        if lo > hi:
            self.fail(f"bit range {raw} is reversed", node.val_pos("bits"), f"write {hi}-{lo}")
            lo, hi = hi, lo
        return lo, hi

    def base(self, cls, node, name, **kw):
        return cls(name=name, pos=node.pos, doc=self.doc(node), cond=self.cond(node), **kw)

    # -- definitions -----------------------------------------------------------------------

    def entry(self, node, default_header, file_cond=m.ALWAYS):
        kind = next(k for k in ("consts", "enum", "struct", "union", "register", "typedef") if k in node)
        name = node[kind]
        if name is not None and kind != "consts":
            self.ident(name, node.key_pos(kind), f"{kind} name")
        defn = getattr(self, "def_" + kind)(node, name)
        # A file-level view/profile applies to the entries that leave that axis open.
        defn.cond = m.Cond(defn.cond.arch, defn.cond.view or file_cond.view,
                           defn.cond.profile or file_cond.profile)
        placement = dict(default_header or {})
        placement.update(node.get("header", {}))
        if not placement:
            self.fail(f"{kind} '{name}' has no header placement", node.pos,
                      "add `header: {hdk: hvgdk_mini, tlfs: generic}` to the entry or the file")
        return m.Entry(defn, m.Placement(placement), node.get("tlfs"), self.path)

    def def_consts(self, node, name):
        group = self.base(m.ConstGroup, node, name)
        for item in node.get("items", []):
            const = self.base(m.Const, item, self.ident(item["name"], item.key_pos("name")))
            if "params" in item:
                params = [self.ident(p, item.val_pos("params"), "macro parameter") for p in item["params"]]
                if len(set(params)) != len(params):
                    self.fail(f"macro '{const.name}' names a parameter twice", item.val_pos("params"),
                              "give each parameter its own name")
                const.params = tuple(params)
            value = item["value"]
            if isinstance(value, Map):
                const.values = [(m.Cond(arch=frozenset([a])), self.expr(v, value.val_pos(a)))
                                for a, v in value.items()]
            else:
                const.values = [(m.ALWAYS, self.expr(value, item.val_pos("value")))]
            group.items.append(const)
        return group

    def def_enum(self, node, name):
        enum = self.base(m.Enum, node, name, alias=node.get("alias"))
        for item in node.get("items", []):
            value = self.expr(item["value"], item.val_pos("value")) if "value" in item else None
            enum.items.append(self.base(m.Enumerator, item,
                                        self.ident(item["name"], item.key_pos("name")), value=value))
        return enum

    def def_typedef(self, node, name):
        return self.base(m.Typedef, node, name, type=m.TypeRef(node.get("type", "")))

    def def_struct(self, node, name, kind="struct"):
        rec = self.base(m.Record, node, name, kind=kind, packed=node.get("packed", False),
                        aligned=node.get("aligned"))
        rec.members = [self.member(x) for x in node.get("members", [])]
        return rec

    def def_union(self, node, name):
        return self.def_struct(node, name, "union")

    def def_register(self, node, name):
        """`register` is sugar for `union { T raw; struct { bitfields } __packed; }`."""
        storage = node.get("type", "u64")
        raw = node.get("raw", "as_uint64")
        raw = raw if isinstance(raw, Map) else {"name": raw}
        count = self.expr(raw["count"], node.pos) if "count" in raw else None
        raw_field = m.Field(name=self.ident(raw["name"], node.val_pos("raw")), pos=node.pos,
                            doc="Raw register value.", type=m.TypeRef(storage), count=count)
        bits = m.Record(name=None, pos=node.pos, kind="struct", packed=node.get("bits_packed", True),
                        member=node.get("struct_name"))
        bits.members = [self.bitfield(x, storage) for x in node.get("fields", [])]
        members = [bits, raw_field] if raw.get("last") else [raw_field, bits]
        rec = self.base(m.Record, node, name, kind="union", packed=node.get("packed", False),
                        aligned=node.get("aligned"), members=members)
        rec.register = True
        return rec

    # -- members ---------------------------------------------------------------------------

    def bitfield(self, node, default_type):
        name = self.ident(node["name"], node.key_pos("name"), "bitfield name")
        lo, hi = self.bits(node)
        return self.base(m.Bitfield, node, name, type=node.get("type", default_type), lo=lo, hi=hi,
                         reserved=node.get("reserved", False))

    def member(self, node):
        for kind in ("struct", "union"):
            if kind in node:
                return self.nested(node, kind, self.ident(node[kind], node.key_pos(kind), "member name"))
        if "anon" in node:
            if "count" in node:
                self.fail("an anonymous struct/union member cannot be an array", node.val_pos("count"),
                          f"name it (`{node['anon']}: NAME` instead of `anon: {node['anon']}`) or drop"
                          " `count`")
            return self.nested(node, node["anon"], None)
        if "bits" in node:
            if "count" in node:
                self.fail("a bitfield cannot be an array", node.val_pos("count"),
                          "drop `count`, or `bits` to make it an array member")
            return self.bitfield(node, node["type"])
        name = self.ident(node["name"], node.key_pos("name"), "member name")
        return self.base(m.Field, node, name, type=m.TypeRef(node["type"], node.get("volatile", False)),
                         count=self.count(node), reserved=node.get("reserved", False))

    def count(self, node):
        """A member's array length: None, m.FLEX or an expression tree."""
        count = node.get("count")
        if count is not None and count != m.FLEX:
            count = self.expr(count, node.val_pos("count"))
        return count

    def nested(self, node, kind, member):
        rec = self.base(m.Record, node, None, kind=kind, packed=node.get("packed", False),
                        aligned=node.get("aligned"), member=member,
                        count=self.count(node) if member else None)
        rec.members = [self.member(x) for x in node["members"]]
        return rec


def load_profiles(path):
    root = load_file(path, str(path))
    profiles = {}
    for name, body in root.get("profiles", {}).items():
        view = body.get("view") if isinstance(body, Map) else None
        if view not in m.VIEWS:
            raise HvabiError(f"profile '{name}' needs `view: tlfs` or `view: hdk`", root.val_pos("profiles"))
        profiles[name] = m.Profile(name, view, " ".join(body.get("doc", "").split()))
    return profiles


def load_spec(spec_dir, display_root=None):
    """Load every `*.yaml` under spec_dir/defs (sorted) plus spec_dir/profiles.yaml."""
    spec_dir = pathlib.Path(spec_dir)
    display_root = pathlib.Path(display_root) if display_root else spec_dir.parent

    def shown(p):
        try:
            return str(p.relative_to(display_root))
        except ValueError:
            return str(p)

    spec = m.Spec(profiles=load_profiles(spec_dir / "profiles.yaml"))
    errors = []
    files = sorted((spec_dir / "defs").glob("*.yaml"))
    if not files:
        raise HvabiError(f"no spec files in {spec_dir / 'defs'}", None, "is this the spec/ directory?")
    for path in files:
        try:
            root = load_file(path, shown(path))
        except HvabiError as e:
            errors.append(e)
            continue
        schema_errors = _schema_errors(root)
        if schema_errors:
            errors.extend(schema_errors)
            continue
        reader = _Reader(shown(path))
        file_cond = reader.cond(root)
        for node in root["defs"]:
            entry = reader.entry(node, root.get("header"), file_cond)
            spec.entries.append(entry)
        errors.extend(reader.errors)
    if errors:
        raise SpecErrors(errors)
    return spec
