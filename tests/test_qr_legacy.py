"""Decode-only legacy frames: Specter-style pMofN (Krux vectors) and single base64/hex frames."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr import legacy
from psbtbridge.qr.legacy import PmofnJoiner
from tests.conftest import VECTORS, load_vectors

V = load_vectors("ur/legacy_pmofn.json")
PSBT = (VECTORS / "bbqr" / "test_data" / "1in2out.psbt").read_bytes()


def test_pmofn_shuffled_parts_join_in_order() -> None:
    joiner = PmofnJoiner(1 << 20, 100)
    for part in V["pmofn_parts_shuffled"]:
        assert joiner.text is None
        assert joiner.receive(part)
    assert joiner.text == V["pmofn_joined"]
    assert joiner.progress == (3, 3)


@pytest.mark.parametrize("text", V["single_frame_plain"], ids=["krux-base58"])
def test_plain_frame_that_is_not_a_psbt(text: str) -> None:
    assert not legacy.is_pmofn(text)
    with pytest.raises(InvalidInput) as caught:
        legacy.psbt_from_text(text)
    assert caught.value.code == "qr.unknown_format"


@pytest.mark.parametrize("text", [base64.b64encode(PSBT).decode(), PSBT.hex(), PSBT.hex().upper()])
def test_plain_frame_psbt(text: str) -> None:
    assert legacy.psbt_from_text(text) == PSBT


def test_pmofn_of_a_base64_psbt() -> None:
    text = base64.b64encode(PSBT).decode()
    chunks = [text[i : i + 300] for i in range(0, len(text), 300)]
    joiner = PmofnJoiner(1 << 20, 100)
    for i, chunk in reversed(list(enumerate(chunks, 1))):
        joiner.receive(f"p{i}of{len(chunks)} {chunk}")
    assert joiner.text is not None
    assert legacy.psbt_from_text(joiner.text) == PSBT


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (["p1of2"], "qr.pmofn"),
        (["p0of2 abc"], "qr.pmofn"),
        (["p3of2 abc"], "qr.pmofn"),
        (["p1of200 abc"], "qr.pmofn"),  # over the part cap of 100
        (["p1of2 abc", "p2of3 abc"], "qr.pmofn"),
        (["p1of2 abc", "p1of2 abd"], "qr.conflict"),
        (["p1of2 " + "a" * 300, "p2of2 " + "b" * 300], "qr.too_large"),
    ],
)
def test_bad_pmofn(frames: list[str], code: str) -> None:
    joiner = PmofnJoiner(200, 100)
    with pytest.raises(InvalidInput) as caught:
        for frame in frames:
            joiner.receive(frame)
    assert caught.value.code == code


def test_pmofn_duplicate_is_not_new() -> None:
    joiner = PmofnJoiner(1 << 20, 100)
    assert joiner.receive("p1of2 abc")
    assert not joiner.receive("p1of2 abc")


@given(st.text(max_size=80) | st.from_regex(r"p[0-9]{1,3}of[0-9]{1,3} [ -~]{0,20}", fullmatch=True))
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        PmofnJoiner(1 << 20, 100).receive(text)
    with contextlib.suppress(InvalidInput):
        legacy.psbt_from_text(text)
