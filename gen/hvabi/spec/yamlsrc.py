"""Load YAML keeping the source position of every mapping, key and item.

PyYAML's plain loader forgets line numbers and reads `0x0002` as 2. Spec errors must
point at file:line and generated C must keep constants as written, so this loader builds
the Python objects itself from PyYAML's node graph:
  - mappings become `Map` (a dict with `pos`, `key_pos(k)` and `val_pos(k)`),
  - sequences become `Seq` (a list with `pos` and `item_pos(i)`),
  - integers become `Int` (an int that remembers its spelling in `.text`),
  - other scalars are plain str / bool / None.

Any file is bad input, never a crash: bytes that are not UTF-8 (Latin-1, UTF-16, binary),
characters YAML does not allow (NUL, other control characters), nesting deeper than
MAX_DEPTH (checked before libyaml composes the file: its composer recurses on the C stack
and a 100000-deep flow list would crash the process), anchors and aliases (a spec states
each fact once; aliases also let a small file expand exponentially), tags, and integer
spellings other than decimal and 0x-hex all become an HvabiError at file:line.
"""

import hashlib
import pathlib
import re

import yaml

from ..errors import HvabiError

# libyaml's loader builds the same nodes, with the same marks, several times faster.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LOADER(_BASE_LOADER):
    """The safe loader, resolving each distinct plain scalar once: its tag (int, bool,
    null, str...) depends on its text alone, and resolving runs a regex per scalar."""
    _tags = {}

    def resolve(self, kind, value, implicit):
        if kind is not yaml.ScalarNode:
            return super().resolve(kind, value, implicit)
        key = value, implicit
        tag = self._tags.get(key)
        if tag is None:
            if len(self._tags) > 100_000:
                self._tags.clear()
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

MAX_DEPTH = 64                 # the spec nests 13 deep at most
MAX_BYTES = 8 << 20            # the largest spec file is ~200 KiB
# YAML's printable set (YAML 1.1, 5.1): tab, LF, CR, and the printable characters.
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")
_CONTROL = re.compile(rb"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")
_BRACKET = re.compile(r"[\[\]{}]")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*|0[xX][0-9a-fA-F]+)")
_TAGS = {"tag:yaml.org,2002:" + t for t in ("str", "int", "bool", "null", "float", "seq", "map",
                                            "timestamp")}


class Pos:
    """A place in a spec file; prints as `file:line` (1-based)."""

    __slots__ = ("file", "line")

    def __init__(self, file, line):
        self.file = file
        self.line = line

    def __str__(self):
        return f"{self.file}:{self.line}"

    def __repr__(self):
        return f"Pos({self})"


class Int(int):
    """An integer scalar that keeps its source spelling (`0x0002`, `-1`)."""

    text: str

    def __new__(cls, value, text):
        obj = super().__new__(cls, value)
        obj.text = text
        return obj


class Map(dict):
    pos: Pos

    def key_pos(self, key):
        return self._kpos.get(key, self.pos)

    def val_pos(self, key):
        return self._vpos.get(key, self.pos)


class Seq(list):
    pos: Pos

    def item_pos(self, index):
        return self._ipos[index] if index < len(self._ipos) else self.pos


def _pos(path, node):
    return Pos(path, node.start_mark.line + 1)


def _scalar(path, node):
    if node.tag == "tag:yaml.org,2002:int":
        # YAML 1.1 also reads 0b101, 017, 1_000 and 1:30 as integers; C and the spec do not.
        if not _INT.fullmatch(node.value):
            raise HvabiError(f"cannot read integer {node.value!r}", _pos(path, node),
                             "write integers in decimal (no leading zeros, no '_') or 0x-hex")
        return Int(int(node.value, 0), node.value)
    if node.tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in ("true", "yes", "on")
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:float":
        raise HvabiError(f"floating-point value {node.value!r} is not allowed", _pos(path, node),
                         "the ABI has integers only; quote it if it is an expression")
    return node.value


def _build(path, node, seen):
    if node.tag == "tag:yaml.org,2002:merge":
        raise HvabiError("YAML merge keys (<<) are not used in the spec", _pos(path, node),
                         "write the keys out: each fact is stated once, where it applies")
    if node.tag not in _TAGS:
        raise HvabiError(f"YAML tag {node.tag!r} is not used in the spec", _pos(path, node),
                         "drop the '!' tag; write the value plainly (quote it if it is text)")
    if isinstance(node, yaml.ScalarNode):
        return _scalar(path, node)
    if id(node) in seen:
        raise _Alias()
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(_build(path, item, seen) for item in node.value)
        seq.pos = _pos(path, node)
        seq._ipos = [_pos(path, item) for item in node.value]
        return seq
    if isinstance(node, yaml.MappingNode):
        out = Map()
        out.pos = _pos(path, node)
        out._kpos, out._vpos = {}, {}
        for knode, vnode in node.value:
            key = _build(path, knode, seen)
            if not isinstance(key, str):
                shown = repr(knode.value) if isinstance(knode, yaml.ScalarNode) else "[...]"
                raise HvabiError(f"mapping key {shown} is not a name", _pos(path, knode),
                                 "keys are names such as `doc` or `members`; quote a key YAML reads as"
                                 " a number, boolean or null")
            if key in out:
                raise HvabiError(f"duplicate key '{key}' in one mapping", _pos(path, knode),
                                 f"the first '{key}' is at line {out._kpos[key].line}")
            out[key] = _build(path, vnode, seen)
            out._kpos[key] = _pos(path, knode)
            out._vpos[key] = _pos(path, vnode)
        return out
    raise HvabiError(f"unsupported YAML node {node.tag}", _pos(path, node))


class _Alias(Exception):
    """A node met twice: an alias. load_file finds the alias's own line."""


def _alias_line(text):
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            return event.start_mark.line + 1
    return 1


def read_text(path, display):
    """The text of a spec file, or an HvabiError saying where it is not YAML text."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise HvabiError(f"cannot read spec file: {e.strerror}", Pos(display, 0))
    if len(data) > MAX_BYTES:
        raise HvabiError(f"spec file is larger than {MAX_BYTES >> 20} MiB", Pos(display, 1),
                         "is this a spec file? split the definitions over several files")
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise HvabiError(f"spec file is {name} text", Pos(display, 1), "save it as UTF-8")
    control = _CONTROL.search(data)
    if control:
        raise HvabiError(f"control character U+{control.group()[0]:04X} in the file",
                         Pos(display, data.count(b"\n", 0, control.start()) + 1),
                         "YAML allows tab, newline and printable characters only; remove it"
                         " (a UTF-16 or binary file is no spec: save it as UTF-8 text)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise HvabiError(f"not UTF-8 text: byte 0x{data[e.start]:02x} at column {column}",
                         Pos(display, line), "save the file as UTF-8 (Latin-1 and UTF-16 are not"
                         " read); a binary file is no spec")
    text = text[1:] if text.startswith("\ufeff") else text
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise HvabiError(f"control character U+{ord(bad.group()):04X} in the file", Pos(display, line),
                         "YAML allows tab, newline and printable characters only; remove it")
    return text


def _deepest(text):
    """An upper bound on how deep `text` nests, without parsing: each two levels of its
    block structure take at least one column of indentation or '- ' markers that open a
    line (a sequence may sit at its key's column), its flow structure no deeper than its
    open brackets."""
    flow = deepest = 0
    for bracket in _BRACKET.findall(text):
        flow = flow + 1 if bracket in "[{" else max(flow - 1, 0)
        deepest = max(deepest, flow)
    block = max((len(line) - len(line.lstrip(" -?:")) for line in text.splitlines()), default=0)
    return deepest + 2 * block + 2


def _check_depth(text, display):
    """Reject nesting deeper than MAX_DEPTH before composing: libyaml's parser keeps its
    own stack (no recursion), so counting its events is safe at any depth."""
    if _deepest(text) <= MAX_DEPTH:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise HvabiError(f"nested more than {MAX_DEPTH} levels deep",
                                     Pos(display, event.start_mark.line + 1),
                                     "the spec nests a dozen levels at most; check the brackets"
                                     " and indentation")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return                  # a syntax error: compose reports it with its position


_ROOTS = {}                  # (display, sha256 of the bytes) -> root, most recent last


def load_file_cached(path, display=None):
    """load_file, once per process for the same bytes and display name: a process that
    loads many specs (tests, tools/fuzz_spec.py) reads spec/profiles.yaml and products.yaml
    for each. The tree must be treated as read-only, as every reader of the spec does."""
    try:
        key = (display or str(path), hashlib.sha256(pathlib.Path(path).read_bytes()).digest())
    except OSError:
        return load_file(path, display)      # reports it
    root = _ROOTS.pop(key, None)
    if root is None:
        root = load_file(path, display)
        if len(_ROOTS) >= 16:
            _ROOTS.pop(next(iter(_ROOTS)))
    _ROOTS[key] = root
    return root


def load_file(path, display=None):
    """Parse one YAML file into Map/Seq/Int objects; YAML errors become HvabiError."""
    display = display or str(path)
    text = read_text(path, display)
    _check_depth(text, display)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise HvabiError(f"YAML syntax: {e.problem or e.context}", Pos(display, line),
                         "check the indentation and the ':' / '-' of this line and the one above")
    except yaml.YAMLError as e:
        raise HvabiError(f"YAML: {e}", Pos(display, 1), "is this a YAML file?")
    if node is None:
        raise HvabiError("spec file is empty", Pos(display, 1),
                         "a spec file is a mapping; see docs/spec-format.md and the files in spec/")
    try:
        root = _build(display, node, set())
    except _Alias:
        raise HvabiError("YAML aliases (*name) are not used in the spec", Pos(display, _alias_line(text)),
                         "write the value out where it is used, once per fact") from None
    if not isinstance(root, Map):
        raise HvabiError(f"the file holds a YAML {'list' if isinstance(root, Seq) else 'scalar'}, not a"
                         " mapping", Pos(display, 1), "a spec file is a mapping of keys; see"
                         " docs/spec-format.md and the files in spec/")
    return root


def position_of(root, path):
    """Best source position for a JSON-schema error path inside `root`."""
    node, pos = root, getattr(root, "pos", None)
    for step in path:
        if isinstance(node, Map) and step in node:
            pos = node.key_pos(step) if not isinstance(node[step], (Map, Seq)) else node[step].pos
            node = node[step]
        elif isinstance(node, Seq) and isinstance(step, int) and step < len(node):
            pos = node.item_pos(step)
            node = node[step]
        else:
            break
    return pos
