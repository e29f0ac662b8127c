"""The sliver of CBOR (RFC 8949) UR needs: unsigned ints, byte strings, arrays and tags.

Anything else (negative ints, text, maps, floats, indefinite lengths) is refused: a UR
`crypto-psbt` never contains it, and every construct we do not parse is one we cannot
misparse. Lengths are bounded by the input, so a forged length cannot make us allocate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from psbtbridge.errors import Code, InvalidInput


class MajorType(IntEnum):
    UNSIGNED = 0
    BYTES = 2
    ARRAY = 4
    TAG = 6


@dataclass(frozen=True)
class Tagged:
    tag: int
    value: Item


Item: TypeAlias = int | bytes | tuple["Item", ...] | Tagged

_MAX_DEPTH = 8  # UR parts nest two deep; refuse stack-exhausting inputs early


def _head(major: MajorType, value: int) -> bytes:
    top = major << 5
    if value < 24:
        return bytes([top | value])
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes([top | info]) + value.to_bytes(width, "big")
    raise InvalidInput(Code.QR_CBOR, "CBOR: integer does not fit in 64 bits")


def encode(item: Item) -> bytes:
    """Serialize with the shortest heads (canonical, as every UR encoder does)."""
    if isinstance(item, bool):
        raise InvalidInput(Code.QR_CBOR, "CBOR: booleans are not supported")
    if isinstance(item, int):
        if item < 0:
            raise InvalidInput(Code.QR_CBOR, "CBOR: negative integers are not supported")
        return _head(MajorType.UNSIGNED, item)
    if isinstance(item, bytes):
        return _head(MajorType.BYTES, len(item)) + item
    if isinstance(item, tuple):
        return _head(MajorType.ARRAY, len(item)) + b"".join(encode(x) for x in item)
    return _head(MajorType.TAG, item.tag) + encode(item.value)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.pos:
            raise InvalidInput(Code.QR_CBOR, "CBOR: data ends early")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def head(self) -> tuple[int, int]:
        first = self.take(1)[0]
        major, info = first >> 5, first & 0x1F
        if info < 24:
            return major, info
        widths = {24: 1, 25: 2, 26: 4, 27: 8}
        if info not in widths:
            # 28-30 are reserved, 31 is an indefinite length: neither occurs in a UR
            raise InvalidInput(Code.QR_CBOR, "CBOR: indefinite or reserved length")
        # Non-shortest heads are accepted: some encoders write fixed-width checksums.
        return major, int.from_bytes(self.take(widths[info]), "big")

    def item(self, depth: int) -> Item:
        if depth > _MAX_DEPTH:
            raise InvalidInput(Code.QR_CBOR, "CBOR: nested too deeply")
        major, value = self.head()
        if major == MajorType.UNSIGNED:
            return value
        if major == MajorType.BYTES:
            return self.take(value)
        if major == MajorType.ARRAY:
            if value > len(self.data) - self.pos:  # every element takes at least one byte
                raise InvalidInput(Code.QR_CBOR, "CBOR: array longer than the data")
            return tuple(self.item(depth + 1) for _ in range(value))
        if major == MajorType.TAG:
            return Tagged(value, self.item(depth + 1))
        raise InvalidInput(Code.QR_CBOR, f"CBOR: major type {major} is not supported")


def decode(untrusted_data: bytes) -> Item:
    """Parse exactly one item; trailing bytes are refused."""
    reader = _Reader(untrusted_data)
    item = reader.item(0)
    if reader.pos != len(untrusted_data):
        raise InvalidInput(Code.QR_CBOR, "CBOR: trailing bytes after the item")
    return item
