"""Confirming a message signature on the terminal: the whole message made visible, then `yes`.

The message is untrusted text: every control and non-ASCII character is spelled out
(psbtbridge.message.visible_lines), so a terminal escape cannot repaint the screen and a
homoglyph cannot pass for the letter it imitates. Its length and SHA-256 let the user
compare it with what the requester shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TextIO

from cold.confirm.tty import (
    PASSPHRASE_PROMPT,
    ask_yes_no,
    controlling_terminal,
    read_passphrase_from_tty,
)
from cold.confirm.view import DECLINED, Decision
from psbtbridge.address import group_address
from psbtbridge.message import escape_note as message_escape_note
from psbtbridge.message import size_text, visible_lines

PROMPT: Final = "Type yes to sign this message: "


@dataclass(frozen=True)
class MessageView:
    """Everything the user must see before a message is signed."""

    text: str
    address: str
    wallet: str
    path: str
    format: str
    caller: str
    needs_passphrase: bool
    digest: str | None = None  # a qrexec request's code, as dom0's prompt showed it


def message_rows(view: MessageView) -> tuple[tuple[str, str], ...]:
    """The label/value lines above the message, shared by the terminal and the dialog."""
    data = view.text.encode("utf-8")
    return (
        ("Address", group_address(view.address)),
        ("Wallet", f"{view.wallet}  {view.path}"),
        ("Format", view.format),
        ("Message", size_text(view.text)),
        ("SHA-256", hashlib.sha256(data).hexdigest()),
    )


def escape_note(view: MessageView) -> str | None:
    """Why the message looks the way it does, when anything in it was spelled out."""
    return message_escape_note(view.text)


def title(view: MessageView) -> str:
    code = "" if view.digest is None else f" [{view.digest}]"
    return f"psbtbridge: sign a MESSAGE (not a transaction), request from {view.caller}{code}"


def render_message(view: MessageView) -> str:
    out = [title(view)]
    out.extend(f"{label + ':':<9} {value}" for label, value in message_rows(view))
    note = escape_note(view)
    if note is not None:
        out.append(f"          {note}")
    out.append("--- message begins ---")
    out.extend(f"| {line}" for line in visible_lines(view.text))
    out.append("--- message ends ---")
    return "\n".join(out) + "\n"


def confirm_message_tty(
    view: MessageView,
    stdin: TextIO,
    stdout: TextIO,
    read_passphrase: Callable[[str], str] | None = None,
) -> Decision:
    """Print the view; approve only on the line `yes`. `no`, EOF or Ctrl-C declines."""
    stdout.write(render_message(view) + "\n")
    if not ask_yes_no(stdin, stdout, PROMPT):
        stdout.write("\nDeclined: nothing was signed.\n")
        stdout.flush()
        return Decision.decline(DECLINED)
    passphrase = None
    if view.needs_passphrase:
        reader = read_passphrase if read_passphrase is not None else read_passphrase_from_tty
        try:
            passphrase = reader(PASSPHRASE_PROMPT)
        except (EOFError, KeyboardInterrupt):
            stdout.write("\nDeclined: no passphrase given, nothing was signed.\n")
            stdout.flush()
            return Decision.decline(DECLINED)
    return Decision.approve(passphrase)


def confirm_message_terminal(view: MessageView) -> Decision:
    """confirm_message_tty on the controlling terminal (stdin may be the message itself)."""
    with controlling_terminal() as (tty_in, tty_out):
        return confirm_message_tty(view, tty_in, tty_out, read_passphrase_from_tty)
