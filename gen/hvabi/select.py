"""Pick one concrete ABI (profile + view + arch) out of the spec.

The result, `Abi`, has every node that does not exist in the selection removed, every
constant reduced to its one value for that arch, and name tables for types and values.
Layout, checks and emitters all work on an `Abi`, never on raw conditional nodes.
"""

import dataclasses
from functools import lru_cache

from . import model as m
from .errors import HvabiError
from .spec import expr


class _Resolver:
    """Reduces nodes to one selection: drops what does not exist in it (by condition, or
    omitted by the profile) and leaves every kept node with the arch-only condition it
    has there, which is all the emitters need for `#if` blocks."""

    def __init__(self, profile, sel):
        self.profile, self.sel = profile, sel

    def arches(self, node, name=None):
        """The arches `node` exists on in the selection: None for all, empty for none."""
        if not node.cond.matches(self.sel):
            return frozenset()
        arches = node.cond.arches_for(self.sel)
        if name is not None and self.profile is not None and name in self.profile.omit:
            omitted = self.profile.omit[name]
            if omitted is None:
                return frozenset()
            arches = frozenset(arches or m.ARCHES) - omitted
        if self.sel.arch is not None:
            return None if arches is None or self.sel.arch in arches else frozenset()
        return arches

    def keep(self, node, name=None, **changes):
        arches = self.arches(node, name)
        if arches is not None and not arches:
            return None
        return dataclasses.replace(node, cond=m.Cond.on_arches(arches), **changes)

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
            return self.keep(defn, defn.name, members=self.members(defn.members))
        if isinstance(defn, m.Enum):
            items = [x for x in (self.keep(i, i.name) for i in defn.items) if x is not None]
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
                const = self.keep(const, const.name, values=values)
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
        for entry in spec.entries:
            defn = resolver.defn(entry.defn)
            if defn is not None:
                self.entries.append((entry, defn))
                self._index(defn)
        self.value = lru_cache(maxsize=None)(self._value)
        self._enum_values = {}       # id(Enum) -> {enumerator name: Val}, each enum once

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
        values = self._enum_values.get(id(enum))
        if values is None:
            values, previous = {}, None
            for it in enum.items:
                if it.value is not None:
                    v = self.evaluate(it.value, it.pos)
                else:
                    v = expr.Val(0 if previous is None else previous.value + 1)
                values[it.name] = expr.Val(v.value, 32, True) if -(1 << 31) <= v.value < (1 << 31) else v
                previous = v
            self._enum_values[id(enum)] = values
        return values[item.name]

    def evaluate(self, tree, pos=None, bound=None):
        """The value of `tree`; `bound`: values of a macro's parameters, by name."""
        from .layout import offsetof, sizeof

        def lookup(name):
            if bound and name in bound:
                return bound[name]
            try:
                return self.value(name)
            except KeyError:
                raise HvabiError(f"unknown constant '{name}' in {self.sel_text()}", pos,
                                 "define it in spec/defs, or check its `only:` and the profile's `omit`")
            except RecursionError:
                raise HvabiError(f"constant '{name}' is defined in terms of itself", pos)

        def call(name, args):
            const = self.consts.get(name)
            if const is None or const.params is None:
                raise HvabiError(f"'{name}()' is not a spec macro with parameters in {self.sel_text()}",
                                 pos, "define it with `params:` in spec/defs (BIT(), BIT_ULL(),"
                                 " GENMASK() and GENMASK_ULL() are built in)")
            if len(args) != len(const.params):
                raise HvabiError(f"{name}() takes {len(const.params)} argument(s), given {len(args)}", pos)
            try:
                return self.evaluate(const.values[0][1], const.pos, dict(zip(const.params, args)))
            except RecursionError:
                raise HvabiError(f"macro '{name}' is defined in terms of itself", pos)

        try:
            return expr.evaluate(tree, lookup, lambda t: sizeof(self, t, pos), call,
                                 lambda t, member: offsetof(self, t, member, pos))
        except ZeroDivisionError:
            raise HvabiError("division by zero in a constant expression", pos)

    def sel_text(self):
        return f"profile {self.sel.profile} ({self.sel.view}, {self.sel.arch})"


def selections(spec, profiles=None, arches=m.ARCHES):
    """Every (profile, arch) selection of the spec, in a stable order."""
    for name in sorted(profiles or spec.profiles):
        profile = spec.profiles[name]
        for arch in arches:
            yield m.Selection(name, profile.view, arch)
