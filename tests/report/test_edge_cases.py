"""Reports of runs that found little: every request failed, or a suite without groups."""

from __future__ import annotations

import json
from pathlib import Path

from haia.audit import AuditConfig, run_audit
from haia.report.schema import validate
from haia.runner.store import RunStore
from haia.testing.openai_server import Reply, ScriptedServer


def audit(tmp_path: Path, responder, **config) -> dict:
    with ScriptedServer(responder) as srv, RunStore() as store:
        result = run_audit(AuditConfig(model=f"openai:m@{srv.base_url}", out=str(tmp_path),
                                       retries=0, **config), store=store)
    return json.loads((result.out_dir / "report.json").read_text(encoding="utf-8"))


def test_every_request_failed(tmp_path: Path) -> None:
    report = audit(tmp_path, lambda body: Reply(status=400, text="bad request"), limit=6)
    assert validate(report) == []
    assert report["run"]["counts"]["errors"] == 6 and report["findings"] == []
    assert all(row["verdict"] == "not_assessed" for row in report["scorecard"])
    assert any("failed and were not scored" in x for x in report["limits"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No metric crossed a threshold" in html and "has not passed" in html
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_perfect_model_meets_only_what_was_assessed(tmp_path: Path) -> None:
    from tests.findings.test_suites_http import right, scripted

    report = audit(tmp_path, scripted("starter", right))
    assert validate(report) == []
    verdicts = {row["principle"]: row["verdict"] for row in report["scorecard"]}
    assert verdicts["wellbeing_safety"] == "meets"
    assert verdicts["equity"] == "not_assessed"  # refusals measured, no groups compared
    assert verdicts["sustainability"] == "not_assessed"
    assert report["actions"][-1].startswith("No threshold was crossed")
    assert any("run the equity, race-medicine suite(s)" in a for a in report["actions"])
