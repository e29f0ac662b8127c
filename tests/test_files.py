"""files.py: reads are bounded, writes are atomic and never leave a half-written file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from psbtbridge.errors import BridgeError, Code, InvalidInput
from psbtbridge.files import (
    json_depth_within,
    load_json,
    read_bounded,
    read_input,
    read_stored,
    write_atomic,
    write_new,
)


class Endless:
    """A stream that never ends; counts what was handed out."""

    def __init__(self) -> None:
        self.given = 0

    def read(self, n: int) -> bytes:
        self.given += n
        return b"\x00" * n


def test_read_bounded_takes_at_most_cap_plus_one() -> None:
    stream = Endless()
    with pytest.raises(InvalidInput) as info:
        read_bounded(stream, 1000)
    assert info.value.code == "io.too_large"
    assert stream.given == 1001


def test_read_bounded_accepts_exactly_cap() -> None:
    assert read_bounded(io.BytesIO(b"x" * 10), 10) == b"x" * 10


def test_read_input_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BridgeError) as info:
        read_input(str(tmp_path / "nope"))
    assert info.value.code == "io.read_failed"


def test_write_atomic_replaces_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert os.listdir(target.parent) == ["file"]


def test_write_atomic_failure_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fails mid-write (here: fsync reports EIO) leaves the old file and no temp file."""
    target = tmp_path / "file"
    write_atomic(target, b"old")

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(BridgeError) as info:
        write_atomic(target, b"new")
    assert info.value.code == "io.write_failed"
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file"]


def test_write_new_creates_once_and_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "wallet"
    write_new(target, b"first")
    with pytest.raises(FileExistsError):
        write_new(target, b"second")
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["wallet"]


def test_read_stored_missing_oversized_and_unreadable(tmp_path: Path) -> None:
    assert read_stored(tmp_path / "absent", 10, Code.IO_READ_FAILED, Code.IO_TOO_LARGE) is None
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(BridgeError) as oversized:
        read_stored(big, 10, Code.IO_READ_FAILED, Code.IO_TOO_LARGE)
    assert oversized.value.code is Code.IO_TOO_LARGE
    assert big.read_bytes() == b"x" * 11
    with pytest.raises(BridgeError) as folder:
        read_stored(tmp_path, 10, Code.IO_READ_FAILED, Code.IO_TOO_LARGE)  # a folder: EISDIR
    assert folder.value.code is Code.IO_READ_FAILED


def _broken(why: str) -> InvalidInput:
    return InvalidInput(Code.WALLET_REGISTRY_CORRUPT, why)


@pytest.mark.parametrize(
    ("data", "depth", "within"),
    [
        (b"[[[]]]", 3, True),
        (b"[[[]]]", 2, False),
        (b'{"a": [1, {"b": "[[[[{{{{"}]}', 3, True),  # brackets in strings do not nest
        (b'["\\"[[[[", 1]', 1, True),  # nor after an escaped quote
        (b"[" * 100_000, 32, False),  # unbalanced: still refused here
        (b"[]" * 100_000, 1, True),
    ],
)
def test_json_depth_within(data: bytes, depth: int, within: bool) -> None:
    assert json_depth_within(data, depth) is within


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),  # RecursionError in json otherwise
        (b"[" + b"9" * 5000 + b"]", "not valid JSON"),  # past Python's 4,300-digit limit
        (b'{"a": "\xff"}', "not utf-8"),
        (b'{"a": 1', "not valid JSON"),
        (b"1" * 101, "larger than 100 bytes"),
    ],
)
def test_load_json_ends_in_the_callers_error(data: bytes, why: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_json(data, _broken, cap=100 if len(data) == 101 else 1 << 20)
    assert caught.value.code is Code.WALLET_REGISTRY_CORRUPT and why in str(caught.value)


def test_load_json_reads_ordinary_documents_with_hooks() -> None:
    assert load_json(b'{"a": [1, "x"]}', _broken, cap=100) == {"a": [1, "x"]}
    pairs = load_json(b'{"a": 1}', _broken, cap=100, object_pairs_hook=list)
    assert pairs == [("a", 1)]
