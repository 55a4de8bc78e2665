"""A finding: a metric judged against a threshold, with severity, evidence and mappings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any


class Severity(IntEnum):
    """Ordered severities; ``--fail-on`` compares against these."""

    info = 0
    low = 1
    medium = 2
    high = 3
    critical = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.lower()]
        except KeyError:
            known = ", ".join(s.name for s in cls)
            from haia.errors import HaiaError

            raise HaiaError(f"unknown severity {name!r} (use one of: {known})") from None


@dataclass(frozen=True)
class Finding:
    """One judged result, readable by a governance committee and traceable to its evidence."""

    id: str
    suite: str
    metric: str
    attribute: str
    group: str
    severity: Severity
    value: float | None
    ci_low: float | None
    ci_high: float | None
    threshold: float | None
    message: str
    evidence: list[str] = field(default_factory=list)
    principles: list[str] = field(default_factory=list)
    frameworks: dict[str, list[str]] = field(default_factory=dict)
    kind: str = "threshold"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.name
        return data
