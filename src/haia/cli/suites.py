"""The ``haia suites`` commands: list the bundled suites, and ``check`` a suite's content."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

# Piped output (CI logs) gets a wide table rather than Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

suites_app = typer.Typer(
    name="suites", no_args_is_help=False, add_completion=False,
    help="List the bundled suites (no subcommand), or check a suite's audit content.",
)


@suites_app.callback(invoke_without_command=True)
def suites(ctx: typer.Context) -> None:
    """List every bundled suite with its version, item count, principles and provenance."""
    if ctx.invoked_subcommand is not None:
        return
    from haia.suites.loader import bundled_names, load_suite

    table = Table(title="Bundled suites")
    for column in ("name", "version", "items", "principles", "provenance"):
        table.add_column(column)
    for name in bundled_names():
        suite = load_suite(name)
        principles = ", ".join(p.value for p in suite.meta.principles)
        table.add_row(name, suite.version, str(len(suite.items)), principles,
                      suite.meta.provenance)
    console.print(table)


@suites_app.command("check")
def check(
    name_or_path: Annotated[str | None, typer.Argument(
        metavar="[NAME_OR_PATH]",
        help="A bundled suite name or a suite file/folder  [default: every bundled suite]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    width: Annotated[int, typer.Option(help="Characters of each misgraded example shown")] = 90,
) -> None:
    """Lint audit content: regexes compile, worked examples grade as labelled, every item has a
    source and rationale, equity families declare relevance per outcome, a review record exists.

    Exit 0 when everything passes, 1 when anything fails, 2 when a suite does not load."""
    from haia.suites.check import as_dict, check_suites
    from haia.suites.loader import bundled_names

    names = [name_or_path] if name_or_path else bundled_names()
    reports = []
    with err.status("") as status:  # a spinner on stderr; silent when stderr is not a terminal
        for name in names:
            status.update(f"checking {name} ...")
            reports.extend(check_suites([name]))
    if as_json:
        typer.echo(json.dumps([as_dict(r) for r in reports], indent=2, ensure_ascii=False))
    else:
        _print(reports, width)
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _print(reports: list, width: int) -> None:
    summary = Table(title="Suite content check")
    summary.add_column("suite", no_wrap=True)
    for column in ("items", "regexes", "good examples", "bad examples", "misgraded",
                   "known grader limits", "problems", "result"):
        summary.add_column(column, justify="right")
    for r in reports:
        summary.add_row(r.suite, str(r.items), str(r.patterns),
                        str(r.examples_by_label["good"]), str(r.examples_by_label["bad"]),
                        str(len(r.misgraded)), str(len(r.known_limits)), str(len(r.problems)),
                        "[green]pass[/]" if r.ok else "[red]FAIL[/]")
    console.print(summary)
    _table("Misgraded examples", [m for r in reports for m in r.misgraded], width)
    _table("Known grader limitations (listed, not failing; see each example's grader_limit)",
           [m for r in reports for m in r.known_limits], width)
    for r in reports:
        for problem in r.problems:
            console.print(f"[red]{r.suite}[/]: {problem}", highlight=False, soft_wrap=True)
        for warning in r.warnings:
            console.print(f"[yellow]{r.suite}: warning[/]: {warning}", highlight=False,
                          soft_wrap=True)


def _table(title: str, rows: list, width: int) -> None:
    if not rows:
        return
    table = Table(title=title)
    for column in ("item", "label", "kind", "expected", "graded", "example"):
        table.add_column(column, overflow="fold")
    for m in rows:
        text = m.example.text.replace("\n", " ")
        table.add_row(m.example.item, m.example.label, m.example.kind, m.expected, m.got,
                      text if len(text) <= width else text[: width - 1] + "…")
    console.print(table)
