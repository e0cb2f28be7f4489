"""Check an import: load the written spec files like any spec, lay out every definition
with the spec's own engine, and compare with what the compiler said about the headers.

Each definition is checked on its own, so one that cannot be laid out (it uses a type
the imported headers do not define) does not hide the others.
"""

import pathlib
import tempfile
from dataclasses import dataclass, field

from .. import facts as hvfacts
from .. import layout
from .. import model as m
from ..errors import HvabiError
from ..extract import clang_facts
from ..select import Abi
from ..spec.loader import load_spec

PROFILE = "imported"


@dataclass
class ArchResult:
    arch: str
    matched: int = 0
    problems: list = field(default_factory=list)   # "name: what" lines
    differ: int = 0
    failed: int = 0


def verify(imported):
    """[ArchResult] per arch; raises SpecErrors if the files do not load."""
    view = "tlfs" if any(s.id in ("generic", "arch") for s in imported.sources) else "hdk"
    profiles = f"hvabi: 2\nprofiles:\n  {PROFILE}: {{view: {view}}}\n"
    return verify_sets(imported.files, profiles, [(PROFILE, view, imported.readings, imported.sources)])


def verify_sets(files, profiles_yaml, sets):
    """Spec files plus a profiles.yaml text; `sets` [(profile, view, readings, sources)]:
    each profile's selection checked against its own headers. [ArchResult] per set and
    arch (`arch` reads "PROFILE ARCH" when there are several sets)."""
    with tempfile.TemporaryDirectory(prefix="hvabi-import-") as tmp:
        root = pathlib.Path(tmp)
        (root / "defs").mkdir()
        for name, text in files.items():
            (root / "defs" / name).write_text(text, encoding="utf-8")
        (root / "profiles.yaml").write_text(profiles_yaml)
        spec = load_spec(root, root / "defs")     # positions name the files as --out writes them
    results = []
    for profile, view, readings, sources in sets:
        for arch, reading in readings.items():
            paths = [s.path for s in sources if s.arch in (None, arch)]
            compiler = clang_facts.facts_of(reading.parsed, clang_facts.Scope(paths), "libclang")
            result = _check_arch(Abi.of(spec, m.Selection(profile, view, arch)), compiler)
            if len(sets) > 1:
                result.arch = f"{profile} {arch}"
            results.append(result)
    return results


def _names(defn):
    if isinstance(defn, m.Record):
        return [defn.name]
    if isinstance(defn, m.Enum):
        return ([defn.name] if defn.name else []) + [i.name for i in defn.items]
    if isinstance(defn, m.ConstGroup):
        # a macro with parameters has no value to compare; its calls do
        return [c.name for c in defn.items if c.params is None]
    return []


def _check_arch(abi, compiler):
    result = ArchResult(abi.sel.arch)
    for _, defn in abi.entries:
        ours = hvfacts.new_facts(abi.sel.arch, "imported spec")
        try:
            layout.add_facts(ours, abi, defn)
            if isinstance(defn, m.Typedef):
                layout.size_align(abi, defn.type.name, defn.pos)
        except HvabiError as e:
            result.failed += 1
            result.problems.append(f"{defn.pos}: {defn.name or 'enum'}: cannot be laid out: {e.what}")
            continue
        problems = hvfacts.compare(ours, compiler, _names(defn))
        if problems:
            result.differ += 1
            result.problems += [f"{defn.pos}: {p}" for p in problems]
        else:
            result.matched += 1
    return result
