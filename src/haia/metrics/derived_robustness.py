"""Robustness of answers to perturbations (suites with ``derive:``; see haia.suites.transforms).

Each perturbed item ``<source>:<transform>`` is paired with ``<source>:original``:
``consistency`` is the share of pairs giving the same answer (the same option, mapped back
through a reordering: the choice scorer labels a reordered item's answer
in the source's lettering), ``accuracy_drop`` the original's accuracy minus the perturbed one's, per
transform, with paired bootstrap intervals.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from haia.metrics.derived import register_derived
from haia.metrics.stats import bootstrap_ci
from haia.metrics.table import MetricRow, ScoreRow


def _split(item_id: str) -> tuple[str, str] | None:
    source, sep, transform = item_id.rpartition(":")
    return (source, transform) if sep else None


@register_derived("robustness", metrics=("consistency", "accuracy_drop"))
def robustness(scores: list[ScoreRow], seed: int) -> list[MetricRow]:
    """``consistency`` and ``accuracy_drop`` per transform, over sources answered both ways."""
    answers: dict[tuple[str, str], list[tuple[float, str | None]]] = defaultdict(list)
    suite = ""
    for row in scores:
        if row.metric != "accuracy" or row.value is None or "perturbation" not in row.attributes:
            continue
        parts = _split(row.item_id)
        if parts is None:
            continue
        suite = row.suite
        answers[parts].append((row.value, row.label))
    transforms = sorted({t for _, t in answers if t != "original"})
    rows: list[MetricRow] = []
    for n, transform in enumerate(transforms):
        drops, same = [], []
        for (source, t), perturbed in answers.items():
            original = answers.get((source, "original"))
            if t != transform or not original:
                continue
            drops.append(np.mean([v for v, _ in original]) - np.mean([v for v, _ in perturbed]))
            same.append(float(original[0][1] is not None
                              and perturbed[0][1] == original[0][1]))
        for k, (metric, values) in enumerate((("accuracy_drop", drops), ("consistency", same))):
            if not values:
                continue
            array = np.array(values, dtype=float)
            low, high = bootstrap_ci(array, seed=seed + 7001 + 2 * n + k)
            rows.append(MetricRow(suite, metric, "perturbation", transform, float(array.mean()),
                                  low, high, int(array.size)))
    return rows

