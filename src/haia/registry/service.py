"""Registry operations: every change writes its row and appends a ledger event in ONE transaction.

Each ledger event of a row change carries the row's full snapshot, so :meth:`Registry.verify`
can tell an edit, a deletion or an insertion made behind haia's back from a legitimate change,
and name the field. Roles are enforced here (server-side for the portal too): who may do what is
in :data:`PERMISSIONS`; the developer of a system can neither audit nor review it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haia.errors import HaiaError
from haia.registry import ledger
from haia.registry.db import open_session_factory
from haia.registry.models import (
    ROLES,
    STATUSES,
    TABLES,
    AISystem,
    Audit,
    Base,
    Deployment,
    Feedback,
    ImpactAssessment,
    Incident,
    LedgerRow,
    Organisation,
    SystemVersion,
    User,
)
from haia.registry.signing import sha256_file

# action -> roles allowed (admin may do everything).
PERMISSIONS: dict[str, set[str]] = {
    "organisation": {"admin"},
    "user": {"admin"},
    "system": {"developer"},
    "version": {"developer"},
    "deployment": {"developer"},
    "audit": {"auditor"},
    "assessment": {"developer", "auditor", "reviewer"},
    "incident": {"developer", "auditor", "reviewer"},
    "submit": {"developer"},
    "review": {"reviewer"},
    "approve": {"reviewer"},
    "reject": {"reviewer"},
    "monitor": {"reviewer"},
    "retire": {"developer", "reviewer"},
}

# workflow action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "submit": ({"draft", "rejected"}, "submitted"),
    "review": ({"submitted"}, "under_review"),
    "approve": ({"under_review"}, "approved"),
    "reject": ({"under_review"}, "rejected"),
    "monitor": ({"approved"}, "in_monitoring"),
    "retire": (set(STATUSES) - {"retired"}, "retired"),
}


class PermissionDenied(HaiaError):
    """The acting user's role or relation to the system does not allow the action."""


class RuleViolation(HaiaError):
    """A governance rule (workflow, at-scale audit, separation of duties) forbids the action."""


@dataclass(frozen=True)
class Policy:
    """Governance settings. A deployment reaching either figure is *at scale* and needs an
    independent audit before approval (WHO: mandatory independent audits of LMMs deployed at
    scale)."""

    at_scale_users_per_month: int = 10_000
    at_scale_queries_per_month: int = 100_000


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(row: Base) -> dict[str, Any]:
    """Every column of ``row`` as JSON-ready values (what the ledger records and verify checks)."""
    values = {c.key: _jsonable(getattr(row, c.key)) for c in inspect(row).mapper.column_attrs}
    return json.loads(ledger.canonical_json(values))


def subject_of(row: Base) -> str:
    return f"{row.__tablename__}/{row.id}"  # type: ignore[attr-defined]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Registry:
    """The registry of AI systems, versions, deployments, audits, assessments, incidents and
    feedback, on SQLite or PostgreSQL, with its ledger."""

    def __init__(self, url: str | None = None, policy: Policy | None = None) -> None:
        self._sessions = open_session_factory(url)
        self.policy = policy or Policy()

    # -- plumbing ------------------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except IntegrityError as exc:
            raise HaiaError(f"the registry refused the change: {_integrity(exc)}") from None
        finally:
            session.close()

    def _append(self, session: Session, kind: str, subject: str, actor: str,
                payload: dict[str, Any]) -> ledger.Event:
        query = select(LedgerRow).order_by(LedgerRow.seq.desc()).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(4_711_001)))
        last = session.scalars(query).first()
        event = ledger.make_event(_event(last) if last else None, kind, subject, actor, payload)
        session.add(LedgerRow(seq=event.seq, kind=event.kind, subject=event.subject,
                              actor=event.actor, at=event.at,
                              payload=ledger.canonical_json(event.payload).decode(),
                              prev_hash=event.prev_hash, hash=event.hash))
        return event

    def _record(self, session: Session, row: Base, kind: str, actor: str,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Flush ``row`` and append its event, the snapshot included; return the snapshot."""
        session.flush()
        data = snapshot(row)
        payload = {"table": row.__tablename__, "id": row.id,  # type: ignore[attr-defined]
                   "row": data, **(extra or {})}
        self._append(session, kind, subject_of(row), actor, payload)
        return data

    def _actor(self, session: Session, name: str | None, action: str) -> User:
        if name is None:
            raise PermissionDenied(f"'{action}' needs an acting user (--as NAME)")
        user = session.scalars(select(User).where(User.name == name)).first()
        if user is None:
            raise PermissionDenied(f"no registered user {name!r}")
        allowed = PERMISSIONS[action]
        if user.role != "admin" and user.role not in allowed:
            raise PermissionDenied(f"{name!r} ({user.role}) may not {action}: needs "
                                   f"{' or '.join(sorted(allowed | {'admin'}))}")
        return user

    @staticmethod
    def _get(session: Session, model: type[Base], ident: int | str, label: str) -> Any:
        row = None
        if isinstance(ident, int) or str(ident).isdigit():
            row = session.get(model, int(ident))
        elif hasattr(model, "name"):
            row = session.scalars(select(model).where(model.name == ident)).first()  # type: ignore[attr-defined]
        if row is None:
            raise HaiaError(f"no {label} {ident!r} in the registry")
        return row

    # -- organisations and users ---------------------------------------------------------------
    def add_organisation(self, name: str, *, kind: str = "other", country: str | None = None,
                         actor: str | None = None) -> dict[str, Any]:
        with self._tx() as s:
            who = self._bootstrap_or(s, actor, "organisation")
            org = Organisation(name=_text(name, "name"), kind=kind, country=country)
            s.add(org)
            return self._record(s, org, "organisation.created", who)

    def add_user(self, name: str, role: str, *, organisation: str | int | None = None,
                 email: str | None = None, actor: str | None = None) -> dict[str, Any]:
        if role not in ROLES:
            raise HaiaError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        with self._tx() as s:
            first = s.scalar(select(func.count()).select_from(User)) == 0
            if first and role != "admin":
                raise RuleViolation("the first user of a registry must be an admin")
            who = name if first else self._actor(s, actor, "user").name
            org_id = self._get(s, Organisation, organisation, "organisation").id \
                if organisation is not None else None
            user = User(name=_text(name, "name"), role=role, organisation_id=org_id, email=email)
            s.add(user)
            return self._record(s, user, "user.created", who)

    def _bootstrap_or(self, s: Session, actor: str | None, action: str) -> str:
        if actor is None and s.scalar(select(func.count()).select_from(User)) == 0:
            return "bootstrap"
        return self._actor(s, actor, action).name

    # -- systems, versions, deployments --------------------------------------------------------
    def add_system(self, name: str, *, developer: str | int, intended_use: str,
                   clinical_setting: str, intended_users: str,
                   modalities: list[str] | None = None, model_provider: str | None = None,
                   actor: str | None = None) -> dict[str, Any]:
        with self._tx() as s:
            user = self._actor(s, actor, "system")
            org = self._get(s, Organisation, developer, "organisation")
            if user.role == "developer" and user.organisation_id != org.id:
                raise PermissionDenied(f"{user.name!r} is not a member of {org.name!r}")
            system = AISystem(name=_text(name, "name"), developer_id=org.id,
                              intended_use=_text(intended_use, "intended use"),
                              clinical_setting=clinical_setting, intended_users=intended_users,
                              modalities=list(modalities or ["text"]),
                              model_provider=model_provider, status="draft",
                              created_by=user.id)
            s.add(system)
            return self._record(s, system, "system.created", user.name)

    def _developer_check(self, s: Session, user: User, system: AISystem) -> None:
        if user.role == "developer" and user.organisation_id != system.developer_id:
            raise PermissionDenied(f"{user.name!r} is not a developer of {system.name!r}")

    def add_version(self, system: str | int, version: str, *, model_id: str,
                    weights_or_api_version: str | None = None,
                    documentation: str | None = None, actor: str | None = None
                    ) -> dict[str, Any]:
        with self._tx() as s:
            user = self._actor(s, actor, "version")
            sys_row = self._get(s, AISystem, system, "system")
            self._developer_check(s, user, sys_row)
            row = SystemVersion(system_id=sys_row.id, version=_text(version, "version"),
                                model_id=_text(model_id, "model id"),
                                weights_or_api_version=weights_or_api_version,
                                documentation=documentation)
            s.add(row)
            return self._record(s, row, "version.created", user.name)

    def add_deployment(self, version_id: int, site: str, *, start_date: date | None = None,
                       users_per_month: int = 0, queries_per_month: int = 0,
                       actor: str | None = None) -> dict[str, Any]:
        if users_per_month < 0 or queries_per_month < 0:
            raise HaiaError("users and queries per month must be 0 or more")
        with self._tx() as s:
            user = self._actor(s, actor, "deployment")
            version = self._get(s, SystemVersion, version_id, "version")
            self._developer_check(s, user, s.get(AISystem, version.system_id))
            row = Deployment(version_id=version.id, site=_text(site, "site"),
                             start_date=start_date, users_per_month=users_per_month,
                             queries_per_month=queries_per_month)
            s.add(row)
            return self._record(s, row, "deployment.created", user.name)

    # -- audits, assessments, incidents, feedback ----------------------------------------------
    def record_audit(self, version_id: int, *, run_id: str, suite: str, model: str,
                     findings: dict[str, Any], auditor: str, report_path: str | None = None,
                     independence: str | None = None) -> dict[str, Any]:
        """Attach an audit run to a system version. Separation of duties: an auditor from the
        system's developer organisation, or who registered the system, is refused."""
        with self._tx() as s:
            user = self._actor(s, auditor, "audit")
            version = self._get(s, SystemVersion, version_id, "version")
            system = s.get(AISystem, version.system_id)
            if user.organisation_id == system.developer_id or user.id == system.created_by:
                raise RuleViolation(f"separation of duties: {user.name!r} belongs to the "
                                    f"developer of {system.name!r} and cannot audit it")
            if report_path and not Path(report_path).is_file():
                raise HaiaError(f"report file {report_path} not found")
            digest = sha256_file(Path(report_path)) if report_path else None
            row = Audit(version_id=version.id, run_id=run_id, suite=suite, model=model,
                        findings=findings, report_path=report_path, report_sha256=digest,
                        auditor_id=user.id, independence=independence,
                        independent=int(bool(independence and independence.strip())),
                        at=_now())
            s.add(row)
            return self._record(s, row, "audit.recorded", user.name)

    def add_assessment(self, system: str | int, answers: dict[str, Any], *, assessor: str,
                       questionnaire_path: str | None = None) -> dict[str, Any]:
        from haia.assessment.score import questionnaire, score

        q = questionnaire(questionnaire_path)
        result = score(answers, q)
        with self._tx() as s:
            user = self._actor(s, assessor, "assessment")
            sys_row = self._get(s, AISystem, system, "system")
            row = ImpactAssessment(system_id=sys_row.id, assessor_id=user.id,
                                   questionnaire_version=str(q.get("version", "?")),
                                   answers=dict(answers), score=result.score, tier=result.tier,
                                   reasons=result.reasons, at=_now())
            s.add(row)
            return self._record(s, row, "assessment.recorded", user.name)

    def report_incident(self, deployment_id: int, *, severity: str, description: str,
                        reporter: str) -> dict[str, Any]:
        """Record an incident; a system approved or in monitoring goes back under review."""
        if severity not in {"low", "medium", "high", "critical"}:
            raise HaiaError("severity must be low, medium, high or critical")
        with self._tx() as s:
            user = self._actor(s, reporter, "incident")
            deployment = self._get(s, Deployment, deployment_id, "deployment")
            row = Incident(deployment_id=deployment.id, reporter_id=user.id, severity=severity,
                           description=_text(description, "description"), at=_now())
            s.add(row)
            data = self._record(s, row, "incident.reported", user.name)
            system = s.get(AISystem, s.get(SystemVersion, deployment.version_id).system_id)
            if system.status in {"approved", "in_monitoring"}:
                before = system.status
                system.status = "under_review"
                self._record(s, system, "workflow.reopened", user.name,
                             {"from": before, "to": "under_review", "incident": row.id})
            return data

    def add_feedback(self, system: str | int, *, stakeholder: str, text: str,
                     author: str | None = None) -> dict[str, Any]:
        """Stakeholder feedback: open to every role, the public included."""
        with self._tx() as s:
            sys_row = self._get(s, AISystem, system, "system")
            user = self._get(s, User, author, "user") if author else None
            row = Feedback(system_id=sys_row.id, author_id=user.id if user else None,
                           stakeholder=_text(stakeholder, "stakeholder"),
                           text=_text(text, "text"), at=_now())
            s.add(row)
            return self._record(s, row, "feedback.received", user.name if user else "public")

    # -- workflow ------------------------------------------------------------------------------
    def transition(self, system: str | int, action: str, *, actor: str,
                   note: str | None = None) -> dict[str, Any]:
        """Move a system through draft → submitted → under review → approved or rejected →
        in monitoring → retired, enforcing who may do it and the approval rules."""
        if action not in TRANSITIONS:
            raise HaiaError(f"unknown action {action!r} (actions: {', '.join(TRANSITIONS)})")
        starts, target = TRANSITIONS[action]
        with self._tx() as s:
            user = self._actor(s, actor, action)
            sys_row = self._get(s, AISystem, system, "system")
            if action in {"submit"}:
                self._developer_check(s, user, sys_row)
            if action in {"review", "approve", "reject"} and \
                    user.organisation_id == sys_row.developer_id:
                raise RuleViolation(f"separation of duties: {user.name!r} belongs to the "
                                    f"developer of {sys_row.name!r} and cannot review it")
            if sys_row.status not in starts:
                raise RuleViolation(f"{sys_row.name!r} is {sys_row.status}: cannot {action} "
                                    f"(allowed from {', '.join(sorted(starts))})")
            if action == "approve":
                self._check_approval(s, sys_row)
            before = sys_row.status
            sys_row.status = target
            return self._record(s, sys_row, f"workflow.{action}", user.name,
                                {"from": before, "to": target, "note": note})

    def _check_approval(self, s: Session, system: AISystem) -> None:
        assessments = s.scalars(select(ImpactAssessment).where(
            ImpactAssessment.system_id == system.id).order_by(ImpactAssessment.id)).all()
        if not assessments:
            raise RuleViolation(f"{system.name!r} has no impact assessment: "
                                "run 'haia assess' before approval")
        versions = [v.id for v in s.scalars(select(SystemVersion).where(
            SystemVersion.system_id == system.id))]
        at_scale = [d for d in s.scalars(select(Deployment).where(
            Deployment.version_id.in_(versions)))
            if d.users_per_month >= self.policy.at_scale_users_per_month
            or d.queries_per_month >= self.policy.at_scale_queries_per_month]
        tier = assessments[-1].tier
        if at_scale or tier in {"III", "IV"}:
            independent = s.scalars(select(Audit).where(Audit.version_id.in_(versions),
                                                        Audit.independent == 1)).first()
            if independent is None:
                why = (f"deployed at scale ({at_scale[0].site}: {at_scale[0].users_per_month} "
                       f"users, {at_scale[0].queries_per_month} queries a month)"
                       if at_scale else f"assessed at risk tier {tier}")
                raise RuleViolation(f"{system.name!r} is {why} and needs an independent audit "
                                    "before approval")

    # -- reading -------------------------------------------------------------------------------
    def list(self, table: str) -> list[dict[str, Any]]:
        model = _model(table)
        with self._sessions() as s:
            return [snapshot(r) for r in s.scalars(select(model).order_by(model.id))]  # type: ignore[attr-defined]

    def show(self, table: str, ident: str | int) -> dict[str, Any]:
        model = _model(table)
        with self._sessions() as s:
            row = self._get(s, model, ident, table.rstrip("s"))
            data = snapshot(row)
            data["history"] = [
                {"seq": e.seq, "kind": e.kind, "actor": e.actor, "at": e.at}
                for e in s.scalars(select(LedgerRow).where(
                    LedgerRow.subject == subject_of(row)).order_by(LedgerRow.seq))]
            return data

    def events(self) -> list[ledger.Event]:
        with self._sessions() as s:
            return [_event(r) for r in s.scalars(select(LedgerRow).order_by(LedgerRow.seq))]

    def root(self) -> tuple[int, str]:
        """(number of events, Merkle root) of the ledger: publish it to make rewriting visible."""
        events = self.events()
        return len(events), ledger.merkle_root(events)

    def check_root(self, size: int, root: str) -> list[str]:
        """Problems if the ledger's first ``size`` events no longer hash to a ``root`` published
        earlier (``haia registry root``): the one rewrite a hash chain cannot show on its own is
        a consistent re-hash of everything after an edit, or a cut of the newest events."""
        events = self.events()
        if size > len(events):
            return [f"ledger truncated: {len(events)} events, the published root covers {size}"]
        if ledger.merkle_root(events[:size]) != root.strip().lower():
            return [f"ledger rewritten: its first {size} events no longer match the published "
                    "root"]
        return []

    def proof(self, seq: int) -> dict[str, Any]:
        """An inclusion proof of event ``seq`` in the current ledger."""
        events = self.events()
        if not any(e.seq == seq for e in events):
            raise HaiaError(f"no ledger event {seq}")
        return ledger.inclusion_proof(events, seq)

    # -- verification --------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Every problem found: a broken chain, registry rows that differ from what the ledger
        recorded (edited, deleted or inserted outside haia), audited reports that changed."""
        problems: list[str] = []
        with self._sessions() as s:
            rows = list(s.scalars(select(LedgerRow).order_by(LedgerRow.seq)))
            events = []
            for r in rows:
                try:
                    events.append(_event(r))
                except ValueError:
                    problems.append(f"ledger event {r.seq}: payload is not valid JSON")
            problems += _moved(events)
            problems += ledger.verify_chain(events)
            recorded: dict[str, dict[str, Any]] = {}
            for e in events:
                if "row" in e.payload:
                    recorded[e.subject] = e.payload["row"]
            current: dict[str, dict[str, Any]] = {}
            for table, model in TABLES.items():
                for row in s.scalars(select(model)):
                    current[f"{table}/{row.id}"] = snapshot(row)  # type: ignore[attr-defined]
            for subject, data in sorted(current.items()):
                if subject not in recorded:
                    problems.append(f"{subject}: row not in the ledger (inserted outside haia)")
                    continue
                changed = sorted(k for k in set(data) | set(recorded[subject])
                                 if data.get(k) != recorded[subject].get(k))
                if changed:
                    problems.append(f"{subject}: field(s) {', '.join(changed)} changed outside "
                                    "haia (the ledger recorded other values)")
            for subject in sorted(set(recorded) - set(current)):
                problems.append(f"{subject}: row deleted (the ledger records it)")
            for audit in s.scalars(select(Audit)):
                problems += _check_report(audit)
        return problems


def _moved(events: list[ledger.Event]) -> list[str]:
    """Events whose content is intact but sits at another position: a reordering."""
    out = []
    for e in events:
        if ledger.event_hash(e.seq, e.kind, e.subject, e.actor, e.at, e.payload,
                             e.prev_hash) == e.hash:
            continue
        for other in range(1, len(events) + 2):
            if other != e.seq and ledger.event_hash(other, e.kind, e.subject, e.actor, e.at,
                                                    e.payload, e.prev_hash) == e.hash:
                out.append(f"events out of order: event {other} ({e.kind}) is stored at "
                           f"position {e.seq}")
                break
    return out


def _check_report(audit: Audit) -> list[str]:
    if not audit.report_path:
        return []
    path = Path(audit.report_path)
    if not path.is_file():
        return [f"audits/{audit.id}: report file {path} is missing"]
    problems = []
    if audit.report_sha256 and sha256_file(path) != audit.report_sha256:
        problems.append(f"audits/{audit.id}: report file {path} changed since it was recorded")
    from haia.registry.signing import signature_path, verify_file

    if signature_path(path).exists():
        problems += [f"audits/{audit.id}: {p}" for p in verify_file(path)]
    return problems


def _event(row: LedgerRow) -> ledger.Event:
    try:
        payload = json.loads(row.payload)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None
    return ledger.Event(row.seq, row.kind, row.subject, row.actor, row.at, payload,
                        row.prev_hash, row.hash)


def _model(table: str) -> type[Base]:
    aliases = {"systems": "systems", "system": "systems", "organisation": "organisations",
               "org": "organisations", "orgs": "organisations", "user": "users",
               "version": "versions", "deployment": "deployments", "audit": "audits",
               "assessment": "assessments", "incident": "incidents"}
    name = aliases.get(table, table)
    if name not in TABLES:
        raise HaiaError(f"unknown registry table {table!r} (tables: {', '.join(TABLES)})")
    return TABLES[name]


def _text(value: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HaiaError(f"{label} must not be empty")
    return value.strip()


def _integrity(exc: IntegrityError) -> str:
    text = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    if "unique" in text.lower() or "duplicate" in text.lower():
        return f"a record with that name already exists ({text})"
    return text
