"""The any-format front: detection, payload kinds, refusals, caps and the sha256 prefix."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.encoding import PSBT_MAGIC
from psbtbridge.errors import InvalidInput
from psbtbridge.qr import base43, bbqr, ur
from psbtbridge.qr.capacity import MAX_VERSION, alphanumeric_capacity
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


def test_electrum_base43_psbt_and_transaction() -> None:
    psbt = feed([" " + base43.encode(PSBT) + "\n"])
    assert psbt.result is not None and psbt.result.kind is PayloadKind.PSBT
    assert psbt.result.data == PSBT
    assert psbt.format is QrFormat.BASE43 and psbt.format.reply is QrFormat.BASE43
    assert psbt.progress == (1, 1)
    for name in ("nfc-result", "last", "devils-txn", "finalized-by-ckcc"):
        signed = (VECTORS / "bbqr" / "test_data" / f"{name}.txn").read_bytes()
        signed = bytes.fromhex(signed.decode()) if signed[:1] == b"0" else signed  # hex files
        tx = feed([base43.encode(signed)])
        assert tx.result is not None and tx.result.kind is PayloadKind.TRANSACTION, name
        assert tx.result.data == signed


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
        (["HELLO"], "qr.unsupported_payload"),
        ([base43.encode(b"\x04\x00\x00\x00" + PSBT)], "qr.unsupported_payload"),
        ([base43.encode(PSBT), DERIVED[0]["parts"][0]], "qr.mixed_formats"),
    ],
    ids=[
        "zu",
        "ur-bytes",
        "ur-bytes-part",
        "text",
        "ur-then-bbqr",
        "bbqr-then-pmofn",
        "long",
        "base43-text",
        "base43-tx-version-4",
        "base43-then-other",
    ],
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
    assert detect("70736274FF01") is QrFormat.PLAIN  # hex digits are base43 digits too
    assert detect("B$5XAH83") is QrFormat.BASE43  # how every 978-byte PSBT's base43 starts
    assert detect("02000000") is QrFormat.BASE43


def test_a_hex_psbt_is_read_as_hex_though_it_is_base43_too() -> None:
    """Electrum's reader tries hex first; so do we, for hex spelling the PSBT magic."""
    text = PSBT.hex().upper()
    assert base43.is_base43(text)
    joiner = feed([text])
    assert joiner.format is QrFormat.PLAIN
    assert joiner.result is not None and joiner.result.data == PSBT


def _base43_head(number: int, chars: int) -> tuple[int, str]:
    """The digit count of number in base43, and its first chars digits."""
    digits = max(1, int(number.bit_length() / 5.426))  # log2(43) = 5.43: never too many
    while 43**digits <= number:
        digits += 1
    lead = number // 43 ** max(0, digits - chars)
    return digits, base43.encode(lead.to_bytes((lead.bit_length() + 7) // 8, "big"))


def test_no_psbt_that_fits_a_qr_code_is_taken_for_another_format() -> None:
    """Every PSBT of one length has the same first base43 characters (its magic fixes the
    number's leading bits): check those of every length one QR code holds, shared by the
    least (magic + 0x00...) and the largest (magic + 0xff...) PSBT of that length. Detection
    looks at 3 leading characters, and at 10 only for the hex magic."""
    hex_magic = PSBT_MAGIC.hex().upper()
    limit = alphanumeric_capacity(MAX_VERSION)
    length = 16  # a PSBT also holds an unsigned transaction (10 bytes or more) and its key
    while True:
        rest = length - len(PSBT_MAGIC)
        digits, low = _base43_head(int.from_bytes(PSBT_MAGIC + bytes(rest), "big"), 10)
        if digits > limit:
            break
        high_digits, high = _base43_head(int.from_bytes(PSBT_MAGIC + b"\xff" * rest, "big"), 10)
        same = [a == b for a, b in zip(low, high, strict=True)] + [False]
        common = low[: same.index(False)]
        assert high_digits == digits and len(common) >= 3, length
        assert not hex_magic.startswith(common), length
        assert detect(common + "0" * (digits - len(common))) is QrFormat.BASE43, (length, common)
        length += 1
    assert length > 2900
    assert base43.encode(PSBT_MAGIC + bytes(978 - 5)).startswith("B$5XAH")


@settings(max_examples=200)
@given(
    st.lists(
        st.text(max_size=60)
        | st.from_regex(
            r"(ur:crypto-psbt/|B\$ZP0[1-3]0[0-2]|p[1-3]of3 )[A-Za-z0-9]{0,30}", fullmatch=True
        )
        | st.text(alphabet=base43.ALPHABET, min_size=1, max_size=200),
        max_size=4,
    )
)
def test_arbitrary_frames_raise_only_invalid_input(frames: list[str]) -> None:
    with contextlib.suppress(InvalidInput):
        feed(frames)
