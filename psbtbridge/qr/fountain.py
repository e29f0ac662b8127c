"""UR's rateless fountain code (BCR-2024-001): a message as an endless stream of XOR-mixed parts.

Parts 1..seqLen carry one fragment each; later parts XOR a pseudo-random subset chosen from
(seqNum, checksum) with Xoshiro256**, so a scanner that missed frames completes from any
sufficiently large set of parts, in any order. The decoder distrusts every part: headers must
agree, duplicates must be identical, memory and work are bounded, and the whole message must
match its CRC-32 (a consistency check, not authentication: the PSBT parser and digest come
after).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Sequence
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
# What a hostile but consistent stream can make the decoder hold and do (see FountainDecoder).
MAX_HELD_BYTES = 64 * 1024 * 1024  # seqLen rows; the caps of a scan allow about 10 MiB
DEGREE_SLACK = 3  # parts may mix this many times the fragments a real encoder's do on average
DEGREE_ALLOWANCE = 8  # plus this many parts of every fragment, so early heavy parts pass
MAX_PARTS_FACTOR = 2  # a real encoder's parts determine the message within seqLen + a few
MAX_PARTS_EXTRA = 64
_INT_OVERHEAD = 32  # bytes a Python int and its dict entry cost beyond its digits


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


def _part_rng(seq_num: int, checksum: int) -> Xoshiro256:
    return Xoshiro256(seq_num.to_bytes(4, "big") + checksum.to_bytes(4, "big"))


def part_degree(seq_num: int, seq_len: int, checksum: int) -> int:
    """How many fragments part seq_num mixes: two draws, before paying for the fragments."""
    if seq_num <= seq_len:
        return 1
    return choose_degree(seq_len, _part_rng(seq_num, checksum))


def choose_fragments(seq_num: int, seq_len: int, checksum: int) -> frozenset[int]:
    """Which fragment indexes part seq_num XORs together (encoder and decoder agree on it)."""
    if seq_num <= seq_len:
        return frozenset((seq_num - 1,))
    rng = _part_rng(seq_num, checksum)
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


def expected_degree(seq_len: int) -> float:
    """The mean degree of a mixed part: sum of d * (1/d) / H(seqLen), i.e. seqLen / H(seqLen)."""
    return seq_len / sum(1 / d for d in range(1, seq_len + 1))


def _bits(value: int) -> Iterator[int]:
    """The positions of the set bits of a non-negative int, lowest first."""
    while value:
        low = value & -value
        yield low.bit_length() - 1
        value ^= low


class FountainDecoder:
    """Collects parts in any order and solves for the fragments; `message` is set when done.

    Each part is one linear equation over GF(2): the XOR of some fragments equals its data.
    The decoder keeps the equations it has in reduced row echelon form (Gauss-Jordan
    elimination), one row per pivot fragment, each row one int: the fragment set in the low
    seqLen bits and the XORed data above them (the augmented row [A | b]). A new part is
    reduced by the rows whose pivots it mixes, then, if anything is left, becomes a row and
    is eliminated from the rows that mix its pivot. Once there are seqLen rows each is a
    single fragment. Unlike peeling (the reference decoder's simple and mixed parts), this
    finishes as soon as the parts received determine the message, which matters to a
    scanner that starts mid-animation and sees only mixed parts.

    What a hostile but consistent stream can cost is bounded: at most seqLen rows are held
    (checked from the first header against MAX_HELD_BYTES), a part costs its degree (drawing
    its fragments, one row XOR per pivot it mixes) plus one pass over the unsolved rows, and
    the degrees of all parts must stay near UR's degree distribution (QR_UR_TOO_COMPLEX), as
    must the number of parts it takes (QR_TOO_MANY_FRAMES).
    """

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self._max_message_len = max_message_len
        self._max_seq_len = max_seq_len
        self._header: tuple[int, int, int, int] | None = None  # seqLen, messageLen, crc, fraglen
        self._seen: dict[int, bytes] = {}  # seqNum -> digest of its data, to spot conflicts
        self._rows: dict[int, int] = {}  # pivot fragment -> its augmented row
        self._pivots = 0  # the pivot fragments as a bitmask
        self._unsolved: set[int] = set()  # pivots whose rows still mix other fragments
        self._degrees = 0  # fragments drawn for all parts so far
        self.message: bytes | None = None

    @property
    def progress(self) -> tuple[int, int]:
        """(independent parts, fragments needed); (0, 0) before the first part.

        The first reaches the second exactly when the message is determined.
        """
        return len(self._rows), self._header[0] if self._header else 0

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
            # seqLen rows of seqLen + 8 * fragment length bits: all the decoder ever holds
            held = part.seq_len * (part.seq_len // 8 + len(part.data) + _INT_OVERHEAD)
            if held > MAX_HELD_BYTES:
                raise InvalidInput(
                    Code.QR_UR_TOO_COMPLEX,
                    f"UR: solving {part.seq_len} fragments of {len(part.data)} bytes would"
                    f" hold over {MAX_HELD_BYTES} bytes",
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
        self._check_budget(part)
        row = int.from_bytes(part.data, "big") << part.seq_len
        for index in choose_fragments(part.seq_num, part.seq_len, part.checksum):
            row |= 1 << index
        self._solve(row, part.seq_len)
        if len(self._rows) == part.seq_len:
            self._assemble(part)
        return True

    def _check_budget(self, part: Part) -> None:
        """Refuse a stream no real encoder makes, before paying for its next part.

        A part's degree is known from two draws; the fragments it mixes cost one draw each
        and at most one row XOR each, so the sum of degrees is the work of the stream (with
        the one pass over unsolved rows per new pivot, at most seqLen passes). Parts of a
        real encoder have degrees drawn with P(d) proportional to 1/d, seqLen/H(seqLen) on
        average: DEGREE_SLACK times that per part, plus DEGREE_ALLOWANCE heavy parts, is
        many standard deviations above any real stream. A flood of hand-picked heavy parts
        (issue 16 item 6) exceeds it within a few dozen parts.
        """
        seq_len = part.seq_len
        parts = len(self._seen)
        if parts > MAX_PARTS_FACTOR * seq_len + MAX_PARTS_EXTRA:
            raise InvalidInput(
                Code.QR_TOO_MANY_FRAMES,
                f"UR: {parts} different parts of {seq_len} fragments and the message is still"
                " not determined (a real encoder's parts determine it within about"
                f" {seq_len + 2}); the frames are not from one encoder",
            )
        self._degrees += part_degree(part.seq_num, seq_len, part.checksum)
        budget = (DEGREE_SLACK * parts * expected_degree(seq_len)) + DEGREE_ALLOWANCE * seq_len
        if self._degrees > budget:
            raise InvalidInput(
                Code.QR_UR_TOO_COMPLEX,
                f"UR: {parts} parts mix {self._degrees} fragments, far more than a real"
                f" encoder's parts of {seq_len} fragments (about"
                f" {expected_degree(seq_len):.0f} each); scan the sender's frames again",
            )

    def _solve(self, row: int, seq_len: int) -> None:
        for pivot in _bits(row & self._pivots):
            row ^= self._rows[pivot]  # clears this pivot and touches no other pivot (RREF)
        fragments = row & ((1 << seq_len) - 1)
        if not fragments:
            if row:
                raise InvalidInput(Code.QR_CONFLICT, "UR: parts contradict each other")
            return  # implied by the parts before it
        low = fragments & -fragments
        pivot = low.bit_length() - 1
        for other in [p for p in self._unsolved if self._rows[p] & low]:
            reduced = self._rows[other] ^ row
            self._rows[other] = reduced
            if _is_single(reduced & ((1 << seq_len) - 1)):
                self._unsolved.discard(other)
        self._rows[pivot] = row
        self._pivots |= low
        if not _is_single(fragments):
            self._unsolved.add(pivot)

    def _assemble(self, part: Part) -> None:
        fragment_len = len(part.data)
        message = b"".join(
            (self._rows[i] >> part.seq_len).to_bytes(fragment_len, "big")
            for i in range(part.seq_len)
        )[: part.message_len]
        if zlib.crc32(message) != part.checksum:
            raise InvalidInput(Code.QR_MESSAGE_CHECKSUM, "UR: reassembled message fails its CRC-32")
        self.message = message


def _is_single(fragments: int) -> bool:
    return fragments & (fragments - 1) == 0
