"""Feedback and incident reports with planted PHI, through the real de-identifier: held for
moderation, never on a public page or feed, and de-identified when a moderator publishes.

The notes are written in styles unlike the de-identifier's own tests (a carer's message, a
clinician's shorthand, an e-mail-like complaint)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.portal.world import PortalWorld

from haia.registry.service import default_deidentify

NOTES = [
    ("carer", "My mum Dorothy Okafor (born 12 March 1941) was told by the bot to stay home; "
              "call me on 07700 900461 if you need more."),
    ("clinician", "pt Marek Nowakowski MRN 00482913 seen 02/11/2026, AI said ESI 4, "
                  "actually STEMI"),
    ("patient", "I am writing about my son, Liam O'Brien, who lives at 14 Harbour Road, "
                "Cork; email liam.obrien77@example.com"),
]
IDENTIFIERS = ["Dorothy", "Okafor", "07700 900461", "Marek", "Nowakowski", "Liam", "00482913",
               "O'Brien", "Harbour Road", "liam.obrien77@example.com"]


@pytest.fixture
def real(db_url: str, tmp_path: Path) -> PortalWorld:
    return PortalWorld(db_url, tmp_path, deidentify=default_deidentify)


def _public_text(w: PortalWorld) -> str:
    parts = [w.api("GET", "/register").text, w.api("GET", "/register.csv").text,
             w.client.get("/").text, w.client.get(f"/systems/{w.system}").text,
             w.api("GET", f"/systems/{w.system}").text]
    return "\n".join(parts)


def test_feedback_with_phi_is_held_and_never_public(real: PortalWorld) -> None:
    w = real
    d = w.deployment()
    ids = []
    for who, (category, text) in zip((None, "nurse", "pat"), NOTES, strict=True):
        r = w.api("POST", f"/systems/{w.system}/feedback", who,
                  json={"stakeholder": category, "text": text})
        assert r.status_code == 201 and r.json()["held"] and r.json()["text"] is None, r.text
        assert "personal data" in r.json()["held_reason"]
        ids.append(r.json()["id"])
    r = w.api("POST", f"/deployments/{d}/incidents", "rev1",
              json={"severity": "high", "description": NOTES[1][1]})
    assert r.status_code == 201 and r.json()["held"]
    incident = r.json()["id"]
    public = _public_text(w)
    for identifier in IDENTIFIERS:
        assert identifier not in public
    assert "STEMI" not in public  # held texts are not shown at all, even redacted
    # stored de-identified: not even the moderator sees the identifiers
    dash = w.api("GET", "/dashboard", "rev2").json()
    stored = str(dash["feedback_held"]) + str(dash["incidents_held"])
    assert sorted(f["id"] for f in dash["feedback_held"]) == sorted(ids) and "STEMI" in stored
    # what the de-identifier missed, a moderator removes by editing the text before publishing
    missed = [i for i in IDENTIFIERS if i in stored]
    print(f"de-identifier missed {len(missed)} of {len(IDENTIFIERS)} planted identifiers: "
          f"{missed}")

    def cleaned(text: str) -> str:
        for identifier in IDENTIFIERS:
            text = text.replace(identifier, "[REMOVED BY MODERATOR]")
        return text

    for f in dash["feedback_held"]:
        assert w.api("POST", f"/feedback/{f['id']}/moderation", "rev2", json={
            "publish": True, "text": cleaned(f["text"])}).status_code == 200
    (i,) = dash["incidents_held"]
    assert i["id"] == incident
    assert w.api("POST", f"/incidents/{incident}/moderation", "rev2", json={
        "publish": True, "text": cleaned(i["description"])}).status_code == 200
    public = _public_text(w)
    assert "STEMI" in public and "ESI 4" in public
    for identifier in IDENTIFIERS:
        assert identifier not in public


def test_clean_feedback_is_published_at_once(real: PortalWorld) -> None:
    r = real.api("POST", f"/systems/{real.system}/feedback", "nurse", json={
        "stakeholder": "clinician", "text": "The triage suggestions are too cautious at night."})
    assert r.status_code == 201 and not r.json()["held"]
    assert "too cautious" in _public_text(real)
