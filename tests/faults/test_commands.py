"""Every other command: expected failures are one line and exit 2 (or their documented code)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.faults.conftest import assert_one_line, cli


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    return lambda *args: cli(capsys, monkeypatch, *args)


def test_deid_out_a_folder(tmp_path: Path, run) -> None:
    src = tmp_path / "note.txt"
    src.write_text("Patient John Smith, MRN 123456, seen 2024-03-02.\n")
    (tmp_path / "outdir").mkdir()
    assert_one_line(run("deid", str(src), "--out", str(tmp_path / "outdir")), 2,
                    contains="is a folder")
    assert list((tmp_path / "outdir").iterdir()) == []


def test_deid_out_in_a_missing_folder(tmp_path: Path, run) -> None:
    src = tmp_path / "note.txt"
    src.write_text("Patient John Smith.\n")
    assert_one_line(run("deid", str(src), "--out", str(tmp_path / "no" / "such" / "out.txt")),
                    2, contains="no such folder")


def test_deid_missing_input(tmp_path: Path, run) -> None:
    assert_one_line(run("deid", str(tmp_path / "absent.txt"), "--out", str(tmp_path / "o.txt")),
                    2, contains="no such file")


def test_keys_create_twice_and_in_a_file(tmp_path: Path, run) -> None:
    assert run("keys", "create", "alice", "--directory", str(tmp_path / "k")).code == 0
    assert_one_line(run("keys", "create", "alice", "--directory", str(tmp_path / "k")), 2,
                    contains="already exists")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert_one_line(run("keys", "create", "bob", "--directory", str(blocker / "keys")), 2,
                    contains="bob")


def test_corrupt_pub_in_the_key_folder_is_named_not_a_traceback(tmp_path: Path, run) -> None:
    folder = tmp_path / "k"
    assert run("keys", "create", "alice", "--directory", str(folder)).code == 0
    (folder / "broken.pub").write_bytes(b"\x00\x01not base64")
    (folder / "short.pub").write_text("QUJD\n")
    result = run("keys", "list", "--directory", str(folder))
    assert result.code == 0 and "Traceback" not in result.err
    assert "alice" in result.out
    assert "broken  unreadable" in result.err and "short  unreadable" in result.err


def test_sign_failures(tmp_path: Path, run) -> None:
    report = tmp_path / "report.json"
    report.write_text("{}")
    assert_one_line(run("sign", str(report), "--key", "nobody"), 2, contains="no key")
    assert_one_line(run("sign", str(tmp_path / "absent.json"), "--key", "nobody"), 2,
                    contains="no such file")
    bad_key = tmp_path / "bad.key"
    bad_key.write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    assert_one_line(run("sign", str(report), "--key", str(bad_key)), 2, contains="cannot load")
    assert not (tmp_path / "report.json.sig").exists()


@pytest.mark.parametrize("port", ["70000", "0", "-1"])
def test_gateway_port_out_of_range(port: str, run) -> None:
    assert_one_line(run("gateway", "--upstream", "http://127.0.0.1:9/v1", "--port", port), 2,
                    contains="port")


def test_registry_integer_overflow(tmp_path: Path, run) -> None:
    db = f"sqlite:///{tmp_path / 'reg.db'}"
    assert_one_line(run("registry", "show", "versions", str(2**70), "--db", db), 2,
                    contains="too large")
    result = run("registry", "add", "deployment", str(2**70), "site", "--db", db)
    assert "Traceback" not in result.err
    assert result.code == 2, result.err
    assert len([line for line in result.err.splitlines() if line.strip()]) == 1


def test_verify_on_a_dropped_table_names_the_damage(tmp_path: Path, run) -> None:
    path = tmp_path / "reg.db"
    db = f"sqlite:///{path}"
    assert run("registry", "root", "--db", db).code in (0, 1)
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE '%ledger%'")]
        assert tables
        conn.execute(f"DROP TABLE {tables[0]}")
    result = run("verify", "--db", db)
    assert "Traceback" not in result.err
    assert result.code in (1, 2), result.err
    assert tables[0] in result.err or "no such table" in result.err


def test_resume_unknown_run(run) -> None:
    assert_one_line(run("audit", "--resume", "r-nope"), 2, contains="r-nope")


def test_report_unknown_run(run) -> None:
    assert_one_line(run("report", "r-nope"), 2, contains="r-nope")
