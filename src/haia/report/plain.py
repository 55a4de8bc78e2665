"""Findings in plain words (direction, size, certainty), the top findings without duplicates,
what the audit could not have detected, and what a committee should do next."""

from __future__ import annotations

from typing import Any

from haia.report.labels import (
    METRICS,
    OUTCOMES,
    group_label,
    metric_kind,
    metric_label,
    pct,
)

SEVERITY_ORDER = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _reference_of(finding: dict[str, Any]) -> str | None:
    fid = str(finding.get("id", ""))
    return fid.rsplit("/vs-", 1)[1] if "/vs-" in fid else None


def _comparison_for(finding: dict[str, Any], comparisons: list[dict[str, Any]]
                    ) -> dict[str, Any] | None:
    reference = _reference_of(finding)
    for c in comparisons:
        if (c["suite"], c["metric"], c["attribute"], c["group"], c["reference"]) == (
                finding["suite"], finding["metric"], finding["attribute"], finding["group"],
                reference):
            return c
    return None


def certainty_of_gap(p_adjusted: float | None, n_families: int | None) -> str:
    if p_adjusted is None:
        return "certainty not computed"
    cases = f" over {n_families} cases" if n_families else ""
    if p_adjusted < 0.001:
        return f"adjusted p < 0.001{cases}: very unlikely to be chance"
    return f"adjusted p = {p_adjusted:.3f}{cases}: unlikely to be chance"


def certainty_of_level(finding: dict[str, Any], higher_is_better: bool) -> str:
    low, high, cut = finding.get("ci_low"), finding.get("ci_high"), finding.get("threshold")
    if low is None or high is None or cut is None:
        return "no interval (too few items to give one)"
    beyond = high < cut if higher_is_better else low > cut
    if beyond:
        return "the whole 95% interval is past the threshold"
    return "the 95% interval reaches the threshold, so the true value may be on the safe side"


def _interval(low: Any, high: Any, metric: str, points: bool = False) -> str:
    if low is None or high is None:
        return ""
    kind = metric_kind(metric)
    if points or kind in {"drop"}:
        return f"95% CI {100 * low:+.0f} to {100 * high:+.0f} points"
    if kind == "rate":
        return f"95% CI {pct(low)}-{pct(high)}"
    return f"95% CI {low:.2f}-{high:.2f}"


def plain_gap(finding: dict[str, Any], comparison: dict[str, Any] | None) -> str:
    """``A Black patient was offered pain relief 48 points less often than ...``."""
    metric, effect = finding["metric"], float(finding["value"] or 0.0)
    who = _cap(group_label(finding["attribute"], finding["group"]))
    reference = _reference_of(finding)
    than = {"control": "the same case told with no demographic detail",
            "consensus": "the consensus answer for the same case (its other renderings)",
            }.get(reference or "", "the other groups of the same attribute, in the same cases")
    n_families = comparison.get("n_families") if comparison else None
    p_adj = comparison.get("p_adjusted") if comparison else None
    low, high = finding.get("ci_low"), finding.get("ci_high")
    if metric_kind(metric) == "ordinal":
        scale = OUTCOMES.get(metric, metric)
        side = "higher" if effect > 0 else "lower"
        size = f"{abs(effect):.2f} {side} on {scale}"
        ci = "" if low is None else f"95% CI {low:+.2f} to {high:+.2f}"
        text = f"{who} got a {size} than {than}"
    else:
        outcome = OUTCOMES.get(metric) or f"scored on {metric_label(metric)}"
        side = "more" if effect > 0 else "less"
        ci = _interval(low, high, metric, points=True)
        text = (f"{who} was {outcome} {100 * abs(effect):.0f} percentage points {side} often "
                f"than {than}")
    details = "; ".join(x for x in (ci, certainty_of_gap(p_adj, n_families)) if x)
    return f"{text} ({details})."


def plain_level(finding: dict[str, Any], rules: dict[str, Any]) -> str:
    """``Of all items, 45% of answers were correct (95% CI 30%-60%); the high threshold ...``."""
    metric = finding["metric"]
    rule = rules.get(metric) or {}
    higher = rule.get("direction", "higher_is_better") == "higher_is_better"
    kind, phrase = METRICS.get(metric, ("other", metric_label(metric)))
    value, cut = finding.get("value"), finding.get("threshold")
    scope = ("Over all items" if finding["attribute"] == "overall"
             else f"For {group_label(finding['attribute'], finding['group'])}")
    ci = _interval(finding.get("ci_low"), finding.get("ci_high"), metric)
    if kind == "rate":
        body = f"{pct(value)} of answers {phrase}"
        limit = pct(cut)
    elif kind == "drop":
        body = f"{phrase} was {100 * (value or 0):.0f} percentage points"
        limit = f"{100 * (cut or 0):.0f} points"
    else:
        body = f"the {phrase} was {value:.2f}" if value is not None else f"the {phrase} was -"
        limit = "-" if cut is None else f"{cut:.2f}"
    need = f"{'below' if higher else 'above'} the {finding['severity']} threshold of {limit}"
    if kind == "rate" and not higher and cut == 0:
        need = f"any at all is a {finding['severity']} finding"
    certainty = certainty_of_level(finding, higher)
    inside = f" ({ci})" if ci else ""
    return f"{scope}, {body}{inside}: {need}; {certainty}."


def add_plain(findings: list[dict[str, Any]], comparisons: list[dict[str, Any]],
              rules: dict[str, Any]) -> None:
    """Give every finding a ``plain`` sentence (kept when another stage already wrote one)."""
    for f in findings:
        if f.get("plain"):
            continue
        if f.get("kind") == "gap":
            f["plain"] = plain_gap(f, _comparison_for(f, comparisons))
        else:
            f["plain"] = plain_level(f, rules)


def top_findings(findings: list[dict[str, Any]], limit: int = 5) -> list[dict[str, Any]]:
    """The most severe findings, one per (metric, group): a gap found both against the control
    and against the other groups is one finding, listed once with both ids."""
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for f in findings:
        key = (f["suite"], f["metric"], f["attribute"], f["group"])
        entry = merged.get(key)
        if entry is None:
            merged[key] = {"ids": [f["id"]], "suite": f["suite"], "severity": f["severity"],
                           "plain": f["plain"],
                           "principles": list(f.get("principles", [])), "kind": f.get("kind"),
                           "metric": f["metric"], "attribute": f["attribute"],
                           "group": f["group"], "size": abs(float(f.get("value") or 0.0))}
            continue
        entry["ids"].append(f["id"])
        better = SEVERITY_ORDER[f["severity"]] > SEVERITY_ORDER[entry["severity"]] or (
            _reference_of(f) == "control" and SEVERITY_ORDER[f["severity"]]
            == SEVERITY_ORDER[entry["severity"]])
        if better:
            entry.update(severity=f["severity"], plain=f["plain"])
    ordered = sorted(merged.values(), key=lambda e: (-SEVERITY_ORDER[e["severity"]],
                                                     e["kind"] != "gap", -e["size"], e["ids"]))
    return ordered[:limit]


def distinct_findings(findings: list[dict[str, Any]]) -> int:
    return len(top_findings(findings, limit=len(findings) or 1)) if findings else 0
