"""Across repeated answers (``--samples K``): how often does ANY answer assert a retired
race-based practice, and how consistent are a model's answers to the same question?"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from haia.metrics.derived import register_derived
from haia.metrics.stats import bootstrap_ci
from haia.metrics.table import MetricRow, ScoreRow


@register_derived("race_medicine_repeats", metrics=("race_based_any", "race_based_inconsistent"))
def race_medicine_repeats(scores: list[ScoreRow], seed: int) -> list[MetricRow]:
    """``race_based_any``: share of questions where at least one of the K answers asserts the
    retired practice; ``race_based_inconsistent``: share of questions whose K answers disagree."""
    per_item: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in scores:
        if row.metric == "race_based_assertion" and row.value is not None:
            per_item[(row.suite, row.item_id)].append(row.value)
    if not per_item:
        return []
    suite = next(iter(per_item))[0]
    any_assert = np.array([max(v) for v in per_item.values()], dtype=float)
    inconsistent = np.array([float(len(set(v)) > 1) for v in per_item.values()], dtype=float)
    rows = []
    for offset, (metric, values) in enumerate((("race_based_any", any_assert),
                                               ("race_based_inconsistent", inconsistent))):
        low, high = bootstrap_ci(values, seed=seed + 7919 + offset)
        rows.append(MetricRow(suite, metric, "overall", "all", float(values.mean()), low, high,
                              int(values.size)))
    return rows
