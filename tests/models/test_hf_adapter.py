"""The hf: adapter on a tiny GPT-2 built and saved locally (no hub access)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from haia.errors import ModelSpecError
from haia.models.base import GenerationRequest, UnsupportedInput
from haia.models.registry import create_adapter

transformers = pytest.importorskip("transformers", reason="the 'hf' extra is not installed")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    words = ["<eos>", "<unk>", "user", "assistant", ":", "yes", "no", "pain", "chest", "?"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>",
                                                unk_token="<unk>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(words), n_positions=64, n_embd=16,
                                     n_layer=1, n_head=2, eos_token_id=0, bos_token_id=0)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def test_hf_adapter_generates_deterministically(tiny_model: Path) -> None:
    adapter = create_adapter(f"hf:{tiny_model}")
    request = GenerationRequest(messages=[{"role": "user", "content": "chest pain ?"}],
                                max_tokens=5)

    async def twice() -> tuple[str, str, int, int]:
        first = await adapter.generate(request)
        second = await adapter.generate(request)
        await adapter.aclose()
        return first.text, second.text, first.usage.prompt_tokens, first.usage.completion_tokens

    a, b, prompt_tokens, completion_tokens = asyncio.run(twice())
    assert a == b
    assert set(a.split()) <= {"yes", "no", "pain", "chest", "?", "user", "assistant", ":"}
    assert prompt_tokens > 3 and 1 <= completion_tokens <= 5
    assert adapter.identity().startswith("hf:")


def test_hf_adapter_rejects_images_and_bad_paths(tiny_model: Path, tmp_path: Path) -> None:
    adapter = create_adapter(f"hf:{tiny_model}")
    image = GenerationRequest(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}])
    with pytest.raises(UnsupportedInput):
        asyncio.run(adapter.generate(image))
    with pytest.raises(ModelSpecError, match="no such model folder"):
        create_adapter(f"hf:{tmp_path / 'missing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelSpecError, match="cannot load model"):
        create_adapter(f"hf:{tmp_path / 'empty'}")
