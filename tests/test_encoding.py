"""encoding.py: binary, base64 and hex are recognised; anything else is a clear error."""

from __future__ import annotations

import base64

import pytest

from psbtbridge.encoding import Encoding, decode, encode
from psbtbridge.errors import InvalidInput

RAW = b"psbt\xff" + bytes(range(40))


@pytest.mark.parametrize("encoding", list(Encoding))
def test_round_trip(encoding: Encoding) -> None:
    assert decode(encode(RAW, encoding)) == (RAW, encoding)


def test_whitespace_around_text_is_ignored() -> None:
    assert decode(b"  " + base64.b64encode(RAW) + b"\r\n") == (RAW, Encoding.BASE64)
    assert decode(b"\n" + RAW.hex().upper().encode() + b"\n") == (RAW, Encoding.HEX)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "encoding.empty"),
        (b" \n\t", "encoding.empty"),
        (b"hello", "encoding.unknown"),
        (b"cHNidP8B!!", "encoding.unknown"),
        (b"cHNidP8BAA", "encoding.unknown"),  # not a multiple of 4
        (b"70736274ff0", "encoding.unknown"),  # odd hex
        (b"70736274ff zz", "encoding.unknown"),
        (b"PSBT\xff", "encoding.unknown"),
    ],
)
def test_garbage_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        decode(data)
    assert info.value.code == code
