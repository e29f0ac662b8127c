"""Xoshiro256**: the deterministic generator UR's fountain code uses to pick fragments (BCR-2024-001).

Encoder and decoder must draw identical numbers from a seed both derive from the part
header, so this follows the reference bit for bit: seed = SHA-256 of the seed bytes read as
four big-endian 64-bit words.
"""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK


class Xoshiro256:
    """A Xoshiro256** stream; mutable by nature (each draw advances it)."""

    def __init__(self, seed: bytes) -> None:
        digest = hashlib.sha256(seed).digest()
        self._s = [int.from_bytes(digest[i : i + 8], "big") for i in range(0, 32, 8)]

    @classmethod
    def from_string(cls, seed: str) -> Xoshiro256:
        return cls(seed.encode("utf-8"))

    @classmethod
    def from_crc32(cls, checksum: int) -> Xoshiro256:
        return cls(checksum.to_bytes(4, "big"))

    def next(self) -> int:
        s0, s1, s2, s3 = self._s
        result = (_rotl((s1 * 5) & _MASK, 7) * 9) & _MASK
        t = (s1 << 17) & _MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self._s = [s0, s1, s2, s3]
        return result

    def next_double(self) -> float:
        # The reference converts to double first; dividing by 2**64 is exact, so this matches.
        return self.next() / 2**64

    def next_int(self, low: int, high: int) -> int:
        """Uniform-ish integer in [low, high]; clamped because next_double may round up to 1.0."""
        return min(int(self.next_double() * (high - low + 1)) + low, high)

    def next_byte(self) -> int:
        return self.next_int(0, 255)

    def next_data(self, count: int) -> bytes:
        return bytes(self.next_byte() for _ in range(count))
