"""The audit as a service: run an audit and, when asked, check it against the registry before
the first request, sign its report files and record it — the same for the CLI and for Python
callers.

    outcome = audit(AuditConfig(model=..., suite=...),
                    Attestation(system=3, auditor="Dr A", sign_key="dr-a"))

:func:`haia.audit.run_audit` stays the bare run (no registry, no signature).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from haia.audit import AuditConfig, AuditResult, run_audit
from haia.errors import HaiaError
from haia.registry.keys import REPORT_FILES, load_actor, resolve_key, signature_block

SUBJECT_KEYS = ("system", "version", "version_id", "model_id", "deployment_id", "auditor",
                "independence")


@dataclass
class Attestation:
    """Who vouches for an audit: the registered system version it is for (with its auditor) and
    the key that signs its report. Empty: a plain, unsigned, unrecorded audit."""

    system: int | None = None  # a registered system VERSION id
    deployment: int | None = None  # default: every deployment of the version
    auditor: str | None = None
    independence: str | None = None
    sign_key: str | None = None  # a key name (in the key folder) or path
    passphrase_env: str | None = None
    database_url: str | None = None  # default: $HAIA_DATABASE_URL or $HAIA_HOME/registry.db

    @property
    def empty(self) -> bool:
        return self.system is None and not self.sign_key


@dataclass
class AuditOutcome:
    """A finished audit, what signed it and the registry audit id recording it."""

    result: AuditResult
    signer: Any = None  # haia.registry.actors.Actor
    audit_id: int | None = None
    signed: list[str] = field(default_factory=list)


@dataclass
class _Prepared:
    registry: Any = None
    signer: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _prepare(config: AuditConfig, att: Attestation, resume: str | None,
             note: Callable[[str], None]) -> _Prepared:
    """Every refusal before the first request: the key loads, the auditor may audit this
    version (registry rules: role, independence, separation of duties, the model matches);
    names the report's subject and signer."""
    if att.empty:
        return _Prepared()
    if att.system is None:
        signer = load_actor(att.auditor or resolve_key(att.sign_key or "").stem, att.sign_key,
                            att.passphrase_env)
        return _Prepared(None, signer, {"signature": signature_block(att.sign_key or signer.name,
                                                                     signer.name)})
    if not att.auditor:
        raise HaiaError("--system needs --auditor NAME (a registered auditor)")
    if resume:
        raise HaiaError("--system records a new run: start it with --system rather than "
                        "--resume")
    from haia.registry.service import Registry
    from haia.report.model_card import system_block

    signer = load_actor(att.auditor, att.sign_key, att.passphrase_env)
    registry = Registry(att.database_url)
    if registry.migration_note:
        note(registry.migration_note)
    subject = registry.check_auditor(att.system, actor=signer, independence=att.independence,
                                     deployment_id=att.deployment, model=config.model)
    config.subject = {k: subject[k] for k in SUBJECT_KEYS}
    if config.limit is not None:
        note("a --limit run is recorded but is not a full audit: the approval gate will not "
             "rely on it")
    extra = {"signature": signature_block(att.sign_key or signer.name, signer.name),
             "system": system_block(registry, att.system, auditor=att.auditor,
                                    independence=att.independence)}
    return _Prepared(registry, signer, extra)


def audit(config: AuditConfig, attestation: Attestation | None = None, *,
          resume: str | None = None, store: Any = None,
          on_start: Callable[[str, int], None] | None = None,
          on_progress: Callable[[Any], None] | None = None,
          on_note: Callable[[str], None] | None = None,
          on_report: Callable[[AuditResult], None] | None = None) -> AuditOutcome:
    """Run (or resume) an audit; with an attestation, check it against the registry first, then
    sign the report files and record the audit. ``on_note`` receives advisory messages,
    ``on_report`` the result once the report is written (before signing and recording)."""
    att = attestation or Attestation()
    prepared = _prepare(config, att, resume, on_note or (lambda _m: None))
    result = run_audit(config, resume=resume, store=store, on_start=on_start,
                       on_progress=on_progress, report_extra=prepared.extra)
    if on_report is not None:
        on_report(result)
    outcome = AuditOutcome(result, prepared.signer)
    if prepared.signer is not None:
        from haia.registry.signing import sign_with

        for name in REPORT_FILES:
            if (result.out_dir / name).is_file():
                sign_with(result.out_dir / name, prepared.signer.key, prepared.signer.name)
                outcome.signed.append(name)
    if prepared.registry is not None and att.system is not None:
        row = prepared.registry.record_audit(att.system, result.out_dir, actor=prepared.signer,
                                             independence=att.independence,
                                             deployment_id=att.deployment)
        outcome.audit_id = row["id"]
    return outcome
