#!/usr/bin/python3
"""How far the exported headers are from upstream's, token by token.

For each file `hvabi export` writes, compare the C token stream of our header (as exported:
the generated header without its stamp line) with upstream's, comments removed:

  Linux 7.3 include/hyperv/*.h    vs the hdk-kernel product   (--linux-src)
  Linux 6.12 hyperv-tlfs.h trio   vs the tlfs product         (--tlfs-src)
  rust-vmm/mshv hv-headers/*.h    vs the hdk-uapi product     (--rust-vmm DIR, optional)

Definitions the spec marks `ahead` for the product's profile (no upstream copy has them
yet: whole definitions, constants and enumerators) are taken out of our side first and
counted apart, with any `#if` block they leave empty: the target is a distance of 0
outside them. Then print per file the tokens ours / upstream, the tokens that differ (difflib opcodes over
the token texts) in how many hunks, and the most frequent kinds of difference (a hunk is
classified by what it holds: `#if defined(CONFIG_X86)` vs `IS_ENABLED`, DECLARE_FLEX_ARRAY,
a number spelled differently, a definition in another place, ...). Then the line diff
upstream -> ours as `git diff --stat` counts it (git diff --no-index --numstat), and the
lines over 80 columns (tabs at 8) in ours and upstream's.

  tools/token_diff.py                   the table and the top kinds per file
  tools/token_diff.py --hunks [FILE]    also every hunk, with both sides' tokens, named
  tools/token_diff.py --draft           also the unexplained ones as reasons-file entries

Each difference (a hunk of the structured comparison) is filed under a kind and the
definition it is in; tests/reference/token-diff-reasons.yaml gives, per exported file, the
reason for each (kind, definition) that remains. The table counts per file the tokens of
differences explained there and UNEXPLAINED ones.

The tokenizer is a small C tokenizer: comments and backslash-newlines removed,
preprocessor directives end in a `<eol>` token (so `#define A 1` and `#define A` `1` on
the next line differ), `#include <a/b.h>` keeps `<a/b.h>` as one token.
Exit status 0; 1 if a difference of a Linux file has no reason or a reason matches no
difference (stale); 2 if an upstream tree or the reasons file is missing or malformed.
rust-vmm's files (--rust-vmm) are reported, not checked.
"""

import argparse
import collections
import difflib
import pathlib
import re
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "gen"))
from hvabi.emit import stamp  # noqa: E402  (the exported text: the stamp line removed)

# (label, our root, our path, upstream root option, upstream path)
HDK = ["hvgdk_mini", "hvgdk_ext", "hvgdk", "hvhdk_mini", "hvhdk"]
TRIO = ["include/asm-generic/hyperv-tlfs.h", "arch/x86/include/asm/hyperv-tlfs.h",
        "arch/arm64/include/asm/hyperv-tlfs.h"]

# --- tokenizer -------------------------------------------------------------------------------

PUNCT = sorted("""... <<= >>= -> ++ -- << >> <= >= == != && || *= /= %= += -= &= ^= |= ## :: 
               [ ] ( ) { } . & * + - ~ ! / % < > ^ | ? : ; = , #""".split(), key=len, reverse=True)
TOKEN = re.compile(r"""
    (?P<space>[ \t\f\v\r]+)
  | (?P<splice>\\\n)
  | (?P<newline>\n)
  | (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>L?"(?:\\.|[^"\\\n])*"|L?'(?:\\.|[^'\\\n])*')
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[0-9A-Za-z_.])*)
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<punct>""" + "|".join(re.escape(p) for p in PUNCT) + r""")
  | (?P<other>.)
""", re.S | re.X)
HEADER_NAME = re.compile(r"[ \t]*(<[^>\n]*>)")


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return self.text


def tokenize(text):
    """C tokens of `text` with line numbers; comments dropped, directives end in <eol>."""
    out, pos, line, bol, directive = [], 0, 1, True, False
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind, value = m.lastgroup, m.group()
        pos = m.end()
        if kind == "newline":
            if directive:
                out.append(Tok("eol", "<eol>", line))
                directive = False
            line += 1
            bol = True
            continue
        if kind == "space":
            continue
        if kind == "splice":            # a directive goes on; only the line count moves
            line += 1
            continue
        if kind == "comment":
            line += value.count("\n")
            continue
        if kind == "punct" and value == "#" and bol:
            directive = True
            out.append(Tok("directive", "#", line))
            # `#include <...>`: the header name is one token
            name = re.compile(r"[ \t]*include\b").match(text, pos)
            if name:
                out.append(Tok("ident", "include", line))
                pos = name.end()
                header = HEADER_NAME.match(text, pos)
                if header:
                    out.append(Tok("header", header.group(1), line))
                    pos = header.end()
            bol = False
            continue
        bol = False
        out.append(Tok(kind, value, line))
    if directive:
        out.append(Tok("eol", "<eol>", line))
    return out


# --- classifying a hunk ----------------------------------------------------------------------

def _texts(toks):
    return [t.text for t in toks]


def _number(text):
    try:
        return int(text.rstrip("uUlL"), 0)
    except ValueError:
        return None


def classify(tag, ours, theirs, item_ours, item_theirs):
    """The kind of one difference inside an item both sides have (lists of Tok: the hunk's
    tokens on each side, and the whole items)."""
    a, b = _texts(ours), _texts(theirs)
    both = a + b
    whole = _texts(item_ours) + _texts(item_theirs)
    for toks in (a, b):
        for k, t in enumerate(toks[:-1]):
            if t == "#" and toks[k + 1] in ("if", "ifdef", "ifndef", "elif", "else", "endif") \
                    and not ("IS_ENABLED" in both and "defined" in both):
                return f"#if/#elif/#else/#endif line only in {'ours' if toks is a else 'upstream'}"
            if t == "#" and toks[k + 1] in ("define", "undef"):
                return f"helper #define / #undef in {'ours' if toks is a else 'upstream'}"
    if "IS_ENABLED" in both and "defined" in both:
        return "#if defined(CONFIG_X) vs IS_ENABLED(CONFIG_X)"
    if "IS_ENABLED" in both or "defined" in both or (whole[:1] == ["#"] and any(
            t.startswith("CONFIG_") for t in both)):
        return "#if/#ifdef/#elif condition spelling"
    if "DECLARE_FLEX_ARRAY" in both:
        return "flexible array: DECLARE_FLEX_ARRAY() vs []"
    if {"__packed", "__attribute__", "packed"} & set(both):
        return "__packed / __attribute__ placement"
    if {"__aligned", "aligned"} & set(both):
        return "alignment attribute"
    if whole[:2] == ["#", "include"]:
        return "#include lines"
    if set(both) == {","}:
        return "trailing comma"
    if set(both) <= {"(", ")"}:
        return "parentheses"
    if "static_assert" in both:
        return "static_assert"
    if len(a) == len(b) == 1 and ours[0].kind == theirs[0].kind == "number":
        x, y = _number(a[0]), _number(b[0])
        return "number spelling (same value)" if x is not None and x == y else "number value"
    if len(a) == len(b) == 1 and ours[0].kind == theirs[0].kind == "ident":
        if a[0].lstrip("_") == b[0].lstrip("_"):
            return "type spelling (u64 vs __u64)"
        if whole[:2] in (["#", "ifndef"], ["#", "define"]) and a[0].endswith("_H"):
            return "include guard name"
        return "name spelling"
    if len(a) == len(b) == 1 and {ours[0].kind, theirs[0].kind} == {"number", "ident"}:
        return "number vs named constant"
    if {"unsigned", "char", "short", "int", "long", "u8", "u16", "u32", "u64", "__u8", "__u16",
            "__u32", "__u64"} >= set(both):
        return "type spelling (u64 vs __u64)"
    if {"BIT", "BIT_ULL", "GENMASK", "GENMASK_ULL", "<<", ">>"} & set(both):
        return "bit / mask expression spelling"
    if whole[:2] == ["#", "define"]:
        return "macro body spelling"
    if tag in ("delete", "insert"):
        side = "ours" if a else "upstream"
        return f"member or tokens only in {side}"
    return "declaration spelling"


# --- per file --------------------------------------------------------------------------------

class Pair:
    def __init__(self, label, ours_text, theirs_text, theirs_path, profile):
        self.label = label
        self.ours_text = ours_text
        self.theirs_text = theirs_text
        self.theirs_path = theirs_path
        self.profile = profile        # whose `ahead` marks apply to our side


def items(toks):
    """Top-level units: a directive (`#` .. `<eol>`) or a declaration (.. `;` at brace
    depth 0); lists of Tok."""
    out, cur, depth, in_directive = [], [], 0, False
    for t in toks:
        cur.append(t)
        if t.kind == "directive" and len(cur) == 1:
            in_directive = True
        elif in_directive:
            if t.kind == "eol":
                out.append(cur)
                cur, in_directive = [], False
        elif t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif t.text == ";" and depth == 0:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def item_name(item):
    """What an item defines, for pairing: `#define NAME`, `struct NAME`, ..., or None."""
    texts = _texts(item)
    if texts[0] == "#":
        if len(texts) > 2 and texts[1] in ("define", "undef", "ifndef", "ifdef", "include"):
            return f"#{texts[1]} {texts[2]}"
        return None
    for i, t in enumerate(texts[:3]):
        if t in ("struct", "union", "enum") and i + 1 < len(texts) and texts[i + 1] not in "{":
            return f"{t} {texts[i + 1]}"
    if texts[0] == "typedef":
        return "typedef " + texts[-2]
    return None


# --- definitions ahead of upstream -------------------------------------------------------

def ahead_names(spec, profile):
    """Names the spec marks `ahead` for `profile`: whole definitions, constants and
    enumerators (a member marked ahead stays in and counts as a difference)."""
    from hvabi import model as m
    out = set()

    def visit(node, inherited):
        ahead = inherited or node.is_ahead(profile)
        if ahead and node.name and not isinstance(node, (m.Field, m.Bitfield)):
            out.add(node.name)
        for child in getattr(node, "items", None) or []:    # constants, enumerators
            visit(child, ahead)

    for entry in spec.entries:
        visit(entry.defn, False)
    return out


def drop_ahead(toks, names):
    """`toks` less the top-level definitions and enumerators named in `names`, and the
    `#if` blocks that leaves empty: (kept tokens, tokens dropped)."""
    kept, dropped = [], 0
    for item in items(toks):
        name = item_name(item)
        if name and name.split()[-1] in names and not name.startswith(("#undef", "#include")):
            dropped += len(item)
            continue
        if name and name.startswith("enum "):
            item, n = _drop_enumerators(item, names)
            dropped += n
        kept.append(item)
    kept, n = _drop_empty_conditionals(kept)
    return [t for item in kept for t in item], dropped + n


def _drop_enumerators(item, names):
    """An enum item less its enumerators in `names` (each up to and with its comma)."""
    out, dropped, i, depth = [], 0, 0, 0
    while i < len(item):
        t = item[i]
        if t.text == "{":
            depth += 1
        elif t.text == "}":
            depth -= 1
        elif depth == 1 and t.kind == "ident" and t.text in names and out and \
                out[-1].text in ("{", ","):
            j, level = i + 1, 0
            while j < len(item) and not (level == 0 and item[j].text in (",", "}")):
                level += item[j].text == "("
                level -= item[j].text == ")"
                j += 1
            if j < len(item) and item[j].text == ",":
                j += 1
            dropped += j - i
            i = j
            continue
        out.append(t)
        i += 1
    return out, dropped


_OPEN = (["#", "if"], ["#", "ifdef"], ["#", "ifndef"])


def _drop_empty_conditionals(units):
    """Remove `#if`/`#elif`/`#else` branches with nothing in them, and a whole `#if` block
    that is left with none (an `#if X` whose only definitions were ahead)."""
    dropped, changed = 0, True
    while changed:
        changed = False
        heads = [_texts(u)[:2] for u in units]
        for i in range(len(units) - 1):
            here, after = heads[i], heads[i + 1]
            if here in _OPEN and after == ["#", "endif"]:
                gone = (i, i + 1)
            elif here in (["#", "else"], ["#", "elif"]) and after in \
                    (["#", "endif"], ["#", "else"], ["#", "elif"]):
                gone = (i,)
            else:
                continue
            dropped += sum(len(units[k]) for k in gone)
            units = [u for k, u in enumerate(units) if k not in gone]
            changed = True
            break
    return units, dropped


class Hunk:
    __slots__ = ("kind", "ours", "theirs", "name", "reason")

    def __init__(self, kind, ours, theirs, name=None):
        self.kind, self.ours, self.theirs, self.name = kind, ours, theirs, name
        self.reason = None

    def size(self):
        return max(len(self.ours), len(self.theirs))


def token_hunks(pair, ahead=frozenset()):
    """Flat difflib opcodes over the two token streams, ours less the definitions in
    `ahead`: (tokens ours, tokens upstream, opcodes, tokens of ours left out as ahead)."""
    a, dropped = drop_ahead(tokenize(pair.ours_text), ahead)
    b = tokenize(pair.theirs_text)
    matcher = difflib.SequenceMatcher(None, _texts(a), _texts(b), autojunk=False)
    return a, b, [op for op in matcher.get_opcodes() if op[0] != "equal"], dropped


def structured(a, b):
    """Differences explained: items matched whole, then moved items, items paired by name
    (or by place) diffed token by token, the rest only on one side. Hunks, in ours' order."""
    ia, ib = items(a), items(b)
    ka, kb = [tuple(_texts(x)) for x in ia], [tuple(_texts(x)) for x in ib]
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    left_a, left_b, blocks = [], [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            blocks.append((list(range(i1, i2)), list(range(j1, j2))))
            left_a += range(i1, i2)
            left_b += range(j1, j2)
    out = []
    # moved: the same item elsewhere on the other side
    spare_b = collections.defaultdict(list)
    for j in left_b:
        spare_b[kb[j]].append(j)
    moved_a, moved_b = set(), set()
    for i in left_a:
        if spare_b.get(ka[i]):
            j = spare_b[ka[i]].pop(0)
            moved_a.add(i)
            moved_b.add(j)
            out.append((i, Hunk("moved (definition order)", ia[i], [], anchor(ia, i))))
    # paired by name anywhere, then by place within a block
    names_b = collections.defaultdict(list)
    for j in left_b:
        if j not in moved_b and item_name(ib[j]):
            names_b[item_name(ib[j])].append(j)
    pairs_ab, used_b = {}, set(moved_b)
    for i in left_a:
        name = item_name(ia[i])
        if i not in moved_a and name and names_b.get(name):
            j = names_b[name].pop(0)
            pairs_ab[i] = j
            used_b.add(j)
    for block_a, block_b in blocks:
        rest_a = [i for i in block_a if i not in moved_a and i not in pairs_ab]
        rest_b = [j for j in block_b if j not in used_b]
        for i, j in zip(rest_a, rest_b):
            if ka[i][:2] == kb[j][:2]:      # same directive, or same leading keyword
                pairs_ab[i] = j
                used_b.add(j)
    for i, j in pairs_ab.items():
        for tag, x1, x2, y1, y2 in _merged(ka[i], kb[j]):
            x, y = ia[i][x1:x2], ib[j][y1:y2]
            out.append((i, Hunk(classify(tag, x, y, ia[i], ib[j]), x, y, anchor(ia, i))))
    for i in left_a:
        if i not in moved_a and i not in pairs_ab:
            out.append((i, Hunk(_only(ia[i], "ours"), ia[i], [], anchor(ia, i))))
    for j in left_b:
        if j not in used_b:
            out.append((_place(j, blocks), Hunk(_only(ib[j], "upstream"), [], ib[j],
                                                 anchor(ib, j))))
    return [h for _, h in sorted(out, key=lambda x: x[0])]


_COND = ("if", "ifdef", "ifndef", "elif", "else", "endif")


def anchor(units, k):
    """The definition name a difference in top-level item `k` of `units` is filed under:
    what the item defines (`HV_X`, `hv_foo`: the name without `#define`/`struct`); for a
    static_assert the first record it names; for an `#if`/`#ifdef` line the next definition
    (the first one it guards), for `#elif`/`#else`/`#endif` the previous one (the last one
    the branch before it holds); for anything else unnamed, its first identifier."""
    texts = _texts(units[k])
    name = item_name(units[k])
    if name and not (texts[0] == "#" and texts[1] in _COND):
        return name.split()[-1]
    if texts[0] == "static_assert":
        for t, nxt in zip(texts, texts[1:]):
            if t == "struct":
                return nxt
    if texts[0] == "#" and len(texts) > 1 and texts[1] in _COND:
        step = 1 if texts[1] in ("if", "ifdef", "ifndef") else -1
        j = k + step
        while 0 <= j < len(units):
            there = _texts(units[j])
            if not (there[0] == "#" and len(there) > 1 and there[1] in _COND):
                return anchor(units, j)
            j += step
        return "-"
    if texts[:2] in (["enum", "{"], ["union", "{"], ["struct", "{"]):
        return texts[2]
    return next((t for t in texts if re.match(r"[A-Za-z_]", t)), "-")


def _merged(a, b):
    """difflib's opcodes between two items, those one equal token apart taken together
    (`u64 v[]` vs `DECLARE_FLEX_ARRAY(u64, v)` is one difference, not three)."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if out and i1 - out[-1][2] <= 1 and j1 - out[-1][4] <= 1:
            out[-1] = ("replace", out[-1][1], i2, out[-1][3], j2)
        else:
            out.append((tag, i1, i2, j1, j2))
    return out


def _place(j, blocks):
    for block_a, block_b in blocks:
        if j in block_b:
            return block_a[0] if block_a else -1
    return -1


def _only(item, side):
    texts = _texts(item)
    if texts[:2] in (["#", "if"], ["#", "ifdef"], ["#", "elif"], ["#", "else"], ["#", "endif"]):
        return f"#if/#elif/#else/#endif line only in {side}"
    if texts[0] == "#":
        return f"#{texts[1] if len(texts) > 1 else ''} only in {side}"
    name = item_name(item)
    if name:
        return f"{name.split()[0]} only in {side}"
    if texts[0] == "static_assert":
        return f"static_assert only in {side}"
    return f"declaration only in {side}"


def numstat(pair):
    """(+, -) lines from upstream to ours, as git diff counts them."""
    with tempfile.TemporaryDirectory(prefix="hvabi-token-diff-") as tmp:
        ours, theirs = pathlib.Path(tmp, "ours"), pathlib.Path(tmp, "theirs")
        ours.write_text(pair.ours_text, encoding="utf-8")
        theirs.write_text(pair.theirs_text, encoding="utf-8")
        run = subprocess.run(["git", "diff", "--no-index", "--numstat", str(theirs), str(ours)],
                             capture_output=True, text=True)
    if not run.stdout.strip():
        return 0, 0
    added, removed, _ = run.stdout.split("\t", 2)
    return int(added), int(removed)


def over_80(text):
    return sum(1 for line in text.splitlines() if len(line.expandtabs(8)) > 80)


def pairs(args):
    def ours(rel):
        return stamp.remove((REPO / rel).read_text(encoding="utf-8"))

    out = []
    linux = pathlib.Path(args.linux_src)
    for name in HDK:
        up = linux / "include/hyperv" / f"{name}.h"
        out.append(Pair(f"include/hyperv/{name}.h", ours(f"include/hvhdk/include/hyperv/{name}.h"),
                        _read(up), up, "linux"))
    tlfs = pathlib.Path(args.tlfs_src)
    for rel in TRIO:
        out.append(Pair(f"6.12 {rel}", ours(f"include/hyperv-tlfs/{rel}"), _read(tlfs / rel),
                        tlfs / rel, "tlfs"))
    if args.rust_vmm:
        hv = pathlib.Path(args.rust_vmm)
        for name in HDK:
            up = hv / f"{name}.h"
            if up.exists():
                out.append(Pair(f"hv-headers/{name}.h", ours(f"include/uapi/hyperv/{name}.h"),
                                _read(up), up, "rust-vmm"))
    if args.files:
        out = [p for p in out if any(f in p.label for f in args.files)]
    return out


def _read(path):
    try:
        return pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as e:
        print(f"token_diff.py: {path}: {e.strerror}\n  hint: ./setup extracts Linux 7.3 and"
              " 6.12 under build/kernel (--linux-src, --tlfs-src)", file=sys.stderr)
        sys.exit(2)


# --- the reasons for what remains -----------------------------------------------------------

REASONS = REPO / "tests/reference/token-diff-reasons.yaml"


def load_reasons(path):
    """{file label: [(kind, frozenset(names), reason)]} from the reasons file; exit 2 with
    the entry at fault on a malformed one."""
    import yaml

    def bad(where, why):
        print(f"token_diff.py: {path}: {where}: {why}\n  hint: each file label maps to a list"
              " of {kind: ..., names: [...], reason: ...}", file=sys.stderr)
        sys.exit(2)

    try:
        data = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        bad("-", e.strerror)
    except yaml.YAMLError as e:
        bad(str(getattr(e, "problem_mark", "-")).strip(), "not YAML")
    if not isinstance(data, dict):
        bad("top level", "not a mapping of file labels")
    out = {}
    for label, entries in data.items():
        if not isinstance(entries, list):
            bad(label, "not a list of entries")
        out[label] = []
        for n, e in enumerate(entries, 1):
            where = f"{label} entry {n}"
            if not isinstance(e, dict) or set(e) != {"kind", "names", "reason"}:
                bad(where, "needs exactly the keys kind, names, reason")
            if not isinstance(e["kind"], str) or not isinstance(e["reason"], str) \
                    or not e["reason"].strip():
                bad(where, "kind and reason must be non-empty strings")
            names = e["names"]
            if not isinstance(names, list) or not names or \
                    not all(isinstance(x, str) for x in names):
                bad(where, "names must be a non-empty list of definition names")
            out[label].append((e["kind"], frozenset(names), e["reason"].strip()))
    return out


def explain(label, hunks, reasons):
    """Set each hunk's reason from the entries for `label`; the (kind, name) pairs of the
    entries that no hunk used (stale)."""
    entries = reasons.get(label, [])
    used = set()
    for h in hunks:
        for kind, names, reason in entries:
            if h.kind == kind and h.name in names:
                h.reason = reason
                used.add((kind, h.name))
                break
    return [(kind, name) for kind, names, _ in entries for name in sorted(names)
            if (kind, name) not in used]


def _side(toks, limit):
    text = " ".join(_texts(toks))
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", metavar="FILE", help="only files whose label holds FILE")
    p.add_argument("--linux-src", default=str(REPO / "build/kernel/linux-source-7.3"))
    p.add_argument("--tlfs-src", default=str(REPO / "build/kernel/linux-source-6.12"))
    p.add_argument("--rust-vmm", metavar="DIR", help="also rust-vmm/mshv's hv-headers/ in DIR")
    p.add_argument("--spec", default=str(REPO / "spec"),
                   help="the spec whose `ahead` marks are left out (default: the repo's)")
    p.add_argument("--hunks", action="store_true", help="list every hunk")
    p.add_argument("--reasons", default=str(REASONS),
                   help="the committed reasons for the remaining differences (default:"
                        " tests/reference/token-diff-reasons.yaml)")
    p.add_argument("--draft", action="store_true",
                   help="print the unexplained differences as reasons-file entries to fill in")
    p.add_argument("--top", type=int, default=6, help="kinds listed per file (default %(default)s)")
    p.add_argument("--width", type=int, default=160,
                   help="with --hunks: truncate each side to this many characters (0: never)")
    args = p.parse_args()

    def row(label, ah, a, b, da, db, h, ex, un, add, rem, oa, ob):
        return (f"{label:<40} {ah:>6} {f'{a}/{b}':>12} {f'{da}/{db}':>10} {h:>6} {ex:>9}"
                f" {un:>11} {f'+{add}/-{rem}':>12} {f'{oa}/{ob}':>8}")

    reasons = load_reasons(args.reasons)
    stale_all, unexplained_all, draft = [], 0, collections.defaultdict(list)

    from hvabi.spec.loader import load_spec
    spec_dir = pathlib.Path(args.spec)
    spec = load_spec(spec_dir, spec_dir.resolve().parent)
    ahead = {}
    rows, totals, kinds_all, hunks_all, details = [], [0] * 12, collections.Counter(), \
        collections.Counter(), []
    for pair in pairs(args):
        if pair.profile not in ahead:
            ahead[pair.profile] = ahead_names(spec, pair.profile)
        a, b, ops, dropped = token_hunks(pair, ahead[pair.profile])
        add, rem = numstat(pair)
        explained = structured(a, b)
        checked = pair.profile != "rust-vmm"        # rust-vmm's copy: reported, not checked
        if checked:
            stale_all += [(pair.label, kind, name) for kind, name in
                          explain(pair.label, explained, reasons)]
        unexplained = [h for h in explained if h.reason is None]
        if checked:
            unexplained_all += len(unexplained)
            for h in unexplained:
                if h.name not in draft[(pair.label, h.kind)]:
                    draft[(pair.label, h.kind)].append(h.name)
        figures = [dropped, len(a), len(b), sum(i2 - i1 for _, i1, i2, _, _ in ops),
                   sum(j2 - j1 for _, _, _, j1, j2 in ops), len(ops),
                   sum(h.size() for h in explained if h.reason),
                   sum(h.size() for h in unexplained), add, rem,
                   over_80(pair.ours_text), over_80(pair.theirs_text)]
        rows.append(row(pair.label, *figures))
        totals = [x + y for x, y in zip(totals, figures)]
        kinds = collections.Counter()
        for h in explained:
            kinds[h.kind] += h.size()
        kinds_all.update(kinds)
        hunks_all.update(h.kind for h in explained)
        details.append((pair, explained, kinds))
    print("ahead: tokens of ours left out, definitions the spec marks ahead of upstream;")
    print("tokens: C tokens compared, comments removed, ours/upstream; differ: tokens in")
    print("difflib's non-equal opcodes (ours/upstream); lines: git diff --numstat upstream")
    print("-> ours, whole files; >80: lines over 80 columns (tabs at 8), ours/upstream;")
    print("explained / UNEXPLAINED: tokens of the differences (definitions matched whole or")
    print(f"by name, then diffed) with / without a reason in {_rel(args.reasons)}\n")
    print(f"{'file':<40} {'ahead':>6} {'tokens':>12} {'differ':>10} {'hunks':>6} {'explained':>9}"
          f" {'UNEXPLAINED':>11} {'lines +/-':>12} {'>80':>8}")
    print("\n".join(rows))
    print(row("total", *totals))
    print("\nkinds of difference, all files (definitions matched whole or by name, then"
          " diffed):")
    for kind, n in kinds_all.most_common():
        print(f"  {n:>6} tokens {hunks_all[kind]:>5} places  {kind}")
    for pair, explained, kinds in details:
        print(f"\n{pair.label} ({pair.theirs_path}): {len(explained)} places differ")
        per_kind = collections.Counter(h.kind for h in explained)
        for kind, n in kinds.most_common(args.top):
            h = next(h for h in explained if h.kind == kind)
            print(f"  {n:>6} tokens {per_kind[kind]:>4} places  {kind}")
            print(f"           e.g. {_where(h)}: ours [{_side(h.ours, 50)}]"
                  f" upstream [{_side(h.theirs, 50)}]")
        if args.hunks:
            limit = args.width or None
            for h in explained:
                why = f"; {h.reason}" if h.reason else "; UNEXPLAINED"
                print(f"  @@ {_where(h)} {h.name} ({h.kind}{why})")
                if h.ours:
                    print(f"    - ours:     {_side(h.ours, limit)}")
                if h.theirs:
                    print(f"    + upstream: {_side(h.theirs, limit)}")
    if args.draft:
        print(f"\n# unexplained, as entries for {_rel(args.reasons)}:")
        for label in dict.fromkeys(label for label, _ in draft):
            print(f"{label}:")
            for (lab, kind), names in draft.items():
                if lab == label:
                    print(f"  - kind: {kind}\n    names: [{', '.join(names)}]\n    reason: ")
    for label, kind, name in stale_all:
        print(f"token_diff.py: {_rel(args.reasons)}: {label}: stale reason: no difference"
              f" ({kind}) at {name}", file=sys.stderr)
    if not args.files:
        known = {p.label for p, _, _ in details}
        for label in reasons:
            if label not in known:
                print(f"token_diff.py: {_rel(args.reasons)}: {label}: stale: no such exported"
                      " file", file=sys.stderr)
                stale_all.append((label, None, None))
    for pair, explained, _ in details:
        for h in explained:
            if h.reason is None and pair.profile != "rust-vmm":
                print(f"token_diff.py: {pair.label}: UNEXPLAINED difference ({h.kind}) at"
                      f" {h.name} ({_where(h)})", file=sys.stderr)
    if unexplained_all or stale_all:
        print(f"token_diff.py: {unexplained_all} unexplained difference(s), {len(stale_all)}"
              f" stale reason(s)\n  hint: fix the rendering or the spec, or give the difference"
              f" a reason in {_rel(args.reasons)} (--draft prints entries to fill in); remove"
              " a reason whose difference is gone", file=sys.stderr)
        return 1
    return 0


def _rel(path):
    try:
        return str(pathlib.Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _where(h):
    at = []
    if h.ours:
        at.append(f"ours:{h.ours[0].line}")
    if h.theirs:
        at.append(f"upstream:{h.theirs[0].line}")
    return " ".join(at)


if __name__ == "__main__":
    sys.exit(main())
