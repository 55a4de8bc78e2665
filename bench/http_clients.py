"""Which HTTP client for the OpenAI-compatible adapter? Measured, in one run.

N chat-completion POSTs at a fixed concurrency against the scripted server (its own process,
answering after ``--latency`` s), with: haia's raw-asyncio keep-alive pool (the adapter's client),
aiohttp and httpx (each if installed). Prints wall time / ideal (ideal = N x latency / concurrency).

    python bench/http_clients.py [--items 2000] [--latency 0.05] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from harness_overhead import start_server

from haia.models.http import ConnectionPool

BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "What is 2 + 2?"}],
                   "max_tokens": 4}).encode()
HEADERS = {"Content-Type": "application/json"}


async def run_haia(url: str, n: int, concurrency: int) -> None:
    pool = ConnectionPool(url, max_connections=concurrency)
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            response = await pool.request("POST", "/chat/completions", BODY, HEADERS)
            assert response.status == 200
            json.loads(response.body)

    await asyncio.gather(*(one() for _ in range(n)))
    await pool.aclose()


async def run_aiohttp(url: str, n: int, concurrency: int) -> None:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            async with sem, session.post(f"{url}/chat/completions", data=BODY,
                                         headers=HEADERS) as response:
                assert response.status == 200
                json.loads(await response.read())

        await asyncio.gather(*(one() for _ in range(n)))


async def run_httpx(url: str, n: int, concurrency: int) -> None:
    import httpx

    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def one() -> None:
            async with sem:
                response = await client.post(f"{url}/chat/completions", content=BODY,
                                             headers=HEADERS)
                assert response.status_code == 200
                response.json()

        await asyncio.gather(*(one() for _ in range(n)))


CLIENTS: dict[str, Callable[[str, int, int], Awaitable[None]]] = {
    "haia pool (raw asyncio)": run_haia, "aiohttp": run_aiohttp, "httpx": run_httpx}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3, help="best of R runs per client")
    args = parser.parse_args()
    proc, url = start_server(args.latency)
    ideal = args.items * args.latency / args.concurrency
    print(f"{args.items} POSTs at concurrency {args.concurrency}, server latency "
          f"{args.latency * 1000:.0f} ms, ideal {ideal:.3f} s, best of {args.repeats}")
    print(f"{'client':<26} {'wall s':>8} {'ratio':>6}")
    try:
        for name, client in CLIENTS.items():
            walls = []
            try:
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    asyncio.run(client(url, args.items, args.concurrency))
                    walls.append(time.perf_counter() - start)
            except ImportError:
                print(f"{name:<26} {'not installed':>15}")
                continue
            print(f"{name:<26} {min(walls):>8.3f} {min(walls) / ideal:>6.2f}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
