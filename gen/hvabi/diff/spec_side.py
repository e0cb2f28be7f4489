"""A spec as a side of an ABI diff: facts per (profile, arch), plus the descriptions and
provenance that only a spec has. Kept apart from sources.py so that diffs of headers or
objects never load the YAML, schema and template machinery."""

import hashlib
import pathlib

from .. import gcpause
from .. import model as m
from ..emit.products import read_products
from ..errors import HvabiError
from ..layout import facts as spec_facts, record_layout
from ..select import Abi
from ..spec.loader import load_selectors, load_spec


_READ = {}      # content key -> result: a process diffing several revisions reads each once


def read(label, spec_dir, arches, profiles):
    """{(profile, arch): (facts, uapi, notes)}; `uapi` says a product renders the profile
    in the uapi flavor, so user space builds against it. Once per process for the same
    files: the result depends on their bytes and names below spec_dir's parent alone (a
    revision is unpacked into a new scratch directory each time)."""
    spec_dir = pathlib.Path(spec_dir)
    key = _content_key(spec_dir, arches, profiles)
    if key in _READ:
        return _READ[key]
    with gcpause.paused():
        out = _read(label, spec_dir, arches, profiles)
    if key is not None:
        if len(_READ) >= 4:
            _READ.pop(next(iter(_READ)))
        _READ[key] = out
    return out


def _content_key(spec_dir, arches, profiles):
    digest = hashlib.sha256()
    for path in [spec_dir / "profiles.yaml", spec_dir / "products.yaml",
                 *sorted((spec_dir / "defs").glob("*.yaml"))]:
        try:
            data = path.read_bytes()
        except OSError:
            if path.name == "products.yaml":
                continue        # optional (profiles_in)
            return None
        name = str(path.relative_to(spec_dir.parent)).encode()
        digest.update(name + b"\0" + len(data).to_bytes(8, "little") + data)
    return digest.digest(), tuple(arches), tuple(profiles)


def _read(label, spec_dir, arches, profiles):
    spec = load_spec(spec_dir, spec_dir.parent)
    unknown = sorted(set(profiles) - set(spec.profiles))
    if unknown:
        raise HvabiError(f"{label}: no profile {', '.join(unknown)}", None,
                         f"profiles here: {', '.join(sorted(spec.profiles))}")
    uapi = profiles_in(spec_dir, "uapi")
    out = {}
    for name in profiles:
        for arch in arches:
            abi = Abi.of(spec, m.Selection(name, spec.profiles[name].view, arch))
            out[(name, arch)] = (spec_facts(abi), name in uapi, _notes(abi))
    return out


def profiles(spec_dir, flavor=None):
    """The profiles of the hypervisor ABI, sorted: those of views without spec files of
    their own (so not mshv, the driver's interface, which is diffed on request with
    --profile); with `flavor`, those some product renders in it."""
    spec_dir = pathlib.Path(spec_dir)
    views, profiles_ = load_selectors(spec_dir / "profiles.yaml")
    names = {n for n, p in profiles_.items() if views[p.view].defs is None}
    return sorted(names if flavor is None else profiles_in(spec_dir, flavor) & names)


def profiles_in(spec_dir, flavor):
    """The profiles some product of the spec renders in `flavor` (spec/products.yaml)."""
    spec_dir = pathlib.Path(spec_dir)
    path = spec_dir / "products.yaml"
    if not path.is_file():
        return set()
    return {p.profile for p in read_products(spec_dir) if p.flavor == flavor}


def _notes(abi):
    """{"name" or "name.member": {"doc": text, "provenance": text}} for review findings."""
    notes = {}
    for entry, defn in abi.entries:
        where = _provenance(entry, abi.sel)
        if isinstance(defn, m.ConstGroup):
            notes.update((c.name, {"doc": c.doc or defn.doc, "provenance": where}) for c in defn.items)
        elif isinstance(defn, m.Enum):
            if defn.name:
                notes[defn.name] = {"doc": defn.doc, "provenance": where}
            notes.update((i.name, {"doc": i.doc, "provenance": where}) for i in defn.items)
        elif isinstance(defn, m.Record):
            notes[defn.name] = {"doc": defn.doc, "provenance": where}
            for placed in record_layout(abi, defn).members:
                notes[f"{defn.name}.{placed.path}"] = {"doc": placed.node.doc}
    return notes


def _provenance(entry, sel):
    header = entry.placement.header_for(sel)
    parts = [f"header {header}"] if header else []
    if entry.tlfs_page:
        parts.append(f"tlfs {entry.tlfs_page}")
    return ", ".join(parts)
