"""The address check window: the cold qube's own screen saying whether an address is ours.

Shown for psbtbridge.ShowAddress: a compromised hot qube can put the attacker's address
where the user expects their own receive address, so the user compares the address on
this screen, group by group, with the one about to be given out, and reads OURS or NOT
OURS here, not on the hot side. Nothing is approved: one Close button (Esc, Enter and the
window manager's close do the same), and the window closes itself after `timeout_s`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cold.confirm.display import open_root
from psbtbridge.address import group_address
from psbtbridge.errors import BridgeError, Code, ConfigError

if TYPE_CHECKING:
    import tkinter as tk

MAX_TIMEOUT_S: Final = 3600.0
_TICK_MS: Final = 250  # the Tk loop returns to Python this often, so signals are handled
_RED: Final = "#b00020"
_GREEN: Final = "#1b5e20"


@dataclass(frozen=True)
class AddressView:
    """What the window shows: the address, the answer, who asked, the request code."""

    address: str
    ours: bool
    wallet: str | None  # with ours: the wallet and chain/index that derive it
    chain: str | None  # "receive" or "change"
    index: int | None
    path: str | None
    caller: str
    digest: str
    window: int  # indexes searched per chain, said when the answer is NOT OURS


def answer_lines(view: AddressView) -> tuple[str, ...]:
    """The sentences under the verdict, as the window shows them."""
    if view.ours:
        return (
            f"Wallet {view.wallet}, {view.chain} address {view.index}",
            f"Path {view.path}",
        )
    return (
        "No wallet of this signer derives this address (receive and change,"
        f" indexes 0 to {view.window - 1}).",
        "Do not give it out as yours: the asking qube may be showing someone else's address.",
    )


def show_address_window(
    view: AddressView,
    timeout_s: float = 120.0,
    caller_gone: Callable[[], bool] = lambda: False,
) -> None:
    """Show the window until the user closes it, timeout_s passes or (asked at each tick)
    the caller hangs up; ConfigError without X."""
    if not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ConfigError(
            Code.CONFIRM_BAD_TIMING, f"address window: timeout {timeout_s} s is out of range"
        )
    root = open_root("address window")
    import tkinter

    try:
        window = _Window(root, view, timeout_s, caller_gone)
    except tkinter.TclError as e:
        root.destroy()
        raise BridgeError(Code.INTERNAL_BUG, f"address window could not be built ({e})") from e
    root.mainloop()
    if window.failure is not None:
        raise BridgeError(
            Code.INTERNAL_BUG, f"address window failed: {window.failure!r}"
        ) from window.failure


class _Window:
    def __init__(
        self, root: tk.Tk, view: AddressView, timeout_s: float, caller_gone: Callable[[], bool]
    ) -> None:
        from tkinter import font as tkfont
        from tkinter import ttk

        self.root = root
        self.failure: BaseException | None = None
        self._finished = False
        self._deadline = time.monotonic() + timeout_s
        self._caller_gone = caller_gone
        root.report_callback_exception = self._on_callback_error
        root.title(f"psbtbridge: address check [{view.digest}]")
        for event in ("<Escape>", "<Return>", "<KP_Enter>"):
            root.bind(event, lambda _e: self._finish())
        root.protocol("WM_DELETE_WINDOW", self._finish)
        root.bind("<Destroy>", self._on_destroy, add="+")
        root.resizable(False, False)

        style = ttk.Style(root)
        style.theme_use("clam")
        family = tkfont.nametofont("TkDefaultFont").actual("family")
        mono = tkfont.nametofont("TkFixedFont").actual("family")
        # Kept on self: Tk deletes a named font when its Python object is collected, and the
        # styles would fall back to the small default font.
        self._fonts = {
            "Title": tkfont.Font(root, family=family, size=15, weight="bold"),
            "Text": tkfont.Font(root, family=family, size=12),
            "Address": tkfont.Font(root, family=mono, size=15, weight="bold"),
            "Digest": tkfont.Font(root, family=mono, size=12, weight="bold"),
            "Verdict": tkfont.Font(root, family=family, size=40, weight="bold"),
        }
        for name, font in self._fonts.items():
            style.configure(f"{name}.TLabel", font=font)
        style.configure("Verdict.TLabel", foreground=_GREEN if view.ours else _RED)

        frame = ttk.Frame(root, padding=18)
        frame.grid(sticky="nsew")
        ttk.Label(frame, text=f"Address check asked by {view.caller}", style="Title.TLabel").grid(
            row=0, column=0, sticky="w"
        )
        ttk.Label(frame, text=f"Request code {view.digest}", style="Digest.TLabel").grid(
            row=1, column=0, sticky="w", pady=(2, 12)
        )
        ttk.Label(frame, text=group_address(view.address), style="Address.TLabel").grid(
            row=2, column=0, sticky="w"
        )
        ttk.Label(frame, text="OURS" if view.ours else "NOT OURS", style="Verdict.TLabel").grid(
            row=3, column=0, sticky="w", pady=(10, 6)
        )
        for offset, line in enumerate(answer_lines(view)):
            ttk.Label(frame, text=line, style="Text.TLabel", wraplength=820).grid(
                row=4 + offset, column=0, sticky="w"
            )
        bottom = ttk.Frame(frame)
        bottom.grid(row=10, column=0, sticky="ew", pady=(16, 0))
        bottom.columnconfigure(0, weight=1)
        self._status = ttk.Label(bottom, text="")
        self._status.grid(row=0, column=0, sticky="w")
        close = ttk.Button(bottom, text="Close", command=self._finish)
        close.grid(row=0, column=1)

        root.update_idletasks()
        x = max(0, (root.winfo_screenwidth() - root.winfo_reqwidth()) // 2)
        y = max(0, (root.winfo_screenheight() - root.winfo_reqheight()) // 3)
        root.geometry(f"+{x}+{y}")
        # The user is looking at the hot qube's window: this one must not open behind it.
        root.attributes("-topmost", True)
        root.lift()
        root.focus_force()
        close.focus_set()
        self._tick()

    def _tick(self) -> None:
        if self._finished:
            return
        left = self._deadline - time.monotonic()
        if left <= 0 or self._caller_gone():
            self._finish()
            return
        self._status.configure(text=f"Closes by itself in {int(left) + 1} s.")
        self.root.after(_TICK_MS, self._tick)

    def _on_destroy(self, event: tk.Event[tk.Misc]) -> None:
        if event.widget is self.root:
            self._finished = True

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.root.destroy()

    def _on_callback_error(
        self, _kind: type[BaseException], error: BaseException, _tb: object
    ) -> None:
        self.failure = error
        self._finish()
