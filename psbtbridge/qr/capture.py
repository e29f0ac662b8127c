"""Where scanned frames come from: image files through pyzbar, or a camera through `zbarcam --raw`.

An edge module. What it yields is still untrusted text: only its size and its being
printable ASCII are checked here, everything else is the joiner's job.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Generator
from typing import Final

from PIL import Image, ImageSequence, UnidentifiedImageError
from pyzbar import pyzbar

from psbtbridge.errors import Code, ConfigError, InvalidInput
from psbtbridge.files import read_input
from psbtbridge.qr.joiner import MAX_FRAME_LEN

MAX_IMAGE_BYTES: Final = 32 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 200_000_000  # all frames together: a 400-frame 700x700 GIF
_PRINTABLE: Final = frozenset(range(0x20, 0x7F))


def frame_text(untrusted_data: bytes, where: str) -> str:
    """A QR payload as text: printable ASCII only (UR, BBQr and base64 all are)."""
    data = untrusted_data.strip()
    if len(data) > MAX_FRAME_LEN:
        raise InvalidInput(Code.QR_TOO_LARGE, f"{where}: a QR code holds more than any QR code can")
    if not data or not _PRINTABLE.issuperset(data):
        raise InvalidInput(Code.QR_NOT_TEXT, f"{where}: the QR code holds binary data, not text")
    return data.decode("ascii")


def decode_image(untrusted_data: bytes, name: str) -> list[str]:
    """The text of every QR code in one picture (every frame of an animated one)."""
    texts: list[str] = []
    try:
        with Image.open(io.BytesIO(untrusted_data)) as image:
            width, height = image.size
            frame_count = getattr(image, "n_frames", 1)
            if width * height * frame_count > MAX_IMAGE_PIXELS:
                raise InvalidInput(Code.QR_BAD_IMAGE, f"{name}: picture is too large")
            for frame in ImageSequence.Iterator(image):
                symbols = pyzbar.decode(frame.convert("L"), symbols=[pyzbar.ZBarSymbol.QRCODE])
                texts += [frame_text(symbol.data, name) for symbol in symbols]
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise InvalidInput(Code.QR_BAD_IMAGE, f"{name}: not a readable picture") from error
    if not texts:
        raise InvalidInput(Code.QR_NO_CODE, f"{name}: no QR code found")
    return texts


def frames_from_images(paths: list[str]) -> Generator[tuple[str, str], None, None]:
    """(image name, frame text) for every QR code in every image, in the order given."""
    for path in paths:
        for text in decode_image(read_input(path, MAX_IMAGE_BYTES), path):
            yield path, text


def frames_from_camera(device: str | None) -> Generator[str, None, None]:
    """Frames as zbarcam decodes them, one line each; the scanner stops when the caller does."""
    command = ["zbarcam", "--raw", "-Sdisable", "-Sqrcode.enable"]
    if device:
        command.append(device)
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except OSError as error:
        raise ConfigError(
            Code.QR_CAMERA, f"cannot run zbarcam ({error.strerror}); Debian: apt install zbar-tools"
        ) from error
    assert process.stdout is not None  # stdout=PIPE
    try:
        while True:
            # Bounded read: a line longer than any QR code is refused, not buffered.
            line = process.stdout.readline(MAX_FRAME_LEN + 2)
            if not line:
                break
            if not line.endswith(b"\n") and len(line) > MAX_FRAME_LEN:
                raise InvalidInput(Code.QR_TOO_LARGE, "camera: a frame is longer than any QR code")
            if line.strip():
                yield frame_text(line, "camera")
        status = process.wait()
        raise ConfigError(
            Code.QR_CAMERA, f"zbarcam stopped (status {status}) before the scan was complete"
        )
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
