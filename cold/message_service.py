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

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

from cold import state
from cold.delivery import check_writable, keep_signature
from cold.message_request import MessageRequest, sign_message_request
from cold.pipeline import PASSPHRASE_FILE_VARIABLE
from cold.service import CallerGone
from psbtbridge.home import data_home
from psbtbridge.sign_message import encode_answer, parse_request

#: The request is at most ~64 KiB: a caller slower than this is stalling.
READ_DEADLINE_S: Final = 30.0


class MessageSigner:
    """run_service's handler: the signature line, after the dialog said Sign; remembers
    where the answer is kept (signed/) until it is delivered, as the Sign service does."""

    def __init__(self) -> None:
        self.kept_copy: Path | None = None

    def __call__(
        self, untrusted_request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]
    ) -> bytes:
        request = parse_request(untrusted_request)
        environ = os.environ
        home = data_home(environ)
        # Before the dialog: an answer we could not keep is not signed.
        check_writable(home, None)
        signature = sign_message_request(
            request.untrusted_message,
            request.address,
            MessageRequest(
                home=home,
                confirm="gui",
                caller=caller,
                format=request.format,
                passphrase_file=environ.get(PASSPHRASE_FILE_VARIABLE),
                expected_digest=digest,
            ),
            caller_gone,
        )
        answer = encode_answer(signature)
        message_sha256 = hashlib.sha256(request.untrusted_message).hexdigest()
        self.kept_copy = keep_signature(home, message_sha256, answer)
        state.checkpoint("signed")
        if caller_gone():
            raise CallerGone  # signed, logged and kept: say where, not a broken pipe
        return answer

    def kept(self) -> Path | None:
        return self.kept_copy
