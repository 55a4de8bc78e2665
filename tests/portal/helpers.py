"""Signing in through the pages as a browser does: the CSRF token from a form, the cookie."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.portal.world import PASSWORD, PortalWorld

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def browser(pw: PortalWorld, name: str | None) -> tuple[TestClient, str]:
    """A client with its own cookie jar, signed in as ``name`` (None: anonymous), and the CSRF
    token of its forms."""
    client = TestClient(pw.app, raise_server_exceptions=False, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    if name is not None:
        r = client.post("/login", data={"csrf_token": token, "name": name,
                                        "password": PASSWORD, "next": "/dashboard"})
        assert r.status_code == 303, r.text
    return client, token
