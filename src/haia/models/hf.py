"""A local Hugging Face transformers model (``hf:PATH``), on CPU. Optional extra ``hf``.

Loads from a local folder only (``local_files_only``): nothing is fetched from a hub.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from haia.errors import ModelSpecError
from haia.models.base import GenerationRequest, GenerationResponse, UnsupportedInput, Usage
from haia.models.registry import ModelOptions, adapter


class HFAdapter:
    """A causal language model loaded with transformers from a local path."""

    modalities = frozenset({"text", "data"})

    def __init__(self, path: str) -> None:
        self.spec = f"hf:{path}"
        self._path = Path(path).expanduser()
        if not self._path.is_dir():
            raise ModelSpecError(f"hf:{path}: no such model folder")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ModelSpecError("hf: models need the 'hf' extra: pip install 'haia[hf]'") from None
        self._torch = torch
        try:
            self._tok: Any = AutoTokenizer.from_pretrained(self._path, local_files_only=True)
            self._model: Any = AutoModelForCausalLM.from_pretrained(
                self._path, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelSpecError(f"hf:{path}: cannot load model: {exc}") from None
        self._model.eval()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haia-hf")

    def identity(self) -> str:
        return f"hf:{self._path.resolve()}"

    def _prompt_ids(self, messages: list[dict[str, Any]]) -> Any:
        if getattr(self._tok, "chat_template", None):
            ids = self._tok.apply_chat_template(messages, add_generation_prompt=True,
                                                return_tensors="pt")
            # transformers >= 5 returns a BatchEncoding, earlier versions a tensor
            return ids["input_ids"] if hasattr(ids, "keys") else ids
        text = "\n".join(f"{m['role']}: {m['content']}" for m in messages) + "\nassistant:"
        return self._tok(text, return_tensors="pt").input_ids

    def _generate(self, request: GenerationRequest) -> GenerationResponse:
        torch = self._torch
        with self._lock, torch.inference_mode():
            start = time.perf_counter()
            ids = self._prompt_ids(request.messages)
            if request.seed is not None:
                torch.manual_seed(request.seed)
            sampling = request.temperature > 0
            kwargs: dict[str, Any] = {"max_new_tokens": request.max_tokens, "do_sample": sampling}
            if sampling:
                kwargs["temperature"] = request.temperature
            pad = self._tok.pad_token_id or self._tok.eos_token_id
            out = self._model.generate(ids, attention_mask=torch.ones_like(ids),
                                       pad_token_id=pad, **kwargs)
            new = out[0, ids.shape[1]:]
            text = self._tok.decode(new, skip_special_tokens=True)
            latency = time.perf_counter() - start
        return GenerationResponse(text=text, usage=Usage(int(ids.shape[1]), int(new.shape[0])),
                                  latency_s=latency, model=self.spec)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        for message in request.messages:
            if isinstance(message["content"], list):
                raise UnsupportedInput("this hf: model takes text only")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._generate, request)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@adapter("hf", modalities={"text", "data"}, local=True, usage="hf:PATH")
def _create(rest: str, options: ModelOptions) -> HFAdapter:
    return HFAdapter(rest)
