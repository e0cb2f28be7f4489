"""`hvabi import`: which header goes where, reading per arch, merging, rendering.

A header argument is a path, or ARCH:PATH for a header read on that arch only (the arch
parts of the hyperv-tlfs.h trio). Each header gets a placement id from its name (the
header ids of spec/products.yaml), and all headers with the same id become one spec file.
"""

import dataclasses
import os
import re
from dataclasses import dataclass
from typing import Optional

from .. import model as m
from ..errors import HvabiError
from . import c_reader, merge, writer

HDK_IDS = ("hvgdk_mini", "hvgdk", "hvgdk_ext", "hvhdk_mini", "hvhdk")
TLFS_IDS = ("generic", "arch")


@dataclass
class Source:
    path: str
    arch: Optional[str]           # None: read on every arch
    id: str                       # placement id, also the output file's stem


@dataclass
class Imported:
    files: dict                   # file name -> YAML text
    readings: dict                # arch -> c_reader.Reading
    sources: list
    skips: list                   # c_reader.Skip, each once
    read: tuple = ()              # the read_set() result, to render again


def parse_source(arg):
    arch, sep, path = arg.partition(":")
    if not sep or arch not in m.ARCHES:
        arch, path = None, arg
    if not os.path.isfile(path):
        raise HvabiError(f"no such header: {path}", None,
                         f"give a path, or ARCH:PATH with ARCH one of {', '.join(m.ARCHES)}")
    stem = os.path.basename(path).rsplit(".", 1)[0]
    if stem in HDK_IDS:
        hid = stem
    elif stem == "hyperv-tlfs":
        hid = "arch" if arch else "generic"
    else:
        hid = re.sub(r"\W", "_", stem)
    return Source(path, arch, hid)


def read_set(sources, flavor, include_dirs=()):
    """Read `sources` on every arch: (readings, [(header id, definition, group_break)]) with
    the arches merged and constants not yet grouped, headers in the order given."""
    readings = {arch: c_reader.read([s.path for s in sources if s.arch in (None, arch)],
                                    arch, flavor, include_dirs) for arch in m.ARCHES}
    items = []
    for hid in dict.fromkeys(s.id for s in sources):
        per_arch = {}
        for arch, reading in readings.items():
            mine = [s for s in sources if s.id == hid and s.arch in (None, arch)]
            if mine:
                per_arch[arch] = [u for s in mine for u in reading.units[s.path]]
        items += [(hid, node, brk) for node, brk in merge.merge_arches(per_arch)]
    return readings, items


def _variants(defs):
    """Definitions of one name next to each other (arch shapes that could not be merged)
    become one entry with variants; their reasons are for a person to write."""
    out = []
    for defn in defs:
        last = out[-1] if out else None
        first = last[0] if isinstance(last, list) else last
        if first is not None and defn.name and first.name == defn.name \
                and type(first) is type(defn) and not isinstance(defn, m.ConstGroup):
            defn = dataclasses.replace(defn, why=defn.why or WHY_TODO)
            if isinstance(last, list):
                last.append(defn)
            else:
                out[-1] = [dataclasses.replace(first, why=first.why or WHY_TODO), defn]
        else:
            out.append(defn)
    return out


WHY_TODO = "TODO: say why the shapes differ"


def skips_of(readings):
    return list({(s.pos, s.name, s.why): s for r in readings.values() for s in r.skips}.values())


def import_headers(sources, flavor, include_dirs=(), keep=None, read=None):
    """Spec files (format 2) for `sources`; `keep(defn)` picks (or trims) the definitions
    to write; `read` is a read_set() result to reuse."""
    readings, items = read or read_set(sources, flavor, include_dirs)
    files = {}
    for hid in dict.fromkeys(s.id for s in sources):
        key = "tlfs" if hid in TLFS_IDS else "hdk"
        defs = merge.group_consts([(node, brk) for h, node, brk in items if h == hid])
        if keep is not None:
            defs = [d for d in (keep(d) for d in defs) if d is not None]
        files[f"{hid}.yaml"] = writer.render(_variants(defs), {key: hid})
    return Imported(files, readings, sources, skips_of(readings), (readings, items))
