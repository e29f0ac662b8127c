"""`psbt message sign|verify|serve`: signed messages on either qube.

psbt message sign (FILE|-) --address ADDRESS [--format F] [--confirm tty|gui]   (cold)
psbt message sign (FILE|-) --address ADDRESS [--format F] --to QUBE             (hot)
psbt message verify ADDRESS SIGNATURE (FILE|-)                                  (either)
psbt message serve            (the psbtbridge.SignMessage qrexec service body)

`verify` needs no keystore and runs here; `sign` runs on the cold qube
(cold/commands/message.py), or with --to on the hot one, which asks the cold qube over
qrexec (hot/commands/message.py): psbtbridge/commands/sides.py picks and loads the side.
"""

from __future__ import annotations

import argparse
import json
import sys

from psbtbridge.commands.sides import add_serve, run_side
from psbtbridge.errors import Code, ExitStatus, InvalidInput, Refused
from psbtbridge.files import read_input
from psbtbridge.message import (
    MAX_MESSAGE_SIZE,
    MessageFormat,
    check_message,
    script_of_address,
    verify_message,
)
from psbtbridge.qrexec import Service

#: cold.confirm.MODES, spelled out so that parsing imports no cold module.
_MODES = ("tty", "gui", "policy")


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sign = actions.add_parser(
        "sign",
        help="cold: sign a message with the key of one of the keystore's addresses;"
        " hot: --to QUBE asks the cold qube",
        description="Show the whole message, the address, wallet and path; sign after `yes`;"
        " print the base64 signature on stdout. With --to QUBE (on the hot qube), send the"
        " message to the cold qube QUBE over qrexec (psbtbridge.SignMessage): it shows the"
        " message in a dialog and answers the signature, which is verified here.",
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
    sign.add_argument(
        "--to", metavar="QUBE", help="hot: ask this cold qube to sign (e.g. electrum)"
    )
    verify = actions.add_parser(
        "verify",
        help="check an Electrum-format or BIP-322 signature (exit 0 valid, 1 invalid, 3 malformed)",
    )
    verify.add_argument("address", metavar="ADDRESS")
    verify.add_argument("signature", metavar="SIGNATURE", help="base64, BIP-322 prefix or none")
    verify.add_argument("file", metavar="FILE", help="the message, byte for byte; - for stdin")
    verify.add_argument("--json", action="store_true", help='print {"valid": true, "format": ...}')
    add_serve(actions, Service.SIGN_MESSAGE)


def run(args: argparse.Namespace) -> int:
    if args.action == "verify":
        return _verify(args)
    return run_side("message", args, remote=args.action == "sign" and args.to is not None)


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
