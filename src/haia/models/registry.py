"""Model adapters registered by kind, and ``--model`` specifications parsed into them.

A new adapter is one new module: decorate its factory (a function or a class taking
``(rest, options)``) with ``@adapter("kind", modalities=..., local=..., usage="kind:...")``.
The bundled kinds:

- ``builtin:NAME`` — the embedded default (``builtin:smollm2``)
- ``openai:MODEL@BASE_URL`` — any OpenAI-compatible chat-completions server
- ``hf:PATH`` — a local Hugging Face transformers model folder

``local`` tells the sustainability estimate to measure energy on this machine; ``modalities``
are what the runner checks every item against before sending. Registering a kind twice is a
:class:`~haia.errors.RegistrationError`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from haia.errors import ModelSpecError, RegistrationError
from haia.models.base import ModelAdapter

DEFAULT_MODEL = "builtin:smollm2"
BUNDLED = ("builtin", "openai_compat", "hf")  # modules of haia.models that register a kind


@dataclass
class ModelOptions:
    """Connection options that are not part of the spec itself."""

    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_connections: int = 64
    timeout: float = 120.0


AdapterFactory = Callable[[str, ModelOptions], ModelAdapter]


@dataclass(frozen=True)
class AdapterKind:
    """One registered kind of model: its factory and what it declares."""

    kind: str
    factory: AdapterFactory
    modalities: frozenset[str]
    local: bool
    usage: str


_KINDS: dict[str, AdapterKind] = {}
_loaded = False


def adapter(kind: str, *, modalities: frozenset[str] | set[str] | tuple[str, ...] = ("text",),
            local: bool = False, usage: str | None = None
            ) -> Callable[[Any], Any]:
    """Register ``factory(rest, options) -> ModelAdapter`` as the model kind ``kind``."""

    def wrap(factory: Any) -> Any:
        if kind in _KINDS:
            raise RegistrationError(f"model adapter kind {kind!r} is already registered; "
                                    "choose another name")
        _KINDS[kind] = AdapterKind(kind, factory, frozenset(modalities), local,
                                   usage or f"{kind}:SPEC")
        return factory

    return wrap


def unregister(kind: str) -> None:
    """Remove the kind ``kind`` (for tests)."""
    _KINDS.pop(kind, None)


def _load_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in BUNDLED:
            importlib.import_module(f"haia.models.{name}")


def kinds() -> list[AdapterKind]:
    """Every registered kind: the bundled ones first, then plug-ins in registration order."""
    _load_builtin()
    first = ("builtin", "openai", "hf")
    return sorted(_KINDS.values(),
                  key=lambda k: first.index(k.kind) if k.kind in first else len(first))


def usage_line() -> str:
    """``builtin:NAME | openai:MODEL@BASE_URL | hf:PATH ...`` for the CLI help."""
    return " | ".join(k.usage for k in kinds())


def _expected() -> str:
    usages = [k.usage for k in kinds()]
    return ", ".join(usages[:-1]) + " or " + usages[-1] if len(usages) > 1 else usages[0]


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``KIND:REST`` and check the kind is registered."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ModelSpecError(f"bad model spec {spec!r}: expected {_expected()}")
    if kind not in {k.kind for k in kinds()}:
        names = ", ".join(f"{k.kind}:" for k in kinds())
        raise ModelSpecError(f"bad model spec {spec!r}: unknown kind {kind!r} (use {names})")
    return kind, rest


def kind_of(spec: str) -> AdapterKind | None:
    """The registered kind of ``spec`` (``None`` when the spec names none)."""
    kind = spec.partition(":")[0]
    return next((k for k in kinds() if k.kind == kind), None)


def is_local(spec: str) -> bool:
    """Whether ``spec``'s model runs on this machine (its energy is measured here)."""
    found = kind_of(spec)
    return bool(found and found.local)


def create_adapter(spec: str, options: ModelOptions | None = None) -> ModelAdapter:
    """An adapter for ``spec``."""
    kind, rest = parse_spec(spec)
    return _KINDS[kind].factory(rest, options or ModelOptions())
