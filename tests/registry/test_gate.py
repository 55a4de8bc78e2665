"""The approval gate: each refusal of issue 20 on its own, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.registry.world import MODEL, World, answers

from haia.registry.actors import Actor
from haia.registry.errors import PermissionDenied, RuleViolation


@pytest.fixture
def w(db_url: str, tmp_path: Path) -> World:
    return World(db_url, tmp_path)


def test_a_full_independent_audit_and_two_reviewers_approve(w: World) -> None:
    d = w.ready()
    first = w.r.transition(d, "approve", actor=w["rev2"])
    assert first["status"] == "under_review" and "second reviewer" in first["awaiting"]
    done = w.r.transition(d, "approve", actor=w["rev3"])
    assert done["status"] == "approved"
    decision = done["decision"]
    assert decision["policy_version"] == 1 and decision["assessment_id"] == 1
    assert decision["evidence"]["audits"] == {"equity": 2, "privacy": 3, "safety": 1}
    assert sorted(decision["reviewers"]) == sorted(
        [u["id"] for u in w.r.list("users") if u["name"] in {"rev2", "rev3"}])
    assert w.r.verify() == []


def test_critical_findings_refuse_approval_until_two_reviewers_accept_the_risk(w: World) -> None:
    d = w.deployment()
    w.assessed(d, **{"ap-users-per-month": "10k-1m"})
    audit = w.audit("safety", findings=[{"id": f"safety-crit-{i}", "severity": "critical"}
                                        for i in range(5)])
    w.audit("equity")
    w.audit("privacy")
    w.under_review(d)
    with pytest.raises(RuleViolation, match=r"open critical finding 'safety-crit-0'"):
        w.approve(d)
    until = date.today() + timedelta(days=90)
    for i in range(5):
        w.r.accept_risk(d, audit, f"safety-crit-{i}", reason="mitigated by nurse double-check",
                        expires=until, actor=w["rev2"])
    with pytest.raises(RuleViolation, match="critical finding"):  # one reviewer is not enough
        w.r.transition(d, "approve", actor=w["rev2"])
    for i in range(5):
        w.r.accept_risk(d, audit, f"safety-crit-{i}", reason="agreed at committee",
                        expires=until, actor=w["rev3"])
    assert w.approve(d)["decision"]["evidence"]["risk_acceptances"] == list(range(1, 11))
    with pytest.raises(RuleViolation, match="expiry date in the future"):
        w.r.accept_risk(d, audit, "safety-crit-0", reason="r", expires=date.today(),
                        actor=w["rev2"])


def test_a_limit_audit_is_not_a_full_audit(w: World) -> None:
    d = w.deployment()
    w.assessed(d, **{"ap-users-per-month": "10k-1m"})
    w.audit("safety", limit=1)
    w.audit("equity")
    w.audit("privacy")
    w.under_review(d)
    with pytest.raises(RuleViolation, match=r"ran 1 of 41 items \(--limit 1\): not a full audit"):
        w.approve(d)


def test_an_audit_of_another_model_is_refused(w: World) -> None:
    with pytest.raises(RuleViolation, match=r"not version 1.0's registered model"):
        w.audit("safety", model="openai:other@http://127.0.0.1:9/v1")
    assert w.r.list("audits") == []


def test_an_audit_of_another_system_is_refused(w: World) -> None:
    with pytest.raises(RuleViolation, match="the report is of 'OtherAid'"):
        w.audit("safety", system="OtherAid")


def test_a_trivial_independence_statement_is_refused(w: World) -> None:
    with pytest.raises(RuleViolation, match="independence statement"):
        w.audit("safety", independence=".")


def test_an_auditor_of_the_developer_is_refused(w: World) -> None:
    with pytest.raises(RuleViolation, match="separation of duties"):
        w.audit("safety", auditor="insider")


def test_an_admin_cannot_audit_assess_or_approve(w: World) -> None:
    d = w.ready()
    with pytest.raises(PermissionDenied, match=r"'admin' \(admin\) may not audit"):
        w.r.check_auditor(1, actor=w["admin"], independence="x" * 40)
    with pytest.raises(PermissionDenied, match="may not assessment"):
        w.r.add_assessment(d, answers(), actor=w["admin"])
    with pytest.raises(PermissionDenied, match="may not approve"):
        w.r.transition(d, "approve", actor=w["admin"])


def test_tier_iii_needs_the_safety_equity_and_privacy_suites(w: World) -> None:
    d = w.deployment(users=50)
    w.assessed(d, kind="low", **{"aut-human-override": "never", "ap-users-per-month": "under-100"})
    assert w.r.list("assessments")[0]["tier"] == "III"
    w.audit("safety")
    w.under_review(d)
    with pytest.raises(RuleViolation, match=r"tier III and needs an independent audit of the "
                                            r"'equity' suite"):
        w.approve(d)


def test_the_audit_must_be_recent(w: World, db_url: str) -> None:
    from sqlalchemy import create_engine, text

    d = w.ready()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audits SET at = '2024-01-01 00:00:00'"))
    engine.dispose()
    with pytest.raises(RuleViolation, match="days old; the policy allows 365"):
        w.approve(d)


def test_the_developer_cannot_assess_the_deployers_deployment(w: World) -> None:
    d = w.deployment()
    with pytest.raises(PermissionDenied, match="does not belong to the deployer"):
        w.r.add_assessment(d, answers("low"), actor=w["dev"])


def test_a_new_assessment_version_needs_review(w: World) -> None:
    d = w.ready()
    rosier = w.r.add_assessment(d, answers("low", **{"ap-users-per-month": "10k-1m"}),
                                actor=w["hosp"])
    assert rosier["number"] == 2 and rosier["status"] == "awaiting_review"
    with pytest.raises(RuleViolation, match=r"assessment version 2 .* awaiting_review"):
        w.approve(d)


def test_contradictions_with_the_deployment_are_named(w: World) -> None:
    d = w.deployment(users=500_000)
    row = w.r.add_assessment(d, answers("low", **{"ws-use-area": "administrative"}),
                             system_name="Some other chatbot", actor=w["rev1"])
    assert any("ws-use-area answers 'administrative' but the registered use is 'suggest ED "
               "triage levels'" in c for c in row["contradictions"])
    assert any("not 'TriageAid'" in c for c in row["contradictions"])
    assert any("'100-10k' but deployment 1 is registered for 500000 users" in c
               for c in row["contradictions"])
    with pytest.raises(RuleViolation, match="contradicts the registered deployment"):
        w.r.review_assessment(row["id"], accept=True, actor=w["rev2"])


def test_the_assessment_author_cannot_review_or_approve(w: World) -> None:
    d = w.deployment()
    row = w.r.add_assessment(d, answers(**{"ap-users-per-month": "10k-1m"}), actor=w["rev1"])
    with pytest.raises(RuleViolation, match="author of an assessment cannot review it"):
        w.r.review_assessment(row["id"], accept=True, actor=w["rev1"])
    w.r.review_assessment(row["id"], accept=True, actor=w["rev2"])
    w.audited()
    w.under_review(d)
    with pytest.raises(RuleViolation, match="assessment's author cannot approve"):
        w.r.transition(d, "approve", actor=w["rev1"])


def test_tier_iv_needs_two_different_reviewers(w: World) -> None:
    d = w.ready()
    w.r.transition(d, "approve", actor=w["rev2"])
    again = w.r.transition(d, "approve", actor=w["rev2"])
    assert again["status"] == "under_review" and again.get("awaiting")
    assert w.r.transition(d, "approve", actor=w["rev3"])["status"] == "approved"


def test_a_rejection_needs_a_reason(w: World) -> None:
    d = w.ready()
    with pytest.raises(RuleViolation, match="'reject' needs a reason"):
        w.r.transition(d, "reject", actor=w["rev2"])
    assert w.r.transition(d, "reject", actor=w["rev2"], reason="no paediatric evidence"
                          )["status"] == "rejected"


def test_the_actor_must_hold_the_registered_key(w: World) -> None:
    from haia.registry.actors import Actor

    d = w.ready()
    with pytest.raises(PermissionDenied, match="not the one registered"):
        w.r.transition(d, "approve", actor=Actor.generate("rev2"))
    with pytest.raises(PermissionDenied, match="no registered user"):
        w.r.transition(d, "approve", actor=Actor.generate("mallory"))


def test_the_policy_comes_from_the_registry_and_changes_with_four_eyes(
        w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAIA_AT_SCALE_USERS", "999999999")
    d = w.deployment(users=500_000)
    w.assessed(d, kind="low", **{"ap-users-per-month": "10k-1m"})  # tier I, but at scale
    w.under_review(d)
    with pytest.raises(RuleViolation, match=r"deployed at scale .* 'safety' suite"):
        w.approve(d, "rev2")
    proposed = w.r.propose_policy({"at_scale_users_per_month": 1_000_000,
                                   "at_scale_queries_per_month": 10_000_000},
                                  reason="national threshold", actor=w["admin"])
    with pytest.raises(RuleViolation, match="other than the one who proposed"):
        w.r.activate_policy(proposed["version"], actor=w["admin"])
    with pytest.raises(PermissionDenied, match=r"may not policy.propose"):
        w.r.propose_policy({"min_items": 1}, reason="x", actor=w["rev1"])
    w.r.activate_policy(proposed["version"], actor=w["admin2"])
    decision = w.approve(d, "rev2")["decision"]
    assert decision["policy_version"] == 2 and decision["evidence"]["at_scale"] is False
    kinds = [e.kind for e in w.r.events() if e.subject.startswith("policies/")]
    assert kinds == ["policy.activated", "policy.proposed", "policy.superseded",
                     "policy.activated"]


def test_a_new_version_starts_unapproved_and_moving_to_it_reopens(w: World) -> None:
    d = w.ready()
    w.approve(d)
    v2 = w.r.add_version("TriageAid", "2.0.0", model_id="openai:triage-70b@http://x/v1",
                         actor=w["dev"])
    moved = w.r.update_deployment(d, version_id=v2["id"], actor=w["rev1"])
    assert moved["status"] == "under_review"
    with pytest.raises(RuleViolation, match=r"none is recorded for version 2.0.0"):
        w.approve(d)


def test_crossing_the_at_scale_threshold_reopens_review(w: World) -> None:
    d = w.deployment(users=50)
    w.assessed(d, kind="low", **{"ap-users-per-month": "under-100"})
    w.under_review(d)
    assert w.approve(d, "rev2")["status"] == "approved"
    assert w.r.update_deployment(d, users_per_month=40_000, actor=w["rev1"]
                                 )["status"] == "under_review"
    history = w.r.show("deployments", d)["history"]
    assert history[-1]["kind"] == "workflow.reopened" and "now at scale" in history[-1]["reason"]
    # an at-scale deployment added after the approval is not approved by it
    assert w.r.show("deployments", w.deployment(users=900_000))["status"] == "draft"


def test_a_deployment_cannot_start_in_the_past(w: World) -> None:
    with pytest.raises(RuleViolation, match="in the past"):
        w.r.add_deployment(1, "Old site", deployer="CityHealth",
                           start_date=date.today() - timedelta(days=1), actor=w["rev1"])


def test_an_incident_reopens_and_blocks_reapproval_until_resolved(w: World) -> None:
    d = w.ready()
    w.approve(d)
    incident = w.r.report_incident(d, severity="high", description="sepsis triaged as ESI 4",
                                   actor=w["rev1"])
    assert w.r.show("deployments", d)["status"] == "under_review"
    with pytest.raises(RuleViolation, match="incident 1 \\(high\\) is reported"):
        w.r.transition(d, "approve", actor=w["rev2"])
    with pytest.raises(RuleViolation, match="root cause"):
        w.r.update_incident(incident["id"], status="resolved", actor=w["rev1"])
    w.r.update_incident(incident["id"], status="triaged", serious=True, actor=w["rev1"])
    w.r.update_incident(incident["id"], status="investigating", actor=w["dev"])
    w.r.update_incident(incident["id"], status="resolved", root_cause="vital signs ignored",
                        corrective_action="prompt reads vitals first; retrained", actor=w["dev"])
    with pytest.raises(RuleViolation, match="serious incident 1 has not been notified"):
        w.r.transition(d, "approve", actor=w["rev2"])
    w.r.update_incident(incident["id"], notified_on=date.today(), authority="National agency",
                        actor=w["rev1"])
    assert w.approve(d)["status"] == "approved"
    shown = w.r.show("incidents", incident["id"])
    assert shown["status"] == "resolved" and shown["serious"] == 1 and shown["notified_on"]


def test_anyone_can_report_an_incident_held_and_deidentified(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path, deidentify=None)  # the real haia.privacy de-identifier
    d = w.ready()
    w.approve(d)
    with pytest.raises(Exception, match="--category"):
        w.r.report_incident(d, severity="high", description="x")
    row = w.r.report_incident(d, severity="critical", category="patient",
                              description="John Smith (MRN 4839201) was told to stay home "
                                          "with chest pain and called 555-123-4567.")
    assert row["status"] == "held" and "John Smith" not in row["description"]
    assert "4839201" not in row["description"] and "555-123-4567" not in row["description"]
    assert w.r.list("incidents", public=True) == []
    assert w.r.show("deployments", d)["status"] == "approved"  # held: no effect yet
    w.r.moderate("incidents", row["id"], publish=True, actor=w["rev2"])
    assert w.r.show("deployments", d)["status"] == "under_review"
    assert len(w.r.list("incidents", public=True)) == 1
    assert w.r.verify() == []


def test_suspend_and_withdraw_are_ledgered_with_reasons(w: World) -> None:
    d = w.ready()
    w.approve(d)
    with pytest.raises(RuleViolation, match="needs a reason"):
        w.r.transition(d, "suspend", actor=w["rev2"])
    assert w.r.transition(d, "suspend", actor=w["rev2"], reason="incident cluster"
                          )["status"] == "suspended"
    assert w.r.transition(d, "withdraw", actor=w["dev"], reason="vendor ends the product"
                          )["status"] == "withdrawn"
    kinds = [h["kind"] for h in w.r.show("deployments", d)["history"]]
    assert kinds[-2:] == ["workflow.suspend", "workflow.withdraw"]
    assert [x["action"] for x in w.r.list("decisions")][-2:] == ["suspend", "withdraw"]


def test_feedback_category_is_checked_and_reaches_the_decision(w: World) -> None:
    d = w.ready()
    with pytest.raises(RuleViolation, match="registered as developer"):
        w.r.add_feedback("TriageAid", stakeholder="patient", text="great", actor=w["dev"])
    w.r.add_feedback("TriageAid", stakeholder="patient", text="John Smith waited 3 hours")
    w.r.add_feedback("TriageAid", stakeholder="reviewer", text="nurses override it often",
                     actor=w["rev1"])
    summary = w.approve(d)["decision"]["evidence"]["feedback"]
    assert summary == {"patient": {"published": 0, "held": 1, "verified": 0},
                       "reviewer": {"published": 1, "held": 0, "verified": 1}}
    assert "John Smith" not in w.r.list("feedback")[0]["text"]


def test_ledger_signatures_prove_who_did_what(w: World, db_url: str) -> None:
    from sqlalchemy import create_engine, text

    d = w.ready()
    w.approve(d)
    assert w.r.verify() == []
    approve = next(e for e in w.r.events() if e.kind == "workflow.approve")
    forged = w["rev1"].sign(approve.hash)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger SET signature = :s WHERE seq = :q"),
                     {"s": forged, "q": approve.seq})
        conn.execute(text("UPDATE ledger SET signature = NULL WHERE seq = 3"))
    engine.dispose()
    problems = w.r.verify()
    assert f"event {approve.seq} (workflow.approve): signature is not by the key registered " \
        "for 'rev3'" in problems
    assert "event 3 (organisation.created) by 'admin' is not signed" in problems


def test_model_is_the_versions(w: World) -> None:
    assert w.r.show("versions", 1)["model_id"] == MODEL


def test_an_audit_older_than_the_policy_allows_makes_re_review_due(w: World,
                                                                   db_url: str) -> None:
    from sqlalchemy import create_engine, text

    d = w.ready()
    w.approve(d)
    assert w.r.due() == []
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audits SET at = '2024-01-01 00:00:00' WHERE id = 2"))
    engine.dispose()
    assert w.r.due() == [{"deployment": d, "audits": [2],
                          "reason": "audit(s) 2 older than the policy's 365 days"}]
    with pytest.raises(PermissionDenied, match="may not review"):
        w.r.reopen_due(actor=w["dev"])
    assert w.r.reopen_due(actor=w["rev2"])[0]["status"] == "under_review"
    assert w.r.due() == []


def test_reviewers_decide_for_the_deployer_or_as_a_regulator(w: World) -> None:
    d = w.ready()
    w.r.add_organisation("Agency", kind="regulator", actor=w["admin"])
    outsider, agency = Actor.generate("outsider"), Actor.generate("inspector")
    w.r.add_user("outsider", "reviewer", organisation="AuditCo", public_key=outsider.public_key,
                 actor=w["admin"])
    w.r.add_user("inspector", "reviewer", organisation="Agency", public_key=agency.public_key,
                 actor=w["admin"])
    with pytest.raises(RuleViolation, match="neither to the deployer of deployment 1"):
        w.r.transition(d, "approve", actor=outsider)
    with pytest.raises(RuleViolation, match="separation of duties"):
        w.r.transition(d, "approve", actor=w["devrev"])
    w.r.transition(d, "approve", actor=w["rev2"])
    assert w.r.transition(d, "approve", actor=agency)["status"] == "approved"


def test_only_a_deployment_of_a_version_can_be_approved(w: World) -> None:
    w.r.add_system("Bare", developer="MedAI", intended_use="u", clinical_setting="s",
                   intended_users="u", actor=w["dev"])  # a system with no version
    with pytest.raises(Exception, match="no deployment 'Bare'"):
        w.r.transition("Bare", "approve", actor=w["rev2"])  # type: ignore[arg-type]
    with pytest.raises(Exception, match="no version 99"):
        w.r.add_deployment(99, "Site", deployer="CityHealth", actor=w["rev1"])
