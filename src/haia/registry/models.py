"""The registry's tables (SQLAlchemy 2). Every change to them goes through
:class:`haia.registry.service.Registry`, which appends a ledger event in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "auditor", "developer", "reviewer", "stakeholder", "public")
"""``stakeholder``: a clinician, patient, carer or civil-society member whose category an admin
verified when registering them (``User.category``); ``public``: a registered member of the
public whose category is self-declared."""
STATUSES = ("draft", "submitted", "under_review", "approved", "rejected", "in_monitoring",
            "retired")
"""Statuses of the legacy per-system workflow (schema 0001); kept readable, no longer moved."""
DEPLOYMENT_STATUSES = ("draft", "submitted", "under_review", "approved", "rejected",
                       "suspended", "withdrawn")
"""The approval workflow is per deployment (a version at a site, for a deployer)."""
ORGANISATION_KINDS = ("developer", "deployer", "auditor", "regulator", "civil_society", "other")
INCIDENT_STATUSES = ("held", "reported", "triaged", "investigating", "resolved", "dismissed")


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40), default="other")  # developer, auditor...
    country: Mapped[str | None] = mapped_column(String(80))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    email: Mapped[str | None] = mapped_column(String(200))
    public_key: Mapped[str | None] = mapped_column(Text)  # Ed25519, base64 raw
    key_fingerprint: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(40))  # a stakeholder's, verified


class AISystem(Base):
    __tablename__ = "systems"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    developer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    intended_use: Mapped[str] = mapped_column(Text)
    clinical_setting: Mapped[str] = mapped_column(String(200))
    intended_users: Mapped[str] = mapped_column(String(200))
    modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_provider: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SystemVersion(Base):
    __tablename__ = "versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    version: Mapped[str] = mapped_column(String(80))
    model_id: Mapped[str] = mapped_column(String(300))
    weights_or_api_version: Mapped[str | None] = mapped_column(String(300))
    documentation: Mapped[str | None] = mapped_column(Text)


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    site: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    users_per_month: Mapped[int] = mapped_column(Integer, default=0)
    queries_per_month: Mapped[int] = mapped_column(Integer, default=0)
    deployer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    setting: Mapped[str | None] = mapped_column(String(200))
    intended_users: Mapped[str | None] = mapped_column(String(200))


class Audit(Base):
    __tablename__ = "audits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    run_id: Mapped[str] = mapped_column(String(80))
    suite: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(300))
    findings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report_path: Mapped[str | None] = mapped_column(Text)
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    independence: Mapped[str | None] = mapped_column(Text)
    independent: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(DateTime)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    # read from the signed report itself: suite version/hash, items run and in the suite, the
    # --limit used, failures, report files by content hash, the signer's key fingerprint
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ImpactAssessment(Base):
    __tablename__ = "assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float] = mapped_column(Float)
    tier: Mapped[str] = mapped_column(String(4))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    number: Mapped[int | None] = mapped_column(Integer)  # version of the deployment's assessment
    status: Mapped[str | None] = mapped_column(String(20))  # awaiting_review, accepted, returned
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contradictions: Mapped[list[str] | None] = mapped_column(JSON)


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    severity: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)  # de-identified before it is stored
    at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str | None] = mapped_column(String(20))
    serious: Mapped[int | None] = mapped_column(Integer)
    reporter_category: Mapped[str | None] = mapped_column(String(40))
    root_cause: Mapped[str | None] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    notified_on: Mapped[date | None] = mapped_column(Date)
    authority: Mapped[str | None] = mapped_column(String(200))
    held_reason: Mapped[str | None] = mapped_column(String(200))


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stakeholder: Mapped[str] = mapped_column(String(40))  # clinician, patient, developer, public...
    text: Mapped[str] = mapped_column(Text)  # de-identified before it is stored
    at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str | None] = mapped_column(String(20))  # held, published, rejected
    verified: Mapped[int | None] = mapped_column(Integer)  # category follows from the author
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id"))  # on an audit...
    finding: Mapped[str | None] = mapped_column(String(200))  # ...or on one of its findings
    held_reason: Mapped[str | None] = mapped_column(String(200))  # why moderation must see it
    reply: Mapped[str | None] = mapped_column(Text)  # the developer's answer, de-identified
    replied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PolicyVersion(Base):
    """A version of the governance policy; only an active one is applied, changes are
    proposed by one admin and activated by another (both ledgered)."""

    __tablename__ = "policies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # proposed, active, superseded
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)


class Decision(Base):
    """A decision on a deployment (sign-off, approve, reject, suspend, withdraw, reopen) with the
    evidence and the policy version it relied on."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    action: Mapped[str] = mapped_column(String(20))
    reviewers: Mapped[list[int]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # audits, acceptances, feedback...
    at: Mapped[datetime] = mapped_column(DateTime)


class RiskAcceptance(Base):
    """One reviewer's acceptance of one blocking finding for one deployment, until ``expires``."""

    __tablename__ = "risk_acceptances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"))
    finding: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    expires: Mapped[date] = mapped_column(Date)
    accepted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime)


class LedgerRow(Base):
    __tablename__ = "ledger"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(Text)  # the actor's Ed25519 over ``hash``
    key_fingerprint: Mapped[str | None] = mapped_column(String(16))


class Credential(Base):
    """A portal account's secrets (not ledgered, never shown): the argon2 hash of its password
    and the user's Ed25519 signing key, encrypted with a key derived from that password."""

    __tablename__ = "portal_credentials"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    key_salt: Mapped[str] = mapped_column(String(64))
    key_blob: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime)


class Token(Base):
    """A portal session or API token: only its SHA-256 is kept, with the user's signing key
    encrypted under a key derived from the token itself (so the database alone unlocks
    neither)."""

    __tablename__ = "portal_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # session, api
    label: Mapped[str | None] = mapped_column(String(100))
    key_blob: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime)
    expires: Mapped[datetime] = mapped_column(DateTime)


class Draft(Base):
    """An impact assessment being filled in on the portal (not ledgered until submitted)."""

    __tablename__ = "portal_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated: Mapped[datetime] = mapped_column(DateTime)


TABLES: dict[str, type[Base]] = {m.__tablename__: m for m in (
    Organisation, User, AISystem, SystemVersion, Deployment, Audit, ImpactAssessment, Incident,
    Feedback, PolicyVersion, Decision, RiskAcceptance)}
