"""The qrexec service edge (psbtbridge.Sign, ShowAddress, SignMessage): validate what qrexec
hands us, read, answer, exit.

Everything here distrusts the calling qube: its stdin is an unbounded stream it controls
(size and pace), and the service argument is its text after dom0 replaced characters
outside [A-Za-z0-9._+-] with `_`. Only QREXEC_REMOTE_DOMAIN comes from dom0. No PSBT logic:
`run_service` hands the bytes, the digest argument and the caller's name to a handler
(the cold pipeline, the address check, the message request) and maps its outcome to stdout, one line on stderr and an exit status.
stderr reaches the caller and the cold qube's journal, so it never carries request bytes.
"""

from __future__ import annotations

import math
import os
import select
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final, TextIO

from psbtbridge.errors import BridgeError, Code, ConfigError, ExitStatus, InvalidInput
from psbtbridge.files import DEFAULT_MAX_INPUT
from psbtbridge.qrexec import (
    Reason,
    ReasonKind,
    Service,
    format_reason,
    is_digest,
    is_qube_name,
    kind_of,
)

SERVICE_NAME: Final = Service.SIGN
DEFAULT_READ_DEADLINE_S: Final = 60.0  # a PSBT arrives in well under a second over qrexec
#: From the request read to the answer written; above the dialog's 300 s timeout.
DEFAULT_DEADLINE_S: Final = 600.0
_CHUNK: Final = 64 * 1024

#: The cold pipeline: (request bytes, validated digest, validated caller, has the caller
#: hung up?) -> answer bytes.
Handler = Callable[[bytes, str, str, Callable[[], bool]], bytes]


class CallerGone(Exception):
    """The calling qube went away before the answer was written."""


def validate_digest_arg(untrusted_arg: str | None, service: str = SERVICE_NAME) -> str:
    """The service argument: exactly 8 lower-case hex characters (the request's digest)."""
    if not untrusted_arg:  # dom0 appends "+" to a call without one: set and empty
        raise InvalidInput(
            Code.SERVICE_MISSING_ARGUMENT,
            f"{service} needs the request's 8-hex digest as its argument ({service}+DIGEST)",
        )
    if not is_digest(untrusted_arg):
        raise InvalidInput(
            Code.SERVICE_BAD_ARGUMENT,
            f"the {service} argument is not an 8-character lower-case hex digest",
        )
    digest = untrusted_arg  # 8 characters of [0-9a-f]: safe to log, show and compare
    return digest


def validate_caller(untrusted_name: str | None) -> str:
    """The calling qube's name from QREXEC_REMOTE_DOMAIN (set by dom0, never by the caller).

    Unset means the service was not started by qrexec: refuse rather than invent a name,
    because the name is shown in the dialog and written to the audit log.
    """
    if untrusted_name is None:
        raise ConfigError(
            Code.SERVICE_MISSING_CALLER,
            "QREXEC_REMOTE_DOMAIN is not set: `psbt serve` runs only as a qrexec service;"
            " use `psbt sign` by hand",
        )
    if not is_qube_name(untrusted_name):
        raise ConfigError(
            Code.SERVICE_BAD_CALLER, "QREXEC_REMOTE_DOMAIN is not a valid qube name (see qrexec)"
        )
    caller = untrusted_name  # Qubes' qube-name rule: [A-Za-z][A-Za-z0-9_.-]{0,30}
    return caller


def validate_service_name(
    untrusted_full_name: str | None, untrusted_arg: str | None, service: str = SERVICE_NAME
) -> None:
    """QREXEC_SERVICE_FULL_NAME must be `service` (psbtbridge.Sign, ...) with the argument
    we were given.

    dom0's policy was reviewed for each service name: a copy installed under another name
    (with a laxer policy) refuses to run.
    """
    accepted = {f"{service}+{untrusted_arg}"} if untrusted_arg else {service, f"{service}+"}
    if untrusted_full_name not in accepted:
        raise ConfigError(
            Code.SERVICE_WRONG_NAME,
            f"this service runs only as {service}+DIGEST under qrexec"
            " (QREXEC_SERVICE_FULL_NAME is unset or names another service)",
        )


def read_request(untrusted_fd: int, cap: int, deadline_s: float) -> bytes:
    """Read the caller's stream to EOF, holding at most cap + 1 bytes, within deadline_s.

    The deadline is total, not per read: a caller dripping one byte a second must not keep
    the service (and the user's session) busy for ever. EOF before a whole PSBT is just a
    short request; the parser refuses it.
    """
    poller = select.poll()
    poller.register(untrusted_fd, select.POLLIN)
    deadline = time.monotonic() + deadline_s
    chunks: list[bytes] = []
    total = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise InvalidInput(
                Code.SERVICE_READ_TIMEOUT,
                f"the request did not end within {deadline_s:g} s (the caller sent it too slowly"
                " or never closed it)",
            )
        if not poller.poll(max(1, int(remaining * 1000))):
            continue
        try:
            chunk = os.read(untrusted_fd, min(_CHUNK, cap + 1 - total))
        except BlockingIOError:
            continue
        except OSError as error:
            raise BridgeError(
                Code.IO_READ_FAILED, f"cannot read the request: {error.strerror}"
            ) from error
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > cap:
            raise InvalidInput(Code.IO_TOO_LARGE, f"the request is larger than the {cap}-byte cap")
    return b"".join(chunks)


def caller_reason(error: BridgeError) -> Reason:
    """What the calling qube is told: the kind, the code and a sentence that gives nothing away.

    The caller may be compromised (DESIGN: trust model), so a refusal reaches it as its
    code's fixed meaning, never the full sentence with policy limits, the budget left or
    our wallets' paths: those go to the cold screen and the audit log. Only an invalid-input
    sentence, which describes the caller's own bytes, is passed on whole.
    """
    kind = kind_of(error)
    message = error.message if kind is ReasonKind.INVALID else error.code.meaning
    return Reason(kind, message, error.code)


def _report(stderr: TextIO, reason: Reason) -> None:
    """One reason line on stderr; the hot side parses it (psbtbridge.qrexec.parse_reason)."""
    try:
        stderr.write(format_reason(reason))
        stderr.flush()
    except (OSError, ValueError):  # the caller's stderr is gone too; the status still counts
        pass


def _stream_fd(stdout: BinaryIO) -> int | None:
    """stdout's file descriptor if it is a pipe or a socket (what qrexec gives a service)."""
    try:
        fd = stdout.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):  # an in-memory stream, or closed
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def _silence(stdout: BinaryIO) -> None:
    """Point a dead stdout at /dev/null so the interpreter's final flush does not complain."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


class _Watch:
    """Whether the caller has hung up, asked at the moment it matters.

    After the request is read, stdin is already at EOF, so only stdout can tell: when the
    qrexec connection goes away, the reading end of our stdout closes and poll() reports
    POLLHUP (socket) or POLLERR (pipe) on it. `gone()` polls without waiting, so the answer
    is exact at each of the defined points the handler asks it (the dialog's timer, once
    before signing); nothing interrupts the handler between two steps that belong together.
    """

    def __init__(self, stdout_fd: int | None) -> None:
        self._fd = stdout_fd
        self._gone = False

    def gone(self) -> bool:
        if self._fd is None or self._gone:
            return self._gone
        poller = select.poll()
        poller.register(self._fd, 0)  # 0: report only POLLHUP / POLLERR / POLLNVAL
        self._gone = bool(poller.poll(0))
        return self._gone


@contextmanager
def _deadline(stderr: TextIO, deadline_s: float) -> Iterator[None]:
    """End the process (one reason line, exit 4) if the block runs past deadline_s.

    The one place where a request is cut off wherever it is: safe because the cold state
    survives a kill at any point (cold/state.py), and needed because a hostile request must
    not keep the signer busy for ever.
    """
    wake_read, wake_write = os.pipe()

    def wait() -> None:
        poller = select.poll()
        poller.register(wake_read, select.POLLIN)
        end = time.monotonic() + deadline_s
        while (left := end - time.monotonic()) > 0:
            if poller.poll(max(1, math.ceil(left * 1000))):
                return
        _report(
            stderr,
            Reason(
                ReasonKind.ERROR,
                f"no answer within the {deadline_s:g}-second processing deadline",
                Code.SERVICE_DEADLINE,
            ),
        )
        os._exit(ExitStatus.INTERNAL)

    watcher = threading.Thread(target=wait, name="psbtbridge-deadline", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        os.write(wake_write, b"x")
        watcher.join()
        os.close(wake_read)
        os.close(wake_write)


def run_service(
    environ: Mapping[str, str],
    stdin_fd: int,
    stdout: BinaryIO,
    stderr: TextIO,
    handle: Handler,
    *,
    cap: int = DEFAULT_MAX_INPUT,
    read_deadline_s: float = DEFAULT_READ_DEADLINE_S,
    deadline_s: float = DEFAULT_DEADLINE_S,
    service: str = SERVICE_NAME,
    kept: Callable[[], Path | None] = lambda: None,
) -> int:
    """Serve one call of `service` (psbtbridge.Sign unless told): the answer on stdout and
    exit 0, or one line on stderr.

    Exit statuses (DESIGN.md): 0 signed, 1 declined or refused, 3 invalid input, 4 internal
    error or a caller that went away; qrexec keeps 125-127 for itself.
    kept: where the handler kept its answer until delivered (a signed PSBT in the data
    folder's signed/); removed once written, named in the message when it could not be.
    """
    os.umask(0o077)
    try:
        caller = validate_caller(environ.get("QREXEC_REMOTE_DOMAIN"))
        untrusted_arg = environ.get("QREXEC_SERVICE_ARGUMENT")
        validate_service_name(environ.get("QREXEC_SERVICE_FULL_NAME"), untrusted_arg, service)
        digest = validate_digest_arg(untrusted_arg, service)
        request = read_request(stdin_fd, cap, read_deadline_s)
        if not request:
            raise InvalidInput(Code.ENCODING_EMPTY, "the request on stdin is empty")
        watch = _Watch(_stream_fd(stdout))
        with _deadline(stderr, deadline_s):
            try:
                answer = handle(request, digest, caller, watch.gone)
            except Exception:
                # Whatever the handler made of it (a decline, logged as such): after a
                # hang-up, that is the reason the caller's side reports.
                if watch.gone():
                    raise CallerGone from None
                raise
        stdout.write(answer)
        stdout.flush()
        copy = kept()
        if copy is not None:
            copy.unlink(missing_ok=True)
    except (CallerGone, BrokenPipeError, ConnectionResetError):
        _silence(stdout)
        copy = kept()
        if copy is not None:
            # Signed, and logged as signed: the signature is not lost, and this says where.
            reason = Reason(
                ReasonKind.ERROR,
                f"signed, but the caller went away before the answer was delivered; it is"
                f" kept in {copy}",
                Code.SIGN_UNDELIVERED,
            )
        else:
            reason = Reason(
                ReasonKind.ERROR,
                "the caller went away before the answer was delivered",
                Code.SERVICE_CALLER_GONE,
            )
        _report(stderr, reason)
        return ExitStatus.INTERNAL
    except BridgeError as error:
        _report(stderr, caller_reason(error))
        return error.exit_status
    except Exception as error:  # noqa: BLE001 - last guard: no traceback to the caller
        _report(
            stderr,
            Reason(
                ReasonKind.ERROR,
                f"internal error ({type(error).__name__})"
                + ("" if kept() is None else "; signed, and kept in the data folder's signed/"),
                Code.INTERNAL_BUG,
            ),
        )
        return ExitStatus.INTERNAL
    return ExitStatus.OK


def run_on_stdio(
    handle: Handler,
    *,
    service: str,
    cap: int,
    read_deadline_s: float,
    deadline_s: float = DEFAULT_DEADLINE_S,
    kept: Callable[[], Path | None] = lambda: None,
) -> int:
    """`run_service` on this process's environment, stdin, stdout and stderr: what qrexec
    connects to the calling qube."""
    return run_service(
        os.environ,
        sys.stdin.fileno(),
        sys.stdout.buffer,
        sys.stderr,
        handle,
        cap=cap,
        read_deadline_s=read_deadline_s,
        deadline_s=deadline_s,
        service=service,
        kept=kept,
    )
