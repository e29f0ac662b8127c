"""Confirmation in a Tk dialog: the cold qube's own trusted display of what will be signed.

Safety rules of the dialog (README "Confirming a signature"):
- Sign stays disabled for `sign_delay_s` after the window is mapped, so a click or key
  meant for another window when the dialog pops up cannot approve it, and until every
  output has been on screen: a list longer than the box must be scrolled through first.
- Enter never signs and Sign never has the initial focus: the user clicks Sign, or Tabs to
  it and presses space. The initial focus is the passphrase field, else Decline.
- Esc, Decline, closing the window and `timeout_s` without an answer all decline.
- No reachable X display raises ConfigError `confirm.no_display` (exit 4) rather than
  returning a declined Decision: nobody said no, the signer could not ask.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from cold.confirm.display import open_root
from cold.confirm.view import (
    DECLINED,
    PASSPHRASE_TRIES,
    REQUEST_CODE,
    TIMEOUT,
    ConfirmationView,
    Decision,
    PassphraseCheck,
    input_text,
    output_heading,
    output_target,
    proof_heading,
    proof_lines,
    summary_rows,
    title,
)
from psbtbridge.amount import format_btc
from psbtbridge.errors import BridgeError, Code, ConfigError

if TYPE_CHECKING:
    import tkinter as tk
    from tkinter import font as tkfont
    from tkinter import ttk

MAX_TIMEOUT_S: Final = 3600.0
CALLER_GONE: Final = Code.SERVICE_CALLER_GONE
_VISIBLE_OUTPUT_LINES: Final = 15  # beyond this the output list scrolls
_VISIBLE_INPUT_LINES: Final = 6
_TEXT_COLUMNS: Final = 86  # a 64-character regtest taproot address, grouped, plus indent
_RED: Final = "#b00020"
_GREEN: Final = "#1b5e20"
_AMBER: Final = "#8a5a00"
_KIND_COLOURS: Final = {
    "change": _GREEN,
    "self": _GREEN,
    "transfer": _AMBER,
    "op_return": _AMBER,
    "unknown": _AMBER,
}


def confirm_gui(
    view: ConfirmationView,
    timeout_s: float = 300,
    sign_delay_s: float = 2.0,
    caller_gone: Callable[[], bool] = lambda: False,
    check_passphrase: PassphraseCheck | None = None,
) -> Decision:
    """Show the dialog and wait for the user; see the module docstring for its rules.

    caller_gone is asked at every timer tick: when the caller has hung up, the dialog
    closes as declined (service.caller_gone), so nobody confirms a signature nobody gets.
    check_passphrase: a wrong passphrase is shown in the dialog, which stays open for
    another try (PASSPHRASE_TRIES in all).
    """

    def build(root: tk.Tk) -> SignDialog:
        dialog = _Dialog(root, view, timeout_s, sign_delay_s, caller_gone)
        dialog.check_passphrase = check_passphrase
        return dialog

    return run_dialog(build, timeout_s, sign_delay_s)


def run_dialog(
    build: Callable[[tk.Tk], SignDialog], timeout_s: float, sign_delay_s: float
) -> Decision:
    """Open a Tk root on the display, build one SignDialog in it and wait for its answer."""
    if not (0 < timeout_s <= MAX_TIMEOUT_S) or not (0 <= sign_delay_s < timeout_s):
        raise ConfigError(
            Code.CONFIRM_BAD_TIMING,
            f"confirmation dialog: need 0 < sign delay ({sign_delay_s} s) < timeout "
            f"({timeout_s} s) <= {MAX_TIMEOUT_S:.0f} s",
        )
    root = open_root("confirmation dialog")
    import tkinter

    try:
        dialog = build(root)
    except tkinter.TclError as e:
        root.destroy()
        raise BridgeError(Code.INTERNAL_BUG, f"confirmation dialog could not be built ({e})") from e
    root.mainloop()
    if isinstance(dialog.failure, ConfigError):
        raise dialog.failure  # e.g. three wrong passphrases: its own code, not a bug
    if dialog.failure is not None:
        raise BridgeError(
            Code.INTERNAL_BUG, f"confirmation dialog failed: {dialog.failure!r}"
        ) from dialog.failure
    return dialog.decision


class SignDialog:
    """The rules every signing dialog keeps (module docstring); a subclass builds its body
    into `self.frame` from row 0 and then calls `finish_layout`. `decision` stays declined
    unless Sign is really pressed."""

    def __init__(
        self,
        root: tk.Tk,
        window_title: str,
        timeout_s: float,
        sign_delay_s: float,
        caller_gone: Callable[[], bool] = lambda: False,
    ) -> None:
        from tkinter import font as tkfont
        from tkinter import ttk

        self.root = root
        self.decision = Decision.decline(DECLINED)
        self.failure: BaseException | None = None
        self._finished = False
        self._armed = False
        self._sign_delay_s = sign_delay_s
        self._timeout_s = timeout_s
        self._sign_at = math.inf  # set when the window is first mapped
        self._deadline = time.monotonic() + timeout_s
        self._tick_id: str | None = None
        self._timeout_id: str | None = None
        self._passphrase: ttk.Entry | None = None
        self._passphrase_error: ttk.Label | None = None
        self._passphrase_tries = 0
        self.check_passphrase: PassphraseCheck | None = None
        self._caller_gone = caller_gone

        # A bug in a callback must decline and surface, not leave a half-working dialog.
        root.report_callback_exception = self._on_callback_error
        root.title(window_title)
        root.protocol("WM_DELETE_WINDOW", lambda: self._finish(Decision.decline(DECLINED)))
        root.bind("<Escape>", lambda _e: self._finish(Decision.decline(DECLINED)))
        # No <Return> binding anywhere: Enter must never sign, so it does nothing at all.
        root.bind("<Map>", self._on_map, add="+")
        root.bind("<Destroy>", self._on_destroy, add="+")
        root.resizable(False, False)

        style = ttk.Style(root)
        style.theme_use("clam")
        # Sizes are set here rather than taken from the desktop: the numbers must be legible.
        sans = tkfont.nametofont("TkDefaultFont")
        sans.configure(size=11)
        family, mono_family = (
            sans.actual("family"),
            tkfont.nametofont("TkFixedFont").actual("family"),
        )
        self.mono = tkfont.Font(root, family=mono_family, size=11)
        self.mono_bold = tkfont.Font(root, family=mono_family, size=11, weight="bold")
        bold = tkfont.Font(root, family=family, size=11, weight="bold")
        big = tkfont.Font(root, family=family, size=15, weight="bold")
        digest_font = tkfont.Font(root, family=mono_family, size=24, weight="bold")
        style.configure("Warning.TLabel", foreground=_RED, font=bold)
        style.configure("Digest.TLabel", font=digest_font)
        style.configure("Title.TLabel", font=big)
        style.configure("Bold.TLabel", font=bold)
        style.configure("Mono.TLabel", font=self.mono)
        style.configure("MonoBold.TLabel", font=self.mono_bold)

        self.frame = ttk.Frame(root, padding=14)
        self.frame.grid(sticky="nsew")
        self.frame.columnconfigure(1, weight=1)

    def finish_layout(self, row: int, needs_passphrase: bool) -> None:
        """The passphrase field when needed, Decline and Sign, the timers; then show it."""
        from tkinter import ttk

        frame = self.frame
        if needs_passphrase:
            ttk.Label(frame, text="Keystore passphrase", style="Bold.TLabel").grid(
                row=row, column=0, sticky="w", padx=(0, 12), pady=(12, 0)
            )
            self._passphrase = ttk.Entry(frame, show="*", width=40, font=self.mono)
            self._passphrase.grid(row=row, column=1, sticky="w", pady=(12, 0))
            row += 1
            self._passphrase_error = ttk.Label(frame, text="", style="Warning.TLabel")
            self._passphrase_error.grid(row=row, column=1, sticky="w")
            row += 1

        bottom = ttk.Frame(frame)
        bottom.grid(row=row, column=0, columnspan=2, sticky="ew", pady=(14, 0))
        bottom.columnconfigure(0, weight=1)
        # Wrapped rather than widening the window: Sign must not move under the pointer.
        self._status = ttk.Label(bottom, text="", wraplength=440)
        self._status.grid(row=0, column=0, sticky="w")
        # Created Decline first so Tab order runs passphrase -> Decline -> Sign.
        decline = ttk.Button(
            bottom, text="Decline", command=lambda: self._finish(Decision.decline(DECLINED))
        )
        decline.grid(row=0, column=1, padx=(0, 10))
        self._sign = ttk.Button(bottom, text="Sign", command=self._on_sign, state="disabled")
        self._sign.grid(row=0, column=2)

        self._timeout_id = self.root.after(int(self._timeout_s * 1000), self._on_timeout)
        self._tick()
        self._place_and_raise(self._passphrase if self._passphrase is not None else decline)

    def scrolling_text(self, parent: tk.Misc, height: int) -> tuple[ttk.Frame, tk.Text]:
        """Read-only once filled (the caller disables it), selectable, with a scroll bar."""
        import tkinter as tk
        from tkinter import ttk

        box = ttk.Frame(parent)
        box.columnconfigure(0, weight=1)
        text = tk.Text(
            box,
            width=_TEXT_COLUMNS,
            height=height,
            font=self.mono,
            wrap="word",
            relief="solid",
            borderwidth=1,
            padx=8,
            pady=6,
            takefocus=False,
            cursor="xterm",
        )
        text.grid(row=0, column=0, sticky="nsew")
        # Always there, so a long text visibly has more below.
        bar = ttk.Scrollbar(box, orient="vertical", command=text.yview, takefocus=False)
        bar.grid(row=0, column=1, sticky="ns")
        text.configure(yscrollcommand=bar.set)
        return box, text

    def _place_and_raise(self, focus: tk.Misc) -> None:
        root = self.root
        root.update_idletasks()
        width, height = root.winfo_reqwidth(), root.winfo_reqheight()
        x = max(0, (root.winfo_screenwidth() - width) // 2)
        y = max(0, (root.winfo_screenheight() - height) // 3)
        root.geometry(f"+{x}+{y}")
        # A signing request must not open hidden behind the window the user is working in.
        root.attributes("-topmost", True)
        root.lift()
        root.focus_force()
        focus.focus_set()

    def _on_map(self, event: tk.Event[tk.Misc]) -> None:
        # The delay counts from when the user can first see the dialog, not from its creation.
        if event.widget is self.root and self._sign_at == math.inf:
            self._sign_at = time.monotonic() + self._sign_delay_s
            self.root.focus_force()
            self._tick()

    def _on_destroy(self, event: tk.Event[tk.Misc]) -> None:
        # Destroyed from outside (another X client closing it): the answer stays "declined".
        if event.widget is self.root:
            self._finished = True

    def _tick(self) -> None:
        if self._finished:
            return
        if self._caller_gone():
            self._finish(Decision.decline(CALLER_GONE))
            return
        now = time.monotonic()
        unread = self.unread()
        if not self._armed and now >= self._sign_at and unread is None:
            self._armed = True
            self._sign.configure(state="normal")
        left = max(0, math.ceil(self._deadline - now))
        if self._armed:
            self._status.configure(
                text=f"No answer declines in {left // 60}:{left % 60:02d}.  Esc declines."
            )
        elif self._sign_at == math.inf:
            self._status.configure(text="Esc declines.")
        elif unread is not None:
            self._status.configure(text=f"{unread}.  Esc declines.")
        else:
            wait_s = math.ceil(self._sign_at - now)
            self._status.configure(text=f"Sign is enabled in {wait_s} s.  Esc declines.")
        wait = min(self._sign_at - now, 1.0) if not self._armed else 1.0
        if self._tick_id is not None:
            self.root.after_cancel(self._tick_id)
        self._tick_id = self.root.after(max(10, int(wait * 1000)), self._tick)

    def unread(self) -> str | None:
        """What the user has yet to see before Sign may be enabled ("Scroll down: ..."), or
        None; a subclass with a scrolling list says so, and calls `_tick` when it scrolls."""
        return None

    def _on_sign(self) -> None:
        # Checked again here: the button's state is what the user sees, `_armed` is the rule.
        if not self._armed or self._finished:
            return
        passphrase = None
        if self._passphrase is not None:
            passphrase = self._passphrase.get()
            self._passphrase.delete(0, "end")
            if self.check_passphrase is not None and not self._passphrase_accepted(passphrase):
                return
        self._finish(Decision.approve(passphrase))

    def _passphrase_accepted(self, passphrase: str) -> bool:
        """Check the passphrase; when wrong, say so in the dialog and keep the review open."""
        assert self.check_passphrase is not None and self._passphrase_error is not None
        wrong = self.check_passphrase(passphrase)
        if wrong is None:
            return True
        self._passphrase_tries += 1
        if self._passphrase_tries >= PASSPHRASE_TRIES:
            self.failure = ConfigError(
                Code.KEYSTORE_BAD_PASSPHRASE,
                f"{wrong}; {PASSPHRASE_TRIES} wrong tries, nothing was signed",
            )
            self._finish(Decision.decline(DECLINED))
            return False
        left = PASSPHRASE_TRIES - self._passphrase_tries
        self._passphrase_error.configure(text=f"Wrong passphrase; try again ({left} left).")
        if self._passphrase is not None:
            self._passphrase.focus_set()
        return False

    def _on_timeout(self) -> None:
        self._finish(Decision.decline(TIMEOUT))

    def _finish(self, decision: Decision) -> None:
        if self._finished:
            return
        self._finished = True
        self.decision = decision
        for pending in (self._timeout_id, self._tick_id):
            if pending is not None:
                self.root.after_cancel(pending)
        self.root.destroy()

    def _on_callback_error(
        self, _kind: type[BaseException], error: BaseException, _tb: object
    ) -> None:
        self.failure = error
        self._finish(Decision.decline(DECLINED))


class _Dialog(SignDialog):
    """The transaction confirmation: outputs, amounts, fee, warnings and the request code."""

    def __init__(
        self,
        root: tk.Tk,
        view: ConfirmationView,
        timeout_s: float,
        sign_delay_s: float,
        caller_gone: Callable[[], bool],
    ) -> None:
        from tkinter import ttk

        super().__init__(
            root, f"{title(view)} [{view.digest}]", timeout_s, sign_delay_s, caller_gone
        )
        self.view = view
        frame = self.frame
        mono, mono_bold = self.mono, self.mono_bold
        row = 0

        what = "Sign request" if view.proof is None else "BIP-322 MESSAGE PROOF, nothing is spent:"
        ttk.Label(frame, text=f"{what} from {view.caller}", style="Title.TLabel").grid(
            row=row, column=0, columnspan=2, sticky="w"
        )
        row += 1
        ttk.Label(frame, text=REQUEST_CODE, style="Bold.TLabel").grid(
            row=row, column=0, sticky="w", padx=(0, 12)
        )
        ttk.Label(frame, text=view.digest, style="Digest.TLabel").grid(
            row=row, column=1, sticky="w"
        )
        row += 1
        ttk.Label(
            frame,
            text="The same code appears in dom0's prompt and on the sending side.",
        ).grid(row=row, column=0, columnspan=2, sticky="w", pady=(0, 10))
        row += 1

        heading = (
            f"Outputs ({len(view.outputs)})" if view.proof is None else proof_heading(view.proof)
        )
        ttk.Label(frame, text=heading, style="Bold.TLabel").grid(
            row=row, column=0, columnspan=2, sticky="w"
        )
        row += 1
        self._outputs_box(frame, mono, mono_bold).grid(
            row=row, column=0, columnspan=2, sticky="nsew", pady=(2, 10)
        )
        row += 1

        for label, value in summary_rows(view):
            # One font family for label and value, so both sit on one baseline.
            ttk.Label(frame, text=label, style="MonoBold.TLabel").grid(
                row=row, column=0, sticky="w", padx=(0, 12)
            )
            ttk.Label(frame, text=value, style="Mono.TLabel").grid(row=row, column=1, sticky="w")
            row += 1
            if label == "Inputs" and view.inputs:
                row = self._inputs_toggle(frame, row)

        for warning in view.warnings:
            ttk.Label(
                frame, text=f"WARNING: {warning}", style="Warning.TLabel", wraplength=760
            ).grid(row=row, column=0, columnspan=2, sticky="w", pady=(6, 0))
            row += 1

        self.finish_layout(row, view.needs_passphrase)

    def _outputs_box(self, parent: tk.Misc, mono: tkfont.Font, bold: tkfont.Font) -> ttk.Frame:
        """Every address in full, in groups of 4, in a read-only scrolling text."""
        proof = self.view.proof
        lines_needed = 4 * len(self.view.outputs) - 1  # heading, target, amount, blank between
        height = lines_needed
        if proof is not None:
            shown = proof_lines(proof)
            lines_needed = len(shown)
            # Long lines wrap (at words, so a little earlier than the width): room for them.
            height = sum(1 + len(line) // (_TEXT_COLUMNS - 12) for line in shown)
        box, text = self.scrolling_text(parent, min(height, _VISIBLE_OUTPUT_LINES))
        text.tag_configure("strong", font=bold)
        for kind, colour in _KIND_COLOURS.items():
            text.tag_configure(kind, foreground=colour)
        self._output_lines: list[tuple[int, int]] = []  # each output's first and last line
        if proof is not None:
            # The proof's one "output" is the whole message: Sign waits for its last line.
            text.insert("end", "\n".join(proof_lines(proof)))
            self._output_lines.append((lines_needed - 1, lines_needed - 1))
        for position, line in enumerate(self.view.outputs if proof is None else ()):
            if position:
                text.insert("end", "\n")
            first = int(text.index("end-1c").split(".")[0]) - 1
            text.insert("end", output_heading(line) + "\n", ("strong", line.kind))
            text.insert("end", f"    {output_target(line)}\n")
            text.insert("end", f"    {format_btc(line.amount_sat)}\n", "strong")
            self._output_lines.append((first, first + 2))
        if proof is None:
            text.delete("end-1c", "end")
        # Disabled still lets the mouse select and copy, but nothing can edit what is shown.
        text.configure(state="disabled")
        self._outputs_text = text
        self._outputs_seen: set[int] = set()
        scrollbar_set = text.cget("yscrollcommand")

        def on_scroll(first: float, last: float) -> None:
            # Tk reports every change of the visible part here: the scroll bar, the mouse
            # wheel, keys and the first layout alike.
            self.root.tk.call(scrollbar_set, first, last)
            self._saw_outputs(float(first), float(last))

        text.configure(yscrollcommand=on_scroll)
        return box

    def _saw_outputs(self, first: float, last: float) -> None:
        """Count an output as seen once all its lines were inside the box together."""
        lines = int(self._outputs_text.index("end-1c").split(".")[0])
        # Tk's fractions are of the whole text's lines; a half-visible line does not count.
        top, bottom = first * lines - 0.01, last * lines + 0.01
        before = len(self._outputs_seen)
        for position, (start, end) in enumerate(self._output_lines):
            if start >= top and end + 1 <= bottom:
                self._outputs_seen.add(position)
        if len(self._outputs_seen) != before:
            self._tick()

    def unread(self) -> str | None:
        # Before the first layout nothing has been reported: nothing is seen yet.
        unseen = len(self.view.outputs) - len(getattr(self, "_outputs_seen", ()))
        if unseen <= 0:
            return None
        if self.view.proof is not None:
            return "Sign waits: scroll down to the end of the message"
        return f"Sign waits: scroll down, {unseen} output(s) not shown yet"

    def _inputs_toggle(self, frame: ttk.Frame, row: int) -> int:
        """A button that shows or hides the list of inputs, each with its amount and owner."""
        from tkinter import ttk

        lines = [text for line in self.view.inputs for text in input_text(line)]
        box, text = self.scrolling_text(frame, min(len(lines), _VISIBLE_INPUT_LINES))
        text.insert("end", "\n".join(lines))
        text.configure(state="disabled")
        shown = False
        count = len(self.view.inputs)
        label = "Show the input" if count == 1 else f"Show the {count} inputs"

        def toggle() -> None:
            nonlocal shown
            shown = not shown
            if shown:
                box.grid(row=box_row, column=0, columnspan=2, sticky="ew", pady=(2, 6))
                button.configure(text="Hide the input" if count == 1 else "Hide the inputs")
            else:
                box.grid_remove()
                button.configure(text=label)

        button = ttk.Button(frame, text=label, command=toggle, takefocus=False)
        button.grid(row=row, column=1, sticky="w", pady=(2, 2))
        box_row = row + 1
        return row + 2
