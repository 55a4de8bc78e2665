"""Merkle proofs refuse hashes of the wrong length and the size-0 case with any roots."""

from __future__ import annotations

import hashlib

import pytest

from haia.registry import merkle

LEAVES = [f"event {k}".encode() for k in range(7)]


def test_valid_proofs_still_hold() -> None:
    root = merkle.root(LEAVES)
    for index in range(len(LEAVES)):
        proof = merkle.inclusion_proof(LEAVES, index)
        assert merkle.verify_inclusion(LEAVES[index], index, len(LEAVES), proof, root)
    for old in range(len(LEAVES) + 1):
        proof = merkle.consistency_proof(LEAVES, old)
        assert merkle.verify_consistency(old, len(LEAVES), merkle.root(LEAVES[:old]), root, proof)


@pytest.mark.parametrize("cut", [0, 1, 31, 33, 64])
def test_wrong_length_hashes_fail(cut: int) -> None:
    root = merkle.root(LEAVES)
    proof = merkle.inclusion_proof(LEAVES, 2)
    bad = (root * 3)[:cut]
    assert not merkle.verify_inclusion(LEAVES[2], 2, len(LEAVES), proof, bad)
    assert not merkle.verify_inclusion(LEAVES[2], 2, len(LEAVES), [*proof[:-1], bad], root)
    cons = merkle.consistency_proof(LEAVES, 3)
    old_root = merkle.root(LEAVES[:3])
    assert not merkle.verify_consistency(3, len(LEAVES), bad, root, cons)
    assert not merkle.verify_consistency(3, len(LEAVES), old_root, bad, cons)
    assert not merkle.verify_consistency(3, len(LEAVES), old_root, root, [*cons[:-1], bad])


def test_wrong_types_fail() -> None:
    root = merkle.root(LEAVES)
    assert not merkle.verify_inclusion(LEAVES[0], 0, len(LEAVES), ["a" * 32], root)  # type: ignore[list-item]
    assert not merkle.verify_consistency(2, 7, root.hex(), root, [])  # type: ignore[arg-type]


def test_size_zero_consistency_needs_the_empty_root() -> None:
    empty = hashlib.sha256(b"").digest()
    root = merkle.root(LEAVES)
    assert merkle.root([]) == empty
    assert merkle.verify_consistency(0, len(LEAVES), empty, root, [])
    assert merkle.verify_consistency(0, 0, empty, empty, [])
    assert not merkle.verify_consistency(0, len(LEAVES), b"\x07" * 32, root, [])
    assert not merkle.verify_consistency(0, 0, empty, b"\x07" * 32, [])
    assert not merkle.verify_consistency(0, len(LEAVES), empty, root, [root])
