"""The REST API under ``/api/v1`` (its OpenAPI document: ``/api/v1/openapi.json``).

Authentication: ``POST /api/v1/tokens`` with a name and password returns an API token; send it
as ``Authorization: Bearer <token>``. Reading the register, systems and audits, and sending
feedback or an incident report, needs no token (anonymous reports are held for moderation).
Every route checks the caller's role here, and the registry checks the finer rules (who belongs
to which organisation, separation of duties, the approval gate) again, ledgering each change.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from haia.assessment.score import questionnaire
from haia.portal import drafts, views
from haia.portal.accounts import API_TTL, MIN_PASSWORD, Account
from haia.portal.deps import api_account, bearer, get_accounts, get_registry, require
from haia.registry.models import ORGANISATION_KINDS, ROLES
from haia.registry.service import PUBLIC_CATEGORIES, TRANSITIONS, awaits_moderation

router = APIRouter(prefix="/api/v1")

Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Reason = Annotated[str | None, Field(default=None, max_length=2_000)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Category = Literal[PUBLIC_CATEGORIES]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Body):
    name: Name
    password: Annotated[str, Field(min_length=1, max_length=256)]
    label: Annotated[str, Field(max_length=100)] = "api"


class TokenOut(BaseModel):
    token: str
    expires_in_days: int


class PasswordChange(Body):
    current: Annotated[str, Field(max_length=256)]
    new: Annotated[str, Field(min_length=MIN_PASSWORD, max_length=256)]


class OrganisationIn(Body):
    name: Name
    kind: Literal[ORGANISATION_KINDS]  # type: ignore[valid-type]
    country: Annotated[str | None, Field(max_length=80)] = None


class AccountIn(Body):
    name: Name
    role: Literal[ROLES]  # type: ignore[valid-type]
    password: Annotated[str, Field(min_length=MIN_PASSWORD, max_length=256)]
    organisation: Annotated[str | None, Field(max_length=200)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    category: Category | None = None


class SystemIn(Body):
    name: Name
    intended_use: Text
    clinical_setting: Name
    intended_users: Name
    modalities: Annotated[list[Literal["text", "image", "audio", "video", "tabular"]],
                          Field(max_length=5)] = ["text"]
    model_provider: Annotated[str | None, Field(max_length=200)] = None


class VersionIn(Body):
    version: Annotated[str, Field(min_length=1, max_length=80)]
    model_id: Annotated[str, Field(min_length=1, max_length=300)]
    weights_or_api_version: Annotated[str | None, Field(max_length=300)] = None
    documentation: Annotated[str | None, Field(max_length=10_000)] = None


class DeploymentIn(Body):
    site: Name
    deployer: Annotated[str | None, Field(max_length=200)] = None
    start_date: date | None = None
    users_per_month: Annotated[int, Field(ge=0, le=10**10)] = 0
    queries_per_month: Annotated[int, Field(ge=0, le=10**12)] = 0
    setting: Annotated[str | None, Field(max_length=200)] = None
    intended_users: Annotated[str | None, Field(max_length=200)] = None


class TransitionIn(Body):
    action: Literal[tuple(TRANSITIONS)]  # type: ignore[valid-type]
    reason: Reason = None


class Answers(Body):
    answers: Annotated[dict[Annotated[str, Field(max_length=100)],
                            Annotated[str, Field(max_length=100)]], Field(max_length=200)]


class ReviewIn(Body):
    accept: bool
    reason: Reason = None


class FeedbackIn(Body):
    stakeholder: Annotated[str, Field(min_length=1, max_length=40)]
    text: Text
    audit_id: Id | None = None
    finding: Annotated[str | None, Field(max_length=200)] = None


class IncidentIn(Body):
    severity: Literal["low", "medium", "high", "critical"]
    description: Text
    category: Category | None = None
    serious: bool = False


class ModerationIn(Body):
    publish: bool
    reason: Reason = None
    text: Annotated[str | None, Field(min_length=1, max_length=10_000)] = None


class ReplyIn(Body):
    text: Text


Signed = Annotated[Account, Depends(require())]
Reg = Annotated[Any, Depends(get_registry)]


def _public_user(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.get(k) for k in ("id", "name", "role", "organisation_id", "category",
                                     "key_fingerprint")}


# -- meta and authentication ---------------------------------------------------------------------
@router.get("/health", tags=["meta"])
def health() -> dict[str, str]:
    """Liveness: the service answers."""
    return {"status": "ok"}


@router.post("/tokens", tags=["auth"], status_code=201, response_model=TokenOut)
def log_in(body: Login, request: Request) -> dict[str, Any]:
    """Exchange a name and password for an API token (returned once; kept hashed). Failed
    attempts are rate-limited per name and per address."""
    client = request.client.host if request.client else "?"
    token = get_accounts(request).login(body.name, body.password, client=client, kind="api",
                                        label=body.label)
    return {"token": token, "expires_in_days": API_TTL.days}


@router.get("/tokens", tags=["auth"])
def list_tokens(account: Signed, request: Request) -> list[dict[str, Any]]:
    """Your API tokens (label and dates; tokens are not kept, only their hashes)."""
    return get_accounts(request).tokens(account)


@router.delete("/tokens/current", tags=["auth"], status_code=204)
def log_out(account: Signed, request: Request) -> Response:
    """Revoke the token of this request."""
    get_accounts(request).logout(bearer(request) or "")
    return Response(status_code=204)


@router.delete("/tokens/{token_id}", tags=["auth"], status_code=204)
def revoke_token(token_id: Id, account: Signed, request: Request) -> Response:
    get_accounts(request).revoke(account, token_id)
    return Response(status_code=204)


@router.get("/me", tags=["auth"])
def me(account: Signed) -> dict[str, Any]:
    return account.public()


@router.post("/me/password", tags=["auth"], status_code=204)
def change_password(body: PasswordChange, account: Signed, request: Request) -> Response:
    """Change your password; every other session and token of yours ends."""
    get_accounts(request).change_password(account, body.current, body.new)
    return Response(status_code=204)


# -- administration ------------------------------------------------------------------------------
@router.post("/organisations", tags=["admin"], status_code=201)
def add_organisation(body: OrganisationIn, registry: Reg,
                     account: Annotated[Account, Depends(require("admin"))]) -> dict[str, Any]:
    return registry.add_organisation(body.name, kind=body.kind, country=body.country,
                                     actor=account.actor)


@router.post("/accounts", tags=["admin"], status_code=201)
def add_account(body: AccountIn, request: Request,
                account: Annotated[Account, Depends(require("admin"))]) -> dict[str, Any]:
    """Register a user with a fresh signing key and a portal log-in (admin)."""
    data = get_accounts(request).create(account.actor, body.name, body.role, body.password,
                                        organisation=body.organisation, email=body.email,
                                        category=body.category)
    return _public_user(data)


@router.get("/accounts", tags=["admin"])
def list_accounts(registry: Reg, account: Annotated[Account, Depends(require("admin"))]
                  ) -> list[dict[str, Any]]:
    return [_public_user(u) for u in registry.list("users")]


# -- the public register -------------------------------------------------------------------------
@router.get("/register", tags=["register"])
def register(registry: Reg, q: Annotated[str | None, Query(max_length=200)] = None,
             status: Annotated[str | None, Query(max_length=20)] = None,
             tier: Literal["I", "II", "III", "IV"] | None = None) -> list[dict[str, Any]]:
    """Every AI system in the register with its deployments, risk tier, latest audit and its
    per-principle verdicts, open incidents and published feedback."""
    return views.register(registry, q=q, status=status, tier=tier)


@router.get("/register.csv", tags=["register"], response_class=Response)
def register_csv(registry: Reg, q: Annotated[str | None, Query(max_length=200)] = None,
                 status: Annotated[str | None, Query(max_length=20)] = None,
                 tier: Literal["I", "II", "III", "IV"] | None = None) -> Response:
    """The register as CSV, one row per system."""
    rows = views.feed_rows(views.register(registry, q=q, status=status, tier=tier))
    return Response(views.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="register.csv"'})


@router.get("/systems/{system_id}", tags=["register"])
def get_system(system_id: Id, registry: Reg) -> dict[str, Any]:
    return views.system(registry, system_id)


@router.get("/audits/{audit_id}", tags=["register"])
def get_audit(audit_id: Id, registry: Reg) -> dict[str, Any]:
    """An audit: findings, per-principle verdicts, signature status and its ledger proof."""
    return views.audit(registry, audit_id)


@router.get("/ledger/root", tags=["register"])
def ledger_root(registry: Reg) -> dict[str, Any]:
    """The ledger's size and Merkle root (publish it; a later rewrite no longer matches)."""
    size, root = registry.root()
    return {"size": size, "root": root}


@router.get("/ledger/{seq}/proof", tags=["register"])
def ledger_proof(seq: Id, registry: Reg) -> dict[str, Any]:
    return registry.proof(seq)


@router.get("/questionnaire", tags=["assessments"])
def get_questionnaire() -> dict[str, Any]:
    """The impact-assessment questionnaire, as data."""
    return questionnaire()


# -- systems, versions, deployments --------------------------------------------------------------
@router.post("/systems", tags=["systems"], status_code=201)
def add_system(body: SystemIn, registry: Reg,
               account: Annotated[Account, Depends(require("developer"))]) -> dict[str, Any]:
    """Register an AI system of your organisation (developer)."""
    return registry.add_system(body.name, developer=account.organisation_id or 0,
                               intended_use=body.intended_use,
                               clinical_setting=body.clinical_setting,
                               intended_users=body.intended_users,
                               modalities=list(body.modalities),
                               model_provider=body.model_provider, actor=account.actor)


@router.post("/systems/{system_id}/versions", tags=["systems"], status_code=201)
def add_version(system_id: Id, body: VersionIn, registry: Reg,
                account: Annotated[Account, Depends(require("developer"))]) -> dict[str, Any]:
    return registry.add_version(system_id, body.version, model_id=body.model_id,
                                weights_or_api_version=body.weights_or_api_version,
                                documentation=body.documentation, actor=account.actor)


@router.post("/versions/{version_id}/deployments", tags=["systems"], status_code=201)
def add_deployment(version_id: Id, body: DeploymentIn, registry: Reg,
                   account: Annotated[Account, Depends(require("developer", "reviewer"))]
                   ) -> dict[str, Any]:
    return registry.add_deployment(version_id, body.site, deployer=body.deployer,
                                   start_date=body.start_date,
                                   users_per_month=body.users_per_month,
                                   queries_per_month=body.queries_per_month,
                                   setting=body.setting, intended_users=body.intended_users,
                                   actor=account.actor)


@router.post("/deployments/{deployment_id}/transitions", tags=["workflow"])
def transition(deployment_id: Id, body: TransitionIn, registry: Reg,
               account: Annotated[Account, Depends(require("developer", "reviewer"))]
               ) -> dict[str, Any]:
    """Submit, review, approve (runs the approval gate), reject, suspend or withdraw."""
    return registry.transition(deployment_id, body.action, reason=body.reason,
                               actor=account.actor)


# -- impact assessments --------------------------------------------------------------------------
Assessor = Annotated[Account, Depends(require("developer", "reviewer"))]


@router.get("/deployments/{deployment_id}/draft", tags=["assessments"])
def get_draft(deployment_id: Id, registry: Reg, account: Assessor) -> dict[str, Any]:
    """Your saved draft of this deployment's assessment, with the tier it gives so far."""
    return drafts.load(registry, account, deployment_id)


@router.put("/deployments/{deployment_id}/draft", tags=["assessments"])
def save_draft(deployment_id: Id, body: Answers, registry: Reg,
               account: Assessor) -> dict[str, Any]:
    return drafts.save(registry, account, deployment_id, body.answers)


@router.post("/deployments/{deployment_id}/assessments", tags=["assessments"],
             status_code=201)
def add_assessment(deployment_id: Id, body: Answers, registry: Reg,
                   account: Assessor) -> dict[str, Any]:
    """Record a new version of the deployment's impact assessment (its deployer)."""
    data = registry.add_assessment(deployment_id, drafts.clean_answers(body.answers),
                                   actor=account.actor)
    drafts.discard(registry, account, deployment_id)
    return data


@router.post("/assessments/{assessment_id}/review", tags=["assessments"])
def review_assessment(assessment_id: Id, body: ReviewIn, registry: Reg,
                      account: Annotated[Account, Depends(require("reviewer"))]
                      ) -> dict[str, Any]:
    return registry.review_assessment(assessment_id, accept=body.accept, reason=body.reason,
                                      actor=account.actor)


# -- feedback and incidents ----------------------------------------------------------------------
def _published(data: dict[str, Any], kind: str) -> dict[str, Any]:
    """What the sender of a report sees back: its id and whether it awaits moderation."""
    held = awaits_moderation(data)
    return {"id": data["id"], "status": data["status"], "held": held,
            "held_reason": data.get("held_reason"),
            kind: None if held else data.get("text", data.get("description"))}


@router.post("/systems/{system_id}/feedback", tags=["engagement"], status_code=201)
def add_feedback(system_id: Id, body: FeedbackIn, registry: Reg,
                 account: Annotated[Account | None, Depends(api_account)]) -> dict[str, Any]:
    """Comment on a system, one of its audits or one finding (anyone; anonymous feedback and
    any text in which personal data was found wait for moderation)."""
    data = registry.add_feedback(system_id, stakeholder=body.stakeholder, text=body.text,
                                 audit=body.audit_id, finding=body.finding,
                                 actor=account.actor if account else None)
    return _published(data, "text")


@router.post("/deployments/{deployment_id}/incidents", tags=["engagement"], status_code=201)
def report_incident(deployment_id: Id, body: IncidentIn, registry: Reg,
                    account: Annotated[Account | None, Depends(api_account)]) -> dict[str, Any]:
    """Report an incident (anyone; an anonymous report names who reports and is held)."""
    data = registry.report_incident(deployment_id, severity=body.severity,
                                    description=body.description, category=body.category,
                                    serious=body.serious,
                                    actor=account.actor if account else None)
    return _published(data, "description")


@router.post("/feedback/{feedback_id}/reply", tags=["engagement"])
def reply(feedback_id: Id, body: ReplyIn, registry: Reg,
          account: Annotated[Account, Depends(require("developer"))]) -> dict[str, Any]:
    """The system's developer answers a published feedback."""
    return registry.reply_feedback(feedback_id, text=body.text, actor=account.actor)


Reviewer = Annotated[Account, Depends(require("reviewer"))]


@router.post("/feedback/{feedback_id}/moderation", tags=["moderation"])
def moderate_feedback(feedback_id: Id, body: ModerationIn, registry: Reg,
                      account: Reviewer) -> dict[str, Any]:
    """Publish (optionally an edited text, to remove what the de-identifier missed) or reject
    a held feedback, with a reason."""
    return registry.moderate("feedback", feedback_id, publish=body.publish, reason=body.reason,
                             text=body.text, actor=account.actor)


@router.post("/incidents/{incident_id}/moderation", tags=["moderation"])
def moderate_incident(incident_id: Id, body: ModerationIn, registry: Reg,
                      account: Reviewer) -> dict[str, Any]:
    return registry.moderate("incidents", incident_id, publish=body.publish,
                             reason=body.reason, text=body.text, actor=account.actor)


@router.get("/dashboard", tags=["dashboard"])
def dashboard(registry: Reg, account: Signed) -> dict[str, Any]:
    """What awaits you: reviews, assessments, moderation, audits due, feedback to answer."""
    return views.dashboard(registry, account)
