"""The portal's FastAPI application: ``create_app()``; ``haia serve`` runs it with uvicorn."""

from __future__ import annotations

import logging
import os
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from haia.errors import HaiaError
from haia.portal.accounts import Accounts, LoginLimiter
from haia.portal.app_paths import STATIC
from haia.portal.deps import CSRF_COOKIE, new_csrf_raw, status_of
from haia.registry.service import Registry

log = logging.getLogger("haia.portal")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(database_url: str | None = None, *, secure_cookies: bool = False,
               secret: bytes | None = None, registry: Registry | None = None,
               limiter: LoginLimiter | None = None) -> FastAPI:
    """The portal on the registry at ``database_url`` (default: HAIA_DATABASE_URL or SQLite in
    haia's data folder). ``secure_cookies`` marks cookies Secure (serve behind TLS). The
    ``secret`` keys CSRF tokens (default: HAIA_PORTAL_SECRET, else random per start)."""
    from haia.portal import api, pages

    app = FastAPI(title="haia portal", version="1",
                  description="The public register of AI systems used in health care, their "
                              "audits and impact assessments, and stakeholder feedback.",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    app.state.registry = registry or Registry(database_url)
    app.state.accounts = Accounts(app.state.registry, limiter)
    env_secret = os.environ.get("HAIA_PORTAL_SECRET")
    app.state.secret = secret or (env_secret.encode() if env_secret else secrets.token_bytes(32))
    app.state.secure_cookies = secure_cookies

    @app.middleware("http")
    async def security(request: Request, call_next):  # type: ignore[no-untyped-def]
        raw = request.cookies.get(CSRF_COOKIE)
        request.state.csrf_raw = raw or new_csrf_raw()
        try:
            if await _has_nul(request):
                response = _error(request, 400, "the request contains a NUL character, which "
                                                "no field accepts")
            else:
                response = await call_next(request)
        except Exception as exc:  # a bug: logged without the request's content, never shown
            import traceback

            # the frames, not the message: a database error's message quotes the values sent
            log.error("unexpected error on %s %s: %s\n%s", request.method, request.url.path,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            response = _error(request, 500, "internal error: the administrator can read the "
                                            "server log")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        if secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if raw is None:
            response.set_cookie(CSRF_COOKIE, request.state.csrf_raw, httponly=True,
                                samesite="strict", secure=secure_cookies)
        return response

    @app.exception_handler(HaiaError)
    async def haia_error(request: Request, exc: HaiaError) -> Response:
        return _error(request, status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                  for e in exc.errors()]
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": errors}, status_code=422)
        text = "; ".join(f"{'.'.join(e['loc'][1:]) or 'form'}: {e['msg']}" for e in errors)
        return _error(request, 422, f"the form is not valid: {text}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail),
                      headers=getattr(exc, "headers", None))

    app.include_router(api.router)
    app.include_router(pages.router)
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _has_nul(request: Request) -> bool:
    """Whether the path, query or body carries a NUL character (raw, %00 or JSON \\u0000):
    PostgreSQL's text refuses it, so it is refused here, the same on every database."""
    encoded = [request.url.query]  # percent-encoded: %00 is a NUL
    plain = [request.url.path]  # already decoded
    if request.method in ("POST", "PUT", "PATCH"):
        body = (await request.body()).decode("latin-1")
        form = request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded")
        (encoded if form else plain).append(body)
    return (any("\x00" in t for t in encoded + plain) or any("%00" in t for t in encoded)
            or any("\\u0000" in t.lower() for t in plain))


def _error(request: Request, status: int, message: str,
           headers: dict[str, str] | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        from urllib.parse import quote

        from fastapi.responses import RedirectResponse

        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    from haia.portal.pages import render

    return render(request, "error.html", {"status": status, "message": message},
                  status_code=status)


__all__ = ["create_app"]


def from_environment() -> FastAPI:
    """The application for uvicorn's worker processes (``haia serve --workers N``)."""
    return create_app(os.environ.get("HAIA_DATABASE_URL"),
                      secure_cookies=os.environ.get("HAIA_SECURE_COOKIES") == "1")
