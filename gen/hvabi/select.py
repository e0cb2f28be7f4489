"""Pick one concrete ABI (profile + view + arch) out of the spec.

The result, `Abi`, keeps the entries of the spec files the selection's view carries, with
every node that does not exist in the selection removed, every constant reduced to its
one value for that arch, and name tables for types and values.
Layout, checks and emitters all work on an `Abi`, never on raw conditional nodes.
"""

import dataclasses
from functools import lru_cache

from . import model as m
from .errors import HvabiError
from .identity import IdentityMemo, kept_on
from .spec import expr


def _replaced(node, **changes):
    """dataclasses.replace for the model's plain dataclasses (no __post_init__, no
    init=False fields), at a fifth of its cost: selection copies every kept node."""
    new = object.__new__(type(node))
    new.__dict__.update(node.__dict__)
    new.__dict__.update(changes)
    return new


class _Resolver:
    """Reduces nodes to one selection: drops what does not exist in it (by condition, or
    omitted by the profile) and leaves every kept node with the arch-only condition it
    has there, which is all the emitters need for `#if` blocks."""

    def __init__(self, profile, sel):
        self.profile, self.sel = profile, sel
        self.omit = profile.omit if profile is not None else {}
        self._cond_arches = IdentityMemo()   # Cond -> its arches in the selection (hashing a
                                             # Cond would hash its frozenset)
        self._on_arches = {}         # arches -> Cond.on_arches(arches)

    def _arches_of(self, cond):
        if cond not in self._cond_arches:
            self._cond_arches[cond] = \
                cond.arches_for(self.sel) if cond.matches(self.sel) else frozenset()
        return self._cond_arches.get(cond)

    def arches(self, node, name=None):
        """The arches `node` exists on in the selection: None for all, empty for none."""
        arches = self._arches_of(node.cond)
        if arches is not None and not arches:
            return arches
        if name is not None and name in self.omit:
            omitted = self.omit[name]
            if omitted is None:
                return frozenset()
            arches = frozenset(arches or m.ARCHES) - omitted
        if self.sel.arch is not None:
            return None if arches is None or self.sel.arch in arches else frozenset()
        return arches

    def keep(self, node, name=None, within=None, **changes):
        """`node` as kept, or None; `within`: the arches its definition exists on (an item
        omitted on one arch must not land on an arch its group does not exist on)."""
        arches = self.arches(node, name)
        if arches is not None and within is not None:
            inside = arches & within
            if not inside:
                return None
            if inside != arches:
                arches = None if inside >= within else inside
        if arches is not None and not arches:
            return None
        cond = self._on_arches.get(arches)
        if cond is None:
            cond = self._on_arches[arches] = m.Cond.on_arches(arches)
        return _replaced(node, cond=cond, **changes)

    def members(self, members):
        out = []
        for node in members:
            if isinstance(node, m.Record):
                node = self.keep(node, members=self.members(node.members))
            else:
                node = self.keep(node)
            if node is not None:
                out.append(node)
        return out

    def defn(self, defn):
        """`defn` as it exists in the selection, or None."""
        if isinstance(defn, m.Record):
            return self.keep(defn, defn.name, members=self.members(defn.members),
                             asserts=[a for a in map(self.keep, defn.asserts) if a is not None])
        within = self.arches(defn) if self.sel.arch is None else None
        if within is not None and not within:
            return None
        if isinstance(defn, m.Enum):
            items = [x for x in (self.keep(i, i.name, within) for i in defn.items) if x is not None]
            if defn.items and not items:
                return None          # every enumerator omitted: no enum
            return self.keep(defn, defn.name, items=items)
        if isinstance(defn, m.ConstGroup):
            items = []
            for const in defn.items:
                values = [(c, v) for c, v in const.values if c.matches(self.sel)]
                if not values:
                    continue
                if self.sel.arch is not None:
                    values = [(m.ALWAYS, values[0][1])]
                const = self.keep(const, const.name, within, values=values)
                if const is not None:
                    items.append(const)
            return self.keep(defn, None, items=items) if items else None
        return self.keep(defn, defn.name)


class Abi:
    """One selection of the spec: ordered entries plus name tables. `profile` replaces
    the spec's profile of that name (a layered product's, or a view without its omits)."""

    def __init__(self, spec, sel, profile=None):
        self.spec = spec
        self.sel = sel
        self.entries = []            # (Entry, resolved defn)
        self.types = {}              # record / enum / typedef name -> defn
        self.consts = {}             # constant name -> Const
        self.enumerators = {}        # enumerator name -> (Enum, Enumerator)
        self.duplicates = []         # (name, first node, second node)
        resolver = _Resolver(profile or spec.profiles.get(sel.profile), sel)
        carried = {}                 # spec file -> does the selection's view carry it
        for entry in spec.entries:
            if entry.source_file not in carried:
                carried[entry.source_file] = not spec.views or sel.view in spec.views_of(entry)
            if not carried[entry.source_file]:
                continue
            defn = resolver.defn(entry.defn)
            if defn is not None:
                self.entries.append((entry, defn))
                self._index(defn)
        self.value = lru_cache(maxsize=None)(self._value)
        self._enum_values = IdentityMemo()   # Enum -> {enumerator name: Val}, each enum once

    @classmethod
    def of(cls, spec, sel, profile=None):
        """The Abi of `sel`, built once per spec: a spec is not changed after loading, and
        an Abi is not changed after building (its memos only fill in). The key holds the
        profile's content, so a layered product's replacement profile gets its own."""
        profile = profile or spec.profiles.get(sel.profile)
        key = sel, profile and (profile.name, profile.view, frozenset(profile.omit.items()))
        cache = kept_on(spec, "_abis")
        abi = cache.get(key)
        if abi is None:
            abi = cache[key] = cls(spec, sel, profile)
        return abi

    def _claim(self, table, name, node):
        if name in self.types or name in self.consts or name in self.enumerators:
            first = self.types.get(name) or self.consts.get(name) or self.enumerators[name][1]
            self.duplicates.append((name, first, node))
            return False
        table[name] = node
        return True

    def _index(self, defn):
        if isinstance(defn, m.ConstGroup):
            for const in defn.items:
                self._claim(self.consts, const.name, const)
        elif isinstance(defn, m.Enum):
            if defn.name:
                self._claim(self.types, defn.name, defn)
            for item in defn.items:
                self._claim(self.enumerators, item.name, (defn, item))
        else:
            self._claim(self.types, defn.name, defn)

    # -- values ----------------------------------------------------------------------------

    def _value(self, name):
        """The C value (expr.Val) of a constant or enumerator, following references."""
        if name in self.consts:
            const = self.consts[name]
            if const.params is not None:
                raise HvabiError(f"'{name}' is a macro with parameters, used without arguments",
                                 const.pos, f"call it: {name}({', '.join(const.params)})")
            return self.evaluate(const.values[0][1], const.pos)
        if name in self.enumerators:
            enum, item = self.enumerators[name]
            return self._enumerator_value(enum, item)
        if name in expr.EXTERNAL:
            value, bits, signed, _ = expr.EXTERNAL[name]
            return expr.Val(value, bits, signed)
        raise KeyError(name)

    def _enumerator_value(self, enum, item):
        values = self._enum_values.get(enum)
        if values is None:
            values, previous = {}, None
            for it in enum.items:
                if it.value is not None:
                    v = self.evaluate(it.value, it.pos)
                else:
                    v = expr.Val(0 if previous is None else previous.value + 1)
                values[it.name] = expr.Val(v.value, 32, True) if -(1 << 31) <= v.value < (1 << 31) else v
                previous = v
            self._enum_values[enum] = values
        return values[item.name]

    def evaluate(self, tree, pos=None, bound=None):
        """The value of `tree`; `bound`: values of a macro's parameters, by name."""
        from .layout import offsetof, sizeof

        def lookup(name):
            if bound and name in bound:
                return bound[name]
            const = self.consts.get(name)
            if const is not None and const.params is not None:
                raise HvabiError(f"'{name}' is a macro with parameters, used without arguments", pos,
                                 f"call it: {name}({', '.join(const.params)})")
            try:
                return self.value(name)
            except KeyError:
                raise HvabiError(f"unknown constant '{name}' in {self.sel_text()}", pos,
                                 "define it in spec/defs, or check its `only:` and the profile's `omit`")
            except RecursionError:
                raise HvabiError(f"constant '{name}' is defined in terms of itself", pos,
                                 "follow the names its value uses: one of them leads back to it")

        def call(name, args):
            const = self.consts.get(name)
            if const is None or const.params is None:
                raise HvabiError(f"'{name}()' is not a spec macro with parameters in {self.sel_text()}",
                                 pos, "define it with `params:` in spec/defs (BIT(), BIT_ULL(),"
                                 " GENMASK() and GENMASK_ULL() are built in)")
            if len(args) != len(const.params):
                raise HvabiError(f"{name}() takes {len(const.params)} argument(s), given {len(args)}", pos,
                                 f"call it as {name}({', '.join(const.params)})")
            try:
                return self.evaluate(const.values[0][1], const.pos, dict(zip(const.params, args)))
            except RecursionError:
                raise HvabiError(f"macro '{name}' is defined in terms of itself", pos,
                                 "its body, or a name it uses, calls it again")

        try:
            return expr.evaluate(tree, lookup, lambda t: sizeof(self, t, pos), call,
                                 lambda t, member: offsetof(self, t, member, pos))
        except ZeroDivisionError:
            raise HvabiError("division by zero in a constant expression", pos,
                             "check the divisor (`/` or `%`) and the names it uses")
        except HvabiError as e:
            if e.pos is None:       # expr's own checks (shifts, overflow) know no position
                e.pos = pos
            raise
        except expr.IoctlRangeError as e:
            raise HvabiError(str(e), pos, "the ioctl type and number are 0..255, the argument"
                             " type at most 16383 bytes (<linux/ioctl.h>)")

    def sel_text(self):
        return f"profile {self.sel.profile} ({self.sel.view}, {self.sel.arch})"


def selections(spec, profiles=None, arches=m.ARCHES):
    """Every (profile, arch) selection of the spec, in a stable order."""
    for name in sorted(profiles or spec.profiles):
        profile = spec.profiles[name]
        for arch in arches:
            yield m.Selection(name, profile.view, arch)


@dataclasses.dataclass
class Change:
    """A definition of a layered profile that its base defines in another shape: the
    layered product cannot define it again (C has one tag and macro namespace), so it
    keeps the base's and says how its own differs."""
    entry: object                 # the layered profile's spec entry
    name: str
    kind: str                     # struct, union, enum, constant, typedef
    arch: str
    diffs: list                   # shape.Diff; the base's shape is the "documented" side
    why: str
    resized: bool = False         # a record whose size or alignment differs


def layered(spec, profile, base):
    """`profile` layered on `base` (profile names): (Profile, [Change]). The profile less
    every name `base` defines on an arch (type, constant or enumerator), whatever its
    shape there; the names whose shape or value differs are the Changes. An enum the
    base defines in part is left out whole (an enumerator without a value follows the
    previous one, which it must not lose), and its other enumerators are listed in its
    Change. Memoised per spec."""
    cache = kept_on(spec, "_layered")
    if (profile, base) not in cache:
        cache[profile, base] = _layered(spec, spec.profiles[profile], spec.profiles[base])
    return cache[profile, base]


def _layered(spec, top_profile, base_profile):
    from . import shape
    omit = dict(top_profile.omit)
    changes = []

    def drop(name, arch):
        if name in omit and omit[name] is None:
            return
        have = frozenset(omit.get(name) or ()) | {arch}
        omit[name] = None if have >= set(m.ARCHES) else have

    for arch in m.ARCHES:
        top = Abi.of(spec, m.Selection(top_profile.name, top_profile.view, arch))
        below = Abi.of(spec, m.Selection(base_profile.name, base_profile.view, arch))
        provided = set(below.types) | set(below.consts) | set(below.enumerators)
        for entry, defn in top.entries:
            why = " ".join(dict.fromkeys(w for w in [defn.why] + [n.why for n in _nodes(defn)] if w))
            if isinstance(defn, m.ConstGroup):
                for const in defn.items:
                    if const.name not in provided:
                        continue
                    drop(const.name, arch)
                    if const.params is not None or const.name not in below.consts \
                            or not shape.same_value(top, below, const.name):
                        changes.append(Change(entry, const.name, "constant", arch, [shape.Diff(
                            const.name, "value", _value_text(below, const.name),
                            _value_text(top, const.name))], why))
            elif isinstance(defn, m.Enum):
                names = [i.name for i in defn.items] + ([defn.name] if defn.name else [])
                if not any(n in provided for n in names):
                    continue
                whole, diffs = _enum_layer(top, defn, below, provided)
                for n in (names if whole else [i.name for i in defn.items if i.name in provided]):
                    drop(n, arch)
                if diffs:
                    changes.append(Change(entry, defn.name or "enum", "enum", arch, diffs, why))
            elif defn.name in provided:
                drop(defn.name, arch)
                other = below.types.get(defn.name)
                if isinstance(defn, m.Typedef):
                    same = isinstance(other, m.Typedef) and \
                        shape.typedef_fact(top, defn) == shape.typedef_fact(below, other)
                    diffs = [] if same else [shape.Diff(defn.name, "type", str(other), defn.type.name)]
                    kind = "typedef"
                elif isinstance(other, m.Record):
                    try:
                        diffs = shape.compare(shape.spec_shape(below, other), shape.spec_shape(top, defn))
                    except HvabiError as e:     # the selection checks report it, with file:line
                        diffs = [shape.Diff("(layout)", "layout", "?", e.what)]
                    kind = defn.kind
                else:
                    diffs, kind = [shape.Diff(defn.name, "kind", "not a record", defn.kind)], defn.kind
                if diffs:
                    resized = not isinstance(defn, m.Typedef) and _resized(top, below, defn.name)
                    changes.append(Change(entry, defn.name, kind, arch, diffs, why, resized))
    layered_profile = dataclasses.replace(top_profile, omit=omit)
    _check_dependents(spec, layered_profile, top_profile, changes)
    return layered_profile, changes


def _resized(top, below, name):
    from .layout import size_align
    try:
        return size_align(top, name) != size_align(below, name)
    except HvabiError:
        return True


def _nodes(defn):
    for node in list(getattr(defn, "members", ()) or ()) + list(getattr(defn, "items", ()) or ()):
        yield node
        yield from _nodes(node)


def _value_text(abi, name):
    try:
        return str(abi.value(name).value)
    except (HvabiError, KeyError):
        return "(no value)"


def _enum_layer(top, defn, below, provided):
    """(whether the whole enum is left out, [Diff]) for an enum some of whose names the
    base defines. An enum the base has by its tag cannot be extended: it is left out,
    with its differences. Otherwise the enumerators the base defines with the same value
    are left out and the rest kept, unless one kept without a value would follow one
    left out (its value would change): then the whole enum is left out."""
    from .shape import Diff, compare, spec_shape
    other = below.types.get(defn.name) if defn.name else None
    mine = spec_shape(top, defn)
    if isinstance(other, m.Enum) or (defn.name and defn.name in provided):
        theirs = spec_shape(below, other) if isinstance(other, m.Enum) else None
        return True, compare(theirs, mine) if theirs else [Diff(defn.name, "kind", "not an enum", "enum")]
    diffs, gap, whole = [], False, False
    for item, leaf in zip(defn.items, mine.leaves):
        if item.name in provided:
            if _value_text(below, item.name) != str(leaf.value):
                diffs.append(Diff(item.name, "value", _value_text(below, item.name), str(leaf.value)))
            gap = True
        else:
            whole = whole or (gap and item.value is None)
            gap = False
    if whole:
        diffs += [Diff(i.name, "spec only", spec=str(leaf.value))
                  for i, leaf in zip(defn.items, mine.leaves) if i.name not in provided]
    return whole, diffs


def _check_dependents(spec, layered_profile, top_profile, changes):
    """A record the layered product emits must not use a record whose size or alignment
    the base changes: its layout would follow the base's record, not the profile's.
    (One that only names its members differently keeps every offset.)"""
    changed = {(c.name, c.arch) for c in changes if c.resized}
    for arch in m.ARCHES:
        abi = Abi.of(spec, m.Selection(top_profile.name, top_profile.view, arch), profile=layered_profile)
        for _, defn in abi.entries:
            if not isinstance(defn, m.Record):
                continue
            for node in _nodes(defn):
                used = getattr(getattr(node, "type", None), "name", None)
                if (used, arch) in changed:
                    raise HvabiError(f"{defn.name} uses {used}, which the base product defines in"
                                     f" another shape on {arch}", node.pos,
                                     "a layered product cannot carry it; give the HDK shape its own"
                                     " name in spec/defs, or drop `layer_on`")
