"""``haia serve`` (the portal) and ``haia portal admin`` (its first account)."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer

from haia.cli.common import console
from haia.cli.registry import Url
from haia.errors import HaiaError

portal_app = typer.Typer(name="portal", no_args_is_help=True,
                         help="Portal accounts (the web portal itself: 'haia serve').")


def _password(env: str | None) -> str:
    if env:
        value = os.environ.get(env)
        if not value:
            raise HaiaError(f"--password-env {env}: that environment variable is not set")
        return value
    first = getpass.getpass("Password (12 characters or more): ")
    if getpass.getpass("Again: ") != first:
        raise HaiaError("the two passwords differ")
    return first


@portal_app.command("admin")
def create_admin(name: str, password_env: Annotated[str | None, typer.Option(
        help="Read the password from this environment variable instead of asking")] = None,
        db: Url = None) -> None:
    """Create the registry's first user, an admin with a portal log-in and a signing key kept
    encrypted under their password. Further accounts are made on the portal's Accounts page
    or with POST /api/v1/accounts."""
    from haia.portal.accounts import Accounts
    from haia.registry.service import Registry

    accounts = Accounts(Registry(db))
    if accounts.has_users():
        raise HaiaError("the registry already has users: an admin creates further accounts "
                        "on the portal (Accounts page) or with POST /api/v1/accounts")
    data = accounts.create_first_admin(name, _password(password_env))
    console.print(f"admin {data['name']!r} created (key {data['key_fingerprint']}); "
                  "sign in on the portal with 'haia serve'")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``portal`` group to ``app``."""

    @app.command()
    def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
              port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
              db: Url = None,
              secure_cookies: Annotated[bool, typer.Option(
                  help="Mark cookies Secure and send HSTS (when served behind TLS)")] = False,
              workers: Annotated[int, typer.Option(min=1, max=64, help=(
                  "uvicorn worker processes (set HAIA_PORTAL_SECRET so they share CSRF "
                  "keys)"))] = 1) -> None:
        """Serve the portal: the public register, reports, impact assessments, feedback and
        incidents on the web, and the REST API under /api/v1 (its OpenAPI document:
        /api/v1/openapi.json). The registry database is --db, HAIA_DATABASE_URL, or SQLite in
        haia's data folder."""
        import uvicorn

        from haia.portal.app import create_app

        if workers > 1 and not os.environ.get("HAIA_PORTAL_SECRET"):
            raise HaiaError("several workers need a shared HAIA_PORTAL_SECRET")
        if db:
            os.environ["HAIA_DATABASE_URL"] = db
        if secure_cookies:
            os.environ["HAIA_SECURE_COOKIES"] = "1"
        app = create_app(db, secure_cookies=secure_cookies)
        if not app.state.accounts.has_users():
            console.print("[yellow]the registry has no users yet:[/] create the first admin "
                          "with 'haia portal admin NAME'")
        console.print(f"haia portal on http://{host}:{port}/ (API: /api/v1/openapi.json)")
        if workers > 1:
            uvicorn.run("haia.portal.app:from_environment", factory=True, host=host, port=port,
                        workers=workers, log_level="info", proxy_headers=True)
        else:
            uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)

    app.add_typer(portal_app)
