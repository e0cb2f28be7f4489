"""Suppression files: known, accepted changes that must not fail CI.

One rule per line, `SEVERITY PATTERN [KIND]`, `#` starts a comment:

    breaking   hv_vp_register_page.*            # the whole page was redesigned in v0.2
    review     hv_partition_*.reserved*
    breaking   HV_STATUS_* value-changed

SEVERITY is breaking, review, compatible or `*`; PATTERN is an fnmatch pattern (case
sensitive) on `definition` or `definition.member`; KIND, if given, must equal the
finding's kind. A suppressed finding is still reported, marked, and does not count
toward the exit status.
"""

import fnmatch

from ..errors import HvabiError
from .classify import KINDS, SEVERITIES
from .plain import Plain


class Rule(Plain):
    __slots__ = (
        "severity",
        "pattern",
        "kind",                   # or None: any kind
        "where",                  # file:line, shown next to what it suppressed
    )

    def matches(self, finding):
        return (self.severity in ("*", finding.severity)
                and fnmatch.fnmatchcase(finding.target, self.pattern)
                and self.kind in (None, finding.kind))


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise HvabiError(f"cannot read suppression file: {e}", None, "check the --suppress path")
    rules = []
    for number, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{path}:{number}"
        if len(words) not in (2, 3):
            raise HvabiError(f"expected `SEVERITY PATTERN [KIND]`, got {len(words)} words", where,
                             "e.g. `breaking hv_vp_register_page.*`")
        if words[0] not in (*SEVERITIES, "*"):
            raise HvabiError(f"unknown severity '{words[0]}'", where,
                             f"use one of {', '.join(SEVERITIES)} or *")
        kind = words[2] if len(words) == 3 else None
        if kind is not None and kind not in KINDS:
            raise HvabiError(f"unknown kind '{kind}'", where,
                             f"kinds: {', '.join(sorted(KINDS))}")
        rules.append(Rule(words[0], words[1], kind, where))
    return rules


def apply(rules, findings):
    """Mark each finding the first matching rule suppresses; return the unused rules."""
    used = set()
    for finding in findings:
        rule = next((r for r in rules if r.matches(finding)), None)
        if rule is not None:
            finding.suppressed = rule.where
            used.add(rule.where)
    return [r for r in rules if r.where not in used]
