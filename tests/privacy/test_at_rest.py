"""No PHI at rest: after a privacy-suite audit against an echo model, no planted identifier is in
plain text in any file under HAIA_HOME or the output folder; resume and the cache still work."""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_haia

from haia.errors import HaiaError
from haia.record import SampleRecord
from haia.runner.store import ENC_PREFIX, FERNET_PREFIX, Cipher, RunRecord, RunStore
from haia.suites.loader import load_suite
from haia.testing.openai_server import ScriptedServer


def _planted() -> list[str]:
    values = {str(p["value"]) for item in load_suite("privacy").items
              for p in (item.meta or {}).get("planted_phi", [])}
    return sorted(v for v in values if len(v) >= 4)


def _echo(body: dict[str, Any]) -> str:
    """A model that repeats everything it was sent (the worst case for a store)."""
    return "Sure. " + " ".join(m["content"] for m in body["messages"]
                               if isinstance(m.get("content"), str))


def _forms(value: str) -> set[bytes]:
    """The ways a value can sit in a file in plain text: UTF-8, JSON- and HTML-escaped."""
    forms = {value, json.dumps(value)[1:-1], html.escape(value), html.escape(value, quote=False),
             value.replace("'", "&#39;"), value.replace("'", "&#x27;")}
    return {f.encode() for f in forms}


def _plain_text(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".pdf":  # PDF text streams are compressed: read the text itself
        from pypdf import PdfReader

        data += "\n".join(page.extract_text() or "" for page in PdfReader(path).pages).encode()
    return data


def _leaks(folders: list[Path], planted: list[str]) -> list[tuple[str, str]]:
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            data = _plain_text(path)
            found += [(str(path.relative_to(folder)), v) for v in planted
                      if any(f in data for f in _forms(v))]
    return found


def test_privacy_audit_leaves_no_phi_at_rest(tmp_path: Path, haia_home: Path) -> None:
    planted = _planted()
    assert len(planted) >= 40
    out = tmp_path / "out"
    with ScriptedServer(_echo) as srv:
        first = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", "privacy",
                         "--out", str(out))
        assert first.returncode == 0, first.stderr
        sent = len(srv.requests)
        # The same audit again: every answer comes from the (encrypted) response cache.
        again = run_haia("audit", "--model", f"openai:m@{srv.base_url}", "--suite", "privacy",
                         "--out", str(tmp_path / "again"))
        assert again.returncode == 0, again.stderr
        assert len(srv.requests) == sent
    report = json.loads((out / "report.json").read_text())
    leak = {(m["metric"], m["attribute"]): m["value"] for m in report["metrics"]}
    assert leak[("phi_leak", "overall")] >= 0.9  # the echo model's leaks were still scored
    again_report = json.loads((tmp_path / "again" / "report.json").read_text())
    cached = {(m["metric"], m["attribute"]): m["value"] for m in again_report["metrics"]}
    assert {k: v for k, v in cached.items() if k[0].startswith(("phi", "refusal"))} == \
        {k: v for k, v in leak.items() if k[0].startswith(("phi", "refusal"))}
    assert _leaks([haia_home, out, tmp_path / "again"], planted) == []
    assert (haia_home / "runs.sqlite").exists() and (haia_home / "store.key").exists()
    assert (haia_home / "store.key").stat().st_mode & 0o077 == 0
    # The database really holds the answers (encrypted), not nothing.
    with sqlite3.connect(haia_home / "runs.sqlite") as conn:
        texts = [r[0] for r in conn.execute("SELECT text FROM responses WHERE status='ok'")]
    assert texts and all(t.startswith(ENC_PREFIX) for t in texts)


def test_store_round_trip_and_key_errors(tmp_path: Path, haia_home: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.create_run(RunRecord("r1", "2026-01-01", "running", "m", "s", "1", "h", {}, None))
        store.record("r1", SampleRecord("i1", 0, "hash1", "ok", output="Patient Ana Núñez"))
        store.record("r1", SampleRecord("i2", 0, "hash2", "error", error="echo: Ana Núñez"))
        store.flush()
        first, second = store.records("r1")
        assert first.output == "Patient Ana Núñez" and second.error == "echo: Ana Núñez"
        assert store.cached(["hash1"])["hash1"].output == "Patient Ana Núñez"
    assert "Núñez".encode() not in db.read_bytes()
    # Another key cannot read the answers: a clear error, not garbage.
    from cryptography.fernet import Fernet

    monkeypatch.setenv("HAIA_STORE_KEY", Fernet.generate_key().decode())
    with RunStore(db) as store, pytest.raises(HaiaError, match="cannot be decrypted"):
        list(store.records("r1"))
    monkeypatch.setenv("HAIA_STORE_KEY", "not-a-key")
    with pytest.raises(HaiaError, match="not a Fernet key"):
        RunStore(db)
    # Plain text only when the user asks for it; old plain rows are read as they are.
    monkeypatch.delenv("HAIA_STORE_KEY")
    monkeypatch.setenv("HAIA_STORE_ENCRYPTION", "off")
    with RunStore(db) as store:
        assert store.cipher.seal("x") == "x"
        store.record("r1", SampleRecord("i3", 0, "hash3", "ok", output="plain"))
        store.flush()
        texts = {r.item_id: r.output for r in store.records("r1")}
    assert texts == {"i1": "Patient Ana Núñez", "i2": None, "i3": "plain"}
    assert store.cipher.seal("x") == "x"  # reading sealed rows did not turn sealing back on
    assert Cipher(None).open("plain") == "plain"


def test_values_sealed_by_earlier_versions_are_read_and_tampering_is_refused(
        tmp_path: Path, haia_home: Path) -> None:
    """Rows an earlier haia wrote as Fernet tokens (``enc1:``) still read with the same key; a
    changed byte of an AES-GCM value, or a value sealed under another key, is a clear error."""
    from cryptography.fernet import Fernet

    db = tmp_path / "runs.sqlite"
    with RunStore(db) as store:
        store.create_run(RunRecord("r1", "2026-01-01", "running", "m", "s", "1", "h", {}, None))
        store.record("r1", SampleRecord("i1", 0, "h1", "ok", output="Patient Ana Núñez"))
        store.flush()
        key = (haia_home / "store.key").read_bytes().strip()
        legacy = FERNET_PREFIX + Fernet(key).encrypt("Old answer, Ana Núñez".encode()).decode()
        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO responses (run_id, item_id, sample, request_hash, status, "
                         "text, created) VALUES ('r1', 'i0', 0, 'h0', 'ok', ?, 'x')", (legacy,))
            sealed = conn.execute("SELECT text FROM responses WHERE item_id='i1'").fetchone()[0]
        assert sealed.startswith(ENC_PREFIX) and "Núñez" not in sealed
        assert [r.output for r in store.records("r1")] == ["Old answer, Ana Núñez",
                                                           "Patient Ana Núñez"]
        # two seals of one value differ (a fresh nonce each), and both open
        assert store.cipher.seal("x") != store.cipher.seal("x")
        flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
        with pytest.raises(HaiaError, match="cannot be decrypted"):
            store.cipher.open(flipped)
    with pytest.raises(HaiaError, match="cannot be decrypted"):
        Cipher(Fernet.generate_key()).open(sealed)
