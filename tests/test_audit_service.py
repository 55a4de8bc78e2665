"""The audit service gives Python callers what ``haia audit --system`` gives the CLI: the
registry's refusals before the first request, signed report files and the recorded audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.report.test_registry_signed import setup_registry

from haia.audit import AuditConfig
from haia.audit_service import Attestation, audit
from haia.errors import HaiaError
from haia.registry.service import Registry
from haia.registry.signing import verify_file
from haia.testing.openai_server import ScriptedServer


def test_python_caller_gets_a_checked_signed_recorded_audit(tmp_path: Path,
                                                            haia_home: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    requests: list[object] = []

    def answer(body: object) -> str:
        requests.append(body)
        return "The answer is A."

    with ScriptedServer(answer) as srv:
        model = f"openai:m@{srv.base_url}"
        setup_registry(url, haia_home, model)
        att = Attestation(system=1, auditor="aud", sign_key="aud", database_url=url,
                          independence="No ties to MedAI: no contracts, funding or staff.")
        # refused before the first request: the version runs another model
        with pytest.raises(HaiaError, match="model"):
            audit(AuditConfig(model=f"openai:other@{srv.base_url}", limit=3,
                              out=str(tmp_path / "refused")), att)
        assert requests == [] and not (tmp_path / "refused").exists()
        notes: list[str] = []
        reports: list[object] = []
        outcome = audit(AuditConfig(model=model, limit=4, out=str(tmp_path / "out")), att,
                        on_note=notes.append, on_report=reports.append)
    assert requests and reports == [outcome.result]
    assert any("--limit" in n for n in notes)  # a partial audit is said to be one
    assert outcome.signed == ["report.json", "report.html", "report.pdf"]
    assert verify_file(outcome.result.out_dir / "report.json",
                       trusted_keys=[haia_home / "keys" / "aud.pub"]) == []
    recorded = Registry(url).show("audits", outcome.audit_id)
    assert recorded["version_id"] == 1
    assert outcome.result.report["subject"]["auditor"] == "aud"


def test_no_attestation_is_a_plain_audit(tmp_path: Path) -> None:
    with ScriptedServer(lambda body: "The answer is A.") as srv:
        outcome = audit(AuditConfig(model=f"openai:m@{srv.base_url}", limit=2,
                                    out=str(tmp_path / "out")))
    assert outcome.signer is None and outcome.audit_id is None and outcome.signed == []
    assert not (tmp_path / "out" / "report.json.sig").exists()
