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


def test_whitespace_inside_text_is_ignored() -> None:
    """`base64` wraps at 76 columns; pastes break lines anywhere, with CRLF or spaces."""
    raw = b"psbt\xff" + bytes(range(256)) * 2
    wrapped = base64.encodebytes(raw)  # 76-column lines, as the `base64` tool writes them
    assert b"\n" in wrapped.strip()
    assert decode(wrapped) == (raw, Encoding.BASE64)
    assert decode(wrapped.replace(b"\n", b"\r\n  ")) == (raw, Encoding.BASE64)
    spaced = b"\n".join(raw.hex().encode()[i : i + 64] for i in range(0, len(raw) * 2, 64))
    assert decode(b" " + spaced.replace(b"\n", b" \t\n") + b"\n") == (raw, Encoding.HEX)


def test_a_cut_off_base64_paste_says_how_much_is_missing() -> None:
    text = base64.b64encode(RAW)[:-3]
    with pytest.raises(InvalidInput) as info:
        decode(text)
    assert info.value.code == "encoding.truncated"
    assert "3 characters missing" in info.value.message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "encoding.empty"),
        (b" \n\t", "encoding.empty"),
        (b"hello", "encoding.unknown"),
        (b"cHNidP8B!!", "encoding.unknown"),
        (b"cHNidP8BAA", "encoding.truncated"),  # not a multiple of 4
        (b"70736274ff0", "encoding.truncated"),  # odd hex
        (b"70736274ff zz", "encoding.unknown"),
        (b"PSBT\xff", "encoding.unknown"),
    ],
)
def test_garbage_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        decode(data)
    assert info.value.code == code
