"""Decoders shared by the three PSBT maps: fixed-width and compact values, key origins,
proprietary keys, the rules every field obeys, and the fields input and output maps share.

Every decoder takes untrusted key data or a value and a `where` ("input 2:
PSBT_IN_BIP32_DERIVATION") and returns a typed, validated value or raises InvalidInput
naming the field. Fields only one map has are decoded in that map's module.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any, TypeVar

from psbtbridge.bip32 import KeyOrigin
from psbtbridge.compact import Readable, read_compact_size, read_exact, read_var_bytes
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.keyencoding import check_compressed_pubkey, check_pubkey, check_xonly_pubkey
from psbtbridge.psbt.fields import (
    Bip32Derivation,
    FieldRule,
    MuSig2Participants,
    TapBip32Derivation,
)
from psbtbridge.psbt.keymap import Entry

T = TypeVar("T")


def check_field_rules(entry: Entry, rule: FieldRule[Any], place: str, version: int) -> str:
    """The rules every known field shares (BIP370 version exclusion, BIP174 empty key
    data); returns where the field is, for its decoder's messages."""
    where = f"{place}: {rule.bip_name}"
    if rule.v2_only and version == 0:
        raise InvalidInput(Code.PSBT_V2_FIELD_IN_V0, f"{where}: a PSBTv2 field in a version 0 PSBT")
    if rule.no_key_data and entry.key_data:
        raise InvalidInput(
            Code.PSBT_UNEXPECTED_KEY_DATA,
            f"{where}: key must be the type alone, found {len(entry.key_data)} bytes of key data",
        )
    return where


def decode_value(untrusted_value: bytes, parse: Callable[[bytes], T], where: str) -> T:
    """Parse a whole value; whatever is wrong inside it is an error of the field at `where`."""
    try:
        return parse(untrusted_value)
    except InvalidInput as error:
        raise InvalidInput(Code.PSBT_BAD_VALUE, f"{where}: {error.message}") from error


def decode_exact(untrusted_value: bytes, read: Callable[[Readable], T], where: str) -> T:
    """Run a stream reader over a whole value; a short or overlong value is one error."""

    def whole(data: bytes) -> T:
        stream = io.BytesIO(data)
        value = read(stream)
        if stream.tell() != len(data):
            raise InvalidInput(
                Code.PSBT_BAD_VALUE, f"{len(data) - stream.tell()} bytes after the end of the value"
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
            Code.PSBT_BAD_VALUE_LENGTH,
            f"{where}: value is {len(untrusted_value)} bytes, expected {size}",
        )
    return untrusted_value


def expect_key_data_length(entry: Entry, sizes: tuple[int, ...], where: str) -> bytes:
    if len(entry.key_data) not in sizes:
        expected = " or ".join(str(s) for s in sizes)
        raise InvalidInput(
            Code.PSBT_BAD_KEY_DATA,
            f"{where}: key data is {len(entry.key_data)} bytes, expected {expected}",
        )
    return entry.key_data


def decode_compact(untrusted_value: bytes, where: str) -> int:
    return decode_exact(untrusted_value, read_compact_size, where)


def decode_key_origin(untrusted_value: bytes, where: str) -> KeyOrigin:
    """BIP174: a 4-byte fingerprint then 32-bit little-endian path elements; length 4·k, k >= 1."""
    if len(untrusted_value) < 4 or len(untrusted_value) % 4:
        raise InvalidInput(
            Code.PSBT_BAD_KEY_ORIGIN,
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
        raise InvalidInput(Code.PSBT_BAD_KEY_ORIGIN, f"{where}: {error.message}") from error
    return hashes, decode_key_origin(untrusted_value[stream.tell() :], where)


def check_proprietary_key(untrusted_key_data: bytes, where: str) -> bytes:
    """BIP174 proprietary key data: a length-prefixed identifier, then a compact subtype."""
    stream = io.BytesIO(untrusted_key_data)
    try:
        read_var_bytes(stream, "proprietary identifier")
        read_compact_size(stream, "proprietary subtype")
    except InvalidInput as error:
        raise InvalidInput(Code.PSBT_BAD_PROPRIETARY_KEY, f"{where}: {error.message}") from error
    return untrusted_key_data


def decode_proprietary(entry: Entry, where: str) -> Entry:
    """PSBT_*_PROPRIETARY: the key's shape is checked; the entry stays raw, since only its
    issuer knows what it means."""
    check_proprietary_key(entry.key_data, where)
    return entry


def decode_bip32(entry: Entry, where: str) -> Bip32Derivation:
    """PSBT_IN/OUT_BIP32_DERIVATION: key data a SEC public key, the value its key origin."""
    return Bip32Derivation(
        check_pubkey(entry.key_data, where), decode_key_origin(entry.value, where)
    )


def decode_tap_bip32(entry: Entry, where: str) -> TapBip32Derivation:
    """PSBT_IN/OUT_TAP_BIP32_DERIVATION: key data an x-only key, the value leaves and origin."""
    hashes, origin = decode_tap_key_origin(entry.value, where)
    return TapBip32Derivation(check_xonly_pubkey(entry.key_data, where), hashes, origin)


def decode_musig2_participants(entry: Entry, where: str) -> MuSig2Participants:
    """BIP373: a compressed aggregate key, and a list of compressed participant keys."""
    aggregate = check_compressed_pubkey(entry.key_data, f"{where} aggregate key")
    value = entry.value
    if len(value) % 33:
        raise InvalidInput(
            Code.PSBT_BAD_VALUE_LENGTH,
            f"{where}: value is {len(value)} bytes, not a multiple of 33",
        )
    participants = tuple(
        check_compressed_pubkey(value[i : i + 33], f"{where} participant {i // 33}")
        for i in range(0, len(value), 33)
    )
    return MuSig2Participants(aggregate, participants)
