"""Scorers turn (item, response text) into scores. Pure functions, registered by name.

A new scorer is one new module in ``haia.scoring`` (or any module imported before the audit)
that decorates a function with ``@scorer("name")`` (alias ``@register``); suites name the scorers
their items use. A scorer may be ``async`` (a model-graded scorer is an ordinary scorer):
:func:`run_scorer` awaits it, :func:`score_now` runs either kind from synchronous code.
Registering a name twice is a :class:`~haia.errors.RegistrationError`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
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


ScorerFn = Callable[[Item, str], "list[Score] | Awaitable[list[Score]]"]

_SCORERS: dict[str, ScorerFn] = {}
_METRICS: dict[str, tuple[str, ...]] = {}


def register(name: str, metrics: tuple[str, ...] = ()) -> Callable[[ScorerFn], ScorerFn]:
    """Register a scorer function under ``name``, declaring the metric names it can emit.

    The declaration lets haia check, without running a model, that every metric a suite can
    produce maps to a WHO principle and has a threshold.
    """

    def wrap(fn: ScorerFn) -> ScorerFn:
        old = _SCORERS.get(name)
        if old is not None and _origin(old) != _origin(fn):
            from haia.errors import RegistrationError

            raise RegistrationError(f"scorer {name!r} is already registered "
                                    f"(by {_origin(old)}); choose another name")
        _SCORERS[name] = fn
        _METRICS[name] = tuple(metrics)
        return fn

    return wrap


scorer = register


def _origin(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


async def run_scorer(fn: ScorerFn, item: Item, text: str) -> list[Score]:
    """The scores of ``fn`` for ``text`` (awaited when ``fn`` is async)."""
    result = fn(item, text)
    if inspect.isawaitable(result):
        result = await result
    return list(result)  # type: ignore[arg-type]


def score_now(fn: ScorerFn, item: Item, text: str) -> list[Score]:
    """:func:`run_scorer` from synchronous code (outside a running event loop)."""
    result = fn(item, text)
    if inspect.isawaitable(result):
        async def wait() -> Any:
            return await result

        result = asyncio.run(wait())
    return list(result)  # type: ignore[arg-type]


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


@cache
def _load_builtin() -> None:
    """Import the bundled scorer modules (once: ``get_scorer`` is called for every answer)."""
    import importlib
    import pkgutil

    import haia.scoring as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name != "base":
            importlib.import_module(f"haia.scoring.{info.name}")
