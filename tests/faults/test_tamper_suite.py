"""The tamper suite: every kind of tampering by a writer with database and file access but
without the private keys, each named by ``haia verify`` in one line, exit 1, no traceback.

One registry (SQLite, and the PostgreSQL server scripts/postgres.sh starts) with users, a system,
a deployment, an audit whose folder holds a signed report.json, report.html and report.pdf, an
assessment and anonymous feedback. Each case damages a fresh copy and runs the real CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.faults.conftest import Outcome, cli
from tests.registry.world import INDEPENDENT, World, answers

from haia.registry import ledger, witness
from haia.registry.actors import Actor
from haia.registry.service import ANONYMOUS, MIGRATION, Registry
from haia.registry.signing import sign_with


@dataclass
class Store:
    url: str
    folder: Path  # the recorded audit's report folder


def _pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="haia audit report")
    pdf.output(str(path))


@pytest.fixture
def store(db_url: str, tmp_path: Path, haia_home: Path) -> Store:
    w = World(db_url, tmp_path)
    d = w.deployment(users=50)
    folder = w.report("safety")
    _pdf(folder / "report.pdf")
    sign_with(folder / "report.pdf", w["aud"].key, "aud")
    w.r.record_audit(1, folder, actor=w["aud"], independence=INDEPENDENT, deployment_id=d)
    w.r.add_assessment(d, answers("low", **{"ap-users-per-month": "under-100"}), actor=w["rev1"])
    w.r.add_feedback("TriageAid", stakeholder="patient", text="letters are clear")
    return Store(db_url, folder)


def sql(url: str, *statements: str, **params: object) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)
    engine.dispose()


def append(
    url: str, kind: str, subject: str, actor: str, payload: dict, signer: Actor | None = None
) -> None:
    """Append a consistently hashed event, as a writer with database access could."""
    last = Registry(url).events()[-1]
    event = ledger.make_event(last, kind, subject, actor, payload)
    sql(
        url,
        "INSERT INTO ledger (seq, kind, subject, actor, at, payload, prev_hash, hash, "
        "signature, key_fingerprint) VALUES (:seq, :kind, :subject, :actor, :at, :payload, "
        ":prev, :hash, :sig, :fp)",
        seq=event.seq,
        kind=kind,
        subject=subject,
        actor=actor,
        at=event.at,
        payload=ledger.canonical_json(payload).decode(),
        prev=event.prev_hash,
        hash=event.hash,
        sig=signer.sign(event.hash) if signer else None,
        fp=signer.fingerprint if signer else None,
    )


def recorded_row(url: str, subject: str) -> dict:
    return next(
        e.payload["row"]
        for e in reversed(Registry(url).events())
        if e.subject == subject and "row" in e.payload
    )


def user_id(url: str, name: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id FROM users WHERE name = :n"), {"n": name}).scalar()
    engine.dispose()
    return int(found)


# -- the damage, one function per kind ---------------------------------------------------------
def edit_row(s: Store) -> None:
    sql(s.url, "UPDATE systems SET intended_use = 'autonomous diagnosis' WHERE id = 1")


def delete_row(s: Store) -> None:
    sql(s.url, "DELETE FROM feedback WHERE id = 1")


def insert_row(s: Store) -> None:
    sql(s.url, "INSERT INTO organisations (id, name, kind) VALUES (99, 'Shadow', 'other')")


def reorder_events(s: Store) -> None:
    sql(
        s.url,
        "UPDATE ledger SET seq = -1 WHERE seq = 7",
        "UPDATE ledger SET seq = 7 WHERE seq = 8",
        "UPDATE ledger SET seq = 8 WHERE seq = -1",
    )


def delete_event(s: Store) -> None:
    sql(s.url, "DELETE FROM ledger WHERE seq = 6")


def edit_event(s: Store) -> None:
    sql(s.url, "UPDATE ledger SET actor = 'someone else' WHERE seq = 8")


def consistent_rehash(s: Store) -> None:
    """Edit an old event and re-hash every later one: the chain is whole again."""
    forged: list[ledger.Event] = []
    for event in Registry(s.url).events():
        payload = dict(event.payload)
        if event.seq == 4:
            payload["row"] = {**payload["row"], "country": "Elsewhere"}
        forged.append(
            ledger.make_event(
                forged[-1] if forged else None,
                event.kind,
                event.subject,
                event.actor,
                payload,
                at=event.at,
            )
        )
    for e in forged:
        sql(
            s.url,
            "UPDATE ledger SET payload = :p, prev_hash = :prev, hash = :h WHERE seq = :q",
            p=ledger.canonical_json(e.payload).decode(),
            prev=e.prev_hash,
            h=e.hash,
            q=e.seq,
        )
    sql(s.url, "UPDATE organisations SET country = 'Elsewhere' WHERE id = 2")


def forged_role(s: Store, signer: Actor | None = None) -> None:
    """Make the developer an admin, and append the event that would explain it: unsigned, or
    signed with a key the attacker made under the admin's name."""
    uid = user_id(s.url, "dev")
    sql(s.url, "UPDATE users SET role = 'admin' WHERE id = :i", i=uid)
    row = {**recorded_row(s.url, f"users/{uid}"), "role": "admin"}
    append(s.url, "user.updated", f"users/{uid}", "admin",
           {"table": "users", "id": uid, "row": row}, signer=signer)


def forged_role_unsigned(s: Store) -> None:
    forged_role(s)


def forged_role_signed(s: Store) -> None:
    forged_role(s, Actor.generate("admin"))


def fake_approval_as_anonymous(s: Store) -> None:
    """Approve the deployment, disguised as an anonymous (unsigned) report."""
    sql(s.url, "UPDATE deployments SET status = 'approved' WHERE id = 1")
    row = {**recorded_row(s.url, "deployments/1"), "status": "approved"}
    append(
        s.url,
        "feedback.received",
        "deployments/1",
        ANONYMOUS,
        {"table": "deployments", "id": 1, "row": row},
    )


def fake_approval_as_migration(s: Store) -> None:
    """Approve the deployment under the schema migration's name (migrations are unsigned)."""
    sql(s.url, "UPDATE deployments SET status = 'approved' WHERE id = 1")
    row = {**recorded_row(s.url, "deployments/1"), "status": "approved"}
    append(
        s.url,
        "registry.migrated",
        "deployments/1",
        MIGRATION,
        {"table": "deployments", "id": 1, "row": row, "from": "0002", "to": "0003"},
    )


def truncate(s: Store) -> None:
    """Cut the newest event and the row it made, consistently: chain and rows agree."""
    size = len(Registry(s.url).events())
    sql(s.url, "DELETE FROM ledger WHERE seq = :n", n=size)
    sql(s.url, "DELETE FROM feedback WHERE id = 1")


def strip_signatures(s: Store) -> None:
    sql(s.url, "UPDATE ledger SET signature = NULL, key_fingerprint = NULL")


def disguise_as_migrated(s: Store) -> None:
    """Strip every signature, append a forged event and a 'migration' event: the ledger now
    looks like one written before signing existed, up to its migration."""
    strip_signatures(s)
    forged_role_unsigned(s)
    append(
        s.url,
        "registry.migrated",
        "systems/1",
        MIGRATION,
        {
            "table": "systems",
            "id": 1,
            "row": recorded_row(s.url, "systems/1"),
            "from": "0001",
            "to": "0002",
        },
    )


def change_html(s: Store) -> None:
    page = s.folder / "report.html"
    page.write_text(page.read_text().replace("safety", "nothing to see"))


def change_pdf(s: Store) -> None:
    pdf = s.folder / "report.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))


def change_json_and_resign(s: Store) -> None:
    """Strip the findings and re-sign with a new key under the auditor's name."""
    report = s.folder / "report.json"
    data = json.loads(report.read_text())
    data["run"]["counts"]["errors"] = 7
    report.write_text(json.dumps(data))
    sign_with(report, Actor.generate("aud").key, "aud")


def delete_signature(s: Store) -> None:
    (s.folder / "report.json.sig").unlink()


def delete_pdf(s: Store) -> None:
    (s.folder / "report.pdf").unlink()


Damage = Callable[[Store], None]
CASES: dict[str, tuple[Damage, list[str]]] = {
    "edit": (edit_row, ["systems/1: field(s) intended_use changed outside haia"]),
    "delete": (delete_row, ["feedback/1: row deleted"]),
    "insert": (insert_row, ["organisations/99: row not in the ledger"]),
    "reorder": (
        reorder_events,
        ["events out of order: event 8 (user.created) is stored at position 7"],
    ),
    "delete-event": (delete_event, ["event 6 missing or removed"]),
    "edit-event": (edit_event, ["event 8 (", "content changed"]),
    "consistent-rehash": (
        consistent_rehash,
        [
            "event 4 (organisation.created): signature is not by the key registered for 'admin'",
            "ledger rewritten: event",
        ],
    ),
    "forged-event-unsigned": (forged_role_unsigned, ["(user.updated) by 'admin' is not signed"]),
    "forged-event-other-key": (
        forged_role_signed,
        ["(user.updated): signature is not by the key registered for 'admin'"],
    ),
    "forged-approval-anonymous": (
        fake_approval_as_anonymous,
        [
            "(feedback.received) by 'public' is unsigned but does not create a new feedback row "
            "(deployments/1)"
        ],
    ),
    "forged-approval-migration": (
        fake_approval_as_migration,
        [
            "(registry.migrated) by 'haia-migration' changes existing field(s) status of "
            "deployments/1"
        ],
    ),
    "truncation": (truncate, ["ledger truncated:", "this machine's checkpoint saw"]),
    "stripped-signatures": (strip_signatures, ["signatures stripped: event", "is not signed"]),
    "disguised-as-migrated": (disguise_as_migrated, ["signatures stripped: event"]),
    "changed-html": (change_html, ["report.html: report file changed since audit 1 was recorded"]),
    "changed-pdf": (change_pdf, ["report.pdf: report file changed since audit 1 was recorded"]),
    "changed-json-resigned": (
        change_json_and_resign,
        [
            "report.json: report file changed since audit 1 was recorded",
            "report.json.sig: signature changed since audit 1 was recorded",
            "is not the registered key of auditor 'aud'",
        ],
    ),
    "deleted-signature": (
        delete_signature,
        ["report.json.sig: signature recorded with audit 1 is missing"],
    ),
    "deleted-pdf": (delete_pdf, ["report.pdf: report file recorded with audit 1 is missing"]),
}
FILE_CASES = {
    "changed-html",
    "changed-pdf",
    "changed-json-resigned",
    "deleted-signature",
    "deleted-pdf",
}


@pytest.fixture
def verify(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Outcome]:
    """``haia verify ARGS`` on the store's registry, through the real entry point."""

    def run(s: Store, *extra: str) -> Outcome:
        monkeypatch.setenv("HAIA_DATABASE_URL", s.url)
        return cli(capsys, monkeypatch, "verify", *extra)

    return run


def test_the_untouched_registry_and_reports_verify(
    store: Store, verify: Callable[..., Outcome]
) -> None:
    result = verify(store, "--report", str(store.folder))
    assert result.code == 0, result.err
    assert "ledger intact" in result.out
    assert "ledger extends this machine's checkpoint" in result.out
    assert "every file of recorded audit 1 intact, signed by aud" in result.out


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_tampering_is_named(store: Store, case: str, verify: Callable[..., Outcome]) -> None:
    damage, expected = CASES[case]
    damage(store)
    result = verify(
        store, *(["--report", str(store.folder / "report.html")] if case in FILE_CASES else [])
    )
    assert result.code == 1, result.out + result.err
    assert "Traceback" not in result.err
    for words in expected:
        assert words in result.err, f"{case}: {words!r} not in:\n{result.err}"
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert all(line.startswith("TAMPERED") for line in lines), result.err


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_a_damaged_report_folder_in_place_is_named_without_report(
    store: Store, case: str, verify: Callable[..., Outcome]
) -> None:
    """The recorded folder still at its recorded path: plain `haia verify` checks it too."""
    damage, expected = CASES[case]
    damage(store)
    result = verify(store)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"audits/1: {expected[0]}" in result.err


def test_without_a_checkpoint_the_limit_is_said(
    store: Store, verify: Callable[..., Outcome]
) -> None:
    """A machine that never wrote to the registry cannot see a cut; verify says so."""
    witness.checkpoint_path(store.url).unlink()
    truncate(store)
    result = verify(store)
    assert result.code == 0
    assert "no checkpoint of this registry on this machine" in result.out


def test_a_damaged_checkpoint_is_named(store: Store, verify: Callable[..., Outcome]) -> None:
    witness.checkpoint_path(store.url).write_text("{not json")
    result = verify(store)
    assert result.code == 1 and "Traceback" not in result.err
    assert "checkpoint" in result.err and "unreadable" in result.err
