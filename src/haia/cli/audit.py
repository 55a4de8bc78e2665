"""``haia audit`` and ``haia runs``: parse the options, call :func:`haia.audit_service.audit`,
show progress and print the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haia.cli.common import console, err, progress_bar
from haia.errors import HaiaError
from haia.models.base import FatalModelError
from haia.models.registry import DEFAULT_MODEL, usage_line

# Options a resumed run takes from the run as it was started; given again they would be ignored.
RESUME_FIXED = ("model", "suite", "out", "concurrency", "seed", "limit", "samples", "temperature",
                "max_tokens", "timeout", "retries", "api_key_env", "thresholds", "no_cache",
                "include_responses", "sustainability", "judge", "structured",
                "judge_per_criterion")


def parse_headers(values: list[str]) -> dict[str, str]:
    """``--header NAME:VALUE`` options as a dict."""
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise HaiaError(f"--header {value!r}: expected NAME:VALUE")
        headers[name.strip()] = content.strip()
    return headers


def _refuse_ignored_on_resume(ctx: typer.Context) -> None:
    def given_by_user(name: str) -> bool:  # compared by name: Typer may carry its own click
        source = ctx.get_parameter_source(name)
        return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")

    given = [name for name in RESUME_FIXED if given_by_user(name)]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        raise HaiaError(f"--resume continues a run as it was configured and would ignore {flags}; "
                        "drop them (or start a new run)")


def register(app: typer.Typer) -> None:
    """Add ``audit`` and ``runs`` to ``app``."""
    app.command()(audit)
    app.command()(runs)


def audit(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(
        help=f"{usage_line()}  [default: {DEFAULT_MODEL}]")] = None,
    suite: Annotated[str | None, typer.Option(
        help="A bundled suite name or the path of a suite file  [default: starter]")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Report folder  [default: haia-reports/RUN_ID]")] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once")] = 16,
    seed: Annotated[int, typer.Option(help="Seed for sampling and bootstrap intervals")] = 0,
    limit: Annotated[int | None, typer.Option(help="Only the first N items")] = None,
    samples: Annotated[int | None, typer.Option(
        help="Ask each item K times  [default: the suite's, else 1]")] = None,
    temperature: Annotated[float | None, typer.Option(
        help="Sampling temperature  [default: the suite's, else 0]")] = None,
    max_tokens: Annotated[int, typer.Option(help="Token budget per answer "
                                                 "(a suite may set its own)")] = 256,
    timeout: Annotated[float, typer.Option(help="Seconds per request before a retry")] = 120.0,
    retries: Annotated[int, typer.Option(help="Retries of a transient failure")] = 5,
    api_key_env: Annotated[str | None, typer.Option(
        help="Name of the environment variable holding the API key")] = None,
    header: Annotated[list[str] | None, typer.Option(
        help="Extra HTTP header NAME:VALUE (repeatable)")] = None,
    thresholds: Annotated[Path | None, typer.Option(
        help="YAML file of thresholds laid over the defaults")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached "
                                                                "responses")] = False,
    include_responses: Annotated[bool, typer.Option(
        help="Put the model's answers in the report (off: they may contain PHI)")] = False,
    resume: Annotated[str | None, typer.Option(help="Continue the run RUN_ID")] = None,
    sustainability: Annotated[Path | None, typer.Option(
        help="YAML file of prices, energy-per-token and grid figures laid over the defaults")
    ] = None,
    fail_on: Annotated[str | None, typer.Option(
        help="Exit 1 when a finding reaches this severity (low|medium|high|critical)")] = None,
    judge: Annotated[str | None, typer.Option(
        help="Also grade rubric items with this judge model (any --model form) and report the "
             "agreement of the judge and the rule-based grader")] = None,
    judge_per_criterion: Annotated[bool, typer.Option(
        help="Ask the judge about one rubric criterion per call (HealthBench-style)")] = False,
    system: Annotated[int | None, typer.Option(
        help="Attach the run to this registered system VERSION id (needs --auditor)")] = None,
    deployment: Annotated[int | None, typer.Option(
        help="With --system: the deployment the audit is for  [default: every deployment of "
             "the version]")] = None,
    auditor: Annotated[str | None, typer.Option(
        help="The registered auditor recording the run (with --system)")] = None,
    independence: Annotated[str | None, typer.Option(
        help="The auditor's declaration of independence from the developer")] = None,
    sign_key: Annotated[str | None, typer.Option(
        help="Sign report.json, report.html and report.pdf with this key (name or path); with "
             "--system, the auditor's registered key  [default: $HAIA_HOME/keys/AUDITOR.key]")
    ] = None,
    passphrase_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the signing key's passphrase")] = None,
    structured: Annotated[bool | None, typer.Option(
        "--structured/--no-structured",
        help="Constrain answers with a schema to the JSON form items ask for "
             "[default: the suite's, else off]")] = None,
    backend: Annotated[str, typer.Option(
        help="How requests are sent: local (asyncio, this process) or ray (Ray actors; "
             "also on resume)")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        help="With --backend ray: the cluster to join (auto, or ray://HOST:10001)  "
             "[default: start a local Ray instance]")] = None,
    ray_actors: Annotated[int | None, typer.Option(
        help="With --backend ray: sending actors  [default: the cluster's CPUs, at most 4]")
    ] = None,
    max_failed: Annotated[float, typer.Option(
        help="Share of requests (0-1) that may fail (unreachable, 401, 5xx, malformed answer) "
             "before the audit exits 3")] = 0.0,
) -> None:
    """Run an audit suite against a model and write its report (HTML, PDF, JSON), a draft model
    card and an EU AI Act Annex IV outline."""
    from haia.audit import AuditConfig
    from haia.audit_service import Attestation
    from haia.audit_service import audit as run_service
    from haia.findings.model import Severity

    threshold = Severity.parse(fail_on) if fail_on else None
    config = AuditConfig(
        model=model or AuditConfig.model, suite=suite or AuditConfig.suite,
        out=str(out) if out else None, concurrency=concurrency, seed=seed, limit=limit,
        samples=samples, temperature=temperature, max_tokens=max_tokens, timeout=timeout,
        retries=retries, use_cache=not no_cache, thresholds=str(thresholds) if thresholds else None,
        api_key_env=api_key_env, headers=parse_headers(header or []),
        include_responses=include_responses,
        sustainability=str(sustainability) if sustainability else None, judge=judge,
        judge_per_criterion=judge_per_criterion, structured=structured, backend=backend,
        ray_address=ray_address, ray_actors=ray_actors)
    if resume:
        _refuse_ignored_on_resume(ctx)
    if not 0 <= max_failed <= 1:
        raise HaiaError("--max-failed must be a share between 0 and 1")
    attestation = Attestation(system=system, deployment=deployment, auditor=auditor,
                              independence=independence, sign_key=sign_key,
                              passphrase_env=passphrase_env)
    bar = progress_bar()
    task: list[int] = []
    started: list[str] = []

    def on_start(run_id: str, total: int) -> None:
        started.append(run_id)
        print(f"haia: run id {run_id}", flush=True)
        bar.start()
        task.append(bar.add_task("auditing", total=total, rate="", errors=""))

    def on_progress(p: object) -> None:
        if task:
            done = getattr(p, "done", 0)
            elapsed = bar.tasks[0].elapsed or 0
            rate = f"{done / elapsed:.1f}/s" if elapsed > 0.5 else ""
            errors = getattr(p, "errors", 0)
            bar.update(task[0], completed=done, rate=rate,
                       errors=f"{errors} errors" if errors else "")

    def on_report(result: object) -> None:
        bar.stop()
        print_summary(result.report, result.out_dir)  # type: ignore[attr-defined]

    def on_note(message: str) -> None:
        err.print(f"[yellow]note:[/] {message}", highlight=False, soft_wrap=True)

    try:
        outcome = run_service(config, attestation, resume=resume, on_start=on_start,
                              on_progress=on_progress, on_note=on_note, on_report=on_report)
    except KeyboardInterrupt:
        bar.stop()
        if started:
            err.print(f"\nInterrupted. Resume with: [bold]haia audit --resume {started[0]}[/]")
        raise typer.Exit(130) from None
    except FatalModelError as exc:
        bar.stop()
        resume_hint = f"; resume with: haia audit --resume {started[0]}" if started else ""
        err.print(f"haia: {exc}{resume_hint}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    finally:
        bar.stop()
    result = outcome.result
    if outcome.signed:
        console.print(f"Signed by {outcome.signer.name} (key {outcome.signer.fingerprint})")
    if outcome.audit_id is not None:
        console.print(f"Recorded as audit {outcome.audit_id} of system version {system}")
    failures = result.report["run"].get("failures") or {}
    if threshold is not None and any(f.severity >= threshold for f in result.findings):
        err.print(f"[red]A finding reached severity {threshold.name}: failing (--fail-on).")
        raise typer.Exit(1)
    if failures.get("failed") and failures["share"] > max_failed:
        err.print(f"[red]{failures['failed']} of {failures['requests']} requests failed "
                  f"(more than --max-failed {max_failed:g}): the audit is incomplete.[/] "
                  f"Resume with: haia audit --resume {result.run_id}", highlight=False)
        raise typer.Exit(3)


def _severity_counts(report: dict) -> dict[str, int]:
    """How many findings of each severity a report holds."""
    counts: dict[str, int] = {}
    for f in report["findings"]:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    return counts


def print_summary(report: dict, out_dir: Path, files: list[str] | None = None) -> None:
    run = report["run"]
    counts = run["counts"]
    console.print(f"[bold]{run['suite']}[/] on [bold]{run['model']}[/]: {counts['items']} items, "
                  f"{counts['ok']} answered, {counts['errors']} failed, "
                  f"{counts['skipped']} skipped, {counts['cached']} cached")
    overall = [m for m in report["metrics"] if m["attribute"] == "overall"]
    for m in overall:
        if m["value"] is None:
            continue
        interval = (f"95% CI {m['ci_low']:.3f}–{m['ci_high']:.3f}, "
                    if m["ci_low"] is not None and m["ci_high"] is not None else "")
        console.print(f"  {m['metric']:<24} {m['value']:.3f}  ({interval}n={m['n']})")
    failures = run.get("failures") or {}
    if failures.get("failed"):
        from haia.findings.failures import failure_lines

        err.print(f"[red]{failures['failed']} of {failures['requests']} requests failed:[/]",
                  highlight=False)
        for line in failure_lines(failures):
            err.print(f"  {line}", highlight=False, soft_wrap=True)
    summary = ", ".join(f"{n} {s}" for s, n in _severity_counts(report).items()) or "none"
    console.print(f"  findings: {summary}")
    names = files or ["report.html", "report.json", "report.pdf", "model-card.json",
                      "model-card.md", "annex-iv.md"]
    console.print(f"Report: {out_dir / names[0]}"
                  + (f" (and {', '.join(names[1:])})" if names[1:] else ""))


def runs(limit: Annotated[int, typer.Option(help="How many recent runs")] = 20) -> None:
    """List recent runs in the run store."""
    from haia.runner.store import RunStore

    with RunStore() as store:
        table = Table(title=f"Runs in {store.path}")
        for column in ("run id", "status", "model", "suite", "created"):
            table.add_column(column)
        for run in store.list_runs(limit):
            table.add_row(run.run_id, run.status, run.model, f"{run.suite} {run.suite_version}",
                          run.created)
    console.print(table)


