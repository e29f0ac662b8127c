"""The Verifier: every signature the signer makes, and every finished input, checked again.

It takes plain values (the raw transaction, the spent outputs as (scriptPubKey, amount))
and nothing else from psbtbridge: see the package docstring for what it shares with the
signer (nothing) and tests/test_verify_independence.py for the check.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Final

from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.verify import secp256k1
from psbtbridge.verify.layout import (
    SIGHASH_ALL,
    SIGHASH_DEFAULT,
    SIGHASH_SINGLE,
    SpentOutput,
    TxLayout,
)
from psbtbridge.verify.script_code import ecdsa_script_code, is_p2tr

if TYPE_CHECKING:
    from psbtbridge.verify.interpreter import ScriptChecker

#: What psbtbridge signs and accepts back by default (DESIGN: SIGHASH_ALL/DEFAULT only).
ECDSA_HASH_TYPES: Final = frozenset({SIGHASH_ALL})
SCHNORR_HASH_TYPES: Final = frozenset({SIGHASH_DEFAULT, SIGHASH_ALL})
ANY_ECDSA_HASH_TYPE: Final = frozenset({0x01, 0x02, 0x03, 0x81, 0x82, 0x83})
ANY_SCHNORR_HASH_TYPE: Final = ANY_ECDSA_HASH_TYPE | {SIGHASH_DEFAULT}


class Verifier:
    """One transaction (raw bytes, unsigned or final) and the outputs its inputs spend.

    spent_outputs[i] is (scriptPubKey, amount) of what input i spends, or None where it is
    unknown (then only ECDSA on the other inputs can be checked: taproot commits to every
    spent output).
    """

    def __init__(self, raw_tx: bytes, spent_outputs: Sequence[tuple[bytes, int] | None]) -> None:
        self.layout = TxLayout(raw_tx, spent_outputs)
        self._checker: ScriptChecker | None = None

    def _scripts(self) -> ScriptChecker:
        """bitcointx's interpreter over this transaction, loaded and parsed on first use."""
        if self._checker is None:
            from psbtbridge.verify.interpreter import ScriptChecker

            self._checker = ScriptChecker(self.layout)
        return self._checker

    def _spent_output(self, index: int) -> SpentOutput:
        if not 0 <= index < len(self.layout.spent):
            raise InvalidInput(Code.VERIFY_BAD_INDEX, f"input {index} does not exist")
        spent = self.layout.spent[index]
        if spent is None:
            raise Refused(Code.VERIFY_MISSING_UTXO, f"input {index}: the spent output is unknown")
        return spent

    # --- one signature at a time (the signer, and `psbt send` on returned signatures)

    def check_ecdsa(
        self,
        index: int,
        pubkey: bytes,
        signature: bytes,
        *,
        redeem_script: bytes | None = None,
        witness_script: bytes | None = None,
        hash_types: Collection[int] = ECDSA_HASH_TYPES,
    ) -> None:
        """Refuse unless signature (DER + hash-type byte) by pubkey is valid for input index."""
        where = f"input {index}"
        spent = self._spent_output(index)
        script_code, witness_v0 = ecdsa_script_code(
            index, spent.script_pubkey, pubkey, redeem_script, witness_script
        )
        parsed = secp256k1.strict_signature(signature[:-1])
        if parsed is None:
            raise Refused(Code.VERIFY_BAD_ENCODING, f"{where}: not a strict-DER, low-S signature")
        hashtype = signature[-1]
        if hashtype not in hash_types:
            raise Refused(
                Code.VERIFY_HASH_TYPE, f"{where}: sighash type 0x{hashtype:02x} not accepted"
            )
        if witness_v0 and len(pubkey) != 33:
            raise Refused(
                Code.VERIFY_BAD_ENCODING, f"{where}: segwit v0 keys are compressed (BIP143)"
            )
        if witness_v0:
            sighash = self.layout.witness_v0(index, script_code, spent.amount, hashtype)
        elif hashtype & 0x1F == SIGHASH_SINGLE and index >= len(self.layout.outputs):
            # Consensus would take a signature of the number one here; nothing honest makes one.
            raise Refused(
                Code.VERIFY_BAD_SIGNATURE, f"{where}: legacy SIGHASH_SINGLE without its output"
            )
        else:
            sighash = self.layout.legacy(index, script_code, hashtype)
        if not secp256k1.ecdsa_verify(pubkey, sighash, parsed):
            raise Refused(
                Code.VERIFY_BAD_SIGNATURE, f"{where}: the ECDSA signature does not verify"
            )

    def check_schnorr_keypath(
        self,
        index: int,
        signature: bytes,
        *,
        hash_types: Collection[int] = SCHNORR_HASH_TYPES,
    ) -> None:
        """Refuse unless signature is a valid key-path signature for input index's output key."""
        where = f"input {index}"
        spk = self._spent_output(index).script_pubkey
        if not is_p2tr(spk):
            raise Refused(Code.VERIFY_SCRIPT_MISMATCH, f"{where}: the spent output is not P2TR")
        if len(signature) == 64:
            hashtype = SIGHASH_DEFAULT
        elif len(signature) == 65 and signature[64] != SIGHASH_DEFAULT:
            # BIP341: a 65-byte signature with hash type 0 is invalid.
            hashtype = signature[64]
        else:
            raise Refused(Code.VERIFY_BAD_ENCODING, f"{where}: not a 64/65-byte BIP341 signature")
        if hashtype not in hash_types:
            raise Refused(
                Code.VERIFY_HASH_TYPE, f"{where}: sighash type 0x{hashtype:02x} not accepted"
            )
        sighash = self.layout.taproot_keypath(index, hashtype)
        if not secp256k1.schnorr_verify(spk[2:], sighash, signature[:64]):
            raise Refused(
                Code.VERIFY_BAD_SIGNATURE, f"{where}: the Schnorr signature does not verify"
            )

    # --- finished transactions

    def check_final_input(self, index: int) -> None:
        """Refuse unless input index's scriptSig and witness spend its output (all hash types)."""
        script_pubkey, amount = self._spent_output(index)
        scripts = self._scripts()
        if is_p2tr(script_pubkey):
            witness = scripts.witness_stack(index)
            if scripts.has_script_sig(index) or len(witness) != 1:
                raise Refused(
                    Code.VERIFY_UNSUPPORTED,
                    f"input {index}: only taproot key-path spends (one witness item) can be"
                    " verified",
                )
            self.check_schnorr_keypath(index, witness[0], hash_types=ANY_SCHNORR_HASH_TYPE)
            return
        scripts.check_input(index, script_pubkey, amount)


def verify_final_tx(raw_tx: bytes, spent_outputs: Sequence[tuple[bytes, int] | None]) -> None:
    """Refuse unless every input of a finished transaction spends its output."""
    verifier = Verifier(raw_tx, spent_outputs)
    for index in range(len(verifier.layout.spent)):
        verifier.check_final_input(index)


def verify_ecdsa(pubkey: bytes, message: bytes, der_signature: bytes) -> bool:
    """ECDSA verification (strict DER, low S) of a 32-byte message, without script context."""
    parsed = secp256k1.strict_signature(der_signature)
    return parsed is not None and secp256k1.ecdsa_verify(pubkey, message, parsed)
