"""Transactions spending many P2PKH coins back to change, signed by the signer's own parts
(cold/crypto.py, psbtbridge/sighash.py): the shape of the legacy denial-of-service finding."""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from cold.crypto import public_key, sign_ecdsa
from psbtbridge.hashes import hash160
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut


class SignedLegacy(NamedTuple):
    unsigned: Tx
    signed: Tx
    spent: list[TxOut]
    pubkeys: list[bytes]
    signatures: list[bytes]  # DER + hash-type byte, input by input


def p2pkh(pubkey: bytes) -> bytes:
    return b"\x76\xa9\x14" + hash160(pubkey) + b"\x88\xac"


def signed_p2pkh_spend(n_inputs: int, n_keys: int = 10) -> SignedLegacy:
    """n P2PKH inputs (a few keys reused, as one wallet's coins), one change output, each
    input signed SIGHASH_ALL with a push of signature and key."""
    secrets = [hashlib.sha256(b"legacy key %d" % i).digest() for i in range(n_keys)]
    keys = [public_key(secret) for secret in secrets]
    owner = [i % n_keys for i in range(n_inputs)]
    spent = [TxOut(50_000 + i, p2pkh(keys[owner[i]])) for i in range(n_inputs)]
    unsigned = Tx(
        2,
        tuple(
            TxIn(OutPoint(hashlib.sha256(b"coin %d" % i).digest(), i % 2), b"", 0xFFFFFFFD)
            for i in range(n_inputs)
        ),
        (TxOut(50_000 * n_inputs - 10_000, p2pkh(keys[0])),),
        0,
    )
    cache = SighashCache(unsigned)
    signatures = [
        sign_ecdsa(secrets[owner[i]], cache.legacy(i, spent[i].script_pubkey, SighashType.ALL))
        + bytes([SighashType.ALL])
        for i in range(n_inputs)
    ]
    pubkeys = [keys[owner[i]] for i in range(n_inputs)]
    signed = Tx(
        unsigned.version,
        tuple(
            TxIn(txin.prevout, _push(signatures[i]) + _push(pubkeys[i]), txin.sequence)
            for i, txin in enumerate(unsigned.inputs)
        ),
        unsigned.outputs,
        unsigned.locktime,
    )
    return SignedLegacy(unsigned, signed, spent, pubkeys, signatures)


def _push(data: bytes) -> bytes:
    assert len(data) < 0x4C  # a direct push: signatures and keys always are
    return bytes([len(data)]) + data
