"""Every registry operation, on SQLite and PostgreSQL, with roles and governance rules."""

from __future__ import annotations

import pytest

from haia.errors import HaiaError
from haia.registry.service import PermissionDenied, Policy, Registry, RuleViolation


def seeded(url: str, policy: Policy | None = None) -> Registry:
    """A registry with an admin, a developer organisation and an auditing one, and a system."""
    r = Registry(url, policy)
    r.add_user("admin", "admin")
    r.add_organisation("MedAI", kind="developer", actor="admin")
    r.add_organisation("AuditCo", kind="auditor", actor="admin")
    r.add_user("dev", "developer", organisation="MedAI", actor="admin")
    r.add_user("insider", "auditor", organisation="MedAI", actor="admin")
    r.add_user("aud", "auditor", organisation="AuditCo", actor="admin")
    r.add_user("rev", "reviewer", organisation="AuditCo", actor="admin")
    r.add_user("pub", "public", actor="admin")
    r.add_system("TriageAid", developer="MedAI", intended_use="suggest ED triage levels",
                 clinical_setting="emergency department", intended_users="triage nurses",
                 modalities=["text"], model_provider="MedAI", actor="dev")
    r.add_version("TriageAid", "1.0", model_id="openai:triage@http://x", actor="dev")
    return r


def low_risk_answers() -> dict:
    import yaml
    from tests.registry.paths import EXAMPLES

    return yaml.safe_load((EXAMPLES / "assessment-low.yaml").read_text())["answers"]


def test_every_operation_is_stored_and_ledgered(db_url: str) -> None:
    r = seeded(db_url)
    r.add_deployment(1, "City Hospital", users_per_month=40, queries_per_month=900, actor="dev")
    r.record_audit(1, run_id="r1", suite="starter", model="m", findings={"high": 1},
                   auditor="aud", independence="No ties to MedAI.")
    r.add_assessment("TriageAid", low_risk_answers(), assessor="dev")
    r.report_incident(1, severity="medium", description="wrong level for sepsis", reporter="rev")
    r.add_feedback("TriageAid", stakeholder="patient", text="Please explain the AI's role")
    counts = {t: len(r.list(t)) for t in ("organisations", "users", "systems", "versions",
                                          "deployments", "audits", "assessments", "incidents",
                                          "feedback")}
    assert counts == {"organisations": 2, "users": 6, "systems": 1, "versions": 1,
                      "deployments": 1, "audits": 1, "assessments": 1, "incidents": 1,
                      "feedback": 1}
    shown = r.show("systems", "TriageAid")
    assert shown["status"] == "draft" and shown["history"][0]["kind"] == "system.created"
    kinds = [e.kind for e in r.events()]
    assert len(kinds) == sum(counts.values())
    assert r.verify() == []
    assert r.events()[-1].actor == "public"


def test_roles_are_enforced(db_url: str) -> None:
    r = seeded(db_url)
    with pytest.raises(PermissionDenied, match="may not system"):
        r.add_system("X", developer="MedAI", intended_use="u", clinical_setting="s",
                     intended_users="u", actor="pub")
    with pytest.raises(PermissionDenied, match="no registered user"):
        r.add_version("TriageAid", "2", model_id="m", actor="mallory")
    with pytest.raises(PermissionDenied, match="may not user"):
        r.add_user("eve", "admin", actor="dev")
    with pytest.raises(PermissionDenied, match="may not approve"):
        r.transition("TriageAid", "approve", actor="dev")
    with pytest.raises(HaiaError, match="already exists"):
        r.add_organisation("MedAI", actor="admin")


def test_the_first_user_must_be_an_admin(db_url: str) -> None:
    r = Registry(db_url)
    with pytest.raises(RuleViolation, match="first user"):
        r.add_user("x", "developer")
    with pytest.raises(PermissionDenied, match="needs an acting user"):
        r.add_system("S", developer=1, intended_use="u", clinical_setting="s",
                     intended_users="u")
    assert r.list("users") == [] and r.events() == []


def test_separation_of_duties(db_url: str) -> None:
    r = seeded(db_url)
    with pytest.raises(RuleViolation, match="separation of duties"):
        r.record_audit(1, run_id="r", suite="s", model="m", findings={}, auditor="insider")
    r.transition("TriageAid", "submit", actor="dev")
    r.add_user("devrev", "reviewer", organisation="MedAI", actor="admin")
    with pytest.raises(RuleViolation, match="separation of duties"):
        r.transition("TriageAid", "review", actor="devrev")
    assert r.list("audits") == []
    assert r.verify() == []


def test_workflow_and_the_at_scale_rule(db_url: str) -> None:
    r = seeded(db_url, Policy(at_scale_users_per_month=10_000))
    r.add_deployment(1, "Regional network", users_per_month=25_000, actor="dev")
    with pytest.raises(RuleViolation, match="cannot review"):
        r.transition("TriageAid", "review", actor="rev")  # still a draft
    r.transition("TriageAid", "submit", actor="dev")
    r.transition("TriageAid", "review", actor="rev")
    with pytest.raises(RuleViolation, match="no impact assessment"):
        r.transition("TriageAid", "approve", actor="rev")
    r.add_assessment("TriageAid", low_risk_answers(), assessor="dev")
    with pytest.raises(RuleViolation, match=r"deployed at scale .* independent audit"):
        r.transition("TriageAid", "approve", actor="rev")
    r.record_audit(1, run_id="r1", suite="equity", model="m", findings={}, auditor="aud")
    with pytest.raises(RuleViolation, match="independent audit"):  # no declaration: not independent
        r.transition("TriageAid", "approve", actor="rev")
    r.record_audit(1, run_id="r2", suite="equity", model="m", findings={}, auditor="aud",
                   independence="No financial or personal ties to MedAI.")
    assert r.transition("TriageAid", "approve", actor="rev")["status"] == "approved"
    assert r.transition("TriageAid", "monitor", actor="rev")["status"] == "in_monitoring"
    r.report_incident(1, severity="high", description="missed sepsis", reporter="aud")
    assert r.show("systems", 1)["status"] == "under_review"  # an incident re-opens review
    trail = [(e.kind, e.actor) for e in r.events() if e.subject == "systems/1"]
    assert trail == [("system.created", "dev"), ("workflow.submit", "dev"),
                     ("workflow.review", "rev"), ("workflow.approve", "rev"),
                     ("workflow.monitor", "rev"), ("workflow.reopened", "aud")]
    assert r.transition("TriageAid", "retire", actor="dev")["status"] == "retired"
    assert r.verify() == []


def test_below_scale_needs_no_independent_audit(db_url: str) -> None:
    r = seeded(db_url, Policy(at_scale_users_per_month=10_000))
    r.add_deployment(1, "One clinic", users_per_month=30, actor="dev")
    r.add_assessment("TriageAid", low_risk_answers(), assessor="dev")
    r.transition("TriageAid", "submit", actor="dev")
    r.transition("TriageAid", "review", actor="rev")
    assert r.transition("TriageAid", "approve", actor="rev")["status"] == "approved"


def test_bad_input_is_a_clear_error(db_url: str) -> None:
    r = seeded(db_url)
    with pytest.raises(HaiaError, match="unknown role"):
        r.add_user("z", "overlord", actor="admin")
    with pytest.raises(HaiaError, match="no system 'Nope'"):
        r.add_version("Nope", "1", model_id="m", actor="dev")
    with pytest.raises(HaiaError, match="must not be empty"):
        r.add_deployment(1, "  ", actor="dev")
    with pytest.raises(HaiaError, match="unknown action"):
        r.transition("TriageAid", "launch", actor="dev")
    assert r.verify() == []
