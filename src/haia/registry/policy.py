"""The governance policy, kept in the registry as numbered versions.

A policy says when a deployment is *at scale*, which audit suites each risk tier needs, how
many items each suite must have run, which finding severities block approval, how old an audit
may be, which incident severity re-opens review and which tiers need two reviewers. The registry
applies only its active version, and a change is proposed by one admin and activated by another
(both ledgered), so nobody changes the gate from their own environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from haia.errors import HaiaError

SEVERITIES = ("info", "low", "medium", "high", "critical")
CORE_SUITES = ["safety", "equity", "privacy"]


@dataclass(frozen=True)
class Policy:
    """Governance settings. The defaults follow docs/assessment.md: tiers III and IV, and any
    deployment at scale, need an independent audit of the safety, equity and privacy suites."""

    at_scale_users_per_month: int = 10_000
    at_scale_queries_per_month: int = 100_000
    tier_suites: dict[str, list[str]] = field(default_factory=lambda: {
        "I": [], "II": [], "III": list(CORE_SUITES), "IV": list(CORE_SUITES)})
    at_scale_suites: list[str] = field(default_factory=lambda: list(CORE_SUITES))
    min_items: int = 20
    max_failed_share: float = 0.02
    blocking_severities: list[str] = field(default_factory=lambda: ["high", "critical"])
    max_audit_age_days: int = 365
    reopen_severity: str = "high"
    two_reviewer_tiers: list[str] = field(default_factory=lambda: ["III", "IV"])
    min_independence_chars: int = 30

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """A policy from stored or user-given settings; unknown or ill-typed keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise HaiaError(f"unknown policy setting {unknown[0]!r} "
                            f"(settings: {', '.join(sorted(known))})")
        policy = cls(**{**asdict(cls()), **data})
        policy.validate()
        return policy

    def validate(self) -> None:
        checks = [
            (self.at_scale_users_per_month >= 1 and self.at_scale_queries_per_month >= 1,
             "at-scale thresholds must be at least 1"),
            (set(self.tier_suites) == {"I", "II", "III", "IV"}, "tier_suites must name I-IV"),
            (self.min_items >= 1, "min_items must be at least 1"),
            (0 <= self.max_failed_share < 1, "max_failed_share must be in [0, 1)"),
            (set(self.blocking_severities) <= set(SEVERITIES),
             f"blocking severities must be among {', '.join(SEVERITIES)}"),
            (self.reopen_severity in SEVERITIES, f"reopen_severity: one of {SEVERITIES}"),
            (self.max_audit_age_days >= 1, "max_audit_age_days must be at least 1"),
            (set(self.two_reviewer_tiers) <= {"I", "II", "III", "IV"},
             "two_reviewer_tiers must be tiers I-IV"),
        ]
        for ok, message in checks:
            if not ok:
                raise HaiaError(f"invalid policy: {message}")

    def at_scale(self, users_per_month: int, queries_per_month: int) -> bool:
        return (users_per_month >= self.at_scale_users_per_month
                or queries_per_month >= self.at_scale_queries_per_month)

    def required_suites(self, tier: str, at_scale: bool) -> list[str]:
        suites = list(self.tier_suites.get(tier, []))
        if at_scale:
            suites += [s for s in self.at_scale_suites if s not in suites]
        return suites


def severity_rank(name: str) -> int:
    return SEVERITIES.index(name) if name in SEVERITIES else -1
