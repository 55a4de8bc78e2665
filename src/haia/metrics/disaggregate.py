"""Per-group metrics with seeded bootstrap confidence intervals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from haia.metrics.stats import bootstrap_ci
from haia.metrics.table import MetricRow, ScoreRow

OVERALL = ("overall", "all")


def _groups(item_attributes: dict[str, str],
            attributes: Iterable[str] | None) -> Iterable[tuple[str, str]]:
    yield OVERALL
    for attribute, group in item_attributes.items():
        if attributes is None or attribute in attributes:
            yield attribute, group


def disaggregate(rows: Iterable[ScoreRow], *, seed: int = 0,
                 attributes: Iterable[str] | None = None) -> list[MetricRow]:
    """Mean of every metric overall and per group of every attribute, with 95% bootstrap CIs.

    Samples of the same item are averaged first, so the unit of the interval is the item: K samples
    of one item are not K independent observations.
    """
    wanted = set(attributes) if attributes is not None else None
    # one entry per (metric, item), not per (metric, item, group): 100,000 items stay small
    per_item: dict[tuple[str, str, str], tuple[list[float | None], dict[str, str]]] = {}
    for row in rows:
        entry = per_item.get((row.suite, row.metric, row.item_id))
        if entry is None:
            entry = per_item[(row.suite, row.metric, row.item_id)] = ([], row.attributes)
        entry[0].append(row.value)
    cells: dict[tuple[str, str, str, str], list[float | None]] = defaultdict(list)
    for (suite, metric, _item), (values, item_attributes) in per_item.items():
        known = [v for v in values if v is not None]
        mean = sum(known) / len(known) if known else None
        for attribute, group in _groups(item_attributes, wanted):
            cells[(suite, metric, attribute, group)].append(mean)
    out = []
    for number, ((suite, metric, attribute, group), values) in enumerate(sorted(cells.items())):
        known = np.array([v for v in values if v is not None], dtype=float)
        missing = len(values) - known.size
        if known.size == 0:
            out.append(MetricRow(suite, metric, attribute, group, None, None, None, 0, missing))
            continue
        low, high = bootstrap_ci(known, seed=seed + number)
        out.append(MetricRow(suite, metric, attribute, group, float(known.mean()), low, high,
                             int(known.size), missing))
    return out
