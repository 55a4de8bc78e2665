"""The model adapter interface: one request in, text with usage and latency out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from haia.canonical import canonical_hash
from haia.errors import HaiaError


@dataclass(frozen=True)
class GenerationRequest:
    """What the runner asks of a model. ``messages`` are in OpenAI chat format."""

    messages: list[dict[str, Any]]
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The sampling parameters, as they enter the cache key."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens,
                "seed": self.seed, **self.extra}


@dataclass(frozen=True)
class Usage:
    """Token counts reported by (or estimated for) one generation."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class GenerationResponse:
    """A model's answer."""

    text: str
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    finish_reason: str | None = None
    model: str | None = None


class ModelError(HaiaError):
    """A generation failed. ``transient`` errors are retried by the runner; one that escapes a
    command is one line and exit code 3 (the model, not the user's input, failed)."""

    transient: bool = False
    exit_code = 3

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TransientModelError(ModelError):
    """Worth retrying: HTTP 429 or 5xx, a timeout, a dropped connection."""

    transient = True


class FatalModelError(ModelError):
    """The model can answer nothing more (its runtime died): the run stops, resumable, and the
    item being sent is not recorded as failed."""


class UnsupportedInput(ModelError):
    """The model cannot take this input (an image for a text-only model): skipped, not failed."""


@runtime_checkable
class ModelAdapter(Protocol):
    """What every model adapter provides."""

    spec: str
    modalities: frozenset[str]

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        """Generate one answer. Raises :class:`ModelError` on failure."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads or weights."""
        ...

    def identity(self) -> str:
        """A stable string naming the exact model, used in the response-cache key."""
        ...


def request_key(identity: str, request: GenerationRequest, sample: int = 0) -> str:
    """SHA-256 over (model, parameters, messages, sample index): the response-cache key."""
    payload = {"model": identity, "params": request.params(), "messages": request.messages,
               "sample": sample}
    return canonical_hash(payload)
