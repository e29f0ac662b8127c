"""Run the real `psbt` console script: detached from any terminal, or on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PSBT = str(Path(sys.executable).parent / "psbt")


def environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    env["PSBTBRIDGE_HOME"] = str(home)
    return env


def loaded_modules(argv: list[str], home: Path | None = None) -> set[str]:
    """Run `psbt ARGV` in a fresh interpreter and return every module it had loaded by the end.

    (sys.modules, not `-X importtime`: importtime does not see importlib.import_module, which
    is exactly how the dispatcher loads a subcommand.)
    """
    code = (
        "import sys; from psbtbridge.cli import run; run(sys.argv[1:]);"
        "sys.stdout.write(chr(10).join(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
        env=None if home is None else environment(home),
        stdin=subprocess.DEVNULL,
    )
    loaded = set(result.stdout.split())
    assert "psbtbridge.cli" in loaded, result.stderr[-2000:]
    return loaded


def run_psbt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`psbt ARGS` in a new session, so it has no controlling terminal (as under qrexec)."""
    return subprocess.run(
        [PSBT, *args],
        env=environment(home),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        timeout=60,
        check=False,
    )


@dataclass(frozen=True)
class TtyRun:
    status: int
    screen: str  # everything written to the terminal, stdout and stderr together


#: A line to type, or a function of the screen so far that returns it (an answer that
#: depends on what was shown, such as a word of a new mnemonic).
Answer = str | Callable[[str], str]


def run_psbt_on_tty(home: Path, dialogue: Sequence[tuple[str, Answer]], *args: str) -> TtyRun:
    """`psbt ARGS` with a pseudo-terminal as its controlling terminal.

    dialogue: (text to wait for, line to type) pairs, answered in order.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes psbt, never returns
        # A terminal program gets Ctrl-C: a suite started in the background of a
        # non-interactive shell ignores SIGINT, and exec would pass that on to psbt.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execve(PSBT, [PSBT, *args], environment(home))
    screen = b""
    seen = 0  # prompts are looked for only after the last answer
    pending = list(dialogue)
    deadline = time.monotonic() + 60
    try:
        while True:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if pending and pending[0][0].encode() in screen[seen:]:
                answer = pending.pop(0)[1]
                if callable(answer):
                    answer = answer(screen.decode(errors="replace"))
                os.write(fd, answer.encode() + b"\n")
                seen = len(screen)
    finally:
        os.close(fd)
    _, raw_status = os.waitpid(pid, 0)
    return TtyRun(os.waitstatus_to_exitcode(raw_status), screen.decode(errors="replace"))
