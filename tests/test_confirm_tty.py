"""Terminal confirmation: only the exact line `yes` signs; the real /dev/tty edge over a pty."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import subprocess
import sys
import termios
import time
from io import StringIO

import pytest

from cold.confirm.tty import ASK_AGAIN, PASSPHRASE_PROMPT, PROMPT, confirm_tty
from psbtbridge.address import group_address
from tests.support.confirm_samples import PAY, sample_view


def _ask(
    answer: str, passphrase: str | None = "pw"
) -> tuple[bool, str | None, str, str, list[str]]:
    asked: list[str] = []

    def reader(prompt: str) -> str:
        asked.append(prompt)
        if passphrase is None:
            raise EOFError
        return passphrase

    out = StringIO()
    decision = confirm_tty(sample_view(), StringIO(answer), out, reader)
    return decision.approved, decision.passphrase, decision.reason_code, out.getvalue(), asked


def test_yes_approves_and_reads_the_passphrase() -> None:
    approved, passphrase, code, shown, asked = _ask("yes\n")
    assert (approved, passphrase, code) == (True, "pw", "confirm.approved")
    assert asked == [PASSPHRASE_PROMPT]
    assert group_address(PAY) in shown and shown.endswith(PROMPT)


@pytest.mark.parametrize("answer", ["no\n", "no", ""])
def test_no_or_eof_declines(answer: str) -> None:
    approved, passphrase, code, shown, asked = _ask(answer)
    assert (approved, passphrase, code) == (False, None, "confirm.declined")
    assert asked == [], "no passphrase is asked for a declined request"
    assert "nothing was signed" in shown and ASK_AGAIN not in shown


@pytest.mark.parametrize(
    "answer", ["y\n", "YES\n", "yes \n", " yes\n", "yes\r\n", "yesyes\n", "\n", "n\n"]
)
def test_anything_else_asks_again(answer: str) -> None:
    """`y` neither signs nor throws the review away: the question is asked again."""
    approved, _, code, shown, _ = _ask(answer + "yes\n")
    assert (approved, code) == (True, "confirm.approved")
    assert shown.count(PROMPT) == 2 and ASK_AGAIN in shown
    approved, _, code, shown, _ = _ask(answer + "no\n")
    assert (approved, code) == (False, "confirm.declined")


def test_an_overlong_line_is_one_wrong_answer() -> None:
    """Its tail past the read cap is not taken as the next answer."""
    approved, _, _, shown, _ = _ask("x" * 200 + "yes\nno\n")
    assert not approved and shown.count(PROMPT) == 2


def test_no_passphrase_given_declines() -> None:
    approved, _, code, _, asked = _ask("yes\n", passphrase=None)
    assert (approved, code) == (False, "confirm.declined")
    assert asked == [PASSPHRASE_PROMPT]


def test_no_passphrase_prompt_when_not_needed() -> None:
    def reader(prompt: str) -> str:
        raise AssertionError("asked for a passphrase")

    decision = confirm_tty(
        sample_view(needs_passphrase=False), StringIO("yes\n"), StringIO(), reader
    )
    assert decision.approved and decision.passphrase is None


RUNNER = """
import json, sys
from cold.confirm.tty import confirm_terminal
from tests.support.confirm_samples import sample_view
d = confirm_terminal(sample_view())
print(json.dumps([d.approved, d.passphrase, d.reason_code]), file=sys.stderr)
"""


def _terminal_session(
    early: bytes, answers: list[tuple[bytes, bytes]]
) -> tuple[list[object], bytes]:
    """Run confirm_terminal with a pty as controlling terminal; answer each prompt in turn.

    Returns the decision and everything the terminal displayed.
    """
    master, slave = pty.openpty()

    def make_controlling_tty() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        preexec_fn=make_controlling_tty,  # noqa: PLW1509 (no threads in the test process here)
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    os.close(slave)
    screen = b""
    try:
        os.write(master, early)  # typed before the request is on screen
        for prompt, reply in answers:
            deadline = time.monotonic() + 10
            while not screen.endswith(prompt):
                assert time.monotonic() < deadline, screen
                screen += os.read(master, 4096)
            os.write(master, reply)
        _, err = process.communicate(timeout=10)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
    finally:
        process.kill()
        os.close(master)
    result: list[object] = json.loads(err)
    return result, screen


def test_terminal_yes_then_passphrase_without_echo() -> None:
    result, screen = _terminal_session(
        b"", [(PROMPT.encode(), b"yes\n"), (PASSPHRASE_PROMPT.encode(), b"hunter2\n")]
    )
    assert result == [True, "hunter2", "confirm.approved"]
    assert b"yes" in screen and b"hunter2" not in screen


def test_terminal_drops_type_ahead() -> None:
    result, _ = _terminal_session(b"yes\n", [(PROMPT.encode(), b"no\n")])
    assert result == [False, None, "confirm.declined"]
