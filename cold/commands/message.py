"""Cold: `psbt message sign (FILE|-) --address ADDRESS` and `psbt message serve`.

The arguments are parsed by psbtbridge/commands/message.py, which runs `verify` itself
and sends `sign --to QUBE` to the hot side; this signs with the keystore's keys, after
the user read the message here, or serves psbtbridge.SignMessage (qrexec/psbtbridge.SignMessage).
"""

from __future__ import annotations

import argparse
import os
import sys

from cold.confirm import choose_mode
from cold.message_request import MessageRequest, sign_message_request
from cold.message_service import READ_DEADLINE_S, MessageSigner
from cold.pipeline import PASSPHRASE_FILE_VARIABLE
from cold.service import run_on_stdio
from psbtbridge.commands.message import read_message
from psbtbridge.errors import Code, ExitStatus, Refused
from psbtbridge.home import data_home
from psbtbridge.message import MessageFormat
from psbtbridge.sign_message import MAX_REQUEST, SERVICE


def run(args: argparse.Namespace) -> int:
    if args.action == "serve":
        signer = MessageSigner()
        return run_on_stdio(
            signer,
            service=SERVICE,
            cap=MAX_REQUEST,
            read_deadline_s=READ_DEADLINE_S,
            kept=signer.kept,
        )
    request = MessageRequest(
        home=data_home(os.environ),
        confirm=choose_mode(args.confirm, os.environ),
        format=MessageFormat(args.format) if args.format else None,
        passphrase_file=args.passphrase_file or os.environ.get(PASSPHRASE_FILE_VARIABLE),
    )
    if request.confirm == "policy":  # refused before the message is even read
        raise Refused(
            Code.MESSAGE_UNATTENDED,
            "a message is signed only after a person read it: use tty or gui",
        )
    signature = sign_message_request(read_message(args.file), args.address, request)
    sys.stdout.write(signature + "\n")
    sys.stdout.flush()
    return ExitStatus.OK
