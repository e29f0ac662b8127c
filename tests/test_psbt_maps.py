"""psbt/global_map.py, input_map.py, output_map.py: every known type decoded under its BIP
rules into typed fields, repeated fields in wire order, unknown entries kept raw."""

from __future__ import annotations

import hashlib
import struct

import pytest

from psbtbridge.compact import compact_size, var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.psbt.fields import (
    NO_KEY_DATA_GLOBAL,
    NO_KEY_DATA_INPUT,
    NO_KEY_DATA_OUTPUT,
    V2_ONLY_GLOBAL,
    V2_ONLY_INPUT,
    V2_ONLY_OUTPUT,
    GlobalType,
    InputType,
    OutputType,
)
from psbtbridge.psbt.global_map import decode_global
from psbtbridge.psbt.input_map import PsbtInput, decode_input, required_locktime
from psbtbridge.psbt.keymap import Entry
from psbtbridge.psbt.output_map import decode_output
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut

G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
G2 = bytes.fromhex("02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")
SIG = bytes.fromhex(
    "3044022074018ad4180097b873323c0015720b3684cc8123891048e7dbcd9b55ad679c99022073d369b7"
    "40e3eb53dcefa33823c8070514ca55a7dd9544f157c167913261118c01"
)
PREVOUT = (
    Entry(InputType.PREVIOUS_TXID, b"", bytes(32)),
    Entry(InputType.OUTPUT_INDEX, b"", struct.pack("<I", 0)),
)
TX_INPUT = TxIn(OutPoint(bytes(32), 0), b"", 0xFFFFFFFF)
TX_OUTPUT = TxOut(1000, b"\x51")
UNSIGNED_TX = Entry(
    GlobalType.UNSIGNED_TX, b"", Tx(2, (TX_INPUT,), (TX_OUTPUT,), 0).serialize_legacy()
)
V2_GLOBALS = (
    Entry(GlobalType.VERSION, b"", struct.pack("<I", 2)),
    Entry(GlobalType.TX_VERSION, b"", struct.pack("<i", 2)),
    Entry(GlobalType.INPUT_COUNT, b"", b"\x01"),
    Entry(GlobalType.OUTPUT_COUNT, b"", b"\x01"),
)


def _input(*entries: Entry, version: int = 2) -> PsbtInput:
    """Input 3 of a v2 PSBT (its prevout fields added first), or of a v0 one."""
    if version == 2:
        return decode_input((*PREVOUT, *entries), 3, 2, None)
    return decode_input(entries, 3, 0, TX_INPUT)


def _input_error(*entries: Entry, version: int = 2) -> InvalidInput:
    with pytest.raises(InvalidInput) as raised:
        _input(*entries, version=version)
    assert raised.value.message.startswith("input 3: PSBT_IN_")
    return raised.value


def _input_code(*entries: Entry, version: int = 2) -> str:
    return _input_error(*entries, version=version).code


# --- every known type follows its BIP's rules and is named by its BIP name

# One byte of key data: refused as such where the key must be the type alone, and by the
# field's own decoder everywhere else (no key type accepts a lone byte).
ODD_KEY_DATA = b"\x01"


@pytest.mark.parametrize("field", list(InputType), ids=lambda f: f.name)
def test_every_input_type_follows_the_bip_rules(field: InputType) -> None:
    error = _input_error(Entry(field, ODD_KEY_DATA, b""), version=0)
    assert error.message.startswith(f"input 3: {field.bip_name}")
    assert (error.code == "psbt.v2_field_in_v0") == (field in V2_ONLY_INPUT)
    error = _input_error(Entry(field, ODD_KEY_DATA, b""), version=2)
    assert error.message.startswith(f"input 3: {field.bip_name}")
    assert (error.code == "psbt.unexpected_key_data") == (field in NO_KEY_DATA_INPUT)


@pytest.mark.parametrize("field", list(OutputType), ids=lambda f: f.name)
def test_every_output_type_follows_the_bip_rules(field: OutputType) -> None:
    for version, tx_output in ((0, TX_OUTPUT), (2, None)):
        with pytest.raises(InvalidInput) as raised:
            decode_output((Entry(field, ODD_KEY_DATA, b""),), 1, version, tx_output)
        assert raised.value.message.startswith(f"output 1: {field.bip_name}")
        if version == 0:
            assert (raised.value.code == "psbt.v2_field_in_v0") == (field in V2_ONLY_OUTPUT)
        else:
            assert (raised.value.code == "psbt.unexpected_key_data") == (
                field in NO_KEY_DATA_OUTPUT
            )


@pytest.mark.parametrize("field", list(GlobalType), ids=lambda f: f.name)
def test_every_global_type_follows_the_bip_rules(field: GlobalType) -> None:
    for version, required in ((0, (UNSIGNED_TX,)), (2, V2_GLOBALS)):
        with pytest.raises(InvalidInput) as raised:
            decode_global((*required, Entry(field, ODD_KEY_DATA, b"")))
        assert raised.value.message.startswith(f"global map: {field.bip_name}")
        if version == 0:
            assert (raised.value.code == "psbt.v2_field_in_v0") == (field in V2_ONLY_GLOBAL)
        else:
            assert (raised.value.code == "psbt.unexpected_key_data") == (
                field in NO_KEY_DATA_GLOBAL
            )


# --- the input map


def test_required_locktimes() -> None:
    assert required_locktime(struct.pack("<I", 500_000_000), "x", time=True) == 500_000_000
    assert required_locktime(struct.pack("<I", 1), "x", time=False) == 1
    assert required_locktime(struct.pack("<I", 499_999_999), "x", time=False) == 499_999_999
    for value, time in ((499_999_999, True), (0, True), (0, False), (500_000_000, False)):
        packed = struct.pack("<I", value)
        assert _code(required_locktime, packed, "x", time=time) == "psbt.bad_locktime"


def _code(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return raised.value.code


def test_repeated_fields_keep_wire_order_and_unknown_entries_stay_raw() -> None:
    origin = b"abcd"
    entries = (
        Entry(InputType.BIP32_DERIVATION, G2, origin),
        Entry(0x55, b"k", b"v"),
        Entry(InputType.BIP32_DERIVATION, G, origin),
    )
    inp = decode_input(entries, 0, 0, TX_INPUT)
    assert [d.pubkey for d in inp.bip32_derivations] == [G2, G]
    assert inp.unknown == (entries[1],)
    assert inp.entries == entries


def test_shared_rules() -> None:
    assert _input_code(Entry(InputType.SEQUENCE, b"", bytes(4)), version=0) == (
        "psbt.v2_field_in_v0"
    )
    assert _input_code(Entry(InputType.TAP_KEY_SIG, b"\x00", bytes(64))) == (
        "psbt.unexpected_key_data"
    )


def test_v2_prevout_and_sequence() -> None:
    inp = _input(Entry(InputType.SEQUENCE, b"", struct.pack("<I", 7)))
    assert (inp.prevout, inp.sequence) == (OutPoint(bytes(32), 0), 7)
    assert _input().sequence == 0xFFFFFFFF  # BIP370: omitted means final
    with pytest.raises(InvalidInput) as raised:
        decode_input(PREVOUT[:1], 0, 2, None)
    assert raised.value.code == "psbt.missing_field"
    assert "PSBT_IN_OUTPUT_INDEX" in raised.value.message


def test_preimages() -> None:
    preimage = b"secret"
    sha = hashlib.sha256(preimage).digest()
    inp = _input(Entry(InputType.SHA256, sha, preimage))
    assert inp.preimages[0].preimage == preimage
    assert inp.preimages[0].kind == InputType.SHA256
    assert _input_code(Entry(InputType.SHA256, sha, b"other")) == "psbt.bad_preimage"
    assert _input_code(Entry(InputType.HASH256, sha[:20], preimage)) == "psbt.bad_key_data"


def test_tap_leaf_script() -> None:
    block = b"\xc1" + bytes.fromhex(G[1:].hex()) + bytes(32)
    leaf = _input(Entry(InputType.TAP_LEAF_SCRIPT, block, b"\x51\xc0")).tap_leaf_scripts[0]
    assert (leaf.script, leaf.leaf_version) == (b"\x51", 0xC0)
    assert _input_code(Entry(InputType.TAP_LEAF_SCRIPT, block, b"\x51\xc2")) == (
        "psbt.bad_leaf_version"
    )
    assert _input_code(Entry(InputType.TAP_LEAF_SCRIPT, block, b"")) == "psbt.bad_value_length"


def test_tap_script_sig_and_keys() -> None:
    key = G[1:] + bytes(32)
    inp = _input(Entry(InputType.TAP_SCRIPT_SIG, key, bytes(64)))
    assert inp.tap_script_sigs[0].xonly_pubkey == G[1:]
    assert _input_code(Entry(InputType.TAP_SCRIPT_SIG, key[:63], bytes(64))) == "psbt.bad_key_data"
    assert _input_code(Entry(InputType.TAP_INTERNAL_KEY, b"", G)) == "psbt.bad_pubkey"
    assert _input_code(Entry(InputType.TAP_MERKLE_ROOT, b"", bytes(33))) == (
        "psbt.bad_value_length"
    )


def test_musig2_fields() -> None:
    inp = _input(
        Entry(InputType.MUSIG2_PARTICIPANT_PUBKEYS, G, G + G2),
        Entry(InputType.MUSIG2_PUB_NONCE, G + G2, bytes(66)),
        Entry(InputType.MUSIG2_PARTIAL_SIG, G + G2 + bytes(32), bytes(32)),
    )
    assert inp.musig2_participant_pubkeys[0].participants == (G, G2)
    assert inp.musig2_pub_nonces[0].leaf_hash is None
    assert inp.musig2_partial_sigs[0].leaf_hash == bytes(32)
    bad_participant = b"\x02" + (5).to_bytes(32, "big")
    assert _input_code(Entry(InputType.MUSIG2_PARTICIPANT_PUBKEYS, G, bad_participant)) == (
        "psbt.bad_pubkey"
    )


def test_witness_stack_and_utxos() -> None:
    stack = compact_size(2) + var_bytes(b"sig") + var_bytes(b"")
    assert _input(Entry(InputType.FINAL_SCRIPTWITNESS, b"", stack)).final_scriptwitness == (
        b"sig",
        b"",
    )
    assert _input_code(Entry(InputType.FINAL_SCRIPTWITNESS, b"", stack + b"\x00")) == (
        "psbt.bad_value"
    )
    assert _input_code(Entry(InputType.WITNESS_UTXO, b"", bytes(8))) == "psbt.bad_value"
    assert _input_code(Entry(InputType.NON_WITNESS_UTXO, b"", b"\x02\x00\x00\x00")) == (
        "psbt.bad_value"
    )


def test_a_new_signature_decoded_alone_equals_the_whole_map_decoded() -> None:
    """with_entry decodes a new signature by itself; the result must be what parsing gives."""
    inp = _input(Entry(InputType.BIP32_DERIVATION, G, b"abcd"))
    xonly = G[1:]
    for signed in (
        inp.with_partial_sig(G, SIG),
        inp.with_tap_key_sig(bytes(64)),
        inp.with_entry(InputType.TAP_SCRIPT_SIG, xonly + bytes(32), bytes(64)),
        inp.with_partial_sig(G, SIG).with_partial_sig(G2, SIG),
    ):
        assert signed == decode_input(signed.entries, 3, 2, None)
    with pytest.raises(InvalidInput) as raised:
        inp.with_entry(InputType.TAP_KEY_SIG, b"\x00", bytes(64))
    assert raised.value.code == "psbt.unexpected_key_data"
    with pytest.raises(InvalidInput) as raised:
        inp.with_tap_key_sig(bytes(63))
    assert raised.value.code == "psbt.bad_signature"


# --- the output map


def test_output_fields() -> None:
    out = decode_output(
        (
            Entry(OutputType.AMOUNT, b"", struct.pack("<q", -1)),
            Entry(OutputType.SCRIPT, b"", b"\x51"),
            Entry(OutputType.TAP_TREE, b"", b"\x00\xc0\x01\x51"),
        ),
        1,
        2,
        None,
    )
    assert out.amount == -1  # the signed wire value: refusing it is policy's job
    assert out.tap_tree is not None and out.tap_tree[0].script == b"\x51"
    assert out.txout == TxOut(-1, b"\x51")


def test_v0_outputs_take_amount_and_script_from_the_transaction() -> None:
    unknown = Entry(0x77, b"", b"?")
    out = decode_output((Entry(OutputType.REDEEM_SCRIPT, b"", b"\x51"), unknown), 0, 0, TX_OUTPUT)
    assert (out.txout, out.redeem_script, out.unknown) == (TX_OUTPUT, b"\x51", (unknown,))
    with pytest.raises(InvalidInput) as raised:
        decode_output((Entry(OutputType.AMOUNT, b"", bytes(8)),), 0, 2, None)
    assert raised.value.code == "psbt.missing_field"
    assert "PSBT_OUT_SCRIPT" in raised.value.message


# --- the global map


def test_global_counts_and_version() -> None:
    v0 = decode_global((UNSIGNED_TX,))
    assert (v0.version, v0.tx_version, v0.input_count, v0.output_count) == (0, 2, 1, 1)
    v2 = decode_global(V2_GLOBALS)
    assert (v2.version, v2.unsigned_tx, v2.input_count, v2.output_count) == (2, None, 1, 1)
    for missing in (1, 2, 3):
        with pytest.raises(InvalidInput) as raised:
            decode_global(V2_GLOBALS[:missing] + V2_GLOBALS[missing + 1 :])
        assert raised.value.code == "psbt.missing_field"
        assert GlobalType(V2_GLOBALS[missing].key_type).bip_name in raised.value.message
    updated = v2.with_entry(GlobalType.TX_MODIFIABLE, b"", b"\x01")
    assert updated.tx_modifiable == 1 and updated.entries[:4] == V2_GLOBALS
