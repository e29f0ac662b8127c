"""Hot: `psbt message sign (FILE|-) --address ADDRESS --to QUBE` has the cold qube sign a message.

A watching-only Electrum cannot sign; the cold qube can, after the user read the whole
message in its dialog. This sends the address and the message to psbtbridge.SignMessage
(the argument: the first 8 hex of the message's SHA-256, shown in dom0's prompt and the
cold dialog), verifies the signature it answers against the address and the message, and
prints it. A refusal ends with the cold side's code and exit status (hot/qrexec_client.py).
"""

from __future__ import annotations

import argparse
import sys

from hot.qrexec_client import call_signer
from psbtbridge.address import group_address
from psbtbridge.commands.message import read_message
from psbtbridge.errors import Code, ExitStatus, UsageError
from psbtbridge.message import MessageFormat, script_of_address, verify_message
from psbtbridge.show_address import check_address_text
from psbtbridge.sign_message import (
    MAX_ANSWER,
    SERVICE,
    encode_request,
    parse_answer,
    request_digest,
)


def run(args: argparse.Namespace) -> int:
    if args.confirm is not None or args.passphrase_file is not None:
        raise UsageError(
            Code.CLI_USAGE,
            "--confirm and --passphrase-file belong to the cold qube: with --to, it asks"
            " and unlocks there",
        )
    address = check_address_text(args.address)
    script = script_of_address(address)  # any network: the cold qube knows which is its own
    data = read_message(args.file)
    digest = request_digest(data)
    chosen = MessageFormat(args.format) if args.format else None
    sys.stderr.write(
        f"Asking {args.to} to sign a {len(data)}-byte message with {group_address(address)}"
        f" (request code {digest}); read it and confirm on {args.to}'s screen.\n"
    )
    answer = call_signer(
        args.to, digest, encode_request(address, data, chosen), cap=MAX_ANSWER, service=SERVICE
    )
    signature = parse_answer(answer)
    # The answer crossed qrexec from another qube: print it only once it signs this message.
    verify_message(script, signature, data)
    sys.stdout.write(signature + "\n")
    return ExitStatus.OK
