"""`psbt inspect [FILE|-] [--json] [--network NET]`: strict parse and a summary of what the PSBT does.

Never signs and never writes a file. The JSON layout is versioned (`schema`) and
documented in the README; the text view formats the same `Summary` value.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping

from psbtbridge import encoding
from psbtbridge.amount import format_btc
from psbtbridge.analysis import network_from_paths
from psbtbridge.errors import Code, ExitStatus, UsageError
from psbtbridge.files import read_input
from psbtbridge.home import data_home, keystore_network
from psbtbridge.message import visible_lines
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.summary import InputSummary, OutputSummary, ProofSummary, Summary, summarize


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="PSBT file (binary, base64 or hex); - or nothing reads stdin",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--network",
        choices=Network.names(),
        help="network used to show addresses (default: the keystore's in the data folder,"
        " else main if the PSBT's derivation paths say coin type 0; else it must be given)",
    )


def run(args: argparse.Namespace) -> int:
    untrusted_data, _how = encoding.decode(read_input(args.file))
    psbt = Psbt.parse(untrusted_data)
    psbt.unsigned_tx()  # a PSBT with no transaction (BIP370 locktime clash) is invalid first
    summary = summarize(psbt, choose_network(args.network, os.environ, psbt))
    if args.json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
    else:
        sys.stdout.write(format_summary(summary))
    return ExitStatus.OK


def choose_network(given: str | None, environ: Mapping[str, str], psbt: Psbt) -> Network:
    """--network, else the network of the keystore beside us (the signer's), else main when
    the derivation paths say coin type 0; a guess beyond that could show wrong addresses
    (test, signet and regtest share coin type 1), so the user is asked to say."""
    if given is not None:
        return Network(given)
    beside = keystore_network(data_home(environ))
    if beside is not None:
        return beside
    from_paths = network_from_paths(psbt)
    if from_paths is not None:
        return from_paths
    raise UsageError(
        Code.INSPECT_NETWORK_UNKNOWN,
        "cannot tell which network this PSBT is for (no keystore here, no coin type 0 path):"
        " give --network main|test|signet|regtest",
    )


def format_summary(summary: Summary) -> str:
    """The text view: one block per input and output, totals, then warnings."""
    lines = [
        f"PSBT version {summary.psbt_version}, transaction version {summary.tx_version},"
        f" addresses for {summary.network}",
        f"unsigned txid {summary.unsigned_txid}",
        *([f"final txid    {summary.txid}"] if summary.txid is not None else []),
        f"locktime      {summary.locktime} ({summary.locktime_kind})",
        f"RBF           {'yes' if summary.rbf else 'no'}",
        "",
    ]
    if summary.proof is not None:
        lines += [*_proof_lines(summary.proof), ""]
    lines.append(f"inputs ({len(summary.inputs)})")
    for inp in summary.inputs:
        lines += _input_lines(inp)
    lines += ["", f"outputs ({len(summary.outputs)})"]
    for out in summary.outputs:
        lines += _output_lines(out)
    lines += ["", *_total_lines(summary)]
    if summary.refusals:
        lines += ["", f"a signer would refuse it ({len(summary.refusals)})"]
        lines += [f"  [{f.code}] {f.text}" for f in summary.refusals]
    if summary.warnings:
        lines += ["", f"warnings ({len(summary.warnings)})"]
        lines += [f"  [{w.code}] {w.text}" for w in summary.warnings]
    return "\n".join(lines) + "\n"


def _input_lines(inp: InputSummary) -> list[str]:
    if inp.amount is None:
        amount = "unknown (no previous output in the PSBT)"
    elif inp.amount_proven:
        amount = f"{format_btc(inp.amount)}, proven by the previous transaction"
    else:
        amount = f"{format_btc(inp.amount)}, claimed by witness_utxo only"
    signatures = [f"{inp.partial_sigs} partial"]
    if inp.tap_key_sig:
        signatures.append("taproot key-path")
    if inp.tap_script_sigs:
        signatures.append(f"{inp.tap_script_sigs} taproot script-path")
    if inp.finalized:
        signatures.append("finalized")
    return [
        f"  #{inp.index}  {inp.outpoint}",
        f"      amount    {amount}",
        f"      type      {inp.script_type}  {inp.address or '(no address)'}",
        f"      sequence  0x{inp.sequence:08x}  sighash {inp.sighash or 'not requested'}",
        f"      signed    {', '.join(signatures)}",
    ]


def _output_lines(out: OutputSummary) -> list[str]:
    where = out.address or f"script {out.script_pubkey}"
    return [f"  #{out.index}  {format_btc(out.amount)}  {out.script_type}  {where}"]


def _proof_lines(proof: ProofSummary) -> list[str]:
    """What a BIP-322 proof signs, the message made visible as `psbt message sign` shows it."""
    lines = [
        "BIP-322 message proof: signing a message, nothing is spent",
        f"  for          {proof.address or f'script {proof.script_pubkey}'}",
        f"  message hash {proof.message_hash}",
    ]
    if proof.message is None:
        lines.append("  message      not in the PSBT (only to_spend): only its hash is known")
    else:
        lines.append(f"  message      {len(proof.message.encode('utf-8'))} bytes:")
        lines += [f"  | {line}" for line in visible_lines(proof.message)]
    if proof.reserves_inputs:
        total = "unknown" if proof.reserves_total is None else format_btc(proof.reserves_total)
        inputs = ", ".join(f"#{i}" for i in proof.reserves_inputs)
        lines.append(f"  reserves     {total} from inputs {inputs}")
    return lines


def _total_lines(summary: Summary) -> list[str]:
    size = f"{summary.vsize} vB, {summary.vsize_basis}"
    if summary.proof is not None:
        # Input value of a proof is not a fee: to_sign can never be mined.
        total = "unknown" if summary.input_total is None else format_btc(summary.input_total)
        return [f"input total  {total} (shown, not spent); size {size}"]
    if summary.fee is None or summary.input_total is None:
        return [
            "input total  unknown",
            f"output total {format_btc(summary.output_total)}",
            f"fee          unknown (some input amounts are missing); size {size}",
        ]
    percent = f", {summary.fee_percent:.2f}% of outputs" if summary.fee_percent is not None else ""
    rate = f"{summary.fee_rate:.1f} sat/vB" if summary.fee_rate is not None else "n/a"
    return [
        f"input total  {format_btc(summary.input_total)}",
        f"output total {format_btc(summary.output_total)}",
        f"fee          {format_btc(summary.fee)}{percent}",
        f"fee rate     {rate} ({size})",
    ]
