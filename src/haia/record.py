"""The typed sample record: one (item, sample) of a run, as stored and passed between stages.

A record carries what the model answered (status, output, usage, latency, error), the scores
each scorer gave it (by scorer name) and annotations a model or a later stage added (a judge's
verdicts, for one). :meth:`RunStore.records` streams them from the run store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "error", "skipped"]
STATUSES: frozenset[str] = frozenset(("ok", "error", "skipped"))


@dataclass(frozen=True)
class ScoreValue:
    """One metric a scorer measured: its value (``None`` when unscorable), label and kind."""

    metric: str
    value: float | None
    label: str | None = None
    kind: str = "binary"
    relevant: tuple[str, ...] = ()  # attributes a difference in this metric is expected on

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "label": self.label,
                "kind": self.kind, "relevant": list(self.relevant)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoreValue:
        return cls(str(data["metric"]), data.get("value"), data.get("label"),
                   str(data.get("kind", "binary")), tuple(data.get("relevant") or ()))


@dataclass(frozen=True)
class SampleRecord:
    """One (item, sample) of a run with its outcome, scores and annotations."""

    item_id: str
    sample: int
    request_hash: str
    status: Status
    output: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None
    attempts: int = 1
    cached: bool = False
    scores: dict[str, list[ScoreValue]] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)

    def scores_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The scores as plain JSON data, by scorer name (what the run store keeps)."""
        return {name: [v.to_dict() for v in values] for name, values in self.scores.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "sample": self.sample,
                "request_hash": self.request_hash, "status": self.status,
                "output": self.output,
                "usage": {"prompt_tokens": self.prompt_tokens,
                          "completion_tokens": self.completion_tokens},
                "latency_s": self.latency_s, "error": self.error, "attempts": self.attempts,
                "cached": self.cached,
                "scores": self.scores_dict(), "annotations": dict(self.annotations)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleRecord:
        usage = data.get("usage") or {}
        return cls(str(data["item_id"]), int(data["sample"]), str(data["request_hash"]),
                   known_status(data["status"], data.get("item_id")), data.get("output"),
                   int(usage.get("prompt_tokens", 0)),
                   int(usage.get("completion_tokens", 0)), float(data.get("latency_s", 0.0)),
                   data.get("error"), int(data.get("attempts", 1)), bool(data.get("cached")),
                   {name: [ScoreValue.from_dict(v) for v in values]
                    for name, values in (data.get("scores") or {}).items()},
                   dict(data.get("annotations") or {}))


def known_status(status: Any, item_id: Any) -> Status:
    """``status`` when it is one a record can have, else a clear error naming the record."""
    if status not in STATUSES:
        from haia.errors import HaiaError

        raise HaiaError(f"sample record {item_id!r}: unknown status {status!r}")
    return status  # type: ignore[no-any-return]
