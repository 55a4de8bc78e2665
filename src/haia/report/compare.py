"""What changed between two audits: new, resolved and persisting findings, verdict changes, and
metric and gap deltas with intervals. A comparison is a report of its own (JSON and HTML).

Findings are matched by what they are about (suite, metric, attribute, group): a gap found
against the control and against the other groups is one finding. The interval of a delta treats
the two runs as independent samples (standard errors from each 95% interval, added in
quadrature), which is conservative when the same items were asked twice.
"""

from __future__ import annotations

import math
from typing import Any

from haia import __version__
from haia.report.plain import SEVERITY_ORDER, top_findings

Z = 1.959964


def _key(f: dict[str, Any]) -> tuple[str, str, str, str]:
    return (f["suite"], f["metric"], f["attribute"], f["group"])


def _se(row: dict[str, Any]) -> float | None:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return None
    return (float(row["ci_high"]) - float(row["ci_low"])) / (2 * Z)


def delta(a: dict[str, Any], b: dict[str, Any], value: str = "value") -> dict[str, Any]:
    """``b - a`` with an approximate 95% interval; ``changed`` when it excludes 0."""
    d = float(b[value]) - float(a[value])
    se_a, se_b = _se(a), _se(b)
    if se_a is None or se_b is None:
        return {"delta": d, "ci_low": None, "ci_high": None, "changed": None}
    half = Z * math.hypot(se_a, se_b)
    low, high = d - half, d + half
    return {"delta": d, "ci_low": low, "ci_high": high, "changed": low > 0 or high < 0}


def _merged(report: dict[str, Any]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    if not report["findings"]:
        return {}
    merged = top_findings(report["findings"], limit=len(report["findings"]))
    return {_key(f): f for f in merged}


def compare_reports(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The comparison of report ``a`` (before) with report ``b`` (after)."""
    fa, fb = _merged(a), _merged(b)
    new = [fb[k] for k in sorted(fb.keys() - fa.keys())]
    resolved = [fa[k] for k in sorted(fa.keys() - fb.keys())]
    persisting = []
    for k in sorted(fa.keys() & fb.keys()):
        before, after = fa[k]["severity"], fb[k]["severity"]
        change = SEVERITY_ORDER[after] - SEVERITY_ORDER[before]
        persisting.append({**fb[k], "severity_before": before,
                           "trend": "worse" if change > 0 else "better" if change < 0
                           else "same"})
    for group in (new, resolved, persisting):
        group.sort(key=lambda f: (-SEVERITY_ORDER[f["severity"]], f["ids"]))
    ma = {(m["suite"], m["metric"], m["attribute"], m["group"]): m for m in a["metrics"]
          if m.get("value") is not None}
    metrics = []
    for m in b["metrics"]:
        key = (m["suite"], m["metric"], m["attribute"], m["group"])
        if m.get("value") is None or key not in ma:
            continue
        metrics.append({"suite": m["suite"], "metric": m["metric"], "attribute": m["attribute"],
                        "group": m["group"], "before": ma[key]["value"], "after": m["value"],
                        "n_before": ma[key]["n"], "n_after": m["n"], **delta(ma[key], m)})
    metrics.sort(key=lambda r: (r["attribute"] != "overall", not r["changed"],
                                -abs(r["delta"]), r["metric"], r["group"]))
    ca = {(c["metric"], c["attribute"], c["group"], c["reference"]): c
          for c in a.get("comparisons") or []}
    gaps = []
    for c in b.get("comparisons") or []:
        key = (c["metric"], c["attribute"], c["group"], c["reference"])
        if key in ca and not c.get("relevant"):
            gaps.append({"metric": c["metric"], "attribute": c["attribute"],
                         "group": c["group"], "reference": c["reference"],
                         "before": ca[key]["effect"], "after": c["effect"],
                         **delta(ca[key], c, "effect")})
    gaps.sort(key=lambda r: (not r["changed"], -abs(r["delta"])))
    va = {row["principle"]: row for row in a["scorecard"]}
    verdicts = [{"principle": row["principle"], "title": row["title"],
                 "before": va.get(row["principle"], {}).get("verdict"), "after": row["verdict"]}
                for row in b["scorecard"]]
    same_suites = [s.get("hash") for s in a["suites"]] == [s.get("hash") for s in b["suites"]]
    warnings = []
    if not same_suites:
        warnings.append("The two runs used different suite content (hashes differ): deltas "
                        "compare different items.")
    if a["run"]["model"] == b["run"]["model"]:
        warnings.append("Both runs audited the same model spec; changes may come from the "
                        "model's own variation, the suite or the thresholds.")
    summary = (f"{len(new)} new, {len(resolved)} resolved and {len(persisting)} persisting "
               f"finding(s); {sum(1 for m in metrics if m['changed'])} metric(s) changed "
               "beyond their intervals.")
    return {
        "kind": "comparison", "haia_version": __version__, "summary": summary,
        "before": _identity(a), "after": _identity(b),
        "new": new, "resolved": resolved, "persisting": persisting,
        "verdicts": verdicts, "metrics": metrics, "gaps": gaps, "warnings": warnings,
    }


def _identity(report: dict[str, Any]) -> dict[str, Any]:
    run = report["run"]
    return {"run_id": run["run_id"], "model": report["model_card"]["model"]["name"],
            "spec": run["model"], "suite": run["suite"], "suite_version": run["suite_version"],
            "created": run["created"], "finished": run["finished"],
            "findings": report.get("distinct_findings", len(report["findings"]))}
