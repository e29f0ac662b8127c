"""`psbt send`: have the cold qube sign a PSBT over qrexec, check the answer, finalize.

psbt send [FILE|-] --to QUBE [-o OUT] [--finalize] [--wallet PATH]
psbt send --to QUBE --pay ADDR AMOUNT [--pay ...] --feerate SAT_VB [--wallet PATH] [--broadcast]

Once the cold qube has signed, nothing signed is lost: when the result cannot be delivered
(finalizing, broadcasting or writing fails) it is saved under the data folder's `signed/`
and the error names the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hot.electrum import Electrum
from hot.qrexec_client import call_signer
from hot.send import (
    check_answer,
    check_payments,
    enrich,
    finalize_verified,
    missing_previous_txs,
    parse_payments,
    summary_lines,
)
from psbtbridge.encoding import Encoding, decode, encode
from psbtbridge.errors import BridgeError, Code, ExitStatus, UsageError
from psbtbridge.files import read_input, write_atomic, write_output
from psbtbridge.home import data_home
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", help="an unsigned PSBT (binary, base64, hex); - is stdin"
    )
    parser.add_argument("--to", required=True, metavar="QUBE", help="the cold qube (e.g. electrum)")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument(
        "--finalize",
        action="store_true",
        help="write the final raw transaction (hex), not the PSBT",
    )
    parser.add_argument(
        "--pay",
        nargs=2,
        action="append",
        metavar=("ADDR", "AMOUNT"),
        help="let Electrum build the PSBT: pay AMOUNT BTC (or ! for everything) to ADDR",
    )
    parser.add_argument(
        "--feerate", type=float, metavar="SAT_VB", help="fee rate for --pay (required with it)"
    )
    parser.add_argument(
        "--wallet",
        type=Path,
        metavar="WALLET_FILE",
        help="the Electrum wallet file: builds the --pay PSBT, and supplies previous"
        " transactions a PSBT lacks",
    )
    parser.add_argument(
        "--broadcast", action="store_true", help="with --pay: broadcast through Electrum"
    )
    parser.add_argument(
        "--network",
        choices=Network.names(),
        help="the network of the addresses and of the summary (default: the network option"
        " of PSBTBRIDGE_ELECTRUM, the Electrum this side drives; without one, main)",
    )


def check_usage(args: argparse.Namespace) -> None:
    """Options that parse but do not go together (argparse cannot say "only with --pay")."""
    if args.pay:
        if args.file is not None:
            raise UsageError(Code.SEND_USAGE, "give either a PSBT file or --pay, not both")
        if args.feerate is None:
            raise UsageError(
                Code.SEND_USAGE, "--pay needs --feerate SAT_VB (Electrum's own choice is silent)"
            )
        return
    for given, option in ((args.feerate is not None, "--feerate"), (args.broadcast, "--broadcast")):
        if given:
            raise UsageError(Code.SEND_USAGE, f"{option} goes with --pay")


def choose_network(given: str | None, electrum: Electrum) -> Network:
    """The hot side's network: the Electrum it drives runs on one, and --network may only
    repeat it; a regtest PSBT summarised as mainnet would show other addresses than the
    cold dialog does (issue 14, item 6)."""
    driven = electrum.network()
    if given is None:
        return driven or Network.MAIN
    if driven is not None and Network(given) is not driven:
        raise UsageError(
            Code.SEND_NETWORK_MISMATCH,
            f"--network {given}, but PSBTBRIDGE_ELECTRUM runs Electrum on {driven.value}",
        )
    return Network(given)


def run(args: argparse.Namespace) -> int:
    check_usage(args)
    network = choose_network(args.network, Electrum.from_environ(os.environ))
    unsigned, encoding, electrum = _unsigned(args, network)
    name = unsigned.unsigned_tx().digest()
    sys.stderr.write("\n".join(summary_lines(unsigned, name, args.to, network)) + "\n")
    answer = check_answer(unsigned, call_signer(args.to, name, unsigned.serialize()))
    sys.stderr.write(
        f"{args.to} signed request code {name}: {answer.signatures} signature(s) verified\n"
    )
    txid = unsigned.unsigned_tx().txid_hex()
    signed_psbt = encode(answer.psbt.serialize(), Encoding.BASE64)
    if not (args.finalize or args.pay):
        written = encode(answer.psbt.serialize(), encoding)
        _deliver(args.output, written, f"{txid}.psbt", signed_psbt)
        return ExitStatus.OK
    try:
        tx = finalize_verified(unsigned, answer.psbt)
    except BridgeError as error:
        kept = _kept(_keep(f"{txid}.psbt", signed_psbt))
        raise type(error)(error.code, f"{error.message}; the signed PSBT {kept}") from error
    raw_hex = tx.serialize().hex().encode() + b"\n"
    result = raw_hex
    if electrum is not None and args.broadcast:
        try:
            result = electrum.broadcast(tx.serialize()).encode() + b"\n"
        except BridgeError as error:
            path = _keep(f"{tx.txid_hex()}.txn", raw_hex)
            later = f": broadcast it later with `electrum broadcast - < {path}`" if path else ""
            raise BridgeError(
                Code.SEND_BROADCAST_FAILED,
                f"{error.message}; the signed transaction {_kept(path)}{later}",
            ) from error
    _deliver(args.output, result, f"{tx.txid_hex()}.txn", raw_hex)
    return ExitStatus.OK


def _unsigned(args: argparse.Namespace, network: Network) -> tuple[Psbt, Encoding, Electrum | None]:
    """The PSBT to send (from Electrum's payto, or read), with every previous transaction the
    signer needs; its encoding; the Electrum used, if any."""
    electrum: Electrum | None = None
    if args.pay:
        payments = parse_payments(args.pay, network)
        electrum = Electrum.from_environ(os.environ)
        pairs = [(p.address, p.electrum_amount) for p in payments]
        unsigned = Psbt.parse(electrum.payto(args.wallet, pairs, args.feerate))
        check_payments(unsigned, payments)
        encoding = Encoding.BASE64
    else:
        data, encoding = decode(read_input(args.file or "-"))
        unsigned = Psbt.parse(data)
    if missing_previous_txs(unsigned):
        electrum = electrum or Electrum.from_environ(os.environ)
        unsigned = enrich(unsigned, electrum, args.wallet)
    return unsigned, encoding, electrum


def _deliver(output: str | None, data: bytes, name: str, signed: bytes) -> None:
    """Write the result; if that fails, keep the signed data (base64 or hex) under `name`."""
    try:
        write_output(output, data)
    except (BridgeError, OSError) as error:
        kept = _kept(_keep(name, signed))
        message = error.message if isinstance(error, BridgeError) else f"cannot write: {error}"
        raise BridgeError(Code.IO_WRITE_FAILED, f"{message}; the signed result {kept}") from error


def _keep(name: str, data: bytes) -> Path | None:
    """Save signed data (ASCII: base64 or hex) in the data folder's signed/. If even that
    fails, the data goes to stderr, the last place to copy it from, and None is returned."""
    path = data_home(os.environ) / "signed" / name
    try:
        write_atomic(path, data, mode=0o600)
    except BridgeError as error:
        sys.stderr.write(f"psbt: {error.message}; here it is instead:\n{data.decode('ascii')}\n")
        return None
    return path


def _kept(path: Path | None) -> str:
    return f"is saved in {path}" if path else "could not be saved: it is printed above"
