"""The any-format front: detection, payload kinds, refusals, caps and the sha256 prefix."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr import bbqr, ur
from psbtbridge.qr.joiner import Joiner, Limits, PayloadKind, QrFormat, detect, sha256_prefix
from tests.conftest import VECTORS, load_vectors

PSBT = (VECTORS / "bbqr" / "test_data" / "1in20out.psbt").read_bytes()
KRUX = {c["name"]: c for c in load_vectors("bbqr/krux_vectors.json")["decode_cases"]}
DERIVED = load_vectors("ur/derived_crypto_psbt.json")["cases"]
UR_STRINGS = load_vectors("ur/ur_strings.json")


def feed(frames: list[str], limits: Limits | None = None) -> Joiner:
    joiner = Joiner(limits or Limits())
    for frame in frames:
        joiner.receive(frame)
    return joiner


def test_sha256_prefix() -> None:
    assert sha256_prefix(PSBT) == hashlib.sha256(PSBT).hexdigest()[:16]


@pytest.mark.parametrize(
    "case", DERIVED, ids=lambda c: f"{c['ur_type']}-{c['max_fragment_len']}-{c['psbt_len']}"
)
def test_ur_frames(case: dict[str, object]) -> None:
    parts = list(case["parts"])  # type: ignore[call-overload]
    random.Random(1).shuffle(parts)
    joiner = feed([p.upper() for p in parts])
    assert joiner.result is not None
    assert joiner.result.kind is PayloadKind.PSBT
    assert joiner.result.data == (VECTORS / "ur" / str(case["psbt_file"])).read_bytes()
    assert joiner.format is QrFormat.UR
    assert joiner.detail == case["ur_type"]


def test_bbqr_psbt_and_transaction() -> None:
    psbt = feed(KRUX["nunchuk PSBT (ZP)"]["parts"])
    assert psbt.result is not None and psbt.result.kind is PayloadKind.PSBT
    assert psbt.detail == "ZP"
    tx_case = KRUX["signed transaction, hex, 4 parts (HT)"]
    tx = feed(tx_case["parts"])
    assert tx.result is not None
    assert tx.result.kind is PayloadKind.TRANSACTION
    assert tx.result.data.hex() == tx_case["expected_hex"]
    assert tx.format is QrFormat.BBQR
    assert tx.format.reply is QrFormat.BBQR


def test_plain_and_pmofn() -> None:
    text = base64.b64encode(PSBT).decode()
    plain = feed([text])
    assert plain.result is not None and plain.result.data == PSBT
    assert plain.format is QrFormat.PLAIN and plain.format.reply is QrFormat.UR
    chunks = [text[i : i + 500] for i in range(0, len(text), 500)]
    pmofn = feed([f"p{i}of{len(chunks)} {c}" for i, c in enumerate(chunks, 1)][::-1])
    assert pmofn.result is not None and pmofn.result.data == PSBT
    assert pmofn.format is QrFormat.PMOFN


def test_progress_and_completion() -> None:
    split = bbqr.split(PSBT, "P", max_version=8)
    joiner = Joiner()
    assert joiner.progress == (0, 1)
    for n, part in enumerate(split.parts, 1):
        joiner.receive(part)
        assert joiner.progress == (n, len(split.parts))
    assert joiner.result is not None
    assert not joiner.receive(split.parts[0])  # after completion nothing is new


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (KRUX["nunchuk single-sig descriptor export (ZU)"]["parts"], "qr.unsupported_payload"),
        ([UR_STRINGS["single_part"]["ur"]], "qr.ur_type"),
        ([UR_STRINGS["multi_part"]["parts"][0]], "qr.ur_type"),
        (["hello world"], "qr.unknown_format"),
        ([DERIVED[0]["parts"][0], "B$HP0100AA"], "qr.mixed_formats"),
        (["B$HP0200AA", "p1of2 abc"], "qr.mixed_formats"),
        (["B$HP0100" + "A" * 8000], "qr.too_large"),
    ],
    ids=["zu", "ur-bytes", "ur-bytes-part", "text", "ur-then-bbqr", "bbqr-then-pmofn", "long"],
)
def test_refusals(frames: list[str], code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        feed(frames)
    assert caught.value.code == code


def test_frame_cap() -> None:
    parts = list(bbqr.split(PSBT, "P", max_version=5).parts)
    with pytest.raises(InvalidInput) as caught:
        feed([parts[0]] * 11, Limits(max_frames=10))
    assert caught.value.code == "qr.too_many_frames"


def test_size_cap_applies_to_ur() -> None:
    encoder = ur.UREncoder(ur.psbt_to_ur(PSBT), 200)
    with pytest.raises(InvalidInput) as caught:
        feed([encoder.next_part()], Limits(max_len=1000))
    assert caught.value.code == "qr.too_large"


def test_detect() -> None:
    assert detect(" UR:CRYPTO-PSBT/1-2/X") is QrFormat.UR
    assert detect("b$zp0100") is QrFormat.BBQR
    assert detect("p1of2 x") is QrFormat.PMOFN
    assert detect("cHNidP8B") is QrFormat.PLAIN


@settings(max_examples=200)
@given(
    st.lists(
        st.text(max_size=60)
        | st.from_regex(
            r"(ur:crypto-psbt/|B\$ZP0[1-3]0[0-2]|p[1-3]of3 )[A-Za-z0-9]{0,30}", fullmatch=True
        ),
        max_size=4,
    )
)
def test_arbitrary_frames_raise_only_invalid_input(frames: list[str]) -> None:
    with contextlib.suppress(InvalidInput):
        feed(frames)
