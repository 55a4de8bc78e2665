"""SIGKILL at random points of an audit and of a report write: nothing answered is lost or sent
again, a resume completes the run, and every report file on disk is whole."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from tests.conftest import run_haia
from tests.faults.conftest import write_suite

from haia.testing.openai_server import ScriptedServer


def _rows(home: Path, run_id: str) -> list[tuple[str, str]]:
    if not (home / "runs.sqlite").exists():
        return []
    with sqlite3.connect(home / "runs.sqlite") as conn:
        return conn.execute("SELECT item_id, status FROM responses WHERE run_id=?",
                            (run_id,)).fetchall()


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "haia.cli", "audit", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("haia: run id "), first + (proc.stderr.read() if proc.stderr else "")
    return proc, first.split()[-1]


def test_sigkill_at_random_points_then_resume(tmp_path: Path, haia_home: Path) -> None:
    rng = random.Random(15)
    n = 60
    suite = write_suite(tmp_path / "suite.yaml", n)
    env = {"HAIA_HOME": str(haia_home)}
    with ScriptedServer(lambda body: "B", latency=0.03) as srv:
        proc, run_id = _start(["--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                               "--concurrency", "3", "--out", str(tmp_path / "out")], env)
        kills = 0
        for target in sorted(rng.sample(range(1, n - 10), 3)):
            deadline = time.monotonic() + 60
            while len(_rows(haia_home, run_id)) < target and time.monotonic() < deadline:
                time.sleep(rng.uniform(0.001, 0.02))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
            answered = {item for item, status in _rows(haia_home, run_id) if status == "ok"}
            sent_before = len(srv.requests)
            proc = subprocess.Popen([sys.executable, "-m", "haia.cli", "audit", "--resume",
                                     run_id], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, env={**os.environ, **env})
            time.sleep(rng.uniform(0.3, 1.0))
            resent = {json.dumps(r["messages"]) for r in srv.requests[sent_before:]}
            assert not any(f"Item {item}:" in m for item in answered for m in resent)
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert kills == 3
    rows = _rows(haia_home, run_id)
    assert Counter(item for item, _ in rows) == Counter(f"i{k}" for k in range(n))  # once each
    assert {status for _, status in rows} == {"ok"}
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["run"]["counts"]["ok"] == n and report["run"]["failures"]["failed"] == 0
    asked = Counter(m for r in srv.requests for m in [json.dumps(r["messages"])])
    assert len(asked) == n and max(asked.values()) <= 1 + kills  # re-sent only if in flight


WRITER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from haia.report.write import write_report
    report = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    k = 0
    while True:
        k += 1
        report["run"]["run_id"] = f"r-{k}"
        write_report(report, out)
        print(k, flush=True)
""")


def _whole(folder: Path) -> str:
    """The run id of the report on disk, after checking that each file is complete."""
    data = json.loads((folder / "report.json").read_text())
    assert (folder / "report.html").read_text().rstrip().endswith("</html>")
    assert (folder / "report.pdf").read_bytes().rstrip().endswith(b"%%EOF")
    return str(data["run"]["run_id"])


def test_sigkill_during_report_writes_leaves_whole_files(tmp_path: Path,
                                                         haia_home: Path) -> None:
    suite = write_suite(tmp_path / "suite.yaml", 6)
    with ScriptedServer(lambda body: "B") as srv:
        result = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", str(suite),
                          "--out", str(tmp_path / "first"), env={"HAIA_HOME": str(haia_home)})
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    rng = random.Random(7)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    seen: set[str] = set()
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, str(script),
                                 str(tmp_path / "first" / "report.json"), str(out)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        proc.stdout.readline()  # one whole report written: kill at a random point after it
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        seen.add(_whole(out))
    assert seen  # every kill left a complete report.json, report.html and report.pdf
    from haia.report.write import write_report

    write_report(json.loads((out / "report.json").read_text()), out)  # the next write tidies
    names = sorted(p.name for p in out.iterdir())
    assert {"report.html", "report.json", "report.pdf"} <= set(names)
    assert not [n for n in names if n.startswith(".") or n.endswith(".tmp")], names
