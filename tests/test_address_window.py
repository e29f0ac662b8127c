"""cold/confirm/address_window.py on a real X server (Xvfb), closed by xdotool as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from cold.confirm.address_window import AddressView, answer_lines, show_address_window
from psbtbridge.errors import ConfigError
from tests.conftest import ROOT, screenshot
from tests.support.address_window_runner import sample_address_view
from tests.test_confirm_gui import send_wm_delete, xdo


class Window:
    """One address window process on the test display, once it is visible."""

    def __init__(self, display: str, **options: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.address_window_runner", json.dumps(options)],
            cwd=ROOT,
            env={**os.environ, "DISPLAY": display},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            found = xdo("search", "--sync", "--onlyvisible", "--name", "^psbtbridge: address check")
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self.window = found.split()[0]

    def geometry(self) -> dict[str, int]:
        shell = xdo("getwindowgeometry", "--shell", self.window)
        return {k: int(v) for k, v in (line.split("=") for line in shell.split())}

    def result(self, timeout: float = 10) -> dict[str, Any]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        finally:
            self.process.kill()
        assert self.process.returncode == 0, err
        result: dict[str, Any] = json.loads(out)
        return result


@pytest.mark.parametrize("ours", [True, False], ids=["ours", "not-ours"])
def test_window_fits_on_screen_and_screenshot(xdisplay: str, ours: bool) -> None:
    window = Window(xdisplay, ours=ours)
    try:
        time.sleep(0.3)
        path = screenshot(xdisplay, "address_window_" + ("ours" if ours else "not_ours"))
        geometry = window.geometry()
    finally:
        xdo("key", "Escape")
    assert geometry["X"] >= 0 and geometry["Y"] >= 0
    assert geometry["X"] + geometry["WIDTH"] <= 1280
    assert geometry["Y"] + geometry["HEIGHT"] <= 1024
    assert path.stat().st_size > 10_000
    assert window.result() == {"closed": True}


def test_close_button_closes(xdisplay: str) -> None:
    window = Window(xdisplay, ours=True)
    geometry = window.geometry()
    # Close is the bottom-right widget; the window pads its edges by 18 px.
    x, y = geometry["WIDTH"] - 40, geometry["HEIGHT"] - 32
    xdo("mousemove", "--window", window.window, str(x), str(y), "click", "1")
    assert window.result() == {"closed": True}


@pytest.mark.parametrize("key", ["Escape", "Return"])
def test_keys_close(xdisplay: str, key: str) -> None:
    window = Window(xdisplay, ours=False)
    time.sleep(0.2)  # mapped and focused
    xdo("key", key)
    assert window.result() == {"closed": True}


def test_window_manager_close_and_timeout(xdisplay: str) -> None:
    window = Window(xdisplay, ours=True)
    send_wm_delete(xdisplay, window.window)
    assert window.result() == {"closed": True}
    started = time.monotonic()
    timed = Window(xdisplay, ours=False, timeout_s=1.0)
    assert timed.result() == {"closed": True}
    assert time.monotonic() - started >= 1.0


def test_what_the_window_says() -> None:
    ours = sample_address_view(True)
    assert answer_lines(ours) == ("Wallet vault, change address 999", "Path m/48h/1h/0h/2h/1/999")
    assert "indexes 0 to 999" in answer_lines(sample_address_view(False))[0]


def test_no_display_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    view: AddressView = sample_address_view(True)
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ConfigError) as unset:
        show_address_window(view)
    monkeypatch.setenv("DISPLAY", ":4321")
    with pytest.raises(ConfigError) as unreachable:
        show_address_window(view)
    assert unset.value.code == unreachable.value.code == "confirm.no_display"
    with pytest.raises(ConfigError) as timing:
        show_address_window(view, timeout_s=0)
    assert timing.value.code == "confirm.bad_timing"
