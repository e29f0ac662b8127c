"""UR's rateless fountain code (BCR-2024-001): a message as an endless stream of XOR-mixed parts.

Parts 1..seqLen carry one fragment each; later parts XOR a pseudo-random subset chosen from
(seqNum, checksum) with Xoshiro256**, so a scanner that missed frames completes from any
sufficiently large set of parts, in any order. The decoder distrusts every part: headers must
agree, duplicates must be identical, memory is capped, and the whole message must match its
CRC-32 (a consistency check, not authentication: the PSBT parser and digest come after).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import ceil
from typing import TypeVar

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.qr import cbor
from psbtbridge.qr.xoshiro import Xoshiro256

T = TypeVar("T")
_UINT32 = 1 << 32
_PART_FIELDS = 5
# What a hostile but consistent stream can make the decoder hold and do (a work step is about
# 0.1 microseconds). A PSBT shown from its first part needs almost nothing; one of 40 kB in
# 200-byte fragments joined mid-animation (mixed parts only) needs 16 million steps.
MAX_HELD_BYTES = 64 * 1024 * 1024  # mixed parts held, data plus their index sets
MAX_WORK_PER_PART = 4_000_000  # set elements touched while reducing by one part
MAX_WORK = 20_000_000  # the same over the whole stream
_INDEX_COST = 64  # bytes one index costs in a frozenset of Python ints
_CHOICE_WORK = 80  # work steps one fragment index costs to draw (Xoshiro256** in Python)


@dataclass(frozen=True)
class Part:
    """One fountain part: `[seqNum, seqLen, messageLen, checksum, data]` in CBOR."""

    seq_num: int
    seq_len: int
    message_len: int
    checksum: int
    data: bytes

    def to_cbor(self) -> bytes:
        return cbor.encode((self.seq_num, self.seq_len, self.message_len, self.checksum, self.data))

    @classmethod
    def from_cbor(cls, untrusted_data: bytes) -> Part:
        item = cbor.decode(untrusted_data)
        if not isinstance(item, tuple) or len(item) != _PART_FIELDS:
            raise InvalidInput(Code.QR_UR_PART, "UR part: not a 5-element CBOR array")
        seq_num, seq_len, message_len, checksum, data = item
        if not (
            isinstance(seq_num, int)
            and isinstance(seq_len, int)
            and isinstance(message_len, int)
            and isinstance(checksum, int)
            and isinstance(data, bytes)
        ):
            raise InvalidInput(Code.QR_UR_PART, "UR part: fields have the wrong CBOR types")
        if not (0 < seq_num < _UINT32 and 0 < seq_len < _UINT32 and checksum < _UINT32):
            raise InvalidInput(Code.QR_UR_PART, "UR part: sequence or checksum out of range")
        if message_len == 0 or not data:
            raise InvalidInput(Code.QR_UR_PART, "UR part: empty message or fragment")
        return cls(seq_num, seq_len, message_len, checksum, data)


def nominal_fragment_length(message_len: int, min_fragment_len: int, max_fragment_len: int) -> int:
    """The fragment length the reference encoder picks: fewest fragments within the maximum."""
    max_count = max(1, message_len // min_fragment_len)
    length = message_len
    for count in range(1, max_count + 1):
        length = ceil(message_len / count)
        if length <= max_fragment_len:
            break
    return length


def partition(message: bytes, fragment_len: int) -> list[bytes]:
    """Split into equal fragments, the last zero-padded."""
    padded = message + bytes(-len(message) % fragment_len)
    return [padded[i : i + fragment_len] for i in range(0, len(padded), fragment_len)]


def xor(left: bytes, right: bytes) -> bytes:
    size = len(left)
    return (int.from_bytes(left, "big") ^ int.from_bytes(right, "big")).to_bytes(size, "big")


class RandomSampler:
    """Walker/Vose alias sampling, with the reference's index order so draws match exactly."""

    def __init__(self, weights: Sequence[float]) -> None:
        count = len(weights)
        total = sum(weights)
        scaled = [w * count / total for w in weights]
        small: list[int] = []
        large: list[int] = []
        for i in range(count - 1, -1, -1):
            (small if scaled[i] < 1 else large).append(i)
        probs = [0.0] * count
        aliases = [0] * count
        while small and large:
            less, more = small.pop(), large.pop()
            probs[less] = scaled[less]
            aliases[less] = more
            scaled[more] += scaled[less] - 1
            (small if scaled[more] < 1 else large).append(more)
        for i in large + small:  # leftovers in small only arise from rounding
            probs[i] = 1.0
        self._probs = probs
        self._aliases = aliases

    def next(self, rng: Xoshiro256) -> int:
        r1 = rng.next_double()
        r2 = rng.next_double()
        i = min(int(len(self._probs) * r1), len(self._probs) - 1)
        return i if r2 < self._probs[i] else self._aliases[i]


@lru_cache(maxsize=8)
def _degree_sampler(seq_len: int) -> RandomSampler:
    return RandomSampler([1 / i for i in range(1, seq_len + 1)])


def choose_degree(seq_len: int, rng: Xoshiro256) -> int:
    """How many fragments a mixed part XORs: P(d) proportional to 1/d (ideal soliton-like)."""
    return _degree_sampler(seq_len).next(rng) + 1


def shuffled(items: Sequence[T], rng: Xoshiro256, count: int | None = None) -> list[T]:
    """The reference Fisher-Yates variant; `count` stops after that many picks (same prefix)."""
    remaining = list(items)
    picks = len(remaining) if count is None else count
    result: list[T] = []
    for _ in range(picks):
        result.append(remaining.pop(rng.next_int(0, len(remaining) - 1)))
    return result


def choose_fragments(seq_num: int, seq_len: int, checksum: int) -> frozenset[int]:
    """Which fragment indexes part seq_num XORs together (encoder and decoder agree on it)."""
    if seq_num <= seq_len:
        return frozenset((seq_num - 1,))
    rng = Xoshiro256(seq_num.to_bytes(4, "big") + checksum.to_bytes(4, "big"))
    degree = choose_degree(seq_len, rng)
    return frozenset(shuffled(range(seq_len), rng, degree))


class FountainEncoder:
    """Produces parts 1, 2, ... forever: the first seqLen plain, the rest mixed."""

    def __init__(
        self,
        message: bytes,
        max_fragment_len: int,
        min_fragment_len: int = 10,
        first_seq_num: int = 0,
    ) -> None:
        self.message_len = len(message)
        self.checksum = zlib.crc32(message)
        self.fragment_len = nominal_fragment_length(
            len(message), min_fragment_len, max_fragment_len
        )
        self._fragments = partition(message, self.fragment_len)
        self.seq_num = first_seq_num

    @property
    def seq_len(self) -> int:
        return len(self._fragments)

    def next_part(self) -> Part:
        self.seq_num = self.seq_num % (_UINT32 - 1) + 1  # seqNum is a uint32 that never is 0
        data = bytes(self.fragment_len)
        for index in choose_fragments(self.seq_num, self.seq_len, self.checksum):
            data = xor(data, self._fragments[index])
        return Part(self.seq_num, self.seq_len, self.message_len, self.checksum, data)


class FountainDecoder:
    """Collects parts in any order and solves for the fragments; `message` is set when done."""

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self._max_message_len = max_message_len
        self._max_seq_len = max_seq_len
        self._header: tuple[int, int, int, int] | None = None  # seqLen, messageLen, crc, fraglen
        self._seen: dict[int, bytes] = {}  # seqNum -> digest of its data, to spot conflicts
        self._simple: dict[int, bytes] = {}
        self._mixed: dict[frozenset[int], bytes] = {}
        self._held = 0  # estimated bytes in _mixed
        self._work = 0  # steps spent reducing, whole stream
        self.message: bytes | None = None

    @property
    def progress(self) -> tuple[int, int]:
        """(fragments recovered, fragments needed); (0, 0) before the first part."""
        return len(self._simple), self._header[0] if self._header else 0

    def _check_header(self, part: Part) -> None:
        header = (part.seq_len, part.message_len, part.checksum, len(part.data))
        if self._header is None:
            if part.message_len > self._max_message_len:
                raise InvalidInput(
                    Code.QR_TOO_LARGE,
                    f"UR: message of {part.message_len} bytes is over the"
                    f" {self._max_message_len}-byte cap",
                )
            if part.seq_len > self._max_seq_len:
                raise InvalidInput(
                    Code.QR_TOO_MANY_PARTS,
                    f"UR: {part.seq_len} fragments is over the {self._max_seq_len}-part cap",
                )
            if ceil(part.message_len / len(part.data)) != part.seq_len:
                raise InvalidInput(
                    Code.QR_UR_INCONSISTENT,
                    f"UR part {part.seq_num}: {part.seq_len} fragments of {len(part.data)}"
                    f" bytes cannot hold {part.message_len} bytes",
                )
            self._header = header
        elif header != self._header:
            raise InvalidInput(
                Code.QR_UR_INCONSISTENT,
                f"UR part {part.seq_num}: length, size or checksum differs from earlier parts"
                " (frames of two different messages?)",
            )

    def receive(self, part: Part) -> bool:
        """Take one part; True if it was new. Raises InvalidInput if parts disagree."""
        if self.message is not None:
            return False
        self._check_header(part)
        digest = hashlib.blake2b(part.data, digest_size=16).digest()
        earlier = self._seen.setdefault(part.seq_num, digest)
        if earlier != digest:
            raise InvalidInput(
                Code.QR_CONFLICT, f"UR part {part.seq_num} seen twice with different data"
            )
        if earlier is not digest:
            return False
        indexes = choose_fragments(part.seq_num, part.seq_len, part.checksum)
        self._spend(_CHOICE_WORK * len(indexes), [MAX_WORK_PER_PART])
        self._solve(indexes, part.data)
        if len(self._simple) == part.seq_len:
            self._assemble(part)
        return True

    def _spend(self, steps: int, budget: list[int]) -> None:
        """Count reduction work; a stream that needs more than any PSBT would is refused."""
        budget[0] -= steps
        self._work += steps
        if budget[0] < 0 or self._work > MAX_WORK:
            raise InvalidInput(
                Code.QR_UR_TOO_COMPLEX,
                "UR: the parts mix so many fragments that decoding them would take too long"
                " (more work than any PSBT stream needs); scan the sender's frames again",
            )

    def _hold(self, indexes: frozenset[int], data: bytes) -> None:
        self._held += len(data) + _INDEX_COST * len(indexes)
        if self._held > MAX_HELD_BYTES:
            raise InvalidInput(
                Code.QR_UR_TOO_COMPLEX,
                f"UR: the unsolved mixed parts would take over {MAX_HELD_BYTES} bytes",
            )
        self._mixed[indexes] = data

    def _release(self, indexes: frozenset[int]) -> bytes:
        data = self._mixed.pop(indexes)
        self._held -= len(data) + _INDEX_COST * len(indexes)
        return data

    def _solve(self, indexes: frozenset[int], data: bytes) -> None:
        # Peeling decoder: reduce every part by what is known until only unknowns remain.
        # Every step below is paid for: a set operation by the size of its sets, a subset
        # test by the smaller set, so one part costs at most MAX_WORK_PER_PART.
        budget = [MAX_WORK_PER_PART]
        queue = [(indexes, data)]
        while queue:
            indexes, data = queue.pop()
            self._spend(len(indexes) + len(data) // 64, budget)
            for index in indexes & self._simple.keys():
                indexes -= {index}
                data = xor(data, self._simple[index])
                self._spend(len(indexes) + len(data) // 64, budget)
            self._spend(len(self._mixed), budget)
            for known, known_data in self._mixed.items():
                if len(known) < len(indexes):
                    self._spend(len(known), budget)
                    if known < indexes:
                        indexes -= known
                        data = xor(data, known_data)
                        self._spend(len(indexes) + len(data) // 64, budget)
            if not indexes:
                if any(data):
                    raise InvalidInput(Code.QR_CONFLICT, "UR: parts contradict each other")
            elif len(indexes) == 1:
                (index,) = indexes
                self._simple[index] = data
                self._spend(len(self._mixed), budget)
                for known in [k for k in self._mixed if index in k]:
                    queue.append((known, self._release(known)))
            elif indexes not in self._mixed:
                self._spend(len(self._mixed), budget)
                for known in [k for k in self._mixed if len(indexes) < len(k)]:
                    self._spend(len(indexes), budget)
                    if indexes < known:
                        queue.append((known - indexes, xor(self._release(known), data)))
                self._hold(indexes, data)

    def _assemble(self, part: Part) -> None:
        message = b"".join(self._simple[i] for i in range(part.seq_len))[: part.message_len]
        if zlib.crc32(message) != part.checksum:
            raise InvalidInput(Code.QR_MESSAGE_CHECKSUM, "UR: reassembled message fails its CRC-32")
        self.message = message
