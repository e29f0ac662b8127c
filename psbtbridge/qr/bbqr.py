"""BBQr (Coinkite's "Better Bitcoin QR"): a file split over alphanumeric QR codes with 8-char headers.

Header `B$` + encoding (H hex, 2 base32, Z raw-deflate then base32) + file type + total and
index in two base36 digits. Splitting follows the reference splitter exactly (smallest part
count, then smallest QR version), so H and 2 frames match other implementations byte for
byte; Z depends on the deflater and is checked by round trip. The joiner distrusts every
frame: headers must agree, duplicates must be identical, and inflation is capped *while*
inflating, so a deflate bomb costs at most the cap.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from enum import Enum
from math import ceil
from typing import Final

from psbtbridge.errors import Code, InvalidInput, UsageError
from psbtbridge.qr.capacity import MAX_VERSION, Ecc, alphanumeric_capacity

HEADER_LEN: Final = 8
MAX_PARTS: Final = 36 * 36 - 1  # two base36 digits
MAX_FRAME_LEN: Final = 4296  # the most alphanumeric characters one QR code (v40-L) holds
_DEFLATE_WBITS: Final = -10  # BBQr.md: raw deflate with a 1 KiB window, no header or trailer
_INFLATE_WBITS: Final = -15  # the largest raw window, so any stream with wbits <= 10 inflates
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BODY_RE = {"H": re.compile("[0-9A-F]*"), "2": re.compile("[A-Z2-7]*")}

#: BBQr.md's file types; the Key Teleport codes R/S/E exist only in Coinkite's code, not the spec.
FILE_TYPES: Final = {
    "P": "PSBT",
    "T": "signed transaction",
    "J": "JSON",
    "C": "CBOR",
    "U": "UTF-8 text",
    "B": "binary",
    "X": "executable",
}


class Encoding(Enum):
    HEX = "H"
    BASE32 = "2"
    ZLIB = "Z"

    @property
    def split_mod(self) -> int:
        """Non-final parts hold whole bytes: 2 hex digits, or 8 base32 chars per 5 bytes."""
        return 2 if self is Encoding.HEX else 8


@dataclass(frozen=True)
class Header:
    encoding: Encoding
    file_type: str
    total: int
    index: int


@dataclass(frozen=True)
class Split:
    """The frames of one file and the QR version they were sized for."""

    version: int
    parts: tuple[str, ...]
    encoding: Encoding


@dataclass(frozen=True)
class BBQrFile:
    file_type: str
    encoding: Encoding
    data: bytes


def base36(value: int) -> str:
    if not 0 <= value <= MAX_PARTS:
        raise UsageError(Code.QR_TOO_MANY_PARTS, f"BBQr holds at most {MAX_PARTS} parts")
    return _BASE36[value // 36] + _BASE36[value % 36]


def _encode(data: bytes, encoding: Encoding, level: int) -> tuple[str, Encoding]:
    if encoding is Encoding.HEX:
        return data.hex().upper(), encoding
    if encoding is Encoding.ZLIB:
        deflater = zlib.compressobj(level, zlib.DEFLATED, _DEFLATE_WBITS)
        compressed = deflater.compress(data) + deflater.flush()
        if len(compressed) < len(data):
            return base64.b32encode(compressed).decode("ascii").rstrip("="), encoding
        encoding = Encoding.BASE32  # BBQr.md: fall back when compression does not help
    return base64.b32encode(data).decode("ascii").rstrip("="), encoding


def _count_parts(length: int, version: int, split_mod: int) -> tuple[int, int]:
    """(parts needed, characters per part) at one QR version, as the reference computes it."""
    capacity = alphanumeric_capacity(version, Ecc.L) - HEADER_LEN
    per_part = capacity - capacity % split_mod
    count = ceil(length / per_part)
    if count == 1:
        return 1, length
    if (count - 1) * per_part + capacity < length:
        count += 1
    return count, per_part


def split(
    data: bytes,
    file_type: str,
    *,
    encoding: Encoding = Encoding.ZLIB,
    min_version: int = 5,
    max_version: int = MAX_VERSION,
    min_split: int = 1,
    max_split: int = MAX_PARTS,
    level: int = 9,
) -> Split:
    """Frames for data: fewest parts within the limits, then the smallest QR version."""
    if file_type not in FILE_TYPES:
        raise UsageError(Code.QR_BBQR_TYPE, f"BBQr file type {file_type!r} is not in the spec")
    text, encoding = _encode(data, encoding, level)
    best: tuple[int, int, int] | None = None  # parts, version, chars per part
    for version in range(min_version, max_version + 1):
        count, per_part = _count_parts(len(text), version, encoding.split_mod)
        if min_split <= count <= max_split and (best is None or count < best[0]):
            best = (count, version, per_part)
    if best is None:
        raise InvalidInput(
            Code.QR_TOO_LARGE,
            f"{len(data)} bytes do not fit {min_split}..{max_split} BBQr frames"
            f" of QR version {min_version}..{max_version}",
        )
    count, version, per_part = best
    head = f"B${encoding.value}{file_type}{base36(count)}"
    parts = tuple(head + base36(i) + text[i * per_part : (i + 1) * per_part] for i in range(count))
    return Split(version, parts, encoding)


def parse_header(untrusted_text: str) -> Header:
    """Read and check the 8-character header (any case)."""
    head = untrusted_text[:HEADER_LEN].upper()
    if len(head) < HEADER_LEN or not head.startswith("B$"):
        raise InvalidInput(
            Code.QR_BBQR_HEADER, "BBQr: frame does not start with an 8-char `B$` header"
        )
    try:
        encoding = Encoding(head[2])
    except ValueError as error:
        raise InvalidInput(Code.QR_BBQR_ENCODING, f"BBQr: unknown encoding {head[2]!r}") from error
    if head[3] not in FILE_TYPES:
        raise InvalidInput(Code.QR_BBQR_TYPE, f"BBQr: unknown file type {head[3]!r}")
    digits = head[4:8]
    if any(c not in _BASE36 for c in digits):
        raise InvalidInput(Code.QR_BBQR_HEADER, "BBQr: part numbers are not base36")
    total, index = int(digits[:2], 36), int(digits[2:], 36)
    if not 0 <= index < total:
        raise InvalidInput(Code.QR_BBQR_HEADER, f"BBQr: part {index} of {total} does not exist")
    return Header(encoding, head[3], total, index)


def inflate(untrusted_data: bytes, cap: int) -> bytes:
    """Raw-deflate decompression that stops at cap + 1 bytes: a bomb is refused, not inflated."""
    inflater = zlib.decompressobj(_INFLATE_WBITS)
    try:
        data = inflater.decompress(untrusted_data, cap + 1)
    except zlib.error as error:
        raise InvalidInput(Code.QR_DEFLATE, "BBQr: compressed data is corrupt") from error
    if len(data) > cap:
        raise InvalidInput(
            Code.QR_INFLATE_TOO_LARGE, f"BBQr: data inflates to more than the {cap}-byte cap"
        )
    if not inflater.eof or inflater.unused_data:
        raise InvalidInput(
            Code.QR_DEFLATE, "BBQr: compressed data is cut short or followed by junk"
        )
    return data


def _decode_body(text: str, encoding: Encoding, cap: int) -> bytes:
    try:
        if encoding is Encoding.HEX:
            if len(text) % 2:
                raise InvalidInput(Code.QR_BBQR_DATA, "BBQr: odd number of hex digits")
            return bytes.fromhex(text)
        if len(text) % 8 in (1, 3, 6):
            raise InvalidInput(Code.QR_BBQR_DATA, "BBQr: base32 length is impossible")
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, binascii.Error) as error:
        raise InvalidInput(Code.QR_BBQR_DATA, "BBQr: data is not valid hex or base32") from error
    return inflate(data, cap) if encoding is Encoding.ZLIB else data


class BBQrJoiner:
    """Feeds BBQr frames in any order; `result` is set once every part has arrived."""

    def __init__(self, max_len: int) -> None:
        self._max_len = max_len
        self._first: Header | None = None
        self._bodies: dict[int, str] = {}
        self.result: BBQrFile | None = None

    @property
    def progress(self) -> tuple[int, int]:
        return len(self._bodies), self._first.total if self._first else 0

    def receive(self, untrusted_text: str) -> bool:
        """Take one frame; True if it was a new part. Raises InvalidInput on any inconsistency."""
        text = untrusted_text.strip()
        if len(text) > MAX_FRAME_LEN:
            raise InvalidInput(Code.QR_BBQR_DATA, "BBQr: frame is longer than any QR code holds")
        header = parse_header(text)
        body = text[HEADER_LEN:].upper()
        alphabet = "H" if header.encoding is Encoding.HEX else "2"
        if not _BODY_RE[alphabet].fullmatch(body):
            raise InvalidInput(Code.QR_BBQR_DATA, f"BBQr part {header.index}: bad characters")
        first = self._first
        if first is None:
            self._first = header
        elif (header.encoding, header.file_type, header.total) != (
            first.encoding,
            first.file_type,
            first.total,
        ):
            raise InvalidInput(
                Code.QR_BBQR_INCONSISTENT,
                f"BBQr part {header.index}: encoding, type or count differs from earlier parts",
            )
        known = self._bodies.get(header.index)
        if known is not None:
            if known != body:
                raise InvalidInput(
                    Code.QR_CONFLICT, f"BBQr part {header.index} seen twice with different data"
                )
            return False
        if self.result is not None:
            return False
        self._bodies[header.index] = body
        if len(self._bodies) == header.total:
            self.result = self._join(header)
        return True

    def _join(self, header: Header) -> BBQrFile:
        mod = header.encoding.split_mod
        bodies = [self._bodies[i] for i in range(header.total)]
        if any(len(body) % mod for body in bodies[:-1]):
            raise InvalidInput(
                Code.QR_BBQR_DATA, "BBQr: a non-final part does not hold whole bytes"
            )
        text = "".join(bodies)
        if len(text) > 2 * self._max_len:  # hex is the widest encoding: 2 chars per byte
            raise InvalidInput(
                Code.QR_TOO_LARGE, f"BBQr: data is over the {self._max_len}-byte cap"
            )
        data = _decode_body(text, header.encoding, self._max_len)
        if len(data) > self._max_len:
            raise InvalidInput(
                Code.QR_TOO_LARGE, f"BBQr: data is over the {self._max_len}-byte cap"
            )
        return BBQrFile(header.file_type, header.encoding, data)
