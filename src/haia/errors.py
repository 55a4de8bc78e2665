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


def describe_unexpected(exc: BaseException) -> str | None:
    """One line for an expected kind of failure that escaped a command, or None for a bug.

    Used by the command-line entry point so that I/O errors, a full disk, numbers the database
    cannot hold, over-deep input and a damaged database never end in a traceback.
    """
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, OverflowError):
        return f"a number is too large: {exc}"
    if isinstance(exc, RecursionError):
        return "input nested too deeply"
    if isinstance(exc, UnicodeError):
        return f"text encoding problem: {exc}"
    module = type(exc).__module__ or ""
    if module.startswith("sqlalchemy") or module.startswith("sqlite3"):
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
        return f"database error: {first}"
    return None


class RegistrationError(HaiaError):
    """A plug-in (scorer, aggregator, model adapter) was registered under a name already taken."""
