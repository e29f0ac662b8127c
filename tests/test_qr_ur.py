"""UR strings and the PSBT UR types against bc-ur, URKit, Hummingbird, Krux and derived vectors."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput, UsageError
from psbtbridge.qr import cbor, ur
from psbtbridge.qr.capacity import alphanumeric_capacity
from psbtbridge.qr.ur import UR, URDecoder, UREncoder
from psbtbridge.qr.xoshiro import Xoshiro256
from tests.conftest import VECTORS, load_vectors

STRINGS = load_vectors("ur/ur_strings.json")
PSBT_UR = load_vectors("ur/psbt_ur.json")
DERIVED = load_vectors("ur/derived_crypto_psbt.json")
CAP = 1 << 20


def make_message_ur(length: int) -> UR:
    return UR("bytes", cbor.encode(Xoshiro256.from_string("Wolf").next_data(length)))


def decode_all(parts: list[str]) -> UR:
    decoder = URDecoder(CAP, 1000)
    for part in parts:
        decoder.receive(part)
    assert decoder.ur is not None
    return decoder.ur


def test_single_part() -> None:
    text = STRINGS["single_part"]["ur"]
    assert ur.encode_single(make_message_ur(50)) == text
    assert decode_all([text]) == make_message_ur(50)
    assert decode_all([text.upper()]) == make_message_ur(50)


@pytest.mark.parametrize("case", STRINGS["other_single_part"], ids=lambda c: c["ur"].split("/")[0])
def test_other_single_part(case: dict[str, Any]) -> None:
    expected = UR(case["ur"][3:].split("/")[0], bytes.fromhex(case["cbor_hex"]))
    assert ur.encode_single(expected) == case["ur"]
    assert decode_all([case["ur"]]) == expected


MULTI = STRINGS["multi_part"]


@pytest.mark.parametrize("index", range(len(MULTI["parts"])), ids=lambda i: f"part{i + 1}")
def test_multi_part_encoder(index: int) -> None:
    encoder = UREncoder(make_message_ur(256), MULTI["max_fragment_len"])
    parts = [encoder.next_part() for _ in range(index + 1)]
    assert parts[-1] == MULTI["parts"][index]


def test_multi_part_decoder_any_order_upper_case() -> None:
    parts = [p.upper() for p in MULTI["parts"]]
    random.Random(7).shuffle(parts)
    assert decode_all(parts) == make_message_ur(256)


def test_multi_part_decoder_mostly_from_mixed_parts() -> None:
    # parts 10..20 never cover fragment 5, so part 5 is the only plain part needed
    assert decode_all([*MULTI["parts"][9:], MULTI["parts"][4]]) == make_message_ur(256)


def test_duplicates_not_counted() -> None:
    (behaviour, _, _) = STRINGS["decoder_behaviour"]
    first, second, third = MULTI["parts"][:3]
    decoder = URDecoder(CAP, 1000)
    counts = []
    for part in (first, first, second, first, third):
        decoder.receive(part)
        counts.append(decoder.progress[0])
    assert counts == behaviour["expected_processed_parts_count_after_each"]


@pytest.mark.parametrize(
    "part", [STRINGS["decoder_behaviour"][2]["part"], PSBT_UR["short_checksum_fragment"]["part"]]
)
def test_short_checksum_accepted(part: str) -> None:
    assert URDecoder(CAP, 1000).receive(part)


EXAMPLE = PSBT_UR["bcr_2020_006_example"]


@pytest.mark.parametrize("key", ["ur_psbt", "ur_crypto_psbt"])
def test_bcr_2020_006_psbt(key: str) -> None:
    psbt = bytes.fromhex(EXAMPLE["psbt_hex"])
    decoded = decode_all([EXAMPLE[key]])
    assert ur.psbt_from_ur(decoded) == psbt
    assert decoded.cbor.hex() == EXAMPLE["cbor_hex"]
    assert ur.encode_single(UR(decoded.ur_type, cbor.encode(psbt))) == EXAMPLE[key]


def test_psbt_to_ur_is_crypto_psbt() -> None:
    assert (
        ur.encode_single(ur.psbt_to_ur(bytes.fromhex(EXAMPLE["psbt_hex"])))
        == EXAMPLE["ur_crypto_psbt"]
    )


KRUX = PSBT_UR["krux_crypto_psbt"]


def test_krux_single_part() -> None:
    psbt = bytes.fromhex(KRUX["psbt_hex"])
    assert ur.psbt_from_ur(decode_all([KRUX["single_part"]])) == psbt
    assert ur.encode_single(ur.psbt_to_ur(psbt)) == KRUX["single_part"]


def test_krux_multi_part() -> None:
    psbt = bytes.fromhex(KRUX["psbt_hex"])
    listed = KRUX["multi_part_as_listed_in_test"]
    assert ur.psbt_from_ur(decode_all(listed)) == psbt
    encoder = UREncoder(ur.psbt_to_ur(psbt), KRUX["multi_part_encoder_params"]["max_fragment_len"])
    assert sorted(encoder.next_part() for _ in listed) == sorted(listed)


@pytest.mark.parametrize(
    "case",
    DERIVED["cases"],
    ids=lambda c: f"{c['psbt_file'].split('/')[-1]}-{c['ur_type']}-{c['max_fragment_len']}",
)
def test_derived_crypto_psbt(case: dict[str, Any]) -> None:
    psbt = (VECTORS / "ur" / case["psbt_file"]).read_bytes()
    assert len(psbt) == case["psbt_len"]
    encoder = UREncoder(UR(case["ur_type"], cbor.encode(psbt)), case["max_fragment_len"])
    assert encoder.seq_len == case["seq_len"]
    assert [encoder.next_part() for _ in case["parts"]] == case["parts"]
    assert ur.psbt_from_ur(decode_all(case["parts"][::-1])) == psbt
    mixed_only = case["parts"][case["seq_len"] :]
    assert ur.psbt_from_ur(decode_all(mixed_only)) == psbt


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "qr.ur_syntax"),
        ("bytes/aeadaolazmjendeoti", "qr.ur_syntax"),
        ("ur:by_tes/aeadaolazmjendeoti", "qr.ur_syntax"),
        ("ur:bytes", "qr.ur_syntax"),
        ("ur:bytes/1-2/3/ab", "qr.ur_syntax"),
        ("ur:bytes/0-9/aeadaolazmjendeoti", "qr.ur_syntax"),
        ("ur:bytes/1-09/aeadaolazmjendeoti", "qr.ur_syntax"),
        ("ur:bytes/aeadaolazojendeowf", "qr.checksum"),
        ("ur:bytes/aeadaolazmjendeotx", "qr.bytewords"),
        # the header says 2-9 but the CBOR inside is part 1 of 9
        (MULTI["parts"][0].replace("/1-9/", "/2-9/"), "qr.ur_inconsistent"),
    ],
)
def test_bad_strings(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        URDecoder(CAP, 1000).receive(text)
    assert caught.value.code == code


def test_parts_of_two_messages_refused() -> None:
    other = UREncoder(make_message_ur(300), 30).next_part()
    decoder = URDecoder(CAP, 1000)
    decoder.receive(MULTI["parts"][0])
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(other)
    assert caught.value.code == "qr.ur_inconsistent"


def test_type_change_refused() -> None:
    decoder = URDecoder(CAP, 1000)
    decoder.receive(MULTI["parts"][0])
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(MULTI["parts"][1].replace("ur:bytes/", "ur:psbt/"))
    assert caught.value.code == "qr.ur_inconsistent"


def test_single_and_multi_mixed_refused() -> None:
    decoder = URDecoder(CAP, 1000)
    decoder.receive(MULTI["parts"][0])
    with pytest.raises(InvalidInput) as caught:
        decoder.receive(STRINGS["single_part"]["ur"])
    assert caught.value.code == "qr.ur_inconsistent"


def test_single_part_over_cap_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        URDecoder(10, 1000).receive(STRINGS["single_part"]["ur"])
    assert caught.value.code == "qr.too_large"


@pytest.mark.parametrize(
    ("ur_type", "body"),
    [
        ("bytes", cbor.encode(b"psbt")),
        ("crypto-psbt", cbor.encode(5)),
        ("psbt", cbor.encode(cbor.Tagged(310, b"x"))),
    ],
)
def test_psbt_from_ur_refuses(ur_type: str, body: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        ur.psbt_from_ur(UR(ur_type, body))
    assert caught.value.code == "qr.ur_type"


@pytest.mark.parametrize(("ur_type", "tag"), [("crypto-psbt", 310), ("psbt", 40310)])
def test_psbt_from_ur_tolerates_its_own_tag(ur_type: str, tag: int) -> None:
    assert ur.psbt_from_ur(UR(ur_type, cbor.encode(cbor.Tagged(tag, b"psbt")))) == b"psbt"


@pytest.mark.parametrize("version", [5, 10, 20, 40])
def test_max_fragment_len_fits_the_version(version: int) -> None:
    psbt = bytes(range(256)) * 40
    limit = ur.max_fragment_len("crypto-psbt", len(psbt) + 3, version)
    encoder = UREncoder(ur.psbt_to_ur(psbt), limit)
    encoder._fountain.seq_num = 4294967290  # the longest headers a stream can reach
    for _ in range(3):
        assert len(encoder.next_part()) <= alphanumeric_capacity(version)


def test_max_fragment_len_too_small_version() -> None:
    with pytest.raises(UsageError):
        ur.max_fragment_len("crypto-psbt", 1000, 2)


@settings(max_examples=30, deadline=None)
@given(
    message=st.binary(min_size=1, max_size=1500),
    fragment=st.integers(10, 200),
    seed=st.integers(0, 2**32),
)
def test_round_trip(message: bytes, fragment: int, seed: int) -> None:
    encoder = UREncoder(ur.psbt_to_ur(message), fragment)
    parts = [encoder.next_part() for _ in range(2 * encoder.seq_len)]
    shuffler = random.Random(seed)
    shuffler.shuffle(parts)
    decoder = URDecoder(CAP, 1000)
    for part in parts[: max(1, len(parts) * 7 // 10)]:
        decoder.receive(part.upper())
    while decoder.ur is None:
        decoder.receive(encoder.next_part())
    assert ur.psbt_from_ur(decoder.ur) == message


@given(
    st.text(max_size=120)
    | st.from_regex(r"ur:[a-z-]{1,12}/([0-9]{1,3}-[0-9]{1,3}/)?[a-z]{0,80}", fullmatch=True)
)
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        URDecoder(CAP, 1000).receive(text)
