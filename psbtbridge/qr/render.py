"""Frame texts to pictures (qrcode + Pillow): PNG files, an animated GIF, or images for the window.

An edge module: it needs the `qr` extra. Every frame of one animation is drawn at the same
QR version and ECC L, in alphanumeric mode, so the code does not jump in size as it plays.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import qrcode
import qrcode.util
from PIL import Image
from qrcode.image.pil import PilImage

from psbtbridge.errors import Code, UsageError
from psbtbridge.files import write_atomic

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def render(text: str, version: int, box_size: int = 4) -> Image.Image:
    """One frame as a black-on-white greyscale image."""
    code = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_L,
        box_size=box_size,
        border=QUIET_ZONE,
        image_factory=PilImage,
    )
    try:
        code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_ALPHA_NUM))
        code.make(fit=False)
    except (ValueError, qrcode.exceptions.DataOverflowError) as error:
        raise UsageError(Code.QR_VERSION, f"a frame does not fit QR version {version}") from error
    image: Image.Image = code.make_image().get_image()
    return image.convert("L")


def png_bytes(image: Image.Image) -> bytes:
    """A frame as PNG, without optimize=True: that search for the smallest encoding took
    18-30 ms of a 40-60 ms frame and saves a few hundred bytes of a picture that is shown,
    not stored or sent."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_pngs(frames: Sequence[str], version: int, folder: Path) -> list[Path]:
    """frame-0001.png, frame-0002.png, ... in folder (created if missing), each written atomically."""
    width = max(4, len(str(len(frames))))
    paths = []
    for number, text in enumerate(frames, 1):
        path = folder / f"frame-{number:0{width}d}.png"
        write_atomic(path, png_bytes(render(text, version)), mode=0o644)
        paths.append(path)
    return paths


def write_gif(frames: Sequence[str], version: int, path: Path, fps: float) -> None:
    """An endlessly looping animated GIF, written atomically."""
    images = [render(text, version) for text in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, round(1000 / fps)),
        loop=0,
        optimize=False,
    )
    write_atomic(path, buffer.getvalue(), mode=0o644)
