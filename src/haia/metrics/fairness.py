"""Disparity summaries over the same per-item values as haia's disaggregation (samples of an
item averaged first, unscored responses left out): by-group means, the largest difference
between groups and the smallest ratio, as Fairlearn's ``MetricFrame`` defines them
(``difference``/``ratio`` with ``method="between_groups"``).

They are computed here with NumPy rather than by building a MetricFrame per (metric,
attribute): importing Fairlearn (scikit-learn, SciPy's statistics, pandas) cost about 1 s of
every audit and the frames about 0.05 s each. ``tests/metrics/test_stats.py`` holds the figures
equal to Fairlearn's MetricFrame on generated data.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from haia.metrics.table import ScoreRow

ItemMean = tuple[str, float, dict[str, str]]


def item_means(rows: list[ScoreRow], metric: str) -> list[ItemMean]:
    """(item id, mean value over its samples, attributes) of every item scored on ``metric``,
    by item id."""
    sums: dict[str, list[Any]] = {}
    for row in rows:
        if row.metric != metric or row.value is None:
            continue
        acc = sums.get(row.item_id)
        if acc is None:
            sums[row.item_id] = [float(row.value), 1, row.attributes]
        else:
            acc[0] += float(row.value)
            acc[1] += 1
    return [(item, acc[0] / acc[1], acc[2]) for item, acc in sorted(sums.items())]


def by_attribute(means: list[ItemMean], attribute: str) -> tuple[list[str], np.ndarray]:
    """(group per item, mean per item) over the items carrying ``attribute``."""
    groups, values = [], []
    for _item, mean, attributes in means:
        group = "all" if attribute == "overall" else attributes.get(attribute)
        if group is not None:
            groups.append(group)
            values.append(mean)
    return groups, np.array(values, dtype=float)


def per_item_values(rows: list[ScoreRow], metric: str, attribute: str
                    ) -> tuple[list[str], np.ndarray]:
    """(group per item, mean value per item) for ``metric`` over items carrying ``attribute``."""
    return by_attribute(item_means(rows, metric), attribute)


def group_means(groups: list[str], values: np.ndarray) -> dict[str, float]:
    """The mean of ``values`` per group, groups in sorted order."""
    names, inverse = np.unique(np.array(groups, dtype=object), return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=names.size)
    counts = np.bincount(inverse, minlength=names.size)
    return {str(name): float(s / c) for name, s, c in zip(names, sums, counts, strict=True)}


def disparities(rows: list[ScoreRow], min_groups: int = 2) -> list[dict[str, Any]]:
    """For every (metric, attribute) with at least two groups: by-group means, the largest
    difference between groups and the smallest ratio (None when the largest mean is 0)."""
    by_metric: dict[tuple[str, str], list[ScoreRow]] = defaultdict(list)
    for row in rows:
        if row.value is not None:
            by_metric[(row.suite, row.metric)].append(row)
    out = []
    for (suite, metric), subset in sorted(by_metric.items()):
        means = item_means(subset, metric)  # once per metric, then grouped per attribute
        for attribute in sorted({a for _item, _mean, attrs in means for a in attrs}):
            groups, values = by_attribute(means, attribute)
            by_group = group_means(groups, values)
            if len(by_group) < min_groups:
                continue
            low, high = min(by_group.values()), max(by_group.values())
            out.append({"suite": suite, "metric": metric, "attribute": attribute,
                        "by_group": by_group, "difference": high - low,
                        "ratio": None if high == 0 else low / high})
    return out
