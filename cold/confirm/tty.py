"""Confirmation on a terminal: show the whole view, sign only on the exact answer `yes`."""

from __future__ import annotations

import getpass
import termios
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, TextIO

from cold.confirm.view import (
    DECLINED,
    PASSPHRASE_TRIES,
    REQUEST_CODE,
    ConfirmationView,
    Decision,
    PassphraseCheck,
    render_text,
)
from psbtbridge.errors import Code, ConfigError

PROMPT: Final = "Type yes to sign: "
PASSPHRASE_PROMPT: Final = "Keystore passphrase: "
_ANSWER_CAP: Final = 64  # "yes\n" is 4; a longer line is neither answer, and is skipped
ASK_AGAIN: Final = "Please type the whole word yes or no.\n"


def ask_yes_no(stdin: TextIO, stdout: TextIO, prompt: str) -> bool:
    """Ask until the answer is exactly `yes` or `no`; EOF or Ctrl-C is a no.

    Anything else asks again rather than deciding: `y` could mean yes to the one typing it
    and "YES" or "yes " could be a slip, so neither approves, and neither should throw the
    review away.
    """
    while True:
        stdout.write(prompt)
        stdout.flush()
        try:
            answer = read_answer(stdin)
        except KeyboardInterrupt:
            return False
        if answer is None or answer == "no":
            return False
        if answer == "yes":
            return True
        stdout.write(ASK_AGAIN)


def read_answer(stdin: TextIO) -> str | None:
    """One line without its newline, or None at EOF. A line over the cap is read to its end
    in capped pieces, so its tail is not taken as the next answer."""
    line = stdin.readline(_ANSWER_CAP)
    if not line:
        return None
    overlong = False
    while not line.endswith("\n"):
        more = stdin.readline(_ANSWER_CAP)
        if not more:
            break
        overlong, line = True, more
    return "" if overlong else line.removesuffix("\n")


def read_passphrase_from_tty(prompt: str) -> str:
    """getpass on the controlling terminal; refuse rather than let getpass echo from stdin."""
    with warnings.catch_warnings():
        # getpass falls back to reading stdin *with echo* (and only warns) when no terminal
        # can be opened; a passphrase must never be echoed, so that warning is our refusal.
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except getpass.GetPassWarning as e:
            raise ConfigError(
                Code.CONFIRM_NO_TTY, "keystore passphrase: no terminal to read it without echo"
            ) from e


def confirm_tty(
    view: ConfirmationView,
    stdin: TextIO,
    stdout: TextIO,
    read_passphrase: Callable[[str], str] | None = None,
    check_passphrase: PassphraseCheck | None = None,
) -> Decision:
    """Print the view, approve only on the line `yes`; `no`, EOF or Ctrl-C declines.

    With check_passphrase, a wrong passphrase is asked again, PASSPHRASE_TRIES times in all.
    """
    stdout.write(render_text(view))
    stdout.write(f"\n{REQUEST_CODE} {view.digest}. ")
    if not ask_yes_no(stdin, stdout, PROMPT):
        stdout.write("\nDeclined: nothing was signed.\n")
        stdout.flush()
        return Decision.decline(DECLINED)
    passphrase = None
    if view.needs_passphrase:
        reader = read_passphrase if read_passphrase is not None else read_passphrase_from_tty
        for attempt in range(1, PASSPHRASE_TRIES + 1):
            try:
                passphrase = reader(PASSPHRASE_PROMPT)
            except (EOFError, KeyboardInterrupt):
                stdout.write("\nDeclined: no passphrase given, nothing was signed.\n")
                stdout.flush()
                return Decision.decline(DECLINED)
            wrong = None if check_passphrase is None else check_passphrase(passphrase)
            if wrong is None:
                break
            if attempt == PASSPHRASE_TRIES:
                raise ConfigError(
                    Code.KEYSTORE_BAD_PASSPHRASE,
                    f"{wrong}; {PASSPHRASE_TRIES} wrong tries, nothing was signed",
                )
            stdout.write(f"{wrong}; try again ({PASSPHRASE_TRIES - attempt} left).\n")
            stdout.flush()
    return Decision.approve(passphrase)


@contextmanager
def controlling_terminal() -> Iterator[tuple[TextIO, TextIO]]:
    """(input, output) on /dev/tty, whatever stdin is (a PSBT or a message may be on it).

    Type-ahead is dropped: a "yes" typed before the request was on screen is not an answer
    to it.
    """
    try:
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as e:
        raise ConfigError(
            Code.CONFIRM_NO_TTY, f"terminal confirmation: cannot open /dev/tty ({e.strerror})"
        ) from e
    with tty_in, open("/dev/tty", "w", encoding="utf-8") as tty_out:
        termios.tcflush(tty_in.fileno(), termios.TCIFLUSH)
        yield tty_in, tty_out


def confirm_terminal(
    view: ConfirmationView, check_passphrase: PassphraseCheck | None = None
) -> Decision:
    """confirm_tty on the controlling terminal, for `psbt sign -` whose stdin is the PSBT."""
    with controlling_terminal() as (tty_in, tty_out):
        return confirm_tty(view, tty_in, tty_out, read_passphrase_from_tty, check_passphrase)
