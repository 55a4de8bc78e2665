"""Role × route: every API route and every page form, called by each role and anonymously.
A caller the route does not admit is refused by the route (401 anonymous, 403 with the role
named); the designated role's call succeeds; the registry's finer rules still apply after."""

from __future__ import annotations

from typing import Any

import pytest
from tests.portal.helpers import browser
from tests.portal.world import ROLE_PERSON, PortalWorld
from tests.registry.world import answers

ROLES = tuple(ROLE_PERSON)
ANYONE = {None, *ROLES}
SIGNED = set(ROLES)


def _context(pw: PortalWorld) -> dict[str, Any]:
    d = pw.deployment()
    other = pw.deployment()
    assessment = pw.api("POST", f"/deployments/{other}/assessments", "rev1", json={
        "answers": {k: str(v) for k, v in answers("high").items()}}).json()["id"]
    audit = pw.audit("safety", findings=[{"id": "f1", "severity": "high"}])
    held = pw.api("POST", f"/systems/{pw.system}/feedback", None,
                  json={"stakeholder": "patient", "text": "held one"}).json()["id"]
    published = pw.api("POST", f"/systems/{pw.system}/feedback", "rev1",
                       json={"stakeholder": "reviewer", "text": "published one"}).json()["id"]
    incident = pw.api("POST", f"/deployments/{d}/incidents", None, json={
        "severity": "low", "description": "slow", "category": "patient"}).json()["id"]
    return {"d": d, "a": assessment, "audit": audit, "held": held, "pub": published,
            "inc": incident, "sys": pw.system, "v": pw.version, "n": 0}


def _n(c: dict[str, Any]) -> int:
    c["n"] += 1
    return c["n"]


# (method, path, body, roles admitted, role whose call must succeed)
API: list[tuple[str, str, Any, set[str | None], str | None]] = [
    ("GET", "/health", None, ANYONE, None),
    ("GET", "/register", None, ANYONE, None),
    ("GET", "/register.csv", None, ANYONE, None),
    ("GET", "/systems/{sys}", None, ANYONE, None),
    ("GET", "/audits/{audit}", None, ANYONE, None),
    ("GET", "/ledger/root", None, ANYONE, None),
    ("GET", "/ledger/1/proof", None, ANYONE, None),
    ("GET", "/questionnaire", None, ANYONE, None),
    ("POST", "/systems/{sys}/feedback", lambda c: {"stakeholder": "patient", "text": "ok"},
     ANYONE, None),
    ("POST", "/deployments/{d}/incidents", lambda c: {
        "severity": "low", "description": "slow", "category": "patient"}, ANYONE, None),
    ("GET", "/me", None, SIGNED, "public"),
    ("GET", "/tokens", None, SIGNED, "stakeholder"),
    ("GET", "/dashboard", None, SIGNED, "reviewer"),
    ("POST", "/organisations", lambda c: {"name": f"Org{_n(c)}", "kind": "other"},
     {"admin"}, "admin"),
    ("POST", "/accounts", lambda c: {"name": f"user{_n(c)}", "role": "public",
                                     "password": "p" * 12}, {"admin"}, "admin"),
    ("GET", "/accounts", None, {"admin"}, "admin"),
    ("POST", "/systems", lambda c: {"name": f"Sys{_n(c)}", "intended_use": "u",
                                    "clinical_setting": "s", "intended_users": "u"},
     {"developer"}, "developer"),
    ("POST", "/systems/{sys}/versions", lambda c: {"version": f"2.{_n(c)}", "model_id": "m"},
     {"developer"}, "developer"),
    ("POST", "/versions/{v}/deployments", lambda c: {"site": f"Site{_n(c)}",
                                                      "deployer": "CityHealth"},
     {"developer", "reviewer"}, "reviewer"),
    ("POST", "/deployments/{d}/transitions", lambda c: {"action": "submit"},
     {"developer", "reviewer"}, "reviewer"),
    ("GET", "/deployments/{d}/draft", None, {"developer", "reviewer"}, "reviewer"),
    ("PUT", "/deployments/{d}/draft", lambda c: {"answers": {}}, {"developer", "reviewer"},
     "reviewer"),
    ("POST", "/deployments/{d}/assessments", lambda c: {"answers": {
        k: str(v) for k, v in answers("high").items()}}, {"developer", "reviewer"}, "reviewer"),
    ("POST", "/assessments/{a}/review", lambda c: {"accept": True}, {"reviewer"}, None),
    ("POST", "/feedback/{held}/moderation", lambda c: {"publish": True}, {"reviewer"},
     "reviewer"),
    ("POST", "/incidents/{inc}/moderation", lambda c: {"publish": True}, {"reviewer"},
     "reviewer"),
    ("POST", "/feedback/{pub}/reply", lambda c: {"text": "thanks"}, {"developer"},
     "developer"),
    ("POST", "/me/password", lambda c: {"current": "x", "new": "y" * 12}, SIGNED, None),
]


def _refused_by_route(r: Any, who: str | None) -> bool:
    if who is None:
        return r.status_code == 401
    return r.status_code == 403 and f"a {who} may not do this" in r.text


def test_every_api_route_is_in_the_table(pw: PortalWorld) -> None:
    listed = {(m, p.split("{")[0].rstrip("/")) for m, p, *_ in API}
    for route in pw.app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/v1") or path.startswith("/api/v1/openapi") \
                or path.startswith("/api/v1/docs"):
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:  # type: ignore[attr-defined]
            short = path[len("/api/v1"):]
            if method == "DELETE":  # revoking tokens: tests/portal/test_security.py
                continue
            assert (method, short.split("{")[0].rstrip("/")) in listed, (method, short)


def test_role_by_api_route(pw: PortalWorld) -> None:
    c = _context(pw)
    for method, path, body, admitted, ok_as in API:
        url = path.format(**c)
        for who in [None, *ROLES]:
            person = ROLE_PERSON.get(who or "")
            r = pw.api(method, url, person, json=body(c) if body else None)
            if who in admitted:
                assert not _refused_by_route(r, who), (method, path, who, r.status_code, r.text)
                assert r.status_code < 500, (method, path, who, r.text)
            else:
                assert _refused_by_route(r, who), (method, path, who, r.status_code, r.text)
        if ok_as is not None:
            r = pw.api(method, url, ROLE_PERSON[ok_as], json=body(c) if body else None)
            if r.status_code == 409 and path.endswith(("moderation", "transitions")):
                continue  # done once already by the admitted pass above: the rule refuses again
            assert r.status_code in (200, 201), (method, path, ok_as, r.status_code, r.text)


def test_service_rules_apply_behind_the_route(pw: PortalWorld) -> None:
    """A role the route admits is still refused what its organisation may not do."""
    d = pw.deployment()
    r = pw.api("POST", f"/deployments/{d}/transitions", "dev", json={"action": "review"})
    assert r.status_code == 403 and "may not review: needs reviewer" in r.text
    pw.api("POST", f"/deployments/{d}/transitions", "rev1", json={"action": "submit"})
    r = pw.api("POST", f"/deployments/{d}/transitions", "rev1", json={"action": "review"})
    assert r.status_code == 200
    r = pw.api("POST", f"/deployments/{d}/transitions", "rev1", json={"action": "approve"})
    assert r.status_code == 409 and "approval" in r.json()["detail"]
    r = pw.api("POST", f"/systems/{pw.system}/versions", "hosp",
               json={"version": "9", "model_id": "m"})
    assert r.status_code == 403 and "not a developer of" in r.json()["detail"]


# page forms: (path, fields, roles admitted, role whose post must succeed)
PAGES: list[tuple[str, Any, set[str], str | None]] = [
    ("/admin/organisations", lambda c: {"name": f"POrg{_n(c)}", "kind": "other"}, {"admin"},
     "admin"),
    ("/admin/accounts", lambda c: {"name": f"puser{_n(c)}", "role": "public",
                                   "password": "q" * 12}, {"admin"}, "admin"),
    ("/systems-new", lambda c: {"name": f"PSys{_n(c)}", "intended_use": "u",
                                "clinical_setting": "s", "intended_users": "u"},
     {"developer"}, "developer"),
    ("/systems/{sys}/versions", lambda c: {"version": f"3.{_n(c)}", "model_id": "m"},
     {"developer"}, "developer"),
    ("/versions/{v}/deployments", lambda c: {"site": f"PSite{_n(c)}", "deployer": "CityHealth"},
     {"developer", "reviewer"}, "reviewer"),
    ("/deployments/{d}/transition", lambda c: {"action": "submit"}, {"developer", "reviewer"},
     "reviewer"),
    ("/deployments/{d}/assessment", lambda c: {"submit": "save"}, {"developer", "reviewer"},
     "reviewer"),
    ("/assessments/{a}/review", lambda c: {"decision": "accept"}, {"reviewer"}, None),
    ("/feedback/{held}/moderate", lambda c: {"decision": "publish"}, {"reviewer"}, "reviewer"),
    ("/incidents/{inc}/moderate", lambda c: {"decision": "publish"}, {"reviewer"}, "reviewer"),
    ("/feedback/{pub}/reply", lambda c: {"text": "thanks"}, {"developer"}, "developer"),
]
# pages a role may open only for its own organisation's deployments: ROLE_PERSON's developer
# works for the system's developer, not for the deployer
ORG_RULED = {"developer": ("/deployments/{d}/assessment",)}
GET_PAGES = [("/dashboard", SIGNED), ("/admin", {"admin"}), ("/systems-new", {"developer"}),
             ("/deployments/{d}/assessment", {"developer", "reviewer"})]


@pytest.fixture
def browsers(pw: PortalWorld) -> dict[str | None, Any]:
    return {who: browser(pw, ROLE_PERSON.get(who or "")) if who else browser(pw, None)
            for who in [None, *ROLES]}


def test_role_by_page(pw: PortalWorld, browsers: dict[str | None, Any]) -> None:
    c = _context(pw)
    for path, admitted in GET_PAGES:
        for who, (client, _) in browsers.items():
            r = client.get(path.format(**c))
            if who is None:
                assert r.status_code == 303 and r.headers["location"].startswith("/login")
            elif who in admitted and path in ORG_RULED.get(who, ()):  # the role may, but
                assert r.status_code == 403, (path, who)  # not for another organisation
                assert "does not belong to the deployer" in r.text, (path, who)
            elif who in admitted:
                assert r.status_code == 200, (path, who, r.text[:300])
            else:
                assert r.status_code == 403 and f"a {who} may not do this" in r.text, (path, who)
    for path, fields, admitted, ok_as in PAGES:
        url = path.format(**c)
        for who, (client, csrf) in browsers.items():
            r = client.post(url, data={"csrf_token": csrf, **fields(c)})
            if who is None:
                assert r.status_code == 401, (path, r.status_code)
            elif who not in admitted:
                assert r.status_code == 403 and f"a {who} may not do this" in r.text, (path, who)
        if ok_as is not None:
            client, csrf = browser(pw, ROLE_PERSON[ok_as])
            r = client.post(url, data={"csrf_token": csrf, **fields(c)})
            assert r.status_code in (303, 409), (path, ok_as, r.status_code, r.text[:400])
            if r.status_code == 409:  # admitted callers already made the change once
                assert path.endswith(("moderate", "transition")), (path, r.text[:400])


def test_page_forms_need_the_csrf_token(pw: PortalWorld) -> None:
    client, csrf = browser(pw, "admin")
    for token in ("", "0" * 64):
        r = client.post("/admin/organisations", data={"csrf_token": token, "name": "Evil",
                                                      "kind": "other"})
        assert r.status_code in (403, 422) and "Evil" not in str(pw.registry.list(
            "organisations"))
    _other, other_csrf = browser(pw, None)  # another browser's token does not fit this cookie
    r = client.post("/admin/organisations", data={"csrf_token": other_csrf, "name": "Evil",
                                                  "kind": "other"})
    assert r.status_code == 403
    r = client.post("/admin/organisations", data={"csrf_token": csrf, "name": "Good",
                                                  "kind": "other"})
    assert r.status_code == 303 and "Good" in str(pw.registry.list("organisations"))
