"""psbt_decode.py: per-field decoders and the per-map tables (every known type, its rules)."""

from __future__ import annotations

import hashlib
import struct

import pytest

from psbtbridge.compact import compact_size, var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.keymap import Entry
from psbtbridge.psbt_decode import (
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    check_proprietary_key,
    decode_compact,
    decode_fixed,
    decode_key_origin,
    decode_map,
    decode_tap_key_origin,
    required_locktime,
)
from psbtbridge.psbt_fields import (
    NO_KEY_DATA_INPUT,
    NO_KEY_DATA_OUTPUT,
    V2_ONLY_INPUT,
    V2_ONLY_OUTPUT,
    InputType,
    OutputType,
)

G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
G2 = bytes.fromhex("02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5")


def _code(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return raised.value.code


def test_tables_cover_every_known_type_with_the_bip_rules() -> None:
    assert set(INPUT_FIELDS) == {int(t) for t in InputType}
    assert set(OUTPUT_FIELDS) == {int(t) for t in OutputType}
    for field in InputType:
        spec = INPUT_FIELDS[field]
        assert spec.bip_name == f"PSBT_IN_{field.name}"
        assert spec.v2_only == (field in V2_ONLY_INPUT)
        assert spec.no_key_data == (field in NO_KEY_DATA_INPUT)
    for field in OutputType:
        spec = OUTPUT_FIELDS[field]
        assert spec.v2_only == (field in V2_ONLY_OUTPUT)
        assert spec.no_key_data == (field in NO_KEY_DATA_OUTPUT)


def test_fixed_width_values() -> None:
    assert decode_fixed(struct.pack("<I", 7), "<I", "x") == 7
    assert decode_fixed(struct.pack("<q", -5), "<q", "x") == -5
    assert _code(decode_fixed, b"\x01\x02\x03", "<I", "x") == "psbt.bad_value_length"
    assert _code(decode_fixed, bytes(5), "<I", "x") == "psbt.bad_value_length"
    assert decode_compact(b"\xfd\x00\x01", "x") == 256
    assert _code(decode_compact, b"\x01\x00", "x") == "psbt.bad_value"
    assert _code(decode_compact, b"\xfd\x01\x00", "x") == "psbt.bad_value"


def test_key_origins() -> None:
    origin = decode_key_origin(b"abcd" + struct.pack("<II", 0x8000002C, 1), "x")
    assert (origin.fingerprint, origin.path) == (b"abcd", (0x8000002C, 1))
    assert decode_key_origin(b"abcd", "x").path == ()
    for bad in (b"", b"abc", b"abcde", b"abcd\x00\x00"):
        assert _code(decode_key_origin, bad, "x") == "psbt.bad_key_origin"


def test_tap_key_origins() -> None:
    leaf = bytes(range(32))
    hashes, origin = decode_tap_key_origin(compact_size(1) + leaf + b"abcd\x01\x00\x00\x00", "x")
    assert hashes == (leaf,) and origin.path == (1,)
    assert decode_tap_key_origin(b"\x00abcd", "x")[0] == ()
    # The fuzzer case Core fixed: a hash count larger than the value (no overflow here).
    assert _code(decode_tap_key_origin, b"\x02" + leaf + b"abcd", "x") == "psbt.bad_key_origin"
    assert _code(decode_tap_key_origin, b"\x00abc", "x") == "psbt.bad_key_origin"
    assert _code(decode_tap_key_origin, b"", "x") == "psbt.bad_key_origin"


def test_required_locktimes() -> None:
    assert required_locktime(struct.pack("<I", 500_000_000), "x", time=True) == 500_000_000
    assert required_locktime(struct.pack("<I", 1), "x", time=False) == 1
    assert required_locktime(struct.pack("<I", 499_999_999), "x", time=False) == 499_999_999
    for value, time in ((499_999_999, True), (0, True), (0, False), (500_000_000, False)):
        packed = struct.pack("<I", value)
        assert _code(required_locktime, packed, "x", time=time) == "psbt.bad_locktime"


def test_proprietary_keys() -> None:
    assert check_proprietary_key(var_bytes(b"id") + b"\x01rest", "x")
    assert check_proprietary_key(b"\x00\x00", "x")  # empty identifier, subtype 0
    for bad in (b"", b"\x05id", b"\x02id"):
        assert _code(check_proprietary_key, bad, "x") == "psbt.bad_proprietary_key"


def _input(*entries: Entry, version: int = 2) -> dict[str, object]:
    return decode_map(entries, INPUT_FIELDS, "input 3", version)[0]


def _input_code(*entries: Entry, version: int = 2) -> str:
    with pytest.raises(InvalidInput) as raised:
        _input(*entries, version=version)
    assert raised.value.message.startswith("input 3: PSBT_IN_")
    return raised.value.code


def test_repeated_fields_keep_wire_order_and_unknown_entries_stay_raw() -> None:
    origin = b"abcd"
    entries = (
        Entry(InputType.BIP32_DERIVATION, G2, origin),
        Entry(0x55, b"k", b"v"),
        Entry(InputType.BIP32_DERIVATION, G, origin),
    )
    fields, unknown = decode_map(entries, INPUT_FIELDS, "input 0", 0)
    assert [d.pubkey for d in fields["bip32_derivations"]] == [G2, G]
    assert unknown == (entries[1],)


def test_shared_rules() -> None:
    assert _input_code(Entry(InputType.SEQUENCE, b"", bytes(4)), version=0) == (
        "psbt.v2_field_in_v0"
    )
    assert _input_code(Entry(InputType.TAP_KEY_SIG, b"\x00", bytes(64))) == (
        "psbt.unexpected_key_data"
    )


def test_preimages() -> None:
    preimage = b"secret"
    sha = hashlib.sha256(preimage).digest()
    fields = _input(Entry(InputType.SHA256, sha, preimage))
    assert fields["preimages"][0].preimage == preimage  # type: ignore[index]
    assert _input_code(Entry(InputType.SHA256, sha, b"other")) == "psbt.bad_preimage"
    assert _input_code(Entry(InputType.HASH256, sha[:20], preimage)) == "psbt.bad_key_data"


def test_tap_leaf_script() -> None:
    block = b"\xc1" + bytes.fromhex(G[1:].hex()) + bytes(32)
    fields = _input(Entry(InputType.TAP_LEAF_SCRIPT, block, b"\x51\xc0"))
    leaf = fields["tap_leaf_scripts"][0]  # type: ignore[index]
    assert (leaf.script, leaf.leaf_version) == (b"\x51", 0xC0)
    assert _input_code(Entry(InputType.TAP_LEAF_SCRIPT, block, b"\x51\xc2")) == (
        "psbt.bad_leaf_version"
    )
    assert _input_code(Entry(InputType.TAP_LEAF_SCRIPT, block, b"")) == "psbt.bad_value_length"


def test_tap_script_sig_and_keys() -> None:
    key = G[1:] + bytes(32)
    fields = _input(Entry(InputType.TAP_SCRIPT_SIG, key, bytes(64)))
    assert fields["tap_script_sigs"][0].xonly_pubkey == G[1:]  # type: ignore[index]
    assert _input_code(Entry(InputType.TAP_SCRIPT_SIG, key[:63], bytes(64))) == "psbt.bad_key_data"
    assert _input_code(Entry(InputType.TAP_INTERNAL_KEY, b"", G)) == "psbt.bad_pubkey"
    assert _input_code(Entry(InputType.TAP_MERKLE_ROOT, b"", bytes(33))) == (
        "psbt.bad_value_length"
    )


def test_musig2_fields() -> None:
    fields = _input(
        Entry(InputType.MUSIG2_PARTICIPANT_PUBKEYS, G, G + G2),
        Entry(InputType.MUSIG2_PUB_NONCE, G + G2, bytes(66)),
        Entry(InputType.MUSIG2_PARTIAL_SIG, G + G2 + bytes(32), bytes(32)),
    )
    assert fields["musig2_participant_pubkeys"][0].participants == (G, G2)  # type: ignore[index]
    assert fields["musig2_pub_nonces"][0].leaf_hash is None  # type: ignore[index]
    assert fields["musig2_partial_sigs"][0].leaf_hash == bytes(32)  # type: ignore[index]
    bad_participant = b"\x02" + (5).to_bytes(32, "big")
    assert _input_code(Entry(InputType.MUSIG2_PARTICIPANT_PUBKEYS, G, bad_participant)) == (
        "psbt.bad_pubkey"
    )


def test_witness_stack_and_utxos() -> None:
    stack = compact_size(2) + var_bytes(b"sig") + var_bytes(b"")
    assert _input(Entry(InputType.FINAL_SCRIPTWITNESS, b"", stack))["final_scriptwitness"] == (
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


def test_output_fields() -> None:
    fields, _ = decode_map(
        (
            Entry(OutputType.AMOUNT, b"", struct.pack("<q", -1)),
            Entry(OutputType.TAP_TREE, b"", b"\x00\xc0\x01\x51"),
        ),
        OUTPUT_FIELDS,
        "output 1",
        2,
    )
    assert fields["_amount"] == -1  # the signed wire value: refusing it is policy's job
    assert fields["tap_tree"][0].script == b"\x51"
