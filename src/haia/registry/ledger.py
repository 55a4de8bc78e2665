"""The registry's tamper-evident event ledger: a hash chain plus a Merkle tree over it.

Every event stores the hash of its predecessor *inside* the object it hashes, so editing,
deleting, inserting or reordering an event breaks the chain at a precise sequence number. The
Merkle root over all events (leaf = the event's canonical JSON, hash included) gives a short
commitment that can be published, with inclusion proofs per event. Storage-agnostic: the
database layer only persists :class:`Event` values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from haia.canonical import canonical_json
from haia.registry import merkle

__all__ = [
    "FIRST_SEQ",
    "GENESIS",
    "Event",
    "canonical_json",
    "event_hash",
    "inclusion_proof",
    "make_event",
    "merkle_root",
    "verify_chain",
    "verify_proof",
]

GENESIS = "0" * 64
"""``prev_hash`` of the first event."""

FIRST_SEQ = 1
"""Sequence number of the first event."""


@dataclass(frozen=True)
class Event:
    """One ledger entry; ``hash`` covers every other field, ``prev_hash`` included."""

    seq: int
    kind: str
    subject: str
    actor: str
    at: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of all fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_dict` output (no verification)."""
        return cls(seq=int(data["seq"]), kind=data["kind"], subject=data["subject"],
                   actor=data["actor"], at=data["at"], payload=dict(data["payload"]),
                   prev_hash=data["prev_hash"], hash=data["hash"])


def event_hash(seq: int, kind: str, subject: str, actor: str, at: str,
               payload: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 hex over the canonical JSON of the event fields and the previous hash."""
    body = {"seq": seq, "kind": kind, "subject": subject, "actor": actor, "at": at,
            "payload": payload, "prev": prev_hash}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_event(prev: Event | None, kind: str, subject: str, actor: str,
               payload: dict[str, Any], at: str | None = None) -> Event:
    """Build the event that follows ``prev`` (or the first event when ``prev`` is None).

    The payload is normalised through canonical JSON (tuples become lists, etc.), so the stored
    value is exactly what was hashed; ``at`` defaults to the current UTC time.
    """
    if not kind:
        raise ValueError("event kind must not be empty")
    payload = json.loads(canonical_json(payload))
    if not isinstance(payload, dict):
        raise TypeError("event payload must be a JSON object")
    seq = FIRST_SEQ if prev is None else prev.seq + 1
    prev_hash = GENESIS if prev is None else prev.hash
    at = at or _now()
    digest = event_hash(seq, kind, subject, actor, at, payload, prev_hash)
    return Event(seq, kind, subject, actor, at, payload, prev_hash, digest)


def _recomputed(e: Event) -> str:
    try:
        return event_hash(e.seq, e.kind, e.subject, e.actor, e.at, e.payload, e.prev_hash)
    except (TypeError, ValueError):
        return ""


def _span(first: int, last: int) -> str:
    return f"event {first}" if first == last else f"events {first}–{last}"


def verify_chain(events: list[Event]) -> list[str]:
    """Human-readable problems in ``events`` (in stored order); empty when the chain is intact.

    Detects edited events (hash mismatch), edited-and-rehashed events (broken link at the next
    event), deleted events (seq gap), inserted events, reordered events and a wrong genesis. Each
    problem names the sequence number where the chain breaks. Removing the *last* events leaves
    a valid shorter chain; compare :func:`merkle_root` with a published root to catch that.
    """
    items = list(events)
    problems: list[str] = []
    counts = Counter(e.seq for e in items)
    seen: set[int] = set()
    last: Event | None = None  # the event occupying the previous slot
    last_seq = FIRST_SEQ - 1
    last_hash = GENESIS
    reordered = False
    flagged: set[int] = set()  # ids of events already reported as changed

    def accept(ev: Event, slot: int) -> None:
        nonlocal last, last_seq, last_hash
        last, last_seq, last_hash = ev, slot, ev.hash
        seen.add(ev.seq)

    i = 0
    while i < len(items):
        e = items[i]
        exp_seq, exp_prev = last_seq + 1, last_hash
        nxt = items[i + 1] if i + 1 < len(items) else None
        changed = _recomputed(e) != e.hash
        if changed and id(e) not in flagged:
            flagged.add(id(e))
            problems.append(f"event {e.seq} ({e.kind}): content changed "
                            "(stored hash does not match its fields)")

        if e.seq == exp_seq and e.prev_hash == exp_prev:
            accept(e, exp_seq)
        elif changed and e.prev_hash == exp_prev:
            accept(e, exp_seq)  # the edited fields include seq itself; already reported
        elif e.seq in seen:
            twin = last if last is not None and last.seq == e.seq else None
            if twin is not None and nxt is not None and nxt.prev_hash == e.hash:
                extra = twin  # the earlier one was the intruder; this one carries the chain
                last_hash = e.hash
                last = e
            else:
                extra = e
            problems.append(f"extra event inserted at seq {e.seq} ({extra.kind}): "
                            f"two events carry seq {e.seq}")
        elif (not reordered and e.seq != exp_seq
              and any(x.hash == e.prev_hash for x in items[i + 1:])):
            problems.append(f"events out of order at {exp_seq}: event {e.seq} ({e.kind}) "
                            "stands before its predecessor")
            items[i:] = sorted(items[i:], key=lambda x: x.seq)
            reordered = True
            continue
        elif nxt is not None and nxt.seq == exp_seq and nxt.prev_hash == exp_prev:
            where = f"after event {last_seq}" if last is not None else "before the first event"
            problems.append(f"extra event inserted {where} ({e.kind}, claims seq {e.seq}): "
                            "the next event links past it")
        elif e.seq > exp_seq and counts[exp_seq] == 0:
            context = f"jumps from {last_seq} to" if last is not None else "starts at"
            problems.append(f"{_span(exp_seq, e.seq - 1)} missing or removed "
                            f"(chain {context} {e.seq})")
            accept(e, e.seq)
        elif e.seq == exp_seq and last is None:
            problems.append(f"wrong genesis: event {e.seq} ({e.kind}) does not start from "
                            "the genesis hash")
            accept(e, exp_seq)
        elif e.seq == exp_seq:
            problems.append(f"event {e.seq} ({e.kind}): link to event {last_seq} broken "
                            f"(event {last_seq} was altered and re-hashed, or replaced)")
            accept(e, exp_seq)
        else:
            problems.append(f"events out of order at {exp_seq}: found event {e.seq} "
                            f"({e.kind}) where event {exp_seq} belongs")
            accept(e, max(e.seq, exp_seq))
        i += 1
    return problems


def _leaf(event: Event) -> bytes:
    return canonical_json(event.to_dict())


def merkle_root(events: list[Event]) -> str:
    """Hex Merkle root (RFC 6962) over the events' canonical JSON, in stored order."""
    return merkle.root([_leaf(e) for e in events]).hex()


def inclusion_proof(events: list[Event], seq: int) -> dict[str, Any]:
    """JSON-ready proof that event ``seq`` is in the tree whose root is :func:`merkle_root`."""
    index = next((i for i, e in enumerate(events) if e.seq == seq), None)
    if index is None:
        raise KeyError(f"no event with seq {seq}")
    leaves = [_leaf(e) for e in events]
    return {
        "seq": seq,
        "index": index,
        "size": len(leaves),
        "leaf_hash": merkle.leaf_hash(leaves[index]).hex(),
        "path": [p.hex() for p in merkle.inclusion_proof(leaves, index)],
        "root": merkle.root(leaves).hex(),
    }


def verify_proof(proof: dict[str, Any], event: Event) -> bool:
    """True when ``event``, exactly as given, is the leaf that ``proof`` commits to."""
    try:
        if int(proof["seq"]) != event.seq:
            return False
        leaf = _leaf(event)
        if not hmac.compare_digest(merkle.leaf_hash(leaf).hex(), str(proof["leaf_hash"])):
            return False
        index = int(proof.get("index", event.seq - FIRST_SEQ))
        path = [bytes.fromhex(p) for p in proof["path"]]
        return merkle.verify_inclusion(leaf, index, int(proof["size"]), path,
                                       bytes.fromhex(proof["root"]))
    except (KeyError, TypeError, ValueError):
        return False
