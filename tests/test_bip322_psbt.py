"""psbtbridge/bip322_psbt.py: BIP-322 proof PSBTs recognised, and every inconsistent one refused.

The honest cases are the BIP's own vectors (tests/vectors/message/bip322.json): the PSBT's
transaction is the BIP's to_sign byte for byte, so signing it gives the BIP's witness.
The hostile ones are the honest PSBT with one thing changed; each is refused with its own
code, because taken as a payment its inputs would all go to the fee.
"""

from __future__ import annotations

from typing import Any

import pytest
from embit.ec import PrivateKey

from cold.crypto import public_key, sign_ecdsa
from psbtbridge import bip322
from psbtbridge.bip322_psbt import recognise_proof
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.message import script_of_address
from psbtbridge.psbt import Psbt
from psbtbridge.script import p2pkh
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.tx import TxOut
from tests.conftest import load_vectors
from tests.support.proof_psbt import OP_RETURN_ZERO, Proof
from tests.support.psbt_factory import kv

BASIC: dict[str, Any] = load_vectors("message/bip322.json")["basic"]
HELLO = BASIC["simple"][1]
CHALLENGE = script_of_address(HELLO["address"])


def proof(**changes: Any) -> Proof:
    return Proof(CHALLENGE, HELLO["message"].encode(), **changes)


def parse(built: Proof) -> Psbt:
    return Psbt.parse(built.build())


@pytest.mark.parametrize("psbt_version", [0, 2])
@pytest.mark.parametrize("case", BASIC["simple"][:2], ids=lambda c: repr(c["message"]))
def test_the_psbt_signs_as_the_bip_signature(case: dict[str, Any], psbt_version: int) -> None:
    """Signed with the BIP's key as the cold signer signs input 0 (BIP143, SIGHASH_ALL,
    RFC6979 with low-R grinding), the PSBT gives the BIP's first simple signature."""
    psbt = Psbt.parse(Proof(CHALLENGE, case["message"].encode(), psbt_version=psbt_version).build())
    found = recognise_proof(psbt)
    assert found is not None
    assert found.message == case["message"] and found.reserves == ()
    tx = psbt.unsigned_tx()
    hashes = next(h for h in BASIC["tx_hashes"] if h["message"] == case["message"])
    assert tx.txid_hex() == hashes["to_sign_tx_hash"]
    assert found.message_hash.hex() == hashes["message_hash"]
    secret = bytes(PrivateKey.from_wif(case["private_keys"][0]).secret)
    pubkey = public_key(secret)
    sighash = SighashCache(tx, [TxOut(0, CHALLENGE)]).segwit_v0(
        0, p2pkh(pubkey), 0, SighashType.ALL
    )
    witness = (sign_ecdsa(secret, sighash) + bytes([SighashType.ALL]), pubkey)
    assert bip322.encode_simple(witness) == case["bip322_signatures"][0]


def test_only_to_spend_gives_only_the_hash() -> None:
    """Older proof-of-reserves PSBTs: no message field, to_spend as the previous transaction."""
    found = recognise_proof(parse(proof(message_field=False, to_spend_utxo=True)))
    assert found is not None
    assert found.message is None
    assert found.message_hash == bip322.message_hash(HELLO["message"].encode())
    assert found.message_challenge == CHALLENGE


def test_both_message_and_to_spend_agree() -> None:
    found = recognise_proof(parse(proof(to_spend_utxo=True)))
    assert found is not None and found.message == HELLO["message"]


def test_a_payment_is_not_a_proof() -> None:
    paying = proof(message_field=False, witness_value=10_000, outputs=(TxOut(9_000, CHALLENGE),))
    assert recognise_proof(parse(paying)) is None


BAD_TO_SIGN = {
    "an extra paying output": {"outputs": (OP_RETURN_ZERO, TxOut(5_000, CHALLENGE))},
    "a paying output instead": {"outputs": (TxOut(0, CHALLENGE),)},
    "OP_RETURN with data": {"outputs": (TxOut(0, b"\x6a\x01\x01"),)},
    "input 0 claims a value": {"witness_value": 1_000},
    "input 0 sequence not 0": {"sequence": 0xFFFFFFFF},
    "version 2": {"tx_version": 2},
    "a locktime": {"locktime": 800_000},
}


@pytest.mark.parametrize("changes", BAD_TO_SIGN.values(), ids=list(BAD_TO_SIGN))
def test_to_sign_must_move_nothing(changes: dict[str, Any]) -> None:
    with pytest.raises(Refused) as raised:
        recognise_proof(parse(proof(**changes)))
    assert raised.value.code == Code.BIP322_BAD_TO_SIGN


def test_input_0_must_spend_to_spend_of_the_message() -> None:
    """The message field says one message, input 0 spends the to_spend of another: the
    prevout could be any transaction, even a real one."""
    for given in ({}, {"to_spend_utxo": True}):
        with pytest.raises(Refused) as raised:
            recognise_proof(parse(proof(to_spend_message=b"another message", **given)))
        assert raised.value.code == Code.BIP322_NOT_TO_SPEND


def test_a_proof_shape_without_message_or_to_spend_is_unproven() -> None:
    with pytest.raises(Refused) as raised:
        recognise_proof(parse(proof(message_field=False)))
    assert raised.value.code == Code.BIP322_UNPROVEN


def test_the_message_field_is_strict() -> None:
    keyed = proof(message_field=False, global_extra=[kv(0x09, b"\x01", b"Hello World")])
    with pytest.raises(Refused) as raised:
        recognise_proof(parse(keyed))
    assert raised.value.code == Code.BIP322_BAD_MESSAGE_FIELD
    with pytest.raises(InvalidInput) as invalid:
        recognise_proof(parse(Proof(CHALLENGE, b"\xff\xfe not text")))
    assert invalid.value.code == Code.MESSAGE_NOT_UTF8
