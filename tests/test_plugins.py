"""Plug-ins from outside haia: one scorer, one aggregator and one model adapter, each added by
one registration, and an audit that runs through all three."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from haia.audit import AuditConfig, run_audit
from haia.errors import RegistrationError
from haia.metrics import aggregators
from haia.metrics.aggregators import AggregationContext, aggregator
from haia.metrics.table import MetricRow
from haia.models import registry
from haia.models.base import GenerationRequest, GenerationResponse, Usage
from haia.models.registry import ModelOptions, adapter, is_local
from haia.runner.store import RunStore
from haia.scoring import base as scoring
from haia.scoring.base import Score, scorer
from haia.suites.model import Item


@pytest.fixture
def plugins() -> Iterator[None]:
    """Register the three plug-ins for one test and remove them after."""

    @scorer("plugin_length", metrics=("answer_length",))
    async def length(item: Item, text: str) -> list[Score]:  # async, like a model grader
        await asyncio.sleep(0)
        return [Score("answer_length", float(len(text)), detail={"kind": "continuous"})]

    @aggregator("plugin_total")
    def total(context: AggregationContext) -> list[MetricRow]:
        values = [s.value for s in context.scores if s.metric == "answer_length"]
        return [MetricRow(suite=context.suite.name, metric="answer_length_total",
                          attribute="overall", group="all", value=float(sum(values)),
                          ci_low=None, ci_high=None, n=len(values))]

    @adapter("echo", modalities={"text"}, local=False, usage="echo:WORD")
    class EchoAdapter:
        """Answers every question with the word of its spec (after 'echo:')."""

        def __init__(self, rest: str, options: ModelOptions) -> None:
            self.spec = f"echo:{rest}"
            self.word = rest
            self.modalities = frozenset({"text"})

        async def generate(self, request: GenerationRequest) -> GenerationResponse:
            return GenerationResponse(self.word, Usage(3, 1), latency_s=0.001)

        async def aclose(self) -> None:
            return None

        def identity(self) -> str:
            return self.spec

    yield
    scoring._SCORERS.pop("plugin_length", None)
    scoring._METRICS.pop("plugin_length", None)
    aggregators.unregister("plugin_total")
    registry.unregister("echo")


def write_suite(folder: Path) -> Path:
    items = [{"id": f"q-{k}", "prompt": f"Question {k}: which option?",
              "choices": {"A": "one", "B": "two"}, "answer": "AB"[k % 2],
              "scorers": ["choice", "plugin_length"], "principles": ["wellbeing_safety"],
              "rationale": "plug-in test", "source": "test"} for k in range(4)]
    suite = {"name": "plugin-suite", "version": "1.0", "description": "plug-in test",
             "provenance": "haia tests", "licence": "CC0-1.0",
             "principles": ["wellbeing_safety"], "items": items}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False), encoding="utf-8")
    return path


def test_audit_through_registered_plugins(plugins: None, tmp_path: Path) -> None:
    assert "echo:WORD" in registry.usage_line()
    assert is_local("builtin:smollm2") and not is_local("echo:B")
    assert not is_local("openai:m@http://h/v1")
    suite = write_suite(tmp_path)
    with RunStore() as store:
        result = run_audit(AuditConfig(model="echo:B", suite=str(suite),
                                       out=str(tmp_path / "out"), concurrency=2), store=store)
        assert [r.output for r in store.records(result.run_id)] == ["B"] * 4
    report = json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))
    assert [i["scores"]["answer_length"] for i in report["items"]] == [1.0] * 4
    assert [i["scores"]["accuracy"] for i in report["items"]] == [0.0, 1.0, 0.0, 1.0]
    totals = [m for m in report["metrics"] if m["metric"] == "answer_length_total"]
    assert len(totals) == 1 and totals[0]["value"] == 4.0 and totals[0]["n"] == 4


def test_registering_a_name_twice_is_an_error(plugins: None) -> None:
    with pytest.raises(RegistrationError, match="scorer 'plugin_length' is already registered"):
        scorer("plugin_length")(lambda item, text: [])
    with pytest.raises(RegistrationError, match="aggregator 'plugin_total'"):
        aggregator("plugin_total")(lambda context: [])
    with pytest.raises(RegistrationError, match="kind 'echo'"):
        adapter("echo")(lambda rest, options: None)
    with pytest.raises(RegistrationError, match="kind 'openai'"):
        adapter("openai")(lambda rest, options: None)


def test_runner_checks_modalities_before_sending(plugins: None, tmp_path: Path) -> None:
    items = [{"id": "img-1", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What does this show?"},
        {"type": "image", "image": "data:image/png;base64,iVBORw0KGgo="}]}],
        "choices": {"A": "x", "B": "y"}, "answer": "B", "scorers": ["choice"],
        "principles": ["wellbeing_safety"], "rationale": "t", "source": "t"}]
    path = tmp_path / "img.yaml"
    path.write_text(yaml.safe_dump({"name": "img", "version": "1", "description": "d",
                                    "provenance": "p", "licence": "CC0-1.0",
                                    "principles": ["wellbeing_safety"], "items": items}))
    with RunStore() as store:
        result = run_audit(AuditConfig(model="echo:B", suite=str(path),
                                       out=str(tmp_path / "out")), store=store)
        (record,) = store.records(result.run_id)
    assert record.status == "skipped" and record.attempts == 0
    assert "echo:B takes no image input" in (record.error or "")
