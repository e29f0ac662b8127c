"""The PSBT key-value map: the one reader and writer for global, input and output maps.

A map is a list of `<key-len><key><value-len><value>` entries ended by a zero byte. The
key starts with a CompactSize type; the rest is key data. Entries are kept raw and in
order, so writing a parsed map back gives the same bytes; typed views are built on top.
"""

from __future__ import annotations

import io
from typing import NamedTuple

from psbtbridge.compact import Readable, compact_size, read_compact_size, read_var_bytes, var_bytes
from psbtbridge.errors import Code, InvalidInput

SEPARATOR = b"\x00"


class Entry(NamedTuple):
    """One key-value pair as it was on the wire: type, key data (the key's rest) and value."""

    key_type: int
    key_data: bytes
    value: bytes

    @property
    def key(self) -> bytes:
        # Types are read canonically, so this is exactly the key bytes that were read.
        return compact_size(self.key_type) + self.key_data

    def serialize(self) -> bytes:
        return var_bytes(self.key) + var_bytes(self.value)


def split_key(untrusted_key: bytes, where: str) -> tuple[int, bytes]:
    """Split a non-empty key into its CompactSize type and its key data."""
    first = untrusted_key[0]
    if first < 0xFD:  # the common case, kept cheap: one byte of type
        return first, untrusted_key[1:]
    stream = io.BytesIO(untrusted_key)
    try:
        key_type = read_compact_size(stream, "key type")
    except InvalidInput as error:
        raise InvalidInput(Code.PSBT_BAD_KEY_TYPE, f"{where}: {error.message}") from error
    return key_type, untrusted_key[stream.tell() :]


def read_map(untrusted_stream: Readable, where: str) -> tuple[Entry, ...]:
    """Read entries up to the separator; refuse a key seen twice (compared on all its bytes)."""
    entries: list[Entry] = []
    seen: set[bytes] = set()
    while True:
        key = read_var_bytes(untrusted_stream, f"{where}: key")
        if not key:
            return tuple(entries)
        if key in seen:
            raise InvalidInput(
                Code.PSBT_DUPLICATE_KEY, f"{where}: key {_short_hex(key)} appears twice"
            )
        seen.add(key)
        key_type, key_data = split_key(key, where)
        entries.append(
            Entry(key_type, key_data, read_var_bytes(untrusted_stream, f"{where}: value"))
        )


def serialize_map(entries: tuple[Entry, ...]) -> bytes:
    return b"".join(entry.serialize() for entry in entries) + SEPARATOR


def set_entry(entries: tuple[Entry, ...], new: Entry) -> tuple[Entry, ...]:
    """The entries with `new` in place of the entry with its key, or appended at the end."""
    for position, entry in enumerate(entries):
        if entry.key_type == new.key_type and entry.key_data == new.key_data:
            return (*entries[:position], new, *entries[position + 1 :])
    return (*entries, new)


def _short_hex(data: bytes, limit: int = 16) -> str:
    """Untrusted bytes in a message: hex, truncated."""
    return data[:limit].hex() + ("..." if len(data) > limit else "")
