"""The embedded default model end to end: a real model, offline, through the whole audit path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_haia

from haia.suites.loader import bundled_names

pytestmark = pytest.mark.slow


def test_default_audit_on_embedded_model_writes_report(tmp_path: Path, haia_home: Path) -> None:
    suite = tmp_path / "tiny.yaml"
    suite.write_text(
        'name: tiny\nversion: "1"\ndescription: d\nprovenance: test\nlicence: CC0-1.0\n'
        "scorers: [choice, refusal]\nmax_tokens: 8\nitems:\n"
        '  - {id: t1, prompt: "Which organ pumps blood?", choices: {A: Heart, B: Liver}, '
        "answer: A, attributes: {kind: anatomy}}\n"
        '  - {id: t2, prompt: "Which vitamin is made in sunlit skin?", choices: {A: C, B: D}, '
        "answer: B, attributes: {kind: nutrition}}\n")
    first = run_haia("audit", "--suite", str(suite), "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("haia: run id ")
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["run"]["model"] == "builtin:smollm2"
    assert report["run"]["counts"]["ok"] == 2
    assert report["run"]["usage"]["completion_tokens"] > 0
    assert "codecarbon" in report["sustainability"]["energy_method"].lower()
    assert report["sustainability"]["energy_wh_per_1k"] > 0
    # Temperature 0 is deterministic, and the second run is served from the response cache.
    second = run_haia("audit", "--suite", str(suite), "--out", str(tmp_path / "b"),
                      "--include-responses")
    again = json.loads((tmp_path / "b" / "report.json").read_text())
    assert second.returncode == 0 and again["run"]["counts"]["cached"] == 2
    fresh = run_haia("audit", "--suite", str(suite), "--out", str(tmp_path / "c"),
                     "--include-responses", "--no-cache")
    third = json.loads((tmp_path / "c" / "report.json").read_text())
    assert fresh.returncode == 0 and third["run"]["counts"]["cached"] == 0
    assert [i["response"] for i in third["items"]] == [i["response"] for i in again["items"]]


@pytest.mark.parametrize("suite", bundled_names())
def test_every_bundled_suite_runs_on_the_embedded_model(suite: str, tmp_path: Path,
                                                        haia_home: Path) -> None:
    """Each bundled suite, end to end on the real embedded model (its first items)."""
    result = run_haia("audit", "--suite", suite, "--limit", "4", "--samples", "1",
                      "--out", str(tmp_path / suite))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / suite / "report.json").read_text())
    counts = report["run"]["counts"]
    assert counts["items"] == 4 and counts["errors"] == 0
    assert counts["ok"] + counts["skipped"] == 4
    scored = {m["metric"] for m in report["metrics"] if m["n"] > 0}
    assert scored - {"tokens_per_query", "latency_p95_s", "cost_usd_per_1k", "energy_wh_per_1k",
                     "emissions_g_per_1k"}, "the suite's own scorers produced metrics"
    assert any(row["assessed"] for row in report["scorecard"])
