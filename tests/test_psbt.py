"""psbt.py: every BIP and Bitcoin Core vector, per-class error codes, round trips, the v2 transaction, edits."""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psbtbridge.compact import compact_size
from psbtbridge.errors import BridgeError, InvalidInput
from psbtbridge.psbt import MAGIC, Psbt
from psbtbridge.psbt.fields import GlobalType, InputType, OutputType
from psbtbridge.psbt.keymap import Entry, serialize_map
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from tests.conftest import load_vectors


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _cases(kind: str) -> list[Any]:
    """(id, bytes) for every vector of one kind across the BIP files and Core's rpc_psbt.json."""
    cases = []
    for name in ("bip174", "bip370", "bip371", "bip373-musig2"):
        for index, case in enumerate(load_vectors(f"psbt/{name}.json").get(kind, [])):
            cases.append(pytest.param(_b64(case["psbt"]), id=f"{name}-{kind}-{index}"))
    core = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
    if kind == "valid":
        for index, text in enumerate(core["valid"]):
            cases.append(pytest.param(_b64(text), id=f"core-valid-{index}"))
    else:
        for index, text in enumerate(core["invalid"]):
            cases.append(pytest.param(_b64(text), id=f"core-invalid-{index}"))
        for index, (text, _message) in enumerate(core["invalid_with_msg"]):
            cases.append(pytest.param(_b64(text), id=f"core-invalid_with_msg-{index}"))
    return cases


VALID = _cases("valid")
INVALID = _cases("invalid")
BIP370 = load_vectors("psbt/bip370.json")
BIP174 = load_vectors("psbt/bip174.json")


def test_vector_counts() -> None:
    # 10 + 14 + 6 + 14 + 34 valid; 20 + 24 + 11 + 10 + 41 + 12 invalid: none skipped.
    assert (len(VALID), len(INVALID)) == (78, 118)


@pytest.mark.parametrize("data", VALID)
def test_valid_vectors_round_trip_byte_identically(data: bytes) -> None:
    psbt = Psbt.parse(data)
    assert psbt.serialize() == data
    assert Psbt.parse(psbt.serialize()) == psbt


@pytest.mark.parametrize("data", INVALID)
def test_invalid_vectors_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        Psbt.parse(data)


@pytest.mark.parametrize(
    ("index", "code"),
    [
        (0, "psbt.bad_magic"),
        (1, "psbt.missing_map"),
        (2, "psbt.unsigned_tx_scriptsig"),
        (3, "psbt.missing_unsigned_tx"),
        (4, "psbt.duplicate_key"),
        (5, "psbt.unexpected_key_data"),
        (7, "psbt.bad_pubkey"),
        (18, "psbt.unsigned_tx_witness"),
    ],
)
def test_bip174_invalid_codes(index: int, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_b64(BIP174["invalid"][index]["psbt"]))
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("index", "code"),
    [
        (0, "psbt.unsigned_tx_in_v2"),
        *[(i, "psbt.v2_field_in_v0") for i in range(1, 13)],
        (13, "psbt.unsigned_tx_in_v2"),
        *[(i, "psbt.missing_field") for i in range(14, 21)],
        (21, "psbt.bad_locktime"),
        (22, "psbt.bad_locktime"),
        (23, "psbt.bad_locktime"),
    ],
)
def test_bip370_invalid_codes(index: int, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_b64(BIP370["invalid"][index]["psbt"]))
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("index", "code"),
    [
        (0, "psbt.bad_pubkey"),
        (1, "psbt.bad_signature"),
        (2, "psbt.bad_signature"),
        (6, "psbt.bad_key_data"),
        (9, "psbt.bad_control_block"),
        (10, "psbt.bad_control_block"),
    ],
)
def test_bip371_invalid_codes(index: int, code: str) -> None:
    bip371 = load_vectors("psbt/bip371.json")
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_b64(bip371["invalid"][index]["psbt"]))
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("index", "code"),
    [
        (19, "psbt.unsupported_version"),
        (20, "psbt.duplicate_key"),
        (39, "psbt.non_witness_utxo_txid"),
        (40, "psbt.non_witness_utxo_index"),
    ],
)
def test_core_invalid_codes(index: int, code: str) -> None:
    core = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_b64(core["invalid"][index]))
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("index", "code"),
    [(0, "psbt.bad_key_origin"), (1, "psbt.bad_tap_tree"), (3, "psbt.bad_value_length")],
)
def test_core_invalid_with_msg_codes(index: int, code: str) -> None:
    core = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_b64(core["invalid_with_msg"][index][0]))
    assert raised.value.code == code


@pytest.mark.parametrize(
    "case", BIP370["timelock"], ids=[f"timelock-{i}" for i in range(len(BIP370["timelock"]))]
)
def test_bip370_locktime(case: dict[str, Any]) -> None:
    psbt = Psbt.parse(_b64(case["psbt"]))
    if case["expected_locktime"] is None:
        with pytest.raises(InvalidInput) as raised:
            psbt.unsigned_tx()
        assert raised.value.code == "psbt.locktime_conflict"
    else:
        assert psbt.locktime() == case["expected_locktime"]
        assert psbt.unsigned_tx().locktime == case["expected_locktime"]


def test_zero_input_transactions_are_accepted() -> None:
    # bip174 valid[8] (0 in, 0 out) and valid[9] (0 in): read without witness, 0 is a count.
    empty = Psbt.parse(_b64(BIP174["valid"][8]["psbt"]))
    assert (len(empty.inputs), len(empty.outputs)) == (0, 0)
    no_inputs = Psbt.parse(_b64(BIP174["valid"][9]["psbt"]))
    assert len(no_inputs.inputs) == 0
    assert no_inputs.unsigned_tx().inputs == ()


def test_v0_unsigned_tx_is_the_global_tx() -> None:
    psbt = Psbt.parse(_b64(BIP174["valid"][0]["psbt"]))
    assert psbt.version == 0
    assert psbt.unsigned_tx() is psbt.global_tx
    assert [inp.prevout for inp in psbt.inputs] == [
        txin.prevout for txin in psbt.unsigned_tx().inputs
    ]


def test_v2_unsigned_tx_from_fields() -> None:
    psbt = Psbt.parse(_b64(BIP370["valid"][0]["psbt"]))  # required fields only, no sequence
    tx = psbt.unsigned_tx()
    assert psbt.version == 2 and tx.version == psbt.tx_version == 2
    assert tx.inputs[0].sequence == 0xFFFFFFFF  # BIP370: omitted sequence means final
    assert tx.inputs[0].prevout == psbt.inputs[0].prevout
    assert [o.value for o in tx.outputs] == [o.amount for o in psbt.outputs]


def _v2(inputs: list[list[Entry]], outputs: list[list[Entry]]) -> bytes:
    """A v2 PSBT from entry lists (the global map written here)."""
    globals_ = [
        Entry(GlobalType.TX_VERSION, b"", struct.pack("<i", 2)),
        Entry(GlobalType.INPUT_COUNT, b"", compact_size(len(inputs))),
        Entry(GlobalType.OUTPUT_COUNT, b"", compact_size(len(outputs))),
        Entry(GlobalType.VERSION, b"", struct.pack("<I", 2)),
    ]
    maps = [globals_, *inputs, *outputs]
    return MAGIC + b"".join(b"".join(e.serialize() for e in m) + b"\x00" for m in maps)


def _v2_input(sequence: int | None = None, extra: tuple[Entry, ...] = ()) -> list[Entry]:
    entries = [
        Entry(InputType.PREVIOUS_TXID, b"", bytes(range(32))),
        Entry(InputType.OUTPUT_INDEX, b"", struct.pack("<I", 1)),
    ]
    if sequence is not None:
        entries.append(Entry(InputType.SEQUENCE, b"", struct.pack("<I", sequence)))
    return entries + list(extra)


def _v2_output() -> list[Entry]:
    return [
        Entry(OutputType.AMOUNT, b"", struct.pack("<q", 1000)),
        Entry(OutputType.SCRIPT, b"", bytes.fromhex("0014") + bytes(20)),
    ]


def test_sequence_zero_is_never_rewritten() -> None:
    psbt = Psbt.parse(_v2([_v2_input(sequence=0)], [_v2_output()]))
    assert psbt.inputs[0].sequence == 0
    assert psbt.unsigned_tx().inputs[0].sequence == 0


def test_unknown_and_proprietary_entries_are_kept_in_order() -> None:
    proprietary = Entry(InputType.PROPRIETARY, b"\x03abc\x01xyz", b"value")
    unknown = Entry(0x7F, b"\x01\x02", b"u")
    large_type = Entry(0x1234, b"", b"big type")
    data = _v2([_v2_input(extra=(proprietary, unknown, large_type))], [_v2_output()])
    psbt = Psbt.parse(data)
    assert psbt.serialize() == data
    assert psbt.inputs[0].proprietary == (proprietary,)
    assert psbt.inputs[0].unknown == (unknown, large_type)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (Entry(InputType.PROPRIETARY, b"\x05ab", b""), "psbt.bad_proprietary_key"),
        (Entry(InputType.SEQUENCE, b"", b"\x00"), "psbt.duplicate_key"),
        (Entry(InputType.REQUIRED_HEIGHT_LOCKTIME, b"", b"\x01\x00\x00"), "psbt.bad_value_length"),
        (Entry(InputType.RIPEMD160, bytes(20), b"not the preimage"), "psbt.bad_preimage"),
        (Entry(InputType.SHA256, bytes(20), b""), "psbt.bad_key_data"),
        (Entry(InputType.TAP_MERKLE_ROOT, b"", bytes(31)), "psbt.bad_value_length"),
        (Entry(InputType.FINAL_SCRIPTWITNESS, b"", b"\x02\x01a"), "psbt.bad_value"),
        (Entry(InputType.POR_COMMITMENT, b"", b"\xff"), "psbt.bad_value"),
        (
            Entry(InputType.BIP32_DERIVATION, bytes.fromhex("02" + "79" * 32), b"abcd"),
            "psbt.bad_pubkey",
        ),
    ],
)
def test_input_field_errors(extra: Entry, code: str) -> None:
    data = _v2([_v2_input(sequence=5, extra=(extra,))], [_v2_output()])
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(data)
    assert raised.value.code == code


G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (b"\x00\x01\x02", "psbt.bad_key_origin"),
        (b"\x00\x01\x02\x03\x04", "psbt.bad_key_origin"),
        (b"", "psbt.bad_key_origin"),
    ],
)
def test_key_origin_lengths(value: bytes, code: str) -> None:
    extra = Entry(InputType.BIP32_DERIVATION, G, value)
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_v2([_v2_input(extra=(extra,))], [_v2_output()]))
    assert raised.value.code == code


def test_key_origin_decodes() -> None:
    path = struct.pack("<4sII", b"\xde\xad\xbe\xef", 0x80000054, 7)
    extra = Entry(InputType.BIP32_DERIVATION, G, path)
    psbt = Psbt.parse(_v2([_v2_input(extra=(extra,))], [_v2_output()]))
    origin = psbt.inputs[0].bip32_derivations[0].origin
    assert origin.fingerprint == b"\xde\xad\xbe\xef"
    assert origin.derivation == "m/84h/7"


def test_size_cap_is_checked_first() -> None:
    data = _b64(BIP174["valid"][0]["psbt"])
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(data, max_size=len(data) - 1)
    assert raised.value.code == "psbt.too_large"
    assert Psbt.parse(data, max_size=len(data)).serialize() == data


def test_trailing_bytes_after_the_last_map() -> None:
    data = _b64(BIP174["valid"][0]["psbt"]) + b"\x00"
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(data)
    assert raised.value.code == "psbt.trailing_bytes"


def _tx(outputs: tuple[TxOut, ...]) -> Tx:
    prev = TxIn(OutPoint(bytes(32), 0), b"\x51", 0xFFFFFFFF)
    return Tx(2, (prev,), outputs, 0)


def test_witness_utxo_must_match_the_non_witness_utxo() -> None:
    previous = _tx((TxOut(5000, b"\x00\x14" + bytes(20)), TxOut(7000, b"\x51")))
    txid = previous.txid()
    good = (
        Entry(InputType.NON_WITNESS_UTXO, b"", previous.serialize()),
        Entry(InputType.WITNESS_UTXO, b"", TxOut(7000, b"\x51").serialize()),
    )
    inp = [
        Entry(InputType.PREVIOUS_TXID, b"", txid),
        Entry(InputType.OUTPUT_INDEX, b"", struct.pack("<I", 1)),
    ]
    psbt = Psbt.parse(_v2([inp + list(good)], [_v2_output()]))
    assert psbt.inputs[0].amount_proven
    assert psbt.inputs[0].spent_output == TxOut(7000, b"\x51")
    bad = (good[0], Entry(InputType.WITNESS_UTXO, b"", TxOut(7001, b"\x51").serialize()))
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_v2([inp + list(bad)], [_v2_output()]))
    assert raised.value.code == "psbt.witness_utxo_mismatch"
    assert "input 0" in raised.value.message


def test_with_partial_sig_appends_and_validates() -> None:
    psbt = Psbt.parse(_b64(BIP174["valid"][0]["psbt"]))
    sig = bytes.fromhex(
        "3044022074018ad4180097b873323c0015720b3684cc8123891048e7dbcd9b55ad679c99022073d369b7"
        "40e3eb53dcefa33823c8070514ca55a7dd9544f157c167913261118c01"
    )
    signed = psbt.with_input(0, psbt.inputs[0].with_partial_sig(G, sig))
    assert signed.inputs[0].partial_sigs[-1].pubkey == G
    assert signed.inputs[0].entries[-1] == Entry(InputType.PARTIAL_SIG, G, sig)
    assert Psbt.parse(signed.serialize()) == signed
    with pytest.raises(InvalidInput) as raised:
        psbt.inputs[0].with_partial_sig(G, sig[:-1] + b"\x00")
    assert raised.value.code == "psbt.bad_signature"
    with pytest.raises(BridgeError) as mismatch:
        psbt.with_input(1, psbt.inputs[0])
    assert mismatch.value.code == "psbt.map_mismatch"


def test_finalized_keeps_utxo_and_unknown_and_drops_signing_data() -> None:
    psbt = Psbt.parse(_b64(BIP174["valid"][6]["psbt"]))  # unknown types in the inputs
    inp = psbt.inputs[0]
    final = inp.finalized(b"\x00", [b"sig", b"key"])
    assert final.final_scriptsig == b"\x00"
    assert final.final_scriptwitness == (b"sig", b"key")
    assert final.unknown == inp.unknown
    assert final.partial_sigs == () and final.bip32_derivations == ()
    assert (final.non_witness_utxo, final.witness_utxo) == (inp.non_witness_utxo, inp.witness_utxo)
    assert final.is_finalized


def test_parsed_psbts_are_values() -> None:
    data = _b64(BIP174["valid"][3]["psbt"])
    psbt, again = Psbt.parse(data), Psbt.parse(data)
    assert psbt == again and hash(psbt) == hash(again)
    previous = psbt.inputs[0].non_witness_utxo
    assert previous is not None and psbt.global_tx is not None
    fields: list[tuple[object, str]] = [
        (psbt, "inputs"),
        (psbt.global_map, "entries"),
        (psbt.inputs[0], "partial_sigs"),
        (psbt.outputs[0], "amount"),
        (psbt.global_tx, "outputs"),
        (previous, "wire_txid"),
    ]
    for part, name in fields:
        with pytest.raises(AttributeError):
            setattr(part, name, None)
    # The maps' `index` field hides tuple.index: it is the map's place, not a method.
    assert (psbt.inputs[1].index, psbt.outputs[1].index) == (1, 1)
    signed = psbt.with_input(0, psbt.inputs[0].with_entry(0x98, b"", b"x"))
    assert signed != psbt and Psbt.parse(data) == psbt


def test_with_inputs_replaces_many_in_one_copy() -> None:
    psbt = Psbt.parse(_b64(BIP174["valid"][3]["psbt"]))
    tap = psbt.inputs[1].with_entry(0x99, b"", b"unknown")
    done = psbt.with_inputs([psbt.inputs[0].with_entry(0x98, b"", b"x"), tap])
    assert done.inputs[1].unknown[-1].value == b"unknown"
    assert done.inputs[0].unknown[-1].value == b"x"
    assert Psbt.parse(done.serialize()) == done


def _v0_with_global(*extra: Entry) -> bytes:
    tx = Tx(2, (TxIn(OutPoint(bytes(32), 0), b"", 0xFFFFFFFF),), (TxOut(1, b"\x51"),), 0)
    globals_ = (Entry(GlobalType.UNSIGNED_TX, b"", tx.serialize_legacy()), *extra)
    maps = [globals_, (), ()]
    return MAGIC + b"".join(b"".join(e.serialize() for e in m) + b"\x00" for m in maps)


XPUB = bytes.fromhex(
    "0488b21e000000000000000000873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508"
    "0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2"
)


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (Entry(GlobalType.XPUB, XPUB[:-1], b"abcd"), "psbt.bad_xpub"),
        (Entry(GlobalType.XPUB, XPUB, b"abc"), "psbt.bad_key_origin"),
        (Entry(GlobalType.VERSION, b"", b"\x00\x00\x00"), "psbt.bad_value_length"),
        (Entry(GlobalType.VERSION, b"", struct.pack("<I", 3)), "psbt.unsupported_version"),
        (Entry(GlobalType.VERSION, b"\x00", struct.pack("<I", 0)), "psbt.unexpected_key_data"),
        (Entry(GlobalType.PROPRIETARY, b"", b""), "psbt.bad_proprietary_key"),
        (Entry(GlobalType.VERSION, b"", struct.pack("<I", 2)), "psbt.unsigned_tx_in_v2"),
    ],
)
def test_global_field_errors(extra: Entry, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(_v0_with_global(extra))
    assert raised.value.code == code
    assert raised.value.message.startswith("global map")


def test_global_xpub_and_unknown() -> None:
    origin = struct.pack("<4sI", b"\x01\x02\x03\x04", 0x80000000)
    unknown = Entry(0x42, b"key", b"value")
    data = _v0_with_global(Entry(GlobalType.XPUB, XPUB, origin), unknown)
    psbt = Psbt.parse(data)
    assert psbt.xpubs[0].xpub == XPUB and psbt.xpubs[0].origin.path == (0x80000000,)
    assert psbt.unknown == (unknown,)
    assert psbt.serialize() == data


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (Entry(GlobalType.INPUT_COUNT, b"", b"\x01\x00"), "psbt.bad_value"),
        (Entry(GlobalType.TX_MODIFIABLE, b"", b"\x01\x00"), "psbt.bad_value_length"),
        (Entry(GlobalType.FALLBACK_LOCKTIME, b"", b"\x01"), "psbt.bad_value_length"),
    ],
)
def test_v2_global_field_errors(extra: Entry, code: str) -> None:
    data = _v2([_v2_input()], [_v2_output()])
    count = Entry(GlobalType.INPUT_COUNT, b"", b"\x01").serialize()
    if extra.key_type == GlobalType.INPUT_COUNT:
        data = data.replace(count, extra.serialize(), 1)
    else:
        data = data[: len(MAGIC)] + extra.serialize() + data[len(MAGIC) :]
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(data)
    assert raised.value.code == code


def test_v2_counts_decide_the_number_of_maps() -> None:
    data = _v2([_v2_input(), _v2_input(sequence=1)], [_v2_output()])
    assert len(Psbt.parse(data).inputs) == 2
    with pytest.raises(InvalidInput) as raised:
        Psbt.parse(data[: -len(serialize_map(tuple(_v2_output())))])
    assert raised.value.code == "psbt.missing_map"


def test_unique_id_zeroes_sequences() -> None:
    a = Psbt.parse(_v2([_v2_input(sequence=1)], [_v2_output()]))
    b = Psbt.parse(_v2([_v2_input(sequence=7)], [_v2_output()]))
    assert a.unsigned_tx().txid() != b.unsigned_tx().txid()
    assert a.unique_id() == b.unique_id()


# --- property tests: mutated and truncated vectors; parse∘serialize is the identity

SEEDS = [p.values[0] for p in VALID]


def _parses_or_refuses(data: bytes) -> None:
    try:
        psbt = Psbt.parse(data)
    except InvalidInput:
        return
    assert psbt.serialize() == data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(0, 255), st.sampled_from("rid")),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_vectors_only_raise_invalid_input(
    seed: bytes, edits: list[tuple[int, int, str]]
) -> None:
    data = bytearray(seed)
    for position, byte, how in edits:
        at = position % (len(data) + 1)
        if how == "r" and at < len(data):
            data[at] = byte
        elif how == "i":
            data.insert(at, byte)
        elif at < len(data):
            del data[at]
    _parses_or_refuses(bytes(data))


@settings(max_examples=300, deadline=None)
@given(seed=st.sampled_from(SEEDS), cut=st.integers(min_value=0))
def test_truncated_vectors_are_refused(seed: bytes, cut: int) -> None:
    with pytest.raises(InvalidInput):
        Psbt.parse(seed[: cut % len(seed)])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_the_magic(tail: bytes) -> None:
    _parses_or_refuses(MAGIC + tail)


def test_with_global_entry_and_with_output() -> None:
    psbt = Psbt.parse(_b64(BIP370["valid"][4]["psbt"]))  # TX_MODIFIABLE with inputs flag
    updated = psbt.with_global_entry(GlobalType.TX_MODIFIABLE, b"", b"\x00")
    assert updated.tx_modifiable == 0
    assert Psbt.parse(updated.serialize()) == updated
    assert len(updated.global_entries) == len(psbt.global_entries)  # replaced in place
    with pytest.raises(BridgeError) as raised:
        psbt.with_global_entry(GlobalType.INPUT_COUNT, b"", b"\x05")
    assert raised.value.code == "psbt.map_mismatch"
    with pytest.raises(InvalidInput) as invalid:  # as v0 the v2 fields are invalid
        psbt.with_global_entry(GlobalType.VERSION, b"", struct.pack("<I", 0))
    assert invalid.value.code == "psbt.v2_field_in_v0"
    with pytest.raises(InvalidInput):
        psbt.with_global_entry(GlobalType.TX_MODIFIABLE, b"", b"")
    out = psbt.outputs[1].with_entry(OutputType.REDEEM_SCRIPT, b"", b"\x51")
    assert psbt.with_output(1, out).outputs[1].redeem_script == b"\x51"
    with pytest.raises(BridgeError):
        psbt.with_output(0, out)
