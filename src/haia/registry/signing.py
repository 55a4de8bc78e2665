"""Ed25519 signing keys and detached signatures for report files.

``generate_key`` writes ``<name>.key`` (PKCS8 PEM, optionally passphrase-encrypted, mode 0600)
and ``<name>.pub`` (raw public key, base64). ``sign_file`` writes ``<file>.sig`` beside a report:
a small JSON document holding the file's SHA-256, the signer, the public key and an Ed25519
signature over the canonical JSON of those fields. ``verify_file`` reports what is wrong, if
anything. A ``.sig`` embeds its own public key, so only a trusted key set proves *who* signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haia.atomic import atomic_write
from haia.canonical import canonical_json

__all__ = [
    "ALGORITHM",
    "KeyInfo",
    "default_key_dir",
    "fingerprint",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "sign_file",
    "sign_with",
    "signature_fingerprint",
    "signature_path",
    "verify_file",
]

ALGORITHM = "ed25519"
_SIG_FIELDS = ("algorithm", "signer", "fingerprint", "public_key", "sha256", "signed_at")


@dataclass(frozen=True)
class KeyInfo:
    """A generated key pair on disk."""

    name: str
    fingerprint: str
    key_path: Path
    pub_path: Path


def default_key_dir() -> Path:
    """``keys`` in haia's data folder (``$HAIA_HOME``, else ``~/.haia``)."""
    from haia.runner.store import haia_home

    return haia_home() / "keys"


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_raw: bytes) -> str:
    """First 16 hex characters of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    from haia.atomic import atomic_create

    atomic_create(path, data, perms=mode)  # independent of the umask, never half-written


def generate_key(name: str, directory: Path, passphrase: bytes | None = None) -> KeyInfo:
    """Create ``<name>.key`` and ``<name>.pub`` in ``directory``; never overwrites a key."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"invalid key name {name!r}")
    directory = Path(directory)
    key_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    for p in (key_path, pub_path):
        if p.exists():
            raise ValueError(f"key {name!r} already exists ({p}); refusing to overwrite it")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase
        else serialization.NoEncryption())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                encryption)
    raw = _raw_public(private.public_key())
    try:
        _write_new(key_path, pem, 0o600)
    except FileExistsError as exc:
        raise ValueError(f"key {name!r} already exists ({key_path}); refusing to overwrite it") \
            from exc
    try:
        _write_new(pub_path, base64.b64encode(raw) + b"\n", 0o644)
    except BaseException:
        key_path.unlink(missing_ok=True)  # a private key without its public half blocks the name
        raise
    return KeyInfo(name=name, fingerprint=fingerprint(raw), key_path=key_path, pub_path=pub_path)


def load_private_key(key_path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load a PKCS8 PEM Ed25519 private key, with a clear error for a wrong/missing passphrase."""
    data = Path(key_path).read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except TypeError as exc:  # encrypted without passphrase, or passphrase for a plain key
        raise ValueError(f"{key_path}: {exc}") from exc
    except ValueError as exc:
        raise ValueError(f"{key_path}: cannot load key (wrong passphrase or not a PEM key)") \
            from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{key_path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load a public key: a ``.pub`` file (base64 raw), a PEM public key, or an unencrypted
    private key (its public half)."""
    data = Path(path).read_bytes().strip()
    if data.startswith(b"-----BEGIN"):
        if b"PRIVATE KEY" in data:
            return load_private_key(Path(path)).public_key()
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path}: not an Ed25519 public key")
        return key
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{path}: not a base64 Ed25519 public key") from exc


def signature_path(path: Path) -> Path:
    """Where the detached signature of ``path`` lives: ``<path>.sig``."""
    path = Path(path)
    return path.with_name(path.name + ".sig")


def sha256_file(path: Path) -> str:
    """SHA-256 hex of a file, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sign_file(path: Path, key_path: Path, signer: str, passphrase: bytes | None = None) -> Path:
    """Sign ``path`` with the key at ``key_path``; write and return ``<path>.sig``."""
    return sign_with(path, load_private_key(key_path, passphrase), signer)


def sign_with(path: Path, private: Ed25519PrivateKey, signer: str) -> Path:
    """Sign ``path`` with an already loaded key; write and return ``<path>.sig``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file to sign")
    raw = _raw_public(private.public_key())
    fields: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "signer": signer,
        "fingerprint": fingerprint(raw),
        "public_key": base64.b64encode(raw).decode("ascii"),
        "sha256": sha256_file(path),
        "signed_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    signature = private.sign(canonical_json(fields))
    doc = {**fields, "signature": base64.b64encode(signature).decode("ascii")}
    out = signature_path(path)
    atomic_write(out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return out


def _trusted_fingerprints(trusted_keys: list[Path]) -> tuple[set[str], list[str]]:
    fps: set[str] = set()
    errors: list[str] = []
    for p in trusted_keys:
        try:
            fps.add(fingerprint(_raw_public(load_public_key(p))))
        except (OSError, ValueError, TypeError) as exc:
            errors.append(f"trusted key {p} could not be read: {exc}")
    return fps, errors


def verify_file(path: Path, trusted_keys: list[Path] | None = None) -> list[str]:
    """Problems with ``path`` and its ``.sig``; an empty list means the signature is valid.

    With ``trusted_keys`` (public-key files), the signer's key must be one of them; an empty
    list trusts no key. Without it, any self-consistent signature is accepted.
    """
    path = Path(path)
    name = path.name
    sig_path = signature_path(path)
    if not path.is_file():
        return [f"{name}: file not found"]
    if not sig_path.is_file():
        return [f"{name}: no signature ({sig_path.name} missing)"]
    try:
        doc = json.loads(sig_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [f"{name}: signature file {sig_path.name} is unreadable ({exc})"]
    if not isinstance(doc, dict):
        return [f"{name}: signature file {sig_path.name} is not a JSON object"]
    missing = [k for k in (*_SIG_FIELDS, "signature") if not isinstance(doc.get(k), str)]
    if missing:
        return [f"{name}: signature file lacks {', '.join(missing)}"]
    if doc["algorithm"] != ALGORITHM:
        return [f"{name}: unsupported signature algorithm {doc['algorithm']!r}"]

    problems: list[str] = []
    try:
        raw = base64.b64decode(doc["public_key"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(raw)
        signature = base64.b64decode(doc["signature"], validate=True)
    except (binascii.Error, ValueError):
        return [f"{name}: signature file holds a malformed public key or signature"]
    fp = fingerprint(raw)
    if doc["fingerprint"] != fp:
        problems.append(f"{name}: fingerprint {doc['fingerprint']} does not match the embedded "
                        f"public key ({fp})")
    fields = {k: doc[k] for k in _SIG_FIELDS}
    try:
        public.verify(signature, canonical_json(fields))
    except InvalidSignature:
        problems.append(f"{name}: bad signature (the signature file was edited or the "
                        "signature does not belong to its key)")
    if sha256_file(path) != doc["sha256"]:
        problems.append(f"{name}: content changed since signing (sha256 differs)")
    if trusted_keys is not None:
        trusted, errors = _trusted_fingerprints(trusted_keys)
        problems.extend(f"{name}: {e}" for e in errors)
        if fp not in trusted:
            problems.append(f"{name}: signer {doc['signer']!r} (key {fp}) is not in the "
                            "trusted key set")
    return problems


def signature_fingerprint(path: Path) -> str | None:
    """The key fingerprint a valid ``<path>.sig`` was made with (None if unsigned or invalid)."""
    if verify_file(path):
        return None
    doc = json.loads(signature_path(path).read_text(encoding="utf-8"))
    return str(doc["fingerprint"])
