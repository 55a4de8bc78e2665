"""Embedded model speed: llama.cpp (haia's choice) against transformers on the same GGUF weights.

    python bench/embedded_model.py [--prompts 8] [--max-tokens 64]

Prints completion tokens per second for each backend, and llama.cpp's speed as a ratio of the
transformers baseline measured in the same run (skipped if transformers/gguf are not installed).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from haia.models.base import GenerationRequest
from haia.models.builtin import BuiltinAdapter, builtin_weights

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


def bench_llama(prompts: list[str], max_tokens: int) -> tuple[float, int]:
    adapter = BuiltinAdapter()

    async def go() -> int:
        tokens = 0
        for prompt in prompts:
            response = await adapter.generate(GenerationRequest(
                messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens))
            tokens += response.usage.completion_tokens
        await adapter.aclose()
        return tokens

    start = time.perf_counter()
    tokens = asyncio.run(go())
    return time.perf_counter() - start, tokens


def bench_transformers(prompts: list[str], max_tokens: int) -> tuple[float, int] | None:
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        return None
    path = builtin_weights("smollm2")
    try:
        tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    except Exception as exc:
        print(f"transformers baseline unavailable: {exc}")
        return None
    torch.set_num_threads(2)
    tokens = 0
    start = time.perf_counter()
    with torch.inference_mode():
        for prompt in prompts:
            ids = tok.apply_chat_template([{"role": "user", "content": prompt}],
                                          add_generation_prompt=True, return_tensors="pt")
            ids = ids["input_ids"] if hasattr(ids, "keys") else ids
            out = model.generate(ids, attention_mask=torch.ones_like(ids),
                                 max_new_tokens=max_tokens, do_sample=False)
            tokens += int(out.shape[1] - ids.shape[1])
    return time.perf_counter() - start, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    prompts = (PROMPTS * (args.prompts // len(PROMPTS) + 1))[:args.prompts]
    wall, tokens = bench_llama(prompts, args.max_tokens)
    llama_rate = tokens / wall
    print(f"llama.cpp     {tokens:5d} tokens in {wall:6.2f} s = {llama_rate:6.1f} tokens/s")
    baseline = bench_transformers(prompts, args.max_tokens)
    if baseline is None:
        print("transformers  (not installed: pip install 'haia[hf]' gguf accelerate)")
        return
    wall_t, tokens_t = baseline
    rate_t = tokens_t / wall_t
    print(f"transformers  {tokens_t:5d} tokens in {wall_t:6.2f} s = {rate_t:6.1f} tokens/s")
    print(f"llama.cpp / transformers speed ratio: {llama_rate / rate_t:.2f}x")


if __name__ == "__main__":
    main()
