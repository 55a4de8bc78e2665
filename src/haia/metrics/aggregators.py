"""Aggregators: plug-ins that turn a run's score rows into metric rows, registered by name.

``@aggregator("name", order=N)`` registers ``fn(context) -> list[MetricRow]``; the report
builder calls every registered aggregator in ``(order, name)`` order and concatenates their rows.
The bundled ones: ``disaggregate`` (order 10, each metric overall and per attribute group) and
``derived`` (order 20, the suite's derived metrics). A plug-in defaults to order 100 (after them).
Registering a name twice is a :class:`~haia.errors.RegistrationError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from haia.errors import RegistrationError
from haia.metrics.table import MetricRow, ScoreRow


@dataclass(frozen=True)
class AggregationContext:
    """What an aggregator sees: the suite, the run's score rows and the audit's seed."""

    suite: Any
    scores: list[ScoreRow]
    seed: int


AggregatorFn = Callable[[AggregationContext], list[MetricRow]]
_AGGREGATORS: dict[str, tuple[int, AggregatorFn]] = {}


def aggregator(name: str, *, order: int = 100) -> Callable[[AggregatorFn], AggregatorFn]:
    """Register ``fn`` as the aggregator ``name`` (run in ascending ``order``)."""

    def wrap(fn: AggregatorFn) -> AggregatorFn:
        if name in _AGGREGATORS:
            raise RegistrationError(f"aggregator {name!r} is already registered; "
                                    "choose another name")
        _AGGREGATORS[name] = (order, fn)
        return fn

    return wrap


def unregister(name: str) -> None:
    """Remove aggregator ``name`` (for tests and plug-ins that are switched off)."""
    _AGGREGATORS.pop(name, None)


def aggregator_names() -> list[str]:
    """Registered aggregator names, in the order they run."""
    return [n for n, _ in sorted(_AGGREGATORS.items(), key=lambda kv: (kv[1][0], kv[0]))]


def aggregate(context: AggregationContext) -> list[MetricRow]:
    """Every registered aggregator's rows, in order."""
    rows: list[MetricRow] = []
    for name in aggregator_names():
        rows += _AGGREGATORS[name][1](context)
    return rows


@aggregator("disaggregate", order=10)
def _disaggregate(context: AggregationContext) -> list[MetricRow]:
    from haia.metrics.disaggregate import disaggregate

    return disaggregate(context.scores, seed=context.seed)


@aggregator("derived", order=20)
def _derived(context: AggregationContext) -> list[MetricRow]:
    from haia.metrics.derived import compute_derived

    return compute_derived(context.suite.meta.metrics, context.scores, context.seed)
