"""The report's ordered sections, shared by the HTML and the PDF renderers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any


def sorted_comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every comparison, smallest adjusted p first (untested ones last), then largest gap."""
    def key(c: dict[str, Any]) -> tuple[float, float]:
        p = c.get("p_adjusted")
        return (2.0 if p is None else float(p), -abs(float(c.get("effect") or 0.0)))

    return sorted(report.get("comparisons") or [], key=key)


def metric_sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The appendix's per-group metrics: one section per (suite, metric), attributes inside."""
    sections: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for row in report["metrics"]:
        sections[(row["suite"], row["metric"])][row["attribute"]].append(row)
    out = []
    for (suite, metric), by_attr in sorted(sections.items()):
        attrs = sorted(by_attr.items(), key=lambda kv: (kv[0] != "overall", kv[0]))
        out.append({"suite": suite, "metric": metric,
                    "attributes": [{"attribute": a, "rows": sorted(rows, key=lambda r: r["group"])}
                                   for a, rows in attrs],
                    "n_rows": sum(len(rows) for rows in by_attr.values())})
    return out
