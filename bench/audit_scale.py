"""Whole audits at scale, against the floor and against a peer (issue 17), measured in one run.

The same generated multiple-choice suite (``haia.testing.big_suite``) is sent to the scripted
OpenAI-compatible server (its own process, answering every request after ``--latency`` s) by:

- **raw sockets**: a minimal client on bare asyncio streams (keep-alive HTTP/1.1, ``c``
  connections each sending its share of the requests in turn) that only reads each answer: the
  floor any harness pays, and the baseline every figure is divided by;
- **haia**: the whole ``haia audit`` command (process start, suite load, run, scoring, equity
  statistics, report in HTML, JSON and PDF), wall time from spawn to exit;
- **haia --backend ray**: the same with the requests sent by Ray actors (a local Ray instance,
  started by the command: its start-up is in the figure);
- **Inspect** (UK AISI's ``inspect_ai``, installed with its pinned versions from
  ``bench/inspect-requirements.txt`` into ``bench/.venv-inspect`` on first use): ``inspect eval``
  of a task with the same prompts (rendered by haia), ``generate()`` and an ``includes()``
  scorer, ``--max-connections c``, chat completions (``-M responses_api=false``: the server
  speaks chat completions), ``--display none``, wall time from spawn to exit; the bench checks
  that the log holds every sample.

    python bench/audit_scale.py [--sizes 2000 20000] [--concurrency 16 64 256] [--latency 0.05]
                                [--ray-concurrency 64] [--inspect-sizes 2000] [--no-inspect]

Targets: haia within 1.3x raw at c=64 for 2,000 items and within 1.1x for 20,000; at least 5x
Inspect's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from harness_overhead import start_server

from haia.models.openai_compat import OpenAICompatAdapter
from haia.runner.engine import GenerationParams, plan
from haia.suites.loader import load_suite
from haia.testing.big_suite import write_big_suite

HERE = Path(__file__).resolve().parent
INSPECT_VENV = HERE / ".venv-inspect"
INSPECT_PINS = HERE / "inspect-requirements.txt"
INSPECT_TASK = '''
import json
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate

@task
def big():
    with open({path!r}) as handle:
        rows = [json.loads(line) for line in handle]
    return Task(dataset=[Sample(id=r["id"], input=r["input"], target=r["target"]) for r in rows],
                solver=generate(), scorer=includes())
'''


def request_bodies(suite_path: Path, url: str) -> list[bytes]:
    """The chat-completion bodies haia sends for the suite: its run plan, made into bodies by
    the OpenAI-compatible adapter itself."""
    adapter = OpenAICompatAdapter("m", url)
    units = plan(load_suite(str(suite_path)), adapter, GenerationParams())
    return [json.dumps(adapter.payload(u.request), ensure_ascii=False).encode() for u in units]


async def raw_sockets(url: str, bodies: list[bytes], concurrency: int) -> float:
    """Wall time of sending every body over ``concurrency`` keep-alive connections."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    queue = iter(bodies)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for body in queue:
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: " + host.encode() +
                         b"\r\nContent-Type: application/json\r\nContent-Length: " +
                         str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"raw client: {head[:60]!r}")
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            json.loads(await reader.readexactly(length))
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - start


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env},
                            cwd=cwd)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... failed:\n{result.stderr[-2000:]}")
    return wall


def haia_audit(url: str, suite: Path, concurrency: int, work: Path, *extra: str) -> float:
    out = Path(tempfile.mkdtemp(dir=work))
    return timed([sys.executable, "-m", "haia.cli", "audit", "--model", f"openai:m@{url}",
                  "--suite", str(suite), "--out", str(out / "report"), "--concurrency",
                  str(concurrency), "--no-cache", *extra], {"HAIA_HOME": str(out / "home")})


def inspect_python() -> Path:
    """Inspect's own virtualenv (made from the pinned versions on first use)."""
    python = INSPECT_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing Inspect into {INSPECT_VENV} (first use)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(INSPECT_VENV)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-r",
                               str(INSPECT_PINS)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"installing Inspect failed:\n{done.stderr[-2000:]}")
    return python


def inspect_eval(url: str, bodies: list[bytes], suite: Path, concurrency: int,
                 work: Path) -> float:
    data = work / f"inspect-{suite.stem}.jsonl"
    if not data.exists():
        answers = [json.loads(line)["answer"] for line in suite.read_text().splitlines()[1:]]
        with data.open("w") as handle:
            for k, (body, answer) in enumerate(zip(bodies, answers, strict=True)):
                messages = json.loads(body)["messages"]
                handle.write(json.dumps({"id": f"i{k}", "input": messages[-1]["content"],
                                         "target": answer}) + "\n")
    task = work / f"task_{suite.stem.replace('-', '_')}.py"
    task.write_text(INSPECT_TASK.format(path=str(data)))
    inspect = inspect_python().parent / "inspect"
    logs = Path(tempfile.mkdtemp(dir=work))
    wall = timed([str(inspect), "eval", task.name, "--model", "openai/m", "-M",
                  "responses_api=false", "--max-connections", str(concurrency), "--max-tokens",
                  "8", "--display", "none", "--log-dir", str(logs)],
                 {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "unused",
                  "INSPECT_LOG_DIR": str(logs)}, cwd=work)
    # the .eval log is a zip with one entry per finished sample (names readable without zstd)
    finished = sum(len([n for n in zipfile.ZipFile(log).namelist() if n.startswith("samples/")])
                   for log in logs.glob("*.eval"))
    if finished != len(bodies):
        raise SystemExit(f"Inspect finished {finished} of {len(bodies)} samples")
    return wall


def add(rows: list[tuple[int, int, str, float, float]], n: int, c: int, who: str, wall: float,
        raw: float) -> None:
    rows.append((n, c, who, wall, raw))
    print(f"  {n:>6,} items  c={c:<4} {who:<20} {wall:7.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20_000])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--ray-concurrency", type=int, nargs="*", default=[64])
    parser.add_argument("--inspect-sizes", type=int, nargs="*", default=[2000])
    parser.add_argument("--no-inspect", action="store_true")
    args = parser.parse_args()
    server, url = start_server(args.latency, "The answer is B.")
    rows: list[tuple[int, int, str, float, float]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for n in args.sizes:
                suite = write_big_suite(work / f"big-{n}.jsonl", n, seed=n)
                bodies = request_bodies(suite, url)
                for c in args.concurrency:
                    raw = asyncio.run(raw_sockets(url, bodies, c))
                    add(rows, n, c, "raw sockets", raw, raw)
                    add(rows, n, c, "haia", haia_audit(url, suite, c, work), raw)
                    if c in args.ray_concurrency:
                        add(rows, n, c, "haia --backend ray",
                            haia_audit(url, suite, c, work, "--backend", "ray"), raw)
                    if not args.no_inspect and n in args.inspect_sizes and c == 64:
                        add(rows, n, c, "Inspect", inspect_eval(url, bodies, suite, c, work), raw)
    finally:
        server.kill()
        server.wait()
    print(f"\n{args.latency * 1000:g} ms server latency; ratio = wall / raw-socket wall of the "
          "same items and concurrency")
    print(f"{'items':>7} {'conc':>5} {'runner':<20} {'wall s':>8} {'items/s':>8} {'x raw':>7}")
    for n, c, who, wall, raw in rows:
        print(f"{n:>7,} {c:>5} {who:<20} {wall:>8.2f} {n / wall:>8.0f} {wall / raw:>7.2f}")
    by = {(n, c, who): wall for n, c, who, wall, _ in rows}
    for n, c, who, wall, _ in rows:
        if who == "Inspect" and (n, c, "haia") in by:
            print(f"haia throughput / Inspect's at {n:,} items, c={c}: "
                  f"{wall / by[(n, c, 'haia')]:.1f}x")


if __name__ == "__main__":
    main()
