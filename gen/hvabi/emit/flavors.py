"""How each flavor spells C: types, attributes, bit macros, arch conditionals.

All flavor decisions live here so the templates only hold C shape and the rendering code
never asks "which flavor am I".
"""

import copy

from .. import model as m
from ..arches import ARCHES as ARCH_REGISTRY
from ..errors import HvabiError
from ..spec import expr

_ARCH_MACROS = {
    "kernel": {a.name: a.kernel_config for a in ARCH_REGISTRY.values()},
    "uapi": {a.name: a.uapi_macro for a in ARCH_REGISTRY.values()},
}


def _hex_mask(tree, suffix):
    high, low = (expr.evaluate(a, _no_names, _no_sizeof).value for a in tree.args)
    return f"0x{((1 << (high + 1)) - 1) & ~((1 << low) - 1):x}{suffix}"


def _no_names(name):
    raise HvabiError(f"GENMASK() argument uses '{name}': the uapi flavor renders GENMASK() as a"
                     " literal mask", None, "write the bit numbers as integers")


def _no_sizeof(name):
    raise HvabiError("sizeof() inside GENMASK() cannot be rendered for uapi", None,
                     "write the bit numbers as integers")


class Flavor:
    """One C dialect. Subclasses override the spellings that differ."""

    name = "kernel"
    scalars = {"u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64",
               "s8": "s8", "s16": "s16", "s32": "s32", "s64": "s64",
               "bool": "bool", "char": "char", "ulong": "ulong"}
    packed = "__packed"
    arch_style = "kernel"
    # <linux/stddef.h>'s macro for a flexible array alone in a union or struct; the uapi
    # flavor writes its expansion (bindgen reads that, and a user-space <linux/stddef.h>
    # may not have the macro)
    flex_macro = "DECLARE_FLEX_ARRAY"
    # a record's `asserts:` as static_assert() (<linux/build_bug.h>); the uapi flavor leaves
    # them out (no static_assert in user space's C before C23; the layout tests prove them)
    static_assert = True

    def __init__(self, abi_types, arch_test="defined"):
        self.types = abi_types          # name -> defn, to spell `struct x` / `union x`
        self.test = arch_test           # `defined` or `IS_ENABLED` (the header's arch_test)

    def aligned(self, n):
        return f"__aligned({n})"

    def with_uapi_scalars(self):
        """This flavor with u8..s64 spelled __u8..__s64 (a header's `uapi_types:`)."""
        other = copy.copy(self)
        other.scalars = dict(self.scalars, **{k: v for k, v in Uapi.scalars.items()
                                              if k[0] in "us" and k[1:].isdigit()})
        return other

    def scalar(self, name):
        return self.scalars[name]

    def type_name(self, name):
        if name in self.scalars:
            return self.scalar(name)
        defn = self.types.get(name)
        if isinstance(defn, m.Record):
            return f"{defn.kind} {name}"
        if isinstance(defn, m.Enum):
            return f"enum {name}"
        return name

    def symbol(self, name):
        if name in expr.EXTERNAL and self.name_is_external_literal():
            value, bits, signed, _ = expr.EXTERNAL[name]
            return f"{value}{'L' if bits == 64 and signed else ''}"
        return name

    def name_is_external_literal(self):
        return False

    def bit_macro(self, fn, args, tree):
        return f"{fn}({', '.join(args)})"

    def arch_test(self, arches):
        macros = _ARCH_MACROS[self.arch_style]
        return " || ".join(f"{self.test}({macros[a]})" for a in sorted(arches))

    def other_arch_test(self):
        """True on an arch the spec does not describe."""
        macros = _ARCH_MACROS[self.arch_style]
        return " && ".join(f"!{self.test}({macros[a]})" for a in sorted(m.ARCHES))

    def arch_error(self, what):
        """The #error text for `what` on an arch the spec does not describe, or None:
        kernel headers are built for CONFIG_X86 or CONFIG_ARM64 only."""
        return None

    def render(self, tree):
        text = expr.render(tree, self)
        return text if expr.is_simple(tree) else f"({text})"


class Kernel(Flavor):
    pass


class Tlfs(Flavor):
    """The documented view as Linux <= 6.13 spelled it: kernel types, `unsigned long`."""
    name = "tlfs"
    scalars = dict(Flavor.scalars, ulong="unsigned long")


class Uapi(Flavor):
    """Exported headers: __u64, no kernel macros. BIT(n) is written as <linux/const.h>'s
    _BITUL(n) expands, `(1UL << (n))`: an object-like macro whose value is a plain
    expression, which bindgen (cexpr) evaluates; it does not expand function-like macros,
    so `_BITUL(n)` left the macro, and every macro built on it, out of the Rust bindings."""
    name = "uapi"
    scalars = {"u8": "__u8", "u16": "__u16", "u32": "__u32", "u64": "__u64",
               "s8": "__s8", "s16": "__s16", "s32": "__s32", "s64": "__s64",
               "bool": "__u8", "char": "char", "ulong": "unsigned long"}
    packed = "__attribute__((packed))"
    arch_style = "uapi"
    flex_macro = None
    static_assert = False

    def aligned(self, n):
        return f"__attribute__((aligned({n})))"

    def arch_error(self, what):
        # User space builds for any arch (i386, riscv64, ...): there, a definition whose
        # content depends on the arch has no right content, so it must not compile.
        return f"{what}: defined for {' and '.join(m.ARCHES)} only"

    def name_is_external_literal(self):
        return True

    def bit_macro(self, fn, args, tree):
        if fn == "BIT":
            return f"(1UL << ({args[0]}))"
        if fn == "BIT_ULL":
            return f"(1ULL << ({args[0]}))"
        return _hex_mask(tree, "UL" if fn == "GENMASK" else "ULL")


FLAVORS = {"kernel": Kernel, "tlfs": Tlfs, "uapi": Uapi}
