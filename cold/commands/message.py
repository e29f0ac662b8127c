"""`psbt message sign (FILE|-) --address ADDRESS` (cold) and `psbt message verify ADDRESS
SIGNATURE (FILE|-)` (either side).

Only `sign` needs the keystore: it imports cold modules inside its own path, so `verify`
loads nothing beyond psbtbridge and runs in the hot qube as well.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from psbtbridge.errors import Code, ExitStatus, InvalidInput, Refused
from psbtbridge.files import read_input
from psbtbridge.home import data_home
from psbtbridge.message import (
    MAX_MESSAGE_SIZE,
    MessageFormat,
    check_message,
    script_of_address,
    verify_message,
)

#: cold.confirm.MODES, spelled out so that parsing `verify` imports no cold module.
_MODES = ("tty", "gui", "policy")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sign = actions.add_parser(
        "sign",
        help="cold: sign a message with the key of one of the keystore's addresses",
        description="Show the whole message, the address, wallet and path; sign after `yes`;"
        " print the base64 signature on stdout.",
    )
    sign.add_argument("file", metavar="FILE", help="the message, byte for byte; - for stdin")
    sign.add_argument(
        "--address", required=True, metavar="ADDRESS", help="the address whose key signs"
    )
    sign.add_argument(
        "--format",
        choices=[f.value for f in MessageFormat],
        help="electrum (default for p2pkh, p2sh-p2wpkh, p2wpkh) or bip322 (BIP-322 simple;"
        " default for p2tr, also for p2wpkh)",
    )
    sign.add_argument(
        "--confirm",
        choices=_MODES,
        help="tty (type yes) or gui (a dialog); default gui with a display, else tty;"
        " policy is refused: messages are never signed unattended",
    )
    sign.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="keystore passphrase from this file (default: $PSBTBRIDGE_PASSPHRASE_FILE)",
    )
    verify = actions.add_parser(
        "verify",
        help="check an Electrum-format or BIP-322 signature (exit 0 valid, 1 invalid, 3 malformed)",
    )
    verify.add_argument("address", metavar="ADDRESS")
    verify.add_argument("signature", metavar="SIGNATURE", help="base64, BIP-322 prefix or none")
    verify.add_argument("file", metavar="FILE", help="the message, byte for byte; - for stdin")
    verify.add_argument("--json", action="store_true", help='print {"valid": true, "format": ...}')


def run(args: argparse.Namespace) -> int:
    if args.action == "sign":
        return _sign(args)
    return _verify(args)


# Every byte is the message, a final newline too: say so, and how Ctrl-D ends a line without it.
_TTY_ENDING = "type or paste it and press Ctrl-D (twice if the last line has no Enter; an Enter is part of the message)"


def read_message(path: str) -> bytes:
    """The message file, whole; over the cap is a refusal (message.too_long), not bad input."""
    try:
        data = read_input(path, MAX_MESSAGE_SIZE, "the message", _TTY_ENDING)
    except InvalidInput as error:
        if error.code != Code.IO_TOO_LARGE:
            raise
        raise Refused(
            Code.MESSAGE_TOO_LONG, f"the message is over the {MAX_MESSAGE_SIZE}-byte cap"
        ) from error
    check_message(data)
    return data


def _verify(args: argparse.Namespace) -> int:
    data = read_message(args.file)
    script = script_of_address(args.address)
    verified = verify_message(script, args.signature, data)
    if args.json:
        sys.stdout.write(json.dumps({"valid": True, "format": verified.format}) + "\n")
    else:
        sys.stderr.write(f"psbt: valid {verified.format} signature for {args.address}\n")
    return ExitStatus.OK


def _sign(args: argparse.Namespace) -> int:
    # Cold modules only from here: `psbt message verify` must run where there is no keystore.
    from cold.confirm import choose_mode
    from cold.message_request import MessageRequest, sign_message_request
    from cold.pipeline import PASSPHRASE_FILE_VARIABLE

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
