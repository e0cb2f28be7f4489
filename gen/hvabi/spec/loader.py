"""Read spec/*.yaml (format 2) into the model, with the source position of everything.

Structure is checked by schema.yaml (JSON Schema); this module turns valid structure
into model objects and checks what is local to one entry (identifiers, docs, bit
syntax, `only:` terms against the profiles, a `why` for every variant). Checks that
need a concrete ABI (types resolve, bits cover the register, names unique) run per
selection in `spec.checks`.
"""

import hashlib
import pathlib
import re

import yaml

from .. import gcpause
from .. import model as m
from ..errors import HvabiError, SpecErrors
from . import expr
from .yamlsrc import Map, load_file, load_file_cached, position_of

_SCHEMA = None
_FAST_SCHEMA = None          # the compiled validator; False without fastjsonschema
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")        # whole names only: fullmatch
_PROFILE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
_Imaginary _Noreturn _Static_assert _Thread_local""".split())
# Names the generated headers use, or that the headers they include define: a spec name
# equal to one of them would redefine a type or macro, or be expanded as one.
RESERVED = frozenset("""
u8 u16 u32 u64 s8 s16 s32 s64 __u8 __u16 __u32 __u64 __s8 __s16 __s32 __s64 __le16 __le32
__le64 __be16 __be32 __be64 ulong bool true false NULL size_t offsetof
BIT BIT_ULL GENMASK GENMASK_ULL _BITUL _BITULL _UL _ULL _AC __packed __aligned __attribute__
__always_inline __user __iomem __force __bitwise inline
CONFIG_X86 CONFIG_X86_64 CONFIG_ARM64 __x86_64__ __aarch64__ __i386__ __KERNEL__
HV_HYPERV_DEFS""".split()) | frozenset(expr.EXTERNAL) | frozenset(expr.BIT_MACROS)
MAX_ALIGN = 4096             # __aligned(): a power of two up to a page
MAX_BIT = (1 << 23) - 1      # bit positions: records are at most 1 MiB (checks.MAX_RECORD)


_SCHEMA_PATH = pathlib.Path(__file__).with_name("schema.yaml")


def _schema_doc():
    return yaml.load(_SCHEMA_PATH.read_bytes(), Loader=yaml.CSafeLoader)


def _schema():
    global _SCHEMA
    if _SCHEMA is None:
        import jsonschema    # here: only a file fastjsonschema rejects needs it (~60 ms import)
        _SCHEMA = jsonschema.Draft7Validator(_schema_doc())
    return _SCHEMA


_RAISE = re.compile(r"(?m)^(\s*)raise JsonSchemaValueException\(.*\)$")


def _fast_schema():
    """A compiled validator that only says valid or not, or None without fastjsonschema.
    Each `raise` fastjsonschema writes carries the whole schema as a literal (170 kB of
    code, ~0.15 s to compile); only valid-or-not is used, so each raises an empty one."""
    global _FAST_SCHEMA
    if _FAST_SCHEMA is None:
        # imported here (~40 ms: it pulls in urllib and http.client), by the first spec
        # validated, not by every process that imports the loader
        try:
            import fastjsonschema    # Debian python3-fastjsonschema: ~4x jsonschema on a valid file
        except ImportError:          # pragma: no cover - ./setup installs it
            _FAST_SCHEMA = False
            return None
        source = fastjsonschema.compile_to_code(_schema_doc(), use_default=False)
        scope = {}
        exec(compile(_RAISE.sub(r"\1raise JsonSchemaValueException('')", source), str(_SCHEMA_PATH),
                     "exec"), scope)
        _FAST_SCHEMA = scope["validate"]
    return _FAST_SCHEMA or None


_KINDS = ("consts", "enum", "struct", "union", "register", "typedef")


def _schema_errors(root):
    fast = _fast_schema()
    if fast is not None:
        from fastjsonschema import JsonSchemaException      # imported by _fast_schema
        try:
            fast(root)
            return []
        except JsonSchemaException:
            pass        # jsonschema finds every error, in the words the hints are made of
    from jsonschema.exceptions import best_match
    errors = []
    for err in sorted(_schema().iter_errors(root), key=lambda e: list(map(str, e.absolute_path))):
        # For oneOf failures, the deepest sub-error says what is really wrong.
        best = best_match([err]) if err.context else err
        path = list(best.absolute_path)
        where = "/".join(str(p) for p in path) or "top level"
        message, pos = _say(err, best, path), position_of(root, path)
        if err.validator == "oneOf" and best is err and isinstance(err.instance, Map):
            kinds = [k for k in _KINDS + ("anon",) if k in err.instance]
            if len(kinds) > 1:
                pos = err.instance.key_pos(kinds[1])
        if best.validator == "additionalProperties" and isinstance(best.instance, Map):
            known = best.schema.get("properties", {})
            extra = [k for k in best.instance if k not in known]
            if extra:
                pos = best.instance.key_pos(extra[0])
        errors.append(HvabiError(f"{message} (at {where})", pos,
                                 "see docs/spec-format.md for the keys each entry takes"))
    return errors


def _say(err, best, path):
    """The schema error in words: jsonschema's own, unless it would print a whole entry or
    not say what YAML made of the value."""
    instance = best.instance
    key = path[-1] if path and isinstance(path[-1], str) else "the value"
    if instance is None:
        return f"`{key}` has no value (YAML reads an empty value, ~, null and NULL as none; quote a name)"
    if isinstance(instance, bool) and best.validator in ("type", "oneOf", "anyOf", "enum"):
        return (f"`{key}` is {str(instance).lower()}: YAML reads true/false, yes/no and on/off as"
                " booleans (quote it if it is a name)")
    if err.validator == "oneOf" and isinstance(err.instance, Map) and best is err:
        kinds = [k for k in _KINDS + ("anon",) if k in err.instance]
        if "members" in [p for p in path if isinstance(p, str)] or "name" in err.instance or "anon" in kinds:
            return ("a member is either `name` and `type`, or one of `struct: NAME`, `union: NAME`,"
                    f" `anon: struct|union` with `members`; this one has {sorted(err.instance)}")
        return (f"an entry has exactly one kind key ({', '.join(_KINDS)}); this one has "
                + (", ".join(kinds) if kinds else "none"))
    if best.validator == "pattern" and key == "bits":
        return f"bits {instance!r} is not N or LO-HI"
    message = best.message
    return message if len(message) <= 200 else message[:160] + " ..."


class _Reader:
    """Builds model nodes from one file's Map/Seq tree, collecting errors."""

    def __init__(self, path, profiles, views):
        self.path = path
        self.profiles = profiles
        self.views = views           # name -> m.View
        self.file_views = m.views_of_file(views, path)
        self.errors = []
        self.def_why = ""            # the definition's `why` also covers its members
        self.sibling_whys = set()    # names in the list being read that carry a `why`

    def fail(self, what, pos, hint=None):
        self.errors.append(HvabiError(what, pos, hint))

    # -- shared pieces ---------------------------------------------------------------------

    def ident(self, name, pos, what="name"):
        problem = ident_problem(name)
        if problem:
            self.fail(f"{what} {name!r} {problem[0]}", pos, problem[1])
        return name

    def doc(self, node):
        text = node.get("doc", "")
        if "*/" in text or "/*" in text:
            self.fail("description contains a comment delimiter ('/*' or '*/')",
                      node.val_pos("doc"), "it would end the generated C comment early; reword it")
        return " ".join(text.split())

    def cond(self, node, member=False):
        """`only:` as a Cond. A term naming a profile, or a view on a member, is a variant
        of the ABI between copies and needs a `why`."""
        if "only" not in node:
            return m.ALWAYS
        raw = node["only"]
        pos = node.val_pos("only")
        terms = [raw] if isinstance(raw, str) else raw
        where = set()
        for term in terms:
            pair = parse_term(term, self.profiles, self.views)
            if pair is None:
                self.fail(f"`only: {term}` names no arch, view or profile", pos,
                          "use an arch (" + ", ".join(m.ARCHES) + "), a view (" + ", ".join(self.views)
                          + "), a profile (" + ", ".join(sorted(self.profiles)) + ") or WHO@ARCH")
                continue
            who = pair[0]
            view = self.profiles[who].view if who in self.profiles and who not in self.views else who
            if who != m.ANY and view not in self.file_views:
                self.fail(f"`only: {term}` names {'view' if who in self.views else 'profile'}"
                          f" {who!r}, but view {view!r} does not carry this file", pos,
                          "views of this file (spec/profiles.yaml `views:`): "
                          + ", ".join(sorted(self.file_views)))
                continue
            where.add(pair)
        needs_why = any(who in self.profiles and who not in self.views for who, _ in where) \
            or (member and any(who != m.ANY for who, _ in where))
        if needs_why and not node.get("why") and not self.def_why \
                and node.get("name") not in self.sibling_whys:
            self.fail("a condition that names a " + ("profile" if not member else "view or profile")
                      + " marks a variant and needs a `why`", pos,
                      "say in a few words why this copy of the ABI differs (`why: ...`), or, if it"
                      " only says which copy lists the name, drop `only` and add the name to that"
                      " profile's `omit` in spec/profiles.yaml")
        return m.Cond(frozenset(where)) if where else m.ALWAYS

    def each(self, nodes, read):
        """read(node) for a list of members, bitfields or items; a `why` on one of them also
        covers the others of the same name (the other shapes of one variant)."""
        outer = self.sibling_whys
        self.sibling_whys = {n.get("name") for n in nodes if isinstance(n, Map) and n.get("why")}
        try:
            return [read(n) for n in nodes]
        finally:
            self.sibling_whys = outer

    def ahead(self, node):
        if "ahead" not in node:
            return None
        raw = node["ahead"]
        if raw is True:
            return frozenset([m.ANY])
        for name in raw:
            if name not in self.profiles:
                self.fail(f"`ahead` names unknown profile {name!r}", node.val_pos("ahead"),
                          "profiles: " + ", ".join(sorted(self.profiles)))
        return frozenset(raw)

    def expr(self, value, pos):
        try:
            return expr.parse(value, pos)
        except HvabiError as e:
            self.errors.append(e)
            return expr.Num(0, "0")

    def bits(self, node):
        raw = node["bits"]
        if isinstance(raw, int):
            lo = hi = int(raw)
        else:
            lo, hi = (int(x) for x in raw.replace(" ", "").split("-"))
        if lo > hi:
            self.fail(f"bit range {raw} is reversed", node.val_pos("bits"), f"write {hi}-{lo}")
            lo, hi = hi, lo
        if hi > MAX_BIT:
            self.fail(f"bit {hi} is beyond any record (records are at most 1 MiB)",
                      node.val_pos("bits"), "bits count from the start of the enclosing struct")
            lo, hi = 0, 0
        return lo, hi

    def aligned(self, node):
        value = node.get("aligned")
        if value is not None and (value & (value - 1) or value > MAX_ALIGN):
            self.fail(f"aligned: {value} is not a power of two up to {MAX_ALIGN}",
                      node.val_pos("aligned"), "C takes __aligned(1, 2, 4, ... 4096) here")
            return None
        return value

    def base(self, cls, node, name, in_record=False, **kw):
        return cls(name=name, pos=node.pos, doc=self.doc(node), cond=self.cond(node, in_record),
                   why=" ".join(node.get("why", "").split()), ahead=self.ahead(node), **kw)

    # -- definitions -----------------------------------------------------------------------

    def entries(self, node, default_header):
        """The model entries of one spec entry: one, or one per variant."""
        kind = next(k for k in ("consts", "enum", "struct", "union", "register", "typedef") if k in node)
        name = node[kind]
        if name is not None and kind != "consts":
            self.ident(name, node.val_pos(kind), f"{kind} name")
        placement = dict(default_header or {})
        placement.update(node.get("header", {}))
        if not placement:
            self.fail(f"{kind} '{name}' has no header placement", node.pos,
                      "add `header: {hdk: hvgdk_mini, tlfs: generic}` to the entry or the file")
        self.placement_keys(node.get("header", {}), node.val_pos("header"))
        bodies = [node]
        if "variants" in node:
            if kind == "consts":
                self.fail("constants take no `variants`", node.val_pos("variants"),
                          "give the differing item an `only:` and a `why:` instead")
            bodies = []
            for variant in node["variants"]:
                body = Map(node)
                del body["variants"]
                body.update(variant)
                body.pos, body._kpos, body._vpos = variant.pos, {**node._kpos, **variant._kpos}, \
                    {**node._vpos, **variant._vpos}
                bodies.append(body)
        out = []
        for body in bodies:
            if "kind" in body and kind not in ("struct", "union", "register"):
                self.fail(f"`kind` in a variant of {kind} '{name}'", body.val_pos("kind"),
                          "`kind: struct|union|register` changes the kind of a record variant only")
            if "last_comma" in body and kind != "enum":
                self.fail(f"`last_comma` on {kind} '{name}'", body.key_pos("last_comma"),
                          "`last_comma: false` drops the comma after an enum's last enumerator;"
                          " it is for enums only")
            self.def_why = body.get("why", "")
            vkind = body.get("kind", kind) if kind in ("struct", "union", "register") else kind
            defn = getattr(self, "def_" + vkind)(body, name)
            defn.pos = node.pos if body is node else body.pos
            where = m.Placement(placement)
            # where each id is named: the entry's `header:` or, for keys it does not give, the file's
            where.pos_of = {k: node.val_pos("header") if k in node.get("header", {}) else self.header_pos
                            for k in placement}
            out.append(m.Entry(defn, where, node.get("tlfs"), self.path))
        return out

    def placement_keys(self, header, pos):
        for key in header:
            if key not in self.views and key not in self.profiles:
                self.fail(f"header placement key {key!r} is no view or profile", pos,
                          "keys: " + ", ".join(list(self.views) + sorted(self.profiles)))

    def def_consts(self, node, name):
        self.same_name_items(node)
        group = self.base(m.ConstGroup, node, name)
        group.items = self.each(node.get("items", []), self.const)
        return group

    def const(self, item):
        const = self.base(m.Const, item, self.ident(item["name"], item.key_pos("name")))
        if "params" in item:
            params = [self.ident(p, item.val_pos("params"), "macro parameter") for p in item["params"]]
            if len(set(params)) != len(params):
                self.fail(f"macro '{const.name}' names a parameter twice", item.val_pos("params"),
                          "give each parameter its own name")
            const.params = tuple(params)
        if "header" in item:
            self.placement_keys(item["header"], item.val_pos("header"))
            const.placement = m.Placement(dict(item["header"]))
            const.placement.pos_of = {k: item.val_pos("header") for k in item["header"]}
        value = item["value"]
        if isinstance(value, Map):
            const.values = [(m.Cond.on_arches([a]), self.expr(v, value.val_pos(a)))
                            for a, v in value.items()]
        else:
            const.values = [(m.ALWAYS, self.expr(value, item.val_pos("value")))]
        return const

    def same_name_items(self, node):
        """Items listed twice under different conditions are variants: one of them (or the
        definition) says why."""
        items = node.get("items", [])
        explained = {i.get("name") for i in items if i.get("why")}
        seen = set()
        for item in items:
            name = item.get("name")
            if name in seen and name not in explained and not node.get("why"):
                self.fail(f"{name} is listed twice: a variant needs a `why`", item.pos,
                          "say why the copies differ (`why: ...` on one of them or on the definition)")
            seen.add(name)

    def def_enum(self, node, name):
        self.same_name_items(node)
        alias = node.get("alias")
        if alias is not None:
            self.ident(alias, node.val_pos("alias"), "enum alias")
        enum = self.base(m.Enum, node, name, alias=alias, last_comma=node.get("last_comma", True))

        def enumerator(item):
            value = self.expr(item["value"], item.val_pos("value")) if "value" in item else None
            return self.base(m.Enumerator, item, self.ident(item["name"], item.key_pos("name")), value=value)
        enum.items = self.each(node.get("items", []), enumerator)
        return enum

    def def_typedef(self, node, name):
        return self.base(m.Typedef, node, name, type=m.TypeRef(node.get("type", "")))

    def def_struct(self, node, name, kind="struct"):
        rec = self.base(m.Record, node, name, kind=kind, packed=node.get("packed", False),
                        aligned=self.aligned(node))
        rec.members = self.each(node.get("members", []), self.member)
        rec.asserts = [a for a in self.each(node.get("asserts", []), self.assertion) if a is not None]
        return rec

    def assertion(self, node):
        """One `asserts:` item: {that: "LHS OP RHS", only: ...}."""
        parts = re.split(r"\s(==|!=|<=|>=|<|>)\s", node["that"])
        if len(parts) != 3:
            self.fail(f"assertion {node['that']!r} is not `LHS OP RHS` with one comparison",
                      node.val_pos("that"), "OP is one of == != <= >= < >, with a space each side")
            return None
        pos = node.val_pos("that")
        return self.base(m.Assert, node, None, True, lhs=self.expr(parts[0], pos), op=parts[1],
                         rhs=self.expr(parts[2], pos))

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
        struct_name = node.get("struct_name")
        if struct_name is not None:
            self.ident(struct_name, node.val_pos("struct_name"), "struct_name")
        bits = m.Record(name=None, pos=node.pos, kind="struct", packed=node.get("bits_packed", True),
                        member=struct_name)
        bits.members = self.each(node.get("fields", []), lambda x: self.bitfield(x, storage))
        members = [bits, raw_field] if raw.get("last") else [raw_field, bits]
        rec = self.base(m.Record, node, name, kind="union", packed=node.get("packed", False),
                        aligned=self.aligned(node), members=members)
        rec.register = True
        return rec

    # -- members ---------------------------------------------------------------------------

    def bitfield(self, node, default_type):
        name = self.ident(node["name"], node.key_pos("name"), "bitfield name")
        lo, hi = self.bits(node)
        return self.base(m.Bitfield, node, name, True, type=node.get("type", default_type), lo=lo, hi=hi,
                         reserved=node.get("reserved", False))

    def member(self, node):
        if "count_name" in node and ("bits" in node or "members" in node):
            self.fail("count_name is for an array member of a scalar or tagged type",
                      node.key_pos("count_name"), "drop `count_name` here")
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
        count_name = node.get("count_name")
        if count_name is not None:
            self.ident(count_name, node.val_pos("count_name"), "count_name")
            if node.get("count") in (None, m.FLEX):
                self.fail(f"count_name {count_name!r} names the length of a member that has none",
                          node.val_pos("count_name"),
                          "give the member an array length (`count: EXPR`), or drop `count_name`")
        return self.base(m.Field, node, name, True, type=m.TypeRef(node["type"], node.get("volatile", False)),
                         count=self.count(node), reserved=node.get("reserved", False),
                         count_name=count_name)

    def count(self, node):
        """A member's array length: None, m.FLEX or an expression tree."""
        count = node.get("count")
        if count is not None and count != m.FLEX:
            count = self.expr(count, node.val_pos("count"))
        return count

    def nested(self, node, kind, member):
        rec = self.base(m.Record, node, None, True, kind=kind, packed=node.get("packed", False),
                        aligned=self.aligned(node), member=member,
                        count=self.count(node) if member else None)
        rec.members = self.each(node["members"], self.member)
        return rec


def ident_problem(name):
    """(what is wrong, hint) if `name` cannot be a C name in the generated headers."""
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        return ("is not a valid C identifier", "use letters, digits and '_', not starting with a digit")
    if name in C_KEYWORDS:
        return ("is a C keyword", "pick another name")
    if name in RESERVED:
        return ("is a name the generated headers already use (a type or macro of the kernel or"
                " uapi headers)", "pick another name; the spec may use NSEC_PER_SEC and PAGE_SIZE"
                " in expressions but not define them")
    return None


def parse_term(term, profiles, views):
    """One `only:` term as a (who, arch) pair, or None: `x86_64`, `hdk`, `linux`,
    `tlfs@x86_64`."""
    who, at, arch = str(term).partition("@")
    if at and not arch:
        return None
    if not arch and who in m.ARCHES:
        return m.ANY, who
    if who not in views and who not in profiles:
        return None
    if arch and arch not in m.ARCHES:
        return None
    return who, arch or m.ANY


def load_profiles(path, shown=None):
    """The profiles of spec/profiles.yaml, by name."""
    return load_selectors(path, shown)[1]


def _load_views(root, fail):
    """spec/profiles.yaml `views:` (name -> m.View). Without it, the views are those the
    profiles name, each carrying every spec file."""
    if "views" not in root:
        names = [b.get("view") for b in (root.get("profiles") or {}).values() if isinstance(b, Map)]
        return {v: m.View(v) for v in dict.fromkeys(names) if isinstance(v, str)}
    views = {}
    body_of = root["views"]
    if not isinstance(body_of, Map) or not body_of:
        fail("`views:` must map view names to `doc:` (and `defs:`)", root.val_pos("views"),
             "see docs/spec-format.md")
        return views
    for name, body in body_of.items():
        pos = body_of.key_pos(name)
        if not isinstance(name, str) or not _IDENT.match(name.replace("-", "_")) or name in m.ARCHES:
            fail(f"view name {name!r} is not usable", pos, "letters, digits, '_' and '-'; not an arch")
            continue
        if not isinstance(body, Map):
            fail(f"view {name!r} must be a mapping", pos, "give it `doc:`")
            continue
        for key in body:
            if key not in ("doc", "defs"):
                fail(f"unknown key {key!r} in view {name!r}", body.key_pos(key), "keys: doc, defs")
        defs = body.get("defs")
        if defs is not None and (not isinstance(defs, list) or not defs
                                 or not all(isinstance(d, str) and d.endswith(".yaml") for d in defs)):
            fail(f"`defs` of view {name!r} must list spec file names", body.val_pos("defs"),
                 "write `defs: [60-mshv.yaml]` (files in spec/defs)")
            defs = None
        views[name] = m.View(name, " ".join(str(body.get("doc", "")).split()),
                             frozenset(defs) if defs is not None else None)
        views[name].pos = body.val_pos("defs") if defs is not None else pos
    if views and all(v.defs is not None for v in views.values()):
        fail("every view takes its own `defs`: no view carries the other spec files",
             root.val_pos("views"), "leave `defs` off the views of the ABI proper")
    return views


def load_selectors(path, shown=None):
    """(views, profiles) of spec/profiles.yaml, each by name."""
    root = load_file_cached(path, shown or str(path))
    errors = []

    def fail(what, pos, hint=None):
        errors.append(HvabiError(what, pos, hint))

    if not isinstance(root, Map):
        raise HvabiError("profiles.yaml must be a mapping", getattr(root, "pos", None), "see docs/spec-format.md")
    if root.get("hvabi") != 2:
        fail("profiles.yaml needs `hvabi: 2` (spec format 2)", root.pos, "see docs/spec-format.md")
    for key in root:
        if key not in ("hvabi", "views", "profiles"):
            fail(f"unknown key {key!r} in profiles.yaml", root.key_pos(key),
                 "keys: hvabi, views, profiles")
    views = _load_views(root, fail)
    profiles = {}
    body_of = root.get("profiles")
    if not isinstance(body_of, Map) or not body_of:
        fail("profiles.yaml needs a `profiles:` mapping of profile names",
             root.val_pos("profiles") if "profiles" in root else root.pos, "see docs/spec-format.md")
        raise SpecErrors(errors)
    for name, body in body_of.items():
        pos = body_of.key_pos(name)
        if not isinstance(body, Map):
            fail(f"profile {name!r} must be a mapping", pos, "give it `view:` and `doc:`")
            continue
        if not isinstance(name, str) or not _PROFILE.fullmatch(name) or name in m.ARCHES \
                or name in views and body.get("view") != name:
            fail(f"profile name {name!r} is not usable", pos,
                 "letters, digits, '_' and '-'; not an arch, and not a view name unless it is that view's")
        for key in body:
            if key not in ("view", "doc", "reference", "omit"):
                fail(f"unknown key {key!r} in profile {name!r}", body.key_pos(key),
                     "keys: view, doc, reference, omit")
        view = body.get("view")
        if not isinstance(view, str) or view not in views:
            fail(f"profile {name!r} needs a `view:` of spec/profiles.yaml", body.val_pos("view")
                 if "view" in body else pos, "views: " + ", ".join(views))
        for key in ("doc", "reference"):
            if key in body and not isinstance(body[key], str):
                fail(f"`{key}` of profile {name!r} must be text", body.val_pos(key), "one or more sentences")
        profiles[name] = m.Profile(name, view, " ".join(str(body.get("doc", "")).split()),
                                   " ".join(str(body.get("reference", "")).split()))
    for name, body in body_of.items():
        if not isinstance(body, Map) or name not in profiles:
            continue
        omit = body.get("omit", [])
        if not isinstance(omit, list):
            fail(f"`omit` of profile {name!r} must be a list of names", body.val_pos("omit"),
                 "write `omit: [NAME, NAME@arm64]`")
            continue
        table = profiles[name].omit
        for i, term in enumerate(omit):
            what, _, arch = str(term).partition("@")
            ipos = omit.item_pos(i) if hasattr(omit, "item_pos") else body.val_pos("omit")
            if not _IDENT.fullmatch(what) or (arch and arch not in m.ARCHES) or "@" in arch:
                fail(f"`omit` entry {term!r} of profile {name!r} is not NAME or NAME@ARCH", ipos,
                     "arches: " + ", ".join(m.ARCHES))
                continue
            if what in table and (table[what] is None or not arch):
                fail(f"profile {name!r} omits {what} twice", ipos, "keep one entry")
                continue
            table[what] = None if not arch else (table.get(what) or frozenset()) | {arch}
            profiles[name].omit_pos.setdefault(what, ipos)
    if errors:
        raise SpecErrors(errors)
    return views, profiles


_PARSED = {}                 # (shown path, sha256 of the bytes) -> _Parsed


class _Parsed:
    """One defs file parsed and checked against the schema, and what reading it gave under
    each profiles.yaml it was read with (entries and errors depend on nothing else)."""

    __slots__ = ("root", "schema_errors", "reads")

    def __init__(self, root, schema_errors):
        self.root, self.schema_errors = root, schema_errors
        self.reads = {}          # (shown path, sha256) of profiles.yaml -> (entries, errors)


def _parsed(path, shown):
    """The _Parsed of one defs file. A process that loads many specs differing in one file
    (tests, tools/fuzz_spec.py) parses and reads the others once: the result depends on
    the bytes and the shown path only, and nothing changes it (the model is not changed
    after loading, and every memo over it lives on a Spec or an Abi, not on its nodes)."""
    try:
        key = (shown, hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        key = None
    result = _PARSED.pop(key, None)
    if result is None:
        root = load_file(path, shown)
        result = _Parsed(root, _schema_errors(root))
        if key is None:
            return result
        if len(_PARSED) >= 32:
            _PARSED.pop(next(iter(_PARSED)))   # the least recently used: the files all
    _PARSED[key] = result                      # the mutated specs share stay
    return result


def load_spec(spec_dir, display_root=None):
    """Load every `*.yaml` under spec_dir/defs (sorted) plus spec_dir/profiles.yaml."""
    with gcpause.paused():
        return _load_spec(spec_dir, display_root)


def _load_spec(spec_dir, display_root):
    spec_dir = pathlib.Path(spec_dir)
    display_root = pathlib.Path(display_root) if display_root else spec_dir.parent

    def shown(p):
        try:
            return str(p.relative_to(display_root))
        except ValueError:
            return str(p)

    selectors = spec_dir / "profiles.yaml"
    views, profiles = load_selectors(selectors, shown(selectors))
    # what reading a defs file depends on besides its own bytes (load_selectors read it)
    context = (shown(selectors), hashlib.sha256(selectors.read_bytes()).digest())
    spec = m.Spec(profiles=profiles, views=views)
    errors = []
    files = sorted((spec_dir / "defs").glob("*.yaml"))
    if not files:
        raise HvabiError(f"no spec files in {spec_dir / 'defs'}", None, "is this the spec/ directory?")
    for path in files:
        try:
            parsed = _parsed(path, shown(path))
        except HvabiError as e:
            errors.append(e)
            continue
        if parsed.schema_errors:
            errors.extend(parsed.schema_errors)
            continue
        read = parsed.reads.get(context)
        if read is None:
            read = _read_defs(parsed.root, shown(path), spec)
            if len(parsed.reads) >= 4:
                parsed.reads.pop(next(iter(parsed.reads)))
            parsed.reads[context] = read
        spec.entries.extend(read[0])
        errors.extend(read[1])
    if errors:
        raise SpecErrors(errors)
    return spec


def _read_defs(root, shown, spec):
    """(entries, errors) of one schema-valid defs file, read with spec's profiles and views."""
    reader = _Reader(shown, spec.profiles, spec.views)
    reader.header_pos = root.val_pos("header") if "header" in root else root.pos
    reader.placement_keys(root.get("header", {}), root.val_pos("header"))
    entries = []
    for node in root["defs"]:
        entries.extend(reader.entries(node, root.get("header")))
    return entries, reader.errors
