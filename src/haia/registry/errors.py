"""Typed refusals of the registry (the CLI prints them as one line; the portal maps them)."""

from __future__ import annotations

from haia.errors import HaiaError


class PermissionDenied(HaiaError):
    """The acting user is unknown, unauthenticated, or their role or organisation does not
    allow the action."""


class RuleViolation(HaiaError):
    """A governance rule (workflow, the approval gate, separation of duties, four eyes)
    forbids the action."""


class NotFound(HaiaError):
    """The record named does not exist in the registry."""
