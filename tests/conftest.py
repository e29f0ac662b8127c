"""Shared fixtures: where the shared vectors live, and a throw-away PSBTBRIDGE_HOME."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"


def load_vectors(name: str) -> Any:
    """Parse one JSON file from tests/vectors (e.g. "psbt/bip174.json")."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data folder, exported as PSBTBRIDGE_HOME."""
    folder = tmp_path / "home"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("PSBTBRIDGE_HOME", str(folder))
    return folder


ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots and other things a person may look at


@pytest.fixture(scope="session")
def xdisplay() -> Iterator[str]:
    """A real X server (Xvfb) for Tk windows under test; yields its DISPLAY name."""
    import os
    import shutil
    import subprocess

    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed: run `bash .ci/install`")
    # -displayfd lets Xvfb pick a free display itself and tell us which: no race between
    # parallel test workers choosing the same number.
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_fd,),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as announced:
        number = announced.readline().strip()
    if not number.isdigit():
        server.kill()
        pytest.fail("Xvfb did not start")
    display = f":{number}"
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        server.terminate()
        server.wait(timeout=10)


def screenshot(display: str, name: str) -> Path:
    """Save the whole X screen as tests/artifacts/NAME.png and return its path."""
    from PIL import ImageGrab

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    ImageGrab.grab(xdisplay=display).save(path)
    return path
