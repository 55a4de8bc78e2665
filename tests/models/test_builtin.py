"""The embedded default model end to end: a real model, offline, through the whole audit path."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
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
    # Temperature 0 is deterministic, and the second run is served from the response cache...
    second = run_haia("audit", "--suite", str(suite), "--out", str(tmp_path / "b"),
                      "--include-responses")
    again = json.loads((tmp_path / "b" / "report.json").read_text())
    assert second.returncode == 0 and again["run"]["counts"]["cached"] == 2
    # ... and at another concurrency (one answer at a time instead of parallel slots).
    fresh = run_haia("audit", "--suite", str(suite), "--out", str(tmp_path / "c"),
                     "--include-responses", "--no-cache", "--concurrency", "1")
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
    # Four items rarely cross a threshold; the metrics must still speak to a principle.
    assert any(row["measured"] for row in report["scorecard"])


def _worker_of(parent: int) -> int | None:
    """The pid of the embedded runtime's worker process started by ``parent``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"haia.models.embedded_worker" in cmdline:
            return int(entry.name)
    return None


def _answered(home: Path) -> int:
    db = home / "runs.sqlite"
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as con:
        try:
            return con.execute("select count(*) from responses where status='ok'").fetchone()[0]
        except sqlite3.Error:
            return 0


def test_runtime_crash_is_one_line_and_the_run_resumes(tmp_path: Path, haia_home: Path) -> None:
    """SIGSEGV in the native runtime ends the audit with one line; --resume completes it."""
    suite = tmp_path / "crash.yaml"
    items = "".join(
        f'  - {{id: c{i}, prompt: "Name one cause of chest pain, case {i}.", answer: heart, '
        f"attributes: {{kind: k{i % 2}}}}}\n" for i in range(24))
    suite.write_text('name: crash\nversion: "1"\ndescription: d\nprovenance: test\n'
                     f"licence: CC0-1.0\nscorers: [short_answer]\nmax_tokens: 48\nitems:\n{items}")
    env = {**os.environ, "HAIA_HOME": str(haia_home)}
    proc = subprocess.Popen([sys.executable, "-m", "haia.cli", "audit", "--suite", str(suite),
                             "--concurrency", "2", "--out", str(tmp_path / "r")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 240
    worker = None
    while time.monotonic() < deadline and proc.poll() is None:
        worker = worker or _worker_of(proc.pid)
        if worker and _answered(haia_home) >= 1:
            os.kill(worker, signal.SIGSEGV)
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=120)
    assert worker is not None, "the worker process was never seen"
    assert proc.returncode == 3, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("haia:")]
    assert lines == [lines[-1]] and "crashed (killed by SIGSEGV)" in lines[-1], stderr
    run_id = stdout.split()[3]
    assert f"haia audit --resume {run_id}" in lines[-1]
    assert "Traceback" not in stderr
    resumed = run_haia("audit", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    counts = report["run"]["counts"]
    assert counts["items"] == 24 and counts["ok"] == 24 and counts["errors"] == 0


def test_structured_equity_answers_parse_on_the_embedded_model(tmp_path: Path,
                                                               haia_home: Path) -> None:
    """With --structured the 135M model's equity answers parse (about 90% failed without)."""
    result = run_haia("audit", "--suite", "equity", "--limit", "56", "--structured",
                      "--concurrency", "8", "--out", str(tmp_path / "eq"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "eq" / "report.json").read_text())
    overall = next(m for m in report["metrics"]
                   if m["metric"] == "parse_failure" and m["attribute"] == "overall")
    assert overall["n"] >= 56 and overall["value"] < 0.05
