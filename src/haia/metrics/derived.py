"""Suite-level metrics computed across items (consistency under perturbation, cost per 1,000
queries...), registered by name and named by a suite's ``metrics:`` list.

A derived metric is a function ``(scores, seed) -> list[MetricRow]``; it declares the metric
names it emits so haia can check their framework mappings without running a model.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from haia.errors import HaiaError
from haia.metrics.table import MetricRow, ScoreRow

DerivedFn = Callable[[list[ScoreRow], int], list[MetricRow]]

_DERIVED: dict[str, tuple[DerivedFn, tuple[str, ...]]] = {}


def register_derived(name: str, metrics: tuple[str, ...]) -> Callable[[DerivedFn], DerivedFn]:
    """Register a derived-metric function under ``name``."""

    def wrap(fn: DerivedFn) -> DerivedFn:
        _DERIVED[name] = (fn, tuple(metrics))
        return fn

    return wrap


def _load() -> None:
    import haia.metrics as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("derived_"):
            importlib.import_module(f"haia.metrics.{info.name}")


def get_derived(name: str) -> tuple[DerivedFn, tuple[str, ...]]:
    """The derived metric ``name`` and the metric names it emits."""
    _load()
    try:
        return _DERIVED[name]
    except KeyError:
        known = ", ".join(sorted(_DERIVED)) or "none"
        raise HaiaError(f"unknown derived metric {name!r} (known: {known})") from None


def compute_derived(names: list[str], scores: list[ScoreRow], seed: int) -> list[MetricRow]:
    """Every derived metric a suite asks for."""
    rows: list[MetricRow] = []
    for name in names:
        fn, _ = get_derived(name)
        rows.extend(fn(scores, seed))
    return rows
