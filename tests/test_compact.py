"""compact.py: exact reads, canonical compact sizes, trailing bytes."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.compact import (
    MAX_ITEM_SIZE,
    compact_size,
    read_compact_size,
    read_exact,
    read_var_bytes,
    var_bytes,
)
from psbtbridge.errors import InvalidInput
from psbtbridge.tx import TxOut


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (0xFC, "fc"),
        (0xFD, "fdfd00"),
        (0xFFFF, "fdffff"),
        (0x10000, "fe00000100"),
        (0xFFFFFFFF, "feffffffff"),
        (0x100000000, "ff0000000001000000"),
    ],
)
def test_compact_size_boundaries(value: int, encoded: str) -> None:
    assert compact_size(value).hex() == encoded
    assert read_compact_size(io.BytesIO(bytes.fromhex(encoded))) == value


@pytest.mark.parametrize("encoded", ["fdfc00", "feffff0000", "ffffffffff00000000"])
def test_non_canonical_compact_size_is_refused(encoded: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_compact_size(io.BytesIO(bytes.fromhex(encoded)))
    assert info.value.code == "wire.noncanonical_size"


def test_short_read_is_an_error_not_a_smaller_number() -> None:
    with pytest.raises(InvalidInput) as info:
        read_exact(io.BytesIO(b"\x01\x02"), 4)
    assert info.value.code == "wire.truncated"
    with pytest.raises(InvalidInput):
        read_compact_size(io.BytesIO(b"\xfe\x01\x00"))


def test_length_over_cap_is_refused_before_reading() -> None:
    with pytest.raises(InvalidInput) as info:
        read_var_bytes(io.BytesIO(compact_size(MAX_ITEM_SIZE + 1)))
    assert info.value.code == "wire.too_long"


def test_parse_refuses_trailing_bytes() -> None:
    data = TxOut(1, b"\x51").serialize()
    assert TxOut.parse(data) == TxOut(1, b"\x51")
    with pytest.raises(InvalidInput) as info:
        TxOut.parse(data + b"\x00")
    assert info.value.code == "wire.trailing_bytes"


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_compact_size_round_trip(value: int) -> None:
    assert read_compact_size(io.BytesIO(compact_size(value))) == value


@given(st.binary(max_size=300))
def test_var_bytes_round_trip(data: bytes) -> None:
    assert read_var_bytes(io.BytesIO(var_bytes(data))) == data
