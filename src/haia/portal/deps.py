"""What every portal route depends on: the registry, the signed-in account, role checks, CSRF.

The API (``/api/v1``) authenticates with ``Authorization: Bearer <API token>`` only, the pages
with the session cookie only, and every page form carries a CSRF token; so no cookie can be
ridden into the API and no API token is needed in a browser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from fastapi import HTTPException, Request

from haia.errors import HaiaError
from haia.portal.accounts import Account, Accounts, LoginRefused, TooManyAttempts
from haia.registry.errors import NotFound, PermissionDenied, RuleViolation
from haia.registry.models import ROLES
from haia.registry.service import Registry

SESSION_COOKIE = "haia_session"
CSRF_COOKIE = "haia_csrf"


def get_registry(request: Request) -> Registry:
    """The registry the application serves (the same service layer as the CLI)."""
    return request.app.state.registry


def get_accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def api_account(request: Request) -> Account | None:
    """The account of the request's API token (None: anonymous)."""
    token = bearer(request)
    if token is None:
        return None
    account = get_accounts(request).resolve(token, kind="api")  # a session cookie's token
    if account is None:  # is not an API token: the API takes no browser credential
        raise HTTPException(401, "unknown or expired API token",
                            headers={"WWW-Authenticate": "Bearer"})
    return account


def page_account(request: Request) -> Account | None:
    """The account of the browser's session cookie (None: not signed in)."""
    return get_accounts(request).resolve(request.cookies.get(SESSION_COOKIE), kind="session")


def _checked(account: Account | None, roles: tuple[str, ...]) -> Account:
    if account is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    if roles and account.role not in roles:
        raise HTTPException(403, f"a {account.role} may not do this: it needs "
                                 f"{' or '.join(roles)}")
    return account


def _known(roles: tuple[str, ...]) -> None:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {sorted(unknown)}")


def require(*roles: str) -> Callable[[Request], Account]:
    """An API dependency: the token's account; 401 anonymous, 403 when its role is not one of
    ``roles`` (no roles: any account). The service layer checks the finer rules again."""
    _known(roles)

    def dependency(request: Request) -> Account:
        return _checked(api_account(request), roles)

    return dependency


def require_page(*roles: str) -> Callable[[Request], Account]:
    """The same for pages, on the session cookie."""
    _known(roles)

    def dependency(request: Request) -> Account:
        return _checked(page_account(request), roles)

    return dependency


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser's forms: an HMAC of its CSRF cookie."""
    raw = getattr(request.state, "csrf_raw", None) or request.cookies.get(CSRF_COOKIE, "")
    return hmac.new(request.app.state.secret, raw.encode("utf-8"), hashlib.sha256).hexdigest()


def check_csrf(request: Request, token: str | None) -> None:
    """403 unless ``token`` (the form's ``csrf_token`` field) matches this browser's cookie."""
    if not request.cookies.get(CSRF_COOKIE) or not token or not hmac.compare_digest(
            str(token), csrf_token(request)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def new_csrf_raw() -> str:
    return secrets.token_urlsafe(24)


def status_of(exc: HaiaError) -> int:
    """The HTTP status of a haia refusal."""
    for kind, code in ((TooManyAttempts, 429), (LoginRefused, 401), (PermissionDenied, 403),
                       (NotFound, 404), (RuleViolation, 409)):
        if isinstance(exc, kind):
            return code
    return 400
