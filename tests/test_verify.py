"""verify/: the independent verifier accepts the vectors' signatures and rejects tampering, and
its sighash layout equals python-bitcointx's own functions."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import pytest
from bitcointx.core import CTransaction, CTxOut
from bitcointx.core.script import (
    SIGVERSION_BASE,
    SIGVERSION_WITNESS_V0,
    CScript,
    RawBitcoinSignatureHash,
    SignatureHash,
    SignatureHashSchnorr,
)
from bitcointx.core.script import SIGHASH_Type as BtxSighash
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cold.crypto import public_key, sign_ecdsa
from psbtbridge.compact import var_bytes
from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.sighash import SighashCache, SighashType, legacy_sighash
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.verify import (
    ANY_ECDSA_HASH_TYPE,
    ANY_SCHNORR_HASH_TYPE,
    Verifier,
    verify_ecdsa,
    verify_final_tx,
)
from psbtbridge.verify.secp256k1 import schnorr_verify
from tests.conftest import load_vectors
from tests.support.legacy_tx import p2pkh, signed_p2pkh_spend
from tests.support.verifying import (
    spent_pairs,
    verifier_for,
    verify_ecdsa_input,
    verify_schnorr_keypath,
)

BIP143 = load_vectors("psbt/bip143-segwit-v0-sighash.json")["examples"]
BIP341 = load_vectors("psbt/bip341-wallet-test-vectors.json")["keyPathSpending"][0]


def _sats(btc: str) -> int:
    return int(Decimal(btc) * 100_000_000)


def _bip143_signed(number: int, variant: int | None = None) -> tuple[Tx, list[TxOut]]:
    """A BIP143 example's signed tx and the outputs it spends, in its input order."""
    example = BIP143[number]
    raw = example["signed_tx"] if variant is None else example["signed_tx_variants"][variant]["tx"]
    tx = Tx.parse(bytes.fromhex(raw))
    if not example["prevouts"]:
        # The last example gives no prevouts: a P2WSH of the witnessScript; the amount is
        # the one in its preimage.
        script = tx.inputs[0].witness[-1]
        preimage = bytes.fromhex(example["signatures"][0]["preimage"])
        offset = 4 + 32 + 32 + 36 + len(var_bytes(script))
        amount = int.from_bytes(preimage[offset : offset + 8], "little")
        return tx, [TxOut(amount, b"\x00\x20" + hashlib.sha256(script).digest())]
    unsigned = Tx.parse(bytes.fromhex(example["unsigned_tx"]))
    by_outpoint = {
        txin.prevout: TxOut(_sats(p["value_btc"]), bytes.fromhex(p["scriptPubKey"]))
        for txin, p in zip(unsigned.inputs, example["prevouts"], strict=True)
    }
    return tx, [by_outpoint[txin.prevout] for txin in tx.inputs]


BIP143_SIGNED = [(n, None) for n in range(len(BIP143))] + [(3, 0)]


#: (example, variant, input) whose signature follows an executed OP_CODESEPARATOR: bitcointx's
#: interpreter gets that scriptCode wrong, so verify/ refuses them (test_sighash checks the
#: sighash of these cases against the BIP).
CODESEPARATOR_EXECUTED = {(2, None, 1), (3, None, 1), (3, 0, 0)}
#: The "No FindAndDelete" examples sign with high S: consensus-valid, but the standard
#: flags verify_final_tx applies (as a node relaying it would) refuse them.
HIGH_S = {5, 6}


@pytest.mark.parametrize(("number", "variant"), BIP143_SIGNED)
def test_bip143_signed_transactions_verify(number: int, variant: int | None) -> None:
    tx, spent = _bip143_signed(number, variant)
    verifier = verifier_for(tx, spent)
    for index in range(len(tx.inputs)):
        if (number, variant, index) in CODESEPARATOR_EXECUTED:
            with pytest.raises(Refused) as caught:
                verifier.check_final_input(index)
            assert caught.value.code == "verify.unsupported"
        elif number in HIGH_S:
            with pytest.raises(Refused, match="low-S") as caught:
                verifier.check_final_input(index)
            assert caught.value.code == "verify.script_failed"
        else:
            verifier.check_final_input(index)


# Example 2's only witness input is behind an OP_CODESEPARATOR; 5 and 6 are high-S.
@pytest.mark.parametrize(
    ("number", "variant"), [case for case in BIP143_SIGNED if case[0] not in {2, *HIGH_S}]
)
def test_bip143_signed_transactions_fail_with_a_wrong_amount(
    number: int, variant: int | None
) -> None:
    tx, spent = _bip143_signed(number, variant)
    checked = [
        i
        for i, txin in enumerate(tx.inputs)
        if txin.witness and (number, variant, i) not in CODESEPARATOR_EXECUTED
    ]
    for index in checked:
        changed = list(spent)
        changed[index] = TxOut(spent[index].value + 1, spent[index].script_pubkey)
        with pytest.raises(Refused) as caught:
            verifier_for(tx, changed).check_final_input(index)
        assert caught.value.code == "verify.script_failed"
    assert checked


def _flip(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


def test_p2wpkh_signature_checks() -> None:
    tx, spent = _bip143_signed(0)
    signature, pubkey = tx.inputs[1].witness
    unsigned = Tx.parse(bytes.fromhex(BIP143[0]["unsigned_tx"]))
    verify_ecdsa_input(unsigned, 1, spent, pubkey, signature)
    verifier = verifier_for(unsigned, spent)
    cases = [
        # a flipped bit in S (the DER stays valid)
        ({"signature": _flip(signature, len(signature) - 3)}, "verify.bad_signature"),
        ({"signature": signature[:-1] + b"\x02"}, "verify.hash_type"),
        (
            {"signature": signature[:-1] + b"\x02", "hash_types": ANY_ECDSA_HASH_TYPE},
            "verify.bad_signature",
        ),
        ({"signature": signature[:-2] + b"\x01"}, "verify.bad_encoding"),
        ({"pubkey": _flip(pubkey, 5)}, "verify.wrong_key"),
        ({"redeem_script": b"\x51"}, "verify.script_mismatch"),
        ({"witness_script": b"\x51"}, "verify.script_mismatch"),
    ]
    for change, code in cases:
        arguments: dict[str, Any] = {"pubkey": pubkey, "signature": signature, **change}
        with pytest.raises(Refused) as caught:
            verifier.check_ecdsa(1, **arguments)
        assert caught.value.code == code, change
    wrong_amount = [spent[0], TxOut(spent[1].value - 1, spent[1].script_pubkey)]
    with pytest.raises(Refused) as caught:
        verify_ecdsa_input(unsigned, 1, wrong_amount, pubkey, signature)
    assert caught.value.code == "verify.bad_signature"


def test_legacy_and_nested_signature_checks() -> None:
    tx, spent = _bip143_signed(0)
    unsigned = Tx.parse(bytes.fromhex(BIP143[0]["unsigned_tx"]))
    p2pk_sig = tx.inputs[0].script_sig[1:]  # one push of the signature
    pubkey = spent[0].script_pubkey[1:34]
    verify_ecdsa_input(unsigned, 0, spent, pubkey, p2pk_sig)
    with pytest.raises(Refused) as caught:
        verify_ecdsa_input(unsigned, 0, spent, pubkey, _flip(p2pk_sig, len(p2pk_sig) - 3))
    assert caught.value.code == "verify.bad_signature"

    nested, nested_spent = _bip143_signed(1)
    redeem = nested.inputs[0].script_sig[1:]
    signature, key = nested.inputs[0].witness
    bare = Tx(
        nested.version,
        (TxIn(nested.inputs[0].prevout, b"", nested.inputs[0].sequence),),
        nested.outputs,
        nested.locktime,
    )
    verify_ecdsa_input(bare, 0, nested_spent, key, signature, redeem_script=redeem)
    with pytest.raises(Refused) as caught:
        verify_ecdsa_input(bare, 0, nested_spent, key, signature)
    assert caught.value.code == "verify.script_mismatch"


def test_p2wsh_multisig_with_every_hash_type() -> None:
    tx, spent = _bip143_signed(4)
    witness = tx.inputs[0].witness
    redeem = tx.inputs[0].script_sig[1:]
    unsigned = Tx.parse(bytes.fromhex(BIP143[4]["unsigned_tx"]))
    verifier = verifier_for(unsigned, spent)
    for record in BIP143[4]["signatures"]:
        signature = bytes.fromhex(record["signature"])
        assert signature in witness
        verifier.check_ecdsa(
            0,
            bytes.fromhex(record["public key"]),
            signature,
            redeem_script=redeem,
            witness_script=witness[-1],
            hash_types=ANY_ECDSA_HASH_TYPE,
        )
    with pytest.raises(Refused) as caught:
        verifier.check_ecdsa(
            0, bytes(33), signature, redeem_script=redeem, witness_script=witness[-1]
        )
    assert caught.value.code == "verify.wrong_key"


# --- taproot key path -----------------------------------------------------------------


def _bip341_signed() -> tuple[Tx, list[TxOut], list[int]]:
    tx = Tx.parse(bytes.fromhex(BIP341["given"]["rawUnsignedTx"]))
    spent = [
        TxOut(u["amountSats"], bytes.fromhex(u["scriptPubKey"]))
        for u in BIP341["given"]["utxosSpent"]
    ]
    inputs = list(tx.inputs)
    signed = []
    for spend in BIP341["inputSpending"]:
        index = spend["given"]["txinIndex"]
        witness = tuple(bytes.fromhex(item) for item in spend["expected"]["witness"])
        inputs[index] = TxIn(inputs[index].prevout, b"", inputs[index].sequence, witness)
        signed.append(index)
    return Tx(tx.version, tuple(inputs), tx.outputs, tx.locktime), spent, signed


def test_bip341_keypath_signatures_verify() -> None:
    tx, spent, signed = _bip341_signed()
    verifier = verifier_for(tx, spent)
    for index in signed:
        verifier.check_final_input(index)
        signature = tx.inputs[index].witness[0]
        verifier.check_schnorr_keypath(index, signature, hash_types=ANY_SCHNORR_HASH_TYPE)
        with pytest.raises(Refused) as caught:
            verifier.check_schnorr_keypath(
                index, _flip(signature, 40), hash_types=ANY_SCHNORR_HASH_TYPE
            )
        assert caught.value.code == "verify.bad_signature"
    default_only = next(i for i in signed if len(tx.inputs[i].witness[0]) == 64)
    verify_schnorr_keypath(tx, default_only, spent, tx.inputs[default_only].witness[0])
    single = next(i for i in signed if tx.inputs[i].witness[0][64:] == b"\x03")
    with pytest.raises(Refused) as caught:
        verify_schnorr_keypath(tx, single, spent, tx.inputs[single].witness[0])
    assert caught.value.code == "verify.hash_type"


def test_taproot_commits_to_every_amount() -> None:
    tx, spent, signed = _bip341_signed()
    index = signed[0]
    other = next(i for i in range(len(spent)) if i != index)
    changed = list(spent)
    changed[other] = TxOut(spent[other].value + 1, spent[other].script_pubkey)
    with pytest.raises(Refused) as caught:
        verifier_for(tx, changed).check_final_input(index)
    assert caught.value.code == "verify.bad_signature"
    unknown: list[TxOut | None] = list(spent)
    unknown[other] = None
    with pytest.raises(Refused) as caught:
        verifier_for(tx, unknown).check_final_input(index)
    assert caught.value.code == "verify.missing_utxo"


def test_taproot_explicit_default_and_script_path_are_refused() -> None:
    tx, spent, signed = _bip341_signed()
    index = next(i for i in signed if len(tx.inputs[i].witness[0]) == 64)
    verifier = verifier_for(tx, spent)
    with pytest.raises(Refused) as caught:
        verifier.check_schnorr_keypath(index, tx.inputs[index].witness[0] + b"\x00")
    assert caught.value.code == "verify.bad_encoding"
    inputs = list(tx.inputs)
    script_path = (b"\x51", b"\xc0" + bytes(32))  # a leaf script and a control block
    inputs[index] = TxIn(inputs[index].prevout, b"", inputs[index].sequence, script_path)
    with pytest.raises(Refused) as caught:
        verifier_for(
            Tx(tx.version, tuple(inputs), tx.outputs, tx.locktime), spent
        ).check_final_input(index)
    assert caught.value.code == "verify.unsupported"


def test_unsigned_inputs_fail_the_final_check() -> None:
    tx, spent, _ = _bip341_signed()  # inputs 2 (P2PKH) and 5 (P2WPKH) carry no signature
    with pytest.raises(Refused) as caught:
        verify_final_tx(tx.serialize(), spent_pairs(spent))
    assert caught.value.code == "verify.script_failed"
    assert "input 2" in caught.value.message


def test_bad_arguments() -> None:
    tx, spent = _bip143_signed(0)
    with pytest.raises(InvalidInput) as caught:
        verifier_for(tx, spent[:1])
    assert caught.value.code == "verify.spent_outputs"
    with pytest.raises(InvalidInput) as caught:
        verifier_for(tx, spent).check_ecdsa(5, b"", b"")
    assert caught.value.code == "verify.bad_index"
    assert not schnorr_verify(bytes(32), bytes(31), bytes(64))
    assert not verify_ecdsa(bytes(33), bytes(32), b"\x30")


# --- the sighash layout against bitcointx's own functions --------------------------------


@st.composite
def _transactions(draw: st.DrawFn) -> tuple[Tx, list[TxOut]]:
    n_in = draw(st.integers(1, 4))
    inputs = tuple(
        TxIn(
            OutPoint(draw(st.binary(min_size=32, max_size=32)), draw(st.integers(0, 9))),
            b"",
            draw(st.integers(0, 2**32 - 1)),
        )
        for _ in range(n_in)
    )
    outputs = tuple(
        TxOut(draw(st.integers(0, 10**15)), draw(st.binary(max_size=30)))
        for _ in range(draw(st.integers(0, 3)))
    )
    locktime = draw(st.integers(0, 2**31 - 1))  # bitcointx's BIP143 fails above (signed pack)
    tx = Tx(draw(st.integers(-(2**31), 2**31 - 1)), inputs, outputs, locktime)
    spent = [TxOut(draw(st.integers(0, 10**15)), draw(st.binary(max_size=30))) for _ in inputs]
    return tx, spent


ECDSA_TYPES = sorted(ANY_ECDSA_HASH_TYPE)


@settings(max_examples=100, deadline=None)
@given(_transactions(), st.data())
def test_sighash_layout_equals_bitcointx(case: tuple[Tx, list[TxOut]], data: st.DataObject) -> None:
    tx, spent = case
    verifier = verifier_for(tx, spent)
    btx = CTransaction.deserialize(tx.serialize())
    index = data.draw(st.integers(0, len(tx.inputs) - 1))
    hash_type = data.draw(st.sampled_from(ECDSA_TYPES))
    script = data.draw(st.binary(max_size=30))
    amount = data.draw(st.integers(0, 10**15))
    ours = verifier.layout.witness_v0(index, script, amount, hash_type)
    theirs = SignatureHash(
        CScript(script),
        btx,
        index,
        BtxSighash(hash_type),
        amount=amount,
        sigversion=SIGVERSION_WITNESS_V0,
    )
    assert ours == theirs
    taproot_type = data.draw(st.sampled_from(sorted(ANY_SCHNORR_HASH_TYPE)))
    if taproot_type & 0x03 == 0x03 and index >= len(tx.outputs):
        return
    expected = SignatureHashSchnorr(
        btx,
        index,
        [CTxOut(o.value, CScript(o.script_pubkey)) for o in spent],
        hashtype=BtxSighash(taproot_type) if taproot_type else None,
    )
    assert verifier.layout.taproot_keypath(index, taproot_type) == expected


def test_locktime_above_2_31_where_bitcointx_fails() -> None:
    tx = Tx(2, (TxIn(OutPoint(bytes(32), 0), b"", 0),), (TxOut(1, b"\x51"),), 2**32 - 1)
    btx = CTransaction.deserialize(tx.serialize())
    with pytest.raises(Exception, match="format requires"):
        SignatureHash(
            CScript(b""), btx, 0, BtxSighash(1), amount=1, sigversion=SIGVERSION_WITNESS_V0
        )
    expected = SighashCache(tx).segwit_v0(0, b"", 1, SighashType.ALL)
    assert Verifier(tx.serialize(), [(b"", 1)]).layout.witness_v0(0, b"", 1, 1) == expected


#: Script bytes for the legacy layout test: opcodes without data, and a 20-byte push, so
#: bitcointx's parser reads every script (no OP_CODESEPARATOR: the caller removes those).
_SCRIPT_PIECES = [bytes([op]) for op in (0x00, 0x51, 0x60, 0x76, 0x87, 0x88, 0xA9, 0xAC, 0xAE)]
_SCRIPT_PIECES.append(b"\x14" + bytes(range(20)))


@settings(max_examples=100, deadline=None)
@given(_transactions(), st.data())
def test_legacy_layout_equals_bitcointx(case: tuple[Tx, list[TxOut]], data: st.DataObject) -> None:
    tx, spent = case
    layout = verifier_for(tx, spent).layout
    btx = CTransaction.deserialize(tx.serialize())
    index = data.draw(st.integers(0, len(tx.inputs) - 1))
    hash_type = data.draw(st.integers(0, 255))  # consensus hashes any byte (base = low 5 bits)
    script = b"".join(data.draw(st.lists(st.sampled_from(_SCRIPT_PIECES), max_size=6)))
    assume(not CScript(script).is_witness_scriptpubkey())  # bitcointx refuses those here
    theirs, _error = RawBitcoinSignatureHash(
        CScript(script), btx, index, hash_type, sigversion=SIGVERSION_BASE
    )
    assert layout.legacy(index, script, hash_type) == theirs
    # The signer's own (psbtbridge/sighash.py) agrees where it signs at all: it refuses
    # undefined hash types and SIGHASH_SINGLE without an output.
    if hash_type in ANY_ECDSA_HASH_TYPE and not (
        hash_type & 0x1F == 3 and index >= len(tx.outputs)
    ):
        assert legacy_sighash(tx, index, script, hash_type) == theirs


def test_legacy_p2pkh_spend_verifies() -> None:
    case = signed_p2pkh_spend(5, n_keys=2)
    verifier = verifier_for(case.unsigned, case.spent)
    for index in range(5):
        verifier.check_ecdsa(index, case.pubkeys[index], case.signatures[index])
    with pytest.raises(Refused) as caught:
        verifier.check_ecdsa(1, case.pubkeys[1], _flip(case.signatures[1], 10))
    assert caught.value.code == "verify.bad_signature"
    with pytest.raises(Refused) as caught:
        verifier.check_ecdsa(1, case.pubkeys[0], case.signatures[1])  # another key's coin
    assert caught.value.code == "verify.wrong_key"
    verify_final_tx(case.signed.serialize(), spent_pairs(case.spent))
    swapped = list(case.signed.inputs)
    swapped[0], swapped[2] = (
        TxIn(swapped[0].prevout, swapped[2].script_sig, swapped[0].sequence),
        TxIn(swapped[2].prevout, swapped[0].script_sig, swapped[2].sequence),
    )
    tampered = Tx(case.signed.version, tuple(swapped), case.signed.outputs, case.signed.locktime)
    with pytest.raises(Refused) as caught:
        verify_final_tx(tampered.serialize(), spent_pairs(case.spent))
    assert caught.value.code == "verify.script_failed"
    assert "input 0" in caught.value.message


def test_a_thousand_legacy_inputs_finish() -> None:
    """The cold-state review's finding 5: 1,000 P2PKH inputs took 475 s through bitcointx's
    sighash; bench/legacy.py times it, this only checks every one is checked."""
    case = signed_p2pkh_spend(1000)
    verifier = verifier_for(case.unsigned, case.spent)
    for index in range(1000):
        verifier.check_ecdsa(index, case.pubkeys[index], case.signatures[index])
    verify_final_tx(case.signed.serialize(), spent_pairs(case.spent))


def _two_input_tx(n_outputs: int) -> Tx:
    return Tx(
        1,
        (
            TxIn(OutPoint(bytes(range(32)), 0), b"", 0xFFFFFFFF),
            TxIn(OutPoint(bytes(range(32)), 1), b"", 0xFFFFFFFF),
        ),
        tuple(TxOut(1_000, b"\x51") for _ in range(n_outputs)),
        0,
    )


def test_legacy_codeseparator_in_final_and_new_signatures() -> None:
    """An executed OP_CODESEPARATOR is removed from a legacy scriptCode (the interpreter's
    sighash goes through layout.py); a new signature on such a script is refused, since which
    part it signs depends on execution."""
    secret = hashlib.sha256(b"codeseparator").digest()
    key = public_key(secret)
    script = b"\xab" + bytes([len(key)]) + key + b"\xac"  # OP_CODESEPARATOR <key> OP_CHECKSIG
    tx = _two_input_tx(2)
    spent = [TxOut(5_000, script), TxOut(6_000, p2pkh(key))]
    signature = sign_ecdsa(secret, legacy_sighash(tx, 0, script, SighashType.ALL)) + b"\x01"
    with pytest.raises(Refused) as caught:
        verifier_for(tx, spent).check_ecdsa(0, key, signature)
    assert caught.value.code == "verify.unsupported"
    script_sig = bytes([len(signature)]) + signature
    inputs = (TxIn(tx.inputs[0].prevout, script_sig, 0xFFFFFFFF), tx.inputs[1])
    verifier_for(Tx(1, inputs, tx.outputs, 0), spent).check_final_input(0)


def test_legacy_sighash_single_without_its_output() -> None:
    """Consensus takes a signature of the number one (Core's SIGHASH_SINGLE bug) and so does
    the finished-transaction check; a new signature like that is refused."""
    secret = hashlib.sha256(b"sighash single").digest()
    key = public_key(secret)
    tx = _two_input_tx(1)
    spent = [TxOut(5_000, p2pkh(key)), TxOut(6_000, p2pkh(key))]
    signature = sign_ecdsa(secret, b"\x01" + bytes(31)) + b"\x03"
    with pytest.raises(Refused) as caught:
        verifier_for(tx, spent).check_ecdsa(1, key, signature, hash_types=ANY_ECDSA_HASH_TYPE)
    assert caught.value.code == "verify.bad_signature"
    script_sig = bytes([len(signature)]) + signature + bytes([len(key)]) + key
    inputs = (tx.inputs[0], TxIn(tx.inputs[1].prevout, script_sig, 0xFFFFFFFF))
    verifier_for(Tx(1, inputs, tx.outputs, 0), spent).check_final_input(1)
