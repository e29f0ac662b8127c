"""`psbt wallet add NAME DESCRIPTOR` registers a multisig wallet; `psbt wallet list` shows all.

Registering decides which outputs the signer will later call change, so the user checks
every cosigner out of band (fingerprint, path, xpub) before saying yes, and the seed
itself proves that one key is ours: this needs the keystore passphrase.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from cold.confirm.tty import ask_yes_no
from cold.keystore import load_keystore, passphrase_for, unlock
from cold.wallets import add_wallet, check_new, find_our_key, registered_wallets
from psbtbridge.address import group_address
from psbtbridge.errors import Code, Declined, ExitStatus, Refused, UsageError
from psbtbridge.home import data_home
from psbtbridge.wallet import AccountKey, Wallet, descriptor_of, parse_descriptor
from psbtbridge.wallet.addresses import wallet_address


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="register a multisig wallet that holds one of this seed's keys",
        description="Register a multisig descriptor: wsh(...), sh(wsh(...)) or sh(...) of"
        " multi/sortedmulti, keys as [fingerprint/path]xpub/<0;1>/* or .../0/*.",
    )
    add.add_argument("name", metavar="NAME", help="a short name: letters, digits, . _ -")
    add.add_argument("descriptor", metavar="DESCRIPTOR")
    add.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add.add_argument("--passphrase-file", metavar="FILE", help="keystore passphrase from FILE")
    listing = actions.add_parser("list", help="list every wallet the signer knows")
    listing.add_argument("--json", action="store_true", help="print the wallets as JSON")


def run(args: argparse.Namespace) -> int:
    if args.action == "add":
        return _add(args)
    return _list(args)


def _add(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    keystore = load_keystore(home)
    wallet = parse_descriptor(args.descriptor, keystore.network, args.name)
    if not wallet.is_multisig:
        raise Refused(
            Code.WALLET_NOT_MULTISIG,
            "only multisig wallets are registered: single-sig ones come from the seed",
        )
    check_new(wallet, registered_wallets(home, keystore))  # before asking for the passphrase
    seed = unlock(keystore, passphrase_for(keystore, args.passphrase_file))
    ours = find_our_key(wallet, seed)
    sys.stderr.write(wallet_summary(wallet, ours))
    if not args.yes and not confirm_on_tty("Register this wallet? Type yes to confirm: "):
        raise Declined(Code.WALLET_DECLINED, f"wallet {wallet.name} was not registered")
    add_wallet(home, keystore, wallet)
    sys.stderr.write(f"Registered wallet {wallet.name}.\n")
    return ExitStatus.OK


def wallet_summary(wallet: Wallet, ours: AccountKey) -> str:
    order = "sortedmulti (BIP67)" if wallet.sorted else "multi (keys in this order)"
    lines = [
        f"Wallet {wallet.name}: {wallet.threshold}-of-{len(wallet.keys)}"
        f" {wallet.script_type.value}, {order}, network {wallet.network.value}.",
        "Check every cosigner below against the cosigner's own device:",
    ]
    for position, key in enumerate(wallet.keys, 1):
        mark = "  <- this seed" if key == ours else ""
        lines += [
            f"  {position}. fingerprint {key.origin.fingerprint.hex()}"
            f"  path {key.origin.derivation}{mark}",
            f"     {key.xpub}",
        ]
    first = wallet_address(wallet, 0, 0, ours.origin.fingerprint)
    lines += [
        f"First receive address ({first.path}); compare it with the coordinator's:",
        f"    {group_address(first.address)}",
    ]
    return "\n".join(lines) + "\n"


def confirm_on_tty(question: str) -> bool:
    """Ask on the controlling terminal until `yes` or `no`; stdin may be a pipe a script fills."""
    try:
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as error:
        raise UsageError(
            Code.WALLET_NO_TTY, "no terminal to confirm on: check the cosigners, then add --yes"
        ) from error
    with tty_in, open("/dev/tty", "w", encoding="utf-8") as tty_out:
        return ask_yes_no(tty_in, tty_out, question)


def _list(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    wallets = registered_wallets(home, load_keystore(home))
    if args.json:
        entries = [
            {
                "name": w.name,
                "kind": "multisig" if w.is_multisig else "single",
                "script_type": w.script_type.value,
                "threshold": w.threshold,
                "keys": len(w.keys),
                "descriptor": descriptor_of(w),
            }
            for w in wallets
        ]
        sys.stdout.write(json.dumps({"wallets": entries}, indent=2) + "\n")
        return ExitStatus.OK
    for w in wallets:
        kind = f"{w.threshold}-of-{len(w.keys)}" if w.is_multisig else "single-sig"
        sys.stdout.write(f"{w.name:<16} {kind:<10} {w.script_type.value:<11} {descriptor_of(w)}\n")
    return ExitStatus.OK
