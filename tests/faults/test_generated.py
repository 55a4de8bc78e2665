"""Generated inputs (Hypothesis): suites, thresholds, sustainability files, headers and server
answers either work or fail as one :class:`HaiaError` line; nothing else ever escapes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haia.errors import HaiaError
from haia.models.base import GenerationResponse, ModelError
from haia.models.openai_compat import OpenAICompatAdapter
from haia.validate import check_header

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
json_like = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


def _one_line(exc: HaiaError) -> None:
    assert "\n" not in str(exc).strip() or str(exc).count("\n") == 0, str(exc)


@SETTINGS
@given(name=st.text(max_size=20), value=st.text(max_size=40))
def test_generated_headers_are_accepted_only_when_safe(name: str, value: str) -> None:
    try:
        check_header(name, value)
    except HaiaError as exc:
        _one_line(exc)
        return
    assert name and name.isascii() and value.isascii()
    assert not any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value)
    assert all(c.isalnum() or c in "!#$%&'*+-.^_`|~" for c in name)


rule = st.fixed_dictionaries({}, optional={
    "direction": st.one_of(st.sampled_from(["higher_is_better", "lower_is_better"]), scalars),
    "cutoffs": st.one_of(st.dictionaries(st.sampled_from(["low", "medium", "high", "critical",
                                                           "dire"]), scalars, max_size=4),
                         scalars),
    "gap_cutoffs": st.dictionaries(st.sampled_from(["low", "high"]), scalars, max_size=2),
    "min_n": scalars})
thresholds_doc = st.fixed_dictionaries({}, optional={
    "defaults": st.one_of(st.fixed_dictionaries({}, optional={
        "min_n": scalars, "alpha": scalars, "correction": st.one_of(
            st.sampled_from(["holm", "bh", "none"]), scalars), "min_families": scalars}),
        scalars),
    "metrics": st.one_of(st.dictionaries(st.sampled_from(["accuracy", "refusal", "new_metric"]),
                                         st.one_of(rule, scalars), max_size=3), scalars)})


@SETTINGS
@given(doc=st.one_of(thresholds_doc, json_like))
def test_generated_thresholds_load_and_judge_or_fail_in_one_line(tmp_path: Path,
                                                                 doc: object) -> None:
    from haia.findings.judge import judge, load_thresholds
    from haia.metrics.table import MetricRow

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        config = load_thresholds(path)
    except HaiaError as exc:
        _one_line(exc)
        return
    rows = [MetricRow("s", m, "overall", "all", v, None, None, 50)
            for m in ("accuracy", "refusal", "new_metric") for v in (0.0, 0.5, 1.0)]
    for finding in judge(rows, [], config):  # the numbers it accepted are usable
        assert finding.threshold is None or math.isfinite(finding.threshold)


sustainability_doc = st.fixed_dictionaries({}, optional={
    "prices": st.one_of(st.lists(st.fixed_dictionaries(
        {"match": st.one_of(st.sampled_from([".*", "gpt", "((", "[z-a]"]), scalars)},
        optional={"input_per_m": scalars, "output_per_m": scalars}), max_size=3), scalars),
    "remote_wh_per_1k_tokens": scalars, "grid_gco2_per_kwh": scalars,
    "country_iso_code": st.one_of(st.sampled_from(["USA", "FRA"]), scalars)})


@SETTINGS
@given(doc=st.one_of(sustainability_doc, json_like))
def test_generated_sustainability_loads_and_summarises_or_fails_in_one_line(
        tmp_path: Path, doc: object) -> None:
    from haia.metrics.sustainability import load_config, summarise
    from haia.record import SampleRecord

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        config = load_config(path)
    except HaiaError as exc:
        _one_line(exc)
        return
    responses = [SampleRecord("i", 0, "h", "ok", output="B", prompt_tokens=10,
                              completion_tokens=5, latency_s=0.02)]
    summarise("s", "openai:gpt-4o@http://x", responses, [], config)


item = st.fixed_dictionaries({"id": st.one_of(st.sampled_from(["a", "b"]), scalars)}, optional={
    "prompt": scalars, "choices": st.one_of(st.dictionaries(st.sampled_from("ABC"), scalars),
                                            scalars),
    "answer": scalars, "rubric": st.one_of(st.lists(st.fixed_dictionaries(
        {"id": st.just("c"), "text": st.just("t"), "points": scalars},
        optional={"patterns": st.lists(st.sampled_from(["ok", "(", "a{2,1}", "\\"]))})), scalars),
    "meta": json_like, "attributes": json_like})
suite_doc = st.fixed_dictionaries({
    "name": st.one_of(st.just("gen"), scalars), "version": st.just("1"),
    "description": st.just("d"), "provenance": st.just("p"), "licence": st.just("x")},
    optional={"items": st.one_of(st.lists(item, max_size=3), scalars),
              "max_tokens": scalars, "samples": scalars, "temperature": scalars,
              "scorers": st.one_of(st.lists(st.sampled_from(["choice", "rubric"])), scalars)})


@SETTINGS
@given(doc=st.one_of(suite_doc, json_like))
def test_generated_suites_load_or_fail_in_one_line(tmp_path: Path, doc: object) -> None:
    from haia.errors import SuiteError
    from haia.suites.loader import load_suite
    from haia.validate import check_suite_patterns

    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        suite = load_suite(str(path))
        check_suite_patterns(suite)
    except SuiteError as exc:
        _one_line(exc)
        return
    assert suite.meta.max_tokens is None or suite.meta.max_tokens >= 1
    suite.content_hash()


usage = st.one_of(scalars, st.dictionaries(st.sampled_from(["prompt_tokens",
                                                            "completion_tokens"]), scalars))
answer = st.one_of(json_like, st.fixed_dictionaries({"choices": st.one_of(
    st.lists(st.fixed_dictionaries({}, optional={
        "message": st.one_of(st.fixed_dictionaries({}, optional={"content": json_like}),
                             scalars),
        "finish_reason": scalars}), max_size=2), scalars)}, optional={"usage": usage,
                                                                       "model": scalars}))


@SETTINGS
@given(body=answer)
def test_generated_server_answers_parse_or_fail_that_item(body: object) -> None:
    raw = json.dumps(body, allow_nan=True).encode()
    try:
        response = OpenAICompatAdapter._parse(raw, 0.01)
    except ModelError:
        return  # the runner records it as that item's failure
    assert isinstance(response, GenerationResponse)
    assert isinstance(response.text, str)
    assert response.usage.prompt_tokens >= 0 and response.usage.completion_tokens >= 0


@pytest.mark.parametrize("raw", [b"<html>oops</html>", b"", b"\xff\xfe", b"[]", b"null"])
def test_non_json_answers_are_model_errors(raw: bytes) -> None:
    with pytest.raises(ModelError):
        OpenAICompatAdapter._parse(raw, 0.01)
