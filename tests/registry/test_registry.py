"""Registry basics on SQLite and PostgreSQL: every operation ledgered and signed, the first
admin, clear errors, and a registry written by schema 0001 migrated with a clear message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.registry.world import PEOPLE, World, answers

from haia.errors import HaiaError
from haia.registry.actors import Actor
from haia.registry.service import PermissionDenied, Registry, RuleViolation

DATA = Path(__file__).with_name("data")


def test_every_operation_is_stored_ledgered_and_signed(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path)
    d = w.deployment(users=40)
    w.audit("safety", d)
    w.r.add_assessment(d, answers("low", **{"ap-users-per-month": "under-100"}),
                       actor=w["rev1"])
    w.r.report_incident(d, severity="medium", description="wrong level", actor=w["rev1"])
    w.r.add_feedback("TriageAid", stakeholder="patient", text="Please explain the AI's role")
    counts = {t: len(w.r.list(t)) for t in ("organisations", "users", "systems", "versions",
                                            "deployments", "audits", "assessments",
                                            "incidents", "feedback", "policies")}
    assert counts == {"organisations": 3, "users": len(PEOPLE), "systems": 1, "versions": 1,
                      "deployments": 1, "audits": 1, "assessments": 1, "incidents": 1,
                      "feedback": 1, "policies": 1}
    signed = w.r.signed_events()
    assert len(signed) == sum(counts.values())
    unsigned = [e.kind for e, sig, _ in signed if sig is None]
    assert unsigned == ["feedback.received"] and signed[-1][0].actor == "public"
    assert {fp for _, _, fp in signed if fp} <= {a.fingerprint for a in w.actors.values()}
    assert w.r.verify() == []


def test_the_first_user_is_an_admin_who_registers_themself(db_url: str) -> None:
    r = Registry(db_url)
    with pytest.raises(RuleViolation, match="first user"):
        r.add_user("x", "developer", actor=Actor.generate("x"))
    with pytest.raises(RuleViolation, match="registers themself"):
        r.add_user("root", "admin", actor=Actor.generate("someone"))
    with pytest.raises(PermissionDenied, match="needs an acting user"):
        r.add_organisation("Org")
    assert r.list("users") == [] and r.events() == []
    root = Actor.generate("root")
    r.add_user("root", "admin", actor=root)
    assert r.policy()[0] == 1 and r.verify() == []
    with pytest.raises(RuleViolation, match="needs a public key"):
        r.add_user("aud", "auditor", organisation=None, actor=root)
    with pytest.raises(RuleViolation, match="must belong to an organisation"):
        r.add_user("aud", "auditor", public_key=Actor.generate("aud").public_key, actor=root)


def test_bad_input_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path)
    with pytest.raises(HaiaError, match="unknown role"):
        w.r.add_user("z", "overlord", actor=w["admin"])
    with pytest.raises(HaiaError, match="no system 'Nope'"):
        w.r.add_version("Nope", "1", model_id="m", actor=w["dev"])
    with pytest.raises(HaiaError, match="must not be empty"):
        w.r.add_deployment(1, "  ", actor=w["dev"])
    with pytest.raises(HaiaError, match="unknown action"):
        w.r.transition(1, "launch", actor=w["dev"])
    with pytest.raises(HaiaError, match="unknown policy setting 'free_pass'"):
        w.r.propose_policy({"free_pass": True}, reason="x", actor=w["admin"])
    assert w.r.verify() == []


def test_a_registry_of_schema_0001_opens_migrated(tmp_path: Path) -> None:
    """The dump was written by the code before this change: one system approved with a "."
    independence statement and no deployment-level evidence."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript((DATA / "registry-0001.sql").read_text())
    r = Registry(f"sqlite:///{path}")
    assert r.migration_note is not None
    assert "migrated from schema 0001 to 0003" in r.migration_note
    assert "1 deployment(s) under review" in r.migration_note
    assert r.show("deployments", 1)["status"] == "under_review"  # the old approval is void
    assert r.policy()[0] == 1
    assert r.verify() == []
    again = Registry(f"sqlite:///{path}")
    assert again.migration_note is None and again.verify() == []
    # legacy users have no key; one claims their own first key, then acts with it
    admin = Actor.generate("admin")
    with pytest.raises(PermissionDenied, match="no registered signing key"):
        r.add_organisation("New", actor=admin)
    r.register_key("admin", admin.public_key, actor=admin)
    r.add_organisation("New", actor=admin)
    rev = Actor.generate("rev")
    r.register_key("rev", rev.public_key, actor=admin)
    with pytest.raises(RuleViolation, match="neither to the deployer of deployment 1 nor to a "
                                            "regulator"):
        r.transition(1, "approve", actor=rev)  # the old approval cannot simply be repeated
    assert r.verify() == []
