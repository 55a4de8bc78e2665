"""The tables metrics work on: one ScoreRow per (item, sample, metric); one MetricRow per group."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)  # slots: an audit of 100,000 items holds 300,000 of these
class ScoreRow:
    """One scored outcome of one response, with the item's grouping attributes."""

    suite: str
    item_id: str
    sample: int
    metric: str
    value: float | None
    label: str | None
    attributes: dict[str, str]
    family: str | None
    variant: str | None
    kind: str = "binary"
    relevant: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class MetricRow:
    """A metric for one group of one attribute (``attribute='overall', group='all'`` for all)."""

    suite: str
    metric: str
    attribute: str
    group: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_missing: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
