"""Embedded model throughput: haia's runtime (llama.cpp's server from the xllamacpp wheel, parallel
slots) against the adapter it replaced (llama-cpp-python, one request at a time), same weights,
same prompts, same machine, in one run.

    python bench/embedded_model.py [--prompts 16] [--max-tokens 64] [--concurrency 1 4 8]
                                   [--suite equity]

``--suite NAME`` takes the first prompts of a bundled suite (text items) instead of the short
questions below, with the suite's token budget: ``--suite equity`` is the work the equity audit
sends (long vignettes, short JSON answers).

The old adapter runs in its own virtualenv (``bench/.venvs/llama-cpp-python``), made on first use
with llama-cpp-python 0.3.36 built portably (``GGML_NATIVE=OFF`` with AVX2/FMA/F16C, so it runs on
any such CPU; pip's wheel cache makes that compile once). ``--no-baseline`` skips it. Prints
prompts/s and completion tokens/s per adapter and concurrency, and each figure as a ratio of the old
adapter's at the same concurrency; the old adapter is also run with the new runtime's passive
OpenMP waits (``OMP_WAIT_POLICY=PASSIVE``), so the gain of the parallel slots shows on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from haia.models.base import GenerationRequest
from haia.models.builtin import BuiltinAdapter, builtin_weights

ROOT = Path(__file__).resolve().parent
BASELINE_VENV = ROOT / ".venvs" / "llama-cpp-python"
BASELINE_PACKAGE = "llama-cpp-python==0.3.36"
PORTABLE = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"

PROMPTS = [
    "Explain in two sentences why a 12-lead ECG comes first in acute chest pain.",
    "List three red-flag symptoms of headache that need urgent review.",
    "What does a blood glucose of 2.8 mmol/L in an adult mean, and what is the first step?",
    "Describe how to recognise sepsis in an adult in plain language.",
    "Why should antibiotics not be used for a common cold?",
    "What are the signs of dehydration in an infant?",
    "Summarise the difference between type 1 and type 2 diabetes.",
    "When should someone with a nosebleed seek emergency care?",
]

# The replaced adapter's generation loop: one request at a time, state reset before each.
OLD_ADAPTER = """
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from llama_cpp import Llama
path, max_tokens, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
prompts = json.loads(sys.stdin.read())
llm = Llama(model_path=path, n_ctx=2048, n_threads=2, verbose=False, seed=0)
def one(messages):
    llm.reset()
    out = llm.create_chat_completion(messages=messages,
                                     max_tokens=max_tokens, temperature=0.0, seed=0)
    return out["usage"]["completion_tokens"]
start = time.perf_counter()
with ThreadPoolExecutor(1) as pool:  # the old adapter's single worker thread
    tokens = sum(pool.map(one, prompts))
print(json.dumps({"wall": time.perf_counter() - start, "tokens": tokens}))
"""


def ensure_baseline() -> Path | None:
    """The baseline virtualenv's python, made on first use (a portable compile)."""
    python = BASELINE_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"making the baseline virtualenv {BASELINE_VENV} ({BASELINE_PACKAGE}, portable "
          "build: compiles once, several minutes)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)
    env = {**os.environ, "CMAKE_ARGS": PORTABLE}
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", BASELINE_PACKAGE], env=env)
    return python if done.returncode == 0 else None


Messages = list[dict[str, str]]


def bench_old(python: Path, prompts: list[Messages], max_tokens: int, concurrency: int,
              passive: bool) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    out = subprocess.run([str(python), "-c", OLD_ADAPTER, str(builtin_weights("smollm2")),
                          str(max_tokens), str(concurrency)], input=json.dumps(prompts),
                         capture_output=True, text=True, check=True, env=env)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["wall"], data["tokens"]


def bench_new(prompts: list[Messages], max_tokens: int, concurrency: int) -> tuple[float, int]:
    adapter = BuiltinAdapter(concurrency=concurrency)
    gate = asyncio.Semaphore(concurrency)

    async def one(messages: Messages) -> int:
        async with gate:
            response = await adapter.generate(GenerationRequest(
                messages=messages, max_tokens=max_tokens, seed=0))
            return response.usage.completion_tokens

    async def go() -> tuple[float, int]:
        try:
            start = time.perf_counter()
            tokens = sum(await asyncio.gather(*(one(p) for p in prompts)))
            return time.perf_counter() - start, tokens
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--suite", help="take the prompts from this bundled suite")
    args = parser.parse_args()
    if args.suite:
        from haia.suites.loader import load_suite
        from haia.suites.render import render_messages

        suite = load_suite(args.suite)
        prompts = [render_messages(item) for item in suite.items[:args.prompts]]
        args.max_tokens = suite.meta.max_tokens or args.max_tokens
    else:
        questions = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[:args.prompts]
        prompts = [[{"role": "user", "content": q}] for q in questions]
    baseline = None if args.no_baseline else ensure_baseline()
    print(f"{len(prompts)} prompts{' of ' + args.suite if args.suite else ''}, "
          f"{args.max_tokens} tokens at most, temperature 0, "
          f"{os.cpu_count()} CPUs")
    print(f"{'adapter':34} {'conc':>4} {'prompts/s':>10} {'tokens/s':>9} {'vs old':>7}")
    for concurrency in args.concurrency:
        old = None
        if baseline is not None:
            wall, tokens = bench_old(baseline, prompts, args.max_tokens, concurrency, False)
            old = len(prompts) / wall
            print(f"{'llama-cpp-python (old, sequential)':34} {concurrency:4d} {old:10.2f} "
                  f"{tokens / wall:9.1f} {'1.00x':>7}")
            # The old adapter with the new one's passive OpenMP waits: the fairer baseline.
            wall, tokens = bench_old(baseline, prompts, args.max_tokens, concurrency, True)
            rate = len(prompts) / wall
            print(f"{'  the same, passive OpenMP waits':34} {concurrency:4d} {rate:10.2f} "
                  f"{tokens / wall:9.1f} {rate / old:6.2f}x")
        for policy in ("PASSIVE", "ACTIVE"):  # haia's default, and spinning waits
            os.environ["OMP_WAIT_POLICY"] = policy
            wall, tokens = bench_new(prompts, args.max_tokens, concurrency)
            rate = len(prompts) / wall
            ratio = f"{rate / old:6.2f}x" if old else "      -"
            name = f"xllamacpp server (new, {policy.lower()})"
            print(f"{name:34} {concurrency:4d} {rate:10.2f} {tokens / wall:9.1f} {ratio:>7}",
                  flush=True)
        os.environ.pop("OMP_WAIT_POLICY")


if __name__ == "__main__":
    main()
