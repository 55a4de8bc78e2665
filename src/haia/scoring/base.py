"""Scorers turn (item, response text) into scores. Pure functions, registered by name.

A new scorer is one new module in ``haia.scoring`` that decorates a function with
``@register("name")``; suites name the scorers their items use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from haia.suites.model import Item


@dataclass(frozen=True)
class Score:
    """One measured value for one response.

    ``metric`` names what is measured (``accuracy``, ``refusal``...). ``value`` is 0/1 for binary
    outcomes, a number otherwise, or ``None`` when the response could not be scored (a parse
    failure), which metrics count separately. ``label`` carries a categorical outcome
    (the chosen letter, a triage level), ``detail`` anything useful as evidence.
    """

    metric: str
    value: float | None
    label: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


ScorerFn = Callable[[Item, str], list[Score]]

_SCORERS: dict[str, ScorerFn] = {}
_METRICS: dict[str, tuple[str, ...]] = {}


def register(name: str, metrics: tuple[str, ...] = ()) -> Callable[[ScorerFn], ScorerFn]:
    """Register a scorer function under ``name``, declaring the metric names it can emit.

    The declaration lets haia check, without running a model, that every metric a suite can
    produce maps to a WHO principle and has a threshold.
    """

    def wrap(fn: ScorerFn) -> ScorerFn:
        _SCORERS[name] = fn
        _METRICS[name] = tuple(metrics)
        return fn

    return wrap


def scorer_metrics(name: str) -> tuple[str, ...]:
    """The metric names scorer ``name`` declared."""
    get_scorer(name)
    return _METRICS[name]


def get_scorer(name: str) -> ScorerFn:
    """The scorer registered as ``name`` (importing the bundled scorer modules first)."""
    _load_builtin()
    try:
        return _SCORERS[name]
    except KeyError:
        known = ", ".join(sorted(_SCORERS))
        from haia.errors import HaiaError

        raise HaiaError(f"unknown scorer {name!r} (known: {known})") from None


def scorer_names() -> list[str]:
    """Every registered scorer name."""
    _load_builtin()
    return sorted(_SCORERS)


def _load_builtin() -> None:
    import importlib
    import pkgutil

    import haia.scoring as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "base":
            importlib.import_module(f"haia.scoring.{info.name}")
