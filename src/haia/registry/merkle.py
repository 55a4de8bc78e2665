"""Certificate-Transparency Merkle trees (RFC 6962 / RFC 9162 §2.1).

Leaves are arbitrary byte strings. ``leaf_hash(d) = SHA256(0x00 || d)`` and
``node_hash(l, r) = SHA256(0x01 || l || r)``; a tree of ``n > 1`` leaves is split at the largest
power of two strictly smaller than ``n``. The prefixes keep a leaf from ever being confused with an
interior node (second-preimage resistance).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def _hashes_ok(*values: object) -> bool:
    """Every value is a SHA-256 digest (bytes of length 32); anything else fails a proof."""
    return all(isinstance(v, bytes | bytearray) and len(v) == HASH_SIZE for v in values)


def leaf_hash(data: bytes) -> bytes:
    """Hash of one leaf: SHA-256 over ``0x00 || data``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256 over ``0x01 || left || right``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: list[bytes]) -> bytes:
    """Merkle tree hash over already-hashed leaves (non-empty)."""
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(_mth(hashes[:k]), _mth(hashes[k:]))


def root(leaves: list[bytes]) -> bytes:
    """Merkle tree hash (MTH) of ``leaves``; the empty tree hashes to SHA-256 of ``b""``."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _mth([leaf_hash(d) for d in leaves])


def _path(index: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*_path(index, hashes[:k]), _mth(hashes[k:])]
    return [*_path(index - k, hashes[k:]), _mth(hashes[:k])]


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    """Audit path for leaf ``index`` (RFC 6962 §2.1.1), ordered from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} outside a tree of {len(leaves)} leaves")
    return _path(index, [leaf_hash(d) for d in leaves])


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """Check that leaf data ``leaf`` sits at ``index`` of the tree of ``size`` with ``root``.

    Implements RFC 9162 §2.1.3.2; ``leaf`` is the raw leaf data (hashed here).
    """
    if index < 0 or index >= size or not _hashes_ok(root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def _subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [_mth(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), _mth(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), _mth(hashes[:k])]


def consistency_proof(leaves: list[bytes], old_size: int) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix of ``leaves`` (RFC 9162 §2.1.4.1).

    The proof is empty when ``old_size`` is 0 or equals the current size.
    """
    if not 0 <= old_size <= len(leaves):
        raise ValueError(f"old size {old_size} outside 0..{len(leaves)}")
    if old_size == 0:
        return []
    return _subproof(old_size, [leaf_hash(d) for d in leaves], True)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """Check that the tree (``old_size``, ``old_root``) is a prefix of (``new_size``, ``new_root``).

    Implements RFC 9162 §2.1.4.2. An empty old tree (whose root must be the empty tree's hash)
    is a prefix of any tree (empty proof); equal sizes need an empty proof and equal roots.
    Roots and proof hashes of any length other than 32 bytes fail.
    """
    if old_size < 0 or new_size < old_size or not _hashes_ok(old_root, new_root, *proof):
        return False
    if old_size == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT) and (
            new_size > 0 or hmac.compare_digest(new_root, EMPTY_ROOT))
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)
