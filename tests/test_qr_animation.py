"""Frame planning: UR loops of 2x fragments, BBQr splits, every frame within the chosen version."""

from __future__ import annotations

import pytest

from psbtbridge.errors import UsageError
from psbtbridge.qr import base43, ur
from psbtbridge.qr.animation import plan
from psbtbridge.qr.capacity import alphanumeric_capacity
from psbtbridge.qr.joiner import Joiner, QrFormat
from tests.conftest import VECTORS

SMALL = (VECTORS / "bbqr" / "test_data" / "1in2out.psbt").read_bytes()
LARGE = (VECTORS / "bbqr" / "test_data" / "1in100out.psbt").read_bytes()


@pytest.mark.parametrize("max_version", [5, 12, 20, 40])
def test_ur_frames(max_version: int) -> None:
    animation = plan(LARGE, QrFormat.UR, max_version)
    assert animation.version <= max_version
    assert len(animation.frames) == (1 if animation.fragments == 1 else 2 * animation.fragments)
    assert all(f == f.upper() and f.startswith("UR:CRYPTO-PSBT/") for f in animation.frames)
    assert all(len(f) <= alphanumeric_capacity(animation.version) for f in animation.frames)
    joiner = Joiner()
    for frame in animation.frames[animation.fragments :]:  # the fountain half alone
        joiner.receive(frame)
    stream = animation.stream()
    while joiner.result is None:
        joiner.receive(next(stream))
    assert joiner.result.data == LARGE


def test_ur_stream_keeps_producing_fresh_parts_that_fit() -> None:
    animation = plan(LARGE, QrFormat.UR, 20)
    stream = animation.stream()
    parts = [next(stream) for _ in range(5 * animation.fragments)]
    assert len(set(parts)) == len(parts)
    assert all(len(p) <= alphanumeric_capacity(animation.version) for p in parts)


def test_single_part_ur_when_it_fits() -> None:
    animation = plan(SMALL, QrFormat.UR, 40)
    assert animation.fragments == 1
    assert animation.frames == (ur.encode_single(ur.psbt_to_ur(SMALL)).upper(),)


@pytest.mark.parametrize("max_version", [5, 20])
def test_bbqr_frames(max_version: int) -> None:
    animation = plan(LARGE, QrFormat.BBQR, max_version)
    assert animation.version <= max_version
    assert len(animation.frames) == animation.fragments
    assert all(f.startswith("B$ZP") for f in animation.frames)
    stream = animation.stream()
    assert [next(stream) for _ in range(2 * animation.fragments)] == list(animation.frames) * 2


@pytest.mark.parametrize("max_version", [4, 41])
def test_version_range(max_version: int) -> None:
    with pytest.raises(UsageError) as caught:
        plan(SMALL, QrFormat.UR, max_version)
    assert caught.value.code == "qr.version"


def test_legacy_formats_are_not_shown() -> None:
    with pytest.raises(UsageError):
        plan(SMALL, QrFormat.PMOFN)


def test_base43_is_one_frame_in_the_smallest_version_that_holds_it() -> None:
    animation = plan(SMALL, QrFormat.BASE43, 40)
    assert animation.frames == (base43.encode(SMALL),) and animation.fragments == 1
    assert len(animation.frames[0]) <= alphanumeric_capacity(animation.version)
    assert len(animation.frames[0]) > alphanumeric_capacity(animation.version - 1)
    with pytest.raises(UsageError) as caught:
        plan(SMALL, QrFormat.BASE43, animation.version - 1)
    assert caught.value.code == "qr.base43_too_large"
    with pytest.raises(UsageError) as caught:
        plan(LARGE, QrFormat.BASE43, 40)
    assert caught.value.code == "qr.base43_too_large"
