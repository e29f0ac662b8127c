"""taproot.py: leaf versions, control block sizes, tap trees (depth, completeness), leaf hashes."""

from __future__ import annotations

import pytest

from psbtbridge.compact import var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.taproot import (
    TAPSCRIPT_LEAF_VERSION,
    TapLeaf,
    check_control_block,
    check_leaf_version,
    leaf_hash,
    parse_tap_tree,
)
from tests.conftest import load_vectors


def _tree(*leaves: tuple[int, int]) -> bytes:
    """(depth, leaf version) pairs, each with a one-byte script."""
    return b"".join(bytes([depth, version]) + var_bytes(b"\x51") for depth, version in leaves)


def _code(call: object, value: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(value, "output 0: PSBT_OUT_TAP_TREE")  # type: ignore[operator]
    return raised.value.code


@pytest.mark.parametrize(
    "depths",
    [[0], [1, 1], [1, 2, 2], [2, 2, 1], [2, 2, 2, 2], [3, 3, 2, 1], [*range(1, 128), 127]],
)
def test_complete_trees(depths: list[int]) -> None:
    value = _tree(*[(d, TAPSCRIPT_LEAF_VERSION) for d in depths])
    leaves = parse_tap_tree(value, "x")
    assert [leaf.depth for leaf in leaves] == depths


@pytest.mark.parametrize(
    "depths",
    [
        [1],  # half a tree
        [1, 2],  # the right side never closes
        [0, 0],  # a second root
        [1, 1, 1],  # a leaf after the root closed
        [2, 1, 2],  # not depth-first: a shallower node while a deeper branch waits
        [129] * 2,  # deeper than a control block can prove
    ],
)
def test_incomplete_or_invalid_trees(depths: list[int]) -> None:
    assert _code(parse_tap_tree, _tree(*[(d, TAPSCRIPT_LEAF_VERSION) for d in depths])) == (
        "psbt.bad_tap_tree"
    )


def test_tree_encoding_errors() -> None:
    assert _code(parse_tap_tree, b"") == "psbt.bad_tap_tree"
    assert _code(parse_tap_tree, b"\x00") == "psbt.bad_tap_tree"  # truncated leaf
    assert _code(parse_tap_tree, b"\x00\xc0\x05\x51") == "psbt.bad_tap_tree"  # script too short


def test_leaf_versions() -> None:
    assert check_leaf_version(0xC0, "x") == 0xC0
    assert check_leaf_version(0xC2, "x") == 0xC2
    for bad in (0xC1, 0x50, 0x51):
        assert _code(check_leaf_version, bad) == "psbt.bad_leaf_version"
    assert _code(parse_tap_tree, _tree((0, 0xC1))) == "psbt.bad_leaf_version"


def test_control_blocks() -> None:
    for nodes in (0, 1, 128):
        assert check_control_block(b"\xc0" + bytes(32 + 32 * nodes), "x")
    for size in (0, 1, 32, 34, 64, 66, 33 + 32 * 129):
        block = (b"\xc0" + bytes(size))[:size]
        assert _code(check_control_block, block) == "psbt.bad_control_block"
    assert _code(check_control_block, b"\x50" + bytes(32)) == "psbt.bad_leaf_version"


def test_leaf_hashes_match_bip341() -> None:
    vectors = load_vectors("psbt/bip341-wallet-test-vectors.json")["scriptPubKey"]
    checked = 0
    for case in vectors:
        tree = case["given"]["scriptTree"]
        leaves = [tree] if isinstance(tree, dict) else _flatten(tree)
        expected = case["intermediary"].get("leafHashes") or []
        for leaf, want in zip(leaves, expected, strict=True):
            script = bytes.fromhex(leaf["script"])
            assert leaf_hash(script, leaf["leafVersion"]).hex() == want
            assert TapLeaf(0, leaf["leafVersion"], script).leaf_hash().hex() == want
            checked += 1
    assert checked >= 10


def _flatten(tree: object) -> list[dict[str, object]]:
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [tree]
    assert isinstance(tree, list)
    return [leaf for branch in tree for leaf in _flatten(branch)]
