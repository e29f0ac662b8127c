"""`psbt sign [FILE|-] [-o OUT] [--confirm tty|gui|policy] [--passphrase-file F]`."""

from __future__ import annotations

import argparse
import os

from cold.confirm import MODES, choose_mode
from cold.pipeline import PASSPHRASE_FILE_VARIABLE, SignRequest, sign_psbt
from psbtbridge.errors import ExitStatus
from psbtbridge.files import read_input, write_output
from psbtbridge.home import data_home


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="the PSBT (binary, base64 or hex); - or nothing reads stdin",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write the signed PSBT here (default: stdout)"
    )
    parser.add_argument(
        "--confirm",
        choices=MODES,
        help="who approves: tty (type yes), gui (a dialog), policy (unattended rules);"
        " default gui with a display, else tty",
    )
    parser.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help=f"read the keystore passphrase from this file (default: ${PASSPHRASE_FILE_VARIABLE})",
    )


def run(args: argparse.Namespace) -> int:
    request = SignRequest(
        home=data_home(os.environ),
        confirm=choose_mode(args.confirm, os.environ),
        passphrase_file=args.passphrase_file or os.environ.get(PASSPHRASE_FILE_VARIABLE),
    )
    signed = sign_psbt(read_input(args.file), request)
    write_output(args.output, signed)
    return ExitStatus.OK
