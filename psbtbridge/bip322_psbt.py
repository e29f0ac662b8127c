"""A PSBT that is a BIP-322 message proof (to_sign), recognised strictly, so that it is shown
as a message being signed, never as a payment.

Signing to_sign moves no coins only because its input 0 spends to_spend, a transaction
that can never exist (BIP-322; psbtbridge/bip322.py). So the whole safety of a proof of
reserves rests on one fact: input 0's prevout txid is to_spend's, rebuilt here from the
message (or its hash) and the address's script. A PSBT that looks like a proof but where
that, or any other rule of to_sign, does not hold is refused with a `bip322.` code: taken
as an ordinary PSBT, its reserves inputs would all be paid to the miners as a fee.

Where the message comes from: BIP-322's PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE (0x09), which
Sparrow and recent Coldcard firmware use; else only its hash, from to_spend given as input
0's PSBT_IN_NON_WITNESS_UTXO (older proof-of-reserves tools), and the user is told so.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from psbtbridge.bip322 import (
    MESSAGE_HASH_PUSH,
    NULL_PREVOUT,
    OP_RETURN_SCRIPT,
    message_hash,
    to_spend_of_hash,
)
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.message import check_message
from psbtbridge.psbt import Psbt, PsbtInput
from psbtbridge.psbt.fields import InputType
from psbtbridge.psbt.keymap import Entry
from psbtbridge.script import is_op_return
from psbtbridge.tx import OutPoint, Tx, TxOut

#: BIP-322 PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE: the UTF-8 message, no key data.
PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE: Final = 0x09


class MessageProof(NamedTuple):
    """A PSBT proven to be BIP-322's to_sign: what it signs, and for which script."""

    message: str | None  # None when the PSBT carries only to_spend: only the hash is known
    message_hash: bytes
    message_challenge: bytes  # the scriptPubKey of the address whose key signs
    #: Inputs after input 0: the coins a proof of funds (reserves) shows control of.
    reserves: tuple[int, ...]


def is_message_field(key_type: int) -> bool:
    """The global field BIP-322 defines: known here, so not an "unknown field" warning."""
    return key_type == PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE


def claims_proof(psbt: Psbt) -> bool:
    """Whether psbt says it is a BIP-322 proof: it carries the message field, input 0's
    full previous transaction has to_spend's null prevout, or it pays only to OP_RETURN
    from an input 0 of 0 sat (no payment has such an input)."""
    first = psbt.inputs[0] if psbt.inputs else None
    return (
        any(is_message_field(e.key_type) for e in psbt.unknown)
        or _claimed_to_spend(first) is not None
        or _burns_from_nothing(psbt.unsigned_tx(), first)
    )


def recognise_proof(psbt: Psbt) -> MessageProof | None:
    """The BIP-322 proof psbt is, None when it does not claim to be one (claims_proof), or
    Refused: a proof that cannot be proven is refused, never signed as a payment."""
    if not claims_proof(psbt):
        return None
    tx = psbt.unsigned_tx()
    fields = [e for e in psbt.unknown if is_message_field(e.key_type)]
    first = psbt.inputs[0] if psbt.inputs else None
    given_spend = _claimed_to_spend(first)
    if first is None:
        raise Refused(Code.BIP322_BAD_TO_SIGN, "a BIP-322 proof needs input 0 to spend to_spend")
    challenge = _check_to_sign(tx, first)
    if fields:
        text = _message_text(fields)
        hashed = message_hash(text.encode("utf-8"))
    elif given_spend is not None:
        text, hashed = None, _hash_in(given_spend)
    else:
        raise Refused(
            Code.BIP322_UNPROVEN,
            "input 0 spends 0 sat and the only output is OP_RETURN, as in a BIP-322 proof, but"
            " the PSBT gives neither the message (PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE) nor"
            " to_spend (input 0's PSBT_IN_NON_WITNESS_UTXO): nothing shows input 0 spends a"
            " transaction that cannot exist",
        )
    spend = to_spend_of_hash(challenge, hashed)
    # The one fact the proof's safety rests on (module docstring).
    if first.prevout != OutPoint(spend.txid(), 0):
        raise Refused(
            Code.BIP322_NOT_TO_SPEND,
            f"input 0 spends {first.prevout}, not output 0 of to_spend"
            f" {spend.txid()[::-1].hex()} built from the message and the address",
        )
    if given_spend is not None and given_spend != spend:
        raise Refused(
            Code.BIP322_NOT_TO_SPEND,
            "input 0's PSBT_IN_NON_WITNESS_UTXO is not the to_spend of this message and address",
        )
    return MessageProof(text, hashed, challenge, tuple(range(1, len(tx.inputs))))


def _claimed_to_spend(first: PsbtInput | None) -> Tx | None:
    """Input 0's full previous transaction when its only input has to_spend's null prevout."""
    if first is None or first.non_witness_utxo is None:
        return None
    raw = next(e.value for e in first.entries if e.key_type == InputType.NON_WITNESS_UTXO)
    try:
        previous = Tx.parse(raw)  # the PSBT parser read it strictly already
    except InvalidInput:
        return None
    if len(previous.inputs) != 1 or previous.inputs[0].prevout != NULL_PREVOUT:
        return None
    return previous


def _burns_from_nothing(tx: Tx, first: PsbtInput | None) -> bool:
    spent = None if first is None else first.spent_output
    return (
        spent is not None
        and spent.value == 0
        and bool(tx.outputs)
        and all(is_op_return(out.script_pubkey) for out in tx.outputs)
    )


def _check_to_sign(tx: Tx, first: PsbtInput) -> bytes:
    """BIP-322's to_sign rules that keep every coin where it is; the challenge script.

    Stricter than BIP-322, which lets a full proof set version 2, a locktime and input 0's
    sequence for time locks: a signer showing a message has no use for them, and each is
    one more thing a person cannot check on the screen.
    """
    problems = []
    if tx.version != 0:
        problems.append(f"version {tx.version}, not 0")
    if tx.locktime != 0:
        problems.append(f"locktime {tx.locktime}, not 0")
    if first.sequence != 0:
        problems.append(f"input 0 has sequence 0x{first.sequence:08x}, not 0")
    if first.prevout.vout != 0:
        problems.append(f"input 0 spends output {first.prevout.vout}, not 0")
    if tx.outputs != (TxOut(0, OP_RETURN_SCRIPT),):
        problems.append("its outputs are not exactly one of 0 sat to a bare OP_RETURN")
    spent = first.spent_output
    if spent is None:
        problems.append("input 0 does not say which script it spends (no UTXO field)")
    elif spent.value != 0:
        problems.append(f"input 0 claims to spend {spent.value} sat, not 0")
    if problems:
        raise Refused(Code.BIP322_BAD_TO_SIGN, f"not a BIP-322 to_sign: {'; '.join(problems)}")
    assert spent is not None  # a problem above otherwise
    return spent.script_pubkey


def _message_text(fields: list[Entry]) -> str:
    """The message as UTF-8 text within the message cap (psbtbridge.message), or refuse."""
    if len(fields) != 1 or fields[0].key_data:
        raise Refused(
            Code.BIP322_BAD_MESSAGE_FIELD,
            "PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE must appear once, with no key data",
        )
    return check_message(fields[0].value)


def _hash_in(spend: Tx) -> bytes:
    """The message hash to_spend commits to, from its scriptSig OP_0 PUSH32[message_hash]."""
    script_sig = spend.inputs[0].script_sig
    if len(script_sig) != 34 or script_sig[:2] != MESSAGE_HASH_PUSH:
        raise Refused(
            Code.BIP322_NOT_TO_SPEND,
            "input 0's previous transaction has to_spend's null prevout but not its scriptSig"
            " OP_0 PUSH32[message_hash]",
        )
    return script_sig[2:]
