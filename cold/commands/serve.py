"""`psbt serve`: the psbtbridge.Sign qrexec service body, stdin to stdout.

qrexec starts it through `qrexec/psbtbridge.Sign`; `cold.service.run_service` validates
the call and reads the request, and the cold pipeline proves, confirms and signs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from cold.service import (
    DEFAULT_DEADLINE_S,
    DEFAULT_READ_DEADLINE_S,
    SERVICE_NAME,
    run_on_stdio,
)
from psbtbridge.files import DEFAULT_MAX_INPUT


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from error
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("a time limit must be between 0 and 3600 seconds")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--read-timeout",
        type=_seconds,
        default=DEFAULT_READ_DEADLINE_S,
        metavar="SECONDS",
        help=f"give up on a request that has not fully arrived after this long"
        f" (default {DEFAULT_READ_DEADLINE_S:g})",
    )
    parser.add_argument(
        "--deadline",
        type=_seconds,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help="end the request (exit 4, nothing released) if it is not answered this long after"
        f" it arrived, the dialog included (default {DEFAULT_DEADLINE_S:g})",
    )


class _Signer:
    """The Sign handler; remembers where the signed answer is kept until it is delivered."""

    def __init__(self) -> None:
        self.kept_copy: Path | None = None

    def __call__(
        self, untrusted_request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]
    ) -> bytes:
        # Imported inside run_service's guard: if the pipeline cannot even load (a missing
        # library in the venv), the caller still gets one line and exit 4, not a traceback.
        from cold.delivery import check_writable, keep
        from cold.pipeline import run_signing, service_request

        request = service_request(digest, caller)
        # Before the dialog: a result we could not keep is not signed (nor dom0 asked again).
        check_writable(request.home, None)
        signed = run_signing(untrusted_request, request, caller_gone=caller_gone)
        self.kept_copy = keep(request.home, signed.txid, signed.data)
        return signed.data

    def kept(self) -> Path | None:
        return self.kept_copy


def run(args: argparse.Namespace) -> int:
    signer = _Signer()
    return run_on_stdio(
        signer,
        service=SERVICE_NAME,
        cap=DEFAULT_MAX_INPUT,
        read_deadline_s=args.read_timeout,
        deadline_s=args.deadline,
        kept=signer.kept,
    )
