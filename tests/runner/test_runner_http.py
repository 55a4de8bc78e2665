"""The runner and the CLI over real HTTP, against the scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import run_haia

from haia.testing.openai_server import Reply, ScriptedServer

ITEM_RE = re.compile(r"Item (i\d+):")


def write_suite(path: Path, n: int) -> Path:
    """A multiple-choice suite whose prompts name their item, answer always B."""
    lines = ['name: http', 'version: "1"', "description: d", "provenance: test",
             "licence: CC0-1.0", "scorers: [choice, refusal]", "items:"]
    for k in range(n):
        group = "north" if k % 2 else "south"
        lines += [f"  - id: i{k}", f'    prompt: "Item i{k}: pick B"',
                  "    choices: {A: wrong, B: right}", "    answer: B",
                  f"    attributes: {{region: {group}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def item_of(request: dict) -> str:
    match = ITEM_RE.search(json.dumps(request["messages"]))
    assert match, request
    return match.group(1)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(lambda body: "B") as srv:
        yield srv


def store_rows(home: Path, run_id: str) -> list[tuple[str, int, str]]:
    with sqlite3.connect(home / "runs.sqlite") as conn:
        return conn.execute("SELECT item_id, sample, status FROM responses WHERE run_id=?",
                            (run_id,)).fetchall()


def _interactive() -> None:
    """A shell starts background jobs with SIGINT ignored, and children inherit that: give the
    audit the default handling a user's terminal gives it, whatever ran the tests."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_audit(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "haia.cli", "audit", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env}, preexec_fn=_interactive)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.match(r"haia: run id (\S+)", first)
    assert match, first + (proc.stderr.read() if proc.stderr else "")
    return proc, match.group(1)


def wait_for_rows(home: Path, run_id: str, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (home / "runs.sqlite").exists() and len(store_rows(home, run_id)) >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError(f"fewer than {at_least} responses after {timeout} s")


def test_sigkill_then_resume_sends_no_completed_item_again(
        tmp_path: Path, server: ScriptedServer, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 80)
    server.latency = 0.05
    env = {"HAIA_HOME": str(haia_home)}
    proc, run_id = start_audit(["--model", f"openai:m@{server.base_url}", "--suite", str(suite),
                                "--concurrency", "4", "--out", str(tmp_path / "out")], env)
    wait_for_rows(haia_home, run_id, 20)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    completed = {item for item, _, status in store_rows(haia_home, run_id) if status == "ok"}
    assert 20 <= len(completed) < 80
    seen_before = len(server.requests)

    result = run_haia("audit", "--resume", run_id, env=env)
    assert result.returncode == 0, result.stderr
    resent = [item_of(r) for r in server.requests[seen_before:]]
    assert not completed & set(resent), "a completed item was sent again"
    rows = store_rows(haia_home, run_id)
    assert sorted(item for item, _, _ in rows) == sorted(f"i{k}" for k in range(80))
    assert {status for _, _, status in rows} == {"ok"}
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    overall = {m["metric"]: m for m in report["metrics"] if m["attribute"] == "overall"}
    assert overall["accuracy"]["value"] == 1.0 and overall["accuracy"]["n"] == 80


def test_ctrl_c_stops_cleanly_and_prints_resume(tmp_path: Path, server: ScriptedServer,
                                                haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 60)
    server.latency = 0.5  # 15 s of work: the interrupt (after 4 answers) lands mid-run even on
    env = {"HAIA_HOME": str(haia_home)}  # a loaded machine
    proc, run_id = start_audit(["--model", f"openai:m@{server.base_url}", "--suite", str(suite),
                                "--concurrency", "2"], env)
    wait_for_rows(haia_home, run_id, 4)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert f"haia audit --resume {run_id}" in stderr
    assert "Traceback" not in stderr
    with sqlite3.connect(haia_home / "runs.sqlite") as conn:
        (status,) = conn.execute("SELECT status FROM runs WHERE run_id=?", (run_id,)).fetchone()
    assert status == "interrupted"
    result = run_haia("audit", "--resume", run_id, env=env)
    assert result.returncode == 0, result.stderr
    assert len(store_rows(haia_home, run_id)) == 60


def test_bursts_of_429_500_and_drops_are_survived(tmp_path: Path, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 30)
    with ScriptedServer(lambda body: "B") as srv:
        srv.fail_next(6, status=429, retry_after=0.05)
        result_429 = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite",
                              str(suite), "--out", str(tmp_path / "a"), "--no-cache",
                              "--concurrency", "8")
        assert result_429.returncode == 0, result_429.stderr
        assert len(srv.requests) >= 36
        srv.fail_next(5, status=500)
        srv.drop_next(5)
        result = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite",
                          str(suite), "--out", str(tmp_path / "b"), "--no-cache",
                          "--concurrency", "8")
        assert result.returncode == 0, result.stderr
    for folder in ("a", "b"):
        report = json.loads((tmp_path / folder / "report.json").read_text())
        assert report["run"]["counts"]["ok"] == 30
        assert report["run"]["counts"]["errors"] == 0


def test_persistent_failure_is_reported_not_hidden(tmp_path: Path, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 4)

    def responder(body: dict) -> str | Reply:
        return Reply(status=503) if "Item i2:" in json.dumps(body) else "B"

    with ScriptedServer(responder) as srv:
        result = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                          "--out", str(tmp_path / "o"), "--retries", "2")
    assert result.returncode == 3, result.stderr  # an item that got no answer fails the audit
    assert "1 of 4 requests failed" in result.stderr and "HTTP 5xx" in result.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["run"]["counts"]["errors"] == 1
    assert report["run"]["failures"]["by_kind"]["server_error"]["items"] == ["i2"]
    assert any(f["metric"] == "failed_requests" for f in report["findings"])
    failed = [i for i in report["items"] if i["status"] == "error"]
    assert [i["item_id"] for i in failed] == ["i2"]


def test_report_contract_and_fail_on(tmp_path: Path, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 20)

    def responder(body: dict) -> str:  # right for the south region, wrong for the north
        number = int(ITEM_RE.search(json.dumps(body)).group(1)[1:])  # type: ignore[union-attr]
        return "A" if number % 2 else "B"

    with ScriptedServer(responder) as srv:
        spec = f"openai:m@{srv.base_url}"
        passing = run_haia("audit", "--model", spec, "--suite", str(suite), "--out",
                           str(tmp_path / "o"), "--seed", "3")
        failing = run_haia("audit", "--model", spec, "--suite", str(suite), "--out",
                           str(tmp_path / "o2"), "--fail-on", "high")
    assert passing.returncode == 0, passing.stderr
    assert failing.returncode == 1
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert set(report) >= {"run", "metrics", "findings"}
    for row in report["metrics"]:
        assert set(row) >= {"suite", "metric", "attribute", "group", "value", "ci_low", "ci_high",
                            "n"}
    by = {(m["metric"], m["attribute"], m["group"]): m for m in report["metrics"]}
    assert by[("accuracy", "region", "south")]["value"] == 1.0
    assert by[("accuracy", "region", "north")]["value"] == 0.0
    assert by[("accuracy", "overall", "all")]["value"] == 0.5
    low, high = by[("accuracy", "overall", "all")]["ci_low"], by[
        ("accuracy", "overall", "all")]["ci_high"]
    assert 0.2 < low < 0.5 < high < 0.8
    north = [f for f in report["findings"] if f["group"] == "north"]
    assert north and north[0]["severity"] == "critical"
    assert north[0]["principles"] == ["wellbeing_safety"]
    assert set(north[0]["evidence"]) == {f"i{k}" for k in range(1, 20, 2)}
    assert not [f for f in report["findings"] if f["group"] == "south"]
    html = (tmp_path / "o" / "report.html").read_text()
    assert "<svg" in html and "north" in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # self-contained
    assert "response" not in json.dumps(report["items"])  # answers only with --include-responses


def test_secret_headers_never_reach_store_or_report(tmp_path: Path, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 6)
    secret = "sk-test-very-secret-value"
    auth = f"Authorization: Bearer {secret}"
    with ScriptedServer(lambda body: "B") as srv:
        result = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                          "--out", str(tmp_path / "o"), "--header", auth, "--header",
                          "X-Team: cardiology")
        assert result.returncode == 0, result.stderr
        assert srv.headers_seen[-1]["authorization"] == f"Bearer {secret}"
        run_id = re.search(r"run id (\S+)", result.stdout).group(1)  # type: ignore[union-attr]
        assert secret.encode() not in (haia_home / "runs.sqlite").read_bytes()
        assert secret not in (tmp_path / "o" / "report.json").read_text()
        with sqlite3.connect(haia_home / "runs.sqlite") as conn:
            conn.execute("UPDATE runs SET status='interrupted' WHERE run_id=?", (run_id,))
        refused = run_haia("audit", "--resume", run_id)
        assert refused.returncode == 2 and "Authorization" in refused.stderr
        resumed = run_haia("audit", "--resume", run_id, "--header", auth)
        assert resumed.returncode == 0, resumed.stderr
