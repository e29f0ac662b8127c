"""The psbtbridge.SignMessage service body: a message signed after the user read it on the cold screen.

`cold.service.run_service` has already validated the caller and the digest argument and
read the request (bounded, within a deadline); this frames it (psbtbridge/sign_message.py)
and hands it to the one message request (cold/message_request.py), in the dialog, as the
Sign service confirms: a qrexec service has no terminal, and a message is never signed
unattended, so a cold qube without a display refuses (confirm.no_display) and signs
nothing. The request's digest must name the message's bytes; every decision about a
well-formed request is an audit record with the caller's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Final

from cold.message_request import MessageRequest, sign_message_request
from cold.pipeline import PASSPHRASE_FILE_VARIABLE
from cold.service import CallerGone
from psbtbridge.home import data_home
from psbtbridge.sign_message import encode_answer, parse_request

#: The request is at most ~64 KiB: a caller slower than this is stalling.
READ_DEADLINE_S: Final = 30.0


def handle(
    untrusted_request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]
) -> bytes:
    """run_service's handler: the signature line, after the dialog said Sign."""
    request = parse_request(untrusted_request)
    environ = os.environ
    signature = sign_message_request(
        request.untrusted_message,
        request.address,
        MessageRequest(
            home=data_home(environ),
            confirm="gui",
            caller=caller,
            format=request.format,
            passphrase_file=environ.get(PASSPHRASE_FILE_VARIABLE),
            expected_digest=digest,
        ),
        caller_gone,
    )
    if caller_gone():
        raise CallerGone  # signed and logged, but nobody to answer: say why, not a broken pipe
    return encode_answer(signature)
