"""Rendering: pictures pyzbar reads back, at the planned version, as PNG files and a GIF."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pyzbar import pyzbar

from psbtbridge.errors import UsageError
from psbtbridge.qr import render
from psbtbridge.qr.animation import plan
from psbtbridge.qr.capacity import modules
from psbtbridge.qr.joiner import QrFormat
from tests.conftest import VECTORS

PSBT = (VECTORS / "bbqr" / "test_data" / "1in20out.psbt").read_bytes()


def _read(image: Image.Image) -> list[bytes]:
    return [s.data for s in pyzbar.decode(image, symbols=[pyzbar.ZBarSymbol.QRCODE])]


def test_render_reads_back_at_the_version() -> None:
    animation = plan(PSBT, QrFormat.UR, 12)
    image = render.render(animation.frames[0], animation.version, box_size=3)
    side = (modules(animation.version) + 2 * render.QUIET_ZONE) * 3
    assert image.size == (side, side)
    assert _read(image) == [animation.frames[0].encode()]


def test_frame_too_big_for_version() -> None:
    with pytest.raises(UsageError) as caught:
        render.render("A" * 200, 5)
    assert caught.value.code == "qr.version"


def test_pngs_and_gif(tmp_path: Path) -> None:
    animation = plan(PSBT, QrFormat.BBQR, 10)
    paths = render.write_pngs(animation.frames, animation.version, tmp_path / "frames")
    assert [p.name for p in paths] == [f"frame-{n:04d}.png" for n in range(1, len(paths) + 1)]
    assert [_read(Image.open(p))[0].decode() for p in paths] == list(animation.frames)
    gif = tmp_path / "a.gif"
    render.write_gif(animation.frames, animation.version, gif, fps=4)
    with Image.open(gif) as image:
        assert image.n_frames == len(animation.frames)
        assert image.info["duration"] == 250
        assert image.info["loop"] == 0
