"""Registry operations: every change writes its row and appends a signed ledger event in ONE
transaction.

Each ledger event of a row change carries the row's full snapshot, so :meth:`Registry.verify`
can tell an edit, a deletion or an insertion made behind haia's back from a legitimate change,
and name the field. Each event is signed by its actor's key registered in the registry, so the
ledger proves who did what. The rules live here (the CLI and the portal only call them): who may
do what is :data:`PERMISSIONS`; the approval gate is :mod:`haia.registry.gate`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haia.errors import HaiaError
from haia.registry import ledger, witness
from haia.registry.actors import Actor, key_fingerprint, verify_signature
from haia.registry.db import open_session_factory
from haia.registry.errors import NotFound, PermissionDenied, RuleViolation
from haia.registry.models import (
    ORGANISATION_KINDS,
    ROLES,
    TABLES,
    AISystem,
    Audit,
    Base,
    Decision,
    Deployment,
    Feedback,
    ImpactAssessment,
    Incident,
    LedgerRow,
    Organisation,
    PolicyVersion,
    RiskAcceptance,
    SystemVersion,
    User,
)
from haia.registry.policy import Policy, severity_rank
from haia.registry.signing import sha256_file

__all__ = ["PERMISSIONS", "PermissionDenied", "Policy", "Registry", "RuleViolation"]

ANYONE = set(ROLES)
PERMISSIONS: dict[str, set[str]] = {
    "organisation": {"admin"},
    "user": {"admin"},
    "key": {"admin"},
    "policy.propose": {"admin"},
    "policy.activate": {"admin"},
    "system": {"developer"},
    "version": {"developer"},
    "deployment": {"developer", "reviewer"},
    "deployment.update": {"developer", "reviewer"},
    "assessment": {"developer", "reviewer"},
    "assessment.review": {"reviewer"},
    "audit": {"auditor"},
    "submit": {"developer", "reviewer"},
    "review": {"reviewer"},
    "approve": {"reviewer"},
    "reject": {"reviewer"},
    "accept_risk": {"reviewer"},
    "suspend": {"reviewer"},
    "withdraw": {"developer", "reviewer"},
    "incident": ANYONE,
    "incident.update": {"developer", "reviewer"},
    "moderate": {"reviewer"},
    "feedback": ANYONE,
    "feedback.reply": {"developer"},
    "export": {"admin", "auditor", "developer", "reviewer"},
}
"""Action -> roles that may do it. Admins manage people, keys and policy only: they cannot
assess, audit, review or approve. Incidents and feedback are open to everyone, anonymous
reporters included (held for moderation)."""

# workflow action -> (deployment states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "submit": ({"draft", "rejected"}, "submitted"),
    "review": ({"submitted", "suspended"}, "under_review"),
    "approve": ({"under_review"}, "approved"),
    "reject": ({"under_review"}, "rejected"),
    "suspend": ({"approved"}, "suspended"),
    "withdraw": ({"draft", "submitted", "under_review", "approved", "rejected", "suspended"},
                 "withdrawn"),
}
NEEDS_REASON = {"reject", "suspend", "withdraw"}
INCIDENT_FLOW: dict[str, set[str]] = {  # new status -> statuses it may follow
    "triaged": {"reported"},
    "investigating": {"reported", "triaged"},
    "resolved": {"reported", "triaged", "investigating"},
}
OPEN_INCIDENT = {"reported", "triaged", "investigating"}
PUBLIC_CATEGORIES = ("patient", "carer", "public", "clinician", "civil_society", "other")
ANONYMOUS = "public"
MIGRATION = "haia-migration"
HELD_PHI = "the de-identifier removed personal data: a moderator checks the text"
HELD_ANONYMOUS = "anonymous: a moderator checks it"
WITHHELD = "text withheld by a moderator"

Deidentify = Callable[[str], str]


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


def default_deidentify(text: str) -> str:
    """``text`` with every PHI entity haia.privacy finds replaced by its type."""
    from haia.privacy.anonymize import Anonymizer
    from haia.privacy.detector import default_detector
    from haia.privacy.files import Deidentifier

    return Deidentifier(default_detector(), Anonymizer("redact")).text(text, None)[0]


class Registry:
    """The registry of AI systems, versions, deployments, audits, assessments, decisions,
    incidents and feedback, on SQLite or PostgreSQL, with its signed ledger."""

    def __init__(self, url: str | None = None, *,
                 deidentify: Deidentify | None = None) -> None:
        from haia.registry.db import default_url

        self.url = url or default_url()
        self._sessions, (before, after) = open_session_factory(self.url)
        self._deidentify = deidentify or default_deidentify
        self.migration_note: str | None = None
        if before is not None and before != after:
            self.migration_note = self._after_migration(before, after)

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def sessions(self) -> Callable[[], Session]:
        """New database sessions on the registry (for readers such as the portal; every change
        to a registry table goes through a method of this class)."""
        return self._sessions

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
        head = session.info.pop("ledger_head", None)
        if head is not None:  # committed: remember the head outside the database
            witness.advance(self.url, head)

    def _append(self, session: Session, kind: str, subject: str, actor: Actor | str,
                payload: dict[str, Any]) -> ledger.Event:
        query = select(LedgerRow).order_by(LedgerRow.seq.desc()).limit(1)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(4_711_001)))
        last = session.scalars(query).first()
        name = actor.name if isinstance(actor, Actor) else actor
        event = ledger.make_event(_event(last) if last else None, kind, subject, name, payload)
        signature = actor.sign(event.hash) if isinstance(actor, Actor) else None
        session.add(LedgerRow(seq=event.seq, kind=event.kind, subject=event.subject,
                              actor=event.actor, at=event.at,
                              payload=ledger.canonical_json(event.payload).decode(),
                              prev_hash=event.prev_hash, hash=event.hash, signature=signature,
                              key_fingerprint=actor.fingerprint
                              if isinstance(actor, Actor) else None))
        session.info["ledger_head"] = witness.Head(event.seq, event.hash,
                                                   event.seq if signature else 0)
        return event

    def _record(self, session: Session, row: Base, kind: str, actor: Actor | str,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Flush ``row`` and append its event, the snapshot included; return the snapshot."""
        session.flush()
        data = snapshot(row)
        payload = {"table": row.__tablename__, "id": row.id,  # type: ignore[attr-defined]
                   "row": data, **(extra or {})}
        self._append(session, kind, subject_of(row), actor, payload)
        return data

    def _actor(self, session: Session, actor: Actor | None, action: str) -> User:
        """The registered user behind ``actor``, authenticated by key and allowed ``action``."""
        if actor is None:
            raise PermissionDenied(f"'{action}' needs an acting user (--as NAME with their key)")
        user = session.scalars(select(User).where(User.name == actor.name)).first()
        if user is None:
            raise PermissionDenied(f"no registered user {actor.name!r}")
        if not user.key_fingerprint:
            raise PermissionDenied(f"{user.name!r} has no registered signing key: an admin "
                                   "registers it with 'haia registry key'")
        if user.key_fingerprint != actor.fingerprint:
            raise PermissionDenied(f"the key given for {user.name!r} (fingerprint "
                                   f"{actor.fingerprint}) is not the one registered for them "
                                   f"({user.key_fingerprint})")
        allowed = PERMISSIONS[action]
        if user.role not in allowed:
            raise PermissionDenied(f"{user.name!r} ({user.role}) may not {action}: needs "
                                   f"{' or '.join(sorted(allowed))}")
        return user

    @staticmethod
    def _get(session: Session, model: type[Base], ident: int | str, label: str) -> Any:
        row = None
        if isinstance(ident, int) or str(ident).isdigit():
            row = session.get(model, int(ident))
        elif hasattr(model, "name"):
            row = session.scalars(select(model).where(model.name == ident)).first()  # type: ignore[attr-defined]
        if row is None:
            raise NotFound(f"no {label} {ident!r} in the registry")
        return row

    def _policy_row(self, s: Session) -> PolicyVersion:
        row = s.scalars(select(PolicyVersion).where(PolicyVersion.status == "active")
                        .order_by(PolicyVersion.version.desc())).first()
        if row is None:
            raise RuleViolation("the registry has no active policy (register the first admin)")
        return row

    def policy(self) -> tuple[int, Policy]:
        """The active policy version and its settings."""
        with self._sessions() as s:
            row = self._policy_row(s)
            return row.version, Policy.from_dict(row.settings)

    # -- migration -----------------------------------------------------------------------------
    def _after_migration(self, before: str, after: str | None) -> str:
        """Re-ledger the rows a schema migration changed, and give the registry its policy."""
        with self._tx() as s:
            recorded: dict[str, dict[str, Any]] = {}
            for r in s.scalars(select(LedgerRow).order_by(LedgerRow.seq)):
                payload = json.loads(r.payload)
                if "row" in payload:
                    recorded[r.subject] = payload["row"]
            changed = 0
            for model in TABLES.values():
                for row in s.scalars(select(model)):
                    subject = subject_of(row)
                    if subject in recorded and changed_fields(recorded[subject], snapshot(row)):
                        self._record(s, row, "registry.migrated", MIGRATION,
                                     {"from": before, "to": after})
                        changed += 1
            if s.scalars(select(PolicyVersion)).first() is None:
                row = PolicyVersion(version=1, settings=Policy().as_dict(), status="active",
                                    reason="default policy set when the schema was migrated",
                                    at=_now())
                s.add(row)
                self._record(s, row, "policy.activated", MIGRATION)
            reopened = s.scalar(select(func.count()).select_from(Deployment).where(
                Deployment.status == "under_review")) or 0
        return (f"registry migrated from schema {before} to {after}: {changed} record(s) "
                f"re-ledgered; {reopened} deployment(s) under review (approvals made under the "
                "old rules must be re-decided); users need registered keys to act")

    # -- organisations, users, keys, policy ----------------------------------------------------
    def add_organisation(self, name: str, *, kind: str = "other", country: str | None = None,
                         actor: Actor | None = None) -> dict[str, Any]:
        if kind not in ORGANISATION_KINDS:
            raise HaiaError(f"unknown organisation kind {kind!r} (kinds: "
                            f"{', '.join(ORGANISATION_KINDS)})")
        with self._tx() as s:
            self._actor(s, actor, "organisation")
            org = Organisation(name=_text(name, "name"), kind=kind, country=country)
            s.add(org)
            return self._record(s, org, "organisation.created", actor)  # type: ignore[arg-type]

    def add_user(self, name: str, role: str, *, public_key: str | None = None,
                 organisation: str | int | None = None, email: str | None = None,
                 category: str | None = None, actor: Actor | None = None) -> dict[str, Any]:
        """Register a user with their public key (base64). The very first user is an admin who
        signs their own registration with that key; the default policy starts with them. A
        stakeholder's ``category`` (clinician, patient...) is verified by the admin here."""
        if role not in ROLES:
            raise HaiaError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        if role == "stakeholder" and category not in PUBLIC_CATEGORIES:
            raise HaiaError(f"a stakeholder's category is one of {', '.join(PUBLIC_CATEGORIES)}")
        if role != "stakeholder" and category is not None:
            raise HaiaError("only a stakeholder has a category (their role is their category)")
        with self._tx() as s:
            first = s.scalar(select(func.count()).select_from(User)) == 0
            if first:
                if role != "admin":
                    raise RuleViolation("the first user of a registry must be an admin")
                if actor is None or actor.name != name or (
                        public_key and public_key != actor.public_key):
                    raise RuleViolation("the first admin registers themself, with their key")
                public_key = actor.public_key
            else:
                self._actor(s, actor, "user")
            if role != "public" and not public_key:
                raise RuleViolation(f"{role} {name!r} needs a public key (--public-key FILE.pub): "
                                    "every action they take is signed")
            org_id = self._get(s, Organisation, organisation, "organisation").id \
                if organisation is not None else None
            if role in {"auditor", "developer", "reviewer"} and org_id is None:
                raise RuleViolation(f"a {role} must belong to an organisation (--org)")
            user = User(name=_text(name, "name"), role=role, organisation_id=org_id, email=email,
                        category=category,
                        public_key=public_key,
                        key_fingerprint=key_fingerprint(public_key) if public_key else None)
            s.add(user)
            data = self._record(s, user, "user.created", actor)  # type: ignore[arg-type]
            if first:
                policy = PolicyVersion(version=1, settings=Policy().as_dict(), status="active",
                                       reason="default policy", proposed_by=user.id,
                                       approved_by=user.id, at=_now())
                s.add(policy)
                self._record(s, policy, "policy.activated", actor)  # type: ignore[arg-type]
            return data

    def register_key(self, user: str | int, public_key: str, *,
                     actor: Actor) -> dict[str, Any]:
        """Register (or replace) a user's public key. An admin does it; a user of a migrated
        registry who has none yet may register their own first key, signed with it."""
        with self._tx() as s:
            target = self._get(s, User, user, "user")
            self_claim = (actor.name == target.name and not target.key_fingerprint
                          and actor.public_key == public_key)
            if not self_claim:
                self._actor(s, actor, "key")
            target.public_key = public_key
            target.key_fingerprint = key_fingerprint(public_key)
            return self._record(s, target, "user.key_registered", actor)

    def propose_policy(self, settings: dict[str, Any], *, reason: str,
                       actor: Actor) -> dict[str, Any]:
        """Propose a new policy version (admin); it applies once another admin activates it."""
        with self._tx() as s:
            user = self._actor(s, actor, "policy.propose")
            current = self._policy_row(s)
            policy = Policy.from_dict({**current.settings, **settings})
            number = (s.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
            row = PolicyVersion(version=number, settings=policy.as_dict(), status="proposed",
                                reason=_text(reason, "reason"), proposed_by=user.id, at=_now())
            s.add(row)
            return self._record(s, row, "policy.proposed", actor)

    def activate_policy(self, version: int, *, actor: Actor) -> dict[str, Any]:
        """Activate a proposed policy version: an admin other than the one who proposed it."""
        with self._tx() as s:
            user = self._actor(s, actor, "policy.activate")
            row = s.scalars(select(PolicyVersion).where(PolicyVersion.version == version)).first()
            if row is None or row.status != "proposed":
                raise RuleViolation(f"no proposed policy version {version}")
            if row.proposed_by == user.id:
                raise RuleViolation("four eyes: a policy change is activated by an admin other "
                                    "than the one who proposed it")
            for old in s.scalars(select(PolicyVersion).where(PolicyVersion.status == "active")):
                old.status = "superseded"
                self._record(s, old, "policy.superseded", actor)
            row.status, row.approved_by = "active", user.id
            return self._record(s, row, "policy.activated", actor)

    # -- systems, versions, deployments --------------------------------------------------------
    def add_system(self, name: str, *, developer: str | int, intended_use: str,
                   clinical_setting: str, intended_users: str,
                   modalities: list[str] | None = None, model_provider: str | None = None,
                   actor: Actor | None = None) -> dict[str, Any]:
        with self._tx() as s:
            user = self._actor(s, actor, "system")
            org = self._get(s, Organisation, developer, "organisation")
            if user.organisation_id != org.id:
                raise PermissionDenied(f"{user.name!r} is not a member of {org.name!r}")
            system = AISystem(name=_text(name, "name"), developer_id=org.id,
                              intended_use=_text(intended_use, "intended use"),
                              clinical_setting=clinical_setting, intended_users=intended_users,
                              modalities=list(modalities or ["text"]),
                              model_provider=model_provider, status="draft",
                              created_by=user.id)
            s.add(system)
            return self._record(s, system, "system.created", actor)  # type: ignore[arg-type]

    @staticmethod
    def _developer_check(user: User, system: AISystem) -> None:
        if user.organisation_id != system.developer_id:
            raise PermissionDenied(f"{user.name!r} is not a developer of {system.name!r}")

    def add_version(self, system: str | int, version: str, *, model_id: str,
                    weights_or_api_version: str | None = None,
                    documentation: str | None = None, actor: Actor | None = None
                    ) -> dict[str, Any]:
        """Register a version. A version is approved only through its own deployments, so a new
        version (a new model) starts unapproved whatever its predecessor's standing."""
        with self._tx() as s:
            user = self._actor(s, actor, "version")
            sys_row = self._get(s, AISystem, system, "system")
            self._developer_check(user, sys_row)
            row = SystemVersion(system_id=sys_row.id, version=_text(version, "version"),
                                model_id=_text(model_id, "model id"),
                                weights_or_api_version=weights_or_api_version,
                                documentation=documentation)
            s.add(row)
            return self._record(s, row, "version.created", actor)  # type: ignore[arg-type]

    def _party(self, s: Session, user: User, deployment: Deployment) -> AISystem:
        """The deployment's system; ``user`` must belong to its developer or its deployer."""
        system = s.get(AISystem, s.get(SystemVersion, deployment.version_id).system_id)
        if user.organisation_id not in {system.developer_id, deployment.deployer_id}:
            raise PermissionDenied(f"{user.name!r} belongs neither to the developer nor to the "
                                   f"deployer of deployment {deployment.id}")
        return system

    def add_deployment(self, version_id: int, site: str, *, deployer: str | int | None = None,
                       start_date: date | None = None, users_per_month: int = 0,
                       queries_per_month: int = 0, setting: str | None = None,
                       intended_users: str | None = None,
                       actor: Actor | None = None) -> dict[str, Any]:
        """Register where a version will be deployed, by whom and at what scale. Its start date
        cannot lie in the past: a deployment starts only once approved."""
        if users_per_month < 0 or queries_per_month < 0:
            raise HaiaError("users and queries per month must be 0 or more")
        if start_date is not None and start_date < _now().date():
            raise RuleViolation(f"start date {start_date} is in the past: a deployment is "
                                "registered before it starts, and starts only once approved")
        with self._tx() as s:
            user = self._actor(s, actor, "deployment")
            version = self._get(s, SystemVersion, version_id, "version")
            system = s.get(AISystem, version.system_id)
            org = self._get(s, Organisation, deployer, "organisation") if deployer is not None \
                else s.get(Organisation, user.organisation_id)
            if user.organisation_id not in {system.developer_id, org.id}:
                raise PermissionDenied(f"{user.name!r} belongs neither to the developer nor to "
                                       f"the deployer {org.name!r}")
            row = Deployment(version_id=version.id, site=_text(site, "site"), deployer_id=org.id,
                             start_date=start_date, users_per_month=users_per_month,
                             queries_per_month=queries_per_month, status="draft",
                             setting=setting or system.clinical_setting,
                             intended_users=intended_users or system.intended_users)
            s.add(row)
            return self._record(s, row, "deployment.created", actor)  # type: ignore[arg-type]

    def update_deployment(self, deployment_id: int, *, actor: Actor,
                          users_per_month: int | None = None,
                          queries_per_month: int | None = None,
                          version_id: int | None = None) -> dict[str, Any]:
        """Change a deployment's scale or version. An approved deployment that moves to another
        version or crosses the at-scale threshold goes back under review."""
        with self._tx() as s:
            user = self._actor(s, actor, "deployment.update")
            d = self._get(s, Deployment, deployment_id, "deployment")
            system = self._party(s, user, d)
            policy = Policy.from_dict(self._policy_row(s).settings)
            was_at_scale = policy.at_scale(d.users_per_month, d.queries_per_month)
            reasons = []
            if version_id is not None and version_id != d.version_id:
                new = self._get(s, SystemVersion, version_id, "version")
                if new.system_id != system.id:
                    raise RuleViolation(f"version {version_id} is not a version of "
                                        f"{system.name!r}")
                reasons.append(f"moved to version {new.version} ({new.model_id})")
                d.version_id = new.id
            if users_per_month is not None:
                d.users_per_month = users_per_month
            if queries_per_month is not None:
                d.queries_per_month = queries_per_month
            if d.users_per_month < 0 or d.queries_per_month < 0:
                raise HaiaError("users and queries per month must be 0 or more")
            if not was_at_scale and policy.at_scale(d.users_per_month, d.queries_per_month):
                reasons.append(f"now at scale ({d.users_per_month} users, "
                               f"{d.queries_per_month} queries a month)")
            data = self._record(s, d, "deployment.updated", actor)
            if reasons and d.status in {"approved", "suspended"}:
                data = self._reopen(s, d, actor, "; ".join(reasons))
            return data

    def _reopen(self, s: Session, d: Deployment, actor: Actor | str, reason: str
                ) -> dict[str, Any]:
        """Send an approved (or suspended) deployment back under review, ledgered."""
        before, d.status = d.status, "under_review"
        decision = Decision(deployment_id=d.id, version_id=d.version_id, action="reopen",
                            reviewers=[], reason=reason, evidence={}, at=_now())
        s.add(decision)
        self._record(s, decision, "decision.reopen", actor)
        return self._record(s, d, "workflow.reopened", actor,
                            {"from": before, "to": d.status, "reason": reason})

    # -- audits --------------------------------------------------------------------------------
    def check_auditor(self, version_id: int, *, actor: Actor,
                      independence: str | None, deployment_id: int | None = None,
                      model: str | None = None) -> dict[str, Any]:
        """Everything that would refuse recording an audit, checked BEFORE the run: the actor is
        an authenticated auditor with no tie to the developer, the statement says something,
        the version (and deployment) exist and the model is the version's registered one."""
        with self._sessions() as s:
            return self._auditor_checks(s, version_id, actor, independence, deployment_id,
                                        model)

    def _auditor_checks(self, s: Session, version_id: int, actor: Actor,
                        independence: str | None, deployment_id: int | None,
                        model: str | None) -> dict[str, Any]:
        from haia.registry.gate import auditor_problems

        user = self._actor(s, actor, "audit")
        version = self._get(s, SystemVersion, version_id, "version")
        system = s.get(AISystem, version.system_id)
        if deployment_id is not None:
            d = self._get(s, Deployment, deployment_id, "deployment")
            if d.version_id != version.id:
                raise RuleViolation(f"deployment {d.id} is not of version {version.id}")
        policy = Policy.from_dict(self._policy_row(s).settings)
        problems = auditor_problems(s, user, system, independence, policy)
        if problems:
            raise RuleViolation(f"{user.name!r} cannot audit {system.name!r}: {problems[0]}")
        if model is not None and model != version.model_id:
            raise RuleViolation(f"the model {model!r} is not version {version.version}'s "
                                f"registered model {version.model_id!r}")
        return {"system": system.name, "system_id": system.id, "version": version.version,
                "version_id": version.id, "model_id": version.model_id,
                "deployment_id": deployment_id, "auditor": user.name,
                "auditor_fingerprint": user.key_fingerprint, "independence": independence}

    def record_audit(self, version_id: int, report: Path, *, actor: Actor,
                     independence: str | None, deployment_id: int | None = None
                     ) -> dict[str, Any]:
        """Attach a signed audit report (folder or report.json) to a version. Everything the
        gate relies on is read from the report, which must be signed with the auditor's
        registered key and name this system and version."""
        from haia.registry.evidence import report_evidence, severity_counts

        evidence = report_evidence(Path(report))
        with self._tx() as s:
            subject = self._auditor_checks(s, version_id, actor, independence, deployment_id,
                                           evidence["model"])
            if evidence["signer_fingerprint"] != subject["auditor_fingerprint"]:
                raise RuleViolation(f"report.json is signed with key "
                                    f"{evidence['signer_fingerprint']}, not with "
                                    f"{actor.name!r}'s registered key")
            named = evidence["subject"]
            if named and (named.get("system") != subject["system"]
                          or str(named.get("version")) != subject["version"]):
                raise RuleViolation(f"the report is of {named.get('system')!r} version "
                                    f"{named.get('version')!r}, not of {subject['system']!r} "
                                    f"version {subject['version']!r}")
            user = s.scalars(select(User).where(User.name == actor.name)).one()
            row = Audit(version_id=version_id, deployment_id=deployment_id,
                        run_id=evidence["run_id"], suite=evidence["suite"],
                        model=evidence["model"],
                        findings={"counts": severity_counts(evidence["findings"]),
                                  "open": evidence["findings"][:500]},
                        report_path=str(Path(report).resolve()),  # checked while it is there
                        report_sha256=evidence["files"]["report.json"],
                        auditor_id=user.id, independence=independence,
                        independent=int(bool(independence and independence.strip())),
                        evidence={k: v for k, v in evidence.items() if k != "findings"},
                        at=_now())
            s.add(row)
            return self._record(s, row, "audit.recorded", actor)

    # -- assessments ---------------------------------------------------------------------------
    def add_assessment(self, deployment_id: int, answers: dict[str, Any], *, actor: Actor,
                       system_name: str | None = None,
                       questionnaire_path: str | None = None) -> dict[str, Any]:
        """Record a new version of a deployment's impact assessment, by its deployer. It needs
        review before the gate relies on it; contradictions with the registered deployment are
        named in it (and block acceptance)."""
        from haia.assessment.score import questionnaire, score
        from haia.registry.gate import contradictions

        q = questionnaire(questionnaire_path)
        result = score(answers, q)
        with self._tx() as s:
            user = self._actor(s, actor, "assessment")
            d = self._get(s, Deployment, deployment_id, "deployment")
            system = s.get(AISystem, s.get(SystemVersion, d.version_id).system_id)
            if user.organisation_id != d.deployer_id:
                raise PermissionDenied(f"{user.name!r} does not belong to the deployer of "
                                       f"deployment {d.id}: the deployer assesses its use")
            found = contradictions(answers, d, system, system_name)
            number = (s.scalar(select(func.max(ImpactAssessment.number)).where(
                ImpactAssessment.deployment_id == d.id)) or 0) + 1
            row = ImpactAssessment(system_id=system.id, deployment_id=d.id, number=number,
                                   assessor_id=user.id,
                                   questionnaire_version=str(q.get("version", "?")),
                                   answers=dict(answers), score=result.score, tier=result.tier,
                                   reasons=result.reasons, status="awaiting_review",
                                   contradictions=found, at=_now())
            s.add(row)
            data = self._record(s, row, "assessment.recorded", actor)
            if d.status in {"approved", "suspended"}:
                self._reopen(s, d, actor, f"new assessment version {number}")
            return data

    def review_assessment(self, assessment_id: int, *, accept: bool, actor: Actor,
                          reason: str | None = None) -> dict[str, Any]:
        """Accept (or return, with a reason) an assessment version: a reviewer who did not write
        it and is not of the developer; one that contradicts the deployment cannot be accepted."""
        with self._tx() as s:
            user = self._actor(s, actor, "assessment.review")
            a = self._get(s, ImpactAssessment, assessment_id, "assessment")
            system = s.get(AISystem, a.system_id)
            if a.deployment_id is None:
                raise RuleViolation(f"assessment {a.id} belongs to no deployment (recorded "
                                    "before schema 0002): record it again for a deployment")
            if user.id == a.assessor_id:
                raise RuleViolation("four eyes: the author of an assessment cannot review it")
            self._reviewer_check(s, user, s.get(Deployment, a.deployment_id), system)
            if a.status != "awaiting_review":
                raise RuleViolation(f"assessment {a.id} is {a.status}, not awaiting review")
            if accept and a.contradictions:
                raise RuleViolation(f"assessment {a.id} contradicts the registered deployment: "
                                    + "; ".join(a.contradictions))
            if not accept and not (reason and reason.strip()):
                raise RuleViolation("returning an assessment needs a reason")
            a.status, a.reviewed_by = ("accepted" if accept else "returned"), user.id
            return self._record(s, a, "assessment.reviewed", actor, {"reason": reason})

    # -- workflow ------------------------------------------------------------------------------
    def transition(self, deployment_id: int, action: str, *, actor: Actor,
                   reason: str | None = None) -> dict[str, Any]:
        """Move a deployment through draft → submitted → under review → approved or rejected,
        suspended or withdrawn. Approval runs the gate (:mod:`haia.registry.gate`)."""
        if action not in TRANSITIONS:
            raise HaiaError(f"unknown action {action!r} (actions: {', '.join(TRANSITIONS)})")
        if action in NEEDS_REASON and not (reason and reason.strip()):
            raise RuleViolation(f"'{action}' needs a reason")
        starts, target = TRANSITIONS[action]
        with self._tx() as s:
            user = self._actor(s, actor, action)
            d = self._get(s, Deployment, deployment_id, "deployment")
            system = s.get(AISystem, s.get(SystemVersion, d.version_id).system_id)
            if action in {"submit", "withdraw"}:
                self._party(s, user, d)
            if action in {"review", "approve", "reject", "suspend"}:
                self._reviewer_check(s, user, d, system)
            if d.status not in starts:
                raise RuleViolation(f"deployment {d.id} is {d.status}: cannot {action} "
                                    f"(allowed from {', '.join(sorted(starts))})")
            if action == "approve":
                return self._approve(s, d, user, actor, reason)
            decision = Decision(deployment_id=d.id, version_id=d.version_id, action=action,
                                reviewers=[user.id], reason=reason, evidence={}, at=_now())
            s.add(decision)
            self._record(s, decision, f"decision.{action}", actor)
            before, d.status = d.status, target
            return self._record(s, d, f"workflow.{action}", actor,
                                {"from": before, "to": target, "reason": reason})

    @staticmethod
    def _reviewer_check(s: Session, user: User, d: Deployment, system: AISystem) -> None:
        """A reviewer deciding on a deployment is outside the developer, and of the deployer or
        of a regulator."""
        if user.organisation_id == system.developer_id:
            raise RuleViolation(f"separation of duties: {user.name!r} belongs to the "
                                f"developer of {system.name!r} and cannot review it")
        org = s.get(Organisation, user.organisation_id) if user.organisation_id else None
        if user.organisation_id != d.deployer_id and (org is None or org.kind != "regulator"):
            raise RuleViolation(f"{user.name!r} belongs neither to the deployer of deployment "
                                f"{d.id} nor to a regulator")

    def _approve(self, s: Session, d: Deployment, user: User, actor: Actor,
                 reason: str | None) -> dict[str, Any]:
        from haia.registry.gate import evaluate

        number, _ = self._active(s)
        outcome = evaluate(s, d, user, self._policy_row(s))
        if outcome.problems:
            raise RuleViolation(f"approval of deployment {d.id} refused: "
                                + "; ".join(outcome.problems))
        if outcome.needs_signoff:
            decision = Decision(deployment_id=d.id, version_id=d.version_id, action="signoff",
                                reviewers=[user.id], reason=reason, policy_version=number,
                                assessment_id=outcome.assessment_id, evidence=outcome.evidence,
                                at=_now())
            s.add(decision)
            data = self._record(s, decision, "decision.signoff", actor)
            return {**snapshot(d), "awaiting": "a second reviewer's approval",
                    "decision": data}
        decision = Decision(deployment_id=d.id, version_id=d.version_id, action="approve",
                            reviewers=outcome.reviewers, reason=reason, policy_version=number,
                            assessment_id=outcome.assessment_id, evidence=outcome.evidence,
                            at=_now())
        s.add(decision)
        data = self._record(s, decision, "decision.approve", actor)
        before, d.status = d.status, "approved"
        row = self._record(s, d, "workflow.approve", actor,
                           {"from": before, "to": "approved", "decision": decision.id})
        return {**row, "decision": data}

    def _active(self, s: Session) -> tuple[int, Policy]:
        row = self._policy_row(s)
        return row.version, Policy.from_dict(row.settings)

    def accept_risk(self, deployment_id: int, audit_id: int, finding: str, *, reason: str,
                    expires: date, actor: Actor) -> dict[str, Any]:
        """One reviewer's acceptance of a blocking finding for a deployment, with a reason and
        an expiry; the gate needs two reviewers' acceptances of the same finding."""
        if not (reason and reason.strip()):
            raise RuleViolation("a risk acceptance needs a reason")
        if expires <= _now().date():
            raise RuleViolation("a risk acceptance needs an expiry date in the future")
        with self._tx() as s:
            user = self._actor(s, actor, "accept_risk")
            d = self._get(s, Deployment, deployment_id, "deployment")
            system = s.get(AISystem, s.get(SystemVersion, d.version_id).system_id)
            self._reviewer_check(s, user, d, system)
            audit = self._get(s, Audit, audit_id, "audit")
            if audit.version_id != d.version_id:
                raise RuleViolation(f"audit {audit.id} is not of deployment {d.id}'s version")
            ids = {f["id"] for f in audit.findings.get("open", [])}
            if finding not in ids:
                raise RuleViolation(f"audit {audit.id} has no finding {finding!r}")
            row = RiskAcceptance(deployment_id=d.id, audit_id=audit.id, finding=finding,
                                 reason=reason.strip(), expires=expires, accepted_by=user.id,
                                 at=_now())
            s.add(row)
            return self._record(s, row, "risk.accepted", actor)

    def due(self) -> list[dict[str, Any]]:
        """Approved deployments whose approval relied on an audit now older than the active
        policy allows: their re-review is due."""
        with self._sessions() as s:
            return self._due(s)

    def _due(self, s: Session) -> list[dict[str, Any]]:
        _, policy = self._active(s)
        limit = _now() - timedelta(days=policy.max_audit_age_days)
        out = []
        for d in s.scalars(select(Deployment).where(Deployment.status == "approved")):
            last = s.scalars(select(Decision).where(
                Decision.deployment_id == d.id, Decision.action == "approve")
                .order_by(Decision.id.desc())).first()
            ids = list((last.evidence or {}).get("audits", {}).values()) if last else []
            stale = [a for a in (s.get(Audit, i) for i in ids) if a is not None and a.at < limit]
            if stale:
                out.append({"deployment": d.id, "audits": [a.id for a in stale],
                            "reason": f"audit(s) {', '.join(str(a.id) for a in stale)} older "
                                      f"than the policy's {policy.max_audit_age_days} days"})
        return out

    def reopen_due(self, *, actor: Actor) -> list[dict[str, Any]]:
        """Send every deployment whose re-review is due (:meth:`due`) back under review."""
        with self._tx() as s:
            self._actor(s, actor, "review")
            reopened = []
            for item in self._due(s):
                d = s.get(Deployment, item["deployment"])
                reopened.append(self._reopen(s, d, actor, item["reason"]))
            return reopened

    # -- incidents and feedback ----------------------------------------------------------------
    def report_incident(self, deployment_id: int, *, severity: str, description: str,
                        actor: Actor | None = None, category: str | None = None,
                        serious: bool = False) -> dict[str, Any]:
        """Anyone may report an incident. The description is de-identified before it is stored;
        an anonymous report is held until a reviewer moderates it. A published incident at or
        above the policy's severity, or a serious one, re-opens an approved deployment."""
        if severity not in {"low", "medium", "high", "critical"}:
            raise HaiaError("severity must be low, medium, high or critical")
        original = _text(description, "description")
        text = self._deidentify(original)
        held = HELD_PHI if text != original else None
        with self._tx() as s:
            d = self._get(s, Deployment, deployment_id, "deployment")
            if actor is None:
                if category not in PUBLIC_CATEGORIES:
                    raise HaiaError(f"an anonymous report names who reports: "
                                    f"--category {' | '.join(PUBLIC_CATEGORIES)}")
                row = Incident(deployment_id=d.id, reporter_id=None, severity=severity,
                               description=text, at=_now(), status="held",
                               serious=int(serious), reporter_category=category,
                               held_reason=held or HELD_ANONYMOUS)
                s.add(row)
                return self._record(s, row, "incident.reported", ANONYMOUS)
            user = self._actor(s, actor, "incident")
            row = Incident(deployment_id=d.id, reporter_id=user.id, severity=severity,
                           description=text, at=_now(), status="reported",
                           serious=int(serious), reporter_category=user.category or user.role,
                           held_reason=held)
            s.add(row)
            data = self._record(s, row, "incident.reported", actor)
            self._incident_trigger(s, d, row, actor)  # only its text waits, not the incident
            return data

    def _incident_trigger(self, s: Session, d: Deployment, incident: Incident,
                          actor: Actor) -> None:
        _, policy = self._active(s)
        if d.status == "approved" and (
                incident.serious or severity_rank(incident.severity)
                >= severity_rank(policy.reopen_severity)):
            self._reopen(s, d, actor, f"incident {incident.id} ({incident.severity}"
                         f"{', serious' if incident.serious else ''})")

    def update_incident(self, incident_id: int, *, actor: Actor, status: str | None = None,
                        serious: bool | None = None, root_cause: str | None = None,
                        corrective_action: str | None = None, notified_on: date | None = None,
                        authority: str | None = None) -> dict[str, Any]:
        """Move an incident along reported → triaged → investigating → resolved (with root
        cause and corrective action), flag it serious, or record its notification to the
        authority (date and authority)."""
        with self._tx() as s:
            user = self._actor(s, actor, "incident.update")
            incident = self._get(s, Incident, incident_id, "incident")
            d = s.get(Deployment, incident.deployment_id)
            self._party(s, user, d)
            if incident.status == "held":
                raise RuleViolation(f"incident {incident.id} awaits moderation")
            if status is not None:
                if status not in INCIDENT_FLOW:
                    raise HaiaError(f"unknown incident status {status!r} "
                                    f"(statuses: {', '.join(INCIDENT_FLOW)})")
                if incident.status not in INCIDENT_FLOW[status]:
                    raise RuleViolation(f"incident {incident.id} is {incident.status}: cannot "
                                        f"become {status}")
                if status == "resolved" and not (
                        (root_cause or incident.root_cause or "").strip()
                        and (corrective_action or incident.corrective_action or "").strip()):
                    raise RuleViolation("resolving an incident records its root cause and "
                                        "corrective action (--root-cause, --corrective-action)")
                incident.status = status
            if root_cause:
                incident.root_cause = root_cause.strip()
            if corrective_action:
                incident.corrective_action = corrective_action.strip()
            if serious is not None:
                incident.serious = int(serious)
            if notified_on is not None or authority is not None:
                if notified_on is None or not (authority and authority.strip()):
                    raise RuleViolation("a notification records both its date and the authority")
                incident.notified_on, incident.authority = notified_on, authority.strip()
            data = self._record(s, incident, "incident.updated", actor)
            if serious:
                self._incident_trigger(s, d, incident, actor)
            return data

    def add_feedback(self, system: str | int, *, stakeholder: str, text: str,
                     actor: Actor | None = None, audit: int | None = None,
                     finding: str | None = None) -> dict[str, Any]:
        """Stakeholder feedback on a system, one of its audits or one finding of that audit:
        open to everyone. It is de-identified before it is stored; anonymous feedback, and any
        text in which the de-identifier found personal data, is held for moderation. Anonymous
        feedback's category stays self-declared (unverified); a registered author's category
        must match their role (a stakeholder's: the category an admin verified)."""
        original = _text(text, "text")
        body = self._deidentify(original)
        held = HELD_PHI if body != original else None
        if finding is not None and audit is None:
            raise HaiaError("feedback on a finding names its audit")
        with self._tx() as s:
            sys_row = self._get(s, AISystem, system, "system")
            audit_row = self._feedback_target(s, sys_row, audit, finding)
            target = {"system_id": sys_row.id, "audit_id": audit_row.id if audit_row else None,
                      "finding": finding}
            if actor is None:
                if stakeholder not in PUBLIC_CATEGORIES:
                    raise HaiaError(f"stakeholder must be one of {', '.join(PUBLIC_CATEGORIES)}")
                row = Feedback(**target, author_id=None, stakeholder=stakeholder, text=body,
                               at=_now(), status="held", verified=0,
                               held_reason=held or HELD_ANONYMOUS)
                s.add(row)
                return self._record(s, row, "feedback.received", ANONYMOUS)
            user = self._actor(s, actor, "feedback")
            own = user.category if user.role == "stakeholder" else user.role
            if user.role == "public" and stakeholder not in PUBLIC_CATEGORIES:
                raise HaiaError(f"stakeholder must be one of {', '.join(PUBLIC_CATEGORIES)}")
            if user.role != "public" and stakeholder != own:
                raise RuleViolation(f"{user.name!r} is registered as {own}: their feedback "
                                    f"is recorded as {own}, not {stakeholder!r}")
            row = Feedback(**target, author_id=user.id,
                           stakeholder=_text(stakeholder, "stakeholder"), text=body, at=_now(),
                           status="held" if held else "published",
                           verified=int(user.role != "public"), held_reason=held)
            s.add(row)
            return self._record(s, row, "feedback.received", actor)

    def _feedback_target(self, s: Session, system: AISystem, audit: int | None,
                         finding: str | None) -> Audit | None:
        if audit is None:
            return None
        row = self._get(s, Audit, audit, "audit")
        if s.get(SystemVersion, row.version_id).system_id != system.id:
            raise RuleViolation(f"audit {row.id} is not an audit of {system.name!r}")
        if finding is not None and finding not in {
                f.get("id") for f in (row.findings or {}).get("open", [])}:
            raise RuleViolation(f"audit {row.id} has no finding {finding!r}")
        return row

    def reply_feedback(self, feedback_id: int, *, text: str, actor: Actor) -> dict[str, Any]:
        """The system's developer answers a published feedback (one answer; a new one
        replaces it, both ledgered). The answer is de-identified like the feedback."""
        body = self._deidentify(_text(text, "reply"))
        with self._tx() as s:
            user = self._actor(s, actor, "feedback.reply")
            row = self._get(s, Feedback, feedback_id, "feedback")
            self._developer_check(user, s.get(AISystem, row.system_id))
            if row.status != "published":
                raise RuleViolation(f"feedback {row.id} is {row.status}: only published "
                                    "feedback is answered")
            row.reply, row.replied_by = body, user.id
            return self._record(s, row, "feedback.replied", actor)

    def moderate(self, table: str, ident: int, *, publish: bool, actor: Actor,
                 reason: str | None = None, text: str | None = None) -> dict[str, Any]:
        """Publish or dismiss a held incident or feedback (reviewer, not of the system's
        developer: it does not judge what is said about its own system). A published anonymous
        incident triggers re-review like any other. A registered reporter's incident whose
        text was held stays an incident either way: dismissing keeps only its text private.
        ``text``: the moderator's edit, published instead (to remove what the de-identifier
        missed; it is de-identified again)."""
        edited = self._deidentify(_text(text, "text")) if text is not None else None
        with self._tx() as s:
            user = self._actor(s, actor, "moderate")
            model = Incident if table.startswith("incident") else Feedback
            row = self._get(s, model, ident, table)
            system_id = row.system_id if model is Feedback else s.get(
                SystemVersion, s.get(Deployment, row.deployment_id).version_id).system_id
            if user.organisation_id is not None \
                    and user.organisation_id == s.get(AISystem, system_id).developer_id:
                raise RuleViolation(f"{user.name!r} belongs to the system's developer: what "
                                    "is said about its own system is moderated by others")
            if not awaits_moderation(row):
                raise RuleViolation(f"{subject_of(row)} is not held for moderation")
            text_only = row.status != "held"  # a registered reporter's incident: its text
            if not publish and not (reason and reason.strip()):
                raise RuleViolation("dismissing a report needs a reason")
            if text_only:
                row.held_reason = None if publish else f"{WITHHELD}: {reason.strip()}"[:200]
            elif model is Incident:
                row.status = "reported" if publish else "dismissed"
            else:
                row.status = "published" if publish else "rejected"
            if publish:
                row.held_reason = None
            if publish and edited is not None:
                if model is Incident:
                    row.description = edited
                else:
                    row.text = edited
            data = self._record(s, row, "moderation." + ("published" if publish else "dismissed"),
                                actor, {"reason": reason})
            if model is Incident and publish and not text_only:
                self._incident_trigger(s, s.get(Deployment, row.deployment_id), row, actor)
            return data

    # -- reading -------------------------------------------------------------------------------
    def list(self, table: str, *, public: bool = False) -> list[dict[str, Any]]:
        """Rows of ``table``; held incidents and feedback are left out unless ``public`` is
        False (moderators)."""
        model = _model(table)
        with self._sessions() as s:
            rows = [snapshot(r) for r in s.scalars(select(model).order_by(model.id))]  # type: ignore[attr-defined]
        if public and model is Feedback:
            rows = [r for r in rows if is_public(r)]
        if public and model is Incident:
            rows = [v for r in rows if (v := public_incident(r)) is not None]
        return rows

    def show(self, table: str, ident: str | int) -> dict[str, Any]:
        model = _model(table)
        with self._sessions() as s:
            row = self._get(s, model, ident, table.rstrip("s"))
            data = snapshot(row)
            data["history"] = []
            for e in s.scalars(select(LedgerRow).where(
                    LedgerRow.subject == subject_of(row)).order_by(LedgerRow.seq)):
                payload = json.loads(e.payload)
                note = payload.get("reason") or payload.get("note")
                data["history"].append({"seq": e.seq, "kind": e.kind, "actor": e.actor,
                                        "at": e.at, **({"reason": note} if note else {})})
            return data

    def events(self) -> list[ledger.Event]:
        with self._sessions() as s:
            return [_event(r) for r in s.scalars(select(LedgerRow).order_by(LedgerRow.seq))]

    def signed_events(self) -> list[tuple[ledger.Event, str | None, str | None]]:
        """Every event with its signature and key fingerprint."""
        with self._sessions() as s:
            return [(_event(r), r.signature, r.key_fingerprint)
                    for r in s.scalars(select(LedgerRow).order_by(LedgerRow.seq))]

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

    def check_checkpoint(self) -> tuple[list[str], str | None]:
        """(problems, note): does the ledger still extend the head this machine last saw?"""
        return witness.check(self.url, {e.seq: (e.hash, sig is not None)
                                        for e, sig, _ in self.signed_events()})

    def proof(self, seq: int) -> dict[str, Any]:
        """An inclusion proof of event ``seq`` in the current ledger."""
        events = self.events()
        if not any(e.seq == seq for e in events):
            raise NotFound(f"no ledger event {seq}")
        return ledger.inclusion_proof(events, seq)

    def audit_by_hash(self, digest: str) -> dict[str, Any] | None:
        """The recorded audit one of whose report files has SHA-256 ``digest``, with the
        auditor's registered key (how a moved report verifies)."""
        with self._sessions() as s:
            for audit in s.scalars(select(Audit).order_by(Audit.id)):
                files = (audit.evidence or {}).get("files", {})
                if digest in files.values() or digest == audit.report_sha256:
                    auditor = s.get(User, audit.auditor_id)
                    return {"audit": snapshot(audit), "auditor": auditor.name,
                            "public_key": auditor.public_key,
                            "fingerprint": auditor.key_fingerprint}
        return None

    def audit_standing(self, audit_id: int) -> dict[str, Any]:
        """A recorded audit's standing: its report files and signatures checked where they were
        recorded (``problems``), and the inclusion proof of its ``audit.recorded`` event in the
        current ledger, checked against the ledger's root."""
        with self._sessions() as s:
            audit = self._get(s, Audit, audit_id, "audit")
            auditor = s.get(User, audit.auditor_id)
            problems = _check_report(audit, auditor)
            row = s.scalars(select(LedgerRow).where(
                LedgerRow.subject == subject_of(audit), LedgerRow.kind == "audit.recorded")
                .order_by(LedgerRow.seq)).first()
            data = {"audit": snapshot(audit), "auditor": auditor.name if auditor else None,
                    "auditor_fingerprint": auditor.key_fingerprint if auditor else None,
                    "problems": problems, "signed_by_auditor": bool(
                        row and row.signature and auditor and auditor.public_key
                        and verify_signature(auditor.public_key, row.hash, row.signature))}
            event = _event(row) if row else None
        if event is None:
            return {**data, "proof": None, "proof_valid": False}
        proof = self.proof(event.seq)
        return {**data, "proof": proof, "proof_valid": ledger.verify_proof(proof, event)}

    # -- verification --------------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Every problem found: a broken chain, an event not signed by its actor's registered
        key, registry rows that differ from what the ledger recorded (edited, deleted or
        inserted outside haia), audited reports found in place that changed."""
        problems: list[str] = []
        with self._sessions() as s:
            rows = list(s.scalars(select(LedgerRow).order_by(LedgerRow.seq)))
            events = []
            signed: list[tuple[ledger.Event, str | None]] = []
            for r in rows:
                try:
                    events.append(_event(r))
                    signed.append((events[-1], r.signature))
                except ValueError as exc:
                    problems.append(f"ledger event {r.seq}: payload is not valid JSON ({exc})")
            problems += _moved(events)
            problems += ledger.verify_chain(events)
            problems += verify_event_signatures(signed)
            recorded: dict[str, dict[str, Any]] = {}
            for e in events:
                if "row" in e.payload:
                    recorded[e.subject] = e.payload["row"]
            current: dict[str, dict[str, Any]] = {}
            unreadable: set[str] = set()
            for table, model in TABLES.items():
                try:
                    for row in s.scalars(select(model)):
                        current[f"{table}/{row.id}"] = snapshot(row)  # type: ignore[attr-defined]
                except (ValueError, TypeError) as exc:  # e.g. a date that is not a date
                    problems.append(f"{table}: a row holds a value its column cannot hold "
                                    f"({str(exc)[:200]})")
                    unreadable.add(table)
            for subject, data in sorted(current.items()):
                if subject not in recorded:
                    problems.append(f"{subject}: row not in the ledger (inserted outside haia)")
                    continue
                changed = changed_fields(recorded[subject], data)
                if changed:
                    problems.append(f"{subject}: field(s) {', '.join(changed)} changed outside "
                                    "haia (the ledger recorded other values)")
            for subject in sorted(set(recorded) - set(current)):
                if subject.split("/")[0] in unreadable:
                    continue
                problems.append(f"{subject}: row deleted (the ledger records it)")
            for audit in s.scalars(select(Audit)):
                problems += _check_report(audit, s.get(User, audit.auditor_id))
        return problems


UNSIGNED_KINDS = {"incident.reported": "incidents/", "feedback.received": "feedback/"}
"""The only events anyone may write unsigned (anonymous reports), and the table each creates."""


def verify_event_signatures(signed: list[tuple[ledger.Event, str | None]]) -> list[str]:
    """Problems with the events' signatures: each must be by its actor's key as registered in
    the ledger at that point. Unsigned are only: the events of a registry written before
    signing existed (schema 0001) up to its migration, the migration's own events (which may
    only fill columns a migration added), and anonymous reports creating a new row."""
    problems: list[str] = []
    keys: dict[str, str] = {}
    first_signed = next((e.seq for e, sig in signed if sig), None)
    migrations = [e.seq for e, _ in signed if e.actor == MIGRATION]
    legacy_end = migrations[0] if migrations else 0
    legacy_ok = bool(legacy_end) and (first_signed is None or first_signed > legacy_end)
    rows: dict[str, dict[str, Any]] = {}
    for e, signature in signed:
        row = e.payload.get("row") if isinstance(e.payload, dict) else None
        user_row = isinstance(row, dict) and e.subject.startswith("users/")
        if user_row and e.kind == "user.created" and e.seq == ledger.FIRST_SEQ \
                and row.get("public_key"):
            keys[row["name"]] = row["public_key"]  # the first admin signs with their own key
        if e.actor == MIGRATION:
            problems += _migration_problems(e, rows, before_signing=first_signed is None
                                            or e.seq < first_signed)
        elif legacy_ok and e.seq < legacy_end:
            pass
        elif e.actor == ANONYMOUS and signature is None and e.kind in UNSIGNED_KINDS:
            if not e.subject.startswith(UNSIGNED_KINDS[e.kind]) or e.subject in rows:
                problems.append(f"event {e.seq} ({e.kind}) by {e.actor!r} is unsigned but does "
                                f"not create a new {UNSIGNED_KINDS[e.kind].rstrip('/')} row "
                                f"({e.subject}): only a new anonymous report may be unsigned")
        elif signature is None:
            problems.append(f"event {e.seq} ({e.kind}) by {e.actor!r} is not signed")
        elif e.kind == "user.key_registered" and user_row and row.get("name") == e.actor \
                and e.actor not in keys and verify_signature(row["public_key"], e.hash,
                                                             signature):
            pass  # a migrated user's claim of their first key, signed with it
        elif e.actor not in keys:
            problems.append(f"event {e.seq} ({e.kind}): {e.actor!r} had no registered key")
        elif not verify_signature(keys[e.actor], e.hash, signature):
            problems.append(f"event {e.seq} ({e.kind}): signature is not by the key "
                            f"registered for {e.actor!r}")
        if user_row and row.get("public_key"):
            keys[row["name"]] = row["public_key"]
        if isinstance(row, dict):
            rows[e.subject] = row
    return problems


def _migration_problems(e: ledger.Event, rows: dict[str, dict[str, Any]], *,
                        before_signing: bool) -> list[str]:
    """A migration's unsigned event after signed events may only fill columns the migration
    added (or set the first policy); anything else is a forgery under the migration's name."""
    if before_signing:
        return []
    row = e.payload.get("row") if isinstance(e.payload, dict) else None
    if not isinstance(row, dict):
        return [f"event {e.seq} ({e.kind}) by {e.actor!r} carries no row"]
    if e.kind == "policy.activated":
        if any(s.startswith("policies/") for s in rows):
            return [f"event {e.seq} ({e.kind}) by {e.actor!r}: a migration only sets the first "
                    "policy, and a policy already exists"]
        return []
    previous = rows.get(e.subject)
    if e.kind != "registry.migrated" or previous is None:
        return [f"event {e.seq} ({e.kind}) by {e.actor!r} on {e.subject}: not something a "
                "schema migration writes"]
    changed = sorted(k for k in previous if k in row and row[k] != previous[k])
    if changed:
        return [f"event {e.seq} ({e.kind}) by {e.actor!r} changes existing field(s) "
                f"{', '.join(changed)} of {e.subject}: a migration only fills new columns"]
    return []


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


def _check_report(audit: Audit, auditor: User | None) -> list[str]:
    """An audit's report folder where it was recorded, if it is still there: every recorded
    file and signature (a moved folder is checked wherever it is with ``haia verify --report``)."""
    if not audit.report_path:
        return []
    path = Path(audit.report_path)
    if not path.exists():
        return []  # moved or handed over: verified by hash where it is given
    if audit.evidence:
        from haia.registry.report_check import check_recorded_folder

        recorded = {"audit": snapshot(audit), "auditor": auditor.name if auditor else "?",
                    "public_key": auditor.public_key if auditor else None}
        folder = path if path.is_dir() else path.parent
        return [f"audits/{audit.id}: {p}" for p in check_recorded_folder(folder, recorded)]
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
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(payload, dict):
        raise ValueError(f"payload is a JSON {type(payload).__name__}, not an object")
    return ledger.Event(row.seq, row.kind, row.subject, row.actor, row.at, payload,
                        row.prev_hash, row.hash)


def _model(table: str) -> type[Base]:
    aliases = {"system": "systems", "organisation": "organisations",
               "org": "organisations", "orgs": "organisations", "user": "users",
               "version": "versions", "deployment": "deployments", "audit": "audits",
               "assessment": "assessments", "incident": "incidents", "policy": "policies",
               "decision": "decisions", "acceptances": "risk_acceptances",
               "risk-acceptances": "risk_acceptances"}
    name = aliases.get(table, table)
    if name not in TABLES:
        raise HaiaError(f"unknown registry table {table!r} (tables: {', '.join(TABLES)})")
    return TABLES[name]


def awaits_moderation(row: Any) -> bool:
    """Does this incident or feedback (a row or a snapshot) wait for a moderator: held, or a
    registered reporter's incident whose text the de-identifier flagged and no moderator has
    withheld yet?"""
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    reason = get("held_reason")
    status = get("status")
    return status == "held" or (status not in {"dismissed", "rejected"} and bool(
        reason and not reason.startswith(WITHHELD)))


def is_public(row: dict[str, Any]) -> bool:
    """May this incident or feedback (a snapshot) be shown to the public, text included?"""
    return row.get("status") not in {"held", "dismissed", "rejected"} and not row.get(
        "held_reason")


PRIVATE_TEXT = "the reporter's text is not public (a moderator holds or withheld it)"


def public_incident(row: dict[str, Any]) -> dict[str, Any] | None:
    """An incident (a snapshot) as the public sees it: None while it is held or once dismissed;
    a registered reporter's incident counts at once, its text replaced while it is held for
    moderation or after a moderator withheld it."""
    if row.get("status") in {"held", "dismissed"}:
        return None
    return {**row, "description": PRIVATE_TEXT} if row.get("held_reason") else row


def changed_fields(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The fields in which a row differs from its ledgered snapshot, sorted; a column added
    since and still empty does not count."""
    return sorted(k for k in set(current) | set(recorded) if current.get(k) != recorded.get(k))


def _text(value: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HaiaError(f"{label} must not be empty")
    return value.strip()


def _integrity(exc: IntegrityError) -> str:
    text = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    if "unique" in text.lower() or "duplicate" in text.lower():
        return f"a record with that name already exists ({text})"
    return text
