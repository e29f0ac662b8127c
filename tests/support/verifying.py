"""Our Tx and TxOut values as the independent verifier takes them (raw bytes, plain
(scriptPubKey, amount) pairs), and the one-signature checks only tests use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from psbtbridge.tx import Tx, TxOut
from psbtbridge.verify import SpentOutput, Verifier


def spent_pairs(outputs: Iterable[TxOut | None]) -> list[SpentOutput | None]:
    return [None if out is None else SpentOutput(out.script_pubkey, out.value) for out in outputs]


def verifier_for(tx: Tx, spent: Sequence[TxOut | None]) -> Verifier:
    return Verifier(tx.serialize(), spent_pairs(spent))


def verify_ecdsa_input(
    tx: Tx,
    index: int,
    spent: Sequence[TxOut | None],
    pubkey: bytes,
    signature: bytes,
    *,
    redeem_script: bytes | None = None,
    witness_script: bytes | None = None,
) -> None:
    """One ECDSA signature with the default hash types, from a fresh Verifier."""
    verifier_for(tx, spent).check_ecdsa(
        index, pubkey, signature, redeem_script=redeem_script, witness_script=witness_script
    )


def verify_schnorr_keypath(
    tx: Tx, index: int, spent: Sequence[TxOut | None], signature: bytes
) -> None:
    """One taproot key-path signature with the default hash types, from a fresh Verifier."""
    verifier_for(tx, spent).check_schnorr_keypath(index, signature)
