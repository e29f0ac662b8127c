"""Test-only: driving Tk dialogs on the test X server (Xvfb) with xdotool, as a user would."""

from __future__ import annotations

import subprocess


def xdo(*args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


def wait_for_window(title: str, timeout: float = 30) -> str:
    """The id of the first visible window whose name matches the regex title, once it shows."""
    found = subprocess.run(
        ["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
        capture_output=True, text=True, check=True, timeout=timeout,
    )  # fmt: skip
    return found.stdout.split()[0]


def click_sign(window: str) -> None:
    """Click a signing dialog's Sign button: the bottom-right widget (the edges pad 14 px)."""
    shell = xdo("getwindowgeometry", "--shell", window).split()
    geometry = dict(line.split("=") for line in shell)
    x, y = int(geometry["WIDTH"]) - 30, int(geometry["HEIGHT"]) - 25
    xdo("mousemove", "--window", window, str(x), str(y), "click", "1")


def window_visible(title: str) -> bool:
    """Whether a window whose name matches the regex title is on the screen now."""
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, check=False
    )
    return found.stdout != b""
