"""`hvabi import --recipe FILE`: several upstream copies, one per profile, into one spec.

A recipe lists header sets in priority order, each read as its own profile:

    sources:
      - profile: linux                     # a profile of spec/profiles.yaml (gives the view)
        flavor: kernel                     # kernel | uapi (default kernel)
        include: [DIR, ...]                # optional -I directories
        headers: [PATH, ARCH:PATH, ...]    # as `hvabi import` takes them

Paths may use $VARS from the environment and are relative to the recipe file. Each set is
read per arch and merged across arches (merge.py), the sets are merged across profiles
(profile_merge.py), then written as one spec file per HDK header (10-hvgdk_mini.yaml, ...)
in include order, so that the spec's order is an order every product can be emitted in.
With `--docs-from SPEC`, descriptions, reserved marks and TLFS pages of an existing spec
are carried over (overlay.py).
"""

import itertools
import os
import pathlib
from dataclasses import dataclass

import yaml

from .. import model as m
from ..errors import HvabiError
from ..extract.header_sets import FLAVORS
from . import merge, overlay, profile_merge, run, writer

# HDK header ids in include order (spec/products.yaml): the spec files, in this order.
HDK_FILES = ("hvgdk_mini", "hvgdk_ext", "hvgdk", "hvhdk_mini", "hvhdk")


@dataclass
class SourceSet:
    profile: str
    view: str
    flavor: str
    include_dirs: list
    sources: list                 # run.Source
    readings: dict = None
    items: list = None


@dataclass
class Result:
    files: dict                   # file name -> YAML text
    sets: list                    # SourceSet, read
    skips: list
    profiles_yaml: str


def load(recipe_path, views):
    path = pathlib.Path(recipe_path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise HvabiError(f"cannot read the recipe: {e.strerror}", str(path), "give an existing recipe file")
    except yaml.YAMLError as e:
        raise HvabiError(f"the recipe is not YAML: {e}", str(path), "see docs/import.md for the format")
    if not isinstance(doc, dict) or not isinstance(doc.get("sources"), list) or not doc["sources"]:
        raise HvabiError("the recipe has no `sources:` list", str(path), "see docs/import.md for the format")
    sets, seen = [], set()
    for i, src in enumerate(doc["sources"]):
        where = f"{path}: sources[{i}]"
        if not isinstance(src, dict) or not isinstance(src.get("headers"), list):
            raise HvabiError("a source needs `profile:` and a `headers:` list", where, "see docs/import.md")
        profile = src.get("profile")
        if profile not in views:
            raise HvabiError(f"unknown profile {profile!r}", where,
                       f"use one of spec/profiles.yaml: {', '.join(sorted(views))}")
        if profile in seen:
            raise HvabiError(f"profile {profile!r} is read twice", where, "give each profile one source")
        seen.add(profile)
        flavor = src.get("flavor", "kernel")
        if flavor not in FLAVORS:
            raise HvabiError(f"unknown flavor {flavor!r}", where, f"use one of {', '.join(FLAVORS)}")
        sources = [run.parse_source(_path(h, path, where)) for h in src["headers"]]
        include = [_path(d, path, where) for d in src.get("include", [])]
        sets.append(SourceSet(profile, views[profile], flavor, include, sources))
    return sets


def _path(text, recipe, where):
    arch, sep, rest = str(text).partition(":")
    prefix = ""
    if sep and arch in m.ARCHES:
        prefix, text = arch + ":", rest
    expanded = os.path.expandvars(text)
    if "$" in expanded:
        raise HvabiError(f"{text}: an environment variable is not set", where, "export it, then run again")
    return prefix + str(recipe.parent / expanded)


def import_recipe(recipe_path, spec_dir, docs_from=None, reserved_by_name=False):
    profiles_path = pathlib.Path(spec_dir) / "profiles.yaml"
    try:
        profiles_yaml = profiles_path.read_text(encoding="utf-8")
        views = {name: p["view"] for name, p in yaml.safe_load(profiles_yaml)["profiles"].items()}
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise HvabiError("cannot read the profiles", str(profiles_path), "give --spec the spec directory")
    sets = load(recipe_path, views)
    for s in sets:
        s.readings, s.items = run.read_set(s.sources, s.flavor, s.include_dirs)
    merged = profile_merge.merge_sources([(s.profile, _disambiguated(s.items)) for s in sets], views)
    notes = overlay.Overlay(docs_from, reserved_by_name)
    files = _write(merged, [s.profile for s in sets], views, notes)
    skips = [k for s in sets for k in run.skips_of(s.readings)]
    return Result(files, sets, skips, profiles_yaml)


def _disambiguated(items):
    """Format 1 places a definition in one header per profile: a source that has one key in
    two headers (an arch part and the generic part) cannot be merged."""
    home = {}
    for hid, defn, _ in items:
        key = profile_merge.key_of(defn)
        if home.setdefault(key, hid) != hid:
            raise HvabiError(f"{defn.name} is in two headers of one source ({home[key]} and {hid})",
                             str(defn.pos), "format 1 places a definition in one header per profile")
    return items


def _placement(mg, order, views, node=None):
    """{view or profile: header id} for one merged definition (for the profiles `node`
    exists in, if given)."""
    out = {}
    for view in dict.fromkeys(views[p] for p in order):
        mine = [p for p in order if views[p] == view and p in mg.headers
                and (node is None or m.Cond(view=node.cond.view, profile=node.cond.profile).matches(
                    m.Selection(p, views[p], None)))]
        ids = {mg.headers[p] for p in mine}
        if len(ids) == 1:
            out[view] = ids.pop()
        else:
            out.update((p, mg.headers[p]) for p in mine)
    return out


def _write(merged, order, views, notes):
    hdk_first = [p for p in order if views[p] == "hdk"]
    home = {}
    for mg in merged:
        hid = next((mg.headers[p] for p in hdk_first if p in mg.headers), None)
        home[mg.key] = hid if hid in HDK_FILES else None
    # Definitions no HDK profile has go to the file of the next one that has a home, so they
    # stay just before their first user.
    following = HDK_FILES[-1]
    for mg in reversed(merged):
        following = home[mg.key] or following
        home[mg.key] = following
    files = {}
    for idx, hid in enumerate(HDK_FILES):
        mine = [mg for mg in merged if home[mg.key] == hid]
        if mine:
            default = {"hdk": hid}
            entries = _file_entries(mine, order, views, notes, default)
            keys = {id(defn): extra for defn, extra in entries}
            files[f"{(idx + 1) * 10}-{hid}.yaml"] = writer.render(
                [defn for defn, _ in entries], default, attrs=lambda d, k=keys: k[id(d)])
    return files


def _file_entries(mine, order, views, notes, default):
    """(definition, extra entry keys) of one file, with the hand-written notes applied;
    a run of constants with one placement becomes constant groups (merge.group_consts)."""
    def run_key(mg):
        return ("consts", _placement(mg, order, views)) if _all_consts(mg) else ("defn", id(mg))

    out = []
    for (kind, place), group in itertools.groupby(mine, key=run_key):
        group = list(group)
        if kind == "consts":
            defs = merge.group_consts([(n, mg.group_break) for mg in group for n in mg.nodes])
            placed = [(defn, place) for defn in defs]
        else:
            placed = [(n, _placement(group[0], order, views, n)) for n in group[0].nodes]
        for defn, where in placed:
            defn = notes.apply(defn)
            out.append((defn, _entry_attrs(where, default, notes.tlfs_page(defn))))
    return out


def _all_consts(mg):
    return all(isinstance(n, m.Const) for n in mg.nodes)


def _entry_attrs(place, default, tlfs_page):
    extra = {k: v for k, v in place.items() if default.get(k) != v}
    out = [("header", writer.flow(sorted(extra.items())))] if extra else []
    if tlfs_page:
        out.append(("tlfs", writer.text_scalar(tlfs_page)))
    return out
