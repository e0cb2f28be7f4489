"""Facts of declarations seen before, reused across the header sets one process reads.

A history scan reads one header set per revision, and from one revision to the next
most declarations stay as they were. What a declaration means is fixed by its own text
and by what the names in it meant where it stands: the definitions before it of the
macros, tags, typedefs and enumerators it names (through a macro, also what its body
names), and everything from outside the headers (compiler arguments, system headers).
The key of a declaration is exactly that; a declaration whose key was met before gets
the facts it gave then, without reading its cursors again.

Where text can mean something its identifiers do not show, nothing is reused: a unit
whose headers hold pragmas, token pasting or position macros; a macro that is #undef'd,
defined twice or in a file entered twice; a declaration with an #include inside it.
"""

import marshal
import re

from . import libclang as cx

_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_UNDEF = re.compile(rb"#[ \t]*undef[ \t]+([A-Za-z_][A-Za-z0-9_]*)")
_UNSAFE = (b"pragma", b"##", b"__COUNTER__", b"__LINE__", b"__FILE__", b"__INCLUDE_LEVEL__")
TABLES = ("records", "enums", "enumerators")

_known = {}     # key -> marshalled facts the declaration added: {table: [(name, value)]}
_ids = {}       # key -> small int: a later key holds an earlier declaration's key as its id
_identifier_sets = {}   # text -> frozenset of its identifiers
counts = {"read": 0, "replayed": 0}     # declarations so far, for tests and benchmarks


def forget():
    """Drop every remembered declaration (a reading then starts from nothing)."""
    _known.clear()
    _ids.clear()
    _identifier_sets.clear()
    counts.update(read=0, replayed=0)


def _intern(key):
    return _ids.setdefault(key, len(_ids))


class Unit:
    """One translation unit's declarations in scope, keyed as they are met (in order)."""

    def __init__(self, lib, tu, text, args, in_scope):
        """`text`, `args`: the unit's own text and compiler arguments; `in_scope(file)`:
        whether a file's declarations are reported."""
        self.lib = lib
        entries = cx.inclusions(lib, tu)
        files = [file for file, _ in entries[1:]]
        self.contents = {f: cx.file_contents(lib, tu, f) for f in files}
        ours = [f for f in dict.fromkeys(files) if in_scope(f)]
        self.enabled = not any(word in self.contents[f] for f in ours for word in _UNSAFE)
        # Headers named by base name: the same files read from another directory match.
        own = "\n".join('#include "' + line.rpartition("/")[2] if line.startswith('#include "/')
                        else line for line in text.split("\n"))
        self.base = _intern((tuple(a for a in args if not a.startswith("-I")), own,
                             *(self.contents[f] for f in files if not in_scope(f))))
        # Where each file starts in the unit's order: the offsets of the #includes that
        # led to it, outermost first. A file entered twice has no single place.
        self.place = {}
        self.includes = {}        # file -> offsets of the #includes in it
        twice = {f for f in files if files.count(f) > 1}
        for file, stack in entries[1:]:
            if file not in twice:
                self.place[file] = tuple(offset for _, offset in reversed(stack))
            if stack:
                self.includes.setdefault(stack[0][0], []).append(stack[0][1])
        self.unstable = {m for f in ours for m in _UNDEF.findall(self.contents[f])}
        self.macros = {}          # name -> [(position, file, offset of the name, end)]
        self.decls = {}           # name -> [ids of the declarations so far that define it]
        self.typedefs = {}        # typedef name -> the names its declarations hold
        self._expansions = {}     # macro name -> _expansion()

    def add_macros(self, macros):
        """The unit's macro definitions in scope: [(cursor, CXFile, offset of the name,
        name, offset where the definition ends)] (clang_facts._macro)."""
        for _, file, offset, name, end in macros:
            name = name.encode()
            if file in self.place and name not in self.macros:
                self.macros[name] = [(self.place[file] + (offset,), file, offset, end)]
            else:
                self.unstable.add(name)           # its definitions have no single order

    def collect(self, c, file, result, read):
        """Adds the facts of the top-level declaration `c` (in `file`) to `result`:
        replayed if its key is known, else by `read(c, result)` and remembered."""
        key, own_names = self._key(c, file) if self.enabled else (None, None)
        if key is not None and key in _known:
            added = marshal.loads(_known[key])
            for table, items in added.items():
                for name, value in items:
                    result[table].setdefault(name, value)
            counts["replayed"] += 1
        else:
            sizes = [len(result[t]) for t in TABLES]
            read(c, result)
            added = {t: list(result[t].items())[n:] for t, n in zip(TABLES, sizes)}
            if key is not None:
                _known[key] = marshal.dumps(added)
            counts["read"] += 1
        if key is not None:
            # what later declarations may name: the facts it added, and its own name
            ident = _intern(key)
            own = cx.text(self.lib, self.lib.getCursorSpelling(c)).encode()
            names = {own}
            names.update(name.encode() for items in added.values() for name, _ in items)
            for name in names:
                self.decls.setdefault(name, []).append(ident)
            if c.kind == cx.TYPEDEF_DECL:
                # A typedef of a tag not yet defined means whatever the tag later becomes.
                self.typedefs.setdefault(own, set()).update(own_names)

    def _key(self, c, file):
        lib = self.lib
        extent = lib.getCursorExtent(c)
        first_file, _, start = cx.expansion(lib, lib.getRangeStart(extent))
        last_file, _, end = cx.expansion(lib, lib.getRangeEnd(extent))
        if first_file != file or last_file != file or file not in self.place \
                or any(start <= at < end for at in self.includes.get(file, ())):
            return None, None
        text = self.contents[file][start:end]
        where = self.place[file] + (start,)
        names = _identifiers(text)
        bodies = []
        for name in names & self.macros.keys():
            if self.macros[name][0][0] >= where:
                continue          # not yet a macro where the declaration stands
            expansion = self._expansion(name)
            if expansion[0] >= where:
                return None, None     # a macro (re)defined after the declaration starts
            names |= expansion[1]
            bodies.extend(expansion[2])
        if not self.unstable.isdisjoint(names):
            return None, None
        own = set(names)
        work = list(names & self.typedefs.keys())
        while work:
            for found in self.typedefs[work.pop()] - names:
                names.add(found)
                if found in self.typedefs:
                    work.append(found)
        decls = self.decls
        # Sets, not sorted tuples: a key is only compared within this process.
        key = (self.base, text, frozenset(bodies),
               frozenset((name, tuple(decls[name])) for name in names & decls.keys()))
        return key, own

    def _expansion(self, name):
        """(the last place any macro it reaches is defined, the names reached, and the
        macros' definitions) of the macro `name`, reading the bodies of the macros it
        names in turn."""
        if name not in self._expansions:
            last, reached, bodies = (), {name}, []
            work = [name]
            while work:
                for position, file, offset, end in self.macros.get(work.pop(), ()):
                    text = self.contents[file][offset:end]
                    last = max(last, position)
                    bodies.append(text)
                    for found in _identifiers(text) - reached:
                        reached.add(found)
                        work.append(found)
            self._expansions[name] = (last, frozenset(reached), tuple(bodies))
        return self._expansions[name]


def _identifiers(text):
    """The identifiers in C text (comments' words too, which only adds dependencies), as
    a new set. Remembered per text: most texts recur from revision to revision."""
    found = _identifier_sets.get(text)
    if found is None:
        found = _identifier_sets[text] = frozenset(_IDENT.findall(text.replace(b"\\\n", b"")))
    return set(found)
