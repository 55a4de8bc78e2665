"""Disparity summaries with Fairlearn's MetricFrame, over the same per-item values as haia's
disaggregation (samples of an item averaged first, unscored responses left out).

``haia.metrics.disaggregate`` gives each group's mean with a bootstrap interval; MetricFrame
gives the between-group ``difference`` and ``ratio`` that fairness reports quote. A test checks
that both agree group by group on the same data.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from haia.metrics.table import ScoreRow


def per_item_values(rows: list[ScoreRow], metric: str, attribute: str
                    ) -> tuple[list[str], np.ndarray]:
    """(group per item, mean value per item) for ``metric`` over items carrying ``attribute``."""
    sums: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        if row.metric != metric or row.value is None:
            continue
        group = "all" if attribute == "overall" else row.attributes.get(attribute)
        if group is not None:
            acc = sums.get((row.item_id, group))
            if acc is None:
                sums[(row.item_id, group)] = [float(row.value), 1.0]
            else:
                acc[0] += float(row.value)
                acc[1] += 1.0
    keys = sorted(sums)
    return [g for _, g in keys], np.array([sums[k][0] / sums[k][1] for k in keys], dtype=float)


def metric_frame(rows: list[ScoreRow], metric: str, attribute: str) -> Any:
    """A Fairlearn MetricFrame of the mean of ``metric`` by ``attribute`` group."""
    return _frame(*per_item_values(rows, metric, attribute))


def _frame(groups: list[str], values: np.ndarray) -> Any:
    from fairlearn.metrics import MetricFrame

    return MetricFrame(metrics={"mean": lambda y_true, y_pred: float(np.mean(y_pred))},
                       y_true=values, y_pred=values,
                       sensitive_features=np.array(groups, dtype=object))


def disparities(rows: list[ScoreRow], min_groups: int = 2) -> list[dict[str, Any]]:
    """For every (metric, attribute) with at least two groups: by-group means, the largest
    difference between groups and the smallest ratio, as Fairlearn computes them."""
    by_metric: dict[tuple[str, str], list[ScoreRow]] = defaultdict(list)
    for row in rows:
        if row.value is not None:
            by_metric[(row.suite, row.metric)].append(row)
    pairs = {(s, m, a) for (s, m), subset in by_metric.items() for r in subset
             for a in r.attributes}
    out = []
    for suite, metric, attribute in sorted(pairs):
        groups, values = per_item_values(by_metric[(suite, metric)], metric, attribute)
        if len(set(groups)) < min_groups:
            continue
        frame = _frame(groups, values)
        by_group = {str(k): float(v) for k, v in frame.by_group["mean"].items()}
        ratio = frame.ratio(method="between_groups")["mean"]
        out.append({"suite": suite, "metric": metric, "attribute": attribute,
                    "by_group": by_group,
                    "difference": float(frame.difference(method="between_groups")["mean"]),
                    "ratio": None if np.isnan(ratio) else float(ratio)})
    return out
