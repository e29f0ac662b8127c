"""The Tk QR window under a real X server (Xvfb): it shows a readable code and keeps it fresh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from pyzbar import pyzbar

from psbtbridge.qr import ur
from psbtbridge.qr.fountain import Part
from tests.conftest import VECTORS, screenshot

PSBT_FILE = VECTORS / "bbqr" / "test_data" / "1in20out.psbt"
PSBT_BIN = Path(sys.executable).parent / "psbt"


def _visible_part(display: str) -> Part:
    path = screenshot(display, "qr_window")
    symbols = pyzbar.decode(Image.open(path), symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert len(symbols) == 1
    frame = ur.parse(symbols[0].data.decode("ascii"))
    assert frame.ur_type == "crypto-psbt"
    assert isinstance(frame.body, Part)
    return frame.body


def test_window_plays_fresh_fountain_parts(xdisplay: str) -> None:
    window = subprocess.Popen(
        [str(PSBT_BIN), "qr", "show", str(PSBT_FILE), "--max-version", "10", "--fps", "15"],
        env={**os.environ, "DISPLAY": xdisplay},
        stderr=subprocess.PIPE,
    )
    try:
        found = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--name", "psbt qr show"],
            env={**os.environ, "DISPLAY": xdisplay},
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        window_id = found.stdout.split()[0]
        first = _visible_part(xdisplay)
        seq_len = first.seq_len
        deadline = time.monotonic() + 20
        latest = first
        while latest.seq_num <= 2 * seq_len:
            assert time.monotonic() < deadline, "the window stopped producing new parts"
            time.sleep(0.3)
            latest = _visible_part(xdisplay)
        # beyond the file loop (2 x seqLen): fresh fountain parts of the same message
        assert latest.checksum == first.checksum
        subprocess.run(
            ["xdotool", "windowfocus", "--sync", window_id, "key", "Escape"],
            env={**os.environ, "DISPLAY": xdisplay},
            check=True,
            timeout=10,
        )
        assert window.wait(timeout=10) == 0
    finally:
        if window.poll() is None:
            window.kill()
            window.wait()
    assert window.stderr is not None
    assert b"sha256 " in window.stderr.read()
