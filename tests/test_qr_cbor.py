"""The minimal CBOR subset: UR part vectors, refusals, and round trips."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr import cbor
from tests.conftest import load_vectors

PART = load_vectors("ur/fountain.json")["part_cbor"]
PSBT = load_vectors("ur/psbt_ur.json")["bcr_2020_006_example"]


def test_fountain_part_vector() -> None:
    item = (PART["seqNum"], PART["seqLen"], PART["messageLen"], PART["checksum"])
    item += (bytes.fromhex(PART["data_hex"]),)
    assert cbor.encode(item).hex() == PART["cbor_hex"]
    assert cbor.decode(bytes.fromhex(PART["cbor_hex"])) == item


def test_psbt_byte_string_vector() -> None:
    psbt = bytes.fromhex(PSBT["psbt_hex"])
    assert cbor.encode(psbt).hex() == PSBT["cbor_hex"]
    assert cbor.decode(bytes.fromhex(PSBT["cbor_hex"])) == psbt


def test_tags() -> None:
    item = cbor.Tagged(310, b"\x01")
    assert cbor.encode(item).hex() == "d90136" + "4101"
    assert cbor.decode(bytes.fromhex("d90136" + "4101")) == item


def test_non_shortest_integer_accepted() -> None:
    assert cbor.decode(bytes.fromhex("1a00000005")) == 5


@pytest.mark.parametrize(
    "hex_data",
    [
        "",  # nothing
        "20",  # negative integer
        "60",  # text string
        "a0",  # map
        "f5",  # true
        "5f",  # indefinite byte string
        "1c",  # reserved additional info
        "45010203",  # byte string shorter than its length
        "9bffffffffffffffff",  # array claiming 2**64 - 1 elements
        "0000",  # trailing byte
        "81" * 20 + "00",  # nested too deeply
    ],
)
def test_refused(hex_data: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cbor.decode(bytes.fromhex(hex_data))
    assert caught.value.code == "qr.cbor"


def test_encode_refuses_negative() -> None:
    with pytest.raises(InvalidInput):
        cbor.encode(-1)


ITEMS = st.recursive(
    st.integers(min_value=0, max_value=2**64 - 1) | st.binary(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4).map(tuple)
        | st.builds(cbor.Tagged, st.integers(min_value=0, max_value=2**64 - 1), inner)
    ),
    max_leaves=10,
)


@given(ITEMS)
def test_round_trip(item: cbor.Item) -> None:
    assert cbor.decode(cbor.encode(item)) == item


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        cbor.decode(data)
