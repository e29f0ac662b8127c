"""`psbt send`: have the cold qube sign a PSBT over qrexec, check the answer, finalize.

psbt send [FILE|-] --to QUBE [-o OUT] [--finalize]
psbt send --to QUBE --pay ADDR AMOUNT [--pay ...] --feerate SAT_VB [--wallet PATH] [--broadcast]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hot.electrum import Electrum
from hot.qrexec_client import call_signer
from hot.send import check_answer, check_payments, digest, enrich, finalize_verified
from psbtbridge.encoding import Encoding, decode, encode
from psbtbridge.errors import BridgeError, ExitStatus, UsageError
from psbtbridge.files import read_input, write_atomic, write_output
from psbtbridge.home import data_home
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import address_of


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
    parser.add_argument("--feerate", type=float, metavar="SAT_VB", help="fee rate for --pay")
    parser.add_argument("--wallet", type=Path, help="the Electrum wallet file for --pay")
    parser.add_argument(
        "--broadcast", action="store_true", help="with --pay: broadcast through Electrum"
    )
    parser.add_argument("--network", choices=Network.names(), default="main")


def run(args: argparse.Namespace) -> int:
    network = Network(args.network)
    electrum: Electrum | None = None
    if args.pay:
        if args.file is not None:
            raise UsageError("send.usage", "give either a PSBT file or --pay, not both")
        if args.feerate is None:
            raise UsageError("send.usage", "--pay needs --feerate (Electrum's default is silent)")
        electrum = Electrum.from_environ(os.environ)
        unsigned = Psbt.parse(electrum.payto(args.wallet, args.pay, args.feerate))
        unsigned = enrich(unsigned, electrum, args.wallet)
        check_payments(unsigned, args.pay, network)
        encoding = Encoding.BASE64
    else:
        if args.broadcast:
            raise UsageError("send.usage", "--broadcast goes with --pay")
        data, encoding = decode(read_input(args.file or "-"))
        unsigned = Psbt.parse(data)
    name = digest(unsigned)
    _summary(unsigned, name, args.to, network)
    answer = check_answer(unsigned, call_signer(args.to, name, unsigned.serialize()))
    sys.stderr.write(f"{args.to} signed {name}: {answer.signatures} signature(s) verified\n")
    if not (args.finalize or args.pay):
        write_output(args.output, encode(answer.psbt.serialize(), encoding))
        return ExitStatus.OK
    tx = finalize_verified(answer.psbt)
    raw = tx.serialize()
    if electrum is not None and args.broadcast:
        try:
            txid = electrum.broadcast(raw)
        except BridgeError as error:
            saved = data_home(os.environ) / "signed" / f"{tx.txid_hex()}.txn"
            write_atomic(saved, raw.hex().encode() + b"\n", mode=0o600)
            raise BridgeError(
                "send.broadcast_failed",
                f"{error.message}; the signed transaction is saved in {saved}",
            ) from error
        write_output(args.output, txid.encode() + b"\n")
        return ExitStatus.OK
    write_output(args.output, raw.hex().encode() + b"\n")
    return ExitStatus.OK


def _summary(psbt: Psbt, name: str, qube: str, network: Network) -> None:
    """One screen on stderr: what is being sent for signing, under which name."""
    lines = [f"asking {qube} to sign {name} (txid {psbt.unsigned_tx().txid_hex()})"]
    for out in psbt.outputs:
        shown = address_of(out.script_pubkey, network) or f"script {out.script_pubkey.hex()}"
        lines.append(f"  output {out.index}: {out.amount:>15,} sat  {shown}")
    sys.stderr.write("\n".join(lines) + "\n")
