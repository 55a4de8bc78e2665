"""Hash-chained event ledger: canonical JSON, tamper detection, Merkle proofs."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from haia.registry import ledger
from haia.registry.ledger import GENESIS, Event, make_event, verify_chain


def _chain(n: int = 10) -> list[Event]:
    events: list[Event] = []
    prev = None
    for i in range(n):
        kind = ("audit.created", "finding.added", "report.signed")[i % 3]
        prev = make_event(prev, kind, f"audit-{i // 3}", "alice@example.org",
                          {"step": i, "note": f"entrée {i}", "score": i / 4},
                          at=f"2025-01-{i + 1:02d}T12:00:00Z")
        events.append(prev)
    return events


def _rehash(e: Event, **changes: object) -> Event:
    """An attacker's edit that also recomputes the event's own hash."""
    e = dataclasses.replace(e, **changes)
    return dataclasses.replace(e, hash=ledger.event_hash(
        e.seq, e.kind, e.subject, e.actor, e.at, e.payload, e.prev_hash))


def test_canonical_json() -> None:
    assert ledger.canonical_json({"b": 1, "a": [1, 2], "é": "ü"}) == (
        '{"a":[1,2],"b":1,"é":"ü"}'.encode())
    assert ledger.canonical_json({"x": {"z": 1, "y": 2}}) == b'{"x":{"y":2,"z":1}}'
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            ledger.canonical_json({"v": bad})


def test_make_event_links_and_hashes() -> None:
    events = _chain(3)
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS == "0" * 64
    assert events[1].prev_hash == events[0].hash
    e = events[2]
    assert e.hash == ledger.event_hash(e.seq, e.kind, e.subject, e.actor, e.at, e.payload,
                                       e.prev_hash)
    assert len(e.hash) == 64


def test_previous_hash_is_inside_the_hashed_object() -> None:
    e = _chain(2)[1]
    other = ledger.event_hash(e.seq, e.kind, e.subject, e.actor, e.at, e.payload, "f" * 64)
    assert other != e.hash


def test_make_event_defaults_and_normalises() -> None:
    e = make_event(None, "audit.created", "a1", "bob", {"t": (1, 2)})
    assert e.at.endswith("Z") and "T" in e.at
    assert e.payload == {"t": [1, 2]}
    assert verify_chain([e]) == []
    with pytest.raises(ValueError):
        make_event(None, "k", "s", "a", {"x": math.nan})


def test_dict_round_trip() -> None:
    e = _chain(1)[0]
    assert Event.from_dict(e.to_dict()) == e


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain(10)) == []
    assert verify_chain([]) == []


def test_edited_payload_field_is_detected() -> None:
    events = _chain(10)
    e = events[6]
    events[6] = dataclasses.replace(e, payload={**e.payload, "note": "rewritten"})
    problems = verify_chain(events)
    assert problems == [
        "event 7 (audit.created): content changed (stored hash does not match its fields)"
    ]


def test_changed_actor_is_detected() -> None:
    events = _chain(10)
    events[3] = dataclasses.replace(events[3], actor="mallory")
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("event 4 (audit.created): content changed")


def test_changed_actor_with_recomputed_hash_breaks_next_link() -> None:
    events = _chain(10)
    events[3] = _rehash(events[3], actor="mallory")
    problems = verify_chain(events)
    assert problems == [
        "event 5 (finding.added): link to event 4 broken "
        "(event 4 was altered and re-hashed, or replaced)"
    ]


def test_deleted_event_is_detected() -> None:
    events = _chain(10)
    del events[4]
    assert verify_chain(events) == ["event 5 missing or removed (chain jumps from 4 to 6)"]


def test_deleted_run_and_deleted_first_event() -> None:
    events = _chain(10)
    del events[4:7]
    assert verify_chain(events) == ["events 5–7 missing or removed (chain jumps from 4 to 8)"]
    events = _chain(5)[1:]
    assert verify_chain(events) == ["event 1 missing or removed (chain starts at 2)"]


def test_swapped_events_are_detected() -> None:
    events = _chain(10)
    events[3], events[4] = events[4], events[3]
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("events out of order at 4")


def test_distant_swap_is_detected_once() -> None:
    events = _chain(10)
    events[2], events[7] = events[7], events[2]
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("events out of order at 3")


def test_inserted_well_formed_event_is_detected() -> None:
    events = _chain(10)
    forged = make_event(events[3], "finding.removed", "audit-1", "mallory", {"why": "oops"})
    events.insert(4, forged)  # claims seq 5, links correctly to event 4
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("extra event inserted at seq 5")
    assert "finding.removed" in problems[0]


def test_inserted_event_after_its_twin_is_detected() -> None:
    events = _chain(10)
    forged = make_event(events[3], "finding.removed", "audit-1", "mallory", {"why": "oops"})
    events.insert(5, forged)  # after the genuine event 5
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("extra event inserted at seq 5 (finding.removed)")


def test_inserted_event_with_odd_seq_is_detected() -> None:
    events = _chain(10)
    forged = ledger.make_event(None, "audit.deleted", "audit-0", "mallory", {})
    forged = _rehash(forged, seq=99, prev_hash=events[2].hash)
    events.insert(3, forged)
    problems = verify_chain(events)
    assert len(problems) == 1
    assert problems[0].startswith("extra event inserted after event 3 (audit.deleted")


def test_wrong_genesis_is_detected() -> None:
    events = _chain(3)
    events[0] = _rehash(events[0], prev_hash="1" * 64)
    problems = verify_chain(events)
    assert problems[0].startswith("wrong genesis: event 1")
    # Event 2 still points at the original first event, so its link breaks as well.
    assert problems[1].startswith("event 2 (finding.added): link to event 1 broken")


def test_wrong_genesis_alone() -> None:
    first = _rehash(make_event(None, "audit.created", "a", "b", {}), prev_hash="ab" * 32)
    second = make_event(first, "audit.closed", "a", "b", {})
    assert verify_chain([first, second]) == [
        "wrong genesis: event 1 (audit.created) does not start from the genesis hash"
    ]


def test_edited_seq_field_reports_content_change_only() -> None:
    events = _chain(6)
    events[2] = dataclasses.replace(events[2], seq=9)
    problems = verify_chain(events)
    assert problems == [
        "event 9 (report.signed): content changed (stored hash does not match its fields)"
    ]


def test_merkle_root_is_stable_and_changes_with_content() -> None:
    events = _chain(7)
    root = ledger.merkle_root(events)
    assert root == ledger.merkle_root(list(events))
    assert len(root) == 64
    changed = [*events[:3], dataclasses.replace(events[3], actor="x"), *events[4:]]
    assert ledger.merkle_root(changed) != root
    assert ledger.merkle_root(events[:6]) != root


@pytest.mark.parametrize("n", [1, 2, 5, 10, 17])
def test_proofs_verify_for_every_event(n: int) -> None:
    events = _chain(n)
    root = ledger.merkle_root(events)
    for e in events:
        proof = ledger.inclusion_proof(events, e.seq)
        proof = json.loads(json.dumps(proof))  # JSON-ready
        assert proof["root"] == root
        assert proof["size"] == n
        assert proof["seq"] == e.seq
        assert ledger.verify_proof(proof, e)


def test_proofs_fail_for_altered_event() -> None:
    events = _chain(10)
    for e in events:
        proof = ledger.inclusion_proof(events, e.seq)
        assert not ledger.verify_proof(proof, dataclasses.replace(e, actor="mallory"))
        assert not ledger.verify_proof(proof, _rehash(e, payload={"step": -1}))
        other = events[(e.seq) % len(events)]
        assert not ledger.verify_proof(proof, other)
        # A doctored proof (root or path) fails too.
        assert not ledger.verify_proof({**proof, "root": "00" * 32}, e)
        if proof["path"]:
            assert not ledger.verify_proof({**proof, "path": [*proof["path"][::-1], "00"]}, e)
        assert not ledger.verify_proof({**proof, "leaf_hash": "zz"}, e)
        assert not ledger.verify_proof({}, e)


def test_inclusion_proof_unknown_seq() -> None:
    with pytest.raises(KeyError):
        ledger.inclusion_proof(_chain(3), 4)
