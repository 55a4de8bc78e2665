"""Errors that haia reports to the user as one clear line (never a traceback)."""

from __future__ import annotations


class HaiaError(Exception):
    """A problem the user can fix: printed as one line, exit code ``exit_code``."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class SuiteError(HaiaError):
    """A suite file is missing, malformed or inconsistent."""


class ModelSpecError(HaiaError):
    """A ``--model`` specification cannot be understood or its model cannot be loaded."""


class VerificationError(HaiaError):
    """A ledger, registry row or signed report failed verification (exit code 1)."""

    exit_code = 1
