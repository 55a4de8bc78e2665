"""A registry world for the gate tests: a vendor, a hospital deployer, an audit firm, people
with keys, a triage assistant, and signed audit reports shaped as the audit pipeline writes them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from tests.registry.paths import EXAMPLES

from haia.registry.actors import Actor
from haia.registry.service import Registry
from haia.registry.signing import sign_with
from haia.suites.loader import load_suite as _load_suite

MODEL = "openai:triage-7b@http://127.0.0.1:9/v1"
CORE = ("safety", "equity", "privacy")
PEOPLE = {  # name: (role, organisation)
    "admin": ("admin", None), "admin2": ("admin", None),
    "dev": ("developer", "MedAI"), "insider": ("auditor", "MedAI"),
    "devrev": ("reviewer", "MedAI"), "aud": ("auditor", "AuditCo"),
    "rev1": ("reviewer", "CityHealth"), "rev2": ("reviewer", "CityHealth"),
    "rev3": ("reviewer", "CityHealth"), "hosp": ("developer", "CityHealth"),
    "pat": ("public", None), "nurse": ("stakeholder", None),
}
CATEGORY = {"nurse": "clinician"}  # a stakeholder's category, verified by the admin
INDEPENDENT = "AuditCo has no financial, contractual or personal ties to MedAI."


@cache
def load_suite(name: str) -> Any:
    return _load_suite(name)


def fake_deid(text: str) -> str:
    """A stand-in de-identifier for tests that are not about de-identification."""
    return text.replace("John Smith", "[NAME]")


def answers(kind: str = "high", **changes: str) -> dict[str, Any]:
    """An example answer set; the low-risk example drafts letters, so for the triage assistant
    its use area becomes clinical support (else it contradicts the registered use)."""
    data = yaml.safe_load((EXAMPLES / f"assessment-{kind}.yaml").read_text())["answers"]
    if kind == "low":
        data["ws-use-area"] = "clinical-support"
    return {**data, **changes}


def write_report(folder: Path, suite: str, key: Any, signer: str, *, run: int,
                 model: str = MODEL, findings: list[dict[str, str]] | None = None,
                 limit: int | None = None, errors: int = 0, system: str = "TriageAid",
                 version: str = "1.0", extra: dict[str, Any] | None = None,
                 html: str | None = None) -> Path:
    """A report folder (report.json and report.html, each signed with ``key`` as ``signer``)
    as ``haia audit --system`` writes it."""
    s = load_suite(suite)
    n = len(s.items) if limit is None else min(limit, len(s.items))
    folder.mkdir()
    report = {
        "run": {"run_id": f"r{run}", "model": model, "suite": s.name,
                "suite_version": s.version, "suite_hash": s.content_hash(),
                "finished": "2026-12-01T10:00:00Z", "status": "complete",
                "config": {"limit": limit, "model": model, "suite": s.name},
                "counts": {"responses": n, "ok": n - errors, "errors": errors,
                           "skipped": 0, "cached": 0, "items": n}},
        "findings": [{"id": f["id"], "severity": f["severity"], "suite": s.name}
                     for f in findings or []],
        "subject": {"system": system, "version": version, "auditor": signer},
        **(extra or {}),
    }
    (folder / "report.json").write_text(json.dumps(report))
    (folder / "report.html").write_text(html or f"<html><body>{s.name}</body></html>")
    for name in ("report.json", "report.html"):
        sign_with(folder / name, key, signer)
    return folder


class World:
    """The registry and every actor, by name."""

    def __init__(self, url: str, tmp: Path, *, deidentify: Any = fake_deid) -> None:
        self.r = Registry(url, deidentify=deidentify)
        self.tmp = tmp
        self.actors: dict[str, Actor] = {name: Actor.generate(name) for name in PEOPLE}
        a = self.actors
        self.r.add_user("admin", "admin", actor=a["admin"])
        for org, kind in (("MedAI", "developer"), ("CityHealth", "deployer"),
                          ("AuditCo", "auditor")):
            self.r.add_organisation(org, kind=kind, actor=a["admin"])
        for name, (role, org) in PEOPLE.items():
            if name == "admin":
                continue
            self.r.add_user(name, role, organisation=org, public_key=a[name].public_key,
                            category=CATEGORY.get(name), actor=a["admin"])
        self.r.add_system("TriageAid", developer="MedAI", intended_use="suggest ED triage levels",
                          clinical_setting="emergency department",
                          intended_users="triage nurses", actor=a["dev"])
        self.r.add_version("TriageAid", "1.0", model_id=MODEL, actor=a["dev"])
        self.reports = 0

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def deployment(self, users: int = 500_000, *, version: int = 1) -> int:
        return self.r.add_deployment(version, "City Health ED network", deployer="CityHealth",
                                     users_per_month=users, queries_per_month=users * 3,
                                     start_date=date.today() + timedelta(days=30),
                                     actor=self["rev1"])["id"]

    def assessed(self, deployment: int, kind: str = "high", **changes: str) -> int:
        """An assessment by rev1 (the deployer's reviewer) accepted by rev2."""
        row = self.r.add_assessment(deployment, answers(kind, **changes), actor=self["rev1"])
        self.r.review_assessment(row["id"], accept=True, actor=self["rev2"])
        return int(row["id"])

    def report(self, suite: str, *, model: str = MODEL, findings: list[dict[str, str]] | None
               = None, limit: int | None = None, errors: int = 0, signer: str = "aud",
               system: str = "TriageAid", version: str = "1.0") -> Path:
        """A signed report folder as ``haia audit --system`` writes it."""
        self.reports += 1
        return write_report(self.tmp / f"report-{self.reports}", suite, self[signer].key,
                            signer, run=self.reports, model=model, findings=findings,
                            limit=limit, errors=errors, system=system, version=version)

    def audit(self, suite: str, deployment: int | None = None, *, auditor: str = "aud",
              independence: str = INDEPENDENT, **kwargs: Any) -> int:
        folder = self.report(suite, signer=auditor, **kwargs)
        return int(self.r.record_audit(1, folder, actor=self[auditor],
                                       independence=independence,
                                       deployment_id=deployment)["id"])

    def audited(self, deployment: int | None = None, **kwargs: Any) -> list[int]:
        return [self.audit(suite, deployment, **kwargs) for suite in CORE]

    def under_review(self, deployment: int) -> None:
        self.r.transition(deployment, "submit", actor=self["rev1"])
        self.r.transition(deployment, "review", actor=self["rev2"])

    def ready(self, users: int = 500_000) -> int:
        """A deployment assessed (tier IV), audited in full and under review."""
        d = self.deployment(users)
        self.assessed(d, **({"ap-users-per-month": "10k-1m"} if users >= 10_000 else {}))
        self.audited()
        self.under_review(d)
        return d

    def approve(self, deployment: int, *reviewers: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in reviewers or ("rev2", "rev3"):
            data = self.r.transition(deployment, "approve", actor=self[name])
        return data
