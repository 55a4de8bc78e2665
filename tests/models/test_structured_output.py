"""--structured: the answer schema reaches the server as response_format, and is scored."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_haia

from haia.scoring.choice import extract_choice
from haia.suites.answer_schema import answer_schema
from haia.suites.loader import load_suite
from haia.testing.openai_server import ScriptedServer


def _equity_answer(body: dict) -> str:
    schema = body["response_format"]["json_schema"]["schema"]
    return json.dumps({name: (True if spec["type"] == "boolean" else spec["enum"][0])
                       for name, spec in schema["properties"].items()})


def test_equity_schema_lists_every_outcome_with_its_type() -> None:
    item = next(i for i in load_suite("equity").items if len(i.meta["outcomes"]) > 1)
    schema = answer_schema(item)
    assert schema is not None and schema["required"] == item.meta["outcomes"]
    assert schema["additionalProperties"] is False
    for name in item.meta["outcomes"]:
        kind = schema["properties"][name]
        assert kind["type"] in {"boolean", "integer"}
        if kind["type"] == "integer":
            assert kind["enum"] == sorted(kind["enum"]) and len(kind["enum"]) >= 4


def test_multiple_choice_schema_and_its_json_answer_is_read() -> None:
    item = load_suite("starter").items[0]
    schema = answer_schema(item)
    assert schema is not None
    assert schema["properties"]["answer"]["enum"] == sorted(item.choices or {})
    assert extract_choice('{"answer": "C"}', {"A": "x", "B": "y", "C": "z"}) == "C"
    assert extract_choice('{"answer": "Q"}', {"A": "x", "B": "y"}) is None


def test_structured_sends_the_schema_and_records_it(tmp_path: Path) -> None:
    with ScriptedServer(_equity_answer) as server:
        result = run_haia("audit", "--model", f"openai:m@{server.base_url}", "--suite", "equity",
                          "--limit", "28", "--structured", "--out", str(tmp_path / "r"))
        bodies = list(server.requests)
    assert result.returncode == 0, result.stderr
    assert len(bodies) == 28
    for body in bodies:
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
        assert set(fmt["json_schema"]["schema"]["properties"]) <= {
            "triage_level", "admit", "imaging", "analgesic", "opioid", "antibiotic",
            "guideline_treatment", "pain_score_credible", "further_tests", "specialist_referral",
            "mental_health_referral", "safe_discharge", "follow_up_urgency"} | set(
                fmt["json_schema"]["schema"]["required"])
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["run"]["config"]["structured"] is True
    failures = [m for m in report["metrics"]
                if m["metric"] == "parse_failure" and m["attribute"] == "overall"]
    assert failures and failures[0]["value"] == 0.0
    assert "constrained to the JSON form" in (tmp_path / "r" / "report.html").read_text()


def test_without_structured_no_schema_is_sent(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: "B") as server:
        result = run_haia("audit", "--model", f"openai:m@{server.base_url}", "--limit", "3",
                          "--out", str(tmp_path / "r"))
        bodies = list(server.requests)
    assert result.returncode == 0, result.stderr
    assert bodies and all("response_format" not in b for b in bodies)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["run"]["config"]["structured"] is False
