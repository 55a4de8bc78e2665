"""RFC 6962 / 9162 Merkle tree: hand-computed trees, inclusion and consistency proofs."""

from __future__ import annotations

import hashlib

import pytest

from haia.registry import merkle


def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _leaf(d: bytes) -> bytes:
    return _h(b"\x00" + d)


def _node(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _leaves(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


def test_empty_tree_is_hash_of_empty_string() -> None:
    assert merkle.root([]) == _h(b"")
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_hand_computed_small_trees() -> None:
    a, b, c, d, e = (merkle.leaf_hash(x) for x in (b"a", b"b", b"c", b"d", b"e"))
    assert a == _leaf(b"a")
    assert merkle.root([b"a"]) == a
    assert merkle.root([b"a", b"b"]) == _node(a, b)
    # Three leaves split at 2: ((a b) c), not (a (b c)).
    assert merkle.root([b"a", b"b", b"c"]) == _node(_node(a, b), c)
    assert merkle.root([b"a", b"b", b"c", b"d"]) == _node(_node(a, b), _node(c, d))
    # Five leaves split at 4.
    assert merkle.root([b"a", b"b", b"c", b"d", b"e"]) == _node(_node(_node(a, b), _node(c, d)), e)


def test_rfc6962_reference_vectors() -> None:
    """Roots of the 8-leaf test tree used by Certificate Transparency implementations."""
    leaves = [bytes.fromhex(x) for x in (
        "", "00", "10", "2021", "3031", "40414243",
        "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    )]
    expected = {
        1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    }
    for n, hexroot in expected.items():
        assert merkle.root(leaves[:n]).hex() == hexroot


def test_hand_computed_inclusion_path() -> None:
    a, b, c, d, e = (merkle.leaf_hash(x) for x in (b"a", b"b", b"c", b"d", b"e"))
    leaves = [b"a", b"b", b"c", b"d", b"e"]
    assert merkle.inclusion_proof(leaves, 0) == [b, _node(c, d), e]
    assert merkle.inclusion_proof(leaves, 3) == [c, _node(a, b), e]
    assert merkle.inclusion_proof(leaves, 4) == [_node(_node(a, b), _node(c, d))]
    assert merkle.inclusion_proof([b"a"], 0) == []


@pytest.mark.parametrize("size", range(1, 34))
def test_inclusion_every_index(size: int) -> None:
    leaves = _leaves(size)
    r = merkle.root(leaves)
    for i in range(size):
        proof = merkle.inclusion_proof(leaves, i)
        assert merkle.verify_inclusion(leaves[i], i, size, proof, r), (size, i)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 33])
def test_inclusion_rejects_tampering(size: int) -> None:
    leaves = _leaves(size)
    r = merkle.root(leaves)
    for i in range(size):
        proof = merkle.inclusion_proof(leaves, i)
        assert not merkle.verify_inclusion(leaves[i] + b"!", i, size, proof, r)
        assert not merkle.verify_inclusion(leaves[i], i, size, proof, _h(b"other root"))
        if size > 1:
            assert not merkle.verify_inclusion(leaves[i], (i + 1) % size, size, proof, r)
            bigger = merkle.root(_leaves(size + 1))
            assert not merkle.verify_inclusion(leaves[i], i, size + 1, proof, bigger)
            bad = list(proof)
            bad[0] = _h(bad[0])
            assert not merkle.verify_inclusion(leaves[i], i, size, bad, r)
            assert not merkle.verify_inclusion(leaves[i], i, size, proof[:-1], r)
        assert not merkle.verify_inclusion(leaves[i], i, size, [*proof, _h(b"x")], r)
        assert not merkle.verify_inclusion(leaves[i], size, size, proof, r)
        assert not merkle.verify_inclusion(leaves[i], -1, size, proof, r)


def test_inclusion_proof_rejects_bad_index() -> None:
    with pytest.raises(IndexError):
        merkle.inclusion_proof(_leaves(3), 3)
    with pytest.raises(IndexError):
        merkle.inclusion_proof([], 0)


def test_hand_computed_consistency_proofs() -> None:
    a, b, c, d, e = (merkle.leaf_hash(x) for x in (b"a", b"b", b"c", b"d", b"e"))
    leaves = [b"a", b"b", b"c", b"d", b"e"]
    # m = 2 is a power of two: old root (a b) is implied; proof is its siblings upward.
    assert merkle.consistency_proof(leaves[:4], 2) == [_node(c, d)]
    # m = 3 of 4: RFC 6962 §2.1.3 example style — c, d, (a b).
    assert merkle.consistency_proof(leaves[:4], 3) == [c, d, _node(a, b)]
    assert merkle.consistency_proof(leaves, 4) == [e]
    assert merkle.consistency_proof(leaves, 5) == []
    assert merkle.consistency_proof(leaves, 0) == []


def test_consistency_every_pair_up_to_20() -> None:
    leaves = _leaves(20)
    roots = {n: merkle.root(leaves[:n]) for n in range(21)}
    for n in range(1, 21):
        for m in range(0, n + 1):
            proof = merkle.consistency_proof(leaves[:n], m)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof), (m, n)


def test_consistency_rejects_tampering() -> None:
    leaves = _leaves(20)
    roots = {n: merkle.root(leaves[:n]) for n in range(21)}
    forked = [*leaves[:5], b"forged", *leaves[6:]]
    for n in range(2, 21):
        for m in range(1, n):
            proof = merkle.consistency_proof(leaves[:n], m)
            assert proof
            assert not merkle.verify_consistency(m, n, _h(b"x"), roots[n], proof)
            assert not merkle.verify_consistency(m, n, roots[m], _h(b"x"), proof)
            assert not merkle.verify_consistency(m, n, roots[m], roots[n], [])
            bad = list(proof)
            bad[-1] = _h(bad[-1])
            assert not merkle.verify_consistency(m, n, roots[m], roots[n], bad)
            assert not merkle.verify_consistency(m, n, roots[m], roots[n], proof[:-1])
            assert not merkle.verify_consistency(m, n, roots[m], roots[n], [*proof, _h(b"x")])
            if m + 1 < n:
                assert not merkle.verify_consistency(m + 1, n, roots[m + 1], roots[n], proof)
            assert not merkle.verify_consistency(n, m, roots[n], roots[m], proof)
            if m > 5:
                # A log that rewrote leaf 5 cannot prove it extends the honest old tree.
                fproof = merkle.consistency_proof(forked[:n], m)
                assert not merkle.verify_consistency(
                    m, n, roots[m], merkle.root(forked[:n]), fproof
                )


def test_consistency_equal_sizes() -> None:
    leaves = _leaves(7)
    r = merkle.root(leaves)
    assert merkle.verify_consistency(7, 7, r, r, [])
    assert not merkle.verify_consistency(7, 7, r, _h(b"x"), [])
    assert not merkle.verify_consistency(7, 7, r, r, [r])
    with pytest.raises(ValueError):
        merkle.consistency_proof(leaves, 8)
