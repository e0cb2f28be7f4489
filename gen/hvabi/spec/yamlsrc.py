"""Load YAML keeping the source position of every mapping, key and item.

PyYAML's plain loader forgets line numbers and reads `0x0002` as 2. Spec errors must
point at file:line and generated C must keep constants as written, so this loader builds
the Python objects itself from PyYAML's node graph:
  - mappings become `Map` (a dict with `pos`, `key_pos(k)` and `val_pos(k)`),
  - sequences become `Seq` (a list with `pos` and `item_pos(i)`),
  - integers become `Int` (an int that remembers its spelling in `.text`),
  - other scalars are plain str / bool / None.
"""

import yaml

from ..errors import HvabiError

# libyaml's loader builds the same nodes, with the same marks, several times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        text = node.value.replace("_", "")
        try:
            return Int(int(text, 0), node.value)
        except ValueError:
            # YAML 1.1 octal/sexagesimal forms: reject rather than guess.
            raise HvabiError(f"cannot read integer {node.value!r}", _pos(path, node),
                             "write integers in decimal or 0x-hex")
    if node.tag == "tag:yaml.org,2002:bool":
        return node.value.lower() in ("true", "yes", "on")
    if node.tag == "tag:yaml.org,2002:null":
        return None
    if node.tag == "tag:yaml.org,2002:float":
        raise HvabiError(f"floating-point value {node.value!r} is not allowed", _pos(path, node),
                         "the ABI has integers only; quote it if it is an expression")
    return node.value


def _build(path, node):
    if isinstance(node, yaml.ScalarNode):
        return _scalar(path, node)
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(_build(path, item) for item in node.value)
        seq.pos = _pos(path, node)
        seq._ipos = [_pos(path, item) for item in node.value]
        return seq
    if isinstance(node, yaml.MappingNode):
        out = Map()
        out.pos = _pos(path, node)
        out._kpos, out._vpos = {}, {}
        for knode, vnode in node.value:
            key = _build(path, knode)
            if not isinstance(key, str):
                raise HvabiError(f"mapping key {knode.value!r} is not a name", _pos(path, knode))
            if key in out:
                raise HvabiError(f"duplicate key '{key}' in one mapping", _pos(path, knode),
                                 f"the first '{key}' is at line {out._kpos[key].line}")
            out[key] = _build(path, vnode)
            out._kpos[key] = _pos(path, knode)
            out._vpos[key] = _pos(path, vnode)
        return out
    raise HvabiError(f"unsupported YAML node {node.tag}", _pos(path, node))


def load_file(path, display=None):
    """Parse one YAML file into Map/Seq/Int objects; YAML errors become HvabiError."""
    display = display or str(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise HvabiError(f"cannot read spec file: {e.strerror}", Pos(display, 0))
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise HvabiError(f"YAML syntax: {e.problem or e.context}", Pos(display, line),
                         "check the indentation and the ':' / '-' of this line and the one above")
    if node is None:
        raise HvabiError("spec file is empty", Pos(display, 1))
    return _build(display, node)


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
