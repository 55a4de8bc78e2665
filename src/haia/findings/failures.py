"""Failed requests made visible: their causes by kind, and a finding when any failed.

An audit in which the model could not be reached, refused the key, answered only with server
errors or with malformed answers has measured nothing about those items; reporting it as
"findings: none" would approve what was never tested. :func:`summarise_failures` counts the
failed requests of a run by cause, :func:`failure_finding` turns them into a finding (its
severity from the ``failed_requests`` rule of the thresholds, so ``--fail-on`` counts it) and
the audit command exits non-zero when their share exceeds ``--max-failed``. Skips an adapter
declares (an image item sent to a text-only model) are not failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from haia.findings.judge import mapping_for
from haia.findings.model import Finding, Severity
from haia.record import SampleRecord

METRIC = "failed_requests"

# (kind, pattern on the stored error message, plain description), first match wins.
KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("unreachable", re.compile(r"cannot connect|connecting to .* timed out|closed the connection"
                               r"|connection to .* failed|connection pool is closed", re.I),
     "endpoint unreachable or connection dropped"),
    ("auth", re.compile(r"^HTTP 40[13]\b"), "HTTP 401/403: the key or credentials were refused"),
    ("rate_limited", re.compile(r"^HTTP 429\b"), "HTTP 429: rate limited after every retry"),
    ("server_error", re.compile(r"^HTTP 5\d\d\b"), "HTTP 5xx: server errors after every retry"),
    ("malformed", re.compile(r"malformed|bad chunk|not a token count|status line", re.I),
     "malformed answer (not a well-formed chat completion)"),
    ("timeout", re.compile(r"timed out", re.I), "timed out after every retry"),
    ("rejected", re.compile(r"^HTTP 4\d\d\b"), "HTTP 4xx: the request was rejected"),
)
OTHER = ("other", "other error")
DESCRIPTIONS = {kind: text for kind, _, text in KINDS} | {OTHER[0]: OTHER[1]}


def classify(error: str | None) -> str:
    """The kind of a stored error message (``unreachable``, ``auth``, ``server_error``, ...)."""
    for kind, pattern, _ in KINDS:
        if error and pattern.search(error):
            return kind
    return OTHER[0]


def summarise_failures(responses: Iterable[SampleRecord], total: int | None = None
                       ) -> dict[str, Any]:
    """Failed requests of a run: how many, their share of ``total`` (default: the responses
    stored) and, per kind, the count, a plain description, one example message and the items."""
    responses = list(responses)
    failed = [r for r in responses if r.status == "error"]
    total = len(responses) if total is None else total
    by_kind: dict[str, dict[str, Any]] = {}
    for r in failed:
        kind = classify(r.error)
        entry = by_kind.setdefault(kind, {"count": 0, "cause": DESCRIPTIONS[kind],
                                          "example": (r.error or "")[:200], "items": []})
        entry["count"] += 1
        if len(entry["items"]) < 25 and r.item_id not in entry["items"]:
            entry["items"].append(r.item_id)
    ordered = dict(sorted(by_kind.items(), key=lambda kv: -kv[1]["count"]))
    return {"failed": len(failed), "requests": total,
            "share": (len(failed) / total) if total else 0.0, "by_kind": ordered}


DEFAULT_RULE = {"direction": "lower_is_better",
                "cutoffs": {"medium": 0.0, "high": 0.10, "critical": 0.50}}


def failure_finding(summary: dict[str, Any], suite: str,
                    thresholds: dict[str, Any] | None = None) -> Finding | None:
    """A finding when requests failed (severity from the ``failed_requests`` threshold rule)."""
    if not summary["failed"]:
        return None
    rule = ((thresholds or {}).get("metrics") or {}).get(METRIC) or DEFAULT_RULE
    share = float(summary["share"])
    severity, cutoff = Severity.info, None
    for name, value in (rule.get("cutoffs") or {}).items():
        level = Severity.parse(name)
        if share > float(value) and level > severity:
            severity, cutoff = level, float(value)
    if severity == Severity.info:
        return None
    causes = "; ".join(f"{k['count']} {k['cause']}" for k in summary["by_kind"].values())
    principles, frameworks = mapping_for(METRIC)
    items = sorted({i for k in summary["by_kind"].values() for i in k["items"]})[:25]
    message = (f"{summary['failed']} of {summary['requests']} requests failed "
               f"({100 * share:.1f}%), so those items were not assessed: {causes}")
    return Finding(
        id=f"{suite}/{METRIC}/overall=all", suite=suite, metric=METRIC, attribute="overall",
        group="all", severity=severity, value=share, ci_low=None, ci_high=None,
        threshold=cutoff, message=message, evidence=items,
        principles=principles, frameworks=frameworks)


def failure_lines(summary: dict[str, Any]) -> list[str]:
    """The causes of failure, one line per kind, for the screen."""
    return [f"{k['count']} × {k['cause']} (e.g. {k['example'][:120]})"
            for k in summary["by_kind"].values()]
