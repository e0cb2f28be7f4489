"""Layout facts of a set of header files, in the C flavor they are written in.

kernel: headers for the kernel tree (`u64`, `BIT()`, `__packed`, `CONFIG_X86`), such as
        Linux include/hyperv. A kernel build provides what they include; outside one,
        extract/kstubs stands in for those few kernel headers and kernel-prelude.h for what
        the build passes implicitly.
uapi:   standalone user-space headers (`__u64`, `<linux/types.h>`), such as rust-vmm's
        hv-headers; only the system headers are needed.
"""

import os

from ..arches import ARCHES
from . import clang_facts

# Strings, not pathlib objects: `hvabi diff` of two header sets does without pathlib.
# Our own stand-ins for the few kernel headers the kernel flavor includes: tool data.
STUBS = os.path.join(os.path.dirname(os.path.realpath(__file__)), "kstubs")
PRELUDE = os.path.join(STUBS, "kernel-prelude.h")
FLAVORS = ("kernel", "uapi")
CONFIG = {a.name: a.kernel_config for a in ARCHES.values()}
# rust-vmm's hv-headers use BIT() without defining it or including a header that does
# (their bindgen wrapper provides it); a header that defines it itself only gets a warning.
# Likewise NSEC_PER_SEC (HV_CLOCK_HZ), a kernel constant with no uapi header.
UAPI_FALLBACK_DEFINES = ("BIT(x)=(1UL<<(x))", "NSEC_PER_SEC=1000000000L")
# The hyperv-tlfs.h trio lives in arch/<dir>/include/asm and include/asm-generic.
TLFS_ARCH_DIR = {a.name: a.kernel_dir for a in ARCHES.values()}


def kernel_cflags(arch):
    """Compiler arguments that let gcc/clang build kernel-flavor headers outside a kernel
    tree: the stand-in headers, the implicit prelude and the arch's CONFIG_ symbol."""
    return [f"-I{STUBS}", "-include", PRELUDE, f"-D{CONFIG[arch]}=1"]


def tlfs_include_dirs(root, arch):
    """Include dirs for a hyperv-tlfs.h trio rooted at `root` (a kernel tree or ours)."""
    return [root / "arch" / TLFS_ARCH_DIR[arch] / "include", root / "include"]


def options(arch, flavor, include_dirs=()):
    """Compiler settings (keyword arguments of clang_facts.parse_headers / extract) for
    headers of `flavor` on `arch`."""
    if flavor == "kernel":
        with open(PRELUDE, encoding="utf-8") as f:
            prelude = f.read()
        return dict(include_dirs=[STUBS, *map(str, include_dirs)],
                    defines=[f"{CONFIG[arch]}=1"], prelude=prelude)
    return dict(include_dirs=[str(d) for d in include_dirs], defines=UAPI_FALLBACK_DEFINES)


def kernel_facts(headers, arch, include_dirs=(), only=None):
    """libclang facts of kernel-flavor headers compiled with our kernel stand-ins.
    `only`: files or directories whose definitions count (default: the headers' own)."""
    return clang_facts.extract([str(h) for h in headers], arch,
                               only_files=[str(p) for p in only] if only else None,
                               **options(arch, "kernel", include_dirs))


def uapi_facts(headers, arch, only=None, prelude=None):
    """libclang facts of uapi-flavor headers compiled against the system headers.
    `prelude`: C text put before them (Linux's mshv.h uses _IOW() without including
    <linux/ioctl.h>: its readers include that first)."""
    return clang_facts.extract([str(h) for h in headers], arch,
                               only_files=[str(p) for p in only] if only else None,
                               prelude=prelude, **options(arch, "uapi"))


def linux_mshv_header(tree):
    """include/uapi/linux/mshv.h of a Linux tree (the mshv profile's upstream)."""
    path = os.path.join(str(tree), "include", "uapi", "linux", "mshv.h")
    if not os.path.isfile(path):
        raise clang_facts.ExtractError(
            f"{path}: no such file; want a Linux tree with the mshv driver's uapi (./setup"
            " extracts Linux 7.3's to build/kernel/linux-source-7.3)")
    return path


def linux_mshv_facts(tree, arch):
    """libclang facts of Linux's include/uapi/linux/mshv.h in `tree`, in the uapi flavor,
    with <linux/ioctl.h> included first."""
    path = linux_mshv_header(tree)
    return uapi_facts([path], arch, only=[path], prelude="#include <linux/ioctl.h>")


def tlfs_facts(root, arch):
    """libclang facts of the hyperv-tlfs.h trio rooted at `root`, for `arch`."""
    import pathlib
    root = pathlib.Path(root)
    arch_inc, generic_inc = tlfs_include_dirs(root, arch)
    return kernel_facts([arch_inc / "asm/hyperv-tlfs.h"], arch, [arch_inc, generic_inc],
                        only=[arch_inc / "asm", generic_inc / "asm-generic"])


def linux_hyperv_headers(tree):
    """include/hyperv/*.h of a Linux tree (6.14 or later), sorted by name."""
    hdir = os.path.join(str(tree), "include", "hyperv")
    try:
        names = sorted(n for n in os.listdir(hdir) if n.endswith(".h"))
    except OSError:
        names = []
    if not names:
        raise clang_facts.ExtractError(
            f"{hdir}: no *.h here; want a Linux tree with include/hyperv/ (./setup extracts"
            " Linux 7.3's to build/kernel/linux-source-7.3)")
    return [os.path.join(hdir, n) for n in names]


def linux_facts(tree, arch):
    """libclang facts of Linux include/hyperv (the linux profile's upstream) in `tree`."""
    return kernel_facts(linux_hyperv_headers(tree), arch)


def read(headers, arch, flavor, only=None):
    """Facts of `headers` in `flavor` (one of FLAVORS) for `arch`."""
    return (kernel_facts if flavor == "kernel" else uapi_facts)(headers, arch, only=only)


def read_ahead(headers, arch, flavor):
    """Start parsing what read(headers, arch, flavor) will parse, on a second thread
    (clang_facts.parse_ahead); clang_facts.drop_ahead() frees what read() did not take."""
    clang_facts.parse_ahead([str(h) for h in headers], arch, **options(arch, flavor))
