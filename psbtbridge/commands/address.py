"""`psbt address show|verify`: the wallets' addresses on the trusted screen, and "is it ours".

psbt address show [--wallet NAME] [--change] [--index N] [--count K] [--json] [--qr]
psbt address verify ADDRESS [--json] [--to QUBE]
psbt address serve            (the psbtbridge.ShowAddress qrexec service body)

One command serves both qubes: `verify --to QUBE` runs on the hot qube and asks the cold
one over qrexec (hot/commands/address.py), everything else reads the cold qube's own
wallets (cold/commands/address.py); psbtbridge/commands/sides.py picks and loads the side.
"""

from __future__ import annotations

import argparse

from psbtbridge.commands.sides import add_serve, run_side
from psbtbridge.qrexec import Service


def _index(text: str) -> int:
    if not text.isdigit() or not text.isascii() or len(text) > 10:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not an index (0 or more)")
    return int(text)


def _count(text: str) -> int:
    value = _index(text)
    if value == 0:
        raise argparse.ArgumentTypeError("the count must be 1 or more")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        help="cold: list the wallets' addresses, in groups of 4",
        description="Receive (or --change) addresses of every wallet the signer knows, or"
        " of --wallet NAME, from --index N on.",
    )
    show.add_argument("--wallet", metavar="NAME", help="only this wallet (see `psbt wallet list`)")
    show.add_argument("--change", action="store_true", help="the change chain, not receive")
    show.add_argument("--index", type=_index, default=0, metavar="N", help="first index (0)")
    show.add_argument(
        "--count", type=_count, metavar="COUNT", help="addresses per wallet (10; 1 with --qr)"
    )
    show.add_argument("--json", action="store_true", help="a JSON list of address objects")
    show.add_argument(
        "--qr", action="store_true", help="also print the one address as a QR code on the terminal"
    )
    verify = actions.add_parser(
        "verify",
        help="is ADDRESS ours? exit 0 ours, 1 not ours, 3 not an address of this network",
        description="Search the receive and change chains of every wallet (indexes below the"
        " change window) for ADDRESS. With --to QUBE (on the hot qube), ask the cold qube"
        " QUBE over qrexec instead; it shows the answer on its own screen.",
    )
    verify.add_argument("address", metavar="ADDRESS")
    verify.add_argument("--json", action="store_true", help="the answer as JSON")
    verify.add_argument("--to", metavar="QUBE", help="hot: ask this cold qube (e.g. electrum)")
    add_serve(actions, Service.SHOW_ADDRESS)


def run(args: argparse.Namespace) -> int:
    return run_side("address", args, remote=args.action == "verify" and args.to is not None)
