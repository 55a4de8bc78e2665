"""Parse a ``--model`` specification into an adapter.

- ``builtin:NAME`` — the embedded default (``builtin:smollm2``)
- ``openai:MODEL@BASE_URL`` — any OpenAI-compatible chat-completions server
- ``hf:PATH`` — a local Hugging Face transformers model folder
"""

from __future__ import annotations

from dataclasses import dataclass, field

from haia.errors import ModelSpecError
from haia.models.base import ModelAdapter

DEFAULT_MODEL = "builtin:smollm2"


@dataclass
class ModelOptions:
    """Connection options that are not part of the spec itself."""

    api_key_env: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_connections: int = 64
    timeout: float = 120.0


def parse_spec(spec: str) -> tuple[str, str]:
    """Split ``KIND:REST`` and check the kind."""
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ModelSpecError(
            f"bad model spec {spec!r}: expected builtin:NAME, openai:MODEL@BASE_URL or hf:PATH")
    if kind not in {"builtin", "openai", "hf"}:
        raise ModelSpecError(f"bad model spec {spec!r}: unknown kind {kind!r} "
                             "(use builtin:, openai: or hf:)")
    return kind, rest


def create_adapter(spec: str, options: ModelOptions | None = None) -> ModelAdapter:
    """An adapter for ``spec``."""
    options = options or ModelOptions()
    kind, rest = parse_spec(spec)
    if kind == "builtin":
        from haia.models.builtin import BuiltinAdapter

        return BuiltinAdapter(rest, concurrency=options.max_connections,
                              timeout=options.timeout)
    if kind == "hf":
        from haia.models.hf import HFAdapter

        return HFAdapter(rest)
    model, sep, base_url = rest.partition("@")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise ModelSpecError(f"bad model spec {spec!r}: expected openai:MODEL@http(s)://HOST/v1")
    from haia.models.openai_compat import OpenAICompatAdapter

    return OpenAICompatAdapter(model, base_url.rstrip("/"), api_key_env=options.api_key_env,
                               headers=options.headers, max_connections=options.max_connections,
                               timeout=options.timeout)
