"""Harness overhead: wall time of a run against a server of fixed latency, versus the ideal.

The scripted OpenAI-compatible server runs in its own process and answers every request after
``--latency`` seconds. The full runner path is measured (suite items → OpenAI-compatible adapter →
HTTP → run store writes), with the response cache off. Ideal = N × latency / concurrency.

    python bench/harness_overhead.py [--items 2000] [--latency 0.05] [--concurrency 16 64 256]

Target (issue 2): ratio ≤ 1.10 at concurrency 64 for 2,000 items at 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from haia.models.openai_compat import OpenAICompatAdapter
from haia.runner.engine import GenerationParams, Runner, plan
from haia.runner.store import RunRecord, RunStore, now_iso
from haia.suites.model import Item, Suite, SuiteMeta


def start_server(latency: float, answer: str | None = None) -> tuple[subprocess.Popen[str], str]:
    """The scripted server in a separate process; returns it and its base URL."""
    extra = ["--answer", answer] if answer is not None else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "haia.testing.openai_server", "--port", "0",
         "--latency", str(latency), *extra], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server did not start: {url!r}")
    return proc, url


def make_suite(n: int) -> Suite:
    meta = SuiteMeta(name="bench", version="1", description="harness bench", provenance="bench",
                     licence="CC0-1.0", scorers=["refusal"])
    items = [Item(id=f"b{k:05d}", prompt=f"Bench question number {k}: what is {k} + {k}?")
             for k in range(n)]
    return Suite(meta=meta, items=items)


async def measure(url: str, suite: Suite, concurrency: int, store: RunStore) -> float:
    adapter = OpenAICompatAdapter("bench-model", url, max_connections=concurrency)
    run_id = f"bench-{concurrency}-{time.time_ns()}"
    store.create_run(RunRecord(run_id, now_iso(), "running", adapter.spec, suite.name,
                               suite.version, suite.content_hash(), {}, None))
    runner = Runner(adapter, store, run_id, concurrency=concurrency, use_cache=False)
    units = plan(suite, adapter, GenerationParams(max_tokens=16))
    start = time.perf_counter()
    progress = await runner.run(units)
    wall = time.perf_counter() - start
    await adapter.aclose()
    if progress.errors:
        raise SystemExit(f"{progress.errors} requests failed at concurrency {concurrency}")
    ok = len(store.done_keys(run_id))
    if ok != len(units):
        raise SystemExit(f"only {ok} of {len(units)} responses stored")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--repeats", type=int, default=3, help="best of R runs per setting")
    args = parser.parse_args()
    proc, url = start_server(args.latency)
    suite = make_suite(args.items)
    print(f"{args.items} items, server latency {args.latency * 1000:.0f} ms, best of "
          f"{args.repeats}; ratio = wall / ideal (ideal = N x latency / concurrency)")
    print(f"{'concurrency':>11} {'ideal s':>8} {'wall s':>8} {'ratio':>6} {'req/s':>8}")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = RunStore(Path(tmp) / "bench.sqlite")
            for concurrency in args.concurrency:
                ideal = args.items * args.latency / concurrency
                wall = min(asyncio.run(measure(url, suite, concurrency, store))
                           for _ in range(args.repeats))
                print(f"{concurrency:>11} {ideal:>8.3f} {wall:>8.3f} {wall / ideal:>6.2f} "
                      f"{args.items / wall:>8.0f}", flush=True)
            store.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
