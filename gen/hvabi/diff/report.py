"""Render a diff result as text (people), JSON (tools; `hvabi-diff/1`, docs/abi-diff.md)
or Markdown (a pull-request comment). Findings are grouped by definition, worst first."""

from itertools import groupby

from .classify import BREAKING, COMPATIBLE, REVIEW, SEVERITIES

FORMAT = "hvabi-diff/1"
FORMATS = ("text", "json", "markdown")


def counts(result):
    """{severity: findings not suppressed, ..., "suppressed": n}."""
    out = {s: sum(1 for f in result.findings if f.severity == s and not f.suppressed)
           for s in SEVERITIES}
    out["suppressed"] = sum(1 for f in result.findings if f.suppressed)
    return out


def render(results, fmt):
    """One report per compared pair: text and Markdown one after the other; JSON one
    document, or an array of them for a history of more than two sides."""
    if fmt == "json":
        docs = [_json(result) for result in results]
        import json   # only for --format json
        return json.dumps(docs[0] if len(docs) == 1 else docs, indent=1) + "\n"
    render_one = _text if fmt == "text" else _markdown
    return "\n".join(render_one(result) for result in results)


def _json(result):
    return {
        "format": FORMAT,
        "old": result.old,
        "new": result.new,
        "compared": result.compared,
        "summary": counts(result),
        "findings": [{
            "category": f.category, "definition": f.definition, "member": f.member,
            "kind": f.kind, "severity": f.severity, "old": f.old, "new": f.new,
            "detail": f.detail, "where": f.where, "suppressed": f.suppressed,
        } for f in result.findings],
    }


def _summary_text(result):
    c = counts(result)
    text = f"{c[BREAKING]} breaking, {c[REVIEW]} review, {c[COMPATIBLE]} compatible"
    return text + (f" ({c['suppressed']} suppressed)" if c["suppressed"] else "")


def _heading(f):
    return f"{f.category} {f.definition}"


def _groups(findings):
    """(heading, findings) per definition; definitions with the worst findings first."""
    groups = [(heading, list(group)) for heading, group in groupby(findings, _heading)]
    return sorted(groups, key=lambda g: min(SEVERITIES.index(f.severity) for f in g[1]))


def _where(f, compared):
    """Where a finding holds, when not everywhere compared: `arm64 only`, `rust-vmm only`,
    `linux, tlfs only`, else the list of profile/arch pairs."""
    if f.where == compared:
        return ""
    every = [w.rpartition("/")[::2] for w in compared]         # (profile or "", arch)
    pairs = {w.rpartition("/")[::2] for w in f.where}
    all_profiles = list(dict.fromkeys(p for p, _ in every))
    all_arches = list(dict.fromkeys(a for _, a in every))
    profiles = [p for p in all_profiles if any(q == p for q, _ in pairs)]
    arches = [a for a in all_arches if any(b == a for _, b in pairs)]
    if pairs == {(p, a) for p in profiles for a in all_arches}:
        return f"{', '.join(profiles)} only"
    if pairs == {(p, a) for p in all_profiles for a in arches}:
        return f"{', '.join(arches)} only"
    return ", ".join(f.where)


def _text(result):
    lines = [f"hvabi diff {result.old} -> {result.new} ({', '.join(result.compared)})"]
    if not result.findings:
        lines.append("no ABI changes")
    for heading, findings in _groups(result.findings):
        lines.append("")
        lines.append(heading)
        for f in findings:
            notes = [n for n in (_where(f, result.compared),
                                 f.suppressed and f"suppressed by {f.suppressed}") if n]
            tail = f"  [{'; '.join(notes)}]" if notes else ""
            lines.append(f"  {f.severity:<10}  {f.kind:<19}  {f.detail}{tail}")
    lines += ["", _summary_text(result)]
    return "\n".join(lines) + "\n"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(result, findings):
    rows = ["| severity | definition | change | details |", "|---|---|---|---|"]
    for f in findings:
        severity = f"**{f.severity}**" if f.severity == BREAKING and not f.suppressed else f.severity
        where = _where(f, result.compared)
        detail = _cell(f.detail) + (f" *({where})*" if where else "")
        if f.suppressed:
            detail += f" *(suppressed by `{_cell(f.suppressed)}`)*"
        rows.append(f"| {severity} | `{_cell(f.target)}` | {f.kind} | {detail} |")
    return rows


def _markdown(result):
    c = counts(result)
    lines = [f"### hvabi ABI diff: `{result.old}` → `{result.new}`", ""]
    summary = _summary_text(result)
    if c[BREAKING]:
        summary = summary.replace(f"{c[BREAKING]} breaking", f"**{c[BREAKING]} breaking**", 1)
    lines += [f"{summary}. Compared: {', '.join(result.compared)}.", ""]
    urgent = [f for f in result.findings if f.severity != COMPATIBLE and not f.suppressed]
    rest = [f for f in result.findings if f not in urgent]
    if urgent:
        lines += _table(result, urgent) + [""]
    if rest:
        lines += [f"<details><summary>{len(rest)} compatible or suppressed</summary>", ""]
        lines += _table(result, rest) + ["", "</details>", ""]
    if not result.findings:
        lines += ["No ABI changes.", ""]
    return "\n".join(lines)
