"""The ``haia`` command line: one module per command group, each only parsing, calling the
library and printing (:mod:`haia.cli.audit`, :mod:`haia.cli.registry`, :mod:`haia.cli.trail`,
:mod:`haia.cli.report`, :mod:`haia.cli.privacy`, :mod:`haia.cli.suites`,
:mod:`haia.cli.serve`)."""

from __future__ import annotations

import json
import os
import sys

import typer

from haia import __version__
from haia.cli.common import console, err
from haia.errors import HaiaError

app = typer.Typer(
    name="haia", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Health AI Audit: independent audits and impact assessments of AI used in health care.",
)


@app.command()
def version() -> None:
    """Print haia's version."""
    console.print(__version__)


def _register_extensions() -> None:
    """Commands that live in their own modules (heavy imports stay inside the commands)."""
    from haia.cli import audit, privacy, registry, report, serve, suites, trail

    audit.register(app)
    privacy.register(app)
    registry.register(app)
    trail.register(app)
    report.register(app)
    serve.register(app)
    app.add_typer(suites.suites_app)


_register_extensions()


def main() -> None:
    """Entry point: every user error is one line on stderr and exit code 2 (or its own).

    Expected failures that escape a command (I/O and permission errors, a full disk, a number
    too large for the database, input nested too deeply, a damaged database) are turned into one
    line here as well; ``HAIA_DEBUG=1`` shows the traceback instead.
    """
    from haia.errors import describe_unexpected

    try:
        app()
    except HaiaError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except json.JSONDecodeError as exc:  # pragma: no cover - defensive
        err.print(f"[red]error:[/] invalid JSON: {exc}")
        sys.exit(2)
    except Exception as exc:
        message = describe_unexpected(exc)
        if message is None or os.environ.get("HAIA_DEBUG"):
            raise
        err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
