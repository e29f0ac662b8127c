"""Runs cold.service.run_service in its own process with a test handler (not the pipeline).

For the service tests that need a real process: a peak-memory measurement, a caller that
hangs up (signals reach only a main thread), or stdout as qrexec gives it. Usage:
`service_driver.py [--cap BYTES] [--deadline SECONDS] HANDLER`. A handler that runs creates
the file named by PSBTBRIDGE_TEST_RECORD, so a test can tell whether it was reached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cold.service import DEFAULT_DEADLINE_S, DEFAULT_READ_DEADLINE_S, run_service
from psbtbridge.errors import Code, Declined, InvalidInput
from psbtbridge.files import DEFAULT_MAX_INPUT


def _record(request: bytes, digest: str, caller: str) -> None:
    path = os.environ.get("PSBTBRIDGE_TEST_RECORD")
    if path:
        Path(path).write_text(f"{len(request)} {digest} {caller}\n")


def echo(request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]) -> bytes:
    _record(request, digest, caller)
    return b"signed:" + request


def invalid(request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]) -> bytes:
    _record(request, digest, caller)
    raise InvalidInput(Code.ENCODING_UNKNOWN, "input is neither binary PSBT, base64 nor hex")


def block(request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]) -> bytes:
    """Stands in for a confirmation dialog nobody answers: it asks caller_gone at each tick."""
    _record(request, digest, caller)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if caller_gone():
            raise Declined(Code.SERVICE_CALLER_GONE, "the caller went away")
        time.sleep(0.1)
    return b"too late"


def dialog(request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]) -> bytes:
    """The real Tk confirmation dialog (needs DISPLAY), showing a sample transaction."""
    from confirm_samples import sample_view

    from cold.confirm.gui import confirm_gui

    _record(request, digest, caller)
    decision = confirm_gui(
        sample_view(needs_passphrase=False),
        timeout_s=60,
        sign_delay_s=0.5,
        caller_gone=caller_gone,
    )
    if not decision.approved:
        raise Declined(decision.reason_code, "the user declined")
    return b"approved"


def crash(request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]) -> bytes:
    _record(request, digest, caller)
    raise RuntimeError("a bug with a secret in its message")


HANDLERS = {"echo": echo, "invalid": invalid, "block": block, "dialog": dialog, "crash": crash}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cap", type=lambda text: int(float(text)), default=DEFAULT_MAX_INPUT)
    parser.add_argument("--deadline", type=float, default=DEFAULT_READ_DEADLINE_S)
    parser.add_argument("--processing-deadline", type=float, default=DEFAULT_DEADLINE_S)
    parser.add_argument("handler", choices=sorted(HANDLERS))
    # qrexec's login shell passes the service argument as $1 too; like the real service, ignore it
    args, _ = parser.parse_known_args()
    return run_service(
        os.environ,
        sys.stdin.fileno(),
        sys.stdout.buffer,
        sys.stderr,
        HANDLERS[args.handler],
        cap=args.cap,
        read_deadline_s=args.deadline,
        deadline_s=args.processing_deadline,
    )


if __name__ == "__main__":
    sys.exit(main())
