"""Taproot script-tree structure (BIP341/BIP371): leaf versions, control blocks, tap trees, leaf hashes."""

from __future__ import annotations

import io
from typing import NamedTuple

from psbtbridge.compact import read_exact, read_var_bytes, var_bytes
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.hashes import tagged_hash

TAPROOT_LEAF_MASK = 0xFE
TAPSCRIPT_LEAF_VERSION = 0xC0
#: BIP341: a control block proves at most 128 levels, so no leaf is deeper than that.
MAX_TREE_DEPTH = 128
#: BIP341: 0x50 cannot be a leaf version, a control block starting with it would read as an annex.
ANNEX_TAG = 0x50
CONTROL_BLOCK_BASE = 33
CONTROL_BLOCK_NODE = 32


class TapLeaf(NamedTuple):
    """One leaf of a PSBT_OUT_TAP_TREE, in depth-first order."""

    depth: int
    leaf_version: int
    script: bytes

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.script, self.leaf_version)


def leaf_hash(script: bytes, leaf_version: int) -> bytes:
    """BIP341 TapLeaf hash of a script under a leaf version."""
    return tagged_hash("TapLeaf", bytes([leaf_version]) + var_bytes(script))


def check_leaf_version(untrusted_version: int, where: str) -> int:
    """A leaf version is even (its low bit is the control block's parity bit) and not the annex tag."""
    if untrusted_version & ~TAPROOT_LEAF_MASK or untrusted_version == ANNEX_TAG:
        raise InvalidInput(
            Code.PSBT_BAD_LEAF_VERSION,
            f"{where}: 0x{untrusted_version:02x} is not a valid leaf version",
        )
    return untrusted_version


def check_control_block(untrusted_block: bytes, where: str) -> bytes:
    """BIP341: 33 + 32·m bytes with m <= 128, and a valid leaf version in the first byte."""
    size = len(untrusted_block)
    nodes, rest = divmod(size - CONTROL_BLOCK_BASE, CONTROL_BLOCK_NODE)
    if size < CONTROL_BLOCK_BASE or rest or nodes > MAX_TREE_DEPTH:
        raise InvalidInput(
            Code.PSBT_BAD_CONTROL_BLOCK,
            f"{where}: a control block is 33 + 32·m bytes (m <= 128), not {size}",
        )
    check_leaf_version(untrusted_block[0] & TAPROOT_LEAF_MASK, where)
    return untrusted_block


def parse_tap_tree(untrusted_value: bytes, where: str) -> tuple[TapLeaf, ...]:
    """Decode PSBT_OUT_TAP_TREE: leaves in depth-first order that must form one complete binary tree."""
    if not untrusted_value:
        raise InvalidInput(Code.PSBT_BAD_TAP_TREE, f"{where}: the tap tree is empty")
    stream = io.BytesIO(untrusted_value)
    leaves: list[TapLeaf] = []
    try:
        while stream.tell() < len(untrusted_value):
            depth, version = read_exact(stream, 2, "tap tree leaf")
            script = read_var_bytes(stream, "tap leaf script")
            leaves.append(TapLeaf(depth, version, script))
    except InvalidInput as error:
        raise InvalidInput(Code.PSBT_BAD_TAP_TREE, f"{where}: {error.message}") from error
    for leaf in leaves:
        if leaf.depth > MAX_TREE_DEPTH:
            raise InvalidInput(
                Code.PSBT_BAD_TAP_TREE, f"{where}: leaf depth {leaf.depth} is over {MAX_TREE_DEPTH}"
            )
        check_leaf_version(leaf.leaf_version, where)
    _check_complete([leaf.depth for leaf in leaves], where)
    return tuple(leaves)


def _check_complete(depths: list[int], where: str) -> None:
    """The depths, read depth first, must close into exactly one root with nothing left over.

    `open_levels[d]` says a finished subtree waits at depth d for its sibling. A new node
    may not sit above a level still waiting (that is not depth-first order); two siblings
    merge into their parent one level up; a merge above the root, or a leaf after the root
    closed, means the list is not one tree.
    """
    open_levels: list[bool] = []
    closed = False
    for depth in depths:
        if closed or depth + 1 < len(open_levels):
            raise InvalidInput(
                Code.PSBT_BAD_TAP_TREE, f"{where}: leaves are not one depth-first tree"
            )
        level = depth
        while level < len(open_levels) and open_levels[level]:
            open_levels.pop()
            if level == 0:
                raise InvalidInput(
                    Code.PSBT_BAD_TAP_TREE, f"{where}: leaves are not one depth-first tree"
                )
            level -= 1
        while len(open_levels) <= level:
            open_levels.append(False)
        open_levels[level] = True
        closed = level == 0
    if not closed:
        raise InvalidInput(Code.PSBT_BAD_TAP_TREE, f"{where}: the tap tree is incomplete")
