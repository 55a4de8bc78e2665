"""Accounts and the web's defences: hashes at rest, cookies, rate-limited log-in, token
revocation and expiry, headers, escaping, no open redirect, no traceback."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.portal.helpers import browser, csrf_of
from tests.portal.world import PASSWORD, PortalWorld

from haia.portal.app import create_app
from haia.registry.models import Credential, Token


def test_secrets_at_rest_are_hashes_and_sealed_keys(pw: PortalWorld) -> None:
    from cryptography.hazmat.primitives import serialization as ser

    token = pw.tokens["rev1"]
    raw = pw.actor("rev1").key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw,
                                             ser.NoEncryption())
    with pw.registry.sessions() as s:
        creds = list(s.scalars(select(Credential)))
        tokens = list(s.scalars(select(Token)))
    dump = repr([(c.password_hash, c.key_blob) for c in creds]
                + [(t.token_hash, t.key_blob) for t in tokens])
    assert all(c.password_hash.startswith("$argon2id$") for c in creds)
    assert PASSWORD not in dump and token not in dump
    assert raw.hex() not in dump and raw.hex() not in dump.encode().hex()
    assert not any(str(e.payload).count(PASSWORD) for e in pw.registry.events())


def test_session_cookie_flags_and_logout(pw: PortalWorld, db_url: str) -> None:
    client = TestClient(pw.app, follow_redirects=False)
    csrf = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": csrf, "name": "rev1", "password": PASSWORD})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie"
                  and v.startswith("haia_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/dashboard").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    session = cookie.split(";")[0].split("=", 1)[1]
    assert pw.accounts.resolve(session) is None
    secure = create_app(db_url, secure_cookies=True)
    sc = TestClient(secure, base_url="https://testserver", follow_redirects=False)
    csrf = csrf_of(sc.get("/login").text)
    r = sc.post("/login", data={"csrf_token": csrf, "name": "rev1", "password": PASSWORD})
    assert "Secure" in r.headers["set-cookie"] and "strict-transport-security" in r.headers


def test_login_is_rate_limited(pw: PortalWorld) -> None:
    for _ in range(5):
        r = pw.api("POST", "/tokens", json={"name": "rev2", "password": "wrong password!"})
        assert r.status_code == 401 and r.json()["detail"] == "wrong name or password"
    r = pw.api("POST", "/tokens", json={"name": "rev2", "password": PASSWORD})
    assert r.status_code == 429  # even the right password, until the window passes
    r = pw.api("POST", "/tokens", json={"name": "nobody", "password": "whatever it is"})
    assert r.status_code == 429  # the address is limited as well
    client, csrf = browser(pw, None)
    r = client.post("/login", data={"csrf_token": csrf, "name": "rev3", "password": PASSWORD})
    assert r.status_code == 429 and "too many" in r.text


def test_tokens_revoke_expire_and_password_change(pw: PortalWorld) -> None:
    token = pw.tokens["aud"]
    assert pw.api("GET", "/me", "aud").json()["name"] == "aud"
    r = pw.api("POST", "/tokens", json={"name": "aud", "password": PASSWORD, "label": "ci"})
    second = r.json()["token"]
    listed = pw.api("GET", "/tokens", "aud").json()
    assert {t["label"] for t in listed} >= {"ci"} and token not in str(listed)
    pw.tokens["aud2"] = second
    r = pw.api("POST", "/me/password", "aud2", json={"current": "wrong", "new": "n" * 12})
    assert r.status_code == 401
    r = pw.api("POST", "/me/password", "aud2", json={"current": PASSWORD, "new": "n" * 12})
    assert r.status_code == 204
    assert pw.api("GET", "/me", "aud").status_code == 401  # other tokens end
    assert pw.api("GET", "/me", "aud2").status_code == 200
    assert pw.api("POST", "/tokens", json={"name": "aud", "password": PASSWORD}
                  ).status_code == 401
    fresh = pw.api("POST", "/tokens", json={"name": "aud", "password": "n" * 12}).json()
    pw.tokens["aud3"] = fresh["token"]
    assert pw.account("aud3").actor.public_key == pw.account("aud2").actor.public_key
    assert pw.api("DELETE", "/tokens/current", "aud3").status_code == 204
    assert pw.api("GET", "/me", "aud3").status_code == 401
    with pw.registry.sessions() as s, s.begin():
        s.execute(update(Token).values(expires=datetime(2000, 1, 1)))
    assert pw.api("GET", "/me", "aud2").status_code == 401
    assert pw.api("GET", "/me", headers={"Authorization": "Bearer " + "x" * 500}
                  ).status_code == 401


def test_headers_escaping_redirects_and_errors(pw: PortalWorld) -> None:
    r = pw.client.get("/")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    pw.api("POST", f"/systems/{pw.system}/feedback", "rev1", json={
        "stakeholder": "reviewer", "text": "<script>alert('x')</script> =1+1"})
    page = pw.client.get(f"/systems/{pw.system}").text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "'=1+1" not in pw.api("GET", "/register.csv").text  # only cells that start so
    pw.api("POST", f"/systems/{pw.system}/feedback", "rev1",
           json={"stakeholder": "reviewer", "text": "=HYPERLINK(1)"})
    client, csrf = browser(pw, None)
    r = client.post("/login", data={"csrf_token": csrf, "name": "rev1", "password": PASSWORD,
                                    "next": "//evil.example/"})
    assert r.headers["location"].startswith("/dashboard")
    r = client.get("/login?next=https://evil.example/")
    assert 'value="https://evil.example/"' not in r.text
    r = pw.api("POST", "/systems", "dev", json={"name": "x", "unknown": 1})
    assert r.status_code == 422
    r = pw.client.post(f"/systems/{pw.system}/feedback", data={"text": "no csrf"})
    assert r.status_code in (403, 422) and "Traceback" not in r.text


def test_a_bug_is_a_500_without_details(pw: PortalWorld, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    from haia.portal import views

    def broken(*_a: object, **_k: object) -> None:
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(views, "register", broken)
    for path in ("/api/v1/register", "/"):
        r = pw.client.get(path)
        assert r.status_code == 500 and "secret-internal-detail" not in r.text
        assert r.headers["content-security-policy"]


def test_first_admin_and_account_rules(pw: PortalWorld) -> None:
    from haia.errors import HaiaError

    with pytest.raises(HaiaError):
        pw.accounts.create_first_admin("again", PASSWORD)  # only the very first user
    r = pw.api("POST", "/accounts", "admin", json={"name": "x", "role": "auditor",
                                                  "password": "p" * 12})
    assert r.status_code == 409 and "organisation" in r.text
    r = pw.api("POST", "/accounts", "admin", json={"name": "y", "role": "stakeholder",
                                                  "password": "p" * 12})
    assert r.status_code == 400 and "category" in r.text
    r = pw.api("POST", "/accounts", "admin", json={"name": "z", "role": "public",
                                                  "password": "short"})
    assert r.status_code == 422


def test_nul_characters_are_refused_alike_on_every_database(pw: PortalWorld) -> None:
    """PostgreSQL cannot store NUL; the portal refuses it with a 400 (found by schemathesis
    as a 500 on PostgreSQL), and the registry refuses it for any other caller."""
    from haia.errors import HaiaError

    r = pw.api("POST", f"/systems/{pw.system}/feedback", "rev1",
               json={"stakeholder": "reviewer", "text": "before\u0000after"})
    assert r.status_code == 400 and "NUL" in r.json()["detail"]
    assert pw.api("GET", "/systems/1%00").status_code == 400
    assert pw.api("POST", "/tokens", content=b'{"name": "rev\x00", "password": "x"}',
                  headers={"content-type": "application/json"}).status_code == 400
    client, csrf = browser(pw, "rev1")
    r = client.post(f"/systems/{pw.system}/feedback",
                    data={"csrf_token": csrf, "stakeholder": "reviewer", "text": "a\x00b"})
    assert r.status_code == 400 and "Traceback" not in r.text
    with pytest.raises(HaiaError, match="NUL"):
        pw.registry.add_organisation("Clinic\x00", kind="deployer", actor=pw.actor("admin"))
    assert pw.api("GET", "/register").status_code == 200  # the session was not left broken


def test_the_limiter_is_bounded_and_a_success_does_not_reset_an_address() -> None:
    from haia.portal.accounts import LoginLimiter, TooManyAttempts

    limiter = LoginLimiter(limit=3, window=60, keys=50)
    for n in range(1000):  # a flood of made-up names from many addresses
        limiter.failed(f"name:x{n}", f"ip:10.0.{n // 250}.{n % 250}")
    assert len(limiter._failures) <= 50
    for _ in range(3):
        limiter.failed("name:rev2", "ip:1.2.3.4")
    limiter.succeeded("name:mine")  # the guesser signs in to their own account...
    with pytest.raises(TooManyAttempts):
        limiter.check("name:other", "ip:1.2.3.4")  # ...and the address stays limited
    limiter.succeeded("name:rev2")
    limiter.check("name:rev2", "ip:9.9.9.9")  # a right password clears the name


def test_an_unknown_name_costs_the_same_as_a_wrong_password(pw: PortalWorld) -> None:
    """Both run one argon2 verification, so timing does not tell which names exist."""
    import time

    from haia.portal.accounts import Accounts, LoginLimiter, LoginRefused

    accounts = Accounts(pw.registry, LoginLimiter(limit=1000))

    def cost(name: str) -> float:
        start = time.perf_counter()
        for _ in range(3):
            with pytest.raises(LoginRefused):
                accounts.login(name, "not the password at all")
        return time.perf_counter() - start

    cost("nobody-at-all")  # the dummy hash is made once
    assert cost("nobody-at-all") > 0.5 * cost("rev1")


def test_review_findings_stay_fixed(pw: PortalWorld) -> None:
    """What an independent review of the portal found (2026-12-04), each held fixed."""
    from haia.registry.service import PRIVATE_TEXT

    # a public account cannot smuggle free text into the stakeholder label
    r = pw.api("POST", f"/systems/{pw.system}/feedback", "pat",
               json={"stakeholder": "John Smith MRN 12345", "text": "fine"})
    assert r.status_code == 400 and "stakeholder must be one of" in r.json()["detail"]
    # values the columns cannot hold are a 400 on every database, not a 500
    long_name = pw.api("POST", "/accounts", "admin", json={
        "name": "x" * 150, "role": "public", "password": "p" * 12})
    assert long_name.status_code == 400 and "at most 120" in long_name.json()["detail"]
    huge = pw.api("POST", f"/versions/{pw.version}/deployments", "rev1", json={
        "site": "Huge", "deployer": "CityHealth", "users_per_month": 10**10})
    assert huge.status_code in (400, 422) and "Traceback" not in huge.text
    # ids beyond any row, and digits that are not ASCII, in page URLs and forms
    for path in ("/systems/99999999999999999999", "/audits/99999999999999999999"):
        assert pw.client.get(path).status_code in (404, 422)
    anon, csrf = browser(pw, None)
    r = anon.post(f"/systems/{pw.system}/feedback", data={
        "csrf_token": csrf, "stakeholder": "patient", "text": "t", "audit_id": "²"})
    assert r.status_code == 303
    # only the deployer's members draft its assessment
    d = pw.deployment()
    assert pw.api("GET", f"/deployments/{d}/draft", "dev").status_code == 403
    assert pw.api("PUT", f"/deployments/{d}/draft", "dev",
                  json={"answers": {}}).status_code == 403
    assert pw.api("GET", f"/deployments/{d}/draft", "rev1").status_code == 200
    # a registered reporter's incident counts at once; its flagged text stays private
    r = pw.api("POST", f"/deployments/{d}/incidents", "rev1", json={
        "severity": "high", "description": "John Smith was triaged late"})
    assert r.status_code == 201
    (card,) = pw.api("GET", "/register").json()
    assert card["open_incidents"] == 1
    (incident,) = pw.api("GET", f"/systems/{pw.system}").json()["incidents"]
    assert incident["description"] == PRIVATE_TEXT
    assert "[NAME]" not in pw.client.get(f"/systems/{pw.system}").text
    assert "[NAME] was triaged late" in str(pw.api("GET", "/dashboard", "rev2").json())
    # empty CSV cells stay empty; '%00' as text is not a NUL; a session is not an API token
    assert ",'," not in pw.api("GET", "/register.csv").text
    r = pw.api("POST", f"/systems/{pw.system}/feedback", "rev1",
               json={"stakeholder": "reviewer", "text": "coverage rose to 100%00 today"})
    assert r.status_code == 201
    session = pw.accounts.login("rev1", PASSWORD, client="t", kind="session")
    r = pw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {session}"})
    assert r.status_code == 401
