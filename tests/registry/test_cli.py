"""The registry from the command line: the whole journey of issue 20 (register, assess, audit
independently, approve with four eyes, report an incident, hand the dossier over), and the
checks `haia audit --system` makes before its first request."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from tests.conftest import run_haia
from tests.registry.world import INDEPENDENT, answers

from haia.testing.openai_server import ScriptedServer

PEOPLE = [("admin", "admin", None), ("admin2", "admin", None), ("dev", "developer", "MedAI"),
          ("insider", "auditor", "MedAI"), ("aud", "auditor", "AuditCo"),
          ("rev1", "reviewer", "CityHealth"), ("rev2", "reviewer", "CityHealth"),
          ("rev3", "reviewer", "CityHealth")]
SAFE = "I cannot be sure; please seek urgent care from a clinician."


def haia(url: str, *args: str, **env: str):
    return run_haia(*args, env={"HAIA_DATABASE_URL": url, "AUDPASS": "correct horse", **env})


def ok(url: str, *args: str) -> str:
    result = haia(url, *args)
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def policy_and_assessment(url: str, tmp: Path) -> None:
    """The committee's policy change and the deployer's assessment, from the command line."""
    # the committee's policy: this test audits the safety and privacy suites only (the bundled
    # default also requires equity); a change proposed by one admin, activated by another
    settings = tmp / "policy.yaml"
    settings.write_text(yaml.safe_dump({"tier_suites": {"I": [], "II": [],
                                                        "III": ["safety", "privacy"],
                                                        "IV": ["safety", "privacy"]},
                                        "at_scale_suites": ["safety", "privacy"]}))
    ok(url, "registry", "policy", "propose", "--settings", str(settings), "--reason",
       "pilot scope agreed by the committee", "--as", "admin")
    refused = haia(url, "registry", "policy", "activate", "2", "--as", "admin")
    assert refused.returncode == 2 and "other than the one who proposed" in refused.stderr
    ok(url, "registry", "policy", "activate", "2", "--as", "admin2")
    file = tmp / "answers.yaml"
    file.write_text(yaml.safe_dump({"system": "TriageAid",
                                    "answers": answers(**{"ap-users-per-month": "10k-1m"})}))
    out = ok(url, "assess", "1", "--answers", str(file), "--as", "rev1")
    assert "Risk tier IV" in out and "awaiting review" in out
    ok(url, "registry", "review-assessment", "1", "--accept", "--as", "rev2")


def setup_in_process(url: str, home: Path, model: str) -> None:
    """People with keys, organisations, the system, its version and a deployment, built
    through the service (each of these commands is tested elsewhere; this is faster)."""
    from haia.registry.actors import Actor
    from haia.registry.service import Registry
    from haia.registry.signing import generate_key

    keys = home / "keys"
    actors = {}
    for name, _, _ in PEOPLE:
        phrase = b"correct horse" if name == "aud" else None
        generate_key(name, keys, phrase)
        actors[name] = Actor.from_key_file(name, keys / f"{name}.key", phrase)
    r = Registry(url)
    r.add_user("admin", "admin", actor=actors["admin"])
    for org, kind in (("MedAI", "developer"), ("CityHealth", "deployer"),
                      ("AuditCo", "auditor")):
        r.add_organisation(org, kind=kind, actor=actors["admin"])
    for name, role, org in PEOPLE[1:]:
        r.add_user(name, role, organisation=org, public_key=actors[name].public_key,
                   actor=actors["admin"])
    r.add_system("TriageAid", developer="MedAI", intended_use="suggest ED triage levels",
                 clinical_setting="emergency department", intended_users="triage nurses",
                 actor=actors["dev"])
    r.add_version("TriageAid", "1.0", model_id=model, actor=actors["dev"])
    r.add_deployment(1, "City Health ED network", deployer="CityHealth",
                     start_date=date.today() + timedelta(days=30), users_per_month=500_000,
                     actor=actors["rev1"])


def audit_args(model: str, suite: str, out: Path, auditor: str = "aud",
               *extra: str) -> list[str]:
    return ["audit", "--model", model, "--suite", suite, "--out", str(out), "--system", "1",
            "--deployment", "1", "--auditor", auditor, "--independence", INDEPENDENT, *extra]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_whole_journey(db_url: str, tmp_path: Path, haia_home: Path) -> None:
    with ScriptedServer(lambda body: SAFE) as srv:
        model = f"openai:triage@{srv.base_url}"
        setup_in_process(db_url, haia_home, model)  # people and the system: tested elsewhere
        policy_and_assessment(db_url, tmp_path)
        reports = tmp_path / "reports"
        for suite in ("safety", "privacy"):
            ok(db_url, *audit_args(model, suite, reports / suite),
               "--passphrase-env", "AUDPASS")
    report = json.loads((reports / "safety" / "report.json").read_text())
    assert report["subject"]["system"] == "TriageAid" and report["subject"]["auditor"] == "aud"
    assert report["subject"]["independence"] == INDEPENDENT
    ok(db_url, "registry", "move", "1", "submit", "--as", "rev1")
    ok(db_url, "registry", "move", "1", "review", "--as", "rev2")
    refused = haia(db_url, "registry", "move", "1", "approve", "--as", "rev2")
    assert refused.returncode == 2 and "open critical finding" in refused.stderr
    blocking = [f["id"] for f in report["findings"] if f["severity"] in {"high", "critical"}]
    until = (date.today() + timedelta(days=120)).isoformat()
    for reviewer in ("rev2", "rev3"):
        ok(db_url, "registry", "accept-risk", "1", "1", *blocking, "--reason",
           "nurse confirms every level; re-audit in 4 months", "--expires", until,
           "--as", reviewer)
    assert "awaiting a second reviewer" in ok(db_url, "registry", "move", "1", "approve",
                                              "--as", "rev2")
    assert "deployment 1: approved" in ok(db_url, "registry", "move", "1", "approve",
                                          "--as", "rev3")
    decision = json.loads(ok(db_url, "registry", "show", "decisions", "4", "--json"))
    assert decision["action"] == "approve" and decision["policy_version"] == 2
    assert decision["evidence"]["audits"] == {"privacy": 2, "safety": 1}

    # an anonymous patient reports an incident: held, de-identified, then published
    shown = ok(db_url, "registry", "add", "incident", "1", "--severity", "high", "--category",
               "patient", "--description", "John Smith was sent home with chest pain")
    assert "held" in shown and "John Smith" not in shown
    ok(db_url, "registry", "moderate", "incidents", "1", "--publish", "--as", "rev2")
    assert json.loads(ok(db_url, "registry", "show", "deployments", "1", "--json")
                      )["status"] == "under_review"

    # the report folder moves; it still verifies, by content hash, against aud's registered key
    moved = tmp_path / "handover"
    shutil.move(str(reports), moved)
    checked = ok(db_url, "verify", "--report", str(moved / "safety" / "report.json"))
    assert "every file of recorded audit 1 intact, signed by aud" in checked
    # a report stripped of its findings and signed with a brand-new key under aud's name
    forged = tmp_path / "forged"
    shutil.copytree(moved / "safety", forged)
    data = json.loads((forged / "report.json").read_text())
    data["findings"] = []
    (forged / "report.json").write_text(json.dumps(data))
    ok(db_url, "keys", "create", "aud", "--directory", str(tmp_path / "mallory"))
    ok(db_url, "sign", str(forged / "report.json"), "--key",
       str(tmp_path / "mallory" / "aud.key"), "--signer", "aud")
    bad = haia(db_url, "verify", "--report", str(forged / "report.json"))
    assert bad.returncode == 1 and "report file changed since audit 1 was recorded" in bad.stderr

    # the dossier, verified offline in a fresh data folder
    dossier = tmp_path / "dossier"
    ok(db_url, "registry", "export", "deployment:1", "--out", str(dossier), "--reports",
       str(moved), "--as", "rev2")
    fresh = run_haia("verify", "--bundle", str(dossier),
                     env={"HAIA_HOME": str(tmp_path / "regulator"), "HAIA_DATABASE_URL": ""})
    assert fresh.returncode == 0, fresh.stderr
    assert "signed by rev2" in fresh.stdout
    assert (dossier / "public-summary.md").is_file()
    assert ok(db_url, "verify").startswith("ledger intact")


def test_audit_refuses_before_the_first_request(tmp_path: Path, haia_home: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"  # the checks are the service's: one engine
    with ScriptedServer(lambda body: SAFE) as srv:
        model = f"openai:triage@{srv.base_url}"
        setup_in_process(db_url, haia_home, model)
        out = tmp_path / "r"
        cases = [
            (audit_args(model, "privacy", out, "dev"), "may not audit"),
            (audit_args(model, "privacy", out, "insider"), "separation of duties"),
            (audit_args(model, "privacy", out), "give --passphrase-env"),
            (audit_args(model, "privacy", out, "aud", "--passphrase-env", "NOPE"),
             "NOPE is not set"),
            (audit_args("openai:other@" + srv.base_url, "privacy", out, "aud",
                        "--passphrase-env", "AUDPASS"), "not version 1.0's registered model"),
            ([*audit_args(model, "privacy", out)[:-2], "--independence", ".",
              "--passphrase-env", "AUDPASS"], "independence statement"),
        ]
        for args, message in cases:
            result = haia(db_url, *args)
            assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
            assert "Traceback" not in result.stderr
        assert srv.requests == [] and not out.exists()
    assert json.loads(ok(db_url, "registry", "list", "audits", "--json")) == []


def test_clear_errors_of_the_registry_commands(tmp_path: Path, haia_home: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    ok(db_url, "keys", "create", "admin")
    ok(db_url, "registry", "add", "user", "admin", "--role", "admin", "--as", "admin")
    no_key = haia(db_url, "registry", "add", "organisation", "X", "--as", "ghost")
    assert no_key.returncode == 2 and "no signing key for 'ghost'" in no_key.stderr
    bad_date = haia(db_url, "registry", "add", "deployment", "1", "X", "--start", "5/1/26",
                    "--as", "admin")
    assert bad_date.returncode == 2 and "expected a date YYYY-MM-DD" in bad_date.stderr
    bad_target = haia(db_url, "registry", "export", "system:1", "--out", str(tmp_path / "d"),
                      "--as", "admin")
    assert bad_target.returncode == 2 and "expected version:ID or deployment:ID" \
        in bad_target.stderr
    root = ok(db_url, "registry", "root")
    assert "events 2" in root
    assert json.loads(ok(db_url, "registry", "proof", "2"))["size"] == 2
    policy = json.loads(ok(db_url, "registry", "policy", "show"))
    assert policy["version"] == 1 and policy["settings"]["tier_suites"]["IV"] == [
        "safety", "equity", "privacy"]


def test_sign_key_without_the_registry(tmp_path: Path, haia_home: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'registry.db'}"
    ok(db_url, "keys", "create", "me", "--passphrase-env", "AUDPASS")
    out = tmp_path / "r"
    with ScriptedServer(lambda body: SAFE) as srv:
        args = ["audit", "--model", f"openai:m@{srv.base_url}", "--limit", "2", "--out", str(out),
                "--sign-key", "me"]
        refused = haia(db_url, *args)
        assert refused.returncode == 2 and "give --passphrase-env" in refused.stderr
        assert srv.requests == []
        ok(db_url, *args, "--passphrase-env", "AUDPASS")
    assert (out / "report.json.sig").is_file() and (out / "report.html.sig").is_file()
    checked = haia(db_url, "verify", "--no-registry", "--report", str(out / "report.json"),
                   "--trusted-key", str(haia_home / "keys" / "me.pub"))
    assert checked.returncode == 0, checked.stderr
