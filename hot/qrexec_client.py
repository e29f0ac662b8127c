"""The hot side's qrexec edge: call psbtbridge.Sign (or ShowAddress, SignMessage) in the cold
qube and map how it ended.

`qrexec-client-vm QUBE psbtbridge.Sign+DIGEST` carries the PSBT on stdin and the answer on
stdout; its exit status is the service's (0 signed, 1 declined or refused, 3 invalid input,
4 internal error), or qrexec's own: 126 when dom0 denies the call (policy, or the user said
no in dom0's prompt; it also prints "Request refused"), 125 when qrexec itself fails, 127
when the cold qube has no such service, 128+N when the service was killed by signal N.
The service explains a non-zero status in one stderr line, `psbtbridge: KIND: REASON [CODE]`,
which this module passes on in its error. The answer is bounded; its content is checked by
the send flow, not here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from collections.abc import Mapping
from typing import IO, Final

from psbtbridge.errors import (
    CODES,
    BridgeError,
    Code,
    ConfigError,
    Declined,
    InvalidInput,
    Refused,
    UsageError,
)
from psbtbridge.files import DEFAULT_MAX_INPUT, read_bounded
from psbtbridge.qrexec import ReasonKind, Service, is_digest, is_qube_name, one_line, parse_reason

SERVICE_NAME: Final = Service.SIGN
CLIENT_ENV: Final = "PSBTBRIDGE_QREXEC_CLIENT"  # a command line standing in for qrexec-client-vm
DEFAULT_CLIENT: Final = ("qrexec-client-vm",)
# The answer is the request plus signatures, possibly re-encoded as base64 (4/3 larger).
DEFAULT_ANSWER_CAP: Final = 4 * DEFAULT_MAX_INPUT
_STDERR_CAP: Final = 64 * 1024


def client_command(environ: Mapping[str, str]) -> list[str]:
    """The qrexec client to run: PSBTBRIDGE_QREXEC_CLIENT (shell words) or qrexec-client-vm."""
    configured = environ.get(CLIENT_ENV, "").strip()
    if not configured:
        return list(DEFAULT_CLIENT)
    try:
        return shlex.split(configured)
    except ValueError as error:
        raise ConfigError(
            Code.SEND_BAD_CLIENT, f"{CLIENT_ENV} is not a valid command line: {error}"
        ) from error


def status_error(
    status: int, untrusted_stderr: str, qube: str, service: str = SERVICE_NAME
) -> BridgeError:
    """The error for a qrexec-client-vm exit status other than 0 (Popen's: < 0 is a signal)."""
    reason = parse_reason(untrusted_stderr)
    tail = one_line(untrusted_stderr.strip().splitlines()[-1]) if untrusted_stderr.strip() else ""
    said = f"{reason.message}" if reason else tail or "no reason given"
    detail = f": {tail}" if tail else ""
    # The cold side's own code travels on (it says what was refused); ours stands in only
    # when the service gave no reason line, or one whose code we do not know.
    code = CODES.get(reason.code) if reason else None
    if status == 1 and reason and reason.kind is ReasonKind.DECLINED:
        return Declined(code or Code.SEND_DECLINED, f"{qube} declined to sign: {said}")
    if status == 1 and reason:
        return Refused(code or Code.SEND_DECLINED, f"{qube} refused to sign: {said}")
    if status == 3:
        return InvalidInput(
            code or Code.SEND_INVALID, f"{qube} rejected the request as invalid: {said}"
        )
    if status == 4:
        return BridgeError(code or Code.SEND_SIGNER_ERROR, f"the signer in {qube} failed: {said}")
    if status == 126:
        return Refused(
            Code.SEND_QREXEC_DENIED,
            f"dom0 refused the call to {service} in {qube}: its qrexec policy denies it or"
            " the prompt was declined (see qrexec/INSTALL.md)",
        )
    if status == 125:
        return BridgeError(Code.SEND_QREXEC_FAILED, f"qrexec could not make the call{detail}")
    if status == 127:
        return BridgeError(
            Code.SEND_SERVICE_MISSING,
            f"{qube} has no {service} service: install it in its template (qrexec/INSTALL.md)",
        )
    if status > 128:
        return BridgeError(
            Code.SEND_SIGNER_ERROR, f"the signer in {qube} was killed by signal {status - 128}"
        )
    if status < 0:
        return BridgeError(
            Code.SEND_CLIENT_FAILED, f"the qrexec client was killed by signal {-status}"
        )
    return BridgeError(
        Code.SEND_CLIENT_FAILED,
        f"the qrexec client exited with status {status} and no answer from {qube}{detail}",
    )


def _feed(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the service stopped reading (it refused early); its exit status says why


def _drain(stream: IO[bytes], kept: list[bytes]) -> None:
    """Keep the first _STDERR_CAP bytes, discard the rest so the client never blocks on it."""
    size = 0
    while chunk := stream.read(8192):
        if size < _STDERR_CAP:
            kept.append(chunk[: _STDERR_CAP - size])
            size += len(kept[-1])


def call_signer(
    qube: str,
    digest: str,
    psbt: bytes,
    client_cmd: list[str] | None = None,
    *,
    cap: int = DEFAULT_ANSWER_CAP,
    service: str = SERVICE_NAME,
) -> bytes:
    """Send psbt (or another service's request) to SERVICE+DIGEST in qube (psbtbridge.Sign
    unless told); return the answer, or raise why not."""
    if not is_qube_name(qube):
        raise UsageError(Code.SEND_BAD_QUBE, f"{qube!r} is not a valid qube name")
    if not is_digest(digest):
        raise BridgeError(Code.SEND_BAD_DIGEST, f"{digest!r} is not an 8-character hex digest")
    command = [*(client_cmd or client_command(os.environ)), qube, f"{service}+{digest}"]
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as error:
        raise ConfigError(
            Code.SEND_NO_CLIENT,
            f"cannot run {command[0]}: {error.strerror}; outside Qubes set {CLIENT_ENV}",
        ) from error
    assert process.stdin and process.stdout and process.stderr  # all three are pipes
    errors: list[bytes] = []
    feeder = threading.Thread(target=_feed, args=(process.stdin, psbt), daemon=True)
    drainer = threading.Thread(target=_drain, args=(process.stderr, errors), daemon=True)
    feeder.start()
    drainer.start()
    try:
        answer = read_bounded(process.stdout, cap)
    except InvalidInput as error:
        process.kill()
        process.stdout.close()  # anything the client left behind gets EPIPE, not a full pipe
        raise InvalidInput(
            Code.SEND_ANSWER_TOO_LARGE, f"the answer from {qube} is larger than {cap} bytes"
        ) from error
    finally:
        status = process.wait()
        feeder.join()
        drainer.join()
        process.stdout.close()
        process.stderr.close()
    if status != 0:
        raise status_error(status, b"".join(errors).decode("utf-8", "replace"), qube, service)
    if not answer:
        raise InvalidInput(Code.SEND_EMPTY_ANSWER, f"{qube} reported success but sent no answer")
    return answer
