"""Pair the views of two sides per (profile, arch) and classify each pair."""

from dataclasses import dataclass, field

from ..errors import HvabiError
from . import classify, sources


@dataclass
class Result:
    old: str                      # the sides as given on the command line
    new: str
    compared: list                # "profile/arch" or "arch" labels, in order
    findings: list = field(default_factory=list)


def choose_profiles(old, new, requested, flavor):
    """The spec profiles to compare: as requested; for two specs, every profile both
    have; for a spec against headers or objects, the profile whose product is rendered in
    `flavor` (uapi: rust-vmm, kernel: linux), since that is what such headers reproduce."""
    specs = [s for s in (old, new) if s.kind == sources.SPEC]
    if not specs:
        if requested:
            raise HvabiError("--profile needs a spec side", None,
                             "profiles select from a spec; headers and objects have none")
        return [None]
    if requested:
        return sorted(set(requested))
    if len(specs) == 2:
        common = sorted(set(old.profiles()) & set(new.profiles()))
        if not common:
            raise HvabiError(f"{old.label} and {new.label} have no profile in common", None,
                             "pick one with --profile")
        return common
    matching = specs[0].profiles(flavor)
    if len(matching) != 1:
        raise HvabiError(f"{specs[0].label}: no single profile is rendered in the {flavor} flavor",
                         None, "pick one with --profile")
    return matching


def compare(old, new, arches, profiles, flavor):
    """Result with the merged findings of every (profile, arch) both sides have."""
    spec_profiles = [p for p in profiles if p is not None]
    old_views = sources.read_views(old, arches, spec_profiles, flavor)
    new_views = sources.read_views(new, arches, spec_profiles, flavor)
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
