"""tx.py: both serializations round-trip, txids match the vectors, bad bytes raise InvalidInput only."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.tx import OutPoint, PreviousTx, Tx, TxIn, TxOut
from tests.conftest import load_vectors

BIP143: list[dict[str, Any]] = load_vectors("psbt/bip143-segwit-v0-sighash.json")["examples"]
RAW_TXS = [e[k] for e in BIP143 for k in ("unsigned_tx", "signed_tx") if e.get(k)]


@pytest.mark.parametrize("raw", RAW_TXS, ids=[f"bip143-{i}" for i in range(len(RAW_TXS))])
def test_vectors_round_trip(raw: str) -> None:
    tx = Tx.parse(bytes.fromhex(raw))
    assert tx.serialize().hex() == raw


def test_txid_and_vsize_of_a_known_segwit_transaction() -> None:
    # BIP143's native P2WPKH example, signed: txid and weight as Bitcoin Core reports them.
    signed = next(e["signed_tx"] for e in BIP143 if e.get("signed_tx"))
    tx = Tx.parse(bytes.fromhex(signed))
    assert tx.has_witness
    assert tx.txid() == Tx.parse(tx.serialize_legacy()).txid()
    assert tx.txid_hex() == tx.txid()[::-1].hex()
    assert tx.vsize() < len(tx.serialize())


def test_zero_inputs_is_a_count_in_the_legacy_form() -> None:
    tx = Tx(2, (), (TxOut(5, b"\x51"),), 0)
    assert Tx.parse_legacy(tx.serialize_legacy()) == tx


def test_segwit_marker_with_wrong_flag_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        Tx.parse(bytes.fromhex("0200000000020000000000"))
    assert info.value.code == "tx.bad_segwit_flag"


def test_segwit_serialization_without_witness_data_is_refused() -> None:
    txin = TxIn(OutPoint(b"\x11" * 32, 0), b"", 0)
    body = Tx(2, (txin,), (TxOut(1, b"\x51"),), 0).serialize_legacy()
    segwit_empty = body[:4] + b"\x00\x01" + body[4:-4] + b"\x00" + body[-4:]
    with pytest.raises(InvalidInput) as info:
        Tx.parse(segwit_empty)
    assert info.value.code == "tx.empty_witness"


def test_sequence_zero_is_kept() -> None:
    txin = TxIn(OutPoint(b"\x22" * 32, 3), b"", 0)
    tx = Tx(2, (txin,), (TxOut(1, b"\x51"),), 0)
    assert Tx.parse(tx.serialize()).inputs[0].sequence == 0


def _wide_segwit_tx() -> Tx:
    """Three-byte lengths everywhere they can be: a scriptSig, a scriptPubKey and a witness
    item of 300 bytes, and a witness stack of 253 items."""
    inputs = (
        TxIn(OutPoint(b"\x33" * 32, 1), bytes(300), 5, (bytes(300), b"\x01")),
        TxIn(OutPoint(b"\x44" * 32, 0), b"", 6, (b"",) * 253),
    )
    return Tx(1, inputs, (TxOut(7, bytes(300)), TxOut(-1, b"")), 99)


def test_wide_lengths_round_trip_and_keep_the_txid() -> None:
    tx = _wide_segwit_tx()
    raw = tx.serialize()
    assert Tx.parse(raw) == tx
    assert PreviousTx.parse(raw) == PreviousTx(tx.txid(), tx.outputs)
    assert PreviousTx.parse(tx.serialize_legacy()) == PreviousTx(tx.txid(), tx.outputs)


def test_a_count_larger_than_the_data_is_truncation_not_a_long_loop() -> None:
    for count in ("ff" + "ff" * 8, "fe" + "ff" * 4):
        raw = bytes.fromhex("02000000" + count) + bytes(50)
        for parse in (Tx.parse, PreviousTx.parse):
            with pytest.raises(InvalidInput) as info:
                parse(raw)
            assert info.value.code == "wire.truncated"


@settings(max_examples=300)
@given(st.sampled_from([*RAW_TXS, _wide_segwit_tx().serialize().hex()]), st.data())
def test_mutations_raise_only_invalid_input(raw: str, data: st.DataObject) -> None:
    blob = bytearray(bytes.fromhex(raw))
    cut = data.draw(st.integers(0, len(blob)))
    if data.draw(st.booleans()):
        blob = blob[:cut]
    else:
        blob[min(cut, len(blob) - 1)] ^= data.draw(st.integers(1, 255))
    try:
        tx = Tx.parse(bytes(blob))
    except InvalidInput as error:
        # The outputs-only walk refuses exactly what the full one refuses.
        with pytest.raises(InvalidInput) as info:
            PreviousTx.parse(bytes(blob))
        assert info.value.code == error.code
        return
    assert Tx.parse(tx.serialize()) == tx
    assert PreviousTx.parse(bytes(blob)) == PreviousTx(tx.txid(), tx.outputs)
