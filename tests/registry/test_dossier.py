"""The dossier: exported on one data folder, verified offline in a fresh one; tampering named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import run_haia
from tests.registry.world import World

from haia.registry.actors import Actor
from haia.registry.dossier import export, verify_bundle
from haia.registry.signing import sign_with


@pytest.fixture
def bundle(db_url: str, tmp_path: Path) -> Path:
    w = World(db_url, tmp_path / "work")
    (tmp_path / "work").mkdir(exist_ok=True)
    d = w.ready()
    w.approve(d)
    w.r.report_incident(d, severity="low", description="slow answer", actor=w["rev1"])
    moved = tmp_path / "handed-over"
    shutil.move(str(tmp_path / "work"), moved)  # the report folders move with the hand-over
    out = tmp_path / "dossier"
    export(w.r, "deployment", d, out, actor=w["rev2"], report_dirs=[moved])
    fresh = tmp_path / "elsewhere" / "dossier"
    shutil.copytree(out, fresh)
    return fresh


def check(folder: Path) -> list[str]:
    return verify_bundle(folder)[0]


def test_a_dossier_verifies_offline_in_a_fresh_data_folder(bundle: Path, tmp_path: Path) -> None:
    names = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert {"manifest.json", "manifest.sig", "records.json", "ledger.json",
            "public-summary.md", "reports/audit-1/report.json",
            "reports/audit-1/report.json.sig"} <= names
    records = json.loads((bundle / "records.json").read_text())
    assert [d["action"] for d in records["decisions"]] == ["submit", "review", "signoff",
                                                            "approve"]
    approve = records["decisions"][-1]
    assert approve["policy_version"] == 1 and approve["assessment_id"] == 1
    assert "public summary" in (bundle / "public-summary.md").read_text()
    fresh_home = tmp_path / "fresh-home"
    result = run_haia("verify", "--bundle", str(bundle),
                      env={"HAIA_HOME": str(fresh_home), "HAIA_DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert "dossier deployment:1 of TriageAid 1.0" in result.stdout
    assert not (fresh_home / "registry.db").exists()  # checked offline, nothing opened


def test_a_changed_file_is_named(bundle: Path) -> None:
    html = bundle / "reports" / "audit-2" / "report.html"
    html.write_text(html.read_text().replace("equity", "all fine"))
    assert "reports/audit-2/report.html: changed since export (sha256 differs)" in check(bundle)


def test_a_removed_decision_is_named(bundle: Path) -> None:
    path = bundle / "records.json"
    records = json.loads(path.read_text())
    records["decisions"] = [d for d in records["decisions"] if d["action"] != "approve"]
    path.write_text(json.dumps(records))
    problems = check(bundle)
    assert "records.json: changed since export (sha256 differs)" in problems
    assert "decisions/4: listed in the manifest but missing from records.json (removed)" \
        in problems


def test_a_forged_report_signature_is_named(bundle: Path) -> None:
    report = bundle / "reports" / "audit-1" / "report.json"
    data = json.loads(report.read_text())
    data["run"]["counts"]["errors"] = 0
    data["summary"] = "no problems found"
    report.write_text(json.dumps(data))
    sign_with(report, Actor.generate("aud").key, "aud")  # a new key under the auditor's name
    problems = check(bundle)
    assert "reports/audit-1/report.json: differs from the report the audit recorded" in problems
    assert any("is not the registered key of auditor 'aud'" in p for p in problems)


def test_a_forged_manifest_is_named(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"]["records.json"] = "0" * 64
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    assert any("manifest.json: signature is not valid" in p for p in check(bundle))
