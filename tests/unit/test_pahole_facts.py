"""Tests for hvabi.extract.pahole_facts.

The oracle is clang's own record layout (``-Xclang -fdump-record-layouts``), which prints
``byte:firstbit-lastbit`` for every bitfield; expected facts are derived from it here,
independently of pahole, and compared with the facts read from gcc and clang objects for
x86_64 and arm64.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from hvabi.extract import pahole_facts as pf

CORPUS = r'''
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef u64 __u64;
enum color { RED, GREEN };

union reg64 {                           /* raw view first */
	u64 as_uint64;
	struct { u64 enable:1; u64 rsvd:62; u64 last:1; } __attribute__((packed));
};
union reg32 {                           /* raw view last */
	struct { u32 lo:12; u32 mid:8; u32 hi:12; };
	u32 as_uint32;
};
union reg8 { u8 as_uint8; struct { u8 p:1; u8 q:3; u8 r:4; }; };
union reg128 {                          /* y: full width at bit 1 */
	u64 as_uint64[2];
	struct { u64 x:1; u64 y:64; u64 z:63; } __attribute__((packed));
};
struct straddle_packed { u8 x; u64 y:4; u64 z:60; } __attribute__((packed));
struct straddle_natural { u8 x; u64 y:4; u64 z:60; };
typedef struct straddle_natural sn_t;
struct field_then_bits { u32 f; u32 a:3; u32 b:29; };
struct named_untagged {
	u64 hdr;
	struct { u32 id:24; u32 r:8; } __attribute__((packed)) u;
	u16 tail;
};
struct plain_then_union {
	u64 hdr;
	u32 pad;
	union { u64 raw; struct { u64 m:7; u64 n:57; } __attribute__((packed)); };
};
struct deep4 {
	u32 h;
	union {
		__u64 raw;
		struct {
			u16 k;
			union {
				u32 r2;
				struct {
					u8 z0;
					struct { u32 d1:5; u32 d2:11; u32 d3:16; };
				} __attribute__((packed));
			};
		} __attribute__((packed));
	};
	u8 after;
};
typedef u16 hv_pci_rid;                 /* -E resolves it to unsigned short */
struct flex { u32 n; u32 flags:4; hv_pci_rid rid; u64 data[]; };
struct flex_untagged { u64 hdr; struct { u32 name; u64 value; } element[]; };
struct flex_zero { u16 n; u8 data[0]; };
struct array_of_structs {
	u32 n;
	struct straddle_natural items[3];
	union reg64 regs[2];
	u64 raw[30];
	union reg32 one;
	sn_t two;
};
struct full_width_packed {              /* y, w, a: full width at odd bits */
	u64 x:12; u8 y:8; u16 w:16; u32 a:32; u64 z:28;
} __attribute__((packed));
struct full_width_aligned { u32 a:32; u16 b:16; u8 c:8; u8 d:1; };
struct c_spelled {
	unsigned long a;
	long long b;
	unsigned short c:9;
	_Bool d:1;
	signed char e;
	char f;
	unsigned char g:3;
	const volatile u32 cv;
	volatile u64 v;
	enum color h:2;
	enum color i;
	char s[3][4];
};
'''

TAGS = ('reg64', 'reg32', 'reg8', 'reg128', 'straddle_packed', 'straddle_natural',
        'field_then_bits', 'named_untagged', 'plain_then_union', 'deep4', 'flex',
        'flex_untagged', 'flex_zero', 'array_of_structs', 'full_width_packed',
        'full_width_aligned', 'c_spelled')
KINDS = {tag: 'union' if tag.startswith('reg') else 'struct' for tag in TAGS}

BUILDS = (('gcc', 'x86_64'), ('clang', 'x86_64'),
          ('aarch64-linux-gnu-gcc', 'arm64'), ('clang', 'arm64'))
TOOLS = ('pahole', 'gcc', 'clang', 'aarch64-linux-gnu-gcc')

# How the oracle's type spellings normalise (by hand, not through the module).
ORACLE_TYPES = {
    'u8': ('u8', 1), 'u16': ('u16', 2), 'u32': ('u32', 4), 'u64': ('u64', 8),
    '__u64': ('u64', 8), 'unsigned long': ('u64', 8), 'long long': ('s64', 8),
    'unsigned short': ('u16', 2), '_Bool': ('bool', 1), 'signed char': ('s8', 1),
    'char': ('char', 1), 'unsigned char': ('u8', 1), 'const volatile u32': ('u32', 4),
    'volatile u64': ('u64', 8), 'hv_pci_rid': ('u16', 2),
    'enum color': ('enum color', 4), 'sn_t': ('struct straddle_natural', 16),
}

_DUMP_MEMBER = re.compile(
    r'^\s*(?P<byte>\d+)(?::(?P<first>\d+)-(?P<last>\d+))? \| (?P<text>.*)$')
_DUMP_SIZE = re.compile(r'^\s*\| \[sizeof=(?P<size>\d+),', re.M)
_ARRAY = re.compile(r'^(?P<elem>.*)\[(?P<count>\d*)\]$')


def parse_layout_dump(text):
    """clang's dump as ``{record type spelling: (size, [member line matches])}``."""
    layouts = {}
    for block in text.split('*** Dumping AST Record Layout')[1:]:
        header, *members = filter(None, map(_DUMP_MEMBER.match, block.splitlines()))
        layouts[header['text'].strip()] = (int(_DUMP_SIZE.search(block)['size']), members)
    return layouts


def oracle_type(ctype, layouts):
    """(normalised type, size in bytes) for a type as clang's dump spells it."""
    array = _ARRAY.match(ctype)
    if array:
        elem, size = oracle_type(array['elem'], layouts)
        count = int(array['count'] or 0)
        return f'{elem}[{count or ""}]', size * count
    if '(' in ctype:  # "struct T::(unnamed at F:L:C)" or "struct (unnamed struct at F:L:C)"
        where = ctype[ctype.rindex(' at '):]
        size = next(size for name, (size, _) in layouts.items() if name.endswith(where))
        return ctype.split()[0], size
    if ctype in layouts:
        return ctype, layouts[ctype][0]
    return ORACLE_TYPES[ctype]


def split_member(text):
    """``type name`` -> (type, name); anonymous records end in ``)`` and have no name."""
    text = text.strip()
    if text.endswith(')'):
        return text, ''
    ctype, name = text.rsplit(' ', 1)
    return ctype, name


def oracle_member(match, ctype, path, layouts):
    norm, size = oracle_type(ctype, layouts)
    offset = int(match['byte']) * 8 + int(match['first'] or 0)
    fact = {'path': path, 'offset': offset, 'bits': size * 8}
    if match['first'] is not None:
        fact['bits'] = int(match['last']) - int(match['first']) + 1
        if fact['bits'] != size * 8 or offset % 8:
            fact['bitfield'] = True
    fact['type'] = norm
    return fact


def oracle_members(members, layouts):
    """Flatten the dump's indented member tree per docs/facts-format.md."""
    facts, scopes, skip_below = [], [(0, '')], None
    for match in members:
        text = match['text']
        depth = (len(text) - len(text.lstrip())) // 2
        if skip_below is not None and depth > skip_below:
            continue
        skip_below = None
        while scopes[-1][0] >= depth:
            scopes.pop()
        prefix = scopes[-1][1]
        ctype, name = split_member(text)
        if name:
            facts.append(oracle_member(match, ctype, prefix + name, layouts))
        if 'anonymous at' in ctype:
            scopes.append((depth, prefix))
        elif 'unnamed at' in ctype and not ctype.endswith(']'):
            scopes.append((depth, prefix + name + '.'))
        else:
            skip_below = depth
    return facts


def oracle_records(dump):
    layouts = parse_layout_dump(dump)
    records = {}
    for tag in TAGS:
        size, members = layouts[f'{KINDS[tag]} {tag}']
        records[tag] = {'kind': KINDS[tag], 'size': size,
                        'members': oracle_members(members, layouts)}
    return records


@unittest.skipUnless(all(shutil.which(tool) for tool in TOOLS), 'toolchain missing')
class PaholeFactsAgainstClangLayout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        src = os.path.join(cls.tmp.name, 'corpus.c')
        with open(src, 'w') as out:
            out.write(CORPUS)
        cls.objects = {}
        for compiler, arch in BUILDS:
            obj = os.path.join(cls.tmp.name, f'{compiler}-{arch}.o')
            pf.compile_object(src, obj, compiler, arch)
            cls.objects[compiler, arch] = obj
        cls.oracle = {arch: oracle_records(cls._layout_dump(arch)) for arch in pf.ARCHES}

    @classmethod
    def _layout_dump(cls, arch):
        # clang dumps only layouts it computes, so force each record's with sizeof.
        forcing = os.path.join(cls.tmp.name, 'force.c')
        with open(forcing, 'w') as out:
            sizes = ' + '.join(f'sizeof({KINDS[tag]} {tag})' for tag in TAGS)
            out.write(f'#include "corpus.c"\nchar force[{sizes}];\n')
        triple, _ = pf.ARCHES[arch]
        return subprocess.run(
            ['clang', f'--target={triple}', '-fsyntax-only', '-Xclang',
             '-fdump-record-layouts', forcing],
            capture_output=True, text=True, check=True).stdout

    def test_records_match_clang_layout(self):
        for (compiler, arch), obj in self.objects.items():
            records = pf.read_records(obj, TAGS, arch=arch)
            for tag in TAGS:
                with self.subTest(compiler=compiler, arch=arch, record=tag):
                    self.assertEqual(records[tag], self.oracle[arch][tag])

    def test_oracle_sanity(self):
        # Guards the oracle itself against silently agreeing with a wrong parse.
        members = {m['path']: m for m in self.oracle['x86_64']['deep4']['members']}
        self.assertEqual(members['d2'], {'path': 'd2', 'offset': 93, 'bits': 11,
                                         'bitfield': True, 'type': 'u32'})
        members = {m['path']: m for m in self.oracle['arm64']['reg128']['members']}
        self.assertEqual(members['y']['offset'], 1)

    def test_all_records_by_default(self):
        obj = self.objects['clang', 'arm64']
        self.assertEqual(sorted(pf.read_records(obj, arch='arm64')), sorted(TAGS))

    def test_missing_record_raises(self):
        with self.assertRaisesRegex(pf.PaholeError, 'no_such'):
            pf.read_records(self.objects['gcc', 'x86_64'], ['reg64', 'no_such'])

    def test_wrong_arch_raises(self):
        with self.assertRaisesRegex(pf.PaholeError, 'ELF machine'):
            pf.read_records(self.objects['gcc', 'x86_64'], arch='arm64')

    def test_object_arch_reads_the_elf_machine(self):
        for (compiler, arch), obj in self.objects.items():
            with self.subTest(compiler=compiler, arch=arch):
                self.assertEqual(pf.object_arch(obj), arch)
        with self.assertRaisesRegex(pf.PaholeError, 'not an ELF object'):
            pf.object_arch(__file__)

    def test_compile_error_carries_stderr(self):
        bad = os.path.join(self.tmp.name, 'bad.c')
        with open(bad, 'w') as out:
            out.write('struct broken { int x }\n')
        with self.assertRaisesRegex(pf.PaholeError, r"bad\.c:1:\d+: error:"):
            pf.compile_object(bad, bad + '.o', 'gcc', 'x86_64')

    def test_cli_prints_facts(self):
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(
            os.path.dirname(pf.__file__))))
        out = subprocess.run(
            [sys.executable, '-m', 'hvabi.extract.pahole_facts', '--arch', 'arm64',
             self.objects['aarch64-linux-gnu-gcc', 'arm64'], 'reg64'],
            capture_output=True, text=True, check=True, env=env).stdout
        facts = json.loads(out)
        self.assertEqual((facts['format'], facts['arch']), ('hvabi-facts/1', 'arm64'))
        self.assertEqual(facts['records'], {'reg64': self.oracle['arm64']['reg64']})


class ParseLayouts(unittest.TestCase):
    """pahole output quirks, on canned text."""

    CLANG_STYLE = '''\
union r {
\t/* typedef u64 */ unsigned long long         raw[2];          /*     0    16 */
\tstruct {
\t\t/* typedef u64 */ unsigned long long x:1;                  /*     0: 0  8 */

\t\t/* XXX 255 bits hole, try to pack */

\t\t/* typedef u64 */ unsigned long long y;                    /*     0     8 */

\t\t/* Force alignment to the next boundary: */
\t\t/* typedef u64 */ unsigned long long :0;

\t\t/* typedef u64 */ unsigned long long z:63;                 /*     8: 1  8 */
\t};                                                            /*     0    16 */
\tstruct {
\t\t/* typedef u64 */ unsigned long long x:1;                  /*     0: 0  8 */
\t};

};
'''

    def members(self, text, tag='r'):
        return pf.record_facts(pf.parse_layouts(text)[tag], 16)['members']

    def test_type_definition_blocks_and_padding_are_skipped(self):
        self.assertEqual([m['path'] for m in self.members(self.CLANG_STYLE)],
                         ['raw', 'x', 'y', 'z'])

    def test_floored_full_width_bitfield_is_repaired(self):
        y = self.members(self.CLANG_STYLE)[2]
        self.assertEqual(y, {'path': 'y', 'offset': 1, 'bits': 64, 'bitfield': True,
                             'type': 'u64'})

    def test_unexplained_overlap_raises(self):
        text = ('struct s {\n\tint a; /* 0 4 */\n\tint b; /* 2 4 */\n'
                '\n\t/* size: 8 */\n};\n')
        with self.assertRaisesRegex(pf.PaholeError, 'overlaps'):
            self.members(text, 's')

    def test_unparsable_line_raises(self):
        with self.assertRaisesRegex(pf.PaholeError, 'cannot parse'):
            pf.parse_layouts('struct s {\n\tvoid (*fn)(int); /* 0 8 */\n};\n')


class NormaliseType(unittest.TestCase):
    def test_spellings(self):
        cases = {
            'long long unsigned int': 'u64', 'unsigned long long': 'u64',
            'long unsigned int': 'u64', 'unsigned long': 'u64', 'long int': 's64',
            'short unsigned int': 'u16', 'unsigned short': 'u16', 'short': 's16',
            'unsigned int': 'u32', 'int': 's32', 'unsigned': 'u32', 'signed char': 's8',
            'unsigned char': 'u8', 'char': 'char', '_Bool': 'bool', 'bool': 'bool',
            '__int128 unsigned': 'u128', '__u64': 'u64', 'u32': 'u32', '__le16': 'u16',
            'int32_t': 's32', 'volatile const u32': 'u32', 'u64 *': 'u64 *',
            'struct foo': 'struct foo', 'enum E': 'enum E', 'hv_opaque': 'hv_opaque',
        }
        for spelled, expected in cases.items():
            with self.subTest(spelled=spelled):
                self.assertEqual(pf.normalise_type(spelled), expected)

    def test_extra_typedefs(self):
        table = {**pf.DEFAULT_TYPEDEFS, 'hv_gpa': 'u64'}
        self.assertEqual(pf.normalise_type('const hv_gpa', table), 'u64')


if __name__ == '__main__':
    unittest.main()
