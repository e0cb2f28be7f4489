"""The one registry of the architectures the ABI is defined for: every per-arch fact the
tool needs (how compilers target it, how each flavor of header tests for it, where the
kernel keeps its headers, how DWARF names it) is written here once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Arch:
    name: str                 # the spec's name (`only: x86_64`)
    triple: str               # clang --target and the GNU cross tools' prefix
    kernel_config: str        # what kernel-flavor headers test (`#if defined(CONFIG_X86)`)
    uapi_macro: str           # what uapi headers test (`#if defined(__x86_64__)`)
    kernel_dir: str           # arch/<dir> in a kernel tree
    elf_machine: int          # ELF e_machine of objects built for it (pahole)


ARCHES = {
    "x86_64": Arch("x86_64", "x86_64-linux-gnu", "CONFIG_X86", "__x86_64__", "x86", 62),
    "arm64": Arch("arm64", "aarch64-linux-gnu", "CONFIG_ARM64", "__aarch64__", "arm64", 183),
}
NAMES = tuple(ARCHES)
