"""Turn a selected ABI into view objects the templates print.

Everything decided here — names, spellings, arch conditionals, kernel-doc text, where the
`/* private: */` markers go — so templates/*.j2 only hold the C shape.
"""

import textwrap
from dataclasses import dataclass, field
from typing import Optional

from .. import model as m
from ..spec import expr

# Comments and macros wrap at 80 columns, as upstream's do.
COMMENT_WIDTH = 80
CODE_WIDTH = 80
CHECKPATCH_WIDTH = 100


# --- arch conditionals --------------------------------------------------------------------

@dataclass
class Branches:
    """`#if A ... #elif B ... [#else #error "..."] #endif`: a list of (test, items), and the
    #error text for the arches no branch names (None: nothing for them)."""
    branches: list
    error: Optional[str] = None


def group_by_arch(items, flavor, fixed_arch, what=None, closes=lambda views: True):
    """Wrap runs of arch-specific items in #if/#elif chains. Items are (arch set, view).

    With `what` (the definition the items belong to), a chain that `closes` (a test on its
    views) gets a branch for each arch the chain leaves out and, if the flavor wants one,
    `#else #error`: it is part of a definition that exists on every arch, which an arch
    the spec does not describe would get silently wrong (a record without its arch
    members, a constant without its value)."""
    out, chain = [], None
    for arches, view in items:
        if arches is None or fixed_arch is not None:
            out.append(view)
            chain = None
            continue
        if chain and chain.branches[-1][0] == arches:
            chain.branches[-1][1].append(view)
            continue
        if chain is None or any(a == arches for a, _ in chain.branches):
            chain = Branches([])
            out.append(chain)
        chain.branches.append((arches, [view]))
    for item in out:
        if isinstance(item, Branches):
            views = [v for _, vs in item.branches for v in vs]
            if what and closes(views):
                item.error = flavor.arch_error(what)
            if item.error:
                covered = frozenset().union(*(a for a, _ in item.branches))
                item.branches += [(frozenset([a]), []) for a in m.ARCHES if a not in covered]
            item.branches = [(flavor.arch_test(a), views) for a, views in item.branches]
    return out


def _arches(node):
    return node.cond.arch


# --- kernel-doc ---------------------------------------------------------------------------

def _sentences(doc):
    doc = " ".join(doc.split())
    head, _, rest = doc.partition(". ")
    return (head if head.endswith(".") or not rest else head + "."), rest


def _wrap(prefix, text, indent=" * "):
    """Kernel-doc lines for `prefix text`, wrapped at COMMENT_WIDTH."""
    words = " ".join(text.split())
    first = f"{indent}{prefix}{words}".rstrip()
    if len(first) <= COMMENT_WIDTH:
        return [first]
    opts = dict(break_long_words=False, break_on_hyphens=False)
    head = textwrap.wrap(words, COMMENT_WIDTH - len(indent) - len(prefix), **opts)[0]
    rest = words[len(head):].strip()
    cont = indent + "  "          # kernel-doc continuation: any further indentation
    return [f"{indent}{prefix}{head}"] + [f"{cont}{line}" for line in
                                          textwrap.wrap(rest, COMMENT_WIDTH - len(cont), **opts)]


def kernel_doc(kind, name, doc, members):
    """`/** kind name - brief ... @member: ... */` as a list of lines."""
    brief, rest = _sentences(doc)
    title = f"{kind} {name} - " if name else f"{kind} - "
    lines = ["/**"] + _wrap(title, brief)
    for path, mdoc in members:
        lines += _wrap(f"@{path}: ", " ".join(mdoc.split()))
    if rest:
        lines.append(" *")
        lines += [f" * {line}" for line in textwrap.wrap(rest, COMMENT_WIDTH - 3, break_long_words=False)]
    lines.append(" */")
    return lines


def comment(doc):
    text = " ".join(doc.split())
    if len(text) + 6 <= COMMENT_WIDTH:
        return [f"/* {text} */"]
    return ["/*"] + [f" * {line}" for line in textwrap.wrap(text, COMMENT_WIDTH - 3)] + [" */"]


# --- records ------------------------------------------------------------------------------

@dataclass
class MemberView:
    decl: str                     # "u64 vector:8" (without ';')
    reserved: bool
    marker: Optional[str] = None  # "private" / "public" comment before it
    pre: list = field(default_factory=list)     # lines at column 0 before it (#define)
    post: list = field(default_factory=list)    # ... and after it (#undef)


@dataclass
class NestedView:
    kind: str
    attrs: str                    # " __packed" etc., after the closing brace
    member: Optional[str]         # the declarator after the closing brace ("u", "u[]")
    children: list = field(default_factory=list)
    marker: Optional[str] = None
    end_public: bool = False      # a private run reaches the closing brace
    pre: list = field(default_factory=list)
    post: list = field(default_factory=list)


def _decl(node, flavor):
    if isinstance(node, m.Bitfield):
        return f"{flavor.type_name(node.type)} {node.name}:{node.width}"
    ctype = flavor.type_name(node.type.name)
    if node.type.volatile:
        ctype = "volatile " + ctype
    if node.count_name:
        return f"{ctype} {node.name}[{node.count_name}]"
    return f"{ctype} {_declarator(node.name, node.count, flavor)}"


def _declarator(name, count, flavor):
    """`name`, `name[]` or `name[LEN]` for a member with array length `count`."""
    if count is None:
        return name
    if count == m.FLEX:
        return f"{name}[]"
    length = expr.render(count, flavor)
    if expr.is_macro_call(count):
        # kernel-doc misreads `name[MACRO(x)]` inside a nested record unless it is bracketed
        length = f"({length})"
    return f"{name}[{length}]"


def attrs(rec, flavor):
    out = ""
    if rec.packed:
        out += " " + flavor.packed
    if rec.aligned:
        out += " " + flavor.aligned(rec.aligned)
    return out


def _member_views(members, flavor, fixed_arch, what, nested=False):
    """Views of one member list. kernel-doc must not see reserved members, so each run of
    them is fenced with /* private: */ ... /* public: */ at this nesting level (a fence
    that crossed a closing brace would hide the brace from kernel-doc too)."""
    items, in_private = [], False
    for node in members:
        flex = flavor.flex_macro and flex_array_struct(node)
        if flex:
            # the expansion of DECLARE_FLEX_ARRAY(), written as the macro
            view = MemberView(f"{flavor.flex_macro}({flavor.type_name(flex.type.name)}, {flex.name})",
                              False)
            if in_private:
                view.marker, in_private = "public", False
            items.append((_arches(node), view))
            continue
        if isinstance(node, m.Record):
            member = node.member and _declarator(node.member, node.count, flavor)
            view = NestedView(node.kind, attrs(node, flavor), member)
            view.children, view.end_public = _member_views(node.members, flavor, fixed_arch, what, True)
            reserved = False
        else:
            view = MemberView(_decl(node, flavor), node.reserved)
            reserved = node.reserved
        if reserved != in_private:
            view.marker = "private" if reserved else "public"
            in_private = reserved
        if not nested:
            # a length spelled through a record-local macro (`count_name`): defined before
            # the top-level member that holds the array, undefined after it
            for field_ in _count_named(node):
                view.pre.append(_define(field_.count_name, expr.render(field_.count, flavor), 0))
                view.post.append(f"#undef {field_.count_name}")
        items.append((_arches(node), view))
    grouped = group_by_arch(items, flavor, fixed_arch, what)
    return (grouped, in_private) if nested else grouped


def flex_array_struct(node):
    """The flexible array member X of `node` when `node` is what DECLARE_FLEX_ARRAY(T, X)
    expands to, `struct { struct { } __empty_X; T X[]; }` (anonymous, no attributes, on
    every arch), else None."""
    if not (isinstance(node, m.Record) and node.kind == "struct" and node.member is None
            and not node.packed and not node.aligned and len(node.members) == 2
            and node.cond.arch is None):
        return None
    empty, array = node.members
    if isinstance(empty, m.Record) and isinstance(array, m.Field) and array.count == m.FLEX \
            and empty.kind == "struct" and not empty.members and empty.count is None \
            and empty.member == f"__empty_{array.name}" and array.cond.arch is None \
            and empty.cond.arch is None and not array.reserved:
        return array
    return None


def _count_named(node):
    """The members of `node` (itself included) whose length has a `count_name`."""
    if isinstance(node, m.Record):
        return [f for member in node.members for f in _count_named(member)]
    return [node] if getattr(node, "count_name", None) else []


def member_docs(members, prefix="", flex_macro=None):
    """(path, doc) for kernel-doc, in order, each path once. With `flex_macro`, a
    DECLARE_FLEX_ARRAY() expansion documents its array only (kernel-doc reads the macro as
    `T X[]`)."""
    out, seen = [], set()

    def walk(nodes, prefix):
        for node in nodes:
            flex = flex_macro and flex_array_struct(node)
            if flex:
                walk([flex], prefix)
                continue
            if isinstance(node, m.Record):
                sub = prefix
                if node.member:
                    path = prefix + node.member
                    if path not in seen:
                        seen.add(path)
                        out.append((path, node.doc or f"Fields of {node.member}."))
                    sub = path + "."
                walk(node.members, sub)
            elif not node.reserved:
                path = prefix + node.name
                if path not in seen:
                    seen.add(path)
                    out.append((path, node.doc))
    walk(members, prefix)
    return out


@dataclass
class RecordView:
    shape = "record"
    kind: str
    name: str
    doc: list
    attrs: str
    children: list
    asserts: list = field(default_factory=list)   # DefineView lines / Branches after it


def assert_text(a, flavor):
    """`static_assert(LHS OP RHS);`, broken after OP when longer than CODE_WIDTH, the rest
    aligned with the open parenthesis (checkpatch --strict)."""
    head, lhs, rhs = "static_assert(", expr.render(a.lhs, flavor), flavor.render(a.rhs)
    line = f"{head}{lhs} {a.op} {rhs});"
    if _columns(line) <= CODE_WIDTH:
        return line
    indent = len(head)
    return f"{head}{lhs} {a.op}\n" + "\t" * (indent // 8) + " " * (indent % 8) + f"{rhs});"


def record_view(rec, flavor, fixed_arch):
    children = _member_views(rec.members, flavor, fixed_arch, f"{rec.kind} {rec.name}")
    doc = kernel_doc(rec.kind, rec.name, rec.doc, member_docs(rec.members, flex_macro=flavor.flex_macro))
    asserts = [(_arches(a), DefineView(assert_text(a, flavor))) for a in rec.asserts] \
        if flavor.static_assert else []
    return RecordView(rec.kind, rec.name, doc, attrs(rec, flavor), children,
                      group_by_arch(asserts, flavor, fixed_arch))


# --- enums, constants, typedefs -----------------------------------------------------------

@dataclass
class EnumView:
    shape = "enum"
    name: Optional[str]
    doc: list
    items: list                   # "NAME = value" / "NAME", Branches for arch runs
    alias: Optional[str]
    error_test: Optional[str] = None  # `#if TEST #error "ERROR" #endif` before the enum
    error: Optional[str] = None


def enum_view(enum, flavor, fixed_arch):
    items = []
    for item in enum.items:
        text = item.name if item.value is None else f"{item.name} = {expr.render(item.value, flavor)}"
        items.append((_arches(item), text + ","))
    docs = [(i.name, i.doc) for i in enum.items]
    seen, unique = set(), []
    for name, doc in docs:
        if name not in seen:
            seen.add(name)
            unique.append((name, doc))
    if enum.name:
        doc = kernel_doc("enum", enum.name, enum.doc, unique)
    else:
        doc = comment(enum.doc)
    # kernel-doc's enum parser skips #if/#endif lines but not #elif, #else or #error: one #if
    # per branch, and the #error for the arches the spec does not describe goes before the
    # enum (for an enum on every arch whose enumerators are not; one whose enumerators are
    # all arch-specific is wrapped whole: absent elsewhere, see products._arch_guard).
    error = None
    if fixed_arch is None and enum.cond.arch is None and any(i.cond.arch for i in enum.items) \
            and not all(i.cond.arch for i in enum.items):
        error = flavor.arch_error(f"enum {enum.name}" if enum.name else enum.items[0].name)
    grouped = []
    for item in group_by_arch(items, flavor, fixed_arch):
        if isinstance(item, Branches):
            grouped += [Branches([branch]) for branch in item.branches]
        else:
            grouped.append(item)
    if not enum.last_comma and grouped:
        # `last_comma: false`: the last enumerator (of each arch, if the enum ends in an
        # arch branch) without its comma
        if isinstance(grouped[-1], str):
            grouped[-1] = grouped[-1][:-1]
        else:
            done = set()
            for chain in reversed(grouped):
                if isinstance(chain, str):
                    break
                for test, views in chain.branches:
                    if views and test not in done:
                        views[-1] = views[-1][:-1]
                        done.add(test)
    return EnumView(enum.name, doc, grouped, enum.alias, error and flavor.other_arch_test(), error)


@dataclass
class DefineView:
    text: str                     # "#define NAME<tabs>value"
    variant: bool = False         # one of the per-arch values of one constant


def _columns(text):
    """Display width with tabs at 8 columns, as checkpatch counts it."""
    col = 0
    for ch in text:
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return col


def _define(name, value, column):
    """`#define NAME<tabs>VALUE` with VALUE at `column`, or on a continuation line when the
    result would pass CODE_WIDTH."""
    head = f"#define {name}"
    tabs = max(1, -(-(column - _columns(head)) // 8))
    line = head + "\t" * tabs + value
    # An expression wraps at 80 columns; a single term (BIT_ULL(20), _IOW(...)) stays on
    # its aligned line up to checkpatch's 100, as upstream keeps them.
    simple = not any(word in _BREAK_AFTER for word in value.split(" "))
    if _columns(line) <= (CHECKPATCH_WIDTH if simple else CODE_WIDTH):
        return line
    return f"{head} \\\n" + " \\\n".join(_wrap_value(value))


_BREAK_AFTER = ("+", "-", "*", "/", "|", "&", "<<", ">>")


def _wrap_value(value, width=80):
    """A macro value too long for one continuation line, broken after binary operators
    inside its parentheses as kernel headers do, each continuation aligned one past the
    innermost open parenthesis (checkpatch --strict), with room for the trailing ` \\`."""
    words = value.split(" ")
    lines, start, indent = [], 0, ""
    while True:
        opens, col, breaks = [], len(indent), []    # the line's open parentheses, by column
        for i in range(start, len(words)):
            for ch in words[i]:
                if ch == "(":
                    opens.append(col)
                elif ch == ")" and opens:
                    opens.pop()
                col += 1
            col += 1
            if words[i] in _BREAK_AFTER and opens and i + 1 < len(words):
                breaks.append((i, " " * (opens[-1] + 1)))
        rest = "\t" + indent + " ".join(words[start:])
        if _columns(rest) <= width or not breaks:
            lines.append(rest)
            return lines
        fits = [b for b in breaks if _columns("\t" + indent + " ".join(words[start:b[0] + 1])) <= width - 2]
        end, next_indent = fits[-1] if fits else breaks[0]
        lines.append("\t" + indent + " ".join(words[start:end + 1]))
        start, indent = end + 1, next_indent


@dataclass
class ConstsView:
    shape = "consts"
    doc: list
    items: list


def _macro_head(const):
    """What follows `#define `: the name, with its parameter list if it has one."""
    return const.name if const.params is None else f"{const.name}({', '.join(const.params)})"


def consts_view(group, flavor, fixed_arch):
    width = max(len(_macro_head(c)) for c in group.items) + 8
    column = (width // 8 + 1) * 8
    items, variants = [], []
    for const in group.items:
        head = _macro_head(const)
        if len(const.values) == 1:
            items.append((_arches(const), DefineView(_define(head, flavor.render(const.values[0][1]),
                                                             column))))
        else:
            variants.append(const.name)
            for cond, value in const.values:
                items.append((cond.arch, DefineView(_define(head, flavor.render(value), column), True)))
    if fixed_arch is None and items and all(arches is not None for arches, _ in items):
        # Every macro of the group is arch-specific: one `#if` per arch holding all of
        # them, as upstream writes such a group, not a chain per macro. Order among
        # macros is free (they expand where used).
        items.sort(key=lambda item: min(m.ARCHES.index(a) for a in item[0]))
    # A constant with a value per arch exists on every arch: its chain ends in #error. One
    # defined on some arches only is absent elsewhere, and a use of it says so.
    return ConstsView(comment(group.doc), group_by_arch(
        items, flavor, fixed_arch, ", ".join(variants), lambda views: any(v.variant for v in views)))


@dataclass
class TypedefView:
    shape = "typedef"
    doc: list
    text: str


def typedef_view(td, flavor):
    return TypedefView(kernel_doc("typedef", td.name, td.doc, []),
                       f"typedef {flavor.type_name(td.type.name)} {td.name}")


def def_view(defn, flavor, fixed_arch):
    if isinstance(defn, m.Record):
        return record_view(defn, flavor, fixed_arch)
    if isinstance(defn, m.Enum):
        return enum_view(defn, flavor, fixed_arch)
    if isinstance(defn, m.ConstGroup):
        return consts_view(defn, flavor, fixed_arch)
    return typedef_view(defn, flavor)
