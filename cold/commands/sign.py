"""`psbt sign [FILE|-] [-o OUT] [--confirm tty|gui|policy] [--passphrase-file F]`."""

from __future__ import annotations

import argparse
import os
import sys

from cold.confirm import choose_mode
from cold.delivery import check_writable, deliver
from cold.pipeline import PASSPHRASE_FILE_VARIABLE, SignRequest, run_signing
from psbtbridge.confirm_modes import MODES
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


def _write(output: str | None, data: bytes) -> None:
    try:
        write_output(output, data)
    except OSError:
        if output in (None, "-"):
            # What stdout could not take stays in its buffer: send it to /dev/null, so the
            # interpreter's final flush does not fail a second time after our message.
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)
        raise


def run(args: argparse.Namespace) -> int:
    request = SignRequest(
        home=data_home(os.environ),
        confirm=choose_mode(args.confirm, os.environ),
        passphrase_file=args.passphrase_file or os.environ.get(PASSPHRASE_FILE_VARIABLE),
    )
    untrusted_data = read_input(args.file)
    # Before anything is shown or asked: a result we could not keep or write is not signed.
    check_writable(request.home, args.output)
    signed = run_signing(untrusted_data, request)
    where = "stdout" if args.output in (None, "-") else args.output
    deliver(request.home, signed.txid, signed.data, where, lambda: _write(args.output, signed.data))
    sys.stderr.write(signed.summary(where) + "\n")
    return ExitStatus.OK
