"""The fountain code against bc-ur / URKit / BCR-2024-001 vectors (ur/fountain.json)."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr.fountain import (
    MAX_PARTS_EXTRA,
    MAX_PARTS_FACTOR,
    FountainDecoder,
    FountainEncoder,
    Part,
    RandomSampler,
    choose_degree,
    choose_fragments,
    expected_degree,
    nominal_fragment_length,
    partition,
    shuffled,
)
from psbtbridge.qr.xoshiro import Xoshiro256
from tests.conftest import load_vectors

V = load_vectors("ur/fountain.json")


def make_message(length: int, seed: str = "Wolf") -> bytes:
    return Xoshiro256.from_string(seed).next_data(length)


@pytest.mark.parametrize(
    "case",
    V["find_nominal_fragment_length"],
    ids=lambda c: f"{c['message_len']}-{c['max_fragment_len']}",
)
def test_nominal_fragment_length(case: dict[str, int]) -> None:
    got = nominal_fragment_length(
        case["message_len"], case["min_fragment_len"], case["max_fragment_len"]
    )
    assert got == case["expected"]


def test_random_sampler() -> None:
    case = V["random_sampler"]
    sampler = RandomSampler(case["probs"])
    rng = Xoshiro256.from_string("Wolf")
    samples = [sampler.next(rng) for _ in range(case["count"])]
    assert samples == case["expected"]
    assert [samples.count(i) for i in range(4)] == case["expected_totals_by_index"]


def test_shuffle_successive() -> None:
    case = V["shuffle_successive"]
    rng = Xoshiro256.from_string("Wolf")
    assert [shuffled(case["values"], rng) for _ in case["expected"]] == case["expected"]


def test_shuffle_prefix() -> None:
    case = V["shuffle_prefix"]
    got = [
        shuffled(case["values"], Xoshiro256.from_string("Wolf"), count)
        for count in range(1, len(case["expected"]) + 1)
    ]
    assert got == case["expected"]


def test_partition() -> None:
    case = V["partition"]
    fragments = partition(make_message(1024), case["fragment_len"])
    assert [f.hex() for f in fragments] == case["expected_fragments_hex"]


def test_choose_degree_per_nonce() -> None:
    case = V["choose_degree_per_nonce"]
    got = [
        choose_degree(case["seq_len"], Xoshiro256.from_string(f"Wolf-{nonce}"))
        for nonce in range(1, len(case["expected"]) + 1)
    ]
    assert got == case["expected"]


def test_choose_degree_one_rng() -> None:
    case = V["choose_degree_one_rng"]
    rng = Xoshiro256.from_string("Wolf")
    got = [choose_degree(case["seq_len"], rng) for _ in case["expected"]]
    assert got == case["expected"]
    totals = [got.count(d) for d in range(1, case["seq_len"] + 1)]
    assert totals == case["expected_totals_by_degree_1_to_11"]


def test_choose_fragments() -> None:
    case = V["choose_fragments"]
    checksum = int(case["checksum_hex"], 16)
    assert zlib.crc32(make_message(1024)) == checksum
    got = [
        sorted(choose_fragments(seq_num, case["seq_len"], checksum))
        for seq_num in range(1, len(case["expected"]) + 1)
    ]
    assert got == case["expected"]


ENCODER = V["encoder"]


@pytest.mark.parametrize("expected", ENCODER["parts"], ids=lambda p: f"seq{p['seqNum']}")
def test_encoder_part(expected: dict[str, Any]) -> None:
    encoder = FountainEncoder(
        make_message(256), ENCODER["max_fragment_len"], ENCODER["min_fragment_len"]
    )
    for _ in range(expected["seqNum"]):
        part = encoder.next_part()
    assert (part.seq_num, part.seq_len, part.message_len, part.checksum) == (
        expected["seqNum"],
        expected["seqLen"],
        expected["messageLen"],
        expected["checksum"],
    )
    assert part.data.hex() == expected["data_hex"]
    assert part.to_cbor().hex() == expected["part_cbor_hex"]
    assert Part.from_cbor(part.to_cbor()) == part


def test_decoder_round_trip_vector() -> None:
    (case,) = V["decoder_roundtrip"]
    message = make_message(32767)
    encoder = FountainEncoder(
        message, case["max_fragment_len"], first_seq_num=case["first_seq_num"]
    )
    decoder = FountainDecoder(max_message_len=1 << 20, max_seq_len=1000)
    while decoder.message is None:
        decoder.receive(encoder.next_part())
    assert decoder.message == message


def _parts(message: bytes, fragment: int, count: int) -> list[Part]:
    encoder = FountainEncoder(message, fragment)
    return [encoder.next_part() for _ in range(count)]


def test_decoder_only_mixed_parts() -> None:
    message = make_message(1024)
    decoder = FountainDecoder(1 << 20, 1000)
    encoder = FountainEncoder(message, 100)
    for _ in range(encoder.seq_len):
        encoder.next_part()  # drop every plain part: only XOR-mixed ones reach the decoder
    while decoder.message is None:
        decoder.receive(encoder.next_part())
    assert decoder.message == message


def test_decoder_duplicates_not_counted() -> None:
    parts = _parts(make_message(256), 30, 3)
    decoder = FountainDecoder(1 << 20, 1000)
    got = [decoder.receive(p) for p in (parts[0], parts[0], parts[1], parts[0], parts[2])]
    assert got == [True, False, True, False, True]
    assert decoder.progress == (3, 9)


def test_conflicting_duplicate_refused() -> None:
    part = _parts(make_message(256), 30, 1)[0]
    decoder = FountainDecoder(1 << 20, 1000)
    decoder.receive(part)
    forged = Part(part.seq_num, part.seq_len, part.message_len, part.checksum, bytes(29))
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(forged)
    assert caught.value.code == "qr.conflict"


def test_parts_contradicting_each_other_refused() -> None:
    parts = _parts(make_message(256), 30, 10)
    # part 10 mixes fragments {0, 2, 3, 5, 6, 8}: with 0..6 known it reduces to fragment 8
    assert choose_fragments(10, 9, parts[0].checksum) == {0, 2, 3, 5, 6, 8}
    decoder = FountainDecoder(1 << 20, 1000)
    for part in parts[:7]:
        decoder.receive(part)
    decoder.receive(Part(10, 9, 256, parts[0].checksum, bytes(29)))  # corrupted
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(parts[8])
    assert caught.value.code == "qr.conflict"


def test_corrupt_fragment_fails_message_checksum() -> None:
    parts = _parts(make_message(256), 30, 9)
    decoder = FountainDecoder(1 << 20, 1000)
    for part in parts[:8]:
        decoder.receive(part)
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(Part(9, 9, 256, parts[0].checksum, bytes(29)))
    assert caught.value.code == "qr.message_checksum"


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq_len", 10), ("message_len", 257), ("checksum", 1), ("data", bytes(30))],
)
def test_inconsistent_header_refused(field: str, value: Any) -> None:
    first, second = _parts(make_message(256), 30, 2)
    decoder = FountainDecoder(1 << 20, 1000)
    decoder.receive(first)
    fields = {**second.__dict__, field: value}
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(Part(**fields))
    assert caught.value.code == "qr.ur_inconsistent"


def test_impossible_first_header_refused() -> None:
    decoder = FountainDecoder(1 << 20, 1000)
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(Part(1, 5, 1000, 0, bytes(10)))
    assert caught.value.code == "qr.ur_inconsistent"


@pytest.mark.parametrize(
    ("part", "code"),
    [
        (Part(1, 2, 5_000_000, 0, bytes(2_500_000)), "qr.too_large"),
        (Part(1, 5000, 50_000, 0, bytes(10)), "qr.too_many_parts"),
    ],
)
def test_caps(part: Part, code: str) -> None:
    decoder = FountainDecoder(max_message_len=1 << 20, max_seq_len=1000)
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(part)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "hex_data",
    [
        "8401091901001a0167aa07",  # 4 fields
        "8500091901001a0167aa0741ff",  # seqNum 0
        "8501001901001a0167aa0741ff",  # seqLen 0
        "85010900" + "1a0167aa07" + "41ff",  # messageLen 0
        "85010919010041ff41ff",  # checksum is bytes
        "8501091901001a0167aa0740",  # empty fragment
        "8501091901001b00000001000000004101",  # checksum over 32 bits
    ],
)
def test_bad_part_cbor(hex_data: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Part.from_cbor(bytes.fromhex(hex_data))
    assert caught.value.code in {"qr.ur_part", "qr.cbor"}


@settings(max_examples=40, deadline=None)
@given(
    message=st.binary(min_size=1, max_size=2000),
    fragment=st.integers(min_value=10, max_value=300),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_round_trip_with_losses(message: bytes, fragment: int, seed: int) -> None:
    shuffler = random.Random(seed)
    encoder = FountainEncoder(message, fragment)
    parts = [encoder.next_part() for _ in range(3 * encoder.seq_len + 10)]
    kept = [p for p in parts if shuffler.random() > 0.3]
    shuffler.shuffle(kept)
    decoder = FountainDecoder(1 << 20, 1000)
    for part in kept:
        decoder.receive(part)
    while decoder.message is None:  # a real scanner keeps watching for fresh parts
        decoder.receive(encoder.next_part())
    assert decoder.message == message


def test_a_flood_of_high_degree_parts_stops_with_a_code() -> None:
    """Issue 16 item 6: a consistent stream whose parts each mix thousands of fragments
    never completes; the decoder stops (bounded work and held bytes) instead of growing."""
    from pathlib import Path

    from psbtbridge.qr.ur import URDecoder

    flood = Path(__file__).resolve().parents[1] / "fuzz/regressions/qr_joiner"
    decoder = URDecoder(4 * 1024 * 1024, 4096)
    with pytest.raises(InvalidInput) as caught:
        for frame in (flood / "issue16-item6-ur-flood.txt").read_text().split():
            decoder.receive(frame)
    assert caught.value.code == "qr.ur_too_complex"


def test_a_40_kb_message_joined_mid_animation_still_decodes() -> None:
    """Only mixed parts (the scanner started late) of 200 fragments, in the order shown."""
    message = random.Random(40).randbytes(40_000)
    encoder = FountainEncoder(message, 200, first_seq_num=1_000)
    decoder = FountainDecoder(len(message), 4096)
    while decoder.message is None:
        decoder.receive(encoder.next_part())
    assert decoder.message == message


def _caught_mid_animation(fragments: int, seed: int) -> tuple[bytes, list[Part]]:
    """A message of `fragments` 200-byte fragments and what a late scanner catches of it:
    3 x seqLen mixed parts from seqNum 2 x seqLen on, a third of them missed, shuffled."""
    shuffler = random.Random(seed)
    message = shuffler.randbytes(200 * fragments - 7)
    encoder = FountainEncoder(message, 200, first_seq_num=2 * fragments)
    assert encoder.seq_len == fragments
    parts = [encoder.next_part() for _ in range(3 * fragments)]
    kept = [part for part in parts if shuffler.random() > 1 / 3]
    shuffler.shuffle(kept)
    return message, kept


def _parts_needed(message: bytes, parts: list[Part]) -> int:
    decoder = FountainDecoder(len(message), 4096)
    for needed, part in enumerate(parts, 1):
        decoder.receive(part)
        if decoder.message is not None:
            assert decoder.message == message
            return needed
    raise AssertionError(f"not decoded from {len(parts)} parts")


@pytest.mark.parametrize("seed", range(3))
def test_300_fragments_caught_mid_animation_decode_from_about_seq_len_parts(seed: int) -> None:
    """Only mixed parts, in random order, with drops: decoded from 305, 305 and 308 parts.

    The peeling decoder this replaced stopped such streams with qr.ur_too_complex.
    """
    message, parts = _caught_mid_animation(300, seed)
    assert _parts_needed(message, parts) <= 300 + 20


def test_1000_fragments_caught_mid_animation_decode_within_bounds() -> None:
    """A 200 kB message (1000 fragments), mixed parts only: decoded from 1010 parts in about
    0.6 s of CPU here (the encoder making the parts takes longer)."""
    import resource

    message, parts = _caught_mid_animation(1000, 7)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    assert _parts_needed(message, parts) <= 1000 + 20
    assert resource.getrusage(resource.RUSAGE_SELF).ru_utime - before < 5


def _seq_nums(seq_len: int, checksum: int, keep: Callable[[frozenset[int]], bool]) -> list[int]:
    """Hand-picked mixed parts: the seqNums whose fragment sets pass `keep`."""
    picked = []
    seq_num = seq_len
    while len(picked) < 4 * seq_len + 200:
        seq_num += 1
        if keep(choose_fragments(seq_num, seq_len, checksum)):
            picked.append(seq_num)
    return picked


def _encoded(message: bytes, fragment_len: int, seq_nums: list[int]) -> list[Part]:
    """The honest encoder's parts with these seqNums: a consistent stream."""
    result = []
    for seq_num in seq_nums:
        encoder = FountainEncoder(message, fragment_len, first_seq_num=seq_num - 1)
        result.append(encoder.next_part())
    return result


def test_a_part_implied_by_earlier_ones_is_taken_and_checked() -> None:
    message = make_message(256)
    parts = _parts(message, 30, 8)
    decoder = FountainDecoder(1 << 20, 1000)
    for part in parts:
        decoder.receive(part)  # fragments 0..7 of 9
    seq_num, other = _seq_nums(9, parts[0].checksum, lambda chosen: 8 not in chosen)[:2]
    (implied,) = _encoded(message, 30, [seq_num])
    assert decoder.receive(implied)  # new, but adds nothing: its fragments are all known
    assert decoder.progress == (8, 9)
    forged = Part(other, 9, 256, implied.checksum, bytes(29))
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(forged)  # implied by the known fragments, and says otherwise
    assert caught.value.code == "qr.conflict"


def _fed_until_refused(parts: list[Part]) -> tuple[str, int]:
    """The code a decoder refuses the stream with, and how many parts it had been fed."""
    decoder = FountainDecoder(1 << 20, 1000)
    for fed, part in enumerate(parts, 1):
        try:
            decoder.receive(part)
        except InvalidInput as refused:
            return refused.code, fed
    raise AssertionError("the stream was not refused")


def test_a_flood_of_parts_just_light_enough_ends_at_the_part_cap() -> None:
    """Parts each mixing up to 3x the average degree (but none of fragment 0, so never
    solvable): the degree budget lets them through, the cap on parts stops them."""
    message = make_message(2000)
    fragments = partition(message, 40)
    checksum = zlib.crc32(message)
    heavy = 3 * expected_degree(len(fragments))
    seq_nums = _seq_nums(
        len(fragments), checksum, lambda chosen: 0 not in chosen and len(chosen) < heavy
    )
    assert _fed_until_refused(_encoded(message, 40, seq_nums)) == (
        "qr.too_many_frames",
        MAX_PARTS_FACTOR * len(fragments) + MAX_PARTS_EXTRA + 1,
    )


def test_a_flood_of_heavy_parts_stops_within_the_degree_budget() -> None:
    """The item-6 flood in small: only parts mixing most fragments. Stopped by the sum of
    degrees long before the part cap, whatever the rank."""
    message = make_message(4000)
    checksum = zlib.crc32(message)
    seq_nums = _seq_nums(100, checksum, lambda chosen: len(chosen) > 60)
    code, fed = _fed_until_refused(_encoded(message, 40, seq_nums))
    assert code == "qr.ur_too_complex"
    assert fed < 40


def test_what_a_header_would_make_the_decoder_hold_is_checked_first() -> None:
    decoder = FountainDecoder(max_message_len=1 << 30, max_seq_len=4096)
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(Part(1, 4096, 4096 * 20_000, 0, bytes(20_000)))
    assert caught.value.code == "qr.ur_too_complex"
