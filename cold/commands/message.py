"""`psbt message sign (FILE|-) --address ADDRESS` (cold) and `psbt message verify ADDRESS
SIGNATURE (FILE|-)` (either side).

Only `sign` needs the keystore: it imports cold modules inside its own path, so `verify`
loads nothing beyond psbtbridge and runs in the hot qube as well.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from psbtbridge.errors import Declined, ExitStatus, InvalidInput, Refused
from psbtbridge.files import read_input
from psbtbridge.home import data_home
from psbtbridge.message import (
    MAX_MESSAGE_SIZE,
    MessageFormat,
    check_message,
    script_of_address,
    verify_message,
)
from psbtbridge.script import address_of

if TYPE_CHECKING:
    from pathlib import Path

PASSPHRASE_FILE_VARIABLE = "PSBTBRIDGE_PASSPHRASE_FILE"  # as cold.pipeline names it
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
    sign.add_argument("--address", required=True, help="the address whose key signs")
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
        help=f"keystore passphrase from this file (default: ${PASSPHRASE_FILE_VARIABLE})",
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


def read_message(path: str) -> bytes:
    """The message file, whole; over the cap is a refusal (message.too_long), not bad input."""
    try:
        data = read_input(path, MAX_MESSAGE_SIZE)
    except InvalidInput as error:
        if error.code != "io.too_large":
            raise
        raise Refused(
            "message.too_long", f"the message is over the {MAX_MESSAGE_SIZE}-byte cap"
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
    if args.confirm == "policy":
        raise Refused(
            "message.unattended", "a message is signed only after a person read it: use tty or gui"
        )
    # Cold modules only from here: `psbt message verify` must run where there is no keystore.
    from cold.keystore import load_keystore, read_secret_file, unlock
    from cold.message_sign import check_format, default_format, find_owner, sign_message
    from cold.policy_file import load_policy
    from cold.wallets import registered_wallets

    data = read_message(args.file)
    home = data_home(os.environ)
    keystore = load_keystore(home)
    script = script_of_address(args.address, keystore.network)
    # What is shown and logged is the address as a wallet writes it for this script.
    address = address_of(script, keystore.network) or args.address
    wallets = registered_wallets(home, keystore)
    owner = find_owner(wallets, script, load_policy(home).change_index_window)
    chosen = check_format(
        owner.wallet.script_type,
        MessageFormat(args.format) if args.format else default_format(owner.wallet.script_type),
    )
    passphrase_file = args.passphrase_file or os.environ.get(PASSPHRASE_FILE_VARIABLE)
    from_file = (
        read_secret_file(passphrase_file) if keystore.encrypted and passphrase_file else None
    )
    from cold.confirm import choose_mode
    from cold.confirm.message import MessageView

    view = MessageView(
        text=data.decode("utf-8"),
        address=address,
        wallet=owner.wallet.name,
        path=owner.path,
        format=chosen.value,
        caller="local",
        needs_passphrase=keystore.encrypted and from_file is None,
    )
    if choose_mode(args.confirm, os.environ) == "gui":
        from cold.confirm.message_gui import confirm_message_gui

        decision = confirm_message_gui(view)
    else:
        from cold.confirm.message import confirm_message_terminal

        decision = confirm_message_terminal(view)
    try:
        decision.raise_if_declined()
    except Declined as error:
        _audit(home, "declined", error.code, data, address, script)
        raise
    seed = unlock(keystore, from_file if from_file is not None else decision.passphrase)
    signature = sign_message(seed, owner, data, chosen)
    _audit(home, "signed", None, data, address, script)
    sys.stdout.write(signature + "\n")
    sys.stdout.flush()
    return ExitStatus.OK


def _audit(
    home: Path, decision: str, reason: str | None, data: bytes, address: str, script: bytes
) -> None:
    """One audit record, in the log's existing schema: txid holds the message's SHA-256 and
    the one "output" of kind message is the signing address (amount 0)."""
    from cold import audit

    audit.append_record(
        home,
        audit.AuditRecord(
            decision="signed" if decision == "signed" else "declined",
            reason=reason,
            txid=hashlib.sha256(data).hexdigest(),
            outputs=(audit.AuditOutput(address, script, 0, "message"),),
            fee=None,
            fee_rate=None,
            caller="local",
            sats_leaving=0,
        ),
        datetime.now(UTC),
    )
