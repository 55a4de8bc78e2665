"""The portal end to end through the API and the pages: register a system, deploy, assess,
audit, approve; the public register, the audit view with signature and ledger proof,
feedback on a finding with moderation and the developer's answer, incidents, feeds."""

from __future__ import annotations

import csv
import io

from tests.portal.helpers import browser
from tests.portal.world import PortalWorld


def test_from_registration_to_the_public_register(pw: PortalWorld) -> None:
    d = pw.deployment()
    r = pw.api("PUT", f"/deployments/{d}/draft", "rev1",
               json={"answers": {"aut-autonomy-level": "decides"}})
    assert r.status_code == 200 and r.json()["tier"] is None and len(r.json()["missing"]) > 5
    assert pw.api("GET", f"/deployments/{d}/draft", "rev1").json()["answers"] == {
        "aut-autonomy-level": "decides"}
    assert pw.api("GET", f"/deployments/{d}/draft", "rev2").json()["answers"] == {}
    r = pw.api("PUT", f"/deployments/{d}/draft", "rev1",
               json={"answers": {"aut-autonomy-level": "flies"}})
    assert r.status_code == 400 and "not one of its options" in r.text
    pw.assessed(d)
    assert pw.api("GET", f"/deployments/{d}/draft", "rev1").json()["answers"] == {}
    audits = pw.audited(d)
    for action, who in (("submit", "rev1"), ("review", "rev2")):
        assert pw.api("POST", f"/deployments/{d}/transitions", who,
                      json={"action": action}).status_code == 200
    r = pw.api("POST", f"/deployments/{d}/transitions", "rev2", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["awaiting"]  # tier IV: a second reviewer signs
    r = pw.api("POST", f"/deployments/{d}/transitions", "rev3", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text

    (card,) = pw.api("GET", "/register").json()
    assert card["name"] == "TriageAid" and card["risk_tier"] == "IV"
    assert card["deployments"][0]["status"] == "approved"
    assert card["latest_audit"]["id"] == max(audits)
    assert {v["verdict"] for v in card["latest_audit"]["verdicts"]} == {"meets", "fails"}
    assert pw.api("GET", "/register", params={"tier": "II"}).json() == []
    assert pw.api("GET", "/register", params={"q": "triage"}).json()[0]["id"] == card["id"]
    assert pw.api("GET", "/register", params={"status": "rejected"}).json() == []
    rows = list(csv.DictReader(io.StringIO(pw.api("GET", "/register.csv").text)))
    assert rows[0]["name"] == "TriageAid" and rows[0]["approved_deployments"] == "1"
    assert "inclusiveness_equity: fails" in rows[0]["verdicts"]

    page = pw.client.get("/").text
    assert "TriageAid" in page and "approved" in page and ">fails<" in page
    page = pw.client.get(f"/systems/{card['id']}").text
    assert "City Health ED network" in page and "IV" in page


def test_audit_view_signature_and_proof(pw: PortalWorld) -> None:
    audit = pw.audit("safety", findings=[{"id": "safety-f1", "severity": "high"}])
    data = pw.api("GET", f"/audits/{audit}").json()
    assert data["signature"]["valid"] and data["proof_valid"]
    assert data["signature"]["ledger_event_signed"]
    assert data["open_findings"][0]["id"] == "safety-f1"
    proof = pw.api("GET", f"/ledger/{data['proof']['seq']}/proof").json()
    assert proof["root"] == pw.api("GET", "/ledger/root").json()["root"]
    page = pw.client.get(f"/audits/{audit}").text
    assert "valid</span>" in page and "included</span>" in page and "safety-f1" in page
    report = pw.client.get(f"/audits/{audit}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    # the report is changed after it was recorded: the portal says so and stops serving it
    folder = pw.tmp / f"report-{pw.reports}"
    (folder / "report.html").write_text("<html>edited</html>")
    data = pw.api("GET", f"/audits/{audit}").json()
    assert not data["signature"]["valid"] and any("report.html" in p for p in
                                                  data["signature"]["problems"])
    assert pw.client.get(f"/audits/{audit}/report").status_code == 404
    assert "not verified" in pw.client.get(f"/audits/{audit}").text
    assert pw.api("GET", "/audits/999").status_code == 404


def test_feedback_on_a_finding_moderated_and_answered(pw: PortalWorld) -> None:
    audit = pw.audit("equity", findings=[{"id": "equity-gap", "severity": "high"}])
    anon, csrf = browser(pw, None)
    r = anon.post(f"/systems/{pw.system}/feedback", data={
        "csrf_token": csrf, "stakeholder": "civil_society", "audit_id": str(audit),
        "finding": "equity-gap", "text": "Please publish the gap for Black patients."})
    assert r.status_code == 303 and "feedback-held" in r.headers["location"]
    assert "Black patients" not in pw.client.get(f"/audits/{audit}").text  # held
    r = pw.api("POST", f"/systems/{pw.system}/feedback", None, json={
        "stakeholder": "patient", "audit_id": audit, "finding": "no-such", "text": "x"})
    assert r.status_code == 409 and "no finding" in r.text

    rev, rev_csrf = browser(pw, "rev1")
    dash = rev.get("/dashboard").text
    assert "Black patients" in dash and "anonymous" in dash
    held = pw.api("GET", "/dashboard", "rev1").json()["feedback_held"][0]
    r = rev.post(f"/feedback/{held['id']}/moderate", data={"csrf_token": rev_csrf,
                                                           "decision": "maybe"})
    assert r.status_code == 422  # neither publish nor reject: nothing is decided
    assert pw.api("GET", "/dashboard", "rev1").json()["feedback_held"][0]["id"] == held["id"]
    r = rev.post(f"/feedback/{held['id']}/moderate", data={"csrf_token": rev_csrf,
                                                           "decision": "publish"})
    assert r.status_code == 303
    page = pw.client.get(f"/audits/{audit}").text
    assert "Black patients" in page and "equity-gap" in page

    dev, dev_csrf = browser(pw, "dev")
    assert "Black patients" in dev.get("/dashboard").text  # to answer
    r = dev.post(f"/feedback/{held['id']}/reply", data={
        "csrf_token": dev_csrf, "text": "We retrain on a wider set; see version 1.1."})
    assert r.status_code == 303
    (card,) = pw.api("GET", "/register").json()
    assert card["feedback"][0]["reply"].startswith("We retrain")
    r = pw.api("POST", f"/feedback/{held['id']}/reply", "hosp", json={"text": "me too"})
    assert r.status_code == 403  # a developer of another organisation

    # a verified stakeholder's feedback is published at once, recorded under their category
    r = pw.api("POST", f"/systems/{pw.system}/feedback", "nurse",
               json={"stakeholder": "clinician", "text": "We override it at night."})
    assert r.status_code == 201 and not r.json()["held"]
    r = pw.api("POST", f"/systems/{pw.system}/feedback", "nurse",
               json={"stakeholder": "patient", "text": "x"})
    assert r.status_code == 409 and "clinician" in r.text
    # a rejected one never appears
    other = pw.api("POST", f"/systems/{pw.system}/feedback", None,
                   json={"stakeholder": "patient", "text": "spam spam"}).json()["id"]
    assert pw.api("POST", f"/feedback/{other}/moderation", "rev1",
                  json={"publish": False}).status_code == 409  # needs a reason
    assert pw.api("POST", f"/feedback/{other}/moderation", "rev1",
                  json={"publish": False, "reason": "spam"}).status_code == 200
    assert "spam spam" not in str(pw.api("GET", "/register").json())


def test_incident_form_reopens_review(pw: PortalWorld) -> None:
    pw.deployment()
    d = pw.deployment()  # the form names where: the second of the system's two sites
    anon, csrf = browser(pw, None)
    form = anon.get(f"/systems/{pw.system}").text
    assert f'<option value="{d}">' in form
    incident = {"csrf_token": csrf, "severity": "high", "serious": "yes", "category": "carer",
                "description": "Chest pain triaged as non-urgent."}
    r = anon.post(f"/systems/{pw.system}/incidents", data={**incident, "deployment": "999"})
    assert r.status_code == 400 and "not one of system" in r.text
    r = anon.post(f"/systems/{pw.system}/incidents", data={**incident, "deployment": str(d)})
    assert r.status_code == 303 and "incident-held" in r.headers["location"]
    assert "Chest pain" not in pw.client.get(f"/systems/{pw.system}").text
    inc = pw.api("GET", "/dashboard", "rev2").json()["incidents_held"][0]
    assert inc["serious"] and inc["severity"] == "high"
    assert pw.api("POST", f"/incidents/{inc['id']}/moderation", "rev2",
                  json={"publish": True}).status_code == 200
    page = pw.client.get(f"/systems/{pw.system}").text
    assert "Chest pain" in page
    (published,) = pw.api("GET", f"/systems/{pw.system}").json()["incidents"]
    assert published["deployment_id"] == d
    assert pw.api("GET", "/register").json()[0]["open_incidents"] == 1
    r = pw.api("POST", f"/deployments/{d}/incidents", None,
               json={"severity": "high", "description": "x"})
    assert r.status_code == 400 and "names who reports" in r.text


def test_assessment_form_saves_a_draft_and_records(pw: PortalWorld) -> None:
    from tests.registry.world import answers

    d = pw.deployment()
    client, csrf = browser(pw, "rev1")
    page = client.get(f"/deployments/{d}/assessment").text
    assert 'name="q-aut-autonomy-level"' in page and "<legend>" in page
    r = client.post(f"/deployments/{d}/assessment", data={
        "csrf_token": csrf, "submit": "save", "q-aut-autonomy-level": "suggests"})
    assert r.status_code == 303
    page = client.get(f"/deployments/{d}/assessment").text
    assert 'value="suggests" checked' in page
    full = {f"q-{k}": str(v) for k, v in answers("high").items()}
    r = client.post(f"/deployments/{d}/assessment",
                    data={"csrf_token": csrf, "submit": "save", **full})
    page = client.get(f"/deployments/{d}/assessment").text
    assert "Tier <strong>" in page
    r = client.post(f"/deployments/{d}/assessment",
                    data={"csrf_token": csrf, "submit": "record", **full})
    assert r.status_code == 303 and "assessment-submitted" in r.headers["location"]
    (row,) = pw.registry.list("assessments")
    assert row["status"] == "awaiting_review" and row["assessor_id"] == pw.account("rev1").user_id


def test_a_dismissed_report_leaves_the_moderators_dashboard(pw: PortalWorld) -> None:
    d = pw.deployment()
    inc = pw.api("POST", f"/deployments/{d}/incidents", None, json={
        "severity": "low", "description": "slow answers", "category": "patient"}).json()["id"]
    assert [i["id"] for i in pw.api("GET", "/dashboard", "rev2").json()["incidents_held"]] \
        == [inc]
    assert pw.api("POST", f"/incidents/{inc}/moderation", "rev2",
                  json={"publish": False, "reason": "not an incident"}).status_code == 200
    assert pw.api("GET", "/dashboard", "rev2").json()["incidents_held"] == []
    r = pw.api("POST", f"/incidents/{inc}/moderation", "rev2", json={"publish": True})
    assert r.status_code == 409 and "not held for moderation" in r.text
