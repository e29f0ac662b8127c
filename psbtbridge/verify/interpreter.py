"""python-bitcointx's script code as the verifier uses it: its interpreter for finished inputs
and its script parser for P2WSH and bare scripts.

Loaded only when one of those is needed: the import costs ~50 ms of start-up (bitcointx
looks for libsecp256k1 with ldconfig), which a signer of single-key segwit and taproot
inputs never needs.

What bitcointx 1.1.5 gets wrong or slow, and what we do instead (tests/test_verify.py):
* Its sighash functions rehash every prevout and output (BIP143) or copy the whole
  transaction (legacy) for each signature: 475 s for 1,000 P2PKH inputs. Its interpreter
  builds every inner script (redeemScript, witnessScript, the P2WPKH code) from the class
  of the scriptSig it is given, so the scripts given to it here are of a class made for
  one TxLayout, whose raw_sighash answers from that layout: the interpreter stays
  bitcointx's, the hashes come from layout.py. The class holds the layout it was made
  for; nothing is kept between calls or in module state.
* Its interpreter starts the scriptCode at an executed OP_CODESEPARATOR instead of after
  it, which is wrong for witness v0 (legacy removes the byte anyway): a witness v0
  signature behind an executed OP_CODESEPARATOR is refused as unverifiable.
* VerifyScript does not evaluate witness v1 (taproot); verifier.py checks key-path spends.
* It cannot check CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY or MINIMALDATA: scripts using
  those fail verification (refused), which standard single-sig and multisig never do.
"""

from __future__ import annotations

from bitcointx.core import CTransaction, ValidationError
from bitcointx.core.script import (
    OP_CODESEPARATOR,
    SIGVERSION_BASE,
    SIGVERSION_WITNESS_V0,
    CBitcoinScript,
    CScriptWitness,
    FindAndDelete,
    SIGVERSION_Type,
)
from bitcointx.core.scripteval import VerifyScript
from bitcointx.core.serialize import SerializationError

from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.verify.layout import TxLayout

_CODESEPARATOR_BYTE = int(OP_CODESEPARATOR)


def opcodes(script: bytes) -> set[int]:
    try:
        return {opcode for opcode, _data, _position in CBitcoinScript(script).raw_iter()}
    except (ValueError, IndexError):
        return {_CODESEPARATOR_BYTE}  # unparseable: treat as the unsupported case


def pushes(script: bytes, data: bytes) -> bool:
    """True when script pushes exactly data somewhere (a key in a multisig or P2PK script)."""
    try:
        return any(item == data for item in CBitcoinScript(script) if isinstance(item, bytes))
    except (ValueError, IndexError):
        return False


class _CodeSeparatorExecuted(Exception):
    """Raised through bitcointx's interpreter, which lets exceptions of other types pass."""


class ScriptChecker:
    """bitcointx's interpreter over one transaction, with signature hashes from its TxLayout."""

    def __init__(self, layout: TxLayout) -> None:
        try:
            self.tx = CTransaction.deserialize(layout.raw)
        except (SerializationError, ValueError) as error:
            raise InvalidInput(
                Code.VERIFY_BAD_TX, f"bitcointx cannot parse the transaction: {error}"
            ) from error
        self._script_class = _routed_script_class(layout, self.tx)

    def witness_stack(self, index: int) -> list[bytes]:
        """Input index's witness items, as bitcointx parsed them (none when it has no witness)."""
        witnesses = self.tx.wit.vtxinwit
        return list(witnesses[index].scriptWitness.stack) if index < len(witnesses) else []

    def has_script_sig(self, index: int) -> bool:
        return bool(self.tx.vin[index].scriptSig)

    def check_input(self, index: int, script_pubkey: bytes, amount: int) -> None:
        """Refuse unless input index's scriptSig and witness spend (script_pubkey, amount)."""
        where = f"input {index}"
        script = self._script_class
        try:
            VerifyScript(
                script(self.tx.vin[index].scriptSig),
                script(script_pubkey),
                self.tx,
                index,
                amount=amount,
                witness=CScriptWitness(self.witness_stack(index)),
            )
        except _CodeSeparatorExecuted as error:
            raise Refused(
                Code.VERIFY_UNSUPPORTED, f"{where}: a signature behind an executed OP_CODESEPARATOR"
            ) from error
        except (ValidationError, ValueError, IndexError) as error:
            # bitcointx reports script failures as ValidationError; malformed scripts can
            # surface as ValueError/IndexError from its parsers. Each means "does not spend".
            raise Refused(Code.VERIFY_SCRIPT_FAILED, f"{where}: {error}") from error


def _routed_script_class(layout: TxLayout, tx: CTransaction) -> type[CBitcoinScript]:
    """A CBitcoinScript whose raw_sighash, for tx, is layout's: made per layout, so what the
    interpreter calls back into is passed in, not looked up in shared state."""

    class RoutedScript(CBitcoinScript):
        def raw_sighash(
            self,
            txTo: CTransaction,
            inIdx: int,
            hashtype: int,
            amount: int | None = None,
            sigversion: SIGVERSION_Type = SIGVERSION_BASE,
        ) -> tuple[bytes, str | None]:
            if txTo is not tx:
                return super().raw_sighash(
                    txTo, inIdx, hashtype, amount=amount, sigversion=sigversion
                )
            if sigversion == SIGVERSION_WITNESS_V0:
                # bitcointx passes the script from an executed separator on, separator included.
                if self[:1] == bytes([_CODESEPARATOR_BYTE]):
                    raise _CodeSeparatorExecuted
                return layout.witness_v0(inIdx, bytes(self), amount or 0, hashtype), None
            if sigversion == SIGVERSION_BASE:
                # Core's legacy SignatureHash signs the scriptCode without its separators.
                code = FindAndDelete(self, CBitcoinScript([OP_CODESEPARATOR]))
                return layout.legacy(inIdx, bytes(code), hashtype), None
            return super().raw_sighash(txTo, inIdx, hashtype, amount=amount, sigversion=sigversion)

    return RoutedScript
