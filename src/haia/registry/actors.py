"""Authenticated actors: a registered user name with the Ed25519 private key whose public half
the registry holds. Every registry action is signed with it, so the ledger proves who did what.

The CLI loads the key from the key folder (``haia keys create NAME``) or a path, with an
optional passphrase; the web portal will hold one per logged-in session.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haia.errors import HaiaError
from haia.registry.signing import fingerprint, load_private_key


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and the private key that signs each of their registry actions."""

    name: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> Actor:
        """A new actor with a fresh in-memory key (tests, demos)."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_key_file(cls, name: str, path: Path, passphrase: bytes | None = None) -> Actor:
        """The actor ``name`` whose private key is at ``path``; a clear error if it won't load."""
        if not Path(path).is_file():
            raise HaiaError(f"no signing key for {name!r} at {path}: create one with "
                            f"'haia keys create {name}' and have an admin register its .pub")
        try:
            return cls(name, load_private_key(Path(path), passphrase))
        except ValueError as exc:
            hint = " (give --passphrase-env VAR)" if passphrase is None else ""
            raise HaiaError(f"cannot load the signing key of {name!r}: {exc}{hint}") from None

    @property
    def public_key(self) -> str:
        """The raw public key, base64 (what the registry stores)."""
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return fingerprint(base64.b64decode(self.public_key))

    def sign(self, message: str) -> str:
        """Base64 Ed25519 signature of ``message`` (UTF-8)."""
        return base64.b64encode(self.key.sign(message.encode("utf-8"))).decode("ascii")


def public_key_text(value: str | Path) -> str:
    """A public key given as base64 text or as a ``.pub``/PEM file, as registry base64."""
    from haia.registry.signing import load_public_key

    path = Path(str(value))
    try:
        if path.is_file():
            key = load_public_key(path)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(str(value), validate=True))
    except (OSError, ValueError, binascii.Error) as exc:
        raise HaiaError(f"not an Ed25519 public key: {value} ({exc})") from None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_fingerprint(public_key: str) -> str:
    """Fingerprint of a base64 raw public key."""
    return fingerprint(base64.b64decode(public_key))


def verify_signature(public_key: str, message: str, signature: str) -> bool:
    """True when ``signature`` (base64) over ``message`` is valid for ``public_key`` (base64)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message.encode("utf-8"))
        return True
    except (InvalidSignature, ValueError, binascii.Error, TypeError):
        return False


def passphrase_from_env(env: str | None) -> bytes | None:
    """The passphrase in environment variable ``env`` (None when no variable is named)."""
    if env is None:
        return None
    value = os.environ.get(env)
    if not value:
        raise HaiaError(f"environment variable {env} is not set")
    return value.encode()
