"""Confirming a message signature in a Tk dialog, under the same rules as a transaction's
(cold/confirm/gui.py: Sign dead for a moment after the window appears, Enter never signs,
Esc, closing and the timeout decline).

The message is shown made visible (psbtbridge.message.visible_lines), whole, in a
read-only scrolling box, under a heading that says it is a message and not a payment.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from cold.confirm.gui import SignDialog, run_dialog
from cold.confirm.message import MessageView, escape_note, message_rows, title
from cold.confirm.view import REQUEST_CODE, Decision
from psbtbridge.message import visible_lines

if TYPE_CHECKING:
    import tkinter as tk

_VISIBLE_MESSAGE_LINES: Final = 12  # beyond this the message scrolls
#: Rows a line takes once wrapped: the box is 86 columns, and word wrap breaks earlier.
_WRAP_COLUMNS: Final = 76


def confirm_message_gui(
    view: MessageView,
    timeout_s: float = 300,
    sign_delay_s: float = 2.0,
    caller_gone: Callable[[], bool] = lambda: False,
) -> Decision:
    """Show the message dialog and wait for the user's answer; a service's caller hanging
    up closes it as declined (service.caller_gone), as the transaction dialog does."""
    return run_dialog(
        lambda root: _MessageDialog(root, view, timeout_s, sign_delay_s, caller_gone),
        timeout_s,
        sign_delay_s,
    )


class _MessageDialog(SignDialog):
    def __init__(
        self,
        root: tk.Tk,
        view: MessageView,
        timeout_s: float,
        sign_delay_s: float,
        caller_gone: Callable[[], bool],
    ) -> None:
        from tkinter import ttk

        super().__init__(root, title(view), timeout_s, sign_delay_s, caller_gone)
        frame = self.frame
        row = 0
        ttk.Label(frame, text="Sign a MESSAGE (not a payment)", style="Title.TLabel").grid(
            row=row, column=0, columnspan=2, sticky="w"
        )
        row += 1
        ttk.Label(frame, text=f"Request from {view.caller}").grid(
            row=row, column=0, columnspan=2, sticky="w", pady=(0, 10)
        )
        row += 1
        if view.digest is not None:  # over qrexec: the code dom0's prompt showed
            ttk.Label(frame, text=REQUEST_CODE, style="MonoBold.TLabel").grid(
                row=row, column=0, sticky="w", padx=(0, 12)
            )
            ttk.Label(frame, text=view.digest, style="Digest.TLabel").grid(
                row=row, column=1, sticky="w"
            )
            row += 1
        for label, value in message_rows(view):
            ttk.Label(frame, text=label, style="MonoBold.TLabel").grid(
                row=row, column=0, sticky="w", padx=(0, 12)
            )
            ttk.Label(frame, text=value, style="Mono.TLabel").grid(row=row, column=1, sticky="w")
            row += 1
        note = escape_note(view)
        if note is not None:
            ttk.Label(frame, text=note, style="Warning.TLabel", wraplength=760).grid(
                row=row, column=0, columnspan=2, sticky="w", pady=(6, 0)
            )
            row += 1
        lines = visible_lines(view.text)
        rows = sum(max(1, math.ceil(len(line) / _WRAP_COLUMNS)) for line in lines)
        box, text = self.scrolling_text(frame, min(rows, _VISIBLE_MESSAGE_LINES))
        text.insert("end", "\n".join(lines))
        # Disabled still lets the mouse select and copy, but nothing can edit what is shown.
        text.configure(state="disabled")
        box.grid(row=row, column=0, columnspan=2, sticky="nsew", pady=(10, 0))
        row += 1
        self.finish_layout(row, view.needs_passphrase)
