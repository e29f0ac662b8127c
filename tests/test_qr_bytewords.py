"""Bytewords against BCR-2020-012 and bc-ur/URKit vectors (ur/bytewords.json)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.errors import InvalidInput
from psbtbridge.qr import bytewords
from psbtbridge.qr.bytewords import Style
from tests.conftest import load_vectors

VECTORS = load_vectors("ur/bytewords.json")
STYLES = {"standard": Style.STANDARD, "uri": Style.URI, "minimal": Style.MINIMAL}


def test_wordlist() -> None:
    assert list(bytewords.WORDS) == VECTORS["wordlist"]


def _cases() -> list[tuple[str, bytes, Style, str]]:
    cases = []
    for n, case in enumerate(VECTORS["encode_decode"]):
        for name, style in STYLES.items():
            if name in case:
                cases.append((f"case{n}-{name}", bytes(case["input_bytes"]), style, case[name]))
    for key in ("bcr_2020_012_example", "bcr_2020_012_brutal_example"):
        case = VECTORS[key]
        for name, style in STYLES.items():
            if name in case:
                cases.append((f"{key}-{name}", bytes.fromhex(case["body_hex"]), style, case[name]))
    return cases


@pytest.mark.parametrize(
    ("data", "style", "text"), [c[1:] for c in _cases()], ids=[c[0] for c in _cases()]
)
def test_encode_decode(data: bytes, style: Style, text: str) -> None:
    assert bytewords.encode(data, style) == text
    assert bytewords.decode(text, style) == data
    assert bytewords.decode(text.upper(), style) == data


@pytest.mark.parametrize("key", ["bcr_2020_012_example", "bcr_2020_012_brutal_example"])
def test_checksum_is_last_four_bytes(key: str) -> None:
    case = VECTORS[key]
    raw = bytewords.encode(bytes.fromhex(case["body_hex"]), Style.MINIMAL)
    assert raw[-8:] == bytewords.encode(bytes.fromhex(case["crc32_hex"]), Style.MINIMAL)[:8]


@pytest.mark.parametrize(
    "case", VECTORS["must_fail_decode"], ids=lambda c: f"{c['style']}-{c['input'][:12]}"
)
def test_must_fail(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        bytewords.decode(case["input"], STYLES[case["style"]])
    assert caught.value.code in {"qr.bytewords", "qr.checksum"}


@given(st.binary(min_size=1, max_size=200), st.sampled_from(list(Style)))
def test_round_trip(data: bytes, style: Style) -> None:
    assert bytewords.decode(bytewords.encode(data, style), style) == data


@given(st.text(max_size=60), st.sampled_from(list(Style)))
def test_arbitrary_text_raises_only_invalid_input(text: str, style: Style) -> None:
    with contextlib.suppress(InvalidInput):
        bytewords.decode(text, style)
