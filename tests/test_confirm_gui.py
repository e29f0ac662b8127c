"""The Tk confirmation dialog on a real X server (Xvfb), driven by xdotool as a user would.

Each dialog runs in its own process (tests/support/confirm_gui_runner.py), so a dialog that hangs
fails its test instead of taking pytest down.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from cold.confirm.gui import confirm_gui
from psbtbridge.errors import BridgeError, ConfigError
from tests.conftest import ROOT, screenshot
from tests.support.confirm_samples import sample_view

WARNING = "fee is 3.09% of the outputs, above the policy warning level of 2%"


def xdo(*args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


class Dialog:
    """One confirm_gui process on the test display, and its window once it is visible."""

    def __init__(self, display: str, **options: Any) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.confirm_gui_runner", json.dumps(options)],
            cwd=ROOT,
            env={**os.environ, "DISPLAY": display},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            found = xdo("search", "--sync", "--onlyvisible", "--name", "^psbtbridge: sign request")
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self.shown_at = time.monotonic()
        self.window = found.split()[0]

    def key(self, *keys: str) -> None:
        xdo("key", "--delay", "50", *keys)

    def type_text(self, text: str) -> None:
        xdo("type", "--delay", "20", text)

    def click_sign(self) -> None:
        # Sign is the bottom-right widget; the dialog pads its edges by 14 px.
        geometry = dict(
            line.split("=") for line in xdo("getwindowgeometry", "--shell", self.window).split()
        )
        x, y = int(geometry["WIDTH"]) - 30, int(geometry["HEIGHT"]) - 25
        xdo("mousemove", "--window", self.window, str(x), str(y), "click", "1")

    def alive(self) -> bool:
        return self.process.poll() is None

    def result(self, timeout: float = 10) -> dict[str, Any]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        finally:
            self.process.kill()
        assert self.process.returncode == 0, err
        result: dict[str, Any] = json.loads(out)
        return result


def wheel_down(dialog: Dialog, clicks: int) -> None:
    """Turn the mouse wheel downwards over the dialog's scrolling box, and let it redraw."""
    xdo("mousemove", "--window", dialog.window, "300", "250")
    xdo("click", "--repeat", str(clicks), "--delay", "30", "5")
    time.sleep(0.5)


def send_wm_delete(display: str, window: str) -> None:
    """Ask the window to close as a window manager's close button does (WM_DELETE_WINDOW)."""

    class ClientMessage(ctypes.Structure):
        _fields_ = (
            ("type", ctypes.c_int),
            ("serial", ctypes.c_ulong),
            ("send_event", ctypes.c_int),
            ("display", ctypes.c_void_p),
            ("window", ctypes.c_ulong),
            ("message_type", ctypes.c_ulong),
            ("format", ctypes.c_int),
            ("data", ctypes.c_long * 5),
        )

    class XEvent(ctypes.Union):
        _fields_ = (("xclient", ClientMessage), ("pad", ctypes.c_long * 24))

    x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = (ctypes.c_char_p,)
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int)
    x11.XSendEvent.argtypes = (
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.c_int,
        ctypes.c_long,
        ctypes.POINTER(XEvent),
    )
    x11.XFlush.argtypes = x11.XCloseDisplay.argtypes = (ctypes.c_void_p,)
    connection = x11.XOpenDisplay(display.encode())
    assert connection
    event = XEvent()
    event.xclient.type = 33  # ClientMessage
    event.xclient.window = int(window)
    event.xclient.message_type = x11.XInternAtom(connection, b"WM_PROTOCOLS", 0)
    event.xclient.format = 32
    event.xclient.data[0] = x11.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
    x11.XSendEvent(connection, int(window), 0, 0, ctypes.byref(event))
    x11.XFlush(connection)
    x11.XCloseDisplay(connection)


def test_escape_declines(xdisplay: str) -> None:
    dialog = Dialog(xdisplay)
    dialog.key("Escape")
    assert dialog.result() == {
        "approved": False,
        "passphrase": None,
        "reason_code": "confirm.declined",
    }


def test_sign_is_dead_for_two_seconds_then_a_click_approves(xdisplay: str) -> None:
    dialog = Dialog(xdisplay)
    dialog.click_sign()
    xdo("mousedown", "1")  # pressed while disabled, released once Sign is live
    time.sleep(max(0.0, dialog.shown_at + 2.3 - time.monotonic()))
    xdo("mouseup", "1")
    time.sleep(0.3)
    assert dialog.alive(), "a click or press before the delay must not sign"
    dialog.click_sign()  # the same spot: it was the Sign button all along
    result = dialog.result()
    assert result == {"approved": True, "passphrase": None, "reason_code": "confirm.approved"}


def _wrong_then(dialog: Dialog, tries: list[str]) -> None:
    """Type each passphrase and press Sign; a wrong one keeps the dialog open."""
    time.sleep(max(0.0, dialog.shown_at + 0.8 - time.monotonic()))  # Sign is armed
    for typed in tries:
        dialog.type_text(typed)
        dialog.click_sign()
        time.sleep(0.5)


def test_a_wrong_passphrase_keeps_the_dialog_open_for_another_try(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, needs_passphrase=True, sign_delay_s=0.5, passphrase_ok="right")
    _wrong_then(dialog, ["wrong", "wronger"])
    assert dialog.alive(), "two wrong passphrases leave a third try"
    screenshot(xdisplay, "confirm_dialog_wrong_passphrase")
    _wrong_then(dialog, ["right"])
    assert dialog.result() == {
        "approved": True,
        "passphrase": "right",
        "reason_code": "confirm.approved",
    }


def test_three_wrong_passphrases_sign_nothing(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, needs_passphrase=True, sign_delay_s=0.5, passphrase_ok="right")
    _wrong_then(dialog, ["one", "two", "three"])
    out, _ = dialog.process.communicate(timeout=10)
    assert dialog.process.returncode == 1
    assert json.loads(out) == {"error": "keystore.bad_passphrase"}


def test_enter_never_signs_and_typed_passphrase_is_returned(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, needs_passphrase=True, sign_delay_s=0.5)
    dialog.key("Return")  # before the delay
    dialog.type_text("correct horse")
    time.sleep(max(0.0, dialog.shown_at + 0.8 - time.monotonic()))
    dialog.key("Return", "KP_Enter")  # after the delay, with focus in the passphrase
    time.sleep(0.5)
    assert dialog.alive(), "Enter must never sign"
    dialog.key("Tab", "Tab", "space")  # passphrase -> Decline -> Sign, pressed deliberately
    assert dialog.result() == {
        "approved": True,
        "passphrase": "correct horse",
        "reason_code": "confirm.approved",
    }


def test_no_answer_times_out(xdisplay: str) -> None:
    started = time.monotonic()
    dialog = Dialog(xdisplay, timeout_s=1.5, sign_delay_s=0.5)
    result = dialog.result()
    assert result["reason_code"] == "confirm.timeout"
    assert not result["approved"]
    assert time.monotonic() - started >= 1.5


def test_window_manager_close_declines(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, sign_delay_s=0.2)
    time.sleep(0.4)  # Sign is live: closing must still decline
    send_wm_delete(xdisplay, dialog.window)
    assert dialog.result()["reason_code"] == "confirm.declined"


def test_window_destroyed_by_another_client_declines(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, sign_delay_s=0.2)
    time.sleep(0.4)
    xdo("windowclose", dialog.window)
    assert dialog.result()["reason_code"] == "confirm.declined"


def test_dialog_fits_on_screen_and_screenshot(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, needs_passphrase=True, warnings=[WARNING])
    try:
        time.sleep(0.3)
        path = screenshot(xdisplay, "confirm_dialog")
        geometry = xdo("getwindowgeometry", "--shell", dialog.window)
    finally:
        dialog.key("Escape")
    values = dict(line.split("=") for line in geometry.split())
    assert int(values["X"]) >= 0 and int(values["Y"]) >= 0
    assert int(values["X"]) + int(values["WIDTH"]) <= 1280
    assert int(values["Y"]) + int(values["HEIGHT"]) <= 1024
    assert path.stat().st_size > 10_000
    assert dialog.result()["reason_code"] == "confirm.declined"


def test_long_output_list_scrolls_instead_of_growing(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, extra_outputs=60)
    try:
        geometry = xdo("getwindowgeometry", "--shell", dialog.window)
    finally:
        dialog.key("Escape")
    assert int(dict(line.split("=") for line in geometry.split())["HEIGHT"]) < 800
    assert dialog.result()["reason_code"] == "confirm.declined"


def test_no_display_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ConfigError) as unset:
        confirm_gui(sample_view())
    monkeypatch.setenv("DISPLAY", ":4321")  # no server there
    with pytest.raises(ConfigError) as unreachable:
        confirm_gui(sample_view())
    assert unset.value.code == unreachable.value.code == "confirm.no_display"


@pytest.mark.parametrize(("timeout_s", "delay_s"), [(0, 0), (1.5, 2.0), (5000, 2.0), (5, -1)])
def test_impossible_timing_is_refused(timeout_s: float, delay_s: float) -> None:
    with pytest.raises(BridgeError) as error:
        confirm_gui(sample_view(), timeout_s=timeout_s, sign_delay_s=delay_s)
    assert error.value.code == "confirm.bad_timing"


def test_sign_stays_disabled_until_every_output_was_on_screen(xdisplay: str) -> None:
    """Issue 14 item 8: with 6 outputs two lie below the box's edge; Sign waits for them."""
    dialog = Dialog(xdisplay, extra_outputs=3, sign_delay_s=0.3)
    try:
        time.sleep(1.0)  # well past the delay
        dialog.click_sign()
        time.sleep(0.3)
        assert dialog.alive(), "Sign must wait until the hidden outputs were scrolled into view"
        screenshot(xdisplay, "confirm_dialog_6_outputs_unscrolled")
        wheel_down(dialog, 12)
        screenshot(xdisplay, "confirm_dialog_6_outputs_scrolled")
        dialog.click_sign()
    except BaseException:
        dialog.key("Escape")
        raise
    assert dialog.result() == {
        "approved": True,
        "passphrase": None,
        "reason_code": "confirm.approved",
    }


def test_a_short_list_needs_no_scrolling(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, extra_outputs=1, sign_delay_s=0.3)
    time.sleep(0.8)
    dialog.click_sign()
    assert dialog.result()["approved"]


def test_the_inputs_unfold_under_their_count(xdisplay: str) -> None:
    """Issue 14 item 8: the number of inputs, and behind a button the list of them."""
    import tkinter
    from tkinter import ttk

    from cold.confirm.gui import _Dialog

    root = tkinter.Tk(className="Psbtbridge")
    try:
        _Dialog(root, sample_view(), 20, 0.3, lambda: False)
        root.update()

        def widgets(parent: tkinter.Misc) -> list[tkinter.Misc]:
            found = [parent]
            for child in parent.winfo_children():
                found += widgets(child)
            return found

        (button,) = [
            w for w in widgets(root) if isinstance(w, ttk.Button) and "input" in w.cget("text")
        ]
        texts = [w for w in widgets(root) if isinstance(w, tkinter.Text)]
        listing = [t for t in texts if "ours: vault" in t.get("1.0", "end")]
        assert button.cget("text") == "Show the 2 inputs" and not listing[0].winfo_ismapped()
        button.invoke()
        root.update()
        time.sleep(0.2)
        root.update()
        assert listing[0].winfo_ismapped() and button.cget("text") == "Hide the inputs"
        assert listing[0].get("1.0", "end").count("#") == 2  # one entry per input
        screenshot(xdisplay, "confirm_dialog_inputs_shown")
    finally:
        root.destroy()


def test_a_bip322_proof_shows_its_message_and_signs(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, proof_lines=1, sign_delay_s=0.3)
    try:
        time.sleep(0.8)
        screenshot(xdisplay, "confirm_dialog_bip322_proof")
        dialog.click_sign()
    except BaseException:
        dialog.key("Escape")
        raise
    assert dialog.result()["approved"]


def test_sign_waits_for_the_end_of_a_long_proof_message(xdisplay: str) -> None:
    dialog = Dialog(xdisplay, proof_lines=30, sign_delay_s=0.3)
    try:
        time.sleep(1.0)
        dialog.click_sign()
        time.sleep(0.3)
        assert dialog.alive(), "Sign must wait until the message's last line was on screen"
        wheel_down(dialog, 40)
        dialog.click_sign()
    except BaseException:
        dialog.key("Escape")
        raise
    assert dialog.result()["approved"]
