#!/usr/bin/python3
"""Inventory of what the Hyper-V TLFS documents: names, numbers, member names and page
paths (facts only, never the documentation's prose), as a deterministic JSON file.

  tlfs_inventory.py CHECKOUT_OR_GITDIR [--rev REV] [--out FILE]

CHECKOUT_OR_GITDIR is MicrosoftDocs/Virtualization-Documentation: a work tree (its
files are read as they are, or at --rev if given) or a git directory without a work
tree (read at --rev, default HEAD). The pages are the *.md files under
virtualization/hyper-v-on-windows/tlfs/; page paths are relative to that folder, as the
spec's `tlfs:` keys are. Writes FILE (default tests/reference/tlfs-inventory.json).

What is read, and from where (docs/coverage.md describes the rules in full):
  hypercalls  the call-code tables (hypercalls/overview.md) and each hypercall page's
              H1 title plus its "Call Code" section: name, code, Simple/Rep
  types       `typedef struct/union/enum { ... } NAME;` (and untagged `union {...} NAME;`)
              in ```c blocks: kind, members (name, type, bit width, array length,
              nested records) or enumerators (name, value); `#if defined(_AMD64_)` /
              `_ARM64_` and "x64"/"ARM64" headings above a block give the arch
  typedefs    `typedef SCALAR NAME;` and `#define NAME OTHER_TYPE` aliases
  constants   `#define NAME VALUE` in ```c blocks (not MSRs or register names)
  msrs        `#define HV_X64_MSR_*`, rows of tables with an "MSR" address column, and
              every HV_X64_MSR_* name a page mentions (value null if no page gives one)
  constants   also table rows giving one HV_* name and one hex value
  mentions    per page, every HV_* and Hv* name it shows anywhere (for the link check)
  registers   table rows naming HvRegister* / HvX64Register* / HvArm64Register* with a
              hex identifier, `#define HvRegister* VALUE`, and every such name a page
              mentions; arch from the name's prefix, else from the section heading
              (x64 / ARM64), else common
Exit status: 0 written, 2 bad input (nothing is written).
"""

import argparse
import ast
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "tlfs-inventory.json"
UPSTREAM = "MicrosoftDocs/Virtualization-Documentation"
ROOT = "virtualization/hyper-v-on-windows/tlfs"
FORMAT = 1


class InventoryError(Exception):
    """Bad input: one line on stderr, exit status 2."""


# --- reading the pages ----------------------------------------------------------------------

def _git(args, cwd=None, git_dir=None, data=None):
    cmd = ["git"] + (["--git-dir", str(git_dir)] if git_dir else []) + list(args)
    proc = subprocess.run(cmd, cwd=cwd, input=data, capture_output=True)
    if proc.returncode:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise InventoryError(f"{' '.join(cmd)}: {err[-1] if err else 'failed'}")
    return proc.stdout


def read_pages(source, rev=None):
    """({page path: text}, commit) from a work tree or a git directory."""
    source = pathlib.Path(source)
    if not source.is_dir():
        raise InventoryError(f"{source}: not a directory (give a checkout or a git directory of {UPSTREAM})")
    tree = source / ROOT
    if tree.is_dir() and rev is None:
        pages = {p.relative_to(tree).as_posix(): p.read_text(encoding="utf-8")
                 for p in sorted(tree.rglob("*.md"))}
        try:
            commit = _git(["rev-parse", "HEAD"], cwd=source).decode().strip()
            if _git(["status", "--porcelain", "--", ROOT], cwd=source).strip():
                commit += "+local-changes"
        except (InventoryError, OSError):
            commit = "unknown (not a git work tree)"
        return pages, commit
    git_dir = source if (source / "objects").is_dir() and (source / "HEAD").is_file() else None
    kw = {"git_dir": git_dir} if git_dir else {"cwd": source}
    commit = _git(["rev-parse", "--verify", f"{rev or 'HEAD'}^{{commit}}"], **kw).decode().strip()
    names = [n for n in _git(["ls-tree", "-r", "--name-only", commit, "--", ROOT + "/"], **kw)
             .decode().splitlines() if n.endswith(".md")]
    if not names:
        raise InventoryError(f"{source}: no {ROOT}/*.md at {commit}")
    pages = {}
    for name in sorted(names):
        pages[name[len(ROOT) + 1:]] = _git(["show", f"{commit}:{name}"], **kw).decode("utf-8")
    return pages, commit


# --- markdown -----------------------------------------------------------------------------

FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)\s*$")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def arch_hint(text):
    """x86_64 / arm64 / None from a heading's words."""
    t = text.lower()
    x64 = bool(re.search(r"\b(x64|amd64|x86|x86/x64)\b", t))
    arm = bool(re.search(r"\b(arm64|aarch64)\b", t))
    return "x86_64" if x64 and not arm else "arm64" if arm and not x64 else None


def split_page(text):
    """The page as (code blocks, text lines, tables, title): code blocks are
    (first line number, lines, arch hint of the headings above); text lines are
    (number, line, heading path) outside code; tables are lists of rows
    (line number, cells, heading path)."""
    blocks, prose, tables = [], [], []
    headings = {}           # level -> text
    title = None
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE.match(line)
        if fence:
            body, start = [], i + 2
            i += 1
            while i < len(lines) and not FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            hint = None
            for level in sorted(headings, reverse=True):
                hint = arch_hint(headings[level])
                if hint:
                    break
            if fence.group(2) in ("c", "C", "cpp", "h", ""):
                blocks.append((start, body, hint))
            i += 1
            continue
        h = HEADING.match(line)
        if h:
            level = len(h.group(1))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = h.group(2)
            if level == 1 and title is None:
                title = h.group(2).strip()
        path = tuple(headings[k] for k in sorted(headings))
        prose.append((i + 1, line, path))
        if line.lstrip().startswith("|"):
            table = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-*:?", c) for c in cells):
                    table.append((i + 1, cells, path))
                if lines[i] is not line:
                    prose.append((i + 1, lines[i], path))
                i += 1
            tables.append(table)
            continue
        i += 1
    return blocks, prose, tables, title


def cell_text(cell):
    """A table cell without markdown: links become their text, backticks and bold go."""
    return LINK.sub(lambda m: m.group(1), cell).replace("`", "").replace("**", "").strip()


def cell_links(cell):
    return [m.group(2) for m in LINK.finditer(cell)]


# --- C in code blocks ---------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(?P<id>[A-Za-z_]\w*)|(?P<num>0[xX][0-9A-Fa-f]+\w*|\d\w*)"
                   r"|(?P<op><<|>>|[{}()\[\];,:=*+\-/|&~!<>?.]))")
ARCH_MACROS = {"_AMD64_": "x86_64", "_X64_": "x86_64", "_X86_": "x86_64", "_M_AMD64": "x86_64",
               "__x86_64__": "x86_64", "_ARM64_": "arm64", "_M_ARM64": "arm64", "__aarch64__": "arm64"}
OTHER = {"x86_64": "arm64", "arm64": "x86_64"}


class Tok:
    __slots__ = ("text", "kind", "line", "arch")

    def __init__(self, text, kind, line, arch):
        self.text, self.kind, self.line, self.arch = text, kind, line, arch

    def __repr__(self):
        return self.text


def _condition_arch(cond):
    """The arch an `#if` condition selects, or None if it is not about the arch."""
    m = re.fullmatch(r"\s*(!?)\s*defined\s*\(?\s*(\w+)\s*\)?\s*", cond)
    if not m or m.group(2) not in ARCH_MACROS:
        return None
    arch = ARCH_MACROS[m.group(2)]
    return OTHER[arch] if m.group(1) else arch


def strip_comments(lines):
    text = "\n".join(lines)
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return [re.sub(r"//.*", "", line) for line in text.split("\n")]


def tokenize(lines, first_line):
    """(tokens, defines): tokens carry their line and the arch of the #if around them;
    defines are (line, name, value text, arch) of object-like `#define`s."""
    tokens, defines, stack = [], [], []
    for n, line in enumerate(strip_comments(lines)):
        lineno = first_line + n
        arch = next((a for a in reversed(stack) if a), None)
        pp = re.match(r"\s*#\s*(\w+)\s*(.*)", line)
        if pp:
            word, rest = pp.group(1), pp.group(2).strip()
            if word in ("if", "ifdef", "ifndef"):
                cond = rest if word == "if" else ("defined(%s)" % rest if word == "ifdef" else "!defined(%s)" % rest)
                stack.append(_condition_arch(cond))
            elif word == "else" and stack:
                stack[-1] = OTHER.get(stack[-1]) if stack[-1] else None
            elif word == "elif" and stack:
                stack[-1] = _condition_arch(rest)
            elif word == "endif" and stack:
                stack.pop()
            elif word == "define":
                d = re.match(r"([A-Za-z_]\w*)(\(?)\s*(.*)", rest)
                if d and not d.group(2):
                    defines.append((lineno, d.group(1), d.group(3).strip(), arch))
            continue
        pos = 0
        while pos < len(line):
            m = TOKEN.match(line, pos)
            if not m or m.end() == pos:
                if line[pos:].strip():
                    pos += 1            # a character C does not have (stray prose): skip it
                    continue
                break
            kind = m.lastgroup
            tokens.append(Tok(m.group(kind), kind, lineno, arch))
            pos = m.end()
    return tokens, defines


class Parser:
    """A forgiving reader of the C the TLFS pages show: declarations may lack a `;` at
    the end of a line, bodies may be empty, prototypes and example code are skipped."""

    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self, k=0):
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def at(self, text, k=0):
        tok = self.peek(k)
        return tok is not None and tok.text == text

    def declarations(self):
        """[(kind, name, line, arch, payload)] of the top-level declarations."""
        out = []
        while self.peek() is not None:
            start = self.i
            try:
                decl = self.declaration()
            except (IndexError, SyntaxError):
                decl = None
                self.i = start
            if decl:
                out.extend(decl)
            else:
                self.skip_statement(start)
        return out

    def skip_statement(self, start):
        self.i = start
        depth = 0
        while self.peek() is not None:
            tok = self.take()
            if tok.text in "{(":
                depth += 1
            elif tok.text in "})":
                depth -= 1
                if depth <= 0 and tok.text == "}" and not self.at(";") and not self.at("while"):
                    return
            elif tok.text == ";" and depth <= 0:
                return

    def declaration(self):
        first = self.peek()
        typedef = first.text == "typedef"
        if typedef:
            self.take()
        if self.peek().text in ("struct", "union", "enum") and (self.at("{", 1) or self.at("{", 2)):
            kind = self.take().text
            if self.peek().kind == "id":
                self.take()                                 # tag: the typedef name is used
            body = self.enum_body() if kind == "enum" else self.record_body()
            names = self.declarator_names()
            if not names:
                return None
            return [(kind, name, first.line, first.arch, body) for name in names]
        if typedef:
            toks = []
            while self.peek() is not None and not self.at(";") and (not toks or self.peek().line == toks[-1].line):
                toks.append(self.take())
            if self.at(";"):
                self.take()
            ids = [t for t in toks if t.kind == "id"]
            if len(ids) < 2:
                return None
            # `typedef UINT8 HV_VTL, *PHV_VTL;`: the first declarator is the name
            first_name_at = next((j for j, t in enumerate(toks) if t.text == ","), len(toks)) - 1
            base = " ".join(t.text for t in toks[:first_name_at])
            return [("typedef", toks[first_name_at].text, first.line, first.arch, base)]
        return None

    def declarator_names(self):
        names = []
        while self.peek() is not None and not self.at(";"):
            tok = self.take()
            if tok.kind == "id" and not (names and self.t[self.i - 2].text == "*"):
                names.append(tok.text)
            if tok.kind == "id" and self.peek() is not None and self.peek().line != tok.line:
                break
        if self.at(";"):
            self.take()
        return names[:1]

    def record_body(self):
        assert self.take().text == "{"
        members = []
        while not self.at("}"):
            if self.peek() is None:
                raise SyntaxError("unterminated record")
            members.extend(self.member())
        self.take()
        return members

    def member(self):
        first = self.peek()
        if first.text in ("struct", "union") and (self.at("{", 1) or self.at("{", 2)):
            kind = self.take().text
            if self.peek().kind == "id":
                self.take()
            body = self.record_body()
            names, count = [], None
            while self.peek() is not None and not self.at(";") and not self.at("}"):
                tok = self.take()
                if tok.kind == "id" and not names:
                    names.append(tok.text)
                elif tok.text == "[":
                    count = self.until("]")
                if self.peek() is not None and self.peek().line != tok.line:
                    break
            if self.at(";"):
                self.take()
            node = {"kind": kind, "name": names[0] if names else None, "members": body}
            if count is not None:
                node["count"] = count
            if first.arch:
                node["arch"] = first.arch
            return [node]
        toks = []
        while self.peek() is not None and not self.at(";") and not self.at("}"):
            tok = self.peek()
            if toks and tok.line != toks[-1].line and _complete(toks):
                break
            toks.append(self.take())
        if self.at(";"):
            self.take()
        return [m for m in _members(toks, first.arch)]

    def until(self, close):
        toks = []
        while not self.at(close):
            toks.append(self.take().text)
        self.take()
        return " ".join(toks)

    def enum_body(self):
        assert self.take().text == "{"
        items, previous = [], None
        while not self.at("}"):
            if self.peek() is None:
                raise SyntaxError("unterminated enum")
            name = self.take()
            if name.kind != "id":
                continue
            expr = None
            if self.at("="):
                self.take()
                toks = []
                while not self.at(",") and not self.at("}"):
                    tok = self.peek()
                    if toks and tok.line != toks[-1].line and tok.kind == "id":
                        break                                   # a missing comma
                    toks.append(self.take().text)
                expr = " ".join(toks)
            if self.at(","):
                self.take()
            value = evaluate(expr, {}) if expr is not None else (
                previous + 1 if previous is not None else 0 if not items else None)
            item = {"name": name.text, "value": value}
            if expr is not None and value is None:
                item["expr"] = expr
            if name.arch:
                item["arch"] = name.arch
            items.append(item)
            previous = value
        self.take()
        return items


def _complete(toks):
    """Whether the tokens of a member declaration already make one (type and name)."""
    ids = [t for t in toks if t.kind == "id"]
    return len(ids) >= 2 and toks[-1].kind in ("id", "num") or toks[-1].text == "]"


def _members(toks, arch):
    """Member dicts of one declaration `TYPE a[, b][[N]][: W]`."""
    out, parts, cur = [], [], []
    depth = 0
    for tok in toks:
        if tok.text == "[":
            depth += 1
        elif tok.text == "]":
            depth -= 1
        if tok.text == "," and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(tok)
    parts.append(cur)
    base = None
    for n, part in enumerate(parts):
        texts = [t.text for t in part]
        width = None
        if ":" in texts:
            k = texts.index(":")
            width = evaluate(" ".join(texts[k + 1:]), {})
            texts = texts[:k]
        count = None
        if "[" in texts:
            k = texts.index("[")
            end = len(texts) - 1 - texts[::-1].index("]")
            count = " ".join(texts[k + 1:end])
            texts = texts[:k]
        names = [t for t in texts if re.fullmatch(r"[A-Za-z_]\w*", t)]
        if not names:
            continue
        name = names[-1]
        if n == 0:
            base = " ".join(t for t in texts[:-1] if t != "*") or None
            if base is None:
                continue
            ptr = "*" if "*" in texts else ""
        else:
            ptr = "*" if "*" in texts else ""
        member = {"name": name, "type": (base + ptr) if base else None}
        if width is not None:
            member["bits"] = width
        if count is not None:
            member["count"] = count
        if arch:
            member["arch"] = arch
        out.append(member)
    return out


# --- values -------------------------------------------------------------------------------

SUFFIX = re.compile(r"\b(0[xX][0-9A-Fa-f]+|\d+)([uUlL]+)\b")


def evaluate(text, names):
    """The integer value of a C constant expression, or None: literals (with U/L
    suffixes), + - * / % << >> | & ~ and parentheses, and names found in `names`."""
    if text is None:
        return None
    text = SUFFIX.sub(lambda m: m.group(1), text.strip())
    if not text or re.search(r"[^\w\s()+\-*/%<>|&~^]", text):
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in names and names[node.id] is not None:
                return names[node.id]
            raise ValueError(node.id)
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return {ast.USub: lambda: -v, ast.UAdd: lambda: v, ast.Invert: lambda: ~v}[type(node.op)]()
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
                   ast.FloorDiv: lambda: a // b, ast.Div: lambda: a // b, ast.Mod: lambda: a % b,
                   ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b,
                   ast.BitOr: lambda: a | b, ast.BitAnd: lambda: a & b, ast.BitXor: lambda: a ^ b}
            return ops[type(node.op)]()
        raise ValueError(type(node).__name__)

    try:
        return ev(tree)
    except (ValueError, KeyError, ZeroDivisionError, TypeError):
        return None


def hexint(text):
    m = re.fullmatch(r"`?(0[xX][0-9A-Fa-f]+)`?(?:\s*\(.*\))?", text.strip())
    return int(m.group(1), 16) if m else None


# --- the inventory ------------------------------------------------------------------------

MENTION = re.compile(r"(?<![A-Za-z0-9_])(?:HV_[A-Z0-9_]*[A-Z0-9]|Hv[A-Z][A-Za-z0-9]+)(?![A-Za-z0-9_])")
CONSTANT = re.compile(r"HV_[A-Z0-9_]*[A-Z0-9]")
HYPERCALL = re.compile(r"Hv(?:Ext)?Call[A-Z]\w*")
MSR = re.compile(r"(?<![A-Za-z0-9_])HV_X64_MSR_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])")
REGISTER = re.compile(r"(?<![A-Za-z0-9_])Hv(?:X64|Arm64)?Register[A-Z][A-Za-z0-9]*(?![A-Za-z0-9_])")
REG_ARCH = {"HvX64Register": "x64", "HvArm64Register": "arm64"}
SECTION_ARCH = {"x86_64": "x64", "arm64": "arm64"}


def register_arch(name, path=()):
    for prefix, arch in REG_ARCH.items():
        if name.startswith(prefix):
            return arch
    for heading in reversed(path):
        hint = arch_hint(heading)
        if hint:
            return SECTION_ARCH[hint]
    return "common"


class Inventory:
    def __init__(self):
        self.hypercalls = {}        # name -> dict
        self.types = {}             # name -> {"name", "kind", "pages", "definitions"}
        self.typedefs = {}
        self.constants = {}
        self.msrs = {}
        self.registers = {}         # (arch, name) -> dict
        self.mentions = {}          # page -> every HV_* / Hv* name it shows anywhere
        self.table_constants = []   # (page, name, value): kept if the name is no type

    # Each fact remembers every page that gives it; a value given differently by two
    # pages is kept as a conflict rather than silently picking one.
    @staticmethod
    def _merge(table, key, page, **fields):
        entry = table.setdefault(key, {"pages": set()})
        entry["pages"].add(page)
        for k, v in fields.items():
            if v is None:
                continue
            if entry.get(k) is None:
                entry[k] = v
            elif entry[k] != v:
                entry.setdefault("conflicts", set()).add(f"{k}={_show(v)} ({page})")
        return entry

    def add_page(self, page, text):
        """Definitions, tables and values of one page; returns what `add_mentions` needs."""
        blocks, prose, tables, title = split_page(text)
        self._hypercall_page(page, text, title)
        for table in tables:
            self._table(page, table)
        names = {}
        for start, lines, hint in blocks:
            self._code(page, start, lines, hint, names)
        return blocks, prose

    def add_mentions(self, page, blocks, prose):
        """Names a page mentions (after every page's tables, so a mention joins the
        register a table gave an arch)."""
        said = self.mentions.setdefault(page, set())
        for _, line, _ in prose:
            said.update(MENTION.findall(line))
        for _, lines, _ in blocks:
            for line in lines:
                said.update(MENTION.findall(line))
        for lineno, line, path in prose:
            for name in MSR.findall(line):
                self._merge(self.msrs, name, page, name=name)
            for name in REGISTER.findall(line):
                self._mention_register(page, name, path)
        for start, lines, hint in blocks:
            for line in lines:
                for name in MSR.findall(line):
                    self._merge(self.msrs, name, page, name=name)

    def _hypercall_page(self, page, text, title):
        if not (page.startswith("hypercalls/") and title and HYPERCALL.fullmatch(title)):
            return
        m = re.search(r"^#+\s*Call Code\s*\n+\s*`?(0[xX][0-9A-Fa-f]+)`?\s*(?:\(([^)]*)\))?", text, re.M)
        code = int(m.group(1), 16) if m else None
        kind = m.group(2).strip() if m and m.group(2) else None
        self._merge(self.hypercalls, title, page, name=title, code=code, call_kind=kind)

    def _table(self, page, rows):
        if not rows:
            return
        header = [cell_text(c).lower() for c in rows[0][1]]
        body = rows[1:]
        here = page.rsplit("/", 1)[0] + "/" if "/" in page else ""
        if any("call code" in h for h in header) and any("hypercall" in h for h in header):
            ci = next(i for i, h in enumerate(header) if "call code" in h)
            ni = next(i for i, h in enumerate(header) if "hypercall" in h)
            ti = next((i for i, h in enumerate(header) if h == "type"), None)
            for _, cells, _ in body:
                if max(ci, ni) >= len(cells):
                    continue
                name, code = cell_text(cells[ni]), hexint(cell_text(cells[ci]))
                if not HYPERCALL.fullmatch(name) or code is None:
                    continue
                kind = cell_text(cells[ti]) if ti is not None and ti < len(cells) else None
                entry = self._merge(self.hypercalls, name, page, name=name, code=code, call_kind=kind)
                for link in cell_links(cells[ni]):
                    if link.endswith(".md") and "://" not in link:
                        entry["pages"].add(os.path.normpath(here + link))
        msr_col = next((i for i, h in enumerate(header) if "msr" in h and ("address" in h or h == "msr")), None)
        for _, cells, path in body:
            texts = [cell_text(c) for c in cells]
            if msr_col is not None and msr_col < len(texts):
                value = hexint(texts[msr_col])
                name = next((t for t in texts[msr_col + 1:] if re.fullmatch(r"[A-Z][A-Z0-9_]*", t)), None)
                # synthetic MSRs live at 0x4000xxxx; a register listed in such a table
                # (vsm.md: HV_X64_REGISTER_VSM_CAPABILITIES) is not one
                if value is not None and value >> 16 == 0x4000 and name and (
                        name.startswith("HV_X64_MSR_") or not name.startswith("HV_")):
                    name = name if name.startswith("HV_X64_MSR_") else "HV_X64_MSR_" + name
                    self._merge(self.msrs, name, page, name=name, value=value)
            # a row naming one HV_* constant and giving one hex value: a documented
            # constant (hv_partition_id.md, hv_intercept_access_type_mask.md)
            consts = [t for t in texts if CONSTANT.fullmatch(t) and not t.startswith("HV_X64_MSR_")]
            hexes = [hexint(t) for t in texts if hexint(t) is not None]
            if len(consts) == 1 and len(hexes) == 1 and msr_col is None:
                self.table_constants.append((page, consts[0], hexes[0]))
            for k, t in enumerate(texts):
                # `HvArm64RegisterFp (X29)`; `HvArm64RegisterCcsidrEl1 / Ccsidr2El1` with
                # `0x00040030 /0x00040031`: two registers, the second without the prefix
                m = re.fullmatch(r"(Hv(?:X64|Arm64)?Register)([A-Z][A-Za-z0-9]*((?:\s*/\s*[A-Z][A-Za-z0-9]*)*))"
                                 r"(?:\s*\(.*\))?", t)
                if not m:
                    continue
                prefix, rest = m.group(1), m.group(2)
                names = [prefix + n.strip() for n in rest.split("/")]
                values = next(([hexint(v) for v in x.split("/")] for x in texts[k + 1:]
                               if all(hexint(v) is not None for v in x.split("/"))), [])
                if len(values) != len(names):
                    continue
                for name, value in zip(names, values):
                    arch = register_arch(name, path)
                    self._merge(self.registers, (arch, name), page, name=name, arch=arch, value=value)

    def _mention_register(self, page, name, path):
        known = [key for key in self.registers if key[1] == name]
        if len(known) == 1:
            self.registers[known[0]]["pages"].add(page)
        elif not known:
            arch = register_arch(name)
            self._merge(self.registers, (arch, name), page, name=name, arch=arch)
        else:
            for key in known:
                self.registers[key]["pages"].add(page)

    def _code(self, page, start, lines, hint, names):
        tokens, defines = tokenize(lines, start)
        for lineno, name, value, arch in defines:
            number = evaluate(value, names)
            names[name] = number
            if name.startswith("HV_X64_MSR_"):
                self._merge(self.msrs, name, page, name=name, value=number)
            elif REGISTER.fullmatch(name):
                arch_ = register_arch(name)
                self._merge(self.registers, (arch_, name), page, name=name, arch=arch_, value=number)
            elif re.fullmatch(r"HV_[A-Z0-9_]+", value) and number is None and not re.search(r"\d", value[-1]):
                # `#define HV_INTERRUPT_CONTROL HV_X64_INTERRUPT_CONTROL`: a type alias,
                # per arch when it sits under `#if defined(_ARM64_)` and the like
                self._merge(self.typedefs, name, page, name=name, **{f"type_{arch}" if arch else "type": value})
            else:
                entry = self._merge(self.constants, name, page, name=name, value=number)
                if number is None:
                    entry["expr"] = value
        for kind, name, line, arch, body in Parser(tokens).declarations():
            if kind == "typedef":
                self._merge(self.typedefs, name, page, name=name, type=body)
                continue
            entry = self.types.setdefault(name, {"name": name, "kind": kind, "pages": set(), "definitions": []})
            entry["pages"].add(page)
            if entry["kind"] != kind:
                entry.setdefault("conflicts", set()).add(f"kind={kind} ({page})")
            definition = {"page": page, "line": line, "arch": arch or hint}
            definition["enumerators" if kind == "enum" else "members"] = body
            entry["definitions"].append(definition)

    def document(self, commit, pages):
        def rows(table, order):
            out = []
            for entry in sorted(table.values(), key=order):
                row = dict(entry)
                row["pages"] = sorted(row["pages"])
                if "conflicts" in row:
                    row["conflicts"] = sorted(row["conflicts"])
                out.append({k: row[k] for k in sorted(row)})
            return out

        for name in self.types:
            self.msrs.pop(name, None)       # HV_X64_MSR_NPIEP_CONFIG_CONTENTS is a type
        for page, name, value in self.table_constants:
            if name not in self.types and name not in self.typedefs:
                self._merge(self.constants, name, page, name=name, value=value)
        types = []
        for entry in sorted(self.types.values(), key=lambda e: e["name"]):
            defs = sorted(entry["definitions"], key=lambda d: (d["page"], d["line"]))
            row = {"name": entry["name"], "kind": entry["kind"], "pages": sorted(entry["pages"]),
                   "definitions": defs}
            if "conflicts" in entry:
                row["conflicts"] = sorted(entry["conflicts"])
            types.append(row)
        return {
            "format": FORMAT,
            "source": {"repo": UPSTREAM, "commit": commit, "root": ROOT,
                       "made_by": "tests/reference/tlfs_inventory.py"},
            "pages": sorted(pages),
            "hypercalls": rows(self.hypercalls, lambda e: (e.get("code") is None, e.get("code") or 0, e["name"])),
            "types": types,
            "typedefs": rows(self.typedefs, lambda e: e["name"]),
            "constants": rows(self.constants, lambda e: e["name"]),
            "msrs": rows(self.msrs, lambda e: (e.get("value") is None, e.get("value") or 0, e["name"])),
            "mentions": {page: sorted(names) for page, names in sorted(self.mentions.items()) if names},
            "registers": rows(self.registers, lambda e: ({"common": 0, "x64": 1, "arm64": 2}[e["arch"]],
                                                        e.get("value") is None, e.get("value") or 0, e["name"])),
        }


def _show(v):
    return hex(v) if isinstance(v, int) else str(v)


def inventory(pages, commit):
    inv = Inventory()
    read = {page: inv.add_page(page, pages[page]) for page in sorted(pages)}
    for page in sorted(pages):
        inv.add_mentions(page, *read[page])
    return inv.document(commit, pages)


def dump(doc):
    """Deterministic JSON: sorted keys, one level of indentation per nesting."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_atomically(path, text):
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tlfs-inventory-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("source", metavar="CHECKOUT_OR_GITDIR")
    p.add_argument("--rev", help="read the pages at this revision (default: the work tree, or HEAD)")
    p.add_argument("--out", default=str(OUT), help="output file (default: %(default)s)")
    args = p.parse_args(argv)
    try:
        pages, commit = read_pages(args.source, args.rev)
        if not pages:
            raise InventoryError(f"{args.source}: no pages under {ROOT}/")
        doc = inventory(pages, commit)
        out = pathlib.Path(args.out)
        if not out.parent.is_dir():
            raise InventoryError(f"{out.parent}: no such directory")
        write_atomically(out, dump(doc))
    except (InventoryError, OSError, UnicodeDecodeError) as e:
        print(f"tlfs_inventory: error: {e}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{len(doc[k])} {k}" for k in ("hypercalls", "types", "typedefs", "constants",
                                                       "msrs", "registers"))
    print(f"tlfs_inventory: {len(pages)} pages at {commit[:12]}: {counts} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
