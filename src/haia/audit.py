"""One audit, end to end: suite, runner, model, run store, scores, metrics, findings, report."""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from haia.errors import HaiaError
from haia.findings.failures import failure_finding, summarise_failures
from haia.findings.judge import gap_thresholds, judge, judge_gaps, load_thresholds
from haia.findings.model import Finding
from haia.metrics.aggregators import AggregationContext, aggregate
from haia.metrics.disaggregate import disaggregate
from haia.metrics.sustainability import EnergyReading, measure_energy, summarise
from haia.metrics.sustainability import load_config as load_sustainability
from haia.metrics.table import MetricRow, ScoreRow
from haia.models.base import ModelAdapter
from haia.models.registry import DEFAULT_MODEL, ModelOptions, create_adapter
from haia.record import SampleRecord, ScoreValue
from haia.runner.engine import GenerationParams, Progress, RetryPolicy, Runner, plan
from haia.runner.store import RunRecord, RunStore, now_iso
from haia.scoring.base import get_scorer, run_scorer, score_now
from haia.suites.counterfactual import variant_descriptors
from haia.suites.loader import load_suite
from haia.suites.model import Suite
from haia.validate import check_suite_patterns

DEFAULT_SUITE = "starter"
BACKENDS = ("local", "ray")
BACKEND_FIELDS = ("backend", "ray_address", "ray_actors")


@dataclass
class AuditConfig:
    """Everything that defines a run; stored with it so ``--resume`` can rebuild it."""

    model: str = DEFAULT_MODEL
    suite: str = DEFAULT_SUITE
    out: str | None = None
    concurrency: int = 16
    seed: int = 0
    limit: int | None = None
    samples: int | None = None
    temperature: float | None = None
    max_tokens: int = 256
    timeout: float = 120.0
    retries: int = 5
    use_cache: bool = True
    thresholds: str | None = None
    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    include_responses: bool = False
    sustainability: str | None = None
    judge: str | None = None
    subject: dict[str, Any] | None = None  # the registered system/version/auditor audited
    judge_per_criterion: bool = False
    structured: bool | None = None
    # How the requests are sent, not what the run is: a resumed run takes these from the caller.
    backend: str = "local"
    ray_address: str | None = None
    ray_actors: int | None = None

    def validate(self) -> None:
        checks = [
            (self.concurrency >= 1, "--concurrency must be at least 1"),
            (self.samples is None or self.samples >= 1, "--samples must be at least 1"),
            (self.limit is None or self.limit >= 1, "--limit must be at least 1"),
            (self.timeout > 0, "--timeout must be positive"),
            (self.retries >= 0, "--retries must be 0 or more"),
            (self.temperature is None or 0 <= self.temperature <= 2,
             "--temperature must be between 0 and 2"),
            (self.max_tokens >= 1, "--max-tokens must be at least 1"),
            (self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}"),
            (self.ray_actors is None or self.ray_actors >= 1, "--ray-actors must be at least 1"),
            (self.backend == "ray" or (self.ray_address is None and self.ray_actors is None),
             "--ray-address and --ray-actors need --backend ray"),
        ]
        for ok, message in checks:
            if not ok:
                raise HaiaError(message)
        from haia.validate import check_concurrency, check_headers

        check_headers(self.headers)
        check_concurrency(self.concurrency)

    def apply_suite_defaults(self, suite: Suite) -> None:
        """Samples and temperature the user left unset take the suite's defaults (else 1, 0)."""
        if self.samples is None:
            self.samples = suite.meta.samples or 1
        if self.temperature is None:
            self.temperature = suite.meta.temperature if suite.meta.temperature is not None else 0.0
        if self.structured is None:
            self.structured = bool(suite.meta.structured)

    def model_options(self) -> ModelOptions:
        """Connection options for the audited model (and the judge, which shares them)."""
        return ModelOptions(api_key_env=self.api_key_env, headers=self.headers,
                            max_connections=max(self.concurrency, 1), timeout=self.timeout)

    def params(self) -> GenerationParams:
        return GenerationParams(self.temperature or 0.0, self.max_tokens, self.seed,
                                self.samples or 1, bool(self.structured))


@dataclass
class AuditResult:
    """What an audit produced."""

    run_id: str
    report: dict[str, Any]
    out_dir: Path
    findings: list[Finding]
    progress: Progress


SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)
REDACTED = "<redacted>"


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header values that may be credentials are never written to the run store."""
    return {k: REDACTED if SECRET_HEADER.search(k) else v for k, v in headers.items()}


def restore_headers(stored: dict[str, str], given: dict[str, str]) -> dict[str, str]:
    """A resumed run's headers: redacted ones must be given again with ``--header``."""
    headers = {**stored, **given}
    missing = sorted(k for k, v in headers.items() if v == REDACTED)
    if missing:
        raise HaiaError(f"the run used secret header(s) {', '.join(missing)}, which are not "
                        "stored: pass them again with --header NAME:VALUE")
    return headers


def new_run_id() -> str:
    """A sortable, unique run id such as ``r20261125-041502-9f3a1c``."""
    return f"r{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def default_out(run_id: str) -> Path:
    return Path("haia-reports") / run_id


# What the report stage imports (matplotlib, fpdf2 and, for equity suites, SciPy's statistics:
# about 1.5 s): imported in a background thread while the run waits on the model, not after it.
REPORT_MODULES = ("haia.metrics.fairness", "haia.report.build", "haia.report.write",
                  "haia.report.pdf", "haia.report.exports", "haia.report.model_card",
                  "haia.metrics.equity")
EQUITY_MODULES = ("scipy.stats",)  # McNemar's exact test, for suites of counterfactual families


def _warm_report_imports(equity: bool) -> None:
    import importlib

    from haia.report.charts import _plt

    try:
        for name in REPORT_MODULES + (EQUITY_MODULES if equity else ()):
            importlib.import_module(name)
        _plt()
        from haia.report.pdf import prepare

        prepare()
    except Exception:  # only a head start: the report stage imports them itself
        pass


def warm_report_imports(equity: bool = True) -> threading.Thread:
    """Start importing the report stage's modules in a daemon thread (joined before the report
    stage, so no module is ever imported by two threads at once after the run); ``equity``:
    the suite has counterfactual families, whose tests need SciPy's statistics."""
    thread = threading.Thread(target=_warm_report_imports, args=(equity,),
                              name="haia-warm-imports", daemon=True)
    thread.start()
    return thread


async def _execute(runner: Runner, units: list[Any], adapter: ModelAdapter) -> Progress:
    try:
        return await runner.run(units)
    finally:
        await adapter.aclose()


def run_audit(
    config: AuditConfig,
    *,
    resume: str | None = None,
    store: RunStore | None = None,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    report_extra: dict[str, Any] | None = None,
) -> AuditResult:
    """Run (or resume) an audit and write its report. ``on_start(run_id, total)`` fires first."""
    store = store or RunStore()
    if resume is not None:
        record = store.get_run(resume)
        given = config
        config = AuditConfig(**record.config)
        config.headers = restore_headers(config.headers, given.headers)
        for name in BACKEND_FIELDS:
            setattr(config, name, getattr(given, name))
        suite = load_suite(config.suite)
        if suite.content_hash() != record.suite_hash:
            raise HaiaError(f"run {resume}: suite {config.suite!r} has changed since the run "
                            "started; start a new run instead")
        run_id = resume
        config.validate()
    else:
        config.validate()
        suite = load_suite(config.suite)
        config.apply_suite_defaults(suite)
        run_id = new_run_id()
    check_suite_patterns(suite)
    thresholds = load_thresholds(config.thresholds)
    energy_config = load_sustainability(config.sustainability)
    adapter = create_adapter(config.model, config.model_options())
    if config.structured and not getattr(adapter, "supports_structured", False):
        asyncio.run(adapter.aclose())
        raise HaiaError(f"--structured: {config.model} cannot constrain answers to a schema "
                        "(use builtin: or openai: models)")
    units = plan(suite, adapter, config.params(), config.limit)
    runner = make_runner(config, adapter, store, run_id, on_progress, score=scorer_for(suite))
    if resume is None:
        stored = {k: v for k, v in asdict(config).items() if k not in BACKEND_FIELDS}
        stored["headers"] = redact_headers(config.headers)
        store.create_run(RunRecord(run_id, now_iso(), "running", config.model, suite.name,
                                   suite.version, suite.content_hash(), stored, None))
    else:
        store.set_status(run_id, "running")
    if on_start is not None:
        on_start(run_id, len(units))
    readings: list[EnergyReading] = []
    warming = warm_report_imports(any(item.family for item in suite.items))
    try:
        with measure_energy(config.model, energy_config, readings):
            progress = asyncio.run(_execute(runner, units, adapter))
    except BaseException:
        store.flush()
        store.set_status(run_id, "interrupted")
        raise
    finally:
        for reading in readings:  # a resumed run adds the energy of each session
            store.add_meta(run_id, "energy", asdict(reading))
    warming.join()
    if config.judge:
        run_judge(store, run_id, suite, config)
    store.set_status(run_id, "complete")
    out_dir = Path(config.out) if config.out else default_out(run_id)
    report, findings = build_and_write(store, run_id, suite, config, thresholds, out_dir,
                                       **(report_extra or {}))
    return AuditResult(run_id, report, out_dir, findings, progress)


def make_runner(config: AuditConfig, adapter: ModelAdapter, store: RunStore, run_id: str,
                on_progress: Callable[[Progress], None] | None,
                score: Callable[[Any, str], Any] | None = None) -> Runner:
    """The runner of ``config.backend``: local asyncio workers, or Ray actors; ``score`` scores
    each answer as it arrives (stored with its record)."""
    common: dict[str, Any] = dict(
        concurrency=config.concurrency, timeout=config.timeout,
        retry=RetryPolicy(retries=config.retries), use_cache=config.use_cache, seed=config.seed,
        on_progress=on_progress, score=score)
    if config.backend == "ray":
        from haia.runner.ray_backend import RayRunner, ray_module

        ray_module()  # a clear error before the run starts when Ray is missing
        return RayRunner(adapter, store, run_id, spec=config.model,
                         options=config.model_options(), address=config.ray_address,
                         actors=config.ray_actors, **common)
    return Runner(adapter, store, run_id, **common)


def run_judge(store: RunStore, run_id: str, suite: Suite, config: AuditConfig) -> None:
    """Grade every rubric answer of the run not yet graded with the judge model ``config.judge``
    (each verdict stored as the `judge` annotation of its record, so a resumed run grades only
    what is left)."""
    from haia.scoring.judge import JudgeTask, grade_with_judge

    items = {item.id: item for item in suite.items if item.rubric}
    judged_before = {(r["item_id"], r["sample"]) for r in store.meta(run_id, "judge")}  # old runs
    tasks = [JudgeTask(items[r.item_id], r.sample, r.output or "")
             for r in store.records(run_id)
             if r.status == "ok" and r.item_id in items and "judge" not in r.annotations
             and (r.item_id, r.sample) not in judged_before]
    if not tasks:
        return
    grader = create_adapter(config.judge, config.model_options())

    async def grade() -> None:
        try:
            await grade_with_judge(grader, tasks, concurrency=config.concurrency,
                                   per_criterion=config.judge_per_criterion,
                                   on_done=lambda _t, r: store.annotate(
                                       run_id, r["item_id"], r["sample"], "judge", r))
        finally:
            await grader.aclose()

    asyncio.run(grade())


def judge_verdicts(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The judge's verdicts on the run: the ``judge`` annotation of each record (and, for a run
    judged before verdicts were annotations, the run's ``judge`` metadata)."""
    verdicts = list(store.meta(run_id, "judge"))
    for _ in _with_verdicts(store.records(run_id), verdicts):
        pass
    return verdicts


def _with_verdicts(records: Iterable[SampleRecord], verdicts: list[dict[str, Any]]
                   ) -> Iterator[SampleRecord]:
    """``records`` passed through, each one's judge verdict appended to ``verdicts`` on the way
    (so the report reads the store once for scores and verdicts)."""
    for record in records:
        if "judge" in record.annotations:
            verdicts.append(record.annotations["judge"])
        yield record


def _outcomes(records: Iterable[SampleRecord], outcomes: list[SampleRecord], *,
              keep_output: bool) -> Iterator[SampleRecord]:
    """``records`` passed through, each one's outcome appended to ``outcomes`` on the way:
    the record without its scores and annotations, and without its output unless
    ``keep_output`` or the record was judged (the report's run summary, failures, cost and
    items read these, so the store is read once)."""
    for record in records:
        keep = keep_output or "judge" in record.annotations
        outcomes.append(replace(record, scores={}, annotations={},
                                output=record.output if keep else None))
        yield record


def score_values(scores: list[Any]) -> list[ScoreValue]:
    """A scorer's :class:`~haia.scoring.base.Score` list as stored values."""
    return [ScoreValue(s.metric, s.value, s.label, str(s.detail.get("kind", "binary")),
                       tuple(s.detail.get("relevant", ()))) for s in scores]


def scorer_for(suite: Suite) -> Callable[[Any, str], Any]:
    """The runner's ``score`` hook: every scorer of the item, awaited, by scorer name."""

    async def score(item: Any, text: str) -> dict[str, list[ScoreValue]]:
        return {name: score_values(await run_scorer(get_scorer(name), item, text))
                for name in suite.scorers_for(item)}

    return score


def score_records(suite: Suite, records: Iterable[SampleRecord], *,
                  regrade: bool = False) -> list[ScoreRow]:
    """Score rows of every successful sample record, read as they stream from the store: the
    scores stored with the record where there are any, else its item's scorers run now (a
    schema-1 store, or a scorer the suite names since; every scorer with ``regrade``)."""
    items = {item.id: item for item in suite.items}
    rows = []
    for record in records:
        item = items.get(record.item_id)
        if item is None or record.status != "ok":
            continue
        for name in suite.scorers_for(item):
            values = None if regrade else record.scores.get(name)
            if values is None:
                values = score_values(score_now(get_scorer(name), item, record.output or ""))
            for score in values:
                rows.append(ScoreRow(
                    suite=suite.name, item_id=item.id, sample=record.sample,
                    metric=score.metric, value=score.value, label=score.label,
                    attributes=item.attributes, family=item.family, variant=item.variant,
                    kind=score.kind, relevant=frozenset(score.relevant)))
    return rows


def assemble(store: RunStore, run_id: str, suite: Suite, config: AuditConfig,
             thresholds: dict[str, Any], *, regrade: bool = False,
             **extra: Any) -> tuple[dict[str, Any], list[Finding]]:
    """Score, aggregate and judge a finished run into the report dict (nothing written).
    ``regrade`` scores the answers again; ``extra`` goes to
    :func:`haia.report.build.build_report` (``system``, ``signature``...)."""
    from haia.metrics.equity import Comparison, analyse_equity
    from haia.metrics.fairness import disparities
    from haia.report.build import build_report

    judged = list(store.meta(run_id, "judge"))  # runs judged before verdicts were annotations
    responses: list[SampleRecord] = []
    records = _outcomes(_with_verdicts(store.records(run_id), judged), responses,
                        keep_output=config.include_responses or bool(judged))
    scores = score_records(suite, records, regrade=regrade)
    metrics: list[MetricRow] = aggregate(AggregationContext(suite, scores, config.seed))
    if judged:
        from haia.metrics.agreement import grader_agreement, judge_scores

        items = {item.id: item for item in suite.items}
        judge_rows = judge_scores(suite.name, items, judged)
        scores += judge_rows
        metrics += disaggregate(judge_rows, seed=config.seed)
        answers = {(r.item_id, r.sample): r.output or "" for r in responses
                   if r.status == "ok"}
        metrics += grader_agreement(suite.name, items, answers, judged, config.seed)
    findings = judge(metrics, scores, thresholds)
    failures = summarise_failures(responses)
    failed = failure_finding(failures, suite.name, thresholds)
    if failed is not None:
        findings = sorted([*findings, failed], key=lambda f: (-f.severity, f.id))
    cost_rows, sustainability = summarise(suite.name, config.model, responses,
                                          store.meta(run_id, "energy"),
                                          load_sustainability(config.sustainability))
    metrics += cost_rows
    comparisons: list[Comparison] = []
    equity: dict[str, Any] | None = None
    if any(row.family for row in scores):
        defaults = thresholds["defaults"]
        analysis = analyse_equity(
            scores, seed=config.seed, alpha=float(defaults.get("alpha", 0.05)),
            permutations=int(defaults.get("permutations", 2000)),
            correction=str(defaults.get("correction", "maxt")),
            thresholds=gap_thresholds(thresholds), descriptors=variant_descriptors())
        comparisons = analysis.comparisons
        equity = analysis.as_dict()
        findings = sorted(findings + judge_gaps(comparisons, thresholds),
                          key=lambda f: (-f.severity, f.id))
    report = build_report(store.get_run(run_id), suite, responses, scores, metrics, findings,
                          include_responses=config.include_responses, comparisons=comparisons,
                          disparities=disparities(scores), sustainability=sustainability,
                          equity=equity, thresholds=thresholds, **extra)
    report["run"]["failures"] = failures
    if config.subject:
        report["subject"] = dict(config.subject)
    from haia.metrics.grader_validation import annotate_report

    annotate_report(report, judge=config.judge)
    return report, findings


def build_and_write(store: RunStore, run_id: str, suite: Suite, config: AuditConfig,
                    thresholds: dict[str, Any], out_dir: Path,
                    formats: tuple[str, ...] | None = None, **extra: Any
                    ) -> tuple[dict[str, Any], list[Finding]]:
    """Build the report of a finished run and write it in ``formats`` into ``out_dir``."""
    from haia.report.write import FORMATS, write_report

    report, findings = assemble(store, run_id, suite, config, thresholds, **extra)
    write_report(report, out_dir, formats or FORMATS)
    return report, findings
