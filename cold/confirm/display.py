"""The X display a cold window opens on: one Tk root, or a clear refusal naming what is missing."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from psbtbridge.errors import Code, ConfigError

if TYPE_CHECKING:
    import tkinter as tk


def open_root(what: str) -> tk.Tk:
    """A Tk root on $DISPLAY for `what` (named in every refusal); ConfigError without X or Tk.

    tkinter is imported here, only when a person is asked: unattended signing never loads it.
    """
    try:
        import tkinter
    except ImportError as e:
        raise ConfigError(
            Code.CONFIRM_NO_TK, f"{what}: tkinter is missing (Debian: python3-tk)"
        ) from e
    if not os.environ.get("DISPLAY"):
        raise ConfigError(Code.CONFIRM_NO_DISPLAY, f"{what}: DISPLAY is not set")
    try:
        return tkinter.Tk(className="Psbtbridge")
    except tkinter.TclError as e:
        raise ConfigError(
            Code.CONFIRM_NO_DISPLAY, f"{what}: cannot open the X display ({e})"
        ) from e
