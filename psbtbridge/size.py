"""The size of the finished transaction, estimated before it is signed, for its fee rate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from psbtbridge.compact import compact_size
from psbtbridge.script import ScriptType, push_size
from psbtbridge.tx import Tx

ECDSA_SIG = 72  # DER with a high R is at most 72 bytes with its sighash byte
SCHNORR_SIG = 65  # 64, plus a sighash byte when it is not DEFAULT
PUBKEY = 33


class InputShape(NamedTuple):
    """What one input's finished scriptSig and witness look like, by size."""

    script_type: ScriptType | None
    threshold: int = 1
    redeem_script_len: int = 0
    witness_script_len: int = 0


def _witness(items: Sequence[int]) -> int:
    return len(compact_size(len(items))) + sum(len(compact_size(n)) + n for n in items)


def _finished(shape: InputShape) -> tuple[int, int]:
    """(scriptSig bytes, witness bytes) of one finished input. An unknown one counts as the
    smallest an input can be (empty scriptSig, no witness: a pay-to-anchor spend), so a fee
    rate from this size is an upper bound and a limit checked against it is never passed."""
    sigs = [ECDSA_SIG] * shape.threshold
    match shape.script_type:
        case ScriptType.P2WPKH:
            return 0, _witness([ECDSA_SIG, PUBKEY])
        case ScriptType.P2SH_P2WPKH:
            return push_size(22), _witness([ECDSA_SIG, PUBKEY])
        case ScriptType.P2TR:
            return 0, _witness([SCHNORR_SIG])
        case ScriptType.P2WSH:
            return 0, _witness([0, *sigs, shape.witness_script_len])
        case ScriptType.P2SH_P2WSH:
            return push_size(34), _witness([0, *sigs, shape.witness_script_len])
        case ScriptType.P2SH:
            return 1 + sum(push_size(s) for s in sigs) + push_size(shape.redeem_script_len), 0
        case ScriptType.P2PKH:
            return push_size(ECDSA_SIG) + push_size(PUBKEY), 0
        case _:
            return 0, 0


def estimate_vsize(tx: Tx, shapes: Sequence[InputShape]) -> int:
    """Virtual size of tx once every input is finalized as its shape says (BIP141 weight / 4)."""
    base = len(tx.serialize_legacy())
    witness = 0
    for shape in shapes:
        script_sig, wit = _finished(shape)
        base += len(compact_size(script_sig)) - 1 + script_sig
        witness += wit
    if witness:
        witness += 2 + sum(1 for shape in shapes if _finished(shape)[1] == 0)  # marker, flag
    return (base * 4 + witness + 3) // 4
