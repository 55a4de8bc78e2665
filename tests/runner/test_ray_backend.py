"""The Ray backend against the local one, on a local Ray instance the tests start."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_haia
from tests.runner.test_runner_http import (
    item_of,
    start_audit,
    store_rows,
    wait_for_rows,
    write_suite,
)

from haia.audit import AuditConfig, run_audit
from haia.testing.equity_model import EquityModel, Gap
from haia.testing.openai_server import ScriptedServer

ray = pytest.importorskip("ray")

# Answers that vary by item, sample and seed, as a real model's do, with a planted gap.
GAP = Gap("race_ethnicity", "black", "analgesic", -1, fraction=0.5)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    from haia.runner.ray_backend import connect

    connect(None, num_cpus=2)
    yield
    ray.shutdown()


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """What the two backends must agree on: every metric but wall-clock ones, the findings and
    the equity comparisons."""
    metrics = sorted(
        (m["suite"], m["metric"], m["attribute"], str(m["group"]), m["value"], m.get("ci_low"),
         m.get("ci_high"), m["n"])
        for m in report["metrics"] if not m["metric"].startswith("latency"))
    findings = sorted((f["id"], f["severity"], f.get("value")) for f in report["findings"]
                      if not f["id"].startswith("latency"))
    return {"metrics": metrics, "findings": findings,
            "comparisons": json.dumps(report.get("comparisons"), sort_keys=True),
            "counts": report["run"]["counts"]}


def _records(home: Path, run_id: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "runs.sqlite") as conn:
        return conn.execute("SELECT item_id, sample, request_hash, status, completion_tokens "
                            "FROM responses WHERE run_id=? ORDER BY item_id, sample",
                            (run_id,)).fetchall()


def test_ray_results_equal_local_results(local_ray: None, tmp_path: Path,
                                         haia_home: Path) -> None:
    model = EquityModel.for_suite("equity", noise=0.15, seed=4, gaps=[GAP])
    runs = {}
    with ScriptedServer(model.responder, latency=0.002) as server:
        for backend in ("local", "ray"):
            config = AuditConfig(model=f"openai:m@{server.base_url}", suite="equity",
                                 out=str(tmp_path / backend), concurrency=24, seed=7, samples=2,
                                 use_cache=False, backend=backend,
                                 ray_actors=3 if backend == "ray" else None)
            runs[backend] = run_audit(config)
    local, distributed = runs["local"], runs["ray"]
    assert local.progress.done == distributed.progress.done > 100
    assert _records(haia_home, local.run_id) == _records(haia_home, distributed.run_id)
    assert _comparable(local.report) == _comparable(distributed.report)
    assert any(f["kind"] == "gap" for f in distributed.report["findings"]), \
        "the planted gap is found through the Ray backend too"


def test_ray_backend_survives_transient_failures(local_ray: None, tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 40)
    with ScriptedServer(lambda body: "B") as server:
        server.fail_next(5, status=503)
        server.drop_next(3)
        result = run_audit(AuditConfig(model=f"openai:m@{server.base_url}", suite=str(suite),
                                       out=str(tmp_path / "out"), concurrency=8,
                                       use_cache=False, backend="ray", ray_actors=2))
    assert result.progress.done == 40 and result.progress.errors == 0
    assert result.progress.retries >= 8
    overall = {m["metric"]: m for m in result.report["metrics"] if m["attribute"] == "overall"}
    assert overall["accuracy"]["value"] == 1.0


def _orphaned_ray_processes() -> set[int]:
    """Ray's node agents left behind (re-parented to init) by a driver killed with SIGKILL."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if "ray::" in name and rest.split()[1] == "1":
            pids.add(int(stat.parent.name))
    return pids


@pytest.fixture
def reap_orphans() -> Iterator[None]:
    before = _orphaned_ray_processes()
    yield
    for pid in _orphaned_ray_processes() - before:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_killed_ray_run_resumes_resending_at_most_the_in_flight_items(
        tmp_path: Path, haia_home: Path, reap_orphans: None) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 120)
    concurrency = 6
    env = {"HAIA_HOME": str(haia_home)}
    with ScriptedServer(lambda body: "B", latency=0.05) as server:
        proc, run_id = start_audit(
            ["--model", f"openai:m@{server.base_url}", "--suite", str(suite), "--concurrency",
             str(concurrency), "--out", str(tmp_path / "out"), "--backend", "ray",
             "--ray-actors", "2"], env)
        try:
            wait_for_rows(haia_home, run_id, 30, timeout=60)
            sent_before = {item_of(r) for r in server.requests}
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
        completed = {item for item, _, status in store_rows(haia_home, run_id) if status == "ok"}
        assert 30 <= len(completed) < 120
        in_flight = sent_before - completed
        seen = len(server.requests)

        result = run_haia("audit", "--resume", run_id, "--backend", "ray", env=env)
        assert result.returncode == 0, result.stderr
        resent = [item_of(r) for r in server.requests[seen:]]
    assert not completed & set(resent), "a completed item was sent again"
    # only what was in flight (sent, not yet stored) when the driver died is sent again: at most
    # the concurrency bound, plus records the writer had not yet committed
    assert len(set(resent) & sent_before) <= len(in_flight) <= 2 * concurrency
    assert sorted(item for item, _, _ in store_rows(haia_home, run_id)) == \
        sorted(f"i{k}" for k in range(120))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    overall = {m["metric"]: m for m in report["metrics"] if m["attribute"] == "overall"}
    assert overall["accuracy"]["value"] == 1.0 and overall["accuracy"]["n"] == 120


def test_backend_options_are_checked() -> None:
    result = run_haia("audit", "--backend", "spark")
    assert result.returncode == 2 and "--backend must be one of local, ray" in result.stderr
    result = run_haia("audit", "--ray-actors", "2")
    assert result.returncode == 2 and "need --backend ray" in result.stderr
    assert "Traceback" not in result.stderr
