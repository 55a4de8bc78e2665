"""A checkpoint of the ledger kept outside the database: what this machine last saw.

A hash chain shows an edit, a deletion or a reordering, and the actors' signatures show a forged
event, but a writer with database access can still cut the newest events (and the rows they
made) or rewrite the history consistently and strip its signatures. Certificate Transparency's
answer is that clients remember the tree heads they have seen. haia does the same: after every
write it records the ledger's head (size and the hash of the newest event, which commits to
every earlier event through the chain) in ``$HAIA_HOME/checkpoints/<registry>.json``, outside
the database, and ``haia verify`` checks that the ledger still extends it.

A checkpoint only advances: two writers on one machine keep the larger head. A machine that has
never written to the registry has no checkpoint; ``haia registry root`` published elsewhere and
``haia verify --expect-root`` serve there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from haia.atomic import atomic_write

CHECKPOINT_ENV = "HAIA_CHECKPOINT_DIR"


@dataclass(frozen=True)
class Head:
    """The ledger's head: its size, the hash of its newest event and the newest event that
    was signed (so stripping the signatures to pass the ledger off as a pre-signing one shows)."""

    size: int
    hash: str
    signed_seq: int = 0


def checkpoint_dir() -> Path:
    """Where checkpoints live (``$HAIA_CHECKPOINT_DIR``, default ``$HAIA_HOME/checkpoints``)."""
    configured = os.environ.get(CHECKPOINT_ENV)
    if configured:
        return Path(configured).expanduser()
    from haia.runner.store import haia_home

    return haia_home() / "checkpoints"


def checkpoint_path(url: str) -> Path:
    """The checkpoint file of the registry at ``url`` (named by a hash of the URL without its
    password, so no secret reaches the file name)."""
    from sqlalchemy.engine import make_url

    try:
        safe = make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL never opened a registry; any stable name serves
        safe = url
    return checkpoint_dir() / f"{hashlib.sha256(safe.encode()).hexdigest()[:24]}.json"


def read(url: str) -> Head | None:
    """The checkpoint for ``url``; None when this machine has none. A damaged file raises
    ValueError (verify names it)."""
    path = checkpoint_path(url)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"checkpoint {path} is unreadable ({exc})") from None
    size, digest = (data.get("size"), data.get("hash")) if isinstance(data, dict) else (0, 0)
    if not isinstance(size, int) or size < 0 or not isinstance(digest, str) or len(digest) != 64:
        raise ValueError(f"checkpoint {path} holds no valid head")
    signed_seq = data.get("signed_seq", 0)
    return Head(size, digest, signed_seq if isinstance(signed_seq, int) else 0)


def advance(url: str, head: Head) -> None:
    """Record ``head`` unless the checkpoint already holds a larger one. Best effort: a
    read-only home must not fail the registry write that has already committed."""
    path = checkpoint_path(url)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (path.parent / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                current = read(url)
            except ValueError:
                current = None
            if current is not None and current.size >= head.size:
                return
            signed_seq = head.signed_seq or (current.signed_seq if current else 0)
            doc = {"size": head.size, "hash": head.hash, "signed_seq": signed_seq,
                   "at": datetime.now(UTC).isoformat(timespec="seconds")}
            atomic_write(path, json.dumps(doc) + "\n")
    except OSError:
        return


def check(url: str, events_by_seq: dict[int, tuple[str, bool]]
          ) -> tuple[list[str], str | None]:
    """(problems, note) comparing the ledger (seq -> (hash, signed)) with this machine's
    checkpoint."""
    try:
        head = read(url)
    except ValueError as exc:
        return [str(exc)], None
    if head is None:
        return [], ("no checkpoint of this registry on this machine: a cut of the newest "
                    "events shows only against a root published earlier (--expect-root)")
    size = max(events_by_seq, default=0)
    if size < head.size:
        return [f"ledger truncated: {size} events, this machine's checkpoint saw {head.size} "
                f"(file {checkpoint_path(url)})"], None
    digest, _ = events_by_seq.get(head.size, ("", False))
    if head.size and digest != head.hash:
        return [f"ledger rewritten: event {head.size} no longer has the hash this machine's "
                "checkpoint recorded (every event up to it is covered by that hash)"], None
    if head.signed_seq and not events_by_seq.get(head.signed_seq, ("", False))[1]:
        return [f"signatures stripped: event {head.signed_seq} was signed when this machine's "
                "checkpoint recorded it and is unsigned now"], None
    return [], f"ledger extends this machine's checkpoint ({head.size} events)"
