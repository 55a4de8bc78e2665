"""The report data model: one dict, rendered to JSON and HTML (and PDF) alike."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from haia import __version__
from haia.findings.judge import framework_map
from haia.findings.model import Finding, Severity
from haia.metrics.equity import Comparison
from haia.metrics.table import MetricRow, ScoreRow
from haia.runner.store import ResponseRecord, RunRecord
from haia.suites.model import Suite


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_summary(run: RunRecord, responses: list[ResponseRecord]) -> dict[str, Any]:
    """The ``run`` section: identity, configuration, counts, usage and latency."""
    status = Counter(r.status for r in responses)
    fresh = [r.latency_ms for r in responses if r.status == "ok" and not r.cached]
    config = {k: v for k, v in run.config.items() if k not in {"headers"}}
    config["headers"] = sorted(run.config.get("headers", {}))  # names only, never values
    return {
        "run_id": run.run_id, "model": run.model, "suite": run.suite,
        "suite_version": run.suite_version, "suite_hash": run.suite_hash,
        "created": run.created, "finished": run.finished, "status": run.status,
        "config": config,
        "counts": {"responses": len(responses), "ok": status["ok"], "errors": status["error"],
                   "skipped": status["skipped"],
                   "cached": sum(1 for r in responses if r.cached),
                   "items": len({r.item_id for r in responses})},
        "usage": {"prompt_tokens": sum(r.prompt_tokens for r in responses),
                  "completion_tokens": sum(r.completion_tokens for r in responses)},
        "latency_ms": {"mean": statistics.fmean(fresh) if fresh else None,
                       "p50": _percentile(fresh, 0.5), "p95": _percentile(fresh, 0.95)},
        "haia_version": __version__,
    }


def scorecard(findings: list[Finding], metrics: list[MetricRow] | None = None
              ) -> list[dict[str, Any]]:
    """Per WHO principle: the metrics that speak to it in this run (``assessed`` is false when
    none did: silence is not a pass), how many findings of each severity, and the worst."""
    frameworks = framework_map()
    names = frameworks["principles"]
    measured: dict[str, set[str]] = defaultdict(set)
    for row in metrics or []:
        for principle in frameworks["metrics"].get(row.metric, {}).get("who", []):
            measured[principle].add(row.metric)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding in findings:
        for principle in finding.principles:
            counts[principle][finding.severity.name] += 1
    card = []
    for key, title in names.items():
        severities = counts.get(key, Counter())
        worst = max((Severity[s] for s in severities), default=None)
        card.append({"principle": key, "title": title, "findings": dict(severities),
                     "worst": worst.name if worst is not None else None,
                     "metrics": sorted(measured.get(key, ())),
                     "assessed": bool(measured.get(key))})
    return card


def build_report(run: RunRecord, suite: Suite, responses: list[ResponseRecord],
                 scores: list[ScoreRow], metrics: list[MetricRow], findings: list[Finding],
                 *, include_responses: bool = False,
                 comparisons: list[Comparison] | None = None,
                 equity: dict[str, Any] | None = None,
                 disparities: list[dict[str, Any]] | None = None,
                 sustainability: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole report as plain data."""
    by_item: dict[tuple[str, int], dict[str, Any]] = {}
    for r in responses:
        entry: dict[str, Any] = {"item_id": r.item_id, "sample": r.sample, "status": r.status,
                                 "scores": {}, "labels": {}}
        if r.error:
            entry["error"] = r.error
        if include_responses:
            entry["response"] = r.text
        by_item[(r.item_id, r.sample)] = entry
    for s in scores:
        entry = by_item[(s.item_id, s.sample)]
        entry["scores"][s.metric] = s.value
        if s.label is not None:
            entry["labels"][s.metric] = s.label
    return {
        "haia_version": __version__,
        "run": run_summary(run, responses),
        "suites": [{"name": suite.name, "version": suite.version,
                    "description": suite.meta.description, "provenance": suite.meta.provenance,
                    "licence": suite.meta.licence,
                    "principles": [p.value for p in suite.meta.principles]}],
        "metrics": [m.as_dict() for m in metrics],
        "findings": [f.as_dict() for f in findings],
        "scorecard": scorecard(findings, metrics),
        "comparisons": [c.as_dict() for c in comparisons or []],
        "equity": equity or {},
        "disparities": disparities or [],
        "sustainability": sustainability or {},
        "items": list(by_item.values()),
    }
