"""The independent verifier's use of python-bitcointx's script code: its interpreter for
finished inputs, its legacy sighash, and its script parser for P2WSH and bare scripts.

verify.py imports this only when one of those is needed: the import costs ~50 ms of
start-up (bitcointx looks for libsecp256k1 with ldconfig), which a signer of single-key
segwit and taproot inputs never needs.

What bitcointx 1.1.5 gets wrong or slow, and what we do instead (tests/test_verify.py):
* Its interpreter starts the scriptCode at an executed OP_CODESEPARATOR instead of after
  it, which is wrong for witness v0 (legacy removes the byte anyway): a witness v0
  signature behind an executed OP_CODESEPARATOR is refused as unverifiable.
* Its BIP143 sighash rehashes every prevout and output for each input; VerifyScript is
  routed to the Verifier's cached layout instead (`_RoutedScript`).
* VerifyScript does not evaluate witness v1 (taproot); verify.py checks key-path spends.
* It cannot check CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY or MINIMALDATA: scripts using
  those fail verification (refused), which standard single-sig and multisig never do.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

from bitcointx.core import CTransaction, CTxOut, ValidationError
from bitcointx.core.script import (
    SIGVERSION_BASE,
    SIGVERSION_WITNESS_V0,
    CBitcoinScript,
    CScriptWitness,
    SIGVERSION_Type,
)
from bitcointx.core.scripteval import VerifyScript
from bitcointx.core.serialize import SerializationError

from psbtbridge.errors import InvalidInput, Refused

if TYPE_CHECKING:
    from psbtbridge.verify import Verifier

OP_CODESEPARATOR = 0xAB
_ACTIVE: ContextVar[Verifier] = ContextVar("psbtbridge_verifier")


def parse_tx(raw: bytes) -> CTransaction:
    """bitcointx's own parse of the transaction, for its interpreter and legacy sighash."""
    try:
        return CTransaction.deserialize(raw)
    except (SerializationError, ValueError) as error:
        raise InvalidInput(
            "verify.bad_tx", f"bitcointx cannot parse the transaction: {error}"
        ) from error


def opcodes(script: bytes) -> set[int]:
    try:
        return {opcode for opcode, _data, _position in CBitcoinScript(script).raw_iter()}
    except (ValueError, IndexError):
        return {OP_CODESEPARATOR}  # unparseable: treat as the unsupported case


def pushes(script: bytes, data: bytes) -> bool:
    """True when script pushes exactly data somewhere (a key in a multisig or P2PK script)."""
    try:
        return any(item == data for item in CBitcoinScript(script) if isinstance(item, bytes))
    except (ValueError, IndexError):
        return False


def legacy_sighash(tx: CTransaction, index: int, script_code: bytes, hashtype: int) -> bytes:
    """bitcointx's own pre-segwit sighash (it is O(n) per input by nature, as in Core)."""
    sighash, error = CBitcoinScript(script_code).raw_sighash(
        tx, index, hashtype, sigversion=SIGVERSION_BASE
    )
    if error is not None:
        raise Refused("verify.bad_signature", f"input {index}: {error}")
    return bytes(sighash)


def verify_input_script(verifier: Verifier, index: int, spent: CTxOut) -> None:
    """Run input index's scriptSig and witness against the output it spends."""
    where = f"input {index}"
    tx = verifier.tx
    witness = witness_stack(tx, index)
    token = _ACTIVE.set(verifier)
    try:
        VerifyScript(
            _RoutedScript(tx.vin[index].scriptSig),
            _RoutedScript(spent.scriptPubKey),
            tx,
            index,
            amount=spent.nValue,
            witness=CScriptWitness(witness),
        )
    except _CodeSeparatorExecuted as error:
        raise Refused(
            "verify.unsupported", f"{where}: a signature behind an executed OP_CODESEPARATOR"
        ) from error
    except (ValidationError, ValueError, IndexError) as error:
        # bitcointx reports script failures as ValidationError; malformed scripts can
        # surface as ValueError/IndexError from its parsers. Each means "does not spend".
        raise Refused("verify.script_failed", f"{where}: {error}") from error
    finally:
        _ACTIVE.reset(token)


def witness_stack(tx: CTransaction, index: int) -> list[bytes]:
    """Input index's witness items, as bitcointx parsed them (none when it has no witness)."""
    witnesses = tx.wit.vtxinwit
    return list(witnesses[index].scriptWitness.stack) if index < len(witnesses) else []


def spent_output(script_pubkey: bytes, amount: int) -> CTxOut:
    return CTxOut(amount, CBitcoinScript(script_pubkey))


class _CodeSeparatorExecuted(Exception):
    """Raised through bitcointx's interpreter, which lets exceptions of other types pass."""


class _RoutedScript(CBitcoinScript):
    """bitcointx's script class with BIP143 sighashes taken from the active Verifier's cache.

    VerifyScript builds every inner script (redeemScript, witnessScript, the P2WPKH code)
    from the class of the scriptSig it is given, so the interpreter stays bitcointx's and
    only the O(n) rehash per signature is replaced.
    """

    def raw_sighash(
        self,
        txTo: CTransaction,
        inIdx: int,
        hashtype: int,
        amount: int | None = None,
        sigversion: SIGVERSION_Type = SIGVERSION_BASE,
    ) -> tuple[bytes, str | None]:
        verifier = _ACTIVE.get(None)
        if sigversion == SIGVERSION_WITNESS_V0 and verifier is not None and txTo is verifier.tx:
            # bitcointx passes the script from an executed separator on, separator included.
            if self[:1] == bytes([OP_CODESEPARATOR]):
                raise _CodeSeparatorExecuted
            return verifier.witness_v0_sighash(inIdx, bytes(self), amount or 0, hashtype), None
        return super().raw_sighash(txTo, inIdx, hashtype, amount=amount, sigversion=sigversion)
