"""Server-rendered pages (Jinja2, no JavaScript): the public register, systems, audits, the
impact-assessment form, feedback, incidents, the dashboards, log-in and accounts.

Forms post back here with a CSRF token, then redirect (post/redirect/get) with a message code
from :data:`MESSAGES`, so no text a user typed is ever reflected into a page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from haia.assessment.score import questionnaire
from haia.errors import HaiaError
from haia.portal import drafts, views
from haia.portal.accounts import Account
from haia.portal.app_paths import TEMPLATES
from haia.portal.deps import (
    SESSION_COOKIE,
    check_csrf,
    csrf_token,
    get_accounts,
    get_registry,
    page_account,
    require_page,
    status_of,
)
from haia.registry.errors import NotFound
from haia.registry.models import ROLES
from haia.registry.service import PUBLIC_CATEGORIES, TRANSITIONS, awaits_moderation

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES)

MESSAGES = {
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "feedback-published": "Thank you: your feedback is published.",
    "feedback-held": "Thank you: your feedback waits for a moderator before it is published.",
    "incident-reported": "The incident is reported.",
    "incident-held": "The incident report waits for a moderator before it is published.",
    "moderated": "Moderation recorded.",
    "replied": "Your answer is published.",
    "draft-saved": "Draft saved.",
    "assessment-submitted": "The assessment is recorded; a reviewer must accept it.",
    "reviewed": "Review recorded.",
    "system-added": "System registered.",
    "version-added": "Version registered.",
    "deployment-added": "Deployment registered.",
    "moved": "Workflow step recorded.",
    "account-added": "Account created.",
    "organisation-added": "Organisation created.",
}
Csrf = Annotated[str, Form(alias="csrf_token", max_length=128)]
PageId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]  # a row id in a page's URL
ShortText = Annotated[str, Form(max_length=200)]
LongText = Annotated[str, Form(max_length=10_000)]


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    """A page with what every page needs: the account, the CSRF token, the message."""
    try:
        account = page_account(request)
    except Exception:  # the error page itself must render whatever broke
        account = None
    code = request.query_params.get("msg")
    return templates.TemplateResponse(request, name, {
        "account": account, "csrf": csrf_token(request), "message": MESSAGES.get(code or ""),
        "categories": PUBLIC_CATEGORIES, **(context or {})}, status_code=status_code)


def back(path: str, msg: str, **params: Any) -> RedirectResponse:
    query = urlencode({**{k: v for k, v in params.items() if v is not None}, "msg": msg})
    return RedirectResponse(f"{path}?{query}", status_code=303)


Page = Annotated[Account, Depends(require_page())]


# -- public pages --------------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def register_page(request: Request, q: Annotated[str | None, Query(max_length=200)] = None,
                  status: Annotated[str | None, Query(max_length=20)] = None,
                  tier: Annotated[str | None, Query(max_length=4)] = None) -> HTMLResponse:
    tier = tier if tier in {"I", "II", "III", "IV"} else None
    status = status or None
    cards = views.register(get_registry(request), q=q, status=status, tier=tier)
    feed = urlencode({k: v for k, v in {"q": q, "status": status, "tier": tier}.items() if v})
    return render(request, "register.html", {
        "cards": cards, "q": q or "", "status": status or "", "tier": tier or "",
        "statuses": ("draft", "submitted", "under_review", "approved", "rejected", "suspended",
                     "withdrawn"), "feed": feed})


@router.get("/systems/{system_id}", response_class=HTMLResponse)
def system_page(request: Request, system_id: PageId) -> HTMLResponse:
    card = views.system(get_registry(request), system_id)
    return render(request, "system.html", {"s": card, "actions": TRANSITIONS})


@router.get("/audits/{audit_id}", response_class=HTMLResponse)
def audit_page(request: Request, audit_id: PageId) -> HTMLResponse:
    data = views.audit(get_registry(request), audit_id)
    has_report = views.report_file(get_registry(request), audit_id) is not None
    return render(request, "audit.html", {"a": data, "has_report": has_report})


@router.get("/audits/{audit_id}/report")
def audit_report(request: Request, audit_id: PageId) -> Response:
    """The audit's HTML report as recorded (only if unchanged), sandboxed: no script runs."""
    path = views.report_file(get_registry(request), audit_id)
    if path is None:
        raise NotFound(f"audit {audit_id}'s HTML report is not available unchanged on this "
                       "server")
    response = FileResponse(path, media_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'")
    return response


# -- feedback and incidents (anyone) ------------------------------------------------------------
@router.post("/systems/{system_id}/feedback")
def feedback_post(request: Request, system_id: PageId, csrf: Csrf, text: LongText,
                  stakeholder: Annotated[str, Form(max_length=40)] = "",
                  audit_id: Annotated[str, Form(max_length=12)] = "",
                  finding: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    account = page_account(request)
    if account is not None and account.role != "public":
        stakeholder = account.category or account.role
    audit = int(audit_id) if audit_id.isascii() and audit_id.isdigit() else None
    data = get_registry(request).add_feedback(
        system_id, stakeholder=stakeholder, text=text, audit=audit, finding=finding or None,
        actor=account.actor if account else None)
    path = f"/audits/{audit}" if audit else f"/systems/{system_id}"
    return back(path, "feedback-held" if data["status"] == "held" else "feedback-published")


@router.post("/systems/{system_id}/incidents")
def incident_post(request: Request, system_id: PageId, csrf: Csrf, description: LongText,
                  deployment: Annotated[int, Form(ge=1)],
                  severity: Annotated[str, Form(max_length=10)],
                  category: Annotated[str, Form(max_length=40)] = "",
                  serious: Annotated[str, Form(max_length=5)] = "") -> RedirectResponse:
    """An incident on one of the system's deployments (the form lists them: where it
    happened)."""
    check_csrf(request, csrf)
    account = page_account(request)
    registry = get_registry(request)
    if deployment not in {d["id"] for d in views.system(registry, system_id)["deployments"]}:
        raise HaiaError(f"deployment {deployment} is not one of system {system_id}'s")
    data = registry.report_incident(
        deployment, severity=severity, description=description, category=category or None,
        serious=serious == "yes", actor=account.actor if account else None)
    held = awaits_moderation(data)
    return back(f"/systems/{system_id}", "incident-held" if held else "incident-reported")


# -- signing in ----------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") \
        else "/dashboard"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str | None, Query(max_length=300)] = None
               ) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login_post(request: Request, csrf: Csrf, name: ShortText,
               password: Annotated[str, Form(max_length=256)],
               next: Annotated[str, Form(max_length=300)] = "/dashboard") -> Response:
    check_csrf(request, csrf)
    client = request.client.host if request.client else "?"
    try:
        token = get_accounts(request).login(name, password, client=client)
    except HaiaError as exc:

        return render(request, "login.html", {"next": _safe_next(next), "error": str(exc)},
                      status_code=status_of(exc))
    response = RedirectResponse(f"{_safe_next(next)}?msg=signed-in", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.secure_cookies, max_age=8 * 3600)
    return response


@router.post("/logout")
def logout_post(request: Request, csrf: Csrf) -> RedirectResponse:
    check_csrf(request, csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        get_accounts(request).logout(token)
    response = back("/", "signed-out")
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- dashboards and workflow ---------------------------------------------------------------------
@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, account: Page) -> HTMLResponse:
    return render(request, "dashboard.html", {
        "d": views.dashboard(get_registry(request), account), "actions": TRANSITIONS})


@router.post("/{table}/{ident}/moderate")
def moderate_post(request: Request, table: Literal["feedback", "incidents"], ident: PageId,
                  csrf: Csrf, decision: Annotated[Literal["publish", "reject", "dismiss"],
                                                  Form()],
                  account: Annotated[Account, Depends(require_page("reviewer"))],
                  reason: LongText = "", text: LongText = "") -> RedirectResponse:
    """Publish (with the moderator's edit of the text, if any) or reject/dismiss a held
    feedback or incident report."""
    check_csrf(request, csrf)
    get_registry(request).moderate(table, ident, publish=decision == "publish",
                                   reason=reason or None, text=text or None,
                                   actor=account.actor)
    return back("/dashboard", "moderated")


@router.post("/feedback/{feedback_id}/reply")
def reply_post(request: Request, feedback_id: PageId, csrf: Csrf, text: LongText,
               account: Annotated[Account, Depends(require_page("developer"))]
               ) -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).reply_feedback(feedback_id, text=text, actor=account.actor)
    return back("/dashboard", "replied")


@router.post("/assessments/{assessment_id}/review")
def review_post(request: Request, assessment_id: PageId, csrf: Csrf,
                decision: Annotated[str, Form(max_length=10)],
                account: Annotated[Account, Depends(require_page("reviewer"))],
                reason: LongText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).review_assessment(assessment_id, accept=decision == "accept",
                                            reason=reason or None, actor=account.actor)
    return back("/dashboard", "reviewed")


@router.post("/deployments/{deployment_id}/transition")
def transition_post(request: Request, deployment_id: PageId, csrf: Csrf,
                    action: Annotated[str, Form(max_length=20)],
                    account: Annotated[Account, Depends(require_page("developer", "reviewer"))],
                    reason: LongText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).transition(deployment_id, action, reason=reason or None,
                                     actor=account.actor)
    return back("/dashboard", "moved")


# -- systems -------------------------------------------------------------------------------------
@router.get("/systems-new", response_class=HTMLResponse)
def system_form(request: Request,
                account: Annotated[Account, Depends(require_page("developer"))]) -> HTMLResponse:
    return render(request, "system_new.html")


@router.post("/systems-new")
def system_post(request: Request, csrf: Csrf, name: ShortText, intended_use: LongText,
                clinical_setting: ShortText, intended_users: ShortText,
                account: Annotated[Account, Depends(require_page("developer"))],
                model_provider: ShortText = "", version: ShortText = "",
                model_id: Annotated[str, Form(max_length=300)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    registry = get_registry(request)
    data = registry.add_system(name, developer=account.organisation_id or 0,
                               intended_use=intended_use, clinical_setting=clinical_setting,
                               intended_users=intended_users,
                               model_provider=model_provider or None, actor=account.actor)
    if version.strip() or model_id.strip():
        registry.add_version(data["id"], version, model_id=model_id, actor=account.actor)
    return back(f"/systems/{data['id']}", "system-added")


@router.post("/systems/{system_id}/versions")
def version_post(request: Request, system_id: PageId, csrf: Csrf, version: ShortText,
                 model_id: Annotated[str, Form(max_length=300)],
                 account: Annotated[Account, Depends(require_page("developer"))]
                 ) -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).add_version(system_id, version, model_id=model_id,
                                      actor=account.actor)
    return back(f"/systems/{system_id}", "version-added")


@router.post("/versions/{version_id}/deployments")
def deployment_post(request: Request, version_id: PageId, csrf: Csrf, site: ShortText,
                    account: Annotated[Account, Depends(require_page("developer", "reviewer"))],
                    deployer: ShortText = "",
                    users_per_month: Annotated[int, Form(ge=0, le=10**10)] = 0,
                    queries_per_month: Annotated[int, Form(ge=0, le=10**12)] = 0,
                    system_id: Annotated[int, Form()] = 0) -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).add_deployment(version_id, site, deployer=deployer or None,
                                         users_per_month=users_per_month,
                                         queries_per_month=queries_per_month,
                                         actor=account.actor)
    return back(f"/systems/{system_id}" if system_id else "/dashboard", "deployment-added")


# -- impact assessment ---------------------------------------------------------------------------
Assessor = Annotated[Account, Depends(require_page("developer", "reviewer"))]


@router.get("/deployments/{deployment_id}/assessment", response_class=HTMLResponse)
def assessment_page(request: Request, deployment_id: PageId, account: Assessor) -> HTMLResponse:
    registry = get_registry(request)
    deployment = registry.show("deployments", deployment_id)
    return render(request, "assessment.html", {
        "q": questionnaire(), "deployment": deployment,
        "draft": drafts.load(registry, account, deployment_id)})


@router.post("/deployments/{deployment_id}/assessment")
async def assessment_post(request: Request, deployment_id: PageId,
                          account: Assessor) -> RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    if len(form) > 300:
        raise HaiaError("too many fields in the form")
    answers = {str(k)[2:]: str(v)[:100] for k, v in form.items() if str(k).startswith("q-")}
    registry = get_registry(request)
    if form.get("submit") == "record":
        registry.add_assessment(deployment_id, drafts.clean_answers(answers),
                                actor=account.actor)
        drafts.discard(registry, account, deployment_id)
        return back("/dashboard", "assessment-submitted")
    drafts.save(registry, account, deployment_id, answers)
    return back(f"/deployments/{deployment_id}/assessment", "draft-saved")


# -- administration ------------------------------------------------------------------------------
Admin = Annotated[Account, Depends(require_page("admin"))]


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, account: Admin) -> HTMLResponse:
    registry = get_registry(request)
    return render(request, "admin.html", {
        "users": registry.list("users"), "organisations": registry.list("organisations"),
        "roles": ROLES})


@router.post("/admin/organisations")
def organisation_post(request: Request, csrf: Csrf, name: ShortText,
                      kind: Annotated[str, Form(max_length=40)], account: Admin,
                      country: ShortText = "") -> RedirectResponse:
    check_csrf(request, csrf)
    get_registry(request).add_organisation(name, kind=kind, country=country or None,
                                           actor=account.actor)
    return back("/admin", "organisation-added")


@router.post("/admin/accounts")
def account_post(request: Request, csrf: Csrf, name: ShortText,
                 role: Annotated[str, Form(max_length=20)],
                 password: Annotated[str, Form(max_length=256)], account: Admin,
                 organisation: ShortText = "", email: ShortText = "",
                 category: Annotated[str, Form(max_length=40)] = "") -> RedirectResponse:
    check_csrf(request, csrf)
    get_accounts(request).create(account.actor, name, role, password,
                                 organisation=organisation or None, email=email or None,
                                 category=category or None)
    return back("/admin", "account-added")
