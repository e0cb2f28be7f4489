#!/usr/bin/python3
"""Print how much of a spec's conditional text marks a real ABI difference.

    tools/spec_redundancy.py SPEC_DIR

Reads the YAML of spec format 1 (`arch:`/`view:`/`profile:`) or 2 (`only:`) as text
and classifies every condition:
  arch          names arches only: the node exists on, or differs by, some arches
  layout        a member or bitfield present, or placed, in some copies only: the
                records differ
  variant       the same name written again under another condition, with another shape
  spelling      the same name written again with the same shape (0x2 vs 2, spacing)
  view          a definition or item of one view only (documented TLFS vs HDK)
  which-copy    a definition or item tagged with the profiles that happen to list it
Only `spelling` and `which-copy` mark no real difference. Also prints the lines of the
definitions, of profiles.yaml and the names in its `omit` lists.
"""

import collections
import pathlib
import sys

import yaml

ARCHES = {"x86_64", "arm64"}
VIEWS = {"tlfs", "hdk"}
KINDS = ("consts", "enum", "struct", "union", "register", "typedef")
META = {"doc", "why", "only", "arch", "view", "profile", "ahead", "header", "tlfs", "variants"}


def terms(node):
    """(names arches, names views, names profiles) of a node's condition, or None."""
    if "only" in node:
        raw = node["only"]
        words = [raw] if isinstance(raw, str) else raw
        whos = {str(w).partition("@")[0] for w in words} - ARCHES
        return True, bool(whos & VIEWS), bool(whos - VIEWS)
    if not any(k in node for k in ("arch", "view", "profile")):
        return None
    return "arch" in node, "view" in node, "profile" in node


def shape(node):
    """A node without conditions and prose, integer spellings and spacing folded."""
    if isinstance(node, dict):
        return tuple(sorted((k, shape(v)) for k, v in node.items() if k not in META))
    if isinstance(node, list):
        return tuple(shape(x) for x in node)
    if isinstance(node, str):
        return node.replace(" ", "").lower()
    return node


def name_of(node):
    for key in ("name", "struct", "union", "anon") + KINDS:
        if key in node:
            return (key, node[key])
    return None


def classify(node, siblings, in_record, counts):
    cond = terms(node)
    if cond is not None:
        arch, view, profile = cond
        same = [s for s in siblings if s is not node and name_of(s) == name_of(node)]
        if same and in_record:
            kind = "layout"          # the copies place or shape the member differently
        elif same:
            kind = "spelling" if any(shape(s) == shape(node) for s in same) else "variant"
        elif not (view or profile):
            kind = "arch"
        elif in_record:
            kind = "layout"
        else:
            kind = "which-copy" if profile else "view"
        counts[kind] += 1
    for key in ("members", "fields"):
        kids = node.get(key) or []
        for kid in kids:
            classify(kid, kids, True, counts)
    kids = node.get("items") or []
    for kid in kids:
        classify(kid, kids, False, counts)
    variants = node.get("variants") or []
    for v in variants:
        classify(v, variants, False, counts)


def main(argv):
    spec = pathlib.Path(argv[0])
    counts = collections.Counter()
    entries, lines = [], 0
    for path in sorted((spec / "defs").glob("*.yaml")):
        text = path.read_text()
        lines += len(text.splitlines())
        entries += yaml.safe_load(text)["defs"]
    for entry in entries:
        classify(entry, entries, False, counts)
    profiles = spec / "profiles.yaml"
    omit = sum(len(body.get("omit", [])) for body in yaml.safe_load(profiles.read_text())["profiles"].values())
    total = sum(counts.values())
    print(f"spec: {spec}")
    print(f"definition lines: {lines}; profiles.yaml lines: {len(profiles.read_text().splitlines())},"
          f" omit names: {omit}; entries: {len(entries)}")
    print(f"conditions: {total}")
    for kind in ("arch", "layout", "variant", "view", "which-copy", "spelling"):
        print(f"  {kind:11} {counts[kind]:5}")
    print(f"marking no real difference (which-copy + spelling): {counts['which-copy'] + counts['spelling']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
