"""The registry from the command line: an audit attached to a system version, signed, verified."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_haia

from haia.testing.openai_server import ScriptedServer


def haia(url: str, *args: str):
    return run_haia(*args, env={"HAIA_DATABASE_URL": url})


def setup_registry(url: str) -> None:
    steps = [
        ("registry", "add", "user", "root", "--role", "admin"),
        ("registry", "add", "organisation", "MedAI", "--kind", "developer", "--as", "root"),
        ("registry", "add", "organisation", "AuditCo", "--kind", "auditor", "--as", "root"),
        ("registry", "add", "user", "dev", "--role", "developer", "--org", "MedAI", "--as", "root"),
        ("registry", "add", "user", "insider", "--role", "auditor", "--org", "MedAI",
         "--as", "root"),
        ("registry", "add", "user", "aud", "--role", "auditor", "--org", "AuditCo",
         "--as", "root"),
        ("registry", "add", "system", "LetterAid", "--developer", "MedAI", "--intended-use",
         "draft discharge letters", "--setting", "wards", "--users", "doctors", "--as", "dev"),
        ("registry", "add", "version", "LetterAid", "1.0", "--model-id", "openai:m", "--as",
         "dev"),
        ("registry", "add", "deployment", "1", "City Hospital", "--start", "2026-01-05",
         "--users-per-month", "120", "--as", "dev"),
    ]
    for step in steps:
        result = haia(url, *step)
        assert result.returncode == 0, (step, result.stderr)


def test_audit_attached_signed_and_verified(db_url: str, tmp_path: Path) -> None:
    setup_registry(db_url)
    assert haia(db_url, "keys", "create", "aud").returncode == 0
    out = tmp_path / "report"
    with ScriptedServer(lambda body: "The answer is A.") as srv:
        refused = haia(db_url, "audit", "--model", f"openai:m@{srv.base_url}", "--limit", "3",
                       "--out", str(out), "--system", "1", "--auditor", "insider")
        result = haia(db_url, "audit", "--model", f"openai:m@{srv.base_url}", "--limit", "3",
                      "--out", str(out), "--system", "1", "--auditor", "aud",
                      "--independence", "No ties to MedAI", "--sign-key", "aud")
    # separation of duties is enforced when the run is recorded
    assert refused.returncode == 2 and "separation of duties" in refused.stderr
    assert result.returncode == 0, result.stderr
    assert "Recorded as audit 1 of system version 1" in result.stdout
    audits = json.loads(haia(db_url, "registry", "list", "audits", "--json").stdout)
    assert len(audits) == 1 and audits[0]["independent"] == 1
    assert audits[0]["run_id"] == json.loads((out / "report.json").read_text())["run"]["run_id"]
    assert all((out / f"report.{ext}.sig").exists() for ext in ("json", "html", "pdf"))
    ok = haia(db_url, "verify", "--report", str(out / "report.html"))
    assert ok.returncode == 0, ok.stderr
    html = out / "report.html"
    html.write_text(html.read_text().replace("</body>", "<!-- edited --></body>"))
    bad = haia(db_url, "verify", "--report", str(html))
    assert bad.returncode == 1 and "report.html: content changed since signing" in bad.stderr


def test_show_move_and_clear_errors(db_url: str) -> None:
    setup_registry(db_url)
    shown = json.loads(haia(db_url, "registry", "show", "systems", "LetterAid", "--json").stdout)
    assert shown["status"] == "draft" and shown["history"][0]["actor"] == "dev"
    moved = haia(db_url, "registry", "move", "LetterAid", "submit", "--as", "dev")
    assert moved.returncode == 0 and "LetterAid: submitted" in moved.stdout
    denied = haia(db_url, "registry", "move", "LetterAid", "approve", "--as", "dev")
    assert denied.returncode == 2 and "may not approve" in denied.stderr
    assert "Traceback" not in denied.stderr
    bad_date = haia(db_url, "registry", "add", "deployment", "1", "X", "--start", "5/1/26",
                    "--as", "dev")
    assert bad_date.returncode == 2 and "expected a date YYYY-MM-DD" in bad_date.stderr
    root = haia(db_url, "registry", "root")
    assert root.returncode == 0 and "events 10" in root.stdout
    proof = json.loads(haia(db_url, "registry", "proof", "3").stdout)
    assert proof["size"] == 10 and proof["seq"] == 3
