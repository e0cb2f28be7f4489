"""Layout facts (the ``records`` of ``hvabi-facts/1``) read from DWARF with pahole.

pahole is run as ``pahole -F dwarf -E --suppress_aligned_attribute --suppress_packed``:

* ``-F dwarf`` so a stray ``.BTF`` section is never preferred over the DWARF.
* ``-E`` resolves typedef chains (``/* typedef hv_time_t -> __u64 -> u64 */ long long
  unsigned int t;``), so types normalise without knowing the header's typedefs.  Only
  qualified or pointed-to typedefs stay unresolved (``volatile const u32``); those go
  through the ``typedefs`` table.  ``-E`` also expands tagged members; their bodies are
  parsed but not descended into.
* The ``--suppress_*`` flags drop pahole's *inferred* attributes, which would otherwise
  clutter every closing line and say nothing reliable (see "align" below).

Offsets: pahole (without ``-r``) prints every member's offset from the start of the
outermost record, also inside anonymous and untagged nested aggregates at any depth.  A
bitfield prints as ``/* byte:bit size */``: ``byte`` is its storage unit's offset, ``bit``
its LSB-first offset inside it, so the absolute bit is ``8 * byte + bit``.

Quirks handled here (all seen with pahole 1.24, gcc 12, clang 14):

* clang (even with ``-gdwarf-5``) emits nested anonymous types a second time as child DIEs
  of the enclosing record; pahole prints them as ``struct { ... };`` blocks whose closing
  line has no ``/* offset size */`` comment.  Such blocks are type definitions, not
  members, and are skipped.
* clang emits no bit size for a bitfield as wide as its type (``u64 y:64``) and floors its
  offset to a byte (``DW_AT_data_member_location``).  Byte-aligned ones are then plain
  members; one packed at a non-byte bit shows up overlapping its predecessor (pahole:
  ``XXX 255 bits hole``) and is moved back to where its predecessor ends.  That is exact
  unless an unnamed bitfield (absent from DWARF) sits between the two.
* Hence ``"bitfield": true`` is only reported where it matters for layout: bitfields that
  are narrower than their type or do not start on a byte boundary.
* ``align`` is left out: DWARF records no packing, and pahole's ``__aligned__`` is a guess
  (``struct { u32 a, b; } __attribute__((packed))`` shows no attribute although its
  alignment is 1; ``struct r { char c; struct q m; } __attribute__((aligned(8)))`` with
  16-aligned ``q`` shows ``aligned(16)`` from gcc and ``aligned(8)`` from clang, while the
  true alignment is 16).  The generated headers' static asserts check alignment instead.
* Union layouts have no ``/* size: */`` trailer, so sizes come from ``pahole -s``.
"""

import argparse
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from os.path import basename

from ..arches import ARCHES as _REGISTRY

FORMAT = 'hvabi-facts/1'

# arch -> (clang target triple, ELF e_machine), from the one arch registry
ARCHES = {a.name: (a.triple, a.elf_machine) for a in _REGISTRY.values()}

DEBUG_FLAGS = ('-g', '-gdwarf-5', '-fno-eliminate-unused-debug-types')
PAHOLE = ('pahole', '-F', 'dwarf')
LAYOUT_FLAGS = ('-E', '--suppress_aligned_attribute', '--suppress_packed')

# Kernel, uapi and stdint integer typedefs; only needed where -E leaves a typedef name.
DEFAULT_TYPEDEFS = {
    **{f'{prefix}{sign}{n}': f'{sign}{n}'
       for prefix in ('', '__') for sign in 'us' for n in (8, 16, 32, 64)},
    **{f'__{order}{n}': f'u{n}' for order in ('le', 'be') for n in (16, 32, 64)},
    **{f'uint{n}_t': f'u{n}' for n in (8, 16, 32, 64)},
    **{f'int{n}_t': f's{n}' for n in (8, 16, 32, 64)},
    'bool': 'bool',
}

_INT_WORDS = frozenset({'signed', 'unsigned', 'char', 'short', 'int', 'long', '__int128'})

_OFFSET_COMMENT = r'/\*\s*(?P<byte>\d+)(?::\s*(?P<bit>\d+))?\s+(?P<size>\d+)\s*\*/'
_TYPEDEF_COMMENT = r'(?:/\* typedef [^*]* \*/ )?'
_COMMENT_LINE = re.compile(r'^/\*(?:(?!\*/).)*\*/$')
_OPEN = re.compile(rf'^{_TYPEDEF_COMMENT}(?P<kind>struct|union)(?: (?P<tag>\w+))? \{{$')
_CLOSE = re.compile(rf'^\}}\s*(?P<decl>[^;]*);(?:\s*{_OFFSET_COMMENT})?$')
_MEMBER = re.compile(rf'^{_TYPEDEF_COMMENT}(?P<decl>[^;]+);\s*{_OFFSET_COMMENT}$')
# pahole's own filler for bit holes and forced alignment ("unsigned int :5;"): no offset.
_PADDING = re.compile(rf'^{_TYPEDEF_COMMENT}[^;]*\s:\d+;$')
_DIMS = r'(?P<dims>(?:\[\d*\])*)'
_DECL = re.compile(rf'^(?P<type>.*?[\s*])(?P<name>\w+){_DIMS}(?::(?P<width>\d+))?$')
_AGG_DECL = re.compile(rf'^(?P<name>\w*){_DIMS}$')


class PaholeError(Exception):
    """A compiler or pahole failure, or pahole output that cannot be trusted."""


@dataclass
class _Field:
    """A non-aggregate member: ``ctype`` as pahole spells it, ``offset`` in bits."""
    name: str
    ctype: str
    dims: str
    width: int | None
    offset: int
    size: int

    @property
    def bits(self):
        return self.size * 8 if self.width is None else self.width


@dataclass
class _Aggregate:
    """A struct/union block; ``is_member`` is False for type-only definitions."""
    kind: str
    tag: str | None
    children: list = field(default_factory=list)
    name: str = ''
    dims: str = ''
    offset: int = 0
    size: int = 0
    is_member: bool = False

    @property
    def bits(self):
        return self.size * 8


def _run(cmd):
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise PaholeError(f'cannot run {cmd[0]}: {exc}') from exc
    if proc.returncode:
        raise PaholeError(f'{shlex.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}')
    return proc.stdout


def _arch(arch):
    if arch not in ARCHES:
        raise ValueError(f'unknown arch {arch!r}; expected one of {sorted(ARCHES)}')
    return ARCHES[arch]


def _elf_machine(obj_file):
    try:
        with open(obj_file, 'rb') as obj:
            header = obj.read(20)
    except OSError as exc:
        raise PaholeError(f'cannot read {obj_file}: {exc}') from exc
    if len(header) < 20 or header[:4] != b'\x7fELF':
        raise PaholeError(f'{obj_file}: not an ELF object')
    order = 'little' if header[5] == 1 else 'big'
    return int.from_bytes(header[18:20], order)


def object_arch(obj_file):
    """The arch (a key of ARCHES) an ELF object was built for."""
    machine = _elf_machine(obj_file)
    for arch, (_, known) in ARCHES.items():
        if machine == known:
            return arch
    raise PaholeError(f'{obj_file}: ELF machine {machine} is none of {", ".join(ARCHES)}')


def _check_machine(obj_file, arch):
    """Refuse an object built for another arch, e.g. by plain gcc for arm64."""
    _, machine = _arch(arch)
    found = _elf_machine(obj_file)
    if found != machine:
        raise PaholeError(f'{obj_file}: ELF machine {found}, expected {machine} for {arch}')


def compile_object(c_file, obj_file, compiler, arch, include_dirs=(), defines=(),
                   extra_flags=()):
    """Compile ``c_file`` to ``obj_file`` with full DWARF 5 debug types.

    ``compiler`` is a command (``"gcc"``, ``"clang"``, ``"aarch64-linux-gnu-gcc"``, or an
    argv list); clang gets ``--target`` for ``arch``, gcc must already target it.
    ``defines`` are ``NAME`` or ``NAME=VALUE`` strings.
    """
    triple, _ = _arch(arch)
    cmd = shlex.split(compiler) if isinstance(compiler, str) else list(compiler)
    if 'clang' in basename(cmd[0]):
        cmd.append(f'--target={triple}')
    cmd += DEBUG_FLAGS
    cmd += [f'-I{path}' for path in include_dirs]
    cmd += [f'-D{define}' for define in defines]
    cmd += list(extra_flags)
    cmd += ['-c', str(c_file), '-o', str(obj_file)]
    _run(cmd)
    _check_machine(obj_file, arch)


def _offset_bits(match):
    return int(match['byte']) * 8 + int(match['bit'] or 0)


def _parse_member(line):
    match = _MEMBER.match(line)
    decl = _DECL.match(match['decl'].strip()) if match else None
    if not decl:
        raise PaholeError(f'cannot parse pahole member line: {line!r}')
    width = decl['width']
    return _Field(decl['name'], decl['type'].strip(), decl['dims'],
                  None if width is None else int(width), _offset_bits(match),
                  int(match['size']))


def _close(node, line):
    """Complete ``node`` from its closing line ``} name[dims]; /* offset size */``."""
    match = _CLOSE.match(line)
    decl = _AGG_DECL.match(match['decl'].strip()) if match else None
    if not decl:
        raise PaholeError(f'cannot parse pahole closing line: {line!r}')
    node.name, node.dims = decl['name'], decl['dims']
    if match['size'] is not None:
        node.offset, node.size = _offset_bits(match), int(match['size'])
        node.is_member = True


def parse_layouts(text):
    """Parse pahole layout output into ``{tag: _Aggregate}`` for the tagged records."""
    records, stack = {}, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _COMMENT_LINE.match(line) or _PADDING.match(line):
            continue
        if opened := _OPEN.match(line):
            stack.append(_Aggregate(opened['kind'], opened['tag']))
        elif line.startswith('}') and stack:
            node = stack.pop()
            _close(node, line)
            if stack:
                stack[-1].children.append(node)
            elif node.tag in records:
                raise PaholeError(f'record {node.tag} is defined more than once')
            elif node.tag:
                records[node.tag] = node
        elif stack:
            stack[-1].children.append(_parse_member(line))
        else:
            raise PaholeError(f'unexpected pahole line outside a record: {line!r}')
    if stack:
        raise PaholeError('pahole output ends inside a record')
    return records


def _members(node):
    return [child for child in node.children
            if isinstance(child, _Field) or child.is_member]


def _repair_full_width_bitfields(node):
    """Undo clang's flooring of packed full-width bitfields (see module docstring)."""
    prev_end = None
    for child in _members(node):
        if node.kind == 'struct' and prev_end is not None and child.offset < prev_end:
            if not (isinstance(child, _Field) and child.width is None and prev_end % 8
                    and child.offset == prev_end - prev_end % 8):
                raise PaholeError(f'member {child.name or "<anonymous>"} overlaps its '
                                  f'predecessor in struct {node.tag or "<untagged>"}')
            child.offset, child.width = prev_end, child.size * 8
        if isinstance(child, _Aggregate) and not child.tag:
            _repair_full_width_bitfields(child)
        prev_end = child.offset + child.bits


def normalise_type(ctype, typedefs=DEFAULT_TYPEDEFS):
    """Normalise a C type spelling per docs/facts-format.md (LP64: ``long`` is 64-bit)."""
    words = [w for w in ctype.replace('*', ' * ').split() if w not in ('const', 'volatile')]
    if words and words[-1] == '*':
        return normalise_type(' '.join(words[:-1]), typedefs) + ' *'
    spelled = ' '.join(words)
    if spelled in typedefs:
        return typedefs[spelled]
    if words == ['_Bool']:
        return 'bool'
    if words and set(words) <= _INT_WORDS:
        return _integer_type(words)
    return spelled


def _integer_type(words):
    sign = 'u' if 'unsigned' in words else 's'
    if 'char' in words:
        return 'char' if len(words) == 1 else f'{sign}8'
    if '__int128' in words:
        return f'{sign}128'
    if 'short' in words:
        return f'{sign}16'
    return f'{sign}64' if 'long' in words else f'{sign}32'


def _member_fact(node, path, typedefs):
    fact = {'path': path, 'offset': node.offset, 'bits': node.bits}
    if isinstance(node, _Aggregate):
        ctype = f'{node.kind} {node.tag}' if node.tag else node.kind
    else:
        ctype = normalise_type(node.ctype, typedefs)
        # A byte-aligned full-width bitfield lays out like a plain member, and clang's
        # DWARF cannot tell them apart, so only report bitfields that differ in layout.
        if node.width is not None and (node.width != node.size * 8 or node.offset % 8):
            fact['bitfield'] = True
    # A flexible array prints as "[]", or as "[0]" on a clang-built untagged struct.
    fact['type'] = ctype + re.sub(r'^\[0\]', '[]', node.dims)
    return fact


def _flatten(node, prefix, typedefs):
    """Yield member facts in declaration order through anonymous/untagged levels."""
    for child in _members(node):
        if isinstance(child, _Aggregate) and not child.name:
            yield from _flatten(child, prefix, typedefs)
            continue
        path = prefix + child.name
        yield _member_fact(child, path, typedefs)
        if isinstance(child, _Aggregate) and not child.tag and not child.dims:
            yield from _flatten(child, path + '.', typedefs)


def record_facts(node, size, typedefs=DEFAULT_TYPEDEFS):
    """The facts record for a tagged ``node`` from parse_layouts()."""
    _repair_full_width_bitfields(node)
    return {'kind': node.kind, 'size': size, 'members': list(_flatten(node, '', typedefs))}


def _read_sizes(obj_file):
    """``pahole -s`` sizes; layouts lack a size trailer for unions."""
    sizes = {}
    for line in _run([*PAHOLE, '-s', str(obj_file)]).splitlines():
        name, size, _ = line.split('\t')
        sizes[name] = int(size)
    return sizes


def read_records(obj_file, names=None, arch='x86_64', typedefs=None):
    """Return facts ``records`` for ``names`` (default: every tagged struct/union).

    ``typedefs`` maps typedef names to normalised types and extends DEFAULT_TYPEDEFS; it
    only matters where pahole -E leaves a typedef name (qualified or pointer types).
    Records carry ``kind``, ``size`` and ``members`` but no ``align`` (see module docs).
    A member pahole prints in a form not parsed here (a function pointer) raises.
    """
    _check_machine(obj_file, arch)
    table = {**DEFAULT_TYPEDEFS, **(typedefs or {})}
    wanted = sorted(set(names)) if names else None
    cmd = [*PAHOLE, *LAYOUT_FLAGS, str(obj_file)]
    if wanted:
        cmd[-1:-1] = ['-C', ','.join(wanted)]
    layouts = parse_layouts(_run(cmd))
    sizes = _read_sizes(obj_file)
    wanted = wanted or sorted(layouts)
    missing = [name for name in wanted if name not in layouts or name not in sizes]
    if missing:
        raise PaholeError(f'{obj_file}: no struct/union named {", ".join(missing)}')
    return {tag: record_facts(layouts[tag], sizes[tag], table) for tag in wanted}


def read_facts(obj_file, names=None, arch='x86_64', typedefs=None):
    """A facts document holding only ``records``."""
    return {'format': FORMAT, 'arch': arch, 'source': f'pahole -F dwarf: {obj_file}',
            'records': read_records(obj_file, names, arch, typedefs)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--arch', choices=sorted(ARCHES), default='x86_64')
    parser.add_argument('obj')
    parser.add_argument('names', nargs='*', help='record tags (default: all)')
    args = parser.parse_args(argv)
    try:
        facts = read_facts(args.obj, args.names or None, args.arch)
    except PaholeError as exc:
        sys.exit(f'pahole_facts: {exc}')
    json.dump(facts, sys.stdout, indent=2)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
