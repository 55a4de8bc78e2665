"""Runner logic: retries, skips, permanent errors, cache and resume bookkeeping.

These use an in-process adapter double so each behaviour is exact; the same paths are exercised
over real HTTP against the scripted OpenAI-compatible server in tests/runner/test_runner_http.py.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from haia.models.base import (
    GenerationRequest,
    GenerationResponse,
    ModelError,
    TransientModelError,
    UnsupportedInput,
    Usage,
)
from haia.runner.engine import GenerationParams, RetryPolicy, Runner, plan
from haia.runner.store import RunRecord, RunStore, now_iso
from haia.suites.model import Item, Suite, SuiteMeta

FAST = RetryPolicy(retries=3, base_delay=0.001, max_delay=0.002)


class ScriptedAdapter:
    """Answers from a per-item script of outcomes; records every call."""

    spec = "double:scripted"
    modalities = frozenset({"text"})

    def __init__(self, script: dict[str, list[object]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []

    def identity(self) -> str:
        return self.spec

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        prompt = request.messages[-1]["content"]
        self.calls.append(prompt)
        outcomes = self.script.get(prompt, [])
        outcome = outcomes.pop(0) if outcomes else f"answer to {prompt}"
        if isinstance(outcome, Exception):
            raise outcome
        await asyncio.sleep(0)
        return GenerationResponse(str(outcome), Usage(3, 2), latency_s=0.001)

    async def aclose(self) -> None:
        return None


def make_suite(n: int) -> Suite:
    meta = SuiteMeta(name="t", version="1", description="d", provenance="p", licence="CC0-1.0",
                     scorers=["refusal"])
    return Suite(meta=meta, items=[Item(id=f"i{k}", prompt=f"q{k}") for k in range(n)])


def new_run(store: RunStore, run_id: str = "r1") -> str:
    store.create_run(RunRecord(run_id, now_iso(), "running", "double", "t", "1", "h", {}, None))
    return run_id


def execute(adapter: ScriptedAdapter, store: RunStore, suite: Suite, run_id: str,
            **kwargs: object) -> Runner:
    runner = Runner(adapter, store, run_id, retry=FAST, **kwargs)  # type: ignore[arg-type]
    asyncio.run(runner.run(plan(suite, adapter, GenerationParams())))
    return runner


def test_every_item_answered_once(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    adapter = ScriptedAdapter()
    runner = execute(adapter, store, make_suite(40), new_run(store), concurrency=8)
    rows = list(store.records("r1"))
    assert len(rows) == 40 and {r.status for r in rows} == {"ok"}
    assert sorted(adapter.calls) == sorted(f"q{k}" for k in range(40))
    assert runner.progress.done == 40 and runner.progress.errors == 0


def test_transient_errors_are_retried_until_success(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    adapter = ScriptedAdapter({"q0": [TransientModelError("429", status=429, retry_after=0),
                                      TransientModelError("503"), TimeoutError(), "fine"]})
    runner = execute(adapter, store, make_suite(2), new_run(store))
    row = {r.item_id: r for r in list(store.records("r1"))}["i0"]
    assert (row.status, row.output, row.attempts) == ("ok", "fine", 4)
    assert runner.progress.retries == 3


def test_retries_exhausted_records_error_and_resume_retries_it(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    failures: list[object] = [TransientModelError("boom 500", status=500)] * 4
    adapter = ScriptedAdapter({"q1": list(failures)})
    suite = make_suite(3)
    runner = execute(adapter, store, suite, new_run(store))
    rows = {r.item_id: r for r in list(store.records("r1"))}
    assert rows["i1"].status == "error" and "boom 500" in (rows["i1"].error or "")
    assert runner.progress.errors == 1
    adapter.calls.clear()
    execute(adapter, store, suite, "r1")  # resume: only the failed item is sent again
    assert adapter.calls == ["q1"]
    assert {r.status for r in list(store.records("r1"))} == {"ok"}
    assert len(list(store.records("r1"))) == 3


def test_permanent_error_not_retried_and_unsupported_skipped(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    adapter = ScriptedAdapter({"q0": [ModelError("400 bad request", status=400)],
                               "q1": [UnsupportedInput("text only")]})
    runner = execute(adapter, store, make_suite(3), new_run(store))
    rows = {r.item_id: r for r in list(store.records("r1"))}
    assert (rows["i0"].status, rows["i0"].attempts) == ("error", 1)
    assert rows["i1"].status == "skipped"
    assert adapter.calls.count("q0") == 1
    assert runner.progress.skipped == 1


def test_cache_spares_repeated_calls_across_runs(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    suite = make_suite(5)
    execute(ScriptedAdapter(), store, suite, new_run(store, "r1"))
    second = ScriptedAdapter()
    runner = execute(second, store, suite, new_run(store, "r2"))
    assert second.calls == [] and runner.progress.cached == 5
    assert all(r.cached for r in list(store.records("r2")))
    third = ScriptedAdapter()
    execute(third, store, suite, new_run(store, "r3"), use_cache=False)
    assert len(third.calls) == 5


def test_samples_are_distinct_requests(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "s.sqlite")
    adapter = ScriptedAdapter()
    suite = make_suite(2)
    units = plan(suite, adapter, GenerationParams(temperature=0.7, samples=3, seed=10))
    assert len(units) == 6 and len({u.key for u in units}) == 6
    assert sorted({u.request.seed for u in units}) == [10, 11, 12]
    new_run(store)
    runner = Runner(adapter, store, "r1", retry=FAST)
    asyncio.run(runner.run(units))
    assert len(list(store.records("r1"))) == 6


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    class Slow(ScriptedAdapter):
        active = peak = 0

        async def generate(self, request: GenerationRequest) -> GenerationResponse:
            Slow.active += 1
            Slow.peak = max(Slow.peak, Slow.active)
            await asyncio.sleep(0.005)
            Slow.active -= 1
            return GenerationResponse("x")

    store = RunStore(tmp_path / "s.sqlite")
    execute(Slow(), store, make_suite(50), new_run(store), concurrency=7)
    assert Slow.peak == 7


def test_backoff_honours_retry_after_and_grows() -> None:
    policy = RetryPolicy(retries=5, base_delay=1.0, max_delay=8.0)
    rng = random.Random(0)
    assert policy.delay(1, 2.5, rng) == 2.5
    assert policy.delay(1, 1000, rng) == 16.0  # capped
    draws = [max(policy.delay(a, None, rng) for _ in range(200)) for a in (1, 2, 3, 4, 5)]
    assert draws[0] <= 1.0 < draws[1] <= 2.0 < draws[2] <= 4.0 < draws[3] <= 8.0
    assert draws[4] <= 8.0


def test_store_is_durable_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with RunStore(path) as store:
        execute(ScriptedAdapter(), store, make_suite(4), new_run(store))
    with RunStore(path) as again:
        assert again.done_keys("r1") == {(f"i{k}", 0) for k in range(4)}
        assert again.get_run("r1").status == "running"


def test_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    from haia.errors import HaiaError

    with RunStore(tmp_path / "s.sqlite") as store, pytest.raises(HaiaError, match="no run 'x'"):
        store.get_run("x")


def test_run_meta_accumulates_per_run(tmp_path: Path) -> None:
    with RunStore(tmp_path / "s.sqlite") as store:
        new_run(store, "r1")
        new_run(store, "r2")
        store.add_meta("r1", "energy", {"kwh": 0.5})
        store.add_meta("r1", "energy", {"kwh": 0.25})
        store.add_meta("r2", "energy", {"kwh": 9})
        assert store.meta("r1", "energy") == [{"kwh": 0.5}, {"kwh": 0.25}]
        assert store.meta("r1", "other") == []


def test_answers_are_stored_with_their_scores_and_a_failing_scorer_stops_nothing(
        tmp_path: Path) -> None:
    from haia.record import ScoreValue

    async def score(item: Item, text: str) -> dict[str, list[ScoreValue]]:
        if item.id == "i3":
            raise ValueError("a scorer bug on this one answer")
        return {"length": [ScoreValue("length", float(len(text)), kind="continuous")]}

    store = RunStore(tmp_path / "s.sqlite")
    runner = execute(ScriptedAdapter(), store, make_suite(6), new_run(store), concurrency=3,
                     score=score)
    assert runner.progress.done == 6 and runner.progress.errors == 0
    records = {r.item_id: r for r in store.records("r1")}
    assert sorted(records) == [f"i{k}" for k in range(6)]
    assert records["i3"].status == "ok" and records["i3"].scores == {}  # scored at report time
    assert records["i0"].scores["length"][0].value == float(len("answer to q0"))
    assert records["i0"].output == "answer to q0"
