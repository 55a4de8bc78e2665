"""Every registry action for every role (and the assessment's author), as docs/governance.md
tabulates it: a role not allowed gets PermissionDenied; the allowed role's attempt goes through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.registry.world import INDEPENDENT, MODEL, World, answers

from haia.registry.actors import Actor
from haia.registry.dossier import export
from haia.registry.errors import PermissionDenied, RuleViolation
from haia.registry.service import PERMISSIONS

ROLES = ("admin", "auditor", "developer", "reviewer", "stakeholder", "public")
# action: roles allowed (written out here, not read from the code under test)
EXPECTED = {
    "organisation": {"admin"}, "user": {"admin"}, "key": {"admin"},
    "policy.propose": {"admin"}, "policy.activate": {"admin"},
    "system": {"developer"}, "version": {"developer"},
    "deployment": {"developer", "reviewer"}, "deployment.update": {"developer", "reviewer"},
    "assessment": {"developer", "reviewer"}, "assessment.review": {"reviewer"},
    "audit": {"auditor"},
    "submit": {"developer", "reviewer"}, "review": {"reviewer"}, "approve": {"reviewer"},
    "reject": {"reviewer"}, "accept_risk": {"reviewer"}, "suspend": {"reviewer"},
    "withdraw": {"developer", "reviewer"},
    "incident": set(ROLES), "incident.update": {"developer", "reviewer"},
    "moderate": {"reviewer"}, "feedback": set(ROLES), "feedback.reply": {"developer"},
    "export": {"admin", "auditor", "developer", "reviewer"},
}
USER = {"admin": "admin2", "auditor": "aud", "developer": "dev", "reviewer": "rev2",
        "stakeholder": "nurse", "public": "pat"}
CATEGORY = {"public": "patient", "stakeholder": "clinician"}  # else the role itself
LATER = date.today() + timedelta(days=60)


def _approved(w: World) -> int:
    d = w.ready()
    w.approve(d)
    return d


def _with_finding(w: World) -> dict[str, int]:
    d = w.deployment()
    w.assessed(d, **{"ap-users-per-month": "10k-1m"})
    audit = w.audit("safety", findings=[{"id": "f1", "severity": "critical"}])
    return {"d": d, "audit": audit}


Setup = Callable[[World], Any]
Call = Callable[[World, Actor, Any, str], Any]
CASES: dict[str, tuple[Setup, Call]] = {
    "organisation": (lambda w: None,
                     lambda w, a, c, n: w.r.add_organisation(f"Org {n}", actor=a)),
    "user": (lambda w: None, lambda w, a, c, n: w.r.add_user(f"u-{n}", "public", actor=a)),
    "key": (lambda w: None, lambda w, a, c, n: w.r.register_key(
        "pat", Actor.generate("pat").public_key, actor=a)),
    "policy.propose": (lambda w: None, lambda w, a, c, n: w.r.propose_policy(
        {"min_items": 25}, reason="more items", actor=a)),
    "policy.activate": (lambda w: w.r.propose_policy({"min_items": 25}, reason="r",
                                                     actor=w["admin"])["version"],
                        lambda w, a, c, n: w.r.activate_policy(c, actor=a)),
    "system": (lambda w: None, lambda w, a, c, n: w.r.add_system(
        f"S {n}", developer="MedAI", intended_use="u", clinical_setting="s",
        intended_users="u", actor=a)),
    "version": (lambda w: None, lambda w, a, c, n: w.r.add_version(
        "TriageAid", f"v-{n}", model_id=MODEL, actor=a)),
    "deployment": (lambda w: None, lambda w, a, c, n: w.r.add_deployment(
        1, f"site {n}", deployer="CityHealth", actor=a)),
    "deployment.update": (lambda w: w.deployment(), lambda w, a, c, n: w.r.update_deployment(
        c, users_per_month=20, actor=a)),
    "assessment": (lambda w: w.deployment(), lambda w, a, c, n: w.r.add_assessment(
        c, answers(**{"ap-users-per-month": "10k-1m"}), actor=a)),
    "assessment.review": (
        lambda w: w.r.add_assessment(w.deployment(), answers(**{"ap-users-per-month":
                                                                "10k-1m"}),
                                     actor=w["rev1"])["id"],
        lambda w, a, c, n: w.r.review_assessment(c, accept=True, actor=a)),
    "audit": (lambda w: None, lambda w, a, c, n: w.r.record_audit(
        1, w.report("safety", signer=n), actor=a, independence=INDEPENDENT)),
    "submit": (lambda w: w.deployment(), lambda w, a, c, n: w.r.transition(c, "submit",
                                                                            actor=a)),
    "review": (lambda w: _submitted(w), lambda w, a, c, n: w.r.transition(c, "review",
                                                                          actor=a)),
    "approve": (lambda w: w.ready(), lambda w, a, c, n: w.r.transition(c, "approve", actor=a)),
    "reject": (lambda w: w.ready(), lambda w, a, c, n: w.r.transition(
        c, "reject", reason="evidence missing", actor=a)),
    "accept_risk": (_with_finding, lambda w, a, c, n: w.r.accept_risk(
        c["d"], c["audit"], "f1", reason="mitigated", expires=LATER, actor=a)),
    "suspend": (_approved, lambda w, a, c, n: w.r.transition(c, "suspend", reason="cluster",
                                                             actor=a)),
    "withdraw": (lambda w: w.deployment(), lambda w, a, c, n: w.r.transition(
        c, "withdraw", reason="ended", actor=a)),
    "incident": (lambda w: w.deployment(), lambda w, a, c, n: w.r.report_incident(
        c, severity="low", description="slow", actor=a)),
    "incident.update": (
        lambda w: w.r.report_incident(w.deployment(), severity="low", description="slow",
                                      actor=w["rev1"])["id"],
        lambda w, a, c, n: w.r.update_incident(c, status="triaged", actor=a)),
    "moderate": (
        lambda w: w.r.report_incident(w.deployment(), severity="low", description="slow",
                                      category="patient")["id"],
        lambda w, a, c, n: w.r.moderate("incidents", c, publish=True, actor=a)),
    "feedback": (lambda w: None, lambda w, a, c, n: w.r.add_feedback(
        "TriageAid", stakeholder=CATEGORY.get(_role(n), _role(n)), text="ok", actor=a)),
    "feedback.reply": (
        lambda w: w.r.add_feedback("TriageAid", stakeholder="reviewer", text="unclear levels",
                                   actor=w["rev1"])["id"],
        lambda w, a, c, n: w.r.reply_feedback(c, text="fixed in 1.1", actor=a)),
    "export": (lambda w: w.deployment(), lambda w, a, c, n: export(
        w.r, "deployment", c, w.tmp / f"dossier-{n}", actor=a)),
}


def _submitted(w: World) -> int:
    d = w.deployment()
    w.r.transition(d, "submit", actor=w["rev1"])
    return d


def _role(name: str) -> str:
    return next(role for role, user in {**USER, "developer": "dev"}.items() if user == name)


def test_the_table_covers_every_action() -> None:
    assert set(CASES) == set(EXPECTED) == set(PERMISSIONS)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_role_by_action(action: str, tmp_path: Path) -> None:
    w = World(f"sqlite:///{tmp_path / 'r.db'}", tmp_path)
    setup, call = CASES[action]
    context = setup(w)
    allowed = EXPECTED[action]
    user = {**USER, "developer": "hosp"} if action == "assessment" else USER  # the deployer's
    for role in [r for r in ROLES if r not in allowed]:  # refusals first: state unchanged
        with pytest.raises(PermissionDenied, match=f"may not {action}"):
            call(w, w[user[role]], context, user[role])
    primary, *others = [r for r in ROLES if r in allowed]
    assert call(w, w[user[primary]], context, user[primary]) is not None
    for role in others:  # allowed: the state may forbid a second go, the role never does
        try:
            call(w, w[user[role]], context, user[role])
        except PermissionDenied as exc:  # pragma: no cover - the failure this test looks for
            pytest.fail(f"{role} was refused {action}: {exc}")
        except RuleViolation:
            pass
    assert w.r.verify() == []


def test_the_assessments_author_can_neither_review_nor_approve(tmp_path: Path) -> None:
    w = World(f"sqlite:///{tmp_path / 'r.db'}", tmp_path)
    d = w.deployment()
    a = w.r.add_assessment(d, answers(**{"ap-users-per-month": "10k-1m"}), actor=w["rev1"])
    with pytest.raises(RuleViolation, match="author of an assessment cannot review"):
        w.r.review_assessment(a["id"], accept=True, actor=w["rev1"])
    w.r.review_assessment(a["id"], accept=True, actor=w["rev2"])
    w.audited()
    w.under_review(d)
    with pytest.raises(RuleViolation, match="assessment's author cannot approve"):
        w.r.transition(d, "approve", actor=w["rev1"])
    with pytest.raises(RuleViolation, match="separation of duties"):  # the vendor's reviewer
        w.r.transition(d, "approve", actor=w["devrev"])


def test_the_developers_reviewer_does_not_moderate_what_is_said_of_its_system(
        tmp_path: Path) -> None:
    w = World(f"sqlite:///{tmp_path / 'r.db'}", tmp_path)
    held = w.r.add_feedback("TriageAid", stakeholder="patient", text="it ignored my answer")
    with pytest.raises(RuleViolation, match="belongs to the system's developer"):
        w.r.moderate("feedback", held["id"], publish=False, reason="noise", actor=w["devrev"])
    incident = w.r.report_incident(w.deployment(), severity="low", description="slow",
                                   category="patient")
    with pytest.raises(RuleViolation, match="belongs to the system's developer"):
        w.r.moderate("incidents", incident["id"], publish=True, actor=w["devrev"])
    assert w.r.moderate("feedback", held["id"], publish=True, actor=w["rev1"])
