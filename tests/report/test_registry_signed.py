"""Page one names the registered system, and a signed report carries its signature block, both
from ``haia audit --system ... --sign-key`` and from ``haia report RUN_ID``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.registry.test_cli import haia

from haia.registry.actors import Actor
from haia.registry.service import Registry
from haia.registry.signing import generate_key
from haia.testing.openai_server import ScriptedServer


def setup_registry(url: str, home: Path, model: str) -> None:
    """A registry with a system whose version runs ``model``, through the service; every actor
    has a key in the key folder (registry actions are signed)."""
    actors = {}
    for name in ("root", "dev", "aud"):
        generate_key(name, home / "keys")
        actors[name] = Actor.from_key_file(name, home / "keys" / f"{name}.key")
    reg = Registry(url)
    reg.add_user("root", "admin", actor=actors["root"])
    reg.add_organisation("MedAI", kind="developer", actor=actors["root"])
    reg.add_organisation("AuditCo", kind="auditor", actor=actors["root"])
    for name, role, org in (("dev", "developer", "MedAI"), ("aud", "auditor", "AuditCo")):
        reg.add_user(name, role, organisation=org, public_key=actors[name].public_key,
                     actor=actors["root"])
    reg.add_system("LetterAid", developer="MedAI", intended_use="draft discharge letters",
                   clinical_setting="wards", intended_users="doctors", actor=actors["dev"])
    reg.add_version("LetterAid", "1.0", model_id=model, actor=actors["dev"])
    reg.add_deployment(1, "City Hospital", users_per_month=120, actor=actors["dev"])


def test_registered_system_and_signature_on_page_one(tmp_path: Path, haia_home: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    out = tmp_path / "report"
    with ScriptedServer(lambda body: "The answer is A.") as srv:
        setup_registry(url, haia_home, f"openai:m@{srv.base_url}")
        result = haia(url, "audit", "--model", f"openai:m@{srv.base_url}", "--limit", "6",
                      "--out", str(out), "--system", "1", "--auditor", "aud",
                      "--independence", "No ties to MedAI: no contracts, funding or staff.",
                      "--sign-key", "aud")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    from haia.report.schema import validate

    assert validate(report) == []  # the registry's subject block is part of the schema
    assert (report["subject"]["system"], report["subject"]["auditor"]) == ("LetterAid", "aud")
    system = report["model_card"]["system"]
    assert (system["name"], system["version"], system["developer"]) == ("LetterAid", "1.0",
                                                                         "MedAI")
    assert system["intended_use"] == "draft discharge letters"
    assert "City Hospital" in system["deployment"] and system["auditor"] == "aud"
    signature = report["signature"]
    sig_file = json.loads((out / "report.json.sig").read_text())
    assert signature["fingerprint"] == sig_file["fingerprint"] and signature["signer"] == "aud"
    html = (out / "report.html").read_text()
    page_one = html.split('id="h-verdicts"')[0]
    assert "LetterAid" in page_one and "No ties to MedAI" in page_one
    assert "draft discharge letters" in (out / "annex-iv.md").read_text()
    # rebuilt later: the registry entry is found by the run id, and the new files are signed
    run_id = report["run"]["run_id"]
    again = tmp_path / "again"
    result = haia(url, "report", run_id, "--out", str(again), "--sign-key", "aud",
                  "--format", "json,html,pdf")
    assert result.returncode == 0, result.stderr
    rebuilt = json.loads((again / "report.json").read_text())
    assert rebuilt["model_card"]["system"]["name"] == "LetterAid"
    assert rebuilt["signature"]["fingerprint"] == signature["fingerprint"]
    # a rebuilt report is not the one the registry recorded: checked against the auditor's key
    ok = haia(url, "verify", "--report", str(again / "report.json"), "--report",
              str(again / "report.pdf"), "--trusted-key", str(haia_home / "keys" / "aud.pub"))
    assert ok.returncode == 0, ok.stderr
