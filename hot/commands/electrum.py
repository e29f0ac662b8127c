"""`psbt electrum setup-watch-only`: an Electrum watch-only wallet from the cold side's key export."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from hot.electrum import Electrum, WatchOnlyWallet
from hot.watch_only import watchable_from_export
from psbtbridge.files import read_input
from psbtbridge.wallet.export import MAX_EXPORT_SIZE


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    setup = actions.add_parser(
        "setup-watch-only",
        help="create an Electrum watch-only wallet from `psbt keys export --json`",
        description=(
            "Write a new Electrum wallet file that watches one wallet of the export and knows"
            " its keys' master fingerprint and derivation, so its PSBTs carry full paths."
            " Electrum opens it once to check it derives the same first address: offline,"
            " or, while an Electrum runs (which 4.5 requires), in that one, loaded for the"
            " check and closed again."
            " The command line of Electrum comes from PSBTBRIDGE_ELECTRUM (default: electrum)."
        ),
    )
    setup.add_argument(
        "--from", dest="export", required=True, metavar="FILE", help="the export (- for stdin)"
    )
    setup.add_argument(
        "--wallet", required=True, metavar="PATH", help="the new wallet file; never overwritten"
    )
    setup.add_argument(
        "--name",
        default="p2wpkh",
        help="which wallet of the export: p2wpkh (default), p2sh-p2wpkh, p2pkh, or a multisig name",
    )
    setup.add_argument("--json", action="store_true", help="print the result as JSON")


def setup_watch_only(
    export_path: str, wallet_path: Path, name: str, electrum: Electrum
) -> WatchOnlyWallet:
    untrusted_export = read_input(
        export_path, MAX_EXPORT_SIZE, "the export (psbt keys export --json)"
    )
    wallet = watchable_from_export(untrusted_export, name)
    return electrum.create_watch_only(wallet_path, wallet)


def run(args: argparse.Namespace) -> int:
    electrum = Electrum.from_environ(os.environ)
    wallet = setup_watch_only(args.export, Path(args.wallet), args.name, electrum)
    if args.json:
        fields = dataclasses.asdict(wallet) | {"path": str(wallet.path)}
        sys.stdout.write(json.dumps(fields) + "\n")
    else:
        sys.stdout.write(
            f"created watch-only wallet {wallet.path} ({wallet.name}: {wallet.script_type},"
            f" {wallet.network})\n"
            f"first receive address: {wallet.first_address}\n"
            "compare it with the cold side's export; then open the wallet in Electrum"
            f" or run `electrum load_wallet -w {wallet.path}`\n"
        )
    return 0
