"""Agreement between the rule-based rubric grader and the judge model, criterion by criterion."""

from __future__ import annotations

from typing import Any

import numpy as np

from haia.metrics.stats import bootstrap_ci, cohen_kappa, kappa_interval
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
    kappa = cohen_kappa(a, b)
    k_low, k_high = kappa_interval(a, b, seed=seed + 130363)
    return [MetricRow(suite, "judge_agreement", "overall", "all", float(agree.mean()), low, high,
                      int(agree.size)),
            MetricRow(suite, "judge_kappa", "overall", "all", kappa, k_low, k_high,
                      int(agree.size))]
