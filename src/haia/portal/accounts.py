"""Portal accounts: argon2 password hashes, signing keys sealed by the password, and session and
API tokens stored only as hashes.

Every registry action is signed by its actor's Ed25519 key (:mod:`haia.registry.actors`). A
portal user's key is kept encrypted twice over, never in the clear: once under a key derived
from their password with argon2id (``portal_credentials``), and, while they are signed in, once
under a key derived from their session or API token (``portal_tokens``, which holds only the
token's SHA-256). The database alone therefore unlocks no key and no session; the server holds
a usable key only while it serves a request of its owner.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select

from haia.errors import HaiaError
from haia.registry.actors import Actor
from haia.registry.models import Credential, Organisation, Token, User
from haia.registry.service import Registry

SESSION_TTL = timedelta(hours=8)
API_TTL = timedelta(days=90)
MIN_PASSWORD = 12
_HASHER = PasswordHasher()  # argon2id, the library's current recommended parameters
_KDF = {"time_cost": 3, "memory_cost": 65_536, "parallelism": 1, "hash_len": 32,
        "type": Type.ID}


class LoginRefused(HaiaError):
    """Wrong name or password."""


class TooManyAttempts(LoginRefused):
    """Too many failed log-ins for a name or from an address."""


@dataclass(frozen=True)
class Account:
    """Who is signed in: their registry user, role, organisation and the key that signs."""

    user_id: int
    name: str
    role: str
    organisation_id: int | None
    organisation: str | None
    category: str | None
    actor: Actor
    token_id: int

    def public(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name, "role": self.role,
                "organisation": self.organisation, "category": self.category}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _raw(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization as ser

    return key.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())


def _seal(secret: bytes, plain: bytes, context: bytes) -> str:
    nonce = secrets.token_bytes(12)
    return base64.b64encode(nonce + AESGCM(secret).encrypt(nonce, plain, context)).decode()


def _open(secret: bytes, sealed: str, context: bytes) -> bytes:
    data = base64.b64decode(sealed)
    return AESGCM(secret).decrypt(data[:12], data[12:], context)


def _password_key(password: str, salt: bytes) -> bytes:
    return hash_secret_raw(password.encode("utf-8"), salt, **_KDF)


def _token_key(token: str) -> bytes:
    return hashlib.sha256(b"haia-portal-token-key\0" + token.encode("utf-8")).digest()


@cache
def _dummy_hash() -> str:
    """An argon2 hash of a random password, verified against when a name has no account."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    """``password`` if it is long enough, else a clear error."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise HaiaError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > 256:
        raise HaiaError("a password has at most 256 characters")
    return password


class LoginLimiter:
    """At most ``limit`` failed log-ins per name and per client address in ``window`` seconds
    (in this process; a deployment with several workers puts a limiter in front as well).
    At most ``keys`` names and addresses are tracked (the stalest dropped first), so a flood of
    made-up names cannot grow it without bound."""

    def __init__(self, limit: int = 5, window: float = 300.0, keys: int = 100_000) -> None:
        self.limit, self.window, self.keys = limit, window, keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> int:
        q, now = self._failures.get(key), time.monotonic()
        if q is None:
            return 0
        while q and now - q[0] > self.window:
            q.popleft()
        if not q:
            del self._failures[key]
            return 0
        return len(q)

    def check(self, *keys: str) -> None:
        with self._lock:
            if any(self._recent(k) >= self.limit for k in keys):
                raise TooManyAttempts(
                    f"too many failed log-ins: wait {int(self.window // 60)} minutes")

    def failed(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._recent(k)
                q = self._failures.pop(k, None) or deque()  # re-inserted: newest last
                q.append(time.monotonic())
                self._failures[k] = q
            while len(self._failures) > self.keys:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, name_key: str) -> None:
        """A right password clears that name's failures (not its address's: one account's
        owner must not reset the count of guesses at others from the same address)."""
        with self._lock:
            self._failures.pop(name_key, None)


class Accounts:
    """Accounts, sessions and API tokens on the registry's database."""

    def __init__(self, registry: Registry, limiter: LoginLimiter | None = None) -> None:
        self.registry = registry
        self.limiter = limiter or LoginLimiter()

    # -- creating ------------------------------------------------------------------------------
    def create_first_admin(self, name: str, password: str) -> dict[str, Any]:
        """The registry's first user, an admin who signs their own registration."""
        check_password(password)
        actor = Actor.generate(name)
        data = self.registry.add_user(name, "admin", actor=actor)
        self._store(data["id"], password, actor.key)
        return data

    def create(self, admin: Actor, name: str, role: str, password: str, *,
               organisation: str | int | None = None, email: str | None = None,
               category: str | None = None) -> dict[str, Any]:
        """A registry user with a fresh signing key and a portal log-in (the admin acts)."""
        check_password(password)
        key = Ed25519PrivateKey.generate()
        public = Actor(name, key).public_key
        data = self.registry.add_user(name, role, public_key=public, organisation=organisation,
                                      email=email, category=category, actor=admin)
        self._store(data["id"], password, key)
        return data

    def _store(self, user_id: int, password: str, key: Ed25519PrivateKey) -> None:
        salt = secrets.token_bytes(16)
        row = Credential(user_id=user_id, password_hash=_HASHER.hash(password),
                         key_salt=base64.b64encode(salt).decode(),
                         key_blob=_seal(_password_key(password, salt), _raw(key), b"password"),
                         changed_at=_now())
        with self.registry.sessions() as s, s.begin():
            s.merge(row)

    # -- signing in ----------------------------------------------------------------------------
    def login(self, name: str, password: str, *, client: str = "?", kind: str = "session",
              label: str | None = None) -> str:
        """A new session (or API) token for ``name``, or :class:`LoginRefused`."""
        keys = (f"name:{name.lower()}", f"ip:{client}")
        self.limiter.check(*keys)
        with self.registry.sessions() as s:
            user = s.scalars(select(User).where(User.name == name)).first()
            cred = s.get(Credential, user.id) if user else None
        # an unknown name costs the same argon2 work as a wrong password: no timing tells
        # which names have accounts
        stored = cred.password_hash if cred is not None else _dummy_hash()
        if not _verify(stored, password) or user is None or cred is None:
            self.limiter.failed(*keys)
            raise LoginRefused("wrong name or password")
        self.limiter.succeeded(keys[0])
        key = _open(_password_key(password, base64.b64decode(cred.key_salt)), cred.key_blob,
                    b"password")
        if _HASHER.check_needs_rehash(cred.password_hash):
            self._store(user.id, password, Ed25519PrivateKey.from_private_bytes(key))
        return self._issue(user.id, key, kind, label)

    def _issue(self, user_id: int, key: bytes, kind: str, label: str | None) -> str:
        token = secrets.token_urlsafe(32)
        ttl = SESSION_TTL if kind == "session" else API_TTL
        row = Token(token_hash=_sha256(token), user_id=user_id, kind=kind,
                    label=(label or kind)[:100],
                    key_blob=_seal(_token_key(token), key, kind.encode()), created=_now(),
                    expires=_now() + ttl)
        with self.registry.sessions() as s, s.begin():
            s.add(row)
        return token

    def api_token(self, account: Account, label: str) -> str:
        """A new API token for the signed-in ``account`` (returned once, stored hashed)."""
        return self._issue(account.user_id, _raw(account.actor.key), "api", label)

    def resolve(self, token: str | None, kind: str | None = None) -> Account | None:
        """The account a token signs in, or None (unknown, expired or of another kind)."""
        if not token or len(token) > 200:
            return None
        with self.registry.sessions() as s:
            row = s.scalars(select(Token).where(Token.token_hash == _sha256(token))).first()
            if row is None or (kind is not None and row.kind != kind):
                return None
            if row.expires < _now():
                s.delete(row)
                s.commit()
                return None
            user = s.get(User, row.user_id)
            org = s.get(Organisation, user.organisation_id) if user.organisation_id else None
            try:
                key = _open(_token_key(token), row.key_blob, row.kind.encode())
            except Exception:  # a token row whose key does not open: treat as unknown
                return None
            return Account(user.id, user.name, user.role, user.organisation_id,
                           org.name if org else None, user.category,
                           Actor(user.name, Ed25519PrivateKey.from_private_bytes(key)), row.id)

    def logout(self, token: str) -> None:
        with self.registry.sessions() as s, s.begin():
            s.execute(delete(Token).where(Token.token_hash == _sha256(token)))

    def tokens(self, account: Account) -> list[dict[str, Any]]:
        """The account's API tokens (label and dates; the tokens themselves are not kept)."""
        with self.registry.sessions() as s:
            return [{"id": t.id, "label": t.label, "created": t.created.isoformat(),
                     "expires": t.expires.isoformat()}
                    for t in s.scalars(select(Token).where(
                        Token.user_id == account.user_id, Token.kind == "api"))]

    def revoke(self, account: Account, token_id: int) -> None:
        with self.registry.sessions() as s, s.begin():
            done = s.execute(delete(Token).where(Token.id == token_id,
                                                 Token.user_id == account.user_id))
        if not done.rowcount:
            raise HaiaError(f"no API token {token_id} of yours")

    def change_password(self, account: Account, old: str, new: str) -> None:
        """Re-seal the key under a new password and end every other session and token."""
        check_password(new)
        with self.registry.sessions() as s:
            cred = s.get(Credential, account.user_id)
        if cred is None or not _verify(cred.password_hash, old):
            raise LoginRefused("the current password is wrong")
        self._store(account.user_id, new, account.actor.key)
        with self.registry.sessions() as s, s.begin():
            s.execute(delete(Token).where(Token.user_id == account.user_id,
                                          Token.id != account.token_id))

    def has_users(self) -> bool:
        with self.registry.sessions() as s:
            return s.scalars(select(User.id).limit(1)).first() is not None


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
