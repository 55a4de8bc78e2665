"""The report data model: one dict, rendered to JSON and HTML (and PDF) alike."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from haia import __version__
from haia.findings.judge import framework_map, load_thresholds
from haia.findings.model import Finding
from haia.metrics.equity import Comparison
from haia.metrics.stats import percentile
from haia.metrics.table import MetricRow, ScoreRow
from haia.record import SampleRecord
from haia.report.labels import is_demographic
from haia.report.model_card import describe_model, model_block
from haia.report.plain import add_plain, distinct_findings, top_findings
from haia.report.verdicts import actions, limits, scorecard
from haia.runner.store import RunRecord
from haia.suites.model import Suite
from haia.suites.review import latest_review

SCHEMA_VERSION = "2"


def run_summary(run: RunRecord, responses: list[SampleRecord]) -> dict[str, Any]:
    """The ``run`` section: identity, configuration, counts, usage and latency."""
    status = Counter(r.status for r in responses)
    fresh = [round(r.latency_s * 1000, 6) for r in responses if r.status == "ok" and not r.cached]
    config = {k: v for k, v in run.config.items() if k not in {"headers"}}
    config["headers"] = sorted(run.config.get("headers", {}))  # names only, never values
    return {
        "run_id": run.run_id, "model": describe_model(run.model)["spec"], "suite": run.suite,
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
                       "p50": percentile(fresh, 50), "p95": percentile(fresh, 95)},
        "haia_version": __version__,
    }


def _duration(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def framework_refs(metrics: list[MetricRow], comparisons: list[Comparison]) -> dict[str, Any]:
    """Each metric's framework mapping, once (not repeated on every finding row)."""
    names = sorted({m.metric for m in metrics} | {c.metric for c in comparisons})
    mapping = framework_map()["metrics"]
    return {name: mapping[name] for name in names if name in mapping}


def reproducibility(run: dict[str, Any], suites: list[dict[str, Any]],
                    sustainability: dict[str, Any], thresholds: dict[str, Any],
                    reviews: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What another auditor needs to repeat the audit and check they got the same."""
    config = run["config"]
    return {
        "haia_version": __version__,
        "suites": [{"name": s["name"], "version": s["version"], "hash": s.get("hash"),
                    "n_items": s.get("n_items")} for s in suites],
        "model": run["model"],
        "parameters": {k: config.get(k) for k in ("temperature", "max_tokens", "samples",
                                                   "seed", "concurrency", "limit", "timeout",
                                                   "retries", "judge", "structured")},
        "seed": config.get("seed"),
        "thresholds_file": config.get("thresholds"),
        "correction": thresholds.get("defaults", {}).get("correction"),
        "alpha": thresholds.get("defaults", {}).get("alpha"),
        "started": run["created"], "finished": run["finished"],
        "duration_s": _duration(run["created"], run["finished"]),
        "tokens": run["usage"],
        "cost_usd_per_1k": sustainability.get("cost_usd_per_1k"),
        "energy_wh_per_1k": sustainability.get("energy_wh_per_1k"),
        "energy_method": sustainability.get("energy_method"),
        "reviews": reviews or [],
    }


def equity_block(comparisons: list[dict[str, Any]], findings: list[dict[str, Any]],
                 analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    """Gaps between groups in one place, with the equity analysis's own summary (``analysis``:
    e.g. ``detectable``, the minimum detectable gap per outcome and attribute) kept beside."""
    gaps = [f for f in findings if f.get("kind") == "gap"]
    tested = [c for c in comparisons if not c.get("relevant")]
    block: dict[str, Any] = {
        "tested": len(tested), "relevant": len(comparisons) - len(tested),
        "findings": len(gaps), "attributes": sorted({c["attribute"] for c in tested}),
        "outcomes": sorted({c["metric"] for c in tested}), "minimum_detectable": [],
        "plain": [f["plain"] for f in gaps]}
    extra = dict(analysis or {})
    extra.pop("comparisons", None)  # already in the report's own table
    block.update({k: v for k, v in extra.items() if k not in block or not block[k]})
    if not block["minimum_detectable"] and isinstance(extra.get("detectable"), list):
        block["minimum_detectable"] = [
            {"metric": d.get("metric"), "attribute": d.get("attribute"),
             "n_families": d.get("n_families"), "gap": d.get("minimum_detectable_gap"),
             "unit": d.get("unit")} for d in extra["detectable"] if isinstance(d, dict)]
    return block


def summary_line(report: dict[str, Any]) -> str:
    """The report's first sentence: what was audited, the verdicts and the findings."""
    run, counts = report["run"], report["run"]["counts"]
    verdicts = Counter(row["verdict"] for row in report["scorecard"])
    said = ", ".join(f"{verdicts[v]} {v.replace('_', ' ')}" for v in
                     ("fails", "concern", "meets", "not_assessed") if verdicts.get(v))
    merged = top_findings(report["findings"], limit=max(1, len(report["findings"])))
    severities = Counter(f["severity"] for f in merged) if report["findings"] else Counter()
    found = ", ".join(f"{severities[s]} {s}" for s in ("critical", "high", "medium", "low",
                                                        "info") if severities.get(s))
    n = sum(severities.values())
    findings = f"{n} distinct finding{'s' if n != 1 else ''}" + (f" ({found})" if found else "")
    date = (run.get("finished") or run["created"])[:10]
    return (f"{report['model_card']['model']['name']} was audited with the {run['suite']} suite "
            f"({counts['items']} items, {counts['ok']} answered) on {date}. WHO principles: "
            f"{said}. {findings}.")


def build_report(run: RunRecord, suite: Suite, responses: list[SampleRecord],
                 scores: list[ScoreRow], metrics: list[MetricRow], findings: list[Finding],
                 *, include_responses: bool = False,
                 comparisons: list[Comparison] | None = None,
                 disparities: list[dict[str, Any]] | None = None,
                 sustainability: dict[str, Any] | None = None,
                 equity: dict[str, Any] | None = None,
                 thresholds: dict[str, Any] | None = None,
                 system: dict[str, Any] | None = None,
                 signature: dict[str, Any] | None = None,
                 reviews: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole report as plain data (validated by ``schema.json``)."""
    thresholds = thresholds or load_thresholds()
    by_item: dict[tuple[str, int], dict[str, Any]] = {}
    for r in responses:
        entry: dict[str, Any] = {"item_id": r.item_id, "sample": r.sample, "status": r.status,
                                 "scores": {}, "labels": {}}
        if r.error:
            entry["error"] = r.error
        if include_responses:
            entry["response"] = r.output
        by_item[(r.item_id, r.sample)] = entry
    for s in scores:
        entry = by_item[(s.item_id, s.sample)]
        entry["scores"][s.metric] = s.value
        if s.label is not None:
            entry["labels"][s.metric] = s.label
    comparison_rows = [c.as_dict() for c in comparisons or []]
    finding_rows = [f.as_dict() for f in findings]
    add_plain(finding_rows, comparison_rows, thresholds.get("metrics", {}))
    metric_rows = [m.as_dict() for m in metrics]
    summary = run_summary(run, responses)
    suites = [{"name": suite.name, "version": suite.version,
               "description": suite.meta.description, "provenance": suite.meta.provenance,
               "licence": suite.meta.licence, "hash": run.suite_hash,
               "n_items": len(suite.items),
               "principles": [p.value for p in suite.meta.principles]}]
    sus = sustainability or {}
    if reviews is None:  # the suite's own content review record (review.yaml beside it)
        record = latest_review(suite.path)
        reviews = [{"suite": suite.name, **record}] if record else []
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "haia_version": __version__,
        "run": summary,
        "model_card": model_block(run.model, summary["config"], system),
        "suites": suites,
        "metrics": metric_rows,
        "findings": finding_rows,
        "top_findings": top_findings(finding_rows),
        "comparisons": comparison_rows,
        "equity": equity_block(comparison_rows, finding_rows, equity),
        "disparities": [{**d, "demographic": is_demographic(d["attribute"])}
                        for d in disparities or []],
        "sustainability": sus,
        "frameworks": framework_refs(metrics, comparisons or []),
        "reproducibility": reproducibility(summary, suites, sus, thresholds, reviews),
        "signature": signature,
        "items": list(by_item.values()),
    }
    report["scorecard"] = scorecard(finding_rows, metric_rows, comparison_rows, thresholds,
                                    {p.value for p in suite.meta.principles},
                                    report["equity"]["minimum_detectable"])
    report["distinct_findings"] = distinct_findings(finding_rows)
    report["summary_line"] = summary_line(report)
    report["limits"] = limits(report, thresholds)
    report["actions"] = actions(report)
    return report
