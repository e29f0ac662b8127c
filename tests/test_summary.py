"""summary.py: amounts proven or claimed, fee and size, script types, addresses, warnings."""

from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.compact import compact_size
from psbtbridge.errors import InvalidInput
from psbtbridge.network import Network
from psbtbridge.psbt import MAGIC, Psbt
from psbtbridge.psbt.fields import GlobalType, InputType, OutputType
from psbtbridge.psbt.keymap import Entry, serialize_map
from psbtbridge.summary import SCHEMA_VERSION, summarize
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from tests.conftest import load_vectors

BIP174 = load_vectors("psbt/bip174.json")
CORE = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
P2WPKH = b"\x00\x14" + bytes(range(20))


def _psbt(text: str) -> Psbt:
    return Psbt.parse(base64.b64decode(text))


def _codes(psbt: Psbt) -> list[str]:
    summary = summarize(psbt, Network.MAIN)
    return [f.code for f in summary.refusals + summary.warnings]


def _v2(
    inputs: list[list[Entry]], outputs: list[tuple[int, bytes]], sequence: int = 0xFFFFFFFD
) -> Psbt:
    """A v2 PSBT whose inputs spend output 0 of the given previous transactions."""
    maps = [
        (
            Entry(GlobalType.TX_VERSION, b"", struct.pack("<i", 2)),
            Entry(GlobalType.INPUT_COUNT, b"", compact_size(len(inputs))),
            Entry(GlobalType.OUTPUT_COUNT, b"", compact_size(len(outputs))),
            Entry(GlobalType.VERSION, b"", struct.pack("<I", 2)),
        )
    ]
    maps += [
        (*entries, Entry(InputType.SEQUENCE, b"", struct.pack("<I", sequence)))
        for entries in inputs
    ]
    maps += [
        (
            Entry(OutputType.AMOUNT, b"", struct.pack("<q", amount)),
            Entry(OutputType.SCRIPT, b"", script),
        )
        for amount, script in outputs
    ]
    return Psbt.parse(MAGIC + b"".join(serialize_map(m) for m in maps))


def _spend(previous: Tx, vout: int = 0, proven: bool = True) -> list[Entry]:
    entries = [
        Entry(InputType.PREVIOUS_TXID, b"", previous.txid()),
        Entry(InputType.OUTPUT_INDEX, b"", struct.pack("<I", vout)),
    ]
    if proven:
        return [*entries, Entry(InputType.NON_WITNESS_UTXO, b"", previous.serialize())]
    return [*entries, Entry(InputType.WITNESS_UTXO, b"", previous.outputs[vout].serialize())]


def _previous(amount: int, script: bytes = P2WPKH) -> Tx:
    return Tx(2, (TxIn(OutPoint(bytes(32), 0), b"\x51", 0xFFFFFFFF),), (TxOut(amount, script),), 0)


def test_proven_and_claimed_amounts_fee_and_rate() -> None:
    psbt = _v2(
        [_spend(_previous(60_000)), _spend(_previous(40_000), proven=False)], [(99_000, P2WPKH)]
    )
    summary = summarize(psbt, Network.MAIN)
    first, second = summary.inputs
    assert (first.amount, first.amount_source, first.amount_proven) == (
        60_000,
        "non_witness_utxo",
        True,
    )
    assert (second.amount_source, second.amount_proven) == ("witness_utxo", False)
    assert (summary.input_total, summary.output_total, summary.fee) == (100_000, 99_000, 1_000)
    assert summary.vsize_basis == "estimate"
    assert summary.fee_rate == round(1_000 / summary.vsize, 2)
    assert summary.rbf is True
    assert [w.code for w in summary.warnings] == ["warning.amount_claimed"]
    # the same as python-bitcointx renders this script
    assert summary.outputs[0].address == "bc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysn4v0345"


def test_regtest_addresses() -> None:
    psbt = _v2([_spend(_previous(60_000))], [(50_000, P2WPKH)])
    assert summarize(psbt, Network.REGTEST).outputs[0].address.startswith("bcrt1q")


def test_fee_warnings() -> None:
    high = _v2([_spend(_previous(60_000))], [(50_000, P2WPKH)])
    # shown as a share of the outputs; what is too high is the cold policy's call
    assert summarize(high, Network.MAIN).fee_percent == 20.0
    negative = _v2([_spend(_previous(60_000))], [(70_000, P2WPKH)])
    assert summarize(negative, Network.MAIN).fee == -10_000
    assert "proof.negative_fee" in _codes(negative)


def test_output_warnings() -> None:
    psbt = _v2(
        [_spend(_previous(100_000))],
        [(99_000, P2WPKH), (500, P2WPKH), (10, b"\x6a\x04data"), (-1, b"\x51\x51")],
    )
    codes = _codes(psbt)
    summary = summarize(psbt, Network.MAIN)
    assert summary.outputs[2].script_type == "op_return"
    assert summary.outputs[2].address is None
    assert summary.outputs[3].script_type == "unknown"
    for code in (
        "warning.dust",
        "proof.op_return_value",
        "warning.unknown_script",
        "proof.bad_amount",
    ):
        assert code in codes


def test_unknown_inputs_are_sized_at_their_smallest() -> None:
    psbt = _v2([_spend(_previous(100_000, b"\x51"))], [(99_000, P2WPKH)])
    summary = summarize(psbt, Network.MAIN)
    assert summary.inputs[0].script_type == "unknown"
    assert summary.vsize_basis == "smallest"
    assert "warning.size_unknown" in _codes(psbt)


def test_missing_utxo_means_unknown_fee() -> None:
    psbt = Psbt.parse(base64.b64decode(load_vectors("psbt/bip370.json")["valid"][0]["psbt"]))
    summary = summarize(psbt, Network.MAIN)
    assert summary.inputs[0].amount is None
    assert (summary.input_total, summary.fee, summary.fee_rate) == (None, None, None)
    assert "proof.unknown_amount" in _codes(psbt)


def test_finalized_psbt_has_the_exact_size_of_the_extracted_tx() -> None:
    psbt = _psbt(CORE["extractor"][0]["extract"])
    extracted = Tx.parse(bytes.fromhex(CORE["extractor"][0]["result"]))
    summary = summarize(psbt, Network.REGTEST)
    assert summary.vsize_basis == "final"
    assert summary.vsize == extracted.vsize()
    assert summary.txid == extracted.txid_hex()
    # input 0 is P2SH: its scriptSig is part of the txid, so signing changed it
    assert summary.unsigned_txid == psbt.unsigned_tx().txid_hex() != summary.txid
    # finalization dropped the scripts: the types come from the final scriptSig/witness
    assert [i.script_type for i in summary.inputs] == ["p2sh", "p2sh-p2wsh"]
    assert all(i.finalized for i in summary.inputs)


def test_multisig_estimate_uses_the_threshold() -> None:
    psbt = _psbt(BIP174["valid"][4]["psbt"])  # P2SH-P2WSH 2-of-2, one signature
    summary = summarize(psbt, Network.MAIN)
    assert summary.inputs[0].script_type == "p2sh-p2wsh"
    assert summary.inputs[0].partial_sigs == 1
    assert summary.vsize_basis == "estimate"


def test_sighash_and_unknown_field_warnings() -> None:
    previous = _previous(100_000)
    sighash = Entry(InputType.SIGHASH_TYPE, b"", struct.pack("<I", 0x83))
    unknown = Entry(0x7F, b"", b"?")
    psbt = _v2([[*_spend(previous), sighash, unknown]], [(99_000, P2WPKH)])
    summary = summarize(psbt, Network.MAIN)
    assert summary.inputs[0].sighash == "SINGLE_ANYONECANPAY"
    assert {"warning.sighash_not_all", "warning.unknown_fields"} <= set(_codes(psbt))


def test_locktime_and_rbf() -> None:
    psbt = _psbt(BIP174["valid"][3]["psbt"])
    summary = summarize(psbt, Network.MAIN)
    assert summary.rbf is False  # sequences 0xfffffffe
    assert (summary.locktime, summary.locktime_kind) == (0, "none")


def test_locktime_conflict_is_invalid_input() -> None:
    timelock = load_vectors("psbt/bip370.json")["timelock"][8]
    with pytest.raises(InvalidInput) as raised:
        summarize(_psbt(timelock["psbt"]), Network.MAIN)
    assert raised.value.code == "psbt.locktime_conflict"


def test_json_has_the_schema_version() -> None:
    data = summarize(_psbt(BIP174["valid"][0]["psbt"]), Network.MAIN).to_json()
    assert data["schema"] == SCHEMA_VERSION


SEEDS = [
    base64.b64decode(case["psbt"])
    for name in ("bip174", "bip370", "bip371", "bip373-musig2")
    for case in load_vectors(f"psbt/{name}.json")["valid"]
]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.sampled_from(SEEDS),
    position=st.integers(min_value=0),
    byte=st.integers(0, 255),
    network=st.sampled_from(list(Network)),
)
def test_whatever_parses_can_be_summarized(
    seed: bytes, position: int, byte: int, network: Network
) -> None:
    data = bytearray(seed)
    data[position % len(data)] = byte
    try:
        psbt = Psbt.parse(bytes(data))
        summarize(psbt, network)
    except InvalidInput:
        pass
