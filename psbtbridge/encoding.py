"""The three ways a PSBT arrives as bytes (binary, base64, hex), detected and restored."""

from __future__ import annotations

import base64
import binascii
import re
from enum import Enum

from psbtbridge.errors import InvalidInput

PSBT_MAGIC = b"psbt\xff"
_BASE64_MAGIC = b"cHNidP"  # base64 of the magic's first 4 bytes and 2 bits of 0xff
_HEX_MAGIC = b"70736274ff"
_BASE64_RE = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
_HEX_RE = re.compile(rb"[0-9a-fA-F]+")


class Encoding(Enum):
    BINARY = "binary"
    BASE64 = "base64"
    HEX = "hex"


def decode(untrusted_data: bytes) -> tuple[bytes, Encoding]:
    """Return the raw PSBT bytes and how they were encoded; surrounding whitespace is ignored."""
    if untrusted_data.startswith(PSBT_MAGIC):
        return untrusted_data, Encoding.BINARY
    text = untrusted_data.strip()
    if not text:
        raise InvalidInput("encoding.empty", "input is empty")
    if text[:10].lower() == _HEX_MAGIC and _HEX_RE.fullmatch(text) and len(text) % 2 == 0:
        return bytes.fromhex(text.decode("ascii")), Encoding.HEX
    if text.startswith(_BASE64_MAGIC) and _BASE64_RE.fullmatch(text) and len(text) % 4 == 0:
        try:
            return base64.b64decode(text, validate=True), Encoding.BASE64
        except binascii.Error as error:
            raise InvalidInput("encoding.unknown", "input is not valid base64") from error
    raise InvalidInput(
        "encoding.unknown",
        "input is not a PSBT: neither binary (psbt\\xff), base64 (cHNidP...) nor hex",
    )


def encode(data: bytes, encoding: Encoding) -> bytes:
    """Encode PSBT bytes the way they came in; text encodings end with a newline."""
    if encoding is Encoding.BINARY:
        return data
    if encoding is Encoding.HEX:
        return data.hex().encode("ascii") + b"\n"
    return base64.b64encode(data) + b"\n"
