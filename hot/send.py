"""The hot side's send flow: prepare an unsigned PSBT, have the cold qube sign it, check the
answer, finalize.

The hot qube is the exposed one, but it still checks what comes back: a signer that
answers with another transaction, or with a signature that does not verify, must never
get as far as a broadcast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hot.electrum import Electrum
from psbtbridge.encoding import decode
from psbtbridge.errors import BridgeError, InvalidInput, UsageError
from psbtbridge.finalize import extract, finalize, spent_outputs
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.psbt_fields import InputType
from psbtbridge.script import address_of, is_p2tr
from psbtbridge.tx import Tx
from psbtbridge.verify import Verifier, verify_final_tx

SATS_PER_BTC = 100_000_000


def digest(psbt: Psbt) -> str:
    """The 8 hex characters naming a request in dom0's prompt, the cold dialog and here."""
    return psbt.unsigned_tx().txid_hex()[:8]


def enrich(psbt: Psbt, electrum: Electrum, wallet: Path | None) -> Psbt:
    """Add the full previous transaction to every non-taproot input that lacks one.

    The cold signer refuses to sign a legacy or segwit v0 input whose amount is not proven
    by its previous transaction; the wallet has them all.
    """
    for inp in psbt.inputs:
        spent = inp.spent_output
        if inp.non_witness_utxo is not None or (spent is not None and is_p2tr(spent.script_pubkey)):
            continue
        raw = electrum.get_transaction(wallet, inp.prevout.txid[::-1].hex())
        psbt = psbt.with_input(inp.index, inp.with_entry(InputType.NON_WITNESS_UTXO, b"", raw))
    return psbt


def check_payments(psbt: Psbt, pays: Sequence[tuple[str, str]], network: Network) -> None:
    """Every payment asked for is in the PSBT Electrum made, to the satoshi."""
    outputs = [(address_of(o.script_pubkey, network), o.amount) for o in psbt.outputs]
    for address, amount in pays:
        found = [sats for shown, sats in outputs if shown == address]
        if not found or (amount != "!" and btc_to_sats(amount) not in found):
            raise BridgeError(
                "send.payment_missing",
                f"Electrum's transaction does not pay {amount} BTC to {address}; nothing was sent",
            )


def btc_to_sats(amount: str) -> int:
    """An exact BTC amount ("0.001") in satoshis, without floating point."""
    whole, _, fraction = amount.partition(".")
    if not whole.isdigit() or len(fraction) > 8 or (fraction and not fraction.isdigit()):
        raise UsageError("send.bad_amount", f"{amount!r} is not an amount in BTC")
    return int(whole) * SATS_PER_BTC + int(fraction.ljust(8, "0") or "0")


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
            "send.tx_changed", "the signed PSBT is for a different transaction than the one sent"
        )
    spent = [inp.spent_output for inp in sent.inputs]
    verifier = Verifier(tx, spent)
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
        raise InvalidInput("send.no_signature", "the signer answered without adding a signature")
    return SignedAnswer(answer, added)


def finalize_verified(psbt: Psbt) -> Tx:
    """The final transaction, its every input run through the independent script verifier."""
    finished = finalize(psbt)
    tx = extract(finished)
    verify_final_tx(tx, spent_outputs(finished))
    return tx
