"""A Tk window that plays an animated QR code until closed (Esc, q or the window button).

For UR it keeps drawing fresh fountain parts, so a camera that missed frames is never stuck
waiting for the loop to come round. The sha256 under the code is what the scanning side
shows once it has the whole PSBT.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from psbtbridge.errors import Code, UsageError
from psbtbridge.qr.animation import Animation
from psbtbridge.qr.capacity import modules
from psbtbridge.qr.render import QUIET_ZONE, render

TARGET_SIZE = 640  # pixels for the code: big enough for a phone at arm's length


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show(animation: Animation, fps: float, caption: str) -> None:
    """Play the animation in a window; returns when the window is closed."""
    try:
        import tkinter
        from tkinter import font as tkfont

        from PIL import ImageTk
    except ImportError as error:
        raise UsageError(
            Code.QR_NO_DISPLAY, "the QR window needs tkinter (Debian: python3-tk)"
        ) from error
    try:
        root = tkinter.Tk(className="psbt-qr")
    except tkinter.TclError as error:
        raise UsageError(
            Code.QR_NO_DISPLAY,
            "cannot open the QR window (no X display?): use --out DIR or --gif FILE",
        ) from error
    root.title(f"psbt qr show: {animation.format.value}")
    root.configure(background="white")
    box = max(2, TARGET_SIZE // (modules(animation.version) + 2 * QUIET_ZONE))
    picture = tkinter.Label(root, background="white", borderwidth=0)
    picture.pack(padx=12, pady=12)
    mono = tkfont.Font(family="DejaVu Sans Mono", size=12)
    tkinter.Label(root, text=caption, font=mono, background="white", justify="left").pack(
        padx=12, pady=(0, 4)
    )
    status = tkinter.Label(root, font=mono, background="white", foreground="#555555")
    status.pack(padx=12, pady=(0, 12))
    frames: Iterator[str] = animation.stream()
    interval = 1 / fps
    shown = 0
    last = ""

    def next_frame() -> None:
        nonlocal shown, last
        started = time.monotonic()
        text = next(frames)
        if text != last:  # one frame (base43, a short UR) is drawn once, not at every tick
            image = ImageTk.PhotoImage(render(text, animation.version, box))
            picture.configure(image=image)
            picture.image = image  # type: ignore[attr-defined]  # keep a reference: Tk does not
            last = text
        shown += 1
        status.configure(text=f"frame {shown}  ·  needs ≥ {animation.fragments}  ·  Esc closes")
        spent = time.monotonic() - started
        root.after(max(1, round((interval - spent) * 1000)), next_frame)

    for key in ("<Escape>", "q"):
        root.bind(key, lambda _event: root.destroy())
    next_frame()
    root.mainloop()
