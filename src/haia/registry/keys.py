"""Signing keys as users name them: a key by name (in the key folder) or by path, the signed
report files, the report's signature block and the acting user who holds a key.

Used by the audit service and the CLI alike; every failure is a :class:`HaiaError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from haia.errors import HaiaError

REPORT_FILES = ("report.json", "report.html", "report.pdf")


def resolve_key(key: str) -> Path:
    """A key given by name (in the key folder) or by path."""
    from haia.registry.signing import default_key_dir

    candidate = Path(key)
    if candidate.suffix == ".key" or candidate.exists():
        return candidate
    return default_key_dir() / f"{key}.key"


def passphrase(env: str | None) -> bytes | None:
    """The passphrase held in the environment variable ``env`` (None without one)."""
    from haia.registry.actors import passphrase_from_env

    return passphrase_from_env(env)


def load_actor(name: str | None, key: str | None = None,
               passphrase_env: str | None = None) -> Any:
    """The authenticated actor ``name`` with their private key (None when no name)."""
    from haia.registry.actors import Actor

    if name is None:
        return None
    return Actor.from_key_file(name, resolve_key(key or name), passphrase(passphrase_env))


def sign_report(file: Path, key: str, signer: str | None, passphrase_env: str | None) -> Path:
    """Sign ``file`` with ``key``; write and return ``FILE.sig``."""
    from haia.registry.signing import sign_file

    path = resolve_key(key)
    if not file.is_file():
        raise HaiaError(f"{file}: no such file")
    if not path.is_file():
        raise HaiaError(f"no key {key!r} ({path}): create one with 'haia keys create NAME'")
    try:
        return sign_file(file, path, signer or path.stem, passphrase(passphrase_env))
    except ValueError as exc:
        raise HaiaError(str(exc)) from None
    except OSError as exc:
        from haia.atomic import describe_os_error

        raise HaiaError(f"cannot sign {file}: {describe_os_error(exc)}") from None


def signature_block(key: str, signer: str | None) -> dict[str, Any]:
    """The report's signature block, known before the files are signed with ``key``."""
    from cryptography.hazmat.primitives import serialization

    from haia.registry.signing import fingerprint, load_public_key

    path = resolve_key(key)
    pub = path.with_suffix(".pub")
    if not path.is_file():
        raise HaiaError(f"no key {key!r} ({path}): create one with 'haia keys create NAME'")
    try:
        public = load_public_key(pub if pub.is_file() else path)
    except ValueError as exc:
        raise HaiaError(str(exc)) from None
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"algorithm": "Ed25519", "signer": signer or path.stem,
            "fingerprint": fingerprint(raw), "files": list(REPORT_FILES),
            "verify": "haia verify " + " ".join(f"--report {f}" for f in REPORT_FILES)}
