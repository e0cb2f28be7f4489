"""C integer constant expressions, kept symbolic.

The spec writes values the way kernel headers do (`BIT(5)`, `GENMASK_ULL(43, 32)`,
`(NSEC_PER_SEC / 100)`, `((u64)-1)`, calls of the spec's own function-like macros). We parse them once into a small tree that can be
*evaluated* (the spec knows every value, with C's width and signedness) and *rendered*
per flavor (kernel keeps `BIT()`; uapi writes `(1UL << (n))`, which bindgen evaluates).
"""

import re
from dataclasses import dataclass

from ..errors import HvabiError

# Integer types an expression may cast to or take sizeof of: (bits, signed).
SCALARS = {
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False),
    "s8": (8, True), "s16": (16, True), "s32": (32, True), "s64": (64, True),
    "char": (8, True), "bool": (8, False), "ulong": (64, False),
}

# Kernel macros an expression may name although the spec does not define them.
# value, bits, signed; `header` is where the kernel flavor finds them.
EXTERNAL = {
    "NSEC_PER_SEC": (1000000000, 64, True, "linux/time64.h"),
    # Only the x86 TLFS part uses it, where the page is 4 KiB.
    "PAGE_SIZE": (4096, 64, False, "asm/page.h"),
}

BIT_MACROS = {"BIT": (1, False), "BIT_ULL": (1, True), "GENMASK": (2, False), "GENMASK_ULL": (2, True)}

# Linux's ioctl number macros (<linux/ioctl.h>, asm-generic encoding, which x86_64 and
# arm64 use): the direction bits each one encodes (_IOC_WRITE 1, _IOC_READ 2).
IOCTL_MACROS = {"_IO": 0, "_IOW": 1, "_IOR": 2, "_IOWR": 3}
IOC_NRBITS, IOC_TYPEBITS, IOC_SIZEBITS = 8, 8, 14


@dataclass(frozen=True)
class Val:
    """A C integer value: the number plus the width and signedness of its type."""
    value: int
    bits: int = 32
    signed: bool = True

    def wrap(self):
        mask = (1 << self.bits) - 1
        v = self.value & mask
        if self.signed and v >> (self.bits - 1):
            v -= 1 << self.bits
        return Val(v, self.bits, self.signed)


# --- tree ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Num:
    value: int
    text: str


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple


@dataclass(frozen=True)
class Sizeof:
    type: str          # scalar name or a record/type name from the spec


@dataclass(frozen=True)
class Offsetof:
    type: str          # a record name from the spec
    member: str        # a member of it (a path through untagged members: `a.b`)


@dataclass(frozen=True)
class Ioctl:
    """`_IO(type, nr)` or `_IOR/_IOW/_IOWR(type, nr, T)`: an ioctl request number."""
    fn: str
    type: object       # the ioctl type (magic) expression
    nr: object         # the command number expression
    arg: str = None    # the argument's type (scalar or spec type name); None for _IO


@dataclass(frozen=True)
class Cast:
    type: str
    operand: object


@dataclass(frozen=True)
class Unary:
    op: str
    operand: object


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Paren:
    inner: object


def is_macro_call(tree):
    """A call of one of the spec's macros with `params` (not a BIT()-style built-in)."""
    return isinstance(tree, Call) and tree.fn not in BIT_MACROS


# --- parsing ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:([0-9][0-9A-Za-z_]*)|([A-Za-z_]\w*)|(<<|>>|[-+*/%|&^~()!,.]))")
# C integer literals the spec takes: decimal or hex, with a C suffix (u, l, ll and both).
_LITERAL = re.compile(r"(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)((?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)?)")
U64_MAX = (1 << 64) - 1


def literal_problem(text):
    """Why `text` (digits and suffix, no sign) is not a C integer literal of the spec, or None."""
    m = _LITERAL.fullmatch(text)
    if not m:
        if re.fullmatch(r"0[0-7]+[uUlL]*", text):
            return f"{text} is octal in C", "write it in decimal or 0x-hex"
        return f"{text!r} is not an integer literal", "write decimal (no leading zeros, no '_') or 0x-hex," \
            " with a C suffix (U, L, UL, ULL) if any"
    value = int(m.group(1), 0)
    if value > U64_MAX:
        return f"{text} is too large for any C integer type", "the ABI's integers are at most 64 bits"
    if value > (1 << 63) - 1 and not m.group(1).lower().startswith("0x") and "u" not in m.group(2).lower():
        return f"{text} is so large that C makes it unsigned (compilers warn)", \
            f"write it in hex (0x{value:x}) or with a U suffix"
    return None
_BINARY = [("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, text, pos):
        self.text, self.pos = text, pos
        self.toks = self._lex(text)
        self.i = 0

    def _fail(self, what, hint=None):
        raise HvabiError(f"bad constant expression {self.text!r}: {what}", self.pos, hint or
                         "allowed: integers, names of spec constants, BIT(), BIT_ULL(), GENMASK(),"
                         " GENMASK_ULL(), calls of spec macros with `params`, sizeof(type), offsetof(type, member),"
                         " _IO(type, nr), _IOR/_IOW/_IOWR(type, nr, T), casts to u8..u64/s8..s64"
                         " and C operators")

    def _lex(self, text):
        toks, at = [], 0
        text = text.rstrip()
        while at < len(text):
            m = _TOKEN.match(text, at)
            if not m:
                self._fail(f"unexpected {text[at:].strip()[:10]!r}")
            at = m.end()
            if m.group(1):
                problem = literal_problem(m.group(1))
                if problem:
                    self._fail(*problem)
                toks.append(("num", m.group(1)))
            elif m.group(2):
                toks.append(("name", m.group(2)))
            else:
                toks.append(("op", m.group(3)))
        return toks

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            self._fail(f"expected {value!r}, found {tok[1] or 'end'!r}")
        self.i += 1
        return tok

    def parse(self):
        tree = self.binary(0)
        if self.peek()[0] != "end":
            self._fail(f"unexpected {self.peek()[1]!r}")
        return tree

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in _BINARY[level]:
            op = self.take()[1]
            left = Binary(op, left, self.binary(level + 1))
        return left

    def unary(self):
        kind, value = self.peek()
        if kind == "op" and value in "-~+!":
            self.take()
            return Unary(value, self.unary())
        if kind == "op" and value == "(":
            # A cast `(u64)x` or a parenthesised expression.
            if self.i + 2 < len(self.toks) and self.toks[self.i + 1][1] in SCALARS \
                    and self.toks[self.i + 2][1] == ")":
                self.take("(")
                ctype = self.take()[1]
                self.take(")")
                return Cast(ctype, self.unary())
            self.take("(")
            inner = self.binary(0)
            self.take(")")
            if isinstance(inner, Name) and self.peek()[0] in ("num", "name") or \
                    isinstance(inner, Name) and self.peek()[1] == "(":
                self._fail(f"({inner.name}) is a cast to a type expressions do not know",
                           "casts take u8, u16, u32, u64, s8, s16, s32, s64")
            return Paren(inner)
        return self.primary()

    def type_name(self, what):
        """`X`, `struct X` or `union X`, as the type's spec name."""
        words = []
        while self.peek()[0] == "name":
            words.append(self.take()[1])
        if not words or len(words) > 2 or (len(words) == 2 and words[0] not in ("struct", "union")):
            self._fail(what)
        return words[-1]

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return Num(int(value.rstrip("uUlL"), 0), value)
        if kind != "name":
            self._fail(f"unexpected {value or 'end'!r}")
        if value == "sizeof":
            self.take("(")
            tname = self.type_name("sizeof takes a type name")
            if self.peek()[1] != ")":
                self._fail("sizeof takes a type name")
            self.take(")")
            return Sizeof(tname)
        if value == "offsetof":
            self.take("(")
            tname = self.type_name("offsetof takes a record type and a member")
            self.take(",")
            path = [self.take()[1]]
            while self.peek()[1] == ".":
                self.take(".")
                path.append(self.take()[1])
            self.take(")")
            return Offsetof(tname, ".".join(path))
        if value in IOCTL_MACROS:
            self.take("(")
            magic = self.binary(0)
            self.take(",")
            nr = self.binary(0)
            arg = None
            if value != "_IO":
                self.take(",")
                arg = self.type_name(f"{value}() takes the ioctl type, number and argument type")
            elif self.peek()[1] == ",":
                self._fail("_IO() takes the ioctl type and number only (no argument type)")
            self.take(")")
            return Ioctl(value, magic, nr, arg)
        if value in BIT_MACROS or self.peek()[1] == "(":
            # BIT()-style macros, or a spec macro with `params` (checked when evaluated)
            self.take("(")
            args = [self.binary(0)]
            while self.peek()[1] == ",":
                self.take(",")
                args.append(self.binary(0))
            self.take(")")
            if value in BIT_MACROS and len(args) != BIT_MACROS[value][0]:
                self._fail(f"{value}() takes {BIT_MACROS[value][0]} argument(s)")
            if value.startswith("GENMASK") and not all(isinstance(a, Num) for a in args):
                self._fail(f"{value}() takes bit numbers written as integers",
                           "the uapi flavor writes GENMASK() as its mask: write e.g. GENMASK(7, 4)")
            return Call(value, tuple(args))
        return Name(value)


def parse(source, pos=None):
    """Parse an `Int` or expression string from the spec into a tree."""
    if isinstance(source, bool) or source is None:
        raise HvabiError(f"expected an integer or expression, found {source!r}", pos)
    if isinstance(source, int):
        text = getattr(source, "text", str(int(source)))
        problem = literal_problem(text.lstrip("-"))
        if problem:
            raise HvabiError(f"bad integer {text}: {problem[0]}", pos, problem[1])
        return Num(int(source), text)
    if not str(source).strip():
        raise HvabiError("empty constant expression", pos, "write an integer or a C constant expression")
    return _Parser(str(source), pos).parse()


def names(tree):
    """Constant names an expression refers to, called macros included (for dependency
    order and checks)."""
    if isinstance(tree, Name):
        return {tree.name}
    out = {tree.fn} if is_macro_call(tree) else set()
    for child in _children(tree):
        out |= names(child)
    return out


def sizeof_types(tree):
    """Types an expression takes the size or a member offset of (they come first)."""
    if isinstance(tree, (Sizeof, Offsetof)):
        return {tree.type}
    if isinstance(tree, Ioctl) and tree.arg is not None:
        return {tree.arg} | sizeof_types(tree.type) | sizeof_types(tree.nr)
    out = set()
    for child in _children(tree):
        out |= sizeof_types(child)
    return out


def _children(tree):
    if isinstance(tree, (Num, Name, Sizeof, Offsetof)):
        return ()
    if isinstance(tree, Call):
        return tree.args
    if isinstance(tree, Ioctl):
        return (tree.type, tree.nr)
    if isinstance(tree, Cast):
        return (tree.operand,)
    if isinstance(tree, Unary):
        return (tree.operand,)
    if isinstance(tree, Binary):
        return (tree.left, tree.right)
    return (tree.inner,)


# --- evaluation ---------------------------------------------------------------------------

def _literal(tree):
    suffix = tree.text[len(tree.text.rstrip("uUlL")):].lower()
    unsigned = "u" in suffix
    hexa = tree.text.lower().startswith("0x")
    bits = 64 if "l" in suffix else 32
    v = tree.value
    # C picks the first type that holds the literal; hex/octal may go unsigned.
    if bits == 32 and v >= (1 << 31):
        if (hexa or unsigned) and v < (1 << 32):
            unsigned = True
        else:
            bits = 64
    if bits == 64 and v >= (1 << 63):
        unsigned = True
    return Val(v, bits, not unsigned)


def _promote(a, b):
    bits = max(a.bits, b.bits, 32)
    if a.bits == b.bits:
        signed = a.signed and b.signed
    else:
        wide = a if a.bits > b.bits else b
        signed = wide.signed
    return bits, signed


def evaluate(tree, lookup, sizeof, call=None, offsetof=None):
    """Value of `tree`. `lookup(name)` gives a Val for a constant; `sizeof(type)` bytes;
    `call(name, [Val])` the value of a spec macro with parameters applied to arguments;
    `offsetof(type, member path)` bytes."""
    def again(t):
        return evaluate(t, lookup, sizeof, call, offsetof)
    if isinstance(tree, Num):
        return _literal(tree)
    if isinstance(tree, Name):
        return lookup(tree.name)
    if isinstance(tree, Paren):
        return again(tree.inner)
    if isinstance(tree, Sizeof):
        return Val(sizeof(tree.type), 64, False)
    if isinstance(tree, Offsetof):
        if offsetof is None:
            raise KeyError(f"offsetof({tree.type}, {tree.member})")
        return Val(offsetof(tree.type, tree.member), 64, False)
    if isinstance(tree, Ioctl):
        return _ioctl(tree, again(tree.type).value, again(tree.nr).value,
                      None if tree.arg is None else sizeof(tree.arg))
    if isinstance(tree, Cast):
        bits, signed = SCALARS[tree.type]
        v = Val(again(tree.operand).value, bits, signed).wrap()
        return v if bits >= 32 else Val(v.value, 32, True)   # integer promotion
    if is_macro_call(tree):
        if call is None:
            raise KeyError(tree.fn)
        return call(tree.fn, [again(a) for a in tree.args])
    if isinstance(tree, Call):
        args = [again(a).value for a in tree.args]
        if any(not 0 <= a <= 63 for a in args):
            raise HvabiError(f"{tree.fn}() of bit {[a for a in args if not 0 <= a <= 63][0]}: bits are"
                             " 0 to 63", None, "a 64-bit mask has bits 0-63")
        if tree.fn in ("BIT", "BIT_ULL"):
            return Val(1 << args[0], 64, False)
        high, low = args
        if low > high:
            raise HvabiError(f"{tree.fn}({high}, {low}): the high bit comes first", None,
                             f"write {tree.fn}({low}, {high})")
        return Val(((1 << (high + 1)) - 1) & ~((1 << low) - 1), 64, False)
    if isinstance(tree, Unary):
        x = again(tree.operand)
        x = Val(x.value, max(x.bits, 32), x.signed if x.bits >= 32 else True)
        if tree.op == "-":
            return _signed_fits(Val(-x.value, x.bits, x.signed), tree).wrap()
        if tree.op == "~":
            return Val(~x.value, x.bits, x.signed).wrap()
        if tree.op == "!":
            return Val(int(not x.value), 32, True)
        return x
    a = again(tree.left)
    b = again(tree.right)
    if tree.op in ("<<", ">>"):
        base = Val(a.value, max(a.bits, 32), a.signed if a.bits >= 32 else True)
        if not 0 <= b.value < base.bits:
            raise HvabiError(f"shift by {b.value}: the shifted value has {base.bits} bits", None,
                             "shift by 0 to one less than the width; cast the left side to u64 to widen it")
        if tree.op == ">>":
            return Val(base.value >> b.value, base.bits, base.signed).wrap()
        if base.signed and base.value < 0:
            raise HvabiError("left shift of a negative value (compilers warn)", None,
                             "shift an unsigned value: cast it, e.g. ((u64)-1 << n)")
        v = base.value << b.value
        if base.signed and v >= 1 << base.bits:
            raise HvabiError(f"{base.value} << {b.value} does not fit in a signed {base.bits}-bit value"
                             " (compilers warn)", None, "cast the left side to u64, or use BIT_ULL()")
        return Val(v, base.bits, base.signed).wrap()
    bits, signed = _promote(a, b)
    x, y = Val(a.value, bits, signed).wrap().value, Val(b.value, bits, signed).wrap().value
    if tree.op in ("/", "%") and y == 0:
        raise ZeroDivisionError
    ops = {
        "+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y,
        "/": lambda: abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1),
        "%": lambda: x - abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1) * y,
        "|": lambda: x | y, "&": lambda: x & y, "^": lambda: x ^ y,
    }
    return _signed_fits(Val(ops[tree.op](), bits, signed), tree).wrap()


def _signed_fits(v, tree):
    """Signed arithmetic that overflows is undefined in C, and compilers warn about it in
    constants."""
    if v.signed and not -(1 << (v.bits - 1)) <= v.value < 1 << (v.bits - 1):
        raise HvabiError(f"'{render(tree, _PLAIN)}' overflows a signed {v.bits}-bit value"
                         " (compilers warn)", None, "compute it unsigned: a U suffix or a cast to u32/u64")
    return v


class _PlainStyle:
    """Spellings for error messages: the expression as the spec writes it."""
    @staticmethod
    def symbol(name):
        return name

    @staticmethod
    def type_name(name):
        return name

    @staticmethod
    def scalar(name):
        return name

    @staticmethod
    def bit_macro(fn, args, tree):
        return f"{fn}({', '.join(args)})"


_PLAIN = _PlainStyle()


class IoctlRangeError(ValueError):
    """An ioctl field does not fit its bits."""


def _ioctl(tree, magic, nr, size):
    """The request number as <linux/ioctl.h> encodes it: dir << 30 | size << 16 | type << 8
    | nr. _IO() is an unsigned int; the others are unsigned long (sizeof is a size_t)."""
    for what, value, bits in (("type", magic, IOC_TYPEBITS), ("number", nr, IOC_NRBITS),
                              ("argument size", size or 0, IOC_SIZEBITS)):
        if not 0 <= value < (1 << bits):
            raise IoctlRangeError(f"{tree.fn}(): the ioctl {what} {value} does not fit in {bits} bits")
    v = IOCTL_MACROS[tree.fn] << 30 | (size or 0) << 16 | magic << 8 | nr
    return Val(v, 32, False) if size is None else Val(v, 64, False)


# --- rendering ----------------------------------------------------------------------------

def render(tree, style):
    """C text for `tree`. `style` maps the flavor-specific spellings (see emit.flavors)."""
    if isinstance(tree, Num):
        return tree.text
    if isinstance(tree, Name):
        return style.symbol(tree.name)
    if isinstance(tree, Paren):
        return f"({render(tree.inner, style)})"
    if isinstance(tree, Sizeof):
        return f"sizeof({style.type_name(tree.type)})"
    if isinstance(tree, Offsetof):
        return f"offsetof({style.type_name(tree.type)}, {tree.member})"
    if isinstance(tree, Ioctl):
        args = [render(tree.type, style), render(tree.nr, style)]
        return f"{tree.fn}({', '.join(args + ([style.type_name(tree.arg)] if tree.arg else []))})"
    if isinstance(tree, Cast):
        return f"({style.scalar(tree.type)}){render(tree.operand, style)}"
    if is_macro_call(tree):
        return f"{style.symbol(tree.fn)}({', '.join(render(a, style) for a in tree.args)})"
    if isinstance(tree, Call):
        return style.bit_macro(tree.fn, [render(a, style) for a in tree.args], tree)
    if isinstance(tree, Unary):
        inner = render(tree.operand, style)
        if tree.op in "-+" and inner[:1] in "-+":     # `--18` would be a decrement
            inner = f"({inner})"
        return f"{tree.op}{inner}"
    return f"{render(tree.left, style)} {tree.op} {render(tree.right, style)}"


def is_simple(tree):
    """True when C needs no parentheses around the rendered macro body."""
    if isinstance(tree, (Num, Name, Paren, Sizeof, Offsetof, Call, Ioctl)):
        return not (isinstance(tree, Num) and tree.value < 0)
    return False
