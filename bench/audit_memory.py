"""Peak memory of a whole ``haia audit`` as the suite grows (issue 17): 1,000 items (the
baseline, measured in the same run), 10,000 and 100,000 generated items (haia.testing.big_suite,
8 specialties x 2 sexes x 4 age groups) against a zero-latency scripted server in its own
process. Peak RSS of the audit process (os.wait4), and its ratio to the baseline.

    python bench/audit_memory.py [--sizes 1000 10000 100000] [--concurrency 64]

Target: under 1 GiB at 100,000 items.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from haia.testing.big_suite import write_big_suite


def audit_peak(url: str, suite: Path, out: Path, concurrency: int, home: Path
               ) -> tuple[float, float]:
    """Peak RSS (MiB) and wall time (s) of one audit."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "haia.cli", "audit", "--model", f"openai:m@{url}", "--suite",
         str(suite), "--out", str(out), "--concurrency", str(concurrency), "--no-cache"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HAIA_HOME": str(home)})
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"audit failed: {stderr[-1000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "haia.testing.openai_server", "--port",
                               "0", "--latency", "0", "--answer", "The answer is B."],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            rows = []
            for n in args.sizes:
                suite = write_big_suite(base / f"s{n}.jsonl", n, seed=n)
                peak, wall = audit_peak(url, suite, base / f"out{n}", args.concurrency,
                                        base / f"home{n}")
                rows.append((n, peak, wall))
    finally:
        server.kill()
        server.wait()
    baseline = rows[0][1]
    print(f"{'items':>8} {'peak RSS MiB':>13} {'x baseline':>11} {'wall s':>8}")
    for n, peak, wall in rows:
        print(f"{n:>8,} {peak:>13.0f} {peak / baseline:>11.2f} {wall:>8.1f}")


if __name__ == "__main__":
    main()
