"""Electrum's base43, checked against Electrum's own base_encode/base_decode (4.3.4 here; 4.5.8
with PSBTBRIDGE_TEST_ELECTRUM_ROOT or in the Debian 13 root), and its round trips."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr import base43
from psbtbridge.qr.capacity import ALPHANUMERIC
from tests.conftest import VECTORS
from tests.support.electrum_harness import electrum_qr

DATA = VECTORS / "bbqr" / "test_data"
CASES = [
    (DATA / "1in2out.psbt").read_bytes(),
    (DATA / "1in20out.psbt").read_bytes(),
    (DATA / "nfc-result.txn").read_bytes(),
    b"\x01",
    b"\xff" * 40,
    b"\x00\x00\x07psbt",  # leading zero bytes are leading '0's
    random.Random(43).randbytes(1000),
]


def test_the_alphabet_is_qr_alphanumeric() -> None:
    assert len(base43.ALPHABET) == len(set(base43.ALPHABET)) == 43
    assert set(base43.ALPHABET) <= ALPHANUMERIC


def test_electrum_reads_ours_and_we_read_electrums() -> None:
    ours = [base43.encode(data) for data in CASES]
    assert electrum_qr("encode", *(data.hex() for data in CASES)) == ours
    assert electrum_qr("decode", *ours) == [data.hex() for data in CASES]
    assert [base43.decode(text) for text in ours] == CASES


def test_leading_zeros_and_empty() -> None:
    assert base43.encode(b"\x00\x00") == "00"
    assert base43.decode("00") == b"\x00\x00"
    assert base43.encode(b"\x00\x01") == "01"
    assert base43.encode(b"") == ""
    with pytest.raises(InvalidInput) as caught:
        base43.decode("")
    assert caught.value.code == "qr.base43"


@pytest.mark.parametrize("text", ["abc", "AB C", "AB%C", "AB\nC", "ÀB", "B$5x"])
def test_characters_outside_the_alphabet_are_refused(text: str) -> None:
    assert not base43.is_base43(text)
    with pytest.raises(InvalidInput) as caught:
        base43.decode(text)
    assert caught.value.code == "qr.base43"


@given(st.binary(min_size=1, max_size=300))
def test_bytes_round_trip(data: bytes) -> None:
    assert base43.decode(base43.encode(data)) == data


@given(st.text(alphabet=base43.ALPHABET, min_size=1, max_size=300))
def test_every_text_has_one_spelling(text: str) -> None:
    assert base43.encode(base43.decode(text)) == text
