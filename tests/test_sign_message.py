"""psbtbridge/sign_message.py: the SignMessage request, digest and answer, both directions."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import BridgeError, InvalidInput
from psbtbridge.message import MAX_MESSAGE_SIZE, MessageFormat
from psbtbridge.sign_message import (
    MAX_HEADER,
    MAX_REQUEST,
    Request,
    encode_answer,
    encode_request,
    parse_answer,
    parse_request,
    request_digest,
)

ADDRESS = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"


def test_digest_is_of_the_message_bytes_alone() -> None:
    message = "Grüße\n".encode()
    assert request_digest(message) == hashlib.sha256(message).hexdigest()[:8]
    framed = encode_request(ADDRESS, message, MessageFormat.BIP322)
    assert framed == f"address {ADDRESS} bip322\n".encode() + message
    assert request_digest(parse_request(framed).untrusted_message) == request_digest(message)


def test_the_longest_header_fits_and_the_cap_holds_it_and_a_whole_message() -> None:
    longest = encode_request("a" * 90, b"", MessageFormat.ELECTRUM)
    assert len(longest) == MAX_HEADER
    assert MAX_REQUEST == MAX_HEADER + MAX_MESSAGE_SIZE


@given(
    address=st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=90
    ),
    message=st.binary(max_size=300),
    chosen=st.sampled_from([None, *MessageFormat]),
)
def test_request_round_trips(address: str, message: bytes, chosen: MessageFormat | None) -> None:
    assert parse_request(encode_request(address, message, chosen)) == Request(
        address, chosen, message
    )


@pytest.mark.parametrize(
    ("case", "framed", "code"),
    [
        ("no header", b"hello", "message.bad_request"),
        ("empty", b"", "message.bad_request"),
        ("another keyword", f"addr {ADDRESS}\nhi".encode(), "message.bad_request"),
        ("unknown format", f"address {ADDRESS} bip137\nhi".encode(), "message.bad_request"),
        ("format in capitals", f"address {ADDRESS} BIP322\nhi".encode(), "message.bad_request"),
        ("two spaces", f"address  {ADDRESS}\nhi".encode(), "message.bad_request"),
        ("trailing space", f"address {ADDRESS} \nhi".encode(), "message.bad_request"),
        ("carriage return", f"address {ADDRESS}\r\nhi".encode(), "address.bad_address"),
        ("address too long", b"address " + b"a" * 91 + b"\nhi", "message.bad_request"),
        ("header line too long", b"address " + b"a" * 200 + b"\n", "message.bad_request"),
        ("not an address", b"address b@d\nhi", "address.bad_address"),
        ("not ASCII", "address bcrt1qü\nhi".encode(), "address.bad_address"),
        ("an escape", b"address \x1b[2J\nhi", "address.bad_address"),
    ],
)
def test_malformed_requests_are_invalid(case: str, framed: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(framed)
    assert caught.value.code == code, case


@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_invalid_input(data: bytes) -> None:
    try:
        parse_request(data)
    except BridgeError as error:
        assert isinstance(error, InvalidInput)


def test_the_message_keeps_every_byte_after_the_header() -> None:
    message = b"\nline\r\n\x00\xff address x\n"
    assert parse_request(encode_request(ADDRESS, message, None)).untrusted_message == message


@pytest.mark.parametrize(
    "signature",
    [
        "H8xMj5kEXnGmODuOSqSdOV0YHGdqPMnfvZ89NAMxyLW/Y7fzGnMJjnV7wYt+hHkIAdR9JEm5rExTC+2Jh1e55Hs=",
        "smpAkcwRAIgM2gBAQqvZX15ZiysmKmQpDrG83avLIT492QBzLnQIxYCIBaTpOaD20qRlEylyxFSeEA2ba9YOixpX8z46TSDtS40ASECx/EgAxlkQpQ9hYjgGu6EBCPMVPwVIVJqO4XCsMvViHI=",
    ],
)
def test_answer_round_trips(signature: str) -> None:
    assert parse_answer(encode_answer(signature)) == signature


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"AAAA",  # no newline
        b"AAAA\n\n",
        b"AAAA\nAAAA\n",
        b"AA AA\n",
        b"psbtbridge: refused: nope [x.y]\n",
        b"\x1b[2JAAAA\n",
        b"A" * 1100 + b"\n",
        "AAAü\n".encode(),
    ],
)
def test_anything_else_is_a_bad_answer(answer: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_answer(answer)
    assert caught.value.code == "message.bad_answer"
