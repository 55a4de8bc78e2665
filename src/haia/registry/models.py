"""The registry's tables (SQLAlchemy 2). Every change to them goes through
:class:`haia.registry.service.Registry`, which appends a ledger event in the same transaction."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "auditor", "developer", "reviewer", "public")
STATUSES = ("draft", "submitted", "under_review", "approved", "rejected", "in_monitoring",
            "retired")


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


class Incident(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    severity: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    stakeholder: Mapped[str] = mapped_column(String(40))  # clinician, patient, developer, public...
    text: Mapped[str] = mapped_column(Text)
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


TABLES: dict[str, type[Base]] = {m.__tablename__: m for m in (
    Organisation, User, AISystem, SystemVersion, Deployment, Audit, ImpactAssessment, Incident,
    Feedback)}
