"""`haia verify` against tampering, on SQLite and PostgreSQL: each edit is found and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import run_haia
from tests.registry.world import World, answers

from haia.registry.service import Registry


@pytest.fixture
def store(db_url: str, tmp_path: Path, haia_home: Path) -> tuple[str, Path]:
    """A registry with a system, a deployment, an audit whose report is signed, an assessment
    and feedback."""
    w = World(db_url, tmp_path)
    d = w.deployment(users=50)
    audit = w.audit("safety", d)
    w.r.add_assessment(d, answers("low", **{"ap-users-per-month": "under-100"}),
                       actor=w["rev1"])
    w.r.add_feedback("TriageAid", stakeholder="reviewer", text="clear letters", actor=w["rev1"])
    assert audit == 1
    folder = tmp_path / "report-1"
    return db_url, folder / "report.json"


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
    engine = create_engine(url)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM ledger")).scalar_one()
    engine.dispose()
    assert events > 20  # the world's people, organisations, system, audit, feedback...
    assert f"ledger intact: {events} events" in result.stdout
    assert "signature valid" in result.stdout
    assert "every file of recorded audit 1 intact, signed by aud" in result.stdout


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
    sql(url, "UPDATE ledger SET seq = -1 WHERE seq = 7",
        "UPDATE ledger SET seq = 7 WHERE seq = 8",
        "UPDATE ledger SET seq = 8 WHERE seq = -1")
    result = verify(url)
    assert result.returncode == 1
    assert "events out of order: event 8 (user.created) is stored at position 7" in result.stderr
    assert "event 7 (user.created) is stored at position 8" in result.stderr


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


def test_a_consistent_rewrite_is_caught_by_the_published_root(store: tuple[str, Path]) -> None:
    """Edit an event and re-hash every later one: the chain is whole again, but the events'
    signatures no longer match, and the ledger no longer extends the root published before."""
    from haia.registry import ledger

    url, _ = store
    registry = Registry(url)
    size, root = registry.root()
    events = registry.events()
    forged: list[ledger.Event] = []
    for event in events:
        payload = dict(event.payload)
        if event.seq == 4:
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
    assert plain.returncode == 1  # the chain alone cannot tell; the actors' signatures can
    assert "event 4 (organisation.created): signature is not by the key registered for " \
        "'admin'" in plain.stderr
    anchored = verify(url, "--expect-root", f"{size}:{root}")
    assert anchored.returncode == 1
    assert f"ledger rewritten: its first {size} events no longer match" in anchored.stderr
    bad = verify(url, "--expect-root", "12:abc")
    assert bad.returncode == 2 and "expected SIZE:ROOT" in bad.stderr


def test_a_report_re_signed_with_a_new_key_under_the_auditors_name(
        store: tuple[str, Path], tmp_path: Path) -> None:
    """Without --trusted-key, the registry's key of the recorded auditor decides."""
    from haia.registry.actors import Actor
    from haia.registry.signing import sign_with

    url, report = store
    sign_with(report, Actor.generate("aud").key, "aud")  # same content, a brand-new key
    resigned = verify(url, "--report", str(report))
    assert resigned.returncode == 1
    assert "is not the registered key of auditor 'aud'" in resigned.stderr
    data = json.loads(report.read_text())
    data["findings"] = []
    data["run"]["counts"]["errors"] = 7
    report.write_text(json.dumps(data))
    sign_with(report, Actor.generate("aud").key, "aud")  # stripped, then signed anew
    stripped = verify(url, "--report", str(report))
    assert stripped.returncode == 1  # the folder's other files still name the recorded audit
    assert "report.json: report file changed since audit 1 was recorded" in stripped.stderr
