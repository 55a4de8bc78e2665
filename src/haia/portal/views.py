"""What the portal shows, read from the registry: the public register, a system, an audit, a
dashboard. Read-only; every change goes through :class:`haia.registry.service.Registry`.

Nothing here returns a user's e-mail, key or credential, a held or dismissed report, or the
text of one whose personal data a moderator has not yet checked.
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haia.portal.accounts import Account
from haia.registry.errors import NotFound
from haia.registry.models import (
    AISystem,
    Audit,
    Deployment,
    Draft,
    Feedback,
    ImpactAssessment,
    Incident,
    Organisation,
    SystemVersion,
    User,
)
from haia.registry.policy import Policy
from haia.registry.service import (
    OPEN_INCIDENT,
    Registry,
    awaits_moderation,
    is_public,
    public_incident,
    snapshot,
)
from haia.registry.signing import sha256_file

FEED_COLUMNS = ("id", "name", "developer", "intended_use", "clinical_setting", "intended_users",
                "risk_tier", "deployments", "approved_deployments", "latest_audit",
                "latest_audit_at", "verdicts", "open_incidents", "published_feedback")


@lru_cache(maxsize=256)
def _scorecard(path: str, digest: str) -> tuple[dict[str, str], ...] | None:
    """The per-principle verdicts of a recorded report.json, only if its content is still the
    one recorded (None: moved, changed or unreadable)."""
    file = Path(path)
    if file.is_dir():
        file = file / "report.json"
    try:
        if sha256_file(file) != digest:
            return None
        card = json.loads(file.read_text(encoding="utf-8")).get("scorecard") or []
        return tuple({"principle": str(r.get("principle")), "title": str(r.get("title", "")),
                      "verdict": str(r.get("verdict"))} for r in card if isinstance(r, dict))
    except (OSError, ValueError, AttributeError):
        return None


def verdicts(audit: Audit) -> list[dict[str, str]] | None:
    if not audit.report_path or not audit.report_sha256:
        return None
    card = _scorecard(audit.report_path, audit.report_sha256)
    return list(card) if card is not None else None


def _tier(s: Session, deployment: Deployment) -> str | None:
    """The tier of the deployment's latest accepted assessment."""
    row = s.scalars(select(ImpactAssessment).where(
        ImpactAssessment.deployment_id == deployment.id, ImpactAssessment.status == "accepted")
        .order_by(ImpactAssessment.number.desc())).first()
    return row.tier if row else None


def _audit_summary(s: Session, audit: Audit) -> dict[str, Any]:
    auditor = s.get(User, audit.auditor_id)
    org = s.get(Organisation, auditor.organisation_id) if auditor and auditor.organisation_id \
        else None
    version = s.get(SystemVersion, audit.version_id)
    return {"id": audit.id, "suite": audit.suite, "at": audit.at.isoformat(),
            "version": version.version if version else None,
            "auditor": auditor.name if auditor else None,
            "auditor_organisation": org.name if org else None,
            "independent": bool(audit.independent),
            "findings": (audit.findings or {}).get("counts", {}),
            "verdicts": verdicts(audit)}


def _public_feedback(row: Feedback) -> dict[str, Any]:
    return {"id": row.id, "stakeholder": row.stakeholder, "verified": bool(row.verified),
            "text": row.text, "at": row.at.isoformat(), "audit_id": row.audit_id,
            "finding": row.finding, "reply": row.reply}


def _public_incident(row: Incident) -> dict[str, Any]:
    shown = public_incident(snapshot(row)) or {}
    return {"id": row.id, "deployment_id": row.deployment_id, "severity": row.severity,
            "serious": bool(row.serious), "status": row.status, "at": row.at.isoformat(),
            "description": shown.get("description"), "reporter": row.reporter_category}


def _system_card(s: Session, system: AISystem, policy: Policy) -> dict[str, Any]:
    developer = s.get(Organisation, system.developer_id)
    versions = list(s.scalars(select(SystemVersion).where(SystemVersion.system_id == system.id)
                              .order_by(SystemVersion.id)))
    by_id = {v.id: v for v in versions}
    deployments = list(s.scalars(select(Deployment).where(
        Deployment.version_id.in_(by_id)).order_by(Deployment.id))) if by_id else []
    deps = []
    for d in deployments:
        deployer = s.get(Organisation, d.deployer_id) if d.deployer_id else None
        deps.append({"id": d.id, "site": d.site, "deployer": deployer.name if deployer else None,
                     "status": d.status, "version": by_id[d.version_id].version,
                     "setting": d.setting, "users_per_month": d.users_per_month,
                     "at_scale": policy.at_scale(d.users_per_month, d.queries_per_month),
                     "start_date": d.start_date.isoformat() if d.start_date else None,
                     "risk_tier": _tier(s, d)})
    audits = list(s.scalars(select(Audit).where(Audit.version_id.in_(by_id))
                            .order_by(Audit.at.desc(), Audit.id.desc()))) if by_id else []
    incidents = [i for i in s.scalars(select(Incident).where(
        Incident.deployment_id.in_([d.id for d in deployments])))
        if public_incident(snapshot(i)) is not None] \
        if deployments else []
    feedback = [f for f in s.scalars(select(Feedback).where(Feedback.system_id == system.id)
                                     .order_by(Feedback.id)) if is_public(snapshot(f))]
    tiers = [d["risk_tier"] for d in deps if d["risk_tier"]]
    return {
        "id": system.id, "name": system.name, "developer": developer.name if developer else None,
        "intended_use": system.intended_use, "clinical_setting": system.clinical_setting,
        "intended_users": system.intended_users, "modalities": list(system.modalities or []),
        "model_provider": system.model_provider,
        "versions": [{"id": v.id, "version": v.version, "model_id": v.model_id} for v in versions],
        "deployments": deps,
        "risk_tier": max(tiers, key=("I", "II", "III", "IV").index) if tiers else None,
        "latest_audit": _audit_summary(s, audits[0]) if audits else None,
        "audits": [_audit_summary(s, a) for a in audits],
        "open_incidents": sum(i.status in OPEN_INCIDENT for i in incidents),
        "incidents": [_public_incident(i) for i in incidents],
        "feedback": [_public_feedback(f) for f in feedback],
    }


def register(registry: Registry, *, q: str | None = None, status: str | None = None,
             tier: str | None = None) -> list[dict[str, Any]]:
    """The public register: every system with its deployments, risk tier, latest audit with
    per-principle verdicts, open incidents and published feedback; filtered by a search text
    (name, use, setting, developer), a deployment status and a risk tier."""
    _, policy = registry.policy()
    with registry.sessions() as s:
        cards = [_system_card(s, system, policy)
                 for system in s.scalars(select(AISystem).order_by(AISystem.name))]
    needle = (q or "").strip().lower()
    if needle:
        cards = [c for c in cards if any(needle in str(c[k] or "").lower() for k in (
            "name", "intended_use", "clinical_setting", "intended_users", "developer"))]
    if status:
        cards = [c for c in cards if any(d["status"] == status for d in c["deployments"])]
    if tier:
        cards = [c for c in cards if c["risk_tier"] == tier]
    return cards


def system(registry: Registry, ident: int) -> dict[str, Any]:
    _, policy = registry.policy()
    with registry.sessions() as s:
        row = s.get(AISystem, ident)
        if row is None:
            raise NotFound(f"no system {ident!r} in the registry")
        return _system_card(s, row, policy)


def feed_rows(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per system (the CSV feed)."""
    out = []
    for c in cards:
        audit = c["latest_audit"] or {}
        out.append({
            "id": c["id"], "name": c["name"], "developer": c["developer"],
            "intended_use": c["intended_use"], "clinical_setting": c["clinical_setting"],
            "intended_users": c["intended_users"], "risk_tier": c["risk_tier"] or "",
            "deployments": len(c["deployments"]),
            "approved_deployments": sum(d["status"] == "approved" for d in c["deployments"]),
            "latest_audit": audit.get("suite", ""), "latest_audit_at": audit.get("at", ""),
            "verdicts": "; ".join(f"{v['principle']}: {v['verdict']}"
                                  for v in audit.get("verdicts") or []),
            "open_incidents": c["open_incidents"], "published_feedback": len(c["feedback"])})
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FEED_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:  # a cell starting with = + - @ would run as a formula in a spreadsheet
        writer.writerow({k: ("'" + v if isinstance(v, str) and v and v[0] in "=+-@\t\r"
                             else v) for k, v in row.items()})
    return buffer.getvalue()


def audit(registry: Registry, ident: int) -> dict[str, Any]:
    """An audit's public view: summary, findings, signature status, ledger proof, feedback."""
    standing = registry.audit_standing(ident)
    with registry.sessions() as s:
        row = s.get(Audit, ident)
        version = s.get(SystemVersion, row.version_id)
        summary = _audit_summary(s, row)
        feedback = [_public_feedback(f) for f in s.scalars(select(Feedback).where(
            Feedback.audit_id == row.id).order_by(Feedback.id)) if is_public(snapshot(f))]
        system_id = version.system_id
        system_name = s.get(AISystem, system_id).name
    return {**summary, "system_id": system_id, "system": system_name,
            "model": row.model, "run_id": row.run_id,
            "open_findings": list((row.findings or {}).get("open", [])),
            "independence": row.independence, "deployment_id": row.deployment_id,
            "evidence": {k: v for k, v in (row.evidence or {}).items()
                         if k in {"suite_version", "suite_hash", "items_run", "items_in_suite",
                                  "limit", "errors", "files", "signer_fingerprint"}},
            "signature": {"valid": not standing["problems"], "problems": standing["problems"],
                          "auditor_fingerprint": standing["auditor_fingerprint"],
                          "ledger_event_signed": standing["signed_by_auditor"]},
            "proof": standing["proof"], "proof_valid": standing["proof_valid"],
            "feedback": feedback}


def report_file(registry: Registry, ident: int, name: str = "report.html") -> Path | None:
    """The audit's recorded report file, only if it is still the content recorded."""
    with registry.sessions() as s:
        row = s.get(Audit, ident)
    if row is None or not row.report_path:
        return None
    folder = Path(row.report_path)
    folder = folder if folder.is_dir() else folder.parent
    digest = ((row.evidence or {}).get("files") or {}).get(name)
    path = folder / name
    if not digest or not path.is_file() or sha256_file(path) != digest:
        return None
    return path


def dashboard(registry: Registry, account: Account) -> dict[str, Any]:
    """What awaits ``account``: by role, deployments to review, assessments to accept, reports
    to moderate, audits due or recorded, feedback to answer, drafts."""
    _, policy = registry.policy()
    out: dict[str, Any] = {"role": account.role}
    with registry.sessions() as s:
        user = s.get(User, account.user_id)
        org = s.get(Organisation, user.organisation_id) if user.organisation_id else None
        regulator = org is not None and org.kind == "regulator"

        def system_of(d: Deployment) -> AISystem:
            return s.get(AISystem, s.get(SystemVersion, d.version_id).system_id)

        def dep(d: Deployment) -> dict[str, Any]:
            sys_row = system_of(d)
            return {"id": d.id, "system": sys_row.name, "system_id": sys_row.id,
                    "site": d.site, "status": d.status, "risk_tier": _tier(s, d)}

        if account.role == "reviewer":
            mine = [d for d in s.scalars(select(Deployment).where(Deployment.status.in_(
                ("submitted", "under_review"))).order_by(Deployment.id))
                if system_of(d).developer_id != user.organisation_id
                and (d.deployer_id == user.organisation_id or regulator)]
            out["awaiting_review"] = [dep(d) for d in mine]
            out["assessments"] = [
                {"id": a.id, "deployment_id": a.deployment_id, "tier": a.tier,
                 "number": a.number, "contradictions": a.contradictions or []}
                for a in s.scalars(select(ImpactAssessment).where(
                    ImpactAssessment.status == "awaiting_review").order_by(ImpactAssessment.id))
                if a.assessor_id != user.id]
            out["feedback_held"] = [
                {**_public_feedback(f), "system_id": f.system_id, "held_reason": f.held_reason}
                for f in s.scalars(select(Feedback).where(Feedback.status == "held")
                                   .order_by(Feedback.id))]
            out["incidents_held"] = [
                {**_public_incident(i), "description": i.description,  # for the moderator
                 "held_reason": i.held_reason}
                for i in s.scalars(select(Incident).order_by(Incident.id))
                if awaits_moderation(i)]
        if account.role == "auditor":
            due = []
            for d in s.scalars(select(Deployment).where(Deployment.status.in_(
                    ("submitted", "under_review"))).order_by(Deployment.id)):
                tier = _tier(s, d)
                needed = policy.required_suites(
                    tier, policy.at_scale(d.users_per_month, d.queries_per_month)) if tier else []
                done = {a.suite for a in s.scalars(select(Audit).where(
                    Audit.version_id == d.version_id))}
                missing = [x for x in needed if x not in done]
                if missing or not tier:
                    due.append({**dep(d), "missing_suites": missing})
            out["audits_due"] = due
            out["audits_recorded"] = [_audit_summary(s, a) for a in s.scalars(
                select(Audit).where(Audit.auditor_id == user.id).order_by(Audit.id.desc()))]
        if account.role == "developer":
            systems = list(s.scalars(select(AISystem).where(
                AISystem.developer_id == user.organisation_id).order_by(AISystem.id)))
            out["systems"] = [{"id": x.id, "name": x.name} for x in systems]
            ids = [x.id for x in systems]
            out["feedback_to_answer"] = [
                {**_public_feedback(f), "system_id": f.system_id} for f in s.scalars(
                    select(Feedback).where(Feedback.system_id.in_(ids),
                                           Feedback.status == "published").order_by(Feedback.id))
                if not f.reply] if ids else []
            out["deployments"] = [dep(d) for d in s.scalars(select(Deployment).where(
                Deployment.deployer_id == user.organisation_id).order_by(Deployment.id))]
        out["drafts"] = [{"deployment_id": d.deployment_id, "updated": d.updated.isoformat()}
                         for d in s.scalars(select(Draft).where(Draft.user_id == user.id))]
    return out
