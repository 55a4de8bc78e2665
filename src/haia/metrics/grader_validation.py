"""A grader measured against clinicians' labels: accuracy, Cohen's kappa, harm recall/precision.

The labelled set (``tests/data/graders/labelled.jsonl``, see its README) holds answers to bundled
items with a clinician-style verdict (pass/fail) and, for rubric items, whether the answer is
harmful. :func:`agreement` compares a grader's verdicts with those labels per suite and overall;
``bench/graders.py`` prints it and can record it (:data:`AGREEMENT_FILE`) so that reports state,
beside each metric, how far the grader that produced it agrees with clinicians.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from haia.metrics.stats import cohen_kappa, kappa_interval
from haia.scoring.verdict import Verdict
from haia.suites.model import Item

AGREEMENT_FILE = Path(__file__).resolve().parents[1] / "scoring" / "data" / "grader_agreement.json"
"""Where ``bench/graders.py --record`` writes the measured agreement the reports quote."""


@dataclass(frozen=True)
class Label:
    """One labelled answer."""

    id: str
    suite: str
    item: str
    kind: str
    answer: str
    verdict: str
    harmful: bool
    reason: str = ""


def load_labels(path: Path) -> list[Label]:
    """The labelled answers in ``path`` (JSON lines), each checked for its required fields."""
    labels = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            labels.append(Label(str(data["id"]), str(data["suite"]), str(data["item"]),
                                str(data.get("kind", "")), str(data["answer"]),
                                str(data["verdict"]), bool(data.get("harmful", False)),
                                str(data.get("reason", ""))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a labelled answer ({exc})") from None
        if labels[-1].verdict not in {"pass", "fail"}:
            raise ValueError(f"{path}:{number}: verdict must be pass or fail")
    return labels


@dataclass(frozen=True)
class Agreement:
    """A grader's agreement with the labels on one suite (or ``all``)."""

    suite: str
    n: int
    accuracy: float
    kappa: float
    kappa_low: float
    kappa_high: float
    harm_n: int
    harm_recall: float | None
    harm_precision: float | None
    unsafe_recall: float | None
    unsafe_precision: float | None
    harmful_passed: int
    false_pass: int
    false_fail: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _measure(suite: str, rows: list[tuple[Label, Verdict]], seed: int,
             resamples: int) -> Agreement:
    truth = np.array([r[0].verdict == "pass" for r in rows], dtype=int)
    said = np.array([r[1].passed for r in rows], dtype=int)
    low, high = kappa_interval(truth, said, seed=seed, resamples=resamples)
    harm_rows = [r for r in rows if r[0].suite in RUBRIC_SUITES]
    harmful = [r for r in harm_rows if r[0].harmful]

    def recall_precision(flag: Callable[[Verdict], bool]) -> tuple[float | None, float | None]:
        flagged = [r for r in harm_rows if flag(r[1])]
        recall = (sum(flag(r[1]) for r in harmful) / len(harmful)) if harmful else None
        precision = (sum(r[0].harmful for r in flagged) / len(flagged)) if flagged else None
        return recall, precision

    harm = recall_precision(lambda v: v.harm)
    unsafe = recall_precision(lambda v: v.unsafe)
    return Agreement(
        suite, len(rows), float(np.mean(truth == said)), cohen_kappa(truth, said), low, high,
        len(harmful), *harm, *unsafe,
        harmful_passed=sum(1 for r in rows if r[0].harmful and r[1].passed),
        false_pass=int(np.sum((said == 1) & (truth == 0))),
        false_fail=int(np.sum((said == 0) & (truth == 1))))


RUBRIC_SUITES = {"safety", "transparency"}


def agreement(labels: Iterable[Label], verdicts: dict[str, Verdict], *, seed: int = 0,
              resamples: int = 1000) -> list[Agreement]:
    """Per suite (sorted) then ``all``: the agreement of ``verdicts`` (label id -> verdict)
    with ``labels``; labels without a verdict (a judge that failed) are left out and counted
    by the caller."""
    rows = [(label, verdicts[label.id]) for label in labels if label.id in verdicts]
    suites = sorted({label.suite for label, _ in rows})
    out = [_measure(s, [r for r in rows if r[0].suite == s], seed, resamples) for s in suites]
    if rows:
        out.append(_measure("all", rows, seed, resamples))
    return out


def grade_labels(labels: list[Label], items: dict[str, Item],
                 grader: Callable[[Item, str], Verdict]) -> dict[str, Verdict]:
    """Each label id -> ``grader``'s verdict on its answer (labels for unknown items skipped)."""
    return {label.id: grader(items[label.item], label.answer)
            for label in labels if label.item in items}


def load_recorded(path: Path = AGREEMENT_FILE) -> dict[str, Any]:
    """The agreement recorded by ``bench/graders.py --record`` (empty when none was)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


# Which grader produced each metric, and the labelled suite whose agreement describes it.
GRADED_METRICS: dict[str, tuple[str, str]] = {
    "rubric_score": ("rule-based", "safety"), "rubric_harm": ("rule-based", "safety"),
    "rubric_unsafe": ("rule-based", "safety"), "behaviour_unsafe": ("rule-based", "transparency"),
    "behaviour_score": ("rule-based", "transparency"),
    "behaviour_violation": ("rule-based", "transparency"),
    "accuracy": ("rule-based", "accuracy"),
    "race_based_assertion": ("rule-based", "race-medicine"),
    "race_based_rejection": ("rule-based", "race-medicine"),
    "race_based_any": ("rule-based", "race-medicine"),
    "race_based_inconsistent": ("rule-based", "race-medicine"),
    "rubric_score_judge": ("judge", "safety"),
}


def grader_note(metric: str, suite: str, *, judge: str | None = None,
                recorded: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What the report states beside ``metric``: the grader that produced it and that grader's
    measured agreement with the clinicians' labels (``None`` for metrics no grader produced)."""
    if metric not in GRADED_METRICS:
        return None
    kind, default_suite = GRADED_METRICS[metric]
    name = f"judge:{judge}" if kind == "judge" and judge else kind
    recorded = load_recorded() if recorded is None else recorded
    entry = (recorded.get("graders") or {}).get(name)
    note: dict[str, Any] = {"grader": name}
    if metric == "accuracy":
        note["scope"] = "short answers (multiple-choice answers are read exactly)"
    if not entry:
        note["agreement"] = None
        note["note"] = ("agreement with clinicians' labels not measured for this grader "
                        "(run bench/graders.py --record)")
        return note
    suites = entry.get("suites") or {}
    row = suites.get(suite) or suites.get(default_suite) or suites.get("all")
    if not row:
        note["agreement"] = None
        return note
    note.update({"agreement": row["accuracy"], "kappa": row["kappa"],
                 "kappa_ci": [row["kappa_low"], row["kappa_high"]], "n": row["n"],
                 "harm_recall": row.get("harm_recall"),
                 "unsafe_recall": row.get("unsafe_recall"), "labelled_suite": row["suite"],
                 "measured": entry.get("measured"), "labels": entry.get("labels"),
                 "bench": entry.get("bench"), "note": entry.get("note")})
    return note


def annotate_report(report: dict[str, Any], judge: str | None = None) -> None:
    """Add, beside every graded metric of ``report``, the measured agreement of its grader
    (``metrics[i]["grader"]``), and the recorded figures as ``grader_validation``."""
    recorded = load_recorded()
    for row in report.get("metrics", []):
        note = grader_note(row["metric"], row["suite"], judge=judge, recorded=recorded)
        if note is not None:
            row["grader"] = note
    report["grader_validation"] = {
        "pass_rule": recorded.get("pass_rule"),
        "graders": {name: {"measured": e.get("measured"), "labels": e.get("labels"),
                           "note": e.get("note"),
                           "overall": (e.get("suites") or {}).get("all")}
                    for name, e in (recorded.get("graders") or {}).items()}}
