"""Cold: `psbt address show`, `psbt address verify ADDRESS` and `psbt address serve`.

Addresses come from the keystore's public part and the wallet registry, never from the
hot side: this is the screen on which the user checks an address before giving it out.
No passphrase is needed; nothing is signed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

from cold.address_service import READ_DEADLINE_S, handle
from cold.keystore import KeystoreFile, load_keystore
from cold.service import run_on_stdio
from cold.wallets import registered_wallets
from psbtbridge.address import group_address
from psbtbridge.errors import Code, ExitStatus, Refused, UsageError
from psbtbridge.home import data_home
from psbtbridge.show_address import MAX_REQUEST, SERVICE
from psbtbridge.wallet import Wallet
from psbtbridge.wallet.addresses import (
    ADDRESS_WINDOW,
    CHANGE,
    RECEIVE,
    WalletAddress,
    find_address,
    list_addresses,
    select_wallets,
)

DEFAULT_COUNT = 10


def run(args: argparse.Namespace) -> int:
    if args.action == "serve":
        return run_on_stdio(
            handle, service=SERVICE, cap=MAX_REQUEST, read_deadline_s=READ_DEADLINE_S
        )
    home = data_home(os.environ)
    keystore = load_keystore(home)
    wallets = registered_wallets(home, keystore)
    if args.action == "verify":
        return _verify(args, keystore, wallets)
    return _show(args, keystore, wallets)


def describe(found: WalletAddress) -> str:
    """Two lines: where the address is derived, then the address in groups of 4."""
    return (
        f"{found.wallet}  {found.chain_name} {found.index}  {found.path}\n"
        f"    {group_address(found.address)}\n"
    )


def _show(args: argparse.Namespace, keystore: KeystoreFile, wallets: tuple[Wallet, ...]) -> int:
    chosen = select_wallets(wallets, args.wallet)
    count = args.count if args.count is not None else (1 if args.qr else DEFAULT_COUNT)
    if args.qr and (count != 1 or len(chosen) != 1):
        raise UsageError(
            Code.CLI_USAGE, "--qr shows one address: give --wallet NAME (and --count 1 or none)"
        )
    chain = CHANGE if args.change else RECEIVE
    shown = list_addresses(chosen, chain, args.index, count, keystore.master_fingerprint)
    if args.json:
        sys.stdout.write(json.dumps([a.as_json() for a in shown], indent=2) + "\n")
    else:
        sys.stdout.write("".join(describe(a) for a in shown))
    if args.qr:
        sys.stdout.write(qr_text(shown[0].address))
    return ExitStatus.OK


def qr_text(address: str) -> str:
    """The address as a QR code drawn with block characters, for a terminal."""
    import qrcode  # only here: nothing else on the cold path draws QR codes

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(address)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def _verify(args: argparse.Namespace, keystore: KeystoreFile, wallets: tuple[Wallet, ...]) -> int:
    found = find_address(
        args.address, wallets, keystore.network, ADDRESS_WINDOW, keystore.master_fingerprint
    )
    if found is None:
        raise Refused(
            Code.ADDRESS_NOT_OURS,
            f"{args.address} is NOT OURS: no wallet here derives it (receive and change,"
            f" indexes 0 to {ADDRESS_WINDOW - 1})",
        )
    if args.json:
        sys.stdout.write(json.dumps({"ours": True, **found.as_json()}, indent=2) + "\n")
    else:
        sys.stdout.write("OURS: " + describe(found))
    return ExitStatus.OK
