"""Which header of a set defines each record, enumerator and macro (facts: names and file
names only), for coverage per upstream file.

Files are named relative to the deepest directory holding all the headers, so the TLFS
trio reads `arch/x86/include/asm/hyperv-tlfs.h` / `include/asm-generic/hyperv-tlfs.h` and
Linux include/hyperv reads `hvgdk_mini.h`.
"""

import os

import clang.cindex as ci

from . import clang_facts, header_sets

K = ci.CursorKind
TABLES = ("records", "enumerators", "macros")


def files_of(headers, arch, flavor, include_dirs=()):
    """{table: {name: file}} for the definitions of `headers` on `arch`."""
    headers = [os.path.abspath(h) for h in headers]
    root = os.path.commonpath([os.path.dirname(h) for h in headers])
    mine = {os.path.realpath(h): os.path.relpath(h, root) for h in headers}
    parsed = clang_facts.parse_headers(headers, arch, **header_sets.options(arch, flavor, include_dirs))
    out = {t: {} for t in TABLES}

    def walk(cursors, name):
        for c in cursors:
            if c.kind in (K.STRUCT_DECL, K.UNION_DECL) and c.is_definition():
                if not c.is_anonymous():        # tags defined inside a record have file scope
                    out["records"].setdefault(c.spelling, name)
                walk(c.get_children(), name)
            elif c.kind == K.ENUM_DECL:
                for item in c.get_children():
                    out["enumerators"].setdefault(item.spelling, name)
            elif c.kind == K.MACRO_DEFINITION:
                out["macros"].setdefault(c.spelling, name)
            elif c.kind == K.FIELD_DECL:
                walk(c.get_children(), name)

    for c in parsed.tu.cursor.get_children():
        f = c.location.file
        name = mine.get(os.path.realpath(f.name)) if f else None
        if name is not None:
            walk([c], name)
    return out
