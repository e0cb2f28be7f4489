"""Pair the views of consecutive sides per (profile, arch) and classify each pair."""

from ..errors import HvabiError
from . import classify, sources
from .plain import Plain


class Result(Plain):
    __slots__ = (
        "old",                    # the sides as given on the command line
        "new",
        "compared",               # "profile/arch" or "arch" labels, in order
        "findings",               # default []
    )
    _defaults = {"findings": list}


def choose_profiles(sides, requested, flavor):
    """The spec profiles to compare: as requested; between specs, every profile all of
    them have; between a spec and headers or objects, the profile whose product is
    rendered in `flavor` (uapi: rust-vmm, kernel: linux): what such headers reproduce."""
    specs = [s for s in sides if s.kind == sources.SPEC]
    if not specs:
        if requested:
            raise HvabiError("--profile needs a spec side", None,
                             "profiles select from a spec; headers and objects have none")
        return [None]
    if requested:
        return sorted(set(requested))
    if len(specs) == len(sides):
        common = sorted(set.intersection(*(set(s.profiles()) for s in specs)))
        if not common:
            raise HvabiError(f"{', '.join(s.label for s in specs)} have no profile in common",
                             None, "pick one with --profile")
        return common
    matching = specs[0].profiles(flavor)
    if len(matching) != 1:
        raise HvabiError(f"{specs[0].label}: no single profile is rendered in the {flavor} flavor",
                         None, "pick one with --profile")
    return matching


def compare(sides, arches, profiles, flavor):
    """One Result per consecutive pair of `sides` (a release history), each side read once."""
    spec_profiles = [p for p in profiles if p is not None]
    views = []
    try:
        for i, side in enumerate(sides):
            # header sides are parsed one ahead, while the one before is read
            for later in sides[i:i + 2]:
                sources.read_ahead(later, arches, flavor)
            views.append(sources.read_views(side, arches, spec_profiles, flavor))
    finally:
        sources.drop_ahead()
    return [_compare(old, new, old_views, new_views, arches, profiles)
            for old, new, old_views, new_views in zip(sides, sides[1:], views, views[1:])]


def _compare(old, new, old_views, new_views, arches, profiles):
    """Result with the merged findings of every (profile, arch) both sides have."""
    result = Result(old.label, new.label, [])
    per_pair = []
    for profile in profiles:
        for arch in arches:
            o = old_views.get((profile if old.kind == sources.SPEC else None, arch))
            n = new_views.get((profile if new.kind == sources.SPEC else None, arch))
            if o is None or n is None:
                continue          # an object side built for one arch only
            where = f"{profile}/{arch}" if profile else arch
            result.compared.append(where)
            per_pair.append((where, classify.classify(
                o.facts, n.facts, old_flags=o.reserved_flags, new_flags=n.reserved_flags,
                uapi=o.uapi or n.uapi, old_notes=o.notes, new_notes=n.notes)))
    if not result.compared:
        raise HvabiError(f"{old.label} and {new.label} have no arch in common", None,
                         "objects are compared per arch: give both sides objects of one arch")
    result.findings = classify.merge(per_pair)
    return result
