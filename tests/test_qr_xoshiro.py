"""Xoshiro256** against the bc-ur / URKit vectors (ur/xoshiro256.json, ur/crc32.json)."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from psbtbridge.qr.xoshiro import Xoshiro256
from tests.conftest import load_vectors

XOSHIRO = load_vectors("ur/xoshiro256.json")
CRC = load_vectors("ur/crc32.json")


def test_mod100_seeded_from_string() -> None:
    case = XOSHIRO["rng_mod100_seed_string_Wolf"]
    rng = Xoshiro256.from_string(case["seed_string"])
    assert [rng.next() % 100 for _ in range(case["count"])] == case["expected"]


def test_mod100_seeded_from_crc32() -> None:
    case = XOSHIRO["rng_mod100_seed_crc32_of_Wolf"]
    checksum = zlib.crc32(case["seed_crc32_of_utf8"].encode())
    assert checksum.to_bytes(4, "big").hex() == case["seed_crc32_hex"]
    rng = Xoshiro256.from_crc32(checksum)
    assert [rng.next() % 100 for _ in range(case["count"])] == case["expected"]


def test_next_int() -> None:
    case = XOSHIRO["rng_next_int_1_10_seed_string_Wolf"]
    rng = Xoshiro256.from_string(case["seed_string"])
    assert [rng.next_int(1, 10) for _ in range(case["count"])] == case["expected"]


def test_next_data() -> None:
    case = XOSHIRO["next_data"]
    rng = Xoshiro256.from_string(case["seed_string"])
    first, second = rng.next_data(10), rng.next_data(10)
    assert first.hex() == case["first_10_bytes_hex"]
    assert second.hex() == case["next_10_bytes_hex"]
    xored = bytes(a ^ b for a, b in zip(first, second, strict=True))
    assert xored.hex() == case["xor_of_the_two_hex"]


def test_make_message() -> None:
    expected = XOSHIRO["make_message"]["make_message_1024_hex"]
    assert Xoshiro256.from_string("Wolf").next_data(1024).hex() == expected


@pytest.mark.parametrize("case", CRC["cases"], ids=lambda c: c["crc32_hex"])
def test_crc32_is_zlib_crc32(case: dict[str, str]) -> None:
    data = case["input_utf8"].encode() if "input_utf8" in case else bytes.fromhex(case["input_hex"])
    assert zlib.crc32(data).to_bytes(4, "big").hex() == case["crc32_hex"]


def test_sha256_seed_digest() -> None:
    case = CRC["sha256"]
    assert hashlib.sha256(case["input_utf8"].encode()).hexdigest() == case["digest_hex"]
