"""Ed25519 keys and detached report signatures."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from haia.registry import signing


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_bytes(b"<html><body><h1>Audit report</h1><p>Result: 0.87</p></body></html>\n")
    return path


@pytest.fixture
def key(tmp_path: Path) -> signing.KeyInfo:
    return signing.generate_key("auditor", tmp_path / "keys")


def test_generate_key_files(key: signing.KeyInfo) -> None:
    assert key.name == "auditor"
    assert key.key_path.name == "auditor.key" and key.pub_path.name == "auditor.pub"
    assert key.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    raw = base64.b64decode(key.pub_path.read_text().strip())
    assert len(raw) == 32
    assert len(key.fingerprint) == 16
    assert key.fingerprint == signing.fingerprint(raw)


def test_key_file_permissions(key: signing.KeyInfo) -> None:
    assert stat.S_IMODE(key.key_path.stat().st_mode) == 0o600


def test_refuses_to_overwrite(key: signing.KeyInfo) -> None:
    before = key.key_path.read_bytes()
    with pytest.raises(ValueError, match="already exists"):
        signing.generate_key("auditor", key.key_path.parent)
    assert key.key_path.read_bytes() == before


def test_default_key_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HAIA_HOME", str(tmp_path))
    assert signing.default_key_dir() == tmp_path / "keys"
    monkeypatch.delenv("HAIA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert signing.default_key_dir() == tmp_path / "home" / ".haia" / "keys"


def test_sign_then_verify(report: Path, key: signing.KeyInfo) -> None:
    sig = signing.sign_file(report, key.key_path, signer="Dr. A. Auditor")
    assert sig == report.with_name("report.html.sig")
    doc = json.loads(sig.read_text())
    assert doc["algorithm"] == "ed25519"
    assert doc["signer"] == "Dr. A. Auditor"
    assert doc["fingerprint"] == key.fingerprint
    assert doc["public_key"] == key.pub_path.read_text().strip()
    assert set(doc) == {"algorithm", "signer", "fingerprint", "public_key", "sha256",
                        "signed_at", "signature"}
    assert signing.verify_file(report) == []
    assert signing.verify_file(report, trusted_keys=[key.pub_path]) == []


def test_one_changed_byte_is_detected(report: Path, key: signing.KeyInfo) -> None:
    signing.sign_file(report, key.key_path, signer="a")
    data = bytearray(report.read_bytes())
    data[len(data) // 2] ^= 0x01
    report.write_bytes(bytes(data))
    assert signing.verify_file(report) == [
        "report.html: content changed since signing (sha256 differs)"
    ]


def test_missing_signature(report: Path) -> None:
    problems = signing.verify_file(report)
    assert len(problems) == 1 and "no signature" in problems[0]


@pytest.mark.parametrize("field,value", [
    ("signer", "Someone Else"),
    ("signed_at", "2020-01-01T00:00:00Z"),
    ("sha256", "0" * 64),
])
def test_edited_signature_fields_are_detected(report: Path, key: signing.KeyInfo, field: str,
                                              value: str) -> None:
    sig = signing.sign_file(report, key.key_path, signer="a")
    doc = json.loads(sig.read_text())
    doc[field] = value
    sig.write_text(json.dumps(doc))
    problems = signing.verify_file(report)
    assert any("bad signature" in p for p in problems)


def test_edited_fingerprint_and_public_key(report: Path, key: signing.KeyInfo,
                                           tmp_path: Path) -> None:
    other = signing.generate_key("other", tmp_path / "other")
    sig = signing.sign_file(report, key.key_path, signer="a")
    doc = json.loads(sig.read_text())
    sig.write_text(json.dumps({**doc, "fingerprint": other.fingerprint}))
    problems = signing.verify_file(report)
    assert any("fingerprint" in p for p in problems) and any("bad signature" in p for p in problems)
    swapped = {**doc, "public_key": other.pub_path.read_text().strip(),
               "fingerprint": other.fingerprint}
    sig.write_text(json.dumps(swapped))
    assert any("bad signature" in p for p in signing.verify_file(report))
    sig.write_text(json.dumps({**doc, "signature": "not base64!"}))
    assert signing.verify_file(report)
    sig.write_text("{not json")
    assert signing.verify_file(report)


def test_untrusted_key_is_rejected(report: Path, key: signing.KeyInfo, tmp_path: Path) -> None:
    mallory = signing.generate_key("mallory", tmp_path / "mallory")
    signing.sign_file(report, mallory.key_path, signer="Dr. A. Auditor")  # claims a false name
    assert signing.verify_file(report) == []  # self-consistent ...
    problems = signing.verify_file(report, trusted_keys=[key.pub_path])
    assert len(problems) == 1
    assert "not in the trusted key set" in problems[0] and mallory.fingerprint in problems[0]
    assert signing.verify_file(report, trusted_keys=[key.pub_path, mallory.pub_path]) == []
    assert signing.verify_file(report, trusted_keys=[]) != []


def test_encrypted_key_round_trip(report: Path, tmp_path: Path) -> None:
    info = signing.generate_key("secret", tmp_path / "k", passphrase=b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in info.key_path.read_bytes()
    assert stat.S_IMODE(info.key_path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        signing.sign_file(report, info.key_path, signer="a")
    with pytest.raises(ValueError):
        signing.sign_file(report, info.key_path, signer="a", passphrase=b"wrong")
    signing.sign_file(report, info.key_path, signer="a", passphrase=b"correct horse")
    assert signing.verify_file(report, trusted_keys=[info.pub_path]) == []


def test_trusted_key_may_be_a_private_key_file(report: Path, key: signing.KeyInfo) -> None:
    signing.sign_file(report, key.key_path, signer="a")
    assert signing.verify_file(report, trusted_keys=[key.key_path]) == []


def test_sign_missing_file(tmp_path: Path, key: signing.KeyInfo) -> None:
    with pytest.raises(FileNotFoundError):
        signing.sign_file(tmp_path / "nope.html", key.key_path, signer="a")
