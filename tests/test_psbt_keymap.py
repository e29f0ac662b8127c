"""psbt/keymap.py: the one map reader: separator, duplicate keys, CompactSize key types, raw round trip."""

from __future__ import annotations

import io

import pytest

from psbtbridge.compact import var_bytes
from psbtbridge.errors import InvalidInput
from psbtbridge.psbt.keymap import Entry, read_map, serialize_map, set_entry, split_key


def _read(data: bytes) -> tuple[Entry, ...]:
    stream = io.BytesIO(data)
    entries = read_map(stream, "input 0")
    assert stream.tell() == len(data)
    return entries


def test_entries_keep_wire_order_and_round_trip() -> None:
    data = (
        var_bytes(b"\x05") + var_bytes(b"script")
        + var_bytes(b"\x02" + b"k" * 33) + var_bytes(b"sig")
        + var_bytes(b"\x01") + var_bytes(b"")
        + b"\x00"
    )  # fmt: skip
    entries = _read(data)
    assert [e.key_type for e in entries] == [5, 2, 1]
    assert entries[1].key_data == b"k" * 33 and entries[2].value == b""
    assert serialize_map(entries) == data


def test_empty_map() -> None:
    assert _read(b"\x00") == ()


def test_duplicate_keys_compare_all_key_bytes() -> None:
    same_type_other_data = var_bytes(b"\x02a") + b"\x00" + var_bytes(b"\x02b") + b"\x00" + b"\x00"
    assert len(_read(same_type_other_data)) == 2
    duplicate = var_bytes(b"\x02a") + b"\x01x" + var_bytes(b"\x02a") + b"\x01y" + b"\x00"
    with pytest.raises(InvalidInput) as raised:
        _read(duplicate)
    assert raised.value.code == "psbt.duplicate_key"
    assert "input 0" in raised.value.message


def test_missing_separator_is_truncation() -> None:
    with pytest.raises(InvalidInput) as raised:
        _read(var_bytes(b"\x05") + var_bytes(b"script"))
    assert raised.value.code == "wire.truncated"


def test_multi_byte_key_types() -> None:
    key = b"\xfd\x34\x12" + b"data"
    assert split_key(key, "global map") == (0x1234, b"data")
    entry = _read(var_bytes(key) + var_bytes(b"v") + b"\x00")[0]
    assert entry.key == key


@pytest.mark.parametrize("key", [b"\xfd\x01", b"\xfd\xfc\x00", b"\xfe\x01\x00\x00\x00"])
def test_bad_key_types(key: bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        split_key(key, "global map")
    assert raised.value.code == "psbt.bad_key_type"


def test_non_canonical_lengths_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        _read(b"\xfd\x01\x00" + b"\x05" + b"\x00" + b"\x00")
    assert raised.value.code == "wire.noncanonical_size"


def test_set_entry_replaces_in_place_or_appends() -> None:
    entries = (Entry(2, b"a", b"1"), Entry(2, b"b", b"2"))
    assert set_entry(entries, Entry(2, b"a", b"x")) == (Entry(2, b"a", b"x"), entries[1])
    assert set_entry(entries, Entry(3, b"a", b"x")) == (*entries, Entry(3, b"a", b"x"))
