"""Decoders for PSBT key data and values, and per-map tables from each known type to its decoder.

Every decoder takes an untrusted entry and a `where` ("input 2: PSBT_IN_BIP32_DERIVATION")
and returns a typed, validated value or raises InvalidInput naming the field. The tables
say which attribute of `PsbtInput`/`PsbtOutput` a field fills, and whether it may repeat
(with different key data) in one map.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from psbtbridge.compact import Readable, read_compact_size, read_exact, read_var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.hashes import hash160, hash256, ripemd160, sha256
from psbtbridge.keyencoding import (
    check_compressed_pubkey,
    check_ecdsa_signature,
    check_pubkey,
    check_schnorr_signature,
    check_xonly_pubkey,
)
from psbtbridge.keymap import Entry
from psbtbridge.psbt_fields import (
    NO_KEY_DATA_INPUT,
    NO_KEY_DATA_OUTPUT,
    V2_ONLY_INPUT,
    V2_ONLY_OUTPUT,
    Bip32Derivation,
    InputType,
    KeyOrigin,
    MuSig2PartialSig,
    MuSig2Participants,
    MuSig2PubNonce,
    OutputType,
    PartialSig,
    Preimage,
    TapBip32Derivation,
    TapLeafScript,
    TapScriptSig,
)
from psbtbridge.taproot import TAPROOT_LEAF_MASK, check_control_block, parse_tap_tree
from psbtbridge.tx import PreviousTx, TxOut

T = TypeVar("T")

#: nLockTime values below this are block heights, at or above it Unix times.
LOCKTIME_THRESHOLD = 500_000_000


def decode_value(untrusted_value: bytes, parse: Callable[[bytes], T], where: str) -> T:
    """Parse a whole value; whatever is wrong inside it is an error of the field at `where`."""
    try:
        return parse(untrusted_value)
    except InvalidInput as error:
        raise InvalidInput("psbt.bad_value", f"{where}: {error.message}") from error


def decode_exact(untrusted_value: bytes, read: Callable[[Readable], T], where: str) -> T:
    """Run a stream reader over a whole value; a short or overlong value is one error."""

    def whole(data: bytes) -> T:
        stream = io.BytesIO(data)
        value = read(stream)
        if stream.tell() != len(data):
            raise InvalidInput(
                "psbt.bad_value", f"{len(data) - stream.tell()} bytes after the end of the value"
            )
        return value

    return decode_value(untrusted_value, whole, where)


def decode_fixed(untrusted_value: bytes, fmt: str, where: str) -> int:
    """A fixed-width little-endian integer ("<I", "<i", "<q", "<B") filling the whole value."""
    expect_length(untrusted_value, struct.calcsize(fmt), where)
    return int(struct.unpack(fmt, untrusted_value)[0])


def expect_length(untrusted_value: bytes, size: int, where: str) -> bytes:
    if len(untrusted_value) != size:
        raise InvalidInput(
            "psbt.bad_value_length",
            f"{where}: value is {len(untrusted_value)} bytes, expected {size}",
        )
    return untrusted_value


def expect_key_data_length(entry: Entry, sizes: tuple[int, ...], where: str) -> bytes:
    if len(entry.key_data) not in sizes:
        expected = " or ".join(str(s) for s in sizes)
        raise InvalidInput(
            "psbt.bad_key_data",
            f"{where}: key data is {len(entry.key_data)} bytes, expected {expected}",
        )
    return entry.key_data


def decode_compact(untrusted_value: bytes, where: str) -> int:
    return decode_exact(untrusted_value, read_compact_size, where)


def decode_key_origin(untrusted_value: bytes, where: str) -> KeyOrigin:
    """BIP174: a 4-byte fingerprint then 32-bit little-endian path elements; length 4·k, k >= 1."""
    if len(untrusted_value) < 4 or len(untrusted_value) % 4:
        raise InvalidInput(
            "psbt.bad_key_origin",
            f"{where}: key origin is {len(untrusted_value)} bytes, not a non-zero multiple of 4",
        )
    steps = struct.unpack(f"<{len(untrusted_value) // 4 - 1}I", untrusted_value[4:])
    return KeyOrigin(untrusted_value[:4], tuple(steps))


def decode_tap_key_origin(
    untrusted_value: bytes, where: str
) -> tuple[tuple[bytes, ...], KeyOrigin]:
    """BIP371: a compact count of 32-byte leaf hashes, the hashes, then a key origin."""
    stream = io.BytesIO(untrusted_value)
    try:
        count = read_compact_size(stream, "leaf hash count")
        hashes = tuple(read_exact(stream, 32, "leaf hash") for _ in range(count))
    except InvalidInput as error:
        raise InvalidInput("psbt.bad_key_origin", f"{where}: {error.message}") from error
    return hashes, decode_key_origin(untrusted_value[stream.tell() :], where)


def read_witness_stack(stream: Readable) -> tuple[bytes, ...]:
    count = read_compact_size(stream, "witness item count")
    return tuple(read_var_bytes(stream, "witness item") for _ in range(count))


def check_proprietary_key(untrusted_key_data: bytes, where: str) -> bytes:
    """BIP174 proprietary key data: a length-prefixed identifier, then a compact subtype."""
    stream = io.BytesIO(untrusted_key_data)
    try:
        read_var_bytes(stream, "proprietary identifier")
        read_compact_size(stream, "proprietary subtype")
    except InvalidInput as error:
        raise InvalidInput("psbt.bad_proprietary_key", f"{where}: {error.message}") from error
    return untrusted_key_data


def required_locktime(untrusted_value: bytes, where: str, *, time: bool) -> int:
    """BIP370: a required time lock is >= 500000000, a required height lock in 1..499999999."""
    locktime = decode_fixed(untrusted_value, "<I", where)
    valid = locktime >= LOCKTIME_THRESHOLD if time else 0 < locktime < LOCKTIME_THRESHOLD
    if not valid:
        kind = "time (>= 500000000)" if time else "block height (1 to 499999999)"
        raise InvalidInput("psbt.bad_locktime", f"{where}: {locktime} is not a {kind}")
    return locktime


_PREIMAGE_HASHES = {
    InputType.RIPEMD160: ripemd160,
    InputType.SHA256: sha256,
    InputType.HASH160: hash160,
    InputType.HASH256: hash256,
}


def _preimage(kind: InputType) -> Callable[[Entry, str], Preimage]:
    """BIP174: the key data is a hash, the value its preimage, which must hash to it."""
    digest = _PREIMAGE_HASHES[kind]

    def decode(entry: Entry, where: str) -> Preimage:
        expected = expect_key_data_length(entry, (len(digest(b"")),), where)
        if digest(entry.value) != expected:
            raise InvalidInput(
                "psbt.bad_preimage", f"{where}: the preimage does not hash to the key"
            )
        return Preimage(kind, expected, entry.value)

    return decode


def _por_commitment(entry: Entry, where: str) -> str:
    try:
        return entry.value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("psbt.bad_value", f"{where}: not UTF-8 text") from error


def _tap_script_sig(entry: Entry, where: str) -> TapScriptSig:
    """BIP371: key data is an x-only key and a leaf hash; the value a Schnorr signature."""
    key_data = expect_key_data_length(entry, (64,), where)
    return TapScriptSig(
        check_xonly_pubkey(key_data[:32], where),
        key_data[32:],
        check_schnorr_signature(entry.value, where),
    )


def _tap_leaf_script(entry: Entry, where: str) -> TapLeafScript:
    """BIP371: key data is a control block, the value a script followed by its leaf version."""
    control_block = check_control_block(entry.key_data, where)
    if not entry.value:
        raise InvalidInput("psbt.bad_value_length", f"{where}: value has no leaf version byte")
    leaf_version = entry.value[-1]
    if leaf_version != control_block[0] & TAPROOT_LEAF_MASK:
        raise InvalidInput(
            "psbt.bad_leaf_version",
            f"{where}: leaf version 0x{leaf_version:02x} differs from the control block's"
            f" 0x{control_block[0] & TAPROOT_LEAF_MASK:02x}",
        )
    return TapLeafScript(control_block, entry.value[:-1], leaf_version)


def _tap_bip32(entry: Entry, where: str) -> TapBip32Derivation:
    hashes, origin = decode_tap_key_origin(entry.value, where)
    return TapBip32Derivation(check_xonly_pubkey(entry.key_data, where), hashes, origin)


def _bip32(entry: Entry, where: str) -> Bip32Derivation:
    return Bip32Derivation(
        check_pubkey(entry.key_data, where), decode_key_origin(entry.value, where)
    )


def _musig2_participants(entry: Entry, where: str) -> MuSig2Participants:
    """BIP373: a compressed aggregate key, and a list of compressed participant keys."""
    aggregate = check_compressed_pubkey(entry.key_data, f"{where} aggregate key")
    value = entry.value
    if len(value) % 33:
        raise InvalidInput(
            "psbt.bad_value_length", f"{where}: value is {len(value)} bytes, not a multiple of 33"
        )
    participants = tuple(
        check_compressed_pubkey(value[i : i + 33], f"{where} participant {i // 33}")
        for i in range(0, len(value), 33)
    )
    return MuSig2Participants(aggregate, participants)


def _musig2_key(entry: Entry, where: str) -> tuple[bytes, bytes, bytes | None]:
    """BIP373 nonce and partial signature keys: participant, aggregate, optional leaf hash."""
    key_data = expect_key_data_length(entry, (66, 98), where)
    participant = check_compressed_pubkey(key_data[:33], f"{where} participant key")
    aggregate = check_compressed_pubkey(key_data[33:66], f"{where} aggregate key")
    return participant, aggregate, key_data[66:] or None


def _musig2_pub_nonce(entry: Entry, where: str) -> MuSig2PubNonce:
    return MuSig2PubNonce(*_musig2_key(entry, where), expect_length(entry.value, 66, where))


def _musig2_partial_sig(entry: Entry, where: str) -> MuSig2PartialSig:
    return MuSig2PartialSig(*_musig2_key(entry, where), expect_length(entry.value, 32, where))


def _proprietary(entry: Entry, where: str) -> Entry:
    check_proprietary_key(entry.key_data, where)
    return entry  # kept raw: only its issuer knows what it means


class FieldSpec(NamedTuple):
    """How one known type decodes: into which attribute, repeatable or not, and the rules
    every field shares (BIP370 version exclusion, BIP174 empty key data)."""

    bip_name: str
    attribute: str
    repeated: bool
    decode: Callable[[Entry, str], Any]
    v2_only: bool
    no_key_data: bool


def _specs(
    table: dict[Any, tuple[str, bool, Callable[[Entry, str], Any]]],
    v2_only: frozenset[Any],
    no_key_data: frozenset[Any],
) -> dict[int, FieldSpec]:
    return {
        int(field): FieldSpec(
            field.bip_name, attribute, repeated, decode, field in v2_only, field in no_key_data
        )
        for field, (attribute, repeated, decode) in table.items()
    }


def _value(entry: Entry, where: str) -> bytes:
    return entry.value


def _u32(entry: Entry, where: str) -> int:
    return decode_fixed(entry.value, "<I", where)


def _xonly_value(entry: Entry, where: str) -> bytes:
    return check_xonly_pubkey(entry.value, where)


#: Attributes starting with "_" are v2 transaction fields that PsbtInput exposes as
#: `prevout` and `sequence`, and PsbtOutput as `amount` and `script_pubkey`.
INPUT_FIELDS = _specs(
    {
        InputType.NON_WITNESS_UTXO: (
            "non_witness_utxo",
            False,
            lambda e, w: decode_value(e.value, PreviousTx.parse, w),
        ),
        InputType.WITNESS_UTXO: (
            "witness_utxo",
            False,
            lambda e, w: decode_value(e.value, TxOut.parse, w),
        ),
        InputType.PARTIAL_SIG: (
            "partial_sigs",
            True,
            lambda e, w: PartialSig(check_pubkey(e.key_data, w), check_ecdsa_signature(e.value, w)),
        ),
        InputType.SIGHASH_TYPE: ("sighash_type", False, _u32),
        InputType.REDEEM_SCRIPT: ("redeem_script", False, _value),
        InputType.WITNESS_SCRIPT: ("witness_script", False, _value),
        InputType.BIP32_DERIVATION: ("bip32_derivations", True, _bip32),
        InputType.FINAL_SCRIPTSIG: ("final_scriptsig", False, _value),
        InputType.FINAL_SCRIPTWITNESS: (
            "final_scriptwitness",
            False,
            lambda e, w: decode_exact(e.value, read_witness_stack, w),
        ),
        InputType.POR_COMMITMENT: ("por_commitment", False, _por_commitment),
        **{kind: ("preimages", True, _preimage(kind)) for kind in _PREIMAGE_HASHES},
        InputType.PREVIOUS_TXID: (
            "_previous_txid",
            False,
            lambda e, w: expect_length(e.value, 32, w),
        ),
        InputType.OUTPUT_INDEX: ("_output_index", False, _u32),
        InputType.SEQUENCE: ("_sequence", False, _u32),
        InputType.REQUIRED_TIME_LOCKTIME: (
            "required_time_locktime",
            False,
            lambda e, w: required_locktime(e.value, w, time=True),
        ),
        InputType.REQUIRED_HEIGHT_LOCKTIME: (
            "required_height_locktime",
            False,
            lambda e, w: required_locktime(e.value, w, time=False),
        ),
        InputType.TAP_KEY_SIG: (
            "tap_key_sig",
            False,
            lambda e, w: check_schnorr_signature(e.value, w),
        ),
        InputType.TAP_SCRIPT_SIG: ("tap_script_sigs", True, _tap_script_sig),
        InputType.TAP_LEAF_SCRIPT: ("tap_leaf_scripts", True, _tap_leaf_script),
        InputType.TAP_BIP32_DERIVATION: ("tap_bip32_derivations", True, _tap_bip32),
        InputType.TAP_INTERNAL_KEY: ("tap_internal_key", False, _xonly_value),
        InputType.TAP_MERKLE_ROOT: (
            "tap_merkle_root",
            False,
            lambda e, w: expect_length(e.value, 32, w),
        ),
        InputType.MUSIG2_PARTICIPANT_PUBKEYS: (
            "musig2_participant_pubkeys",
            True,
            _musig2_participants,
        ),
        InputType.MUSIG2_PUB_NONCE: ("musig2_pub_nonces", True, _musig2_pub_nonce),
        InputType.MUSIG2_PARTIAL_SIG: ("musig2_partial_sigs", True, _musig2_partial_sig),
        InputType.PROPRIETARY: ("proprietary", True, _proprietary),
    },
    V2_ONLY_INPUT,
    NO_KEY_DATA_INPUT,
)

OUTPUT_FIELDS = _specs(
    {
        OutputType.REDEEM_SCRIPT: ("redeem_script", False, _value),
        OutputType.WITNESS_SCRIPT: ("witness_script", False, _value),
        OutputType.BIP32_DERIVATION: ("bip32_derivations", True, _bip32),
        OutputType.AMOUNT: ("_amount", False, lambda e, w: decode_fixed(e.value, "<q", w)),
        OutputType.SCRIPT: ("_script", False, _value),
        OutputType.TAP_INTERNAL_KEY: ("tap_internal_key", False, _xonly_value),
        OutputType.TAP_TREE: ("tap_tree", False, lambda e, w: parse_tap_tree(e.value, w)),
        OutputType.TAP_BIP32_DERIVATION: ("tap_bip32_derivations", True, _tap_bip32),
        OutputType.MUSIG2_PARTICIPANT_PUBKEYS: (
            "musig2_participant_pubkeys",
            True,
            _musig2_participants,
        ),
        OutputType.PROPRIETARY: ("proprietary", True, _proprietary),
    },
    V2_ONLY_OUTPUT,
    NO_KEY_DATA_OUTPUT,
)


def decode_map(
    entries: tuple[Entry, ...], specs: dict[int, FieldSpec], place: str, version: int
) -> tuple[dict[str, Any], tuple[Entry, ...]]:
    """Decode every known entry of one input or output map into {attribute: value}
    (repeated fields as tuples, in wire order), and return the unknown entries."""
    fields: dict[str, Any] = {}
    repeated: dict[str, list[Any]] = {}
    unknown: list[Entry] = []
    for entry in entries:
        spec = specs.get(entry.key_type)
        if spec is None:
            unknown.append(entry)
            continue
        where = f"{place}: {spec.bip_name}"
        if spec.v2_only and version == 0:
            raise InvalidInput(
                "psbt.v2_field_in_v0", f"{where}: a PSBTv2 field in a version 0 PSBT"
            )
        if spec.no_key_data and entry.key_data:
            raise_unexpected_key_data(entry, where)
        value = spec.decode(entry, where)
        if spec.repeated:
            repeated.setdefault(spec.attribute, []).append(value)
        else:
            fields[spec.attribute] = value
    fields.update((attribute, tuple(values)) for attribute, values in repeated.items())
    return fields, tuple(unknown)


def raise_unexpected_key_data(entry: Entry, where: str) -> None:
    raise InvalidInput(
        "psbt.unexpected_key_data",
        f"{where}: key must be the type alone, found {len(entry.key_data)} bytes of key data",
    )
