"""``haia report`` and ``haia compare``: rebuild a run's report in any format from the run store,
and show what changed between two audits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from haia.cli.common import console
from haia.errors import HaiaError


def _formats(values: list[str] | None, known: tuple[str, ...]) -> tuple[str, ...]:
    """``--format html --format pdf`` or ``--format html,pdf``; ``all`` for every format."""
    if not values:
        return known
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if name == "all":
                out += known
            elif name not in known:
                raise HaiaError(f"--format {name!r}: use one of {', '.join(known)} (or all)")
            else:
                out.append(name)
    return tuple(dict.fromkeys(out))


def _load(store: Any, run_id: str, include_responses: bool = False, regrade: bool = False,
          **extra: Any) -> tuple[dict[str, Any], Any]:
    """The report dict of a finished run, rebuilt from the run store."""
    from haia.audit import AuditConfig, assemble
    from haia.findings.judge import load_thresholds
    from haia.suites.loader import load_suite

    record = store.get_run(run_id)
    if record.status not in {"complete"}:
        raise HaiaError(f"run {run_id} is {record.status}: finish it first "
                        f"(haia audit --resume {run_id})")
    config = AuditConfig(**record.config)
    config.include_responses = include_responses
    suite = load_suite(config.suite)
    if suite.content_hash() != record.suite_hash:
        raise HaiaError(f"run {run_id}: suite {config.suite!r} has changed since the run; "
                        "its report cannot be rebuilt faithfully")
    report, _ = assemble(store, run_id, suite, config, load_thresholds(config.thresholds),
                         regrade=regrade, **extra)
    return report, config


def report_command(
    run_id: Annotated[str, typer.Argument(help="The run to report on (see haia runs)")],
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="json | html | pdf | model-card | annex-iv | all (repeatable "
                               "or comma-separated)  [default: all]")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Report folder  [default: the run's --out, else haia-reports/RUN_ID]")] = None,
    include_responses: Annotated[bool, typer.Option(
        help="Include the model's answers (off: they may contain PHI)")] = False,
    sign_key: Annotated[str | None, typer.Option(
        help="Sign report.json, report.html and report.pdf with this key (name or path)")
    ] = None,
    signer: Annotated[str | None, typer.Option(help="Signer name in the signature")] = None,
    regrade: Annotated[bool, typer.Option(
        help="Score the stored answers again with today's scorers instead of reading the "
             "scores stored with each record (the stored scores are kept)")] = False,
) -> None:
    """Rebuild the report of a finished run from the run store, in any format."""
    from haia.audit import default_out
    from haia.cli.audit import print_summary
    from haia.registry.keys import signature_block
    from haia.report.model_card import registered_system
    from haia.report.write import FORMATS, write_report
    from haia.runner.store import RunStore

    formats = _formats(format, FORMATS)
    extra: dict[str, Any] = {"system": registered_system(run_id)}
    if sign_key:
        extra["signature"] = signature_block(sign_key, signer)
    with RunStore() as store:
        report, config = _load(store, run_id, include_responses, regrade, **extra)
    folder = out or (Path(config.out) if config.out else default_out(run_id))
    written = write_report(report, folder, formats)
    if sign_key:
        from haia.registry.keys import sign_report

        for path in written:
            if path.name in extra["signature"]["files"]:
                sign_report(path, sign_key, signer, None)
    print_summary(report, folder, [p.name for p in written])


def _report_for(store: Any, ref: str) -> dict[str, Any]:
    """A run id from the store, or the path of a report.json."""
    path = Path(ref)
    if path.suffix == ".json" and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise HaiaError(f"{path}: not a readable report.json ({exc})") from None
        if not isinstance(data, dict) or "scorecard" not in data or "model_card" not in data:
            raise HaiaError(f"{path}: not a haia report (rebuild it with haia report RUN_ID)")
        return data
    return _load(store, ref)[0]


def compare_command(
    run_a: Annotated[str, typer.Argument(help="The earlier run (run id or report.json)")],
    run_b: Annotated[str, typer.Argument(help="The later run (run id or report.json)")],
    out: Annotated[Path | None, typer.Option(
        help="Folder for compare.json and compare.html  [default: haia-reports/compare-A-B]")
    ] = None,
    format: Annotated[list[str] | None, typer.Option(
        "--format", "-f", help="json | html | all  [default: all]")] = None,
) -> None:
    """Show what changed between two audits: new, resolved and persisting findings, and metric
    deltas with intervals (written as compare.json and compare.html)."""
    from haia.report.compare import compare_reports
    from haia.report.write import write_comparison
    from haia.runner.store import RunStore

    formats = _formats(format, ("json", "html"))
    with RunStore() as store:
        before, after = _report_for(store, run_a), _report_for(store, run_b)
    comparison = compare_reports(before, after)
    folder = out or Path("haia-reports") / (f"compare-{before['run']['run_id']}-"
                                            f"{after['run']['run_id']}")
    written = write_comparison(comparison, folder, formats)
    console.print(f"[bold]{before['run']['run_id']}[/] → [bold]{after['run']['run_id']}[/]: "
                  f"{comparison['summary']}")
    for label in ("new", "resolved", "persisting"):
        for f in comparison[label][:10]:
            console.print(f"  {label:<10} {f['severity']:<8} {f['plain']}", highlight=False,
                          soft_wrap=True)
        if len(comparison[label]) > 10:
            console.print(f"  ... and {len(comparison[label]) - 10} more {label}")
    for warning in comparison["warnings"]:
        console.print(f"[yellow]note:[/] {warning}")
    console.print(f"Comparison: {', '.join(str(p) for p in written)}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
    app.command("compare")(compare_command)
