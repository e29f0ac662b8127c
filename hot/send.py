"""The hot side's send flow: prepare an unsigned PSBT, have the cold qube sign it, check the
answer, finalize.

The hot qube is the exposed one, but it still checks what comes back: a signer that
answers with another transaction, or with a signature that does not verify, must never
get as far as a broadcast.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hot.electrum import Electrum
from psbtbridge.address import decode_address
from psbtbridge.amount import SATS_PER_BTC, format_btc
from psbtbridge.encoding import decode
from psbtbridge.errors import BridgeError, Code, InvalidInput, UsageError
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.fields import InputType
from psbtbridge.psbt.finalize import extract, finalize
from psbtbridge.script import is_p2tr
from psbtbridge.summary import summarize
from psbtbridge.tx import MAX_MONEY, Tx
from psbtbridge.verify import SpentOutput, Verifier, verify_final_tx

EVERYTHING: Final = "!"  # Electrum's amount for "all the wallet's coins, no change"
#: ASCII digits only (`\d` would take "١"), no sign, exponent or leading zeros, 8 decimals.
_AMOUNT_RE: Final = re.compile(r"(0|[1-9][0-9]{0,7})(\.[0-9]{1,8})?")


@dataclass(frozen=True)
class Payment:
    """One `--pay ADDR AMOUNT`, checked: an address of --network, an exact amount."""

    address: str  # canonical form (bech32 lower case), what Electrum is given
    script_pubkey: bytes
    sats: int | None  # None: everything (Electrum's "!")

    @property
    def electrum_amount(self) -> str:
        """The amount as Electrum reads it: decimal BTC, or "!"."""
        if self.sats is None:
            return EVERYTHING
        whole, fraction = divmod(self.sats, SATS_PER_BTC)
        return f"{whole}.{fraction:08d}".rstrip("0").rstrip(".")


def btc_to_sats(untrusted_amount: str) -> int:
    """An exact BTC amount ("0.001") in satoshis, without floating point; above 0, at most 21M."""
    if _AMOUNT_RE.fullmatch(untrusted_amount) is None:
        raise UsageError(
            Code.SEND_BAD_AMOUNT,
            f"{untrusted_amount[:30]!r} is not an amount in BTC (digits, at most 8 decimals)",
        )
    whole, _, fraction = untrusted_amount.partition(".")
    sats = int(whole) * SATS_PER_BTC + int(fraction.ljust(8, "0") or "0")
    if not 0 < sats <= MAX_MONEY:
        raise UsageError(
            Code.SEND_BAD_AMOUNT, f"{untrusted_amount} BTC is not above 0 and at most 21M"
        )
    return sats


def address_script(untrusted_address: str, network: Network) -> tuple[str, bytes]:
    """(canonical address, scriptPubKey) of an address of `network`, or a UsageError saying
    which network it belongs to: a regtest address given without --network regtest would
    otherwise look like a payment missing from Electrum's transaction."""
    try:
        return decode_address(untrusted_address, network)
    except InvalidInput as error:
        code = (
            Code.SEND_WRONG_NETWORK
            if error.code == Code.ADDRESS_WRONG_NETWORK
            else Code.SEND_BAD_ADDRESS
        )
        hint = ": give --network for it" if code == Code.SEND_WRONG_NETWORK else ""
        raise UsageError(code, error.message + hint) from error


def parse_payment(untrusted_address: str, untrusted_amount: str, network: Network) -> Payment:
    address, spk = address_script(untrusted_address, network)
    sats = None if untrusted_amount == EVERYTHING else btc_to_sats(untrusted_amount)
    return Payment(address, spk, sats)


def parse_payments(untrusted_pays: Sequence[Sequence[str]], network: Network) -> list[Payment]:
    """Every --pay, checked before Electrum is asked for anything."""
    payments = [parse_payment(address, amount, network) for address, amount in untrusted_pays]
    if sum(p.sats is None for p in payments) > 1:
        raise UsageError(
            Code.SEND_BAD_AMOUNT, f"only one payment can be {EVERYTHING!r} (everything)"
        )
    return payments


def missing_previous_txs(psbt: Psbt) -> list[int]:
    """Inputs the cold signer cannot prove an amount for: no full previous transaction, and
    not taproot (whose signatures commit to every input's amount)."""
    return [
        inp.index
        for inp in psbt.inputs
        if inp.non_witness_utxo is None
        and not (inp.spent_output is not None and is_p2tr(inp.spent_output.script_pubkey))
    ]


def enrich(psbt: Psbt, electrum: Electrum, wallet: Path | None) -> Psbt:
    """Add the full previous transaction to every input that lacks one, from the wallet.

    The cold signer refuses to sign a legacy or segwit v0 input whose amount is not proven
    by its previous transaction (the segwit fee attack); the wallet has them all. Electrum
    answers `gettransaction` only through a running Electrum (GUI or daemon, even an
    offline one): its `--offline` client refuses the command.
    """
    for index in missing_previous_txs(psbt):
        inp = psbt.inputs[index]
        txid = inp.prevout.txid[::-1].hex()
        try:
            raw = electrum.get_transaction(wallet, txid)
        except BridgeError as error:
            hint = (
                "Electrum's --offline command line cannot look transactions up: start Electrum"
                " (its GUI, or `electrum daemon -d` and `electrum load_wallet -w WALLET`) and"
                " leave --offline out of PSBTBRIDGE_ELECTRUM"
                if error.code == Code.ELECTRUM_OFFLINE
                else error.message
            )
            raise BridgeError(
                Code.SEND_PREVTX_UNAVAILABLE,
                f"input {index} lacks its previous transaction {txid} and Electrum could not"
                f" supply it: {hint}; nothing was sent",
            ) from error
        psbt = psbt.with_input(index, inp.with_entry(InputType.NON_WITNESS_UTXO, b"", raw))
    return psbt


def check_payments(psbt: Psbt, payments: Sequence[Payment]) -> None:
    """Every payment asked for is an output of the PSBT Electrum made, to the satoshi, each
    matched to its own output (two equal payments need two outputs)."""
    unmatched = [(o.script_pubkey, o.amount) for o in psbt.outputs]
    for payment in payments:
        found = next(
            (
                pair
                for pair in unmatched
                if pair[0] == payment.script_pubkey
                and (payment.sats is None or pair[1] == payment.sats)
            ),
            None,
        )
        if found is None:
            raise BridgeError(
                Code.SEND_PAYMENT_MISSING,
                f"Electrum's transaction does not pay {payment.electrum_amount} BTC to"
                f" {payment.address}; nothing was sent",
            )
        unmatched.remove(found)


def summary_lines(psbt: Psbt, name: str, qube: str, network: Network) -> list[str]:
    """What is being sent for signing, under which name: the hot terminal's screen.

    Amounts and the fee are what the PSBT states; the cold qube's dialog shows what it proved.
    """
    summary = summarize(psbt, network)
    lines = [
        f"asking {qube} to sign request code {name}"
        f" (txid {summary.unsigned_txid}, addresses for {network.value})"
    ]
    for out in summary.outputs:
        shown = out.address or f"{out.script_type} script {out.script_pubkey}"
        lines.append(f"  output {out.index}: {format_btc(out.amount)}  {shown}")
    if summary.fee is None or summary.input_total is None:
        lines.append(f"  fee: unknown ({len(summary.inputs)} input(s), not all amounts given)")
    else:
        rate = f", {summary.fee_rate:g} sat/vB" if summary.fee_rate is not None else ""
        lines.append(
            f"  from {len(summary.inputs)} input(s) of {format_btc(summary.input_total)};"
            f" fee {format_btc(summary.fee)}{rate}"
        )
    lines += [f"  refused: {f.text}" for f in summary.refusals]
    lines += [f"  warning: {w.text}" for w in summary.warnings]
    lines.append(f"dom0's prompt and {qube}'s dialog show request code {name}")
    return lines


@dataclass(frozen=True)
class SignedAnswer:
    psbt: Psbt
    signatures: int  # signatures the cold side added, each verified here


def check_answer(sent: Psbt, untrusted_answer: bytes) -> SignedAnswer:
    """The signer's answer, accepted only if it signs exactly what was sent and every new
    signature verifies (python-bitcointx) against the outputs *we* said are being spent."""
    data, _ = decode(untrusted_answer)
    answer = Psbt.parse(data)
    tx = sent.unsigned_tx()
    if answer.unsigned_tx().serialize() != tx.serialize():
        raise InvalidInput(
            Code.SEND_TX_CHANGED, "the signed PSBT is for a different transaction than the one sent"
        )
    verifier = Verifier(tx.serialize(), spent_by(sent))
    added = 0
    for before, after in zip(sent.inputs, answer.inputs, strict=True):
        known = {sig.pubkey for sig in before.partial_sigs}
        for sig in after.partial_sigs:
            if sig.pubkey in known:
                continue
            verifier.check_ecdsa(
                after.index,
                sig.pubkey,
                sig.signature,
                redeem_script=after.redeem_script,
                witness_script=after.witness_script,
            )
            added += 1
        if after.tap_key_sig is not None and after.tap_key_sig != before.tap_key_sig:
            verifier.check_schnorr_keypath(after.index, after.tap_key_sig)
            added += 1
    if not added:
        raise InvalidInput(Code.SEND_NO_SIGNATURE, "the signer answered without adding a signature")
    return SignedAnswer(answer, added)


def spent_by(sent: Psbt) -> list[SpentOutput | None]:
    """The outputs being spent as the PSBT *we* sent states them: the answer's own claims
    are never used, so a signer cannot move the amounts our checks are made against."""
    outs = [inp.spent_output for inp in sent.inputs]
    return [None if out is None else SpentOutput(out.script_pubkey, out.value) for out in outs]


def finalize_verified(sent: Psbt, answer: Psbt) -> Tx:
    """The final transaction, its every input run through python-bitcointx's VerifyScript
    against the outputs the sent PSBT spends."""
    tx = extract(finalize(answer))
    verify_final_tx(tx.serialize(), spent_by(sent))
    return tx
