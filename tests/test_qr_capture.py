"""Frame sources: pictures through pyzbar, and a camera through a stand-in `zbarcam` on PATH."""

from __future__ import annotations

import io
import os
import stat
import zlib
from pathlib import Path

import pytest
from PIL import Image

from psbtbridge.errors import BridgeError, ConfigError, InvalidInput
from psbtbridge.qr import capture, render
from psbtbridge.qr.animation import plan
from psbtbridge.qr.joiner import QrFormat
from tests.conftest import VECTORS

PSBT = (VECTORS / "bbqr" / "test_data" / "1in20out.psbt").read_bytes()


def _png(image: Image.Image) -> bytes:
    return render.png_bytes(image)


def _huge_png() -> bytes:
    """A tiny file whose header claims 16000 x 16000 pixels (a decompression-bomb shape)."""
    png = _png(Image.new("L", (8, 8), 255))
    ihdr = b"IHDR" + (16000).to_bytes(4, "big") * 2 + png[24:29]
    return png[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + png[33:]


def test_two_codes_in_one_picture() -> None:
    animation = plan(PSBT, QrFormat.BBQR, 10)
    first, second = (render.render(f, animation.version) for f in animation.frames[:2])
    both = Image.new("L", (first.width * 2, first.height), 255)
    both.paste(first, (0, 0))
    both.paste(second, (first.width, 0))
    assert sorted(capture.decode_image(_png(both), "both.png")) == sorted(animation.frames[:2])


def test_every_frame_of_an_animated_gif(tmp_path: Path) -> None:
    animation = plan(PSBT, QrFormat.BBQR, 10)
    render.write_gif(animation.frames, animation.version, tmp_path / "a.gif", fps=5)
    assert capture.decode_image((tmp_path / "a.gif").read_bytes(), "a.gif") == list(
        animation.frames
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a picture", "qr.bad_image"),
        (_png(Image.new("L", (100, 100), 255)), "qr.no_code"),
        (_huge_png(), "qr.bad_image"),
    ],
    ids=["garbage", "blank", "huge"],
)
def test_bad_pictures(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        capture.decode_image(data, "x.png")
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"\x00\xffbinary", "qr.not_text"), (b"", "qr.not_text"), (b"A" * 8000, "qr.too_large")],
)
def test_frame_text(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        capture.frame_text(data, "x")
    assert caught.value.code == code


def test_missing_image_file(tmp_path: Path) -> None:
    with pytest.raises(BridgeError) as caught:
        list(capture.frames_from_images([str(tmp_path / "none.png")]))
    assert caught.value.code == "io.read_failed"


def _fake_zbarcam(folder: Path, script: str) -> None:
    path = folder / "zbarcam"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_camera_lines_and_arguments(fake_bin: Path, tmp_path: Path) -> None:
    args_file = tmp_path / "args"
    _fake_zbarcam(
        fake_bin, f"echo \"$@\" > {args_file}\nprintf 'B$HP0100AA\\n\\nsecond\\n'\nexec sleep 30\n"
    )
    frames = capture.frames_from_camera("/dev/video7")
    assert next(frames) == "B$HP0100AA"
    assert next(frames) == "second"
    frames.close()  # must stop the stand-in, not wait 30 s for it
    assert args_file.read_text().split() == ["--raw", "-Sdisable", "-Sqrcode.enable", "/dev/video7"]


def test_camera_stopping_early(fake_bin: Path) -> None:
    _fake_zbarcam(fake_bin, "echo one\nexit 1\n")
    frames = capture.frames_from_camera(None)
    assert next(frames) == "one"
    with pytest.raises(ConfigError) as caught:
        next(frames)
    assert caught.value.code == "qr.camera"


def test_camera_endless_line_refused(fake_bin: Path) -> None:
    _fake_zbarcam(fake_bin, "head -c 100000 /dev/zero | tr '\\\\0' A\n")
    with pytest.raises(InvalidInput) as caught:
        next(capture.frames_from_camera(None))
    assert caught.value.code == "qr.too_large"


def test_camera_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        next(capture.frames_from_camera(None))
    assert caught.value.code == "qr.camera"


def test_png_helper_round_trip() -> None:
    image = Image.new("L", (10, 10), 255)
    assert Image.open(io.BytesIO(_png(image))).size == (10, 10)
