"""The typed model every stage shares: loader, layout engine, emitters, importer, differ.

A spec is a list of definitions (constants, enums, records, typedefs). Any definition,
member, bitfield, enumerator or constant may carry a `Cond`: the (profile or view, arch)
pairs it exists in, stated only where the ABI really differs. Which definitions a
profile carries is the profile's own selection (`Profile.omit`). A `Selection` (profile
+ view + arch) picks one concrete ABI out of the spec; `select.py` does that.
"""

from dataclasses import dataclass, field
from typing import Optional, Union

from .arches import NAMES as ARCHES  # noqa: E402  (re-exported: the one registry)


ANY = "*"


@dataclass(frozen=True)
class Cond:
    """Where a node exists: a set of (who, arch) pairs. `who` is a profile name, a view name
    (every profile of that view) or ANY; `arch` an arch or ANY. `where` None: everywhere.
    "TLFS on x86_64, HDK on both arches" is {("tlfs", "x86_64"), ("hdk", ANY)}."""
    where: Optional[frozenset] = None

    @classmethod
    def on_arches(cls, arches):
        return ALWAYS if arches is None else cls(frozenset((ANY, a) for a in arches))

    def matches(self, sel):
        # A selection without an arch keeps every arch variant (for headers with #if).
        return self.where is None or any(
            who in (ANY, sel.profile, sel.view) and (arch == ANY or sel.arch in (None, arch))
            for who, arch in self.where)

    def arches_for(self, sel):
        """The arches the node exists on in `sel`'s profile; None for every arch."""
        if self.where is None:
            return None
        arches = {arch for who, arch in self.where if who in (ANY, sel.profile, sel.view)}
        return None if ANY in arches or arches >= set(ARCHES) else frozenset(arches)

    @property
    def arch(self):
        """The arches the node can exist on at all; None for every arch."""
        if self.where is None:
            return None
        arches = {arch for _, arch in self.where}
        return None if ANY in arches or arches >= set(ARCHES) else frozenset(arches)

    @property
    def names_profiles(self):
        """True when the condition says more than arches (a view or profile variant)."""
        return self.where is not None and any(who != ANY for who, _ in self.where)

    @property
    def always(self):
        return self.where is None


ALWAYS = Cond()


@dataclass(frozen=True)
class Selection:
    profile: str
    view: str
    arch: Optional[str]           # None: all arches (a header rendered with #if)


@dataclass
class Node:
    name: Optional[str]
    pos: object = None            # spec position (file:line) for errors
    doc: str = ""
    cond: Cond = ALWAYS
    why: str = ""                 # the reason for a view/profile condition
    ahead: Optional[frozenset] = None   # profiles whose upstream copy lacks it yet

    def is_ahead(self, profile):
        return self.ahead is not None and (ANY in self.ahead or profile in self.ahead)


# --- constants ----------------------------------------------------------------------------

@dataclass
class Const(Node):
    """`#define NAME value`. `values` is [(Cond, expr tree)]: one per arch when they differ.
    With `params`, a function-like macro `#define NAME(a, b) value`: it has no value of its
    own, expressions call it."""
    values: list = field(default_factory=list)
    params: Optional[tuple] = None
    placement: Optional["Placement"] = None    # the group's unless the item says otherwise


@dataclass
class ConstGroup(Node):
    """Constants documented together (kernel-doc has no form for a set of macros)."""
    items: list = field(default_factory=list)


# --- enums --------------------------------------------------------------------------------

@dataclass
class Enumerator(Node):
    value: object = None          # expr tree, or None for "previous + 1"


@dataclass
class Enum(Node):
    """`enum name { ... }`; `name` None for an anonymous enum."""
    items: list = field(default_factory=list)
    alias: Optional[str] = None   # `#define ALIAS name` emitted after the enum
    last_comma: bool = True       # a comma after the last enumerator too


# --- types and records --------------------------------------------------------------------

@dataclass(frozen=True)
class TypeRef:
    """A member's type: a scalar (`u64`) or the name of a spec record/typedef/enum."""
    name: str
    volatile: bool = False


@dataclass
class Field(Node):
    type: TypeRef = None
    count: object = None          # None, an expr tree (array length) or FLEX
    reserved: bool = False
    count_name: Optional[str] = None  # the length spelled through this record-local macro


FLEX = "flex"


@dataclass
class Bitfield(Node):
    """A bitfield given by position. `lo`/`hi` count from the start of the enclosing struct."""
    type: str = "u64"
    lo: int = 0
    hi: int = 0
    reserved: bool = False

    @property
    def width(self):
        return self.hi - self.lo + 1


@dataclass
class Record(Node):
    """A struct or union. Nested records have `name` None (anonymous) or are named members
    of an untagged type (`struct { ... } u;`, `member` set), which may be an array of that
    type (`count`, as on a Field: `struct { ... } u[4];`). Top-level ones are tagged."""
    kind: str = "struct"          # "struct" | "union"
    members: list = field(default_factory=list)
    packed: bool = False
    aligned: Optional[int] = None
    member: Optional[str] = None  # for nested records: the member name, None if anonymous
    register: bool = False        # written as a `register` (union of raw view + bitfields)
    count: object = None          # named nested records only: None, an expr tree or FLEX
    asserts: list = field(default_factory=list)   # Assert, printed after the record


@dataclass
class Assert(Node):
    """`static_assert(LHS OP RHS)` after a record (`asserts:`); compiled with the header."""
    lhs: object = None            # expr trees
    op: str = "=="
    rhs: object = None


@dataclass
class Typedef(Node):
    type: TypeRef = None


Def = Union[ConstGroup, Enum, Record, Typedef]


@dataclass
class Placement:
    """Which header a definition goes to, per view or profile (profile wins)."""
    by_key: dict = field(default_factory=dict)

    def header_for(self, sel):
        return self.by_key.get(sel.profile) or self.by_key.get(sel.view)


@dataclass
class Entry:
    """One top-level spec entry: a definition plus where it goes and where it is documented."""
    defn: object
    placement: Placement
    tlfs_page: Optional[str] = None
    source_file: str = ""


@dataclass
class View:
    """A way of writing an interface down; every profile has one. `defs`: the spec files
    (names in spec/defs) the view takes for itself, None for every file no view takes."""
    name: str
    doc: str = ""
    defs: Optional[frozenset] = None
    pos: object = None            # where spec/profiles.yaml declares it


@dataclass
class Spec:
    entries: list = field(default_factory=list)
    profiles: dict = field(default_factory=dict)  # name -> Profile
    views: dict = field(default_factory=dict)     # name -> View (spec/profiles.yaml)

    def views_of(self, entry):
        """The views that carry the spec file `entry` comes from."""
        return views_of_file(self.views, entry.source_file)


def views_of_file(views, path):
    """The names of the views (name -> View) that carry the spec file `path`: the views
    naming it under `defs`, else every view without `defs`."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    own = {v.name for v in views.values() if v.defs is not None and name in v.defs}
    return own or {v.name for v in views.values() if v.defs is None}


@dataclass
class Profile:
    """A profile is a selection: the definitions of its view, less what it omits (by name;
    `omit[name]` is the set of arches it is omitted on, None for all)."""
    name: str
    view: str
    doc: str = ""
    reference: str = ""
    omit: dict = field(default_factory=dict)
    omit_pos: dict = field(default_factory=dict)   # name -> where profiles.yaml omits it

    def omits(self, name, arch):
        if name not in self.omit:
            return False
        arches = self.omit[name]
        return arches is None or (arch is not None and arch in arches)
