"""Agreement between the rule-based rubric grader and the judge model, criterion by criterion."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import cohen_kappa_score

from haia.metrics.stats import bootstrap_ci
from haia.metrics.table import MetricRow, ScoreRow
from haia.scoring.rubric import grade_rules, rubric_points
from haia.suites.model import Item


def judge_scores(suite: str, items: dict[str, Item], judged: list[dict[str, Any]]
                 ) -> list[ScoreRow]:
    """``rubric_score_judge`` score rows from the judge's verdicts (``None`` when it failed)."""
    rows = []
    for record in judged:
        item = items.get(record["item_id"])
        if item is None or not item.rubric:
            continue
        met = record["met"]
        value = None if met is None else rubric_points(item.rubric, met)
        rows.append(ScoreRow(suite, item.id, int(record["sample"]), "rubric_score_judge", value,
                             None, dict(item.attributes), item.family, item.variant,
                             kind="score"))
    return rows


def grader_agreement(suite: str, items: dict[str, Item], answers: dict[tuple[str, int], str],
                     judged: list[dict[str, Any]], seed: int) -> list[MetricRow]:
    """``judge_agreement`` (share of criteria on which both graders agree) and ``judge_kappa``
    (Cohen's kappa of the two graders' met/not-met decisions) over the shared set."""
    rule: list[int] = []
    judge: list[int] = []
    for record in judged:
        item = items.get(record["item_id"])
        answer = answers.get((record["item_id"], int(record["sample"])))
        if item is None or not item.rubric or record["met"] is None or answer is None:
            continue
        by_rule = grade_rules(item, answer)
        for criterion in item.rubric:
            rule.append(int(by_rule[criterion.id]))
            judge.append(int(bool(record["met"].get(criterion.id))))
    if not rule:
        return []
    a, b = np.array(rule), np.array(judge)
    agree = (a == b).astype(float)
    low, high = bootstrap_ci(agree, seed=seed + 104729)
    kappa = _kappa(a, b)
    k_low, k_high = _kappa_ci(a, b, seed)
    return [MetricRow(suite, "judge_agreement", "overall", "all", float(agree.mean()), low, high,
                      int(agree.size)),
            MetricRow(suite, "judge_kappa", "overall", "all", kappa, k_low, k_high,
                      int(agree.size))]


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    if len(set(a.tolist()) | set(b.tolist())) < 2:
        return 1.0  # both graders gave one and the same label throughout
    return float(cohen_kappa_score(a, b))


def _kappa_ci(a: np.ndarray, b: np.ndarray, seed: int, resamples: int = 1000
              ) -> tuple[float, float]:
    rng = np.random.default_rng(seed + 130363)
    idx = rng.integers(0, a.size, size=(resamples, a.size))
    values = [_kappa(a[i], b[i]) for i in idx]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))
