"""SIGKILL of an audit on a local Ray instance: the Ray processes it started do not outlive it
(haia.runner.ray_reaper stops them)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest
from tests.faults.conftest import write_suite
from tests.faults.test_kill import _rows, _start

from haia.testing.openai_server import ScriptedServer

pytest.importorskip("ray")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc)
        except psutil.NoSuchProcess:
            pass
    return out


def test_a_killed_ray_audit_leaves_no_ray_process(tmp_path: Path, haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 400)
    with ScriptedServer(lambda body: "B", latency=0.05) as srv:
        proc, run_id = _start(["--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                               "--backend", "ray", "--concurrency", "4",
                               "--out", str(tmp_path / "out")], {"HAIA_HOME": str(haia_home)})
        deadline = time.monotonic() + 120
        while len(_rows(haia_home, run_id)) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _rows(haia_home, run_id), "the Ray run never answered"
        started = psutil.Process(proc.pid).children(recursive=True)
        ray_procs = [p for p in started if "ray" in " ".join(p.cmdline()).lower()]
        assert ray_procs, [p.cmdline()[:3] for p in started]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _alive(ray_procs) and time.monotonic() < deadline:
            time.sleep(0.25)
        left = [" ".join(p.cmdline()[:2]) for p in _alive(ray_procs)]
        assert not left, f"Ray processes outlived the killed audit: {left}"
