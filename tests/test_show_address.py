"""psbtbridge/show_address.py: the ShowAddress request, digest and answer, both directions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.show_address import (
    MAX_REQUEST,
    Answer,
    check_address_text,
    encode_request,
    parse_answer,
    parse_request,
    request_digest,
)

ADDRESS = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"


def test_digest_is_the_start_of_sha256_of_the_text() -> None:
    assert request_digest(ADDRESS) == hashlib.sha256(ADDRESS.encode()).hexdigest()[:8]
    assert request_digest(ADDRESS.upper()) != request_digest(ADDRESS)  # the text as sent


def test_request_round_trip() -> None:
    assert parse_request(encode_request(ADDRESS)) == ADDRESS
    assert parse_request(ADDRESS.encode()) == ADDRESS  # the newline is optional


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"",
        b"\n",
        ADDRESS.encode() + b"\n\n",
        b" " + ADDRESS.encode(),
        ADDRESS.encode() + b"\r\n",
        b"bcrt1q\x00abc",
        "bcrt1q\u0661".encode(),
        b"a" * 91,
        b"1;rm -rf /",
    ],
)
def test_bad_requests(request_bytes: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(request_bytes)
    assert caught.value.code == "address.bad_address"


def test_oversized_request() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(b"a" * (MAX_REQUEST + 1))
    assert caught.value.code == "io.too_large"


@given(st.binary(max_size=200))
def test_any_request_bytes_parse_or_raise_invalid_input(data: bytes) -> None:
    try:
        text = parse_request(data)
    except InvalidInput:
        return
    assert text.isascii() and text.isalnum() and 1 <= len(text) <= 90


def test_check_address_text() -> None:
    assert check_address_text(ADDRESS) == ADDRESS
    with pytest.raises(InvalidInput):
        check_address_text("--help")


@pytest.mark.parametrize(
    "answer",
    [
        Answer(False),
        Answer(True, "p2wpkh", "m/84h/1h/0h/0/5"),
        Answer(True, "vault.2-of-3_x", "m/48h/1h/0h/2h/1/999"),
    ],
)
def test_answer_round_trip(answer: Answer) -> None:
    assert parse_answer(answer.encode()) == answer


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"ours\n",
        b"not-ours",
        b"ours p2wpkh m/84h/1h/0h/0/5",  # no newline
        b"ours p2wpkh m/84h/1h/0h/0/5\nnot-ours\n",
        b"ours p2 wpkh m/84h/0/5\n",
        b"ours p2wpkh 84h/0/5\n",
        b"ours p2wpkh m/84'/0/5\n",
        b"ours -p2wpkh m/84h/0/5\n",
        b"ours p2wpkh m/084h/0/5\n",
        b"ours \x1b[31mp2wpkh m/84h/0/5\n",
        b"OURS p2wpkh m/84h/0/5\n",
    ],
)
def test_bad_answers(line: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_answer(line)
    assert caught.value.code == "address.bad_answer"
