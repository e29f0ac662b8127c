"""psbt/decode.py: the decoders the three maps share (fixed-width and compact values, key
origins, proprietary keys); per-map fields are in test_psbt_maps.py."""

from __future__ import annotations

import struct

import pytest

from psbtbridge.compact import compact_size, var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.psbt.decode import (
    check_proprietary_key,
    decode_compact,
    decode_fixed,
    decode_key_origin,
    decode_tap_key_origin,
)


def _code(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return raised.value.code


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


def test_proprietary_keys() -> None:
    assert check_proprietary_key(var_bytes(b"id") + b"\x01rest", "x")
    assert check_proprietary_key(b"\x00\x00", "x")  # empty identifier, subtype 0
    for bad in (b"", b"\x05id", b"\x02id"):
        assert _code(check_proprietary_key, bad, "x") == "psbt.bad_proprietary_key"
