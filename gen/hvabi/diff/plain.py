"""Plain value classes for the differ, in place of @dataclass: importing dataclasses
(and typing) costs ~10 ms, a tenth of a whole `hvabi diff` of two header sets."""


class Plain:
    """Fields are the subclass's __slots__, in order; optional ones have a factory in
    `_defaults`. Built positionally or by keyword; compared and shown field by field."""
    __slots__ = ()
    _defaults = {}

    def __init__(self, *args, **kwargs):
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}: {len(args)} values for {len(names)} fields")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {name!r}")
            values[name] = value
        for name in names:
            if name in values:
                setattr(self, name, values[name])
            elif name in self._defaults:
                setattr(self, name, self._defaults[name]())
            else:
                raise TypeError(f"{type(self).__name__}: missing field {name!r}")

    def _values(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Frozen(Plain):
    """A Plain that is hashable by value (its fields must not be changed)."""
    __slots__ = ()

    def __hash__(self):
        return hash(self._values())
