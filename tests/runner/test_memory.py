"""A 100,000-item audit against a zero-latency scripted model stays under 1 GiB of peak memory
(issue 17): the plan is made lazily, the queue is bounded and responses go to the run store as
they arrive. Measured as the peak RSS of the ``haia audit`` process (os.wait4)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from haia.testing.big_suite import write_big_suite

ITEMS = 100_000
BOUND_MIB = 1024


@pytest.mark.slow
@pytest.mark.isolated
@pytest.mark.timeout(900)
def test_100k_items_under_1_gib(tmp_path: Path) -> None:
    suite = write_big_suite(tmp_path / "big.jsonl", ITEMS, seed=17)
    server = subprocess.Popen([sys.executable, "-m", "haia.testing.openai_server", "--port", "0",
                               "--latency", "0", "--answer", "The answer is B."],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        out = tmp_path / "report"
        audit = subprocess.Popen(
            [sys.executable, "-m", "haia.cli", "audit", "--model", f"openai:m@{url}",
             "--suite", str(suite), "--out", str(out), "--concurrency", "64", "--no-cache"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert audit.stderr is not None
        stderr = audit.stderr.read()
        _, status, usage = os.wait4(audit.pid, 0)
        audit.returncode = os.waitstatus_to_exitcode(status)
    finally:
        server.kill()
        server.wait()
    assert audit.returncode == 0, stderr[-2000:]
    peak_mib = usage.ru_maxrss / 1024
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["counts"]["items"] == ITEMS
    assert report["run"]["counts"]["ok"] == ITEMS
    accuracy = next(m for m in report["metrics"]
                    if m["metric"] == "accuracy" and m["attribute"] == "overall")
    assert 0.2 < accuracy["value"] < 0.3  # every answer is B; a quarter of the keys are B
    print(f"peak RSS of a {ITEMS:,}-item audit: {peak_mib:.0f} MiB")
    assert peak_mib < BOUND_MIB, f"peak RSS {peak_mib:.0f} MiB >= {BOUND_MIB} MiB"
