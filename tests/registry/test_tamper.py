"""`haia verify` against tampering, on SQLite and PostgreSQL: each edit is found and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from tests.conftest import run_haia
from tests.registry.paths import EXAMPLES

from haia.registry.service import Registry


@pytest.fixture
def store(db_url: str, tmp_path: Path, haia_home: Path) -> tuple[str, Path]:
    """A registry with a system, an audit whose report is signed, an assessment and feedback."""
    r = Registry(db_url)
    r.add_user("admin", "admin")
    r.add_organisation("MedAI", kind="developer", actor="admin")
    r.add_organisation("AuditCo", kind="auditor", actor="admin")
    r.add_user("dev", "developer", organisation="MedAI", actor="admin")
    r.add_user("aud", "auditor", organisation="AuditCo", actor="admin")
    r.add_system("NoteAid", developer="MedAI", intended_use="draft discharge letters",
                 clinical_setting="wards", intended_users="doctors", actor="dev")
    r.add_version("NoteAid", "1", model_id="m", actor="dev")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"findings": [], "run": {"run_id": "r1"}}))
    keys = tmp_path / "keys"
    assert run_haia("keys", "create", "aud", "--directory", str(keys)).returncode == 0
    signed = run_haia("sign", str(report), "--key", str(keys / "aud.key"), "--signer", "aud")
    assert signed.returncode == 0, signed.stderr
    r.record_audit(1, run_id="r1", suite="starter", model="m", findings={}, auditor="aud",
                   report_path=str(report), independence="independent")
    answers = yaml.safe_load((EXAMPLES / "assessment-low.yaml").read_text())["answers"]
    r.add_assessment("NoteAid", answers, assessor="aud")
    r.add_feedback("NoteAid", stakeholder="patient", text="clear letters")
    return db_url, report


def verify(url: str, *extra: str):
    return run_haia("verify", *extra, env={"HAIA_DATABASE_URL": url})


def sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_untouched_store_verifies(store: tuple[str, Path]) -> None:
    url, report = store
    result = verify(url, "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert "ledger intact: 10 events" in result.stdout and "signature valid" in result.stdout


def test_editing_one_field_of_one_row(store: tuple[str, Path]) -> None:
    url, _ = store
    sql(url, "UPDATE systems SET intended_use = 'autonomous diagnosis' WHERE id = 1")
    result = verify(url)
    assert result.returncode == 1
    assert "systems/1: field(s) intended_use changed outside haia" in result.stderr


def test_deleting_a_row(store: tuple[str, Path]) -> None:
    url, _ = store
    sql(url, "DELETE FROM feedback WHERE id = 1")
    result = verify(url)
    assert result.returncode == 1 and "feedback/1: row deleted" in result.stderr


def test_inserting_a_row_outside_haia(store: tuple[str, Path]) -> None:
    url, _ = store
    sql(url, "INSERT INTO organisations (id, name, kind) VALUES (99, 'Shadow', 'other')")
    result = verify(url)
    assert result.returncode == 1
    assert "organisations/99: row not in the ledger" in result.stderr


def test_swapping_two_events(store: tuple[str, Path]) -> None:
    url, _ = store
    sql(url, "UPDATE ledger SET seq = -1 WHERE seq = 4",
        "UPDATE ledger SET seq = 4 WHERE seq = 5",
        "UPDATE ledger SET seq = 5 WHERE seq = -1")
    result = verify(url)
    assert result.returncode == 1
    assert "events out of order: event 5 (user.created) is stored at position 4" in result.stderr
    assert "event 4 (user.created) is stored at position 5" in result.stderr


def test_deleting_an_event_and_editing_an_event(store: tuple[str, Path]) -> None:
    url, _ = store
    sql(url, "DELETE FROM ledger WHERE seq = 6")
    deleted = verify(url)
    assert deleted.returncode == 1 and "event 6 missing or removed" in deleted.stderr
    sql(url, "UPDATE ledger SET actor = 'someone else' WHERE seq = 8")
    edited = verify(url)
    assert "event 8 (" in edited.stderr and "content changed" in edited.stderr


def test_one_byte_of_a_signed_report(store: tuple[str, Path]) -> None:
    url, report = store
    data = bytearray(report.read_bytes())
    data[2] ^= 0x01
    report.write_bytes(bytes(data))
    result = verify(url, "--report", str(report))
    assert result.returncode == 1
    assert "report.json: content changed since signing" in result.stderr
    assert "audits/1: report file" in result.stderr and "changed since it was recorded" \
        in result.stderr


def test_a_consistent_rewrite_is_caught_by_the_published_root(store: tuple[str, Path]) -> None:
    """Edit an event and re-hash every later one: the chain is whole again, but the ledger no
    longer extends the root published before."""
    from haia.registry import ledger

    url, _ = store
    registry = Registry(url)
    size, root = registry.root()
    events = registry.events()
    forged: list[ledger.Event] = []
    for event in events:
        payload = dict(event.payload)
        if event.seq == 3:
            payload["row"] = {**payload["row"], "country": "Elsewhere"}
        prev = forged[-1] if forged else None
        forged.append(ledger.make_event(prev, event.kind, event.subject, event.actor, payload,
                                        at=event.at))
    engine = create_engine(url)
    with engine.begin() as conn:
        for e in forged:
            conn.execute(text("UPDATE ledger SET payload = :p, prev_hash = :prev, hash = :h "
                              "WHERE seq = :seq"),
                         {"p": ledger.canonical_json(e.payload).decode(), "prev": e.prev_hash,
                          "h": e.hash, "seq": e.seq})
        conn.execute(text("UPDATE organisations SET country = 'Elsewhere' WHERE id = 2"))
    engine.dispose()
    plain = verify(url)
    assert plain.returncode == 0, plain.stderr  # the chain alone cannot tell
    anchored = verify(url, "--expect-root", f"{size}:{root}")
    assert anchored.returncode == 1
    assert f"ledger rewritten: its first {size} events no longer match" in anchored.stderr
    bad = verify(url, "--expect-root", "12:abc")
    assert bad.returncode == 2 and "expected SIZE:ROOT" in bad.stderr
