"""A portal world: the registry of tests/registry/world.py's people, each with a portal account
(password, sealed signing key) and an API token, served by the real application."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.registry.world import CORE, INDEPENDENT, MODEL, answers, write_report

from haia.portal.accounts import Account, LoginLimiter
from haia.portal.app import create_app
from haia.registry.service import Registry

PASSWORD = "a long test password"
# name: (role, organisation, stakeholder category)
PEOPLE: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None), "dev": ("developer", "MedAI", None),
    "aud": ("auditor", "AuditCo", None), "rev1": ("reviewer", "CityHealth", None),
    "rev2": ("reviewer", "CityHealth", None), "rev3": ("reviewer", "CityHealth", None),
    "hosp": ("developer", "CityHealth", None), "nurse": ("stakeholder", None, "clinician"),
    "pat": ("public", None, None),
}
ROLE_PERSON = {"admin": "admin", "auditor": "aud", "developer": "dev", "reviewer": "rev1",
               "stakeholder": "nurse", "public": "pat"}
SCORECARD = [{"principle": "autonomy", "title": "Protect autonomy", "verdict": "meets"},
             {"principle": "inclusiveness_equity", "title": "Ensure inclusiveness and equity",
              "verdict": "fails"}]


class PortalWorld:
    """The application, a test client, every person's API token and Actor."""

    def __init__(self, url: str, tmp: Path, *, deidentify: Any = None) -> None:
        from tests.registry.world import fake_deid

        self.registry = Registry(url, deidentify=deidentify or fake_deid)
        self.app = create_app(registry=self.registry, secret=b"test-secret" * 3,
                              limiter=LoginLimiter(limit=5, window=60))
        self.accounts = self.app.state.accounts
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.tmp = tmp
        self.accounts.create_first_admin("admin", PASSWORD)
        self.tokens: dict[str, str] = {"admin": self._token("admin")}
        admin = self.account("admin").actor
        for org, kind in (("MedAI", "developer"), ("CityHealth", "deployer"),
                          ("AuditCo", "auditor")):
            self.registry.add_organisation(org, kind=kind, actor=admin)
        for name, (role, org, category) in PEOPLE.items():
            if name != "admin":
                self.accounts.create(admin, name, role, PASSWORD, organisation=org,
                                     category=category)
                self.tokens[name] = self._token(name)
        self.system = self.registry.add_system(
            "TriageAid", developer="MedAI", intended_use="suggest ED triage levels",
            clinical_setting="emergency department", intended_users="triage nurses",
            actor=self.actor("dev"))["id"]
        self.version = self.registry.add_version("TriageAid", "1.0", model_id=MODEL,
                                                 actor=self.actor("dev"))["id"]
        self.reports = 0

    def _token(self, name: str) -> str:
        return self.accounts.login(name, PASSWORD, client="setup", kind="api")

    def account(self, name: str) -> Account:
        account = self.accounts.resolve(self.tokens[name])
        assert account is not None
        return account

    def actor(self, name: str) -> Any:
        return self.account(name).actor

    def h(self, name: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}

    def api(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> Any:
        headers = {**self.h(who), **kwargs.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def deployment(self, users: int = 500_000) -> int:
        r = self.api("POST", f"/versions/{self.version}/deployments", "rev1", json={
            "site": "City Health ED network", "deployer": "CityHealth",
            "users_per_month": users, "queries_per_month": users * 3,
            "start_date": (date.today() + timedelta(days=30)).isoformat()})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def assessed(self, deployment: int) -> int:
        r = self.api("POST", f"/deployments/{deployment}/assessments", "rev1",
                     json={"answers": {k: str(v) for k, v in answers(
                         "high", **{"ap-users-per-month": "10k-1m"}).items()}})
        assert r.status_code == 201, r.text
        ident = int(r.json()["id"])
        r = self.api("POST", f"/assessments/{ident}/review", "rev2", json={"accept": True})
        assert r.status_code == 200, r.text
        return ident

    def report(self, suite: str, findings: list[dict[str, str]] | None = None) -> Path:
        """A report folder signed with the auditor's portal key, as ``haia audit`` writes;
        its HTML carries a script the report frame must not run."""
        self.reports += 1
        return write_report(self.tmp / f"report-{self.reports}", suite, self.actor("aud").key,
                            "aud", run=self.reports, findings=findings,
                            extra={"scorecard": SCORECARD},
                            html=f"<html><body><h1>{suite}</h1><script>alert(1)</script>"
                                 "</body></html>")

    def audit(self, suite: str, deployment: int | None = None,
              findings: list[dict[str, str]] | None = None) -> int:
        return int(self.registry.record_audit(
            self.version, self.report(suite, findings), actor=self.actor("aud"),
            independence=INDEPENDENT, deployment_id=deployment)["id"])

    def audited(self, deployment: int | None = None) -> list[int]:
        return [self.audit(suite, deployment) for suite in CORE]
