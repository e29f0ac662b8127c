"""Exact reads, canonical compact sizes and length-prefixed byte strings: every wire read goes here."""

from __future__ import annotations

from typing import Protocol

from psbtbridge.errors import Code, InvalidInput

#: No single length-prefixed item may claim more than this (the default PSBT size cap).
MAX_ITEM_SIZE = 16 * 1024 * 1024


class Readable(Protocol):
    """A binary stream we only ever call read(n) on."""

    def read(self, n: int, /) -> bytes: ...


def read_exact(stream: Readable, n: int, what: str = "data") -> bytes:
    """Read exactly n bytes or raise: a short read must never become a smaller number."""
    if n > MAX_ITEM_SIZE:
        raise InvalidInput(
            Code.WIRE_TOO_LONG, f"{what}: length {n} is over the {MAX_ITEM_SIZE}-byte cap"
        )
    data = stream.read(n)
    if len(data) != n:
        raise InvalidInput(
            Code.WIRE_TRUNCATED,
            f"{what}: input ends early; looks truncated: at least {n - len(data)} bytes missing",
        )
    return data


def read_compact_size(stream: Readable, what: str = "compact size") -> int:
    """Read a CompactSize, refusing non-canonical (longer than needed) encodings."""
    head = stream.read(1)  # not read_exact: this is the hottest read of every parse
    if not head:
        raise InvalidInput(
            Code.WIRE_TRUNCATED,
            f"{what}: input ends early; looks truncated: at least 1 byte missing",
        )
    first = head[0]
    return first if first < 0xFD else finish_compact_size(first, stream, what)


#: First byte of a wide CompactSize: how many bytes follow, and the least value that needs them.
_WIDE = {0xFD: (2, 0xFD), 0xFE: (4, 0x10000), 0xFF: (8, 0x100000000)}


def finish_compact_size(first: int, stream: Readable, what: str = "compact size") -> int:
    """The rest of a CompactSize whose first byte was already read (with the bytes before it)."""
    if first < 0xFD:
        return first
    width, minimum = _WIDE[first]
    return _canonical(int.from_bytes(read_exact(stream, width, what), "little"), minimum, what)


def compact_size_at(data: bytes, at: int, what: str = "compact size") -> tuple[int, int]:
    """The CompactSize starting at data[at], and the offset just after it: for readers that
    walk a whole byte string by offset instead of a stream."""
    if at >= len(data):
        raise InvalidInput(
            Code.WIRE_TRUNCATED,
            f"{what}: input ends early; looks truncated: at least 1 byte missing",
        )
    first = data[at]
    if first < 0xFD:
        return first, at + 1
    width, minimum = _WIDE[first]
    end = at + 1 + width
    if end > len(data):
        raise InvalidInput(
            Code.WIRE_TRUNCATED,
            f"{what}: input ends early; looks truncated: at least {end - len(data)} bytes missing",
        )
    return _canonical(int.from_bytes(data[at + 1 : end], "little"), minimum, what), end


def _canonical(value: int, minimum: int, what: str) -> int:
    if value < minimum:
        raise InvalidInput(Code.WIRE_NONCANONICAL_SIZE, f"{what}: non-canonical compact size")
    return value


def compact_size(n: int) -> bytes:
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "little")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "little")
    return b"\xff" + n.to_bytes(8, "little")


def read_var_bytes(stream: Readable, what: str = "data") -> bytes:
    """A CompactSize length, then exactly that many bytes."""
    return read_exact(stream, read_compact_size(stream, what), what)


def var_bytes(data: bytes) -> bytes:
    return compact_size(len(data)) + data
