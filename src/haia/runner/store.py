"""The run store: every run and every response, in SQLite (WAL), written as responses arrive.

One database (``$HAIA_HOME/runs.sqlite``, default ``~/.haia``) holds all runs, so ``haia audit
--resume RUN_ID`` needs only the id. The responses table doubles as the response cache: a successful
response is found again by its request hash (model, parameters, messages, sample index).

Writes go through one writer thread that commits whatever has queued (group commit): the event loop
never waits on the disk, and each response is durable within milliseconds of its arrival. The
request messages themselves are not stored, only their hash.

No PHI at rest by default: a model's answer may repeat the patient data of a prompt, so the
answer text, the error message, the scores and the annotations of every response are encrypted
(AES-256-GCM from ``cryptography``, a random 96-bit nonce per value, with a key derived by HKDF
from the store key) with a key kept apart from the database, in ``$HAIA_HOME/store.key``
(created on first use, mode 0600) or given as ``HAIA_STORE_KEY``. Resume and the response cache
read them back transparently; a copy of ``runs.sqlite`` without the key holds no answer in plain
text. ``HAIA_STORE_ENCRYPTION=off`` stores plain text (the user asked). Values written by earlier
versions are read as they are: Fernet tokens (``enc1:``, AES-128-CBC with HMAC-SHA256, about six
times slower per value, which made decryption most of the report stage's store read) and rows
written before encryption existed.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import queue
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from haia.errors import HaiaError
from haia.record import SampleRecord, ScoreValue, known_status

KEY_ENV = "HAIA_STORE_KEY"
ENCRYPTION_ENV = "HAIA_STORE_ENCRYPTION"
ENC_PREFIX = "enc2:"  # AES-256-GCM: base64 of nonce + ciphertext + tag
FERNET_PREFIX = "enc1:"  # Fernet tokens of earlier versions (read only)
NONCE_BYTES = 12

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    model TEXT NOT NULL,
    suite TEXT NOT NULL,
    suite_version TEXT NOT NULL,
    suite_hash TEXT NOT NULL,
    config TEXT NOT NULL,
    finished TEXT
);
CREATE TABLE IF NOT EXISTS responses (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    item_id TEXT NOT NULL,
    sample INTEGER NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    text TEXT,
    error TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    cached INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    scores TEXT,
    annotations TEXT,
    PRIMARY KEY (run_id, item_id, sample)
);
CREATE INDEX IF NOT EXISTS responses_by_hash ON responses (request_hash, status);
CREATE TABLE IF NOT EXISTS run_meta (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created TEXT NOT NULL
);
"""

DONE_STATUSES = ("ok", "skipped")
SCHEMA_VERSION = 2  # 2: scores and annotations per response (the sample record)
RESPONSE_COLUMNS = ("run_id, item_id, sample, request_hash, status, text, error, prompt_tokens, "
                    "completion_tokens, latency_ms, attempts, cached, created, scores, annotations")
INSERT_RESPONSE = (f"INSERT OR REPLACE INTO responses ({RESPONSE_COLUMNS}) "
                   f"VALUES ({','.join('?' * 15)})")


def haia_home() -> Path:
    """haia's data folder: ``$HAIA_HOME`` or ``~/.haia``."""
    return Path(os.environ.get("HAIA_HOME") or Path.home() / ".haia").expanduser()


def default_store_path() -> Path:
    return haia_home() / "runs.sqlite"


def store_key_path() -> Path:
    return haia_home() / "store.key"


def load_store_key(create: bool = True) -> bytes:
    """The store's Fernet key: ``$HAIA_STORE_KEY``, else ``$HAIA_HOME/store.key`` (created
    atomically with mode 0600 when missing and ``create``)."""
    from cryptography.fernet import Fernet

    env = os.environ.get(KEY_ENV)
    if env:
        key = env.strip().encode()
        try:
            Fernet(key)
        except ValueError:
            raise HaiaError(f"{KEY_ENV} is not a Fernet key (44 url-safe base64 characters)"
                            ) from None
        return key
    path = store_key_path()
    if not path.exists():
        if not create:
            raise HaiaError(f"no store key at {path}: encrypted answers cannot be read")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".store.key.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, Fernet.generate_key())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process made
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise HaiaError(f"{path} is not a Fernet key") from None
    return key


class Cipher:
    """Encrypts the store's text fields (``None`` passes through; plain legacy rows read as is)."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key
        self._sealing = bool(key)  # off: nothing is sealed, even after reading a sealed row
        self._aead: Any = _aead(key) if key else None
        self._fernet: Any = None

    @classmethod
    def default(cls) -> Cipher:
        if os.environ.get(ENCRYPTION_ENV, "on").lower() in ("off", "0", "no", "false"):
            return cls(None)
        return cls(load_store_key())

    def seal(self, value: str | None) -> str | None:
        if value is None or not self._sealing:
            return value
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, value.encode(), None)
        return ENC_PREFIX + base64.b64encode(sealed).decode("ascii")

    def open(self, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(ENC_PREFIX):
            return self._open_aead(value)
        if value.startswith(FERNET_PREFIX):
            return self._open_fernet(value)
        return value

    def _key_for_reading(self) -> bytes:
        if self._key is None:  # encryption off, but the row was written encrypted
            self._key = load_store_key(create=False)
        return self._key

    def _open_aead(self, value: str) -> str:
        from cryptography.exceptions import InvalidTag

        if self._aead is None:
            self._aead = _aead(self._key_for_reading())
        try:
            raw = base64.b64decode(value[len(ENC_PREFIX):], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except (InvalidTag, ValueError):
            raise _undecryptable() from None

    def _open_fernet(self, value: str) -> str:
        from cryptography.fernet import Fernet, InvalidToken

        if self._fernet is None:
            self._fernet = Fernet(self._key_for_reading())
        try:
            return self._fernet.decrypt(value[len(FERNET_PREFIX):].encode()).decode()
        except InvalidToken:
            raise _undecryptable() from None


def _aead(key: bytes) -> Any:
    """AES-256-GCM under a key derived from the store key (a Fernet key, kept for old rows)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"haia run store AES-256-GCM v2").derive(base64.urlsafe_b64decode(key))
    return AESGCM(derived)


def _undecryptable() -> HaiaError:
    return HaiaError("an answer in the run store cannot be decrypted with this key "
                     f"(${KEY_ENV} or {store_key_path()})")


def _scores(text: str | None) -> dict[str, list[ScoreValue]]:
    """A record's stored scores (JSON) as score values; a run's answers share a few score
    sets, so they are parsed once each (the values are frozen; the lists are fresh)."""
    if not text:
        return {}
    return {name: list(values) for name, values in _parsed_scores(text).items()}


@functools.lru_cache(maxsize=4096)
def _parsed_scores(text: str) -> dict[str, tuple[ScoreValue, ...]]:
    return {name: tuple(ScoreValue.from_dict(v) for v in values)
            for name, values in json.loads(text).items()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class _SampleRow:
    """A :class:`~haia.record.SampleRecord` of run ``run_id``, queued for the writer."""

    run_id: str
    record: SampleRecord

    def row(self, cipher: Cipher | None = None) -> tuple[Any, ...]:
        seal = cipher.seal if cipher is not None else (lambda v: v)
        r = self.record
        return (self.run_id, r.item_id, r.sample, r.request_hash, r.status, seal(r.output),
                seal(r.error), r.prompt_tokens, r.completion_tokens, r.latency_s * 1000,
                r.attempts, int(r.cached), now_iso(),
                seal(json.dumps(r.scores_dict(), sort_keys=True)) if r.scores else None,
                seal(json.dumps(r.annotations, sort_keys=True)) if r.annotations else None)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    created: str
    status: str
    model: str
    suite: str
    suite_version: str
    suite_hash: str
    config: dict[str, Any]
    finished: str | None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class RunStore:
    """Runs and responses in one SQLite database."""

    def __init__(self, path: Path | str | None = None, *, cipher: Cipher | None = None) -> None:
        self.path = Path(path) if path else default_store_path()
        self.cipher = cipher or Cipher.default()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = _connect(self.path)
            self._conn.executescript(SCHEMA)
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise HaiaError(f"cannot open the run store {self.path}: {exc}") from None
        self._writer: _Writer | None = None

    def _migrate(self) -> None:
        """Bring a schema-1 store (no scores or annotations columns) to schema 2, saying so."""
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA_VERSION:
            return
        columns = {r[1] for r in self._conn.execute("PRAGMA table_info(responses)")}
        with self._conn:
            added = [c for c in ("scores", "annotations") if c not in columns]
            for column in added:
                self._conn.execute(f"ALTER TABLE responses ADD COLUMN {column} TEXT")
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if added:
            sys.stderr.write(f"haia: upgraded the run store {self.path} from schema 1 to "
                             f"{SCHEMA_VERSION} (scores and annotations kept per response)\n")

    # -- runs -------------------------------------------------------------------------------
    def create_run(self, run: RunRecord) -> None:
        with self._conn:
            self._conn.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?)",
                (run.run_id, run.created, run.status, run.model, run.suite, run.suite_version,
                 run.suite_hash, json.dumps(run.config, sort_keys=True), run.finished))

    def get_run(self, run_id: str) -> RunRecord:
        row = self._conn.execute("SELECT * FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            raise HaiaError(f"no run {run_id!r} in {self.path}")
        return RunRecord(*row[:7], json.loads(row[7]), row[8])  # type: ignore[arg-type]

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        rows = self._conn.execute(
            "SELECT * FROM runs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord(*r[:7], json.loads(r[7]), r[8]) for r in rows]  # type: ignore[arg-type]

    def set_status(self, run_id: str, status: str) -> None:
        finished = now_iso() if status == "complete" else None
        with self._conn:
            self._conn.execute("UPDATE runs SET status=?, finished=? WHERE run_id=?",
                               (status, finished, run_id))

    def add_meta(self, run_id: str, key: str, value: Any) -> None:
        """Append a JSON-serialisable record about a run (e.g. one session's energy use)."""
        with self._conn:
            self._conn.execute("INSERT INTO run_meta (run_id, key, value, created) "
                               "VALUES (?,?,?,?)", (run_id, key, json.dumps(value), now_iso()))

    def meta(self, run_id: str, key: str) -> list[Any]:
        """Every record ``key`` of the run, oldest first."""
        rows = self._conn.execute("SELECT value FROM run_meta WHERE run_id=? AND key=? "
                                  "ORDER BY seq", (run_id, key))
        return [json.loads(r[0]) for r in rows]

    # -- responses --------------------------------------------------------------------------
    def done_keys(self, run_id: str) -> set[tuple[str, int]]:
        """(item id, sample) pairs of the run that need no new request."""
        rows = self._conn.execute(
            "SELECT item_id, sample FROM responses WHERE run_id=? AND status IN (?,?)",
            (run_id, *DONE_STATUSES))
        return {(r[0], r[1]) for r in rows}

    def records(self, run_id: str, batch: int = 500) -> Iterator[SampleRecord]:
        """Stream the run's sample records, in (item id, sample) order, ``batch`` rows at a
        time (never the whole run in memory)."""
        cursor = self._conn.execute(
            "SELECT item_id, sample, request_hash, status, text, error, prompt_tokens, "
            "completion_tokens, latency_ms, attempts, cached, scores, annotations "
            "FROM responses WHERE run_id=? ORDER BY item_id, sample", (run_id,))
        open_ = self.cipher.open
        while rows := cursor.fetchmany(batch):
            for r in rows:
                yield SampleRecord(
                    r[0], r[1], r[2], known_status(r[3], r[0]), open_(r[4]), r[6], r[7],
                    r[8] / 1000, open_(r[5]), r[9], bool(r[10]), _scores(open_(r[11])),
                    json.loads(open_(r[12]) or "{}"))

    def record(self, run_id: str, record: SampleRecord) -> None:
        """Queue ``record`` (with its scores and annotations) for the writer thread."""
        if self._writer is None:
            self._writer = _Writer(self.path, self.cipher)
        self._writer.put(_SampleRow(run_id, record))

    def annotate(self, run_id: str, item_id: str, sample: int, name: str, value: Any) -> None:
        """Add annotation ``name`` (any JSON value: a judge's verdict, say) to the stored record
        of (``item_id``, ``sample``), keeping its other annotations; encrypted like the answer."""
        self.flush()
        where = (run_id, item_id, sample)
        with self._conn:
            row = self._conn.execute("SELECT annotations FROM responses WHERE run_id=? AND "
                                     "item_id=? AND sample=?", where).fetchone()
            if row is None:
                raise HaiaError(f"run {run_id}: no record of item {item_id!r}, sample {sample}")
            annotations = json.loads(self.cipher.open(row[0]) or "{}")
            annotations[name] = value
            self._conn.execute("UPDATE responses SET annotations=? WHERE run_id=? AND item_id=? "
                               "AND sample=?",
                               (self.cipher.seal(json.dumps(annotations, sort_keys=True)), *where))

    def cached(self, hashes: Iterable[str]) -> dict[str, SampleRecord]:
        """Successful earlier answers for any of ``hashes`` (the response cache), by hash."""
        found: dict[str, SampleRecord] = {}
        wanted = list(dict.fromkeys(hashes))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                "SELECT item_id, sample, request_hash, text, prompt_tokens, completion_tokens, "
                f"latency_ms, attempts FROM responses WHERE status='ok' AND request_hash IN "
                f"({marks})", chunk)
            for r in rows:
                if r[2] not in found:
                    found[r[2]] = SampleRecord(r[0], r[1], r[2], "ok", self.cipher.open(r[3]),
                                               r[4], r[5], r[6] / 1000, attempts=r[7])
        return found

    def flush(self) -> None:
        """Block until every queued record is committed."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


WRITE_QUEUE = 4096  # records waiting for the writer at most (the runner waits beyond that)
WRITE_BATCH = 1024  # records committed per transaction at most


class _Writer:
    """A thread that upserts queued response records, committing each batch as it drains. The
    queue is bounded, so a writer slower than a zero-latency model holds back the runner instead
    of holding the run in memory."""

    _STOP = object()

    def __init__(self, path: Path, cipher: Cipher | None = None) -> None:
        self._cipher = cipher
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=WRITE_QUEUE)
        self._conn = _connect(path)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="haia-store", daemon=True)
        self._thread.start()

    def put(self, record: _SampleRow) -> None:
        while True:
            if self._error is not None:
                raise HaiaError(f"the run store failed: {self._error}")
            try:
                self._queue.put(record, timeout=1.0)
                return
            except queue.Full:
                if not self._thread.is_alive():
                    raise HaiaError("the run store's writer stopped") from None

    def _drain(self) -> Iterator[Any]:
        yield self._queue.get()
        for _ in range(WRITE_BATCH - 1):
            try:
                yield self._queue.get_nowait()
            except queue.Empty:
                return

    def _loop(self) -> None:
        running = True
        while running:
            batch, events = [], []
            for entry in self._drain():
                if entry is self._STOP:
                    running = False
                elif isinstance(entry, threading.Event):
                    events.append(entry)
                else:
                    batch.append(entry.row(self._cipher))
            if batch:
                try:
                    with self._conn:
                        self._conn.executemany(
                            INSERT_RESPONSE, batch)
                except sqlite3.Error as exc:
                    self._error = exc
            for event in events:
                event.set()
        self._conn.close()

    def flush(self) -> None:
        done = threading.Event()
        self._queue.put(done)
        done.wait()
        if self._error is not None:
            raise HaiaError(f"the run store failed: {self._error}")

    def close(self) -> None:
        self._queue.put(self._STOP)
        self._thread.join()
