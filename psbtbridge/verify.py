"""Independent signature verification: a second implementation of everything the signer does.

The signer computes sighashes with our tx.py/sighash.py and signs with embit's bundled
libsecp256k1. This module shares none of that: for signature checks the transaction is
re-parsed from its serialized bytes by embit's parser (not our tx.py) and the sighash is
laid out here, apart from sighash.py; the scriptCode is derived here from the spent
scriptPubKey; signatures are checked by Debian's build of libsecp256k1 through our own
binding (secp256k1.py), strict DER and low S included. Legacy sighashes, bare and P2WSH
scripts and finished inputs go through python-bitcointx's code (verify_script.py, loaded
only then: single-key segwit and taproot signing never pays its ~50 ms import).

What bitcointx 1.1.5 cannot do, and what we do instead (measured, see tests/test_verify.py):
* Its SignatureHash and SignatureHashSchnorr rehash every prevout and output for each
  input (11 s for 1,000 inputs). The transaction-wide hashes are computed once here, the
  preimage laid out as in its functions, and tests check the results equal its own
  SignatureHash/SignatureHashSchnorr on random transactions. Its BIP143 code also packs
  nLockTime as a signed int (struct.error from 2^31 up); ours is unsigned, as Core's.
* VerifyScript does not evaluate witness v1 (taproot) at all: it returns early, or
  refuses under DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM. Taproot key-path spends are
  checked here; script-path spends are refused as unverifiable.
* Its Hash160 is pure-Python RIPEMD-160 (~0.2 ms), and every CPubKey computes one: keys
  are hashed here with OpenSSL. VerifyScript keeps paying it (about 0.7 ms per P2WPKH input).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Collection, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Final

from embit.base import EmbitError
from embit.transaction import Transaction as EmbitTransaction

from psbtbridge import secp256k1
from psbtbridge.compact import var_bytes
from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.hashes import hash160, hash256
from psbtbridge.script import is_witness_program
from psbtbridge.tx import Tx, TxOut

if TYPE_CHECKING:
    from bitcointx.core import CTransaction

SIGHASH_ALL: Final = 0x01
SIGHASH_NONE: Final = 0x02
SIGHASH_SINGLE: Final = 0x03
SIGHASH_ANYONECANPAY: Final = 0x80
SIGHASH_DEFAULT: Final = 0x00
#: What psbtbridge signs and accepts back by default (DESIGN: SIGHASH_ALL/DEFAULT only).
ECDSA_HASH_TYPES: Final = frozenset({SIGHASH_ALL})
SCHNORR_HASH_TYPES: Final = frozenset({SIGHASH_DEFAULT, SIGHASH_ALL})
ANY_ECDSA_HASH_TYPE: Final = frozenset({0x01, 0x02, 0x03, 0x81, 0x82, 0x83})
ANY_SCHNORR_HASH_TYPE: Final = ANY_ECDSA_HASH_TYPE | {SIGHASH_DEFAULT}
_ZERO32: Final = bytes(32)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Verifier:
    """One transaction, its spent outputs, and the transaction-wide hashes, computed once.

    spent_outputs[i] is the output input i spends, or None where it is unknown (then only
    ECDSA on the other inputs can be checked: taproot commits to every spent output).
    """

    def __init__(self, tx: Tx, spent_outputs: Sequence[TxOut | None]) -> None:
        if len(spent_outputs) != len(tx.inputs):
            raise InvalidInput(
                "verify.spent_outputs",
                f"{len(spent_outputs)} spent outputs for {len(tx.inputs)} inputs",
            )
        self._raw = tx.serialize()
        try:
            # A third implementation parses the bytes for the signature checks: embit's is
            # ~80x faster than bitcointx's, whose object model costs 0.3 s at 1,000 inputs.
            parsed = EmbitTransaction.parse(self._raw)
        except (EmbitError, ValueError, IndexError) as error:
            raise InvalidInput("verify.bad_tx", f"cannot parse the transaction: {error}") from error
        self._version: int = parsed.version  # embit reads it unsigned: packed "<I"
        self._locktime: int = parsed.locktime
        self._txins: list[tuple[bytes, int]] = [
            (vin.txid[::-1] + vin.vout.to_bytes(4, "little"), vin.sequence) for vin in parsed.vin
        ]
        self._outputs: list[bytes] = [vout.serialize() for vout in parsed.vout]
        self._spent_plain: list[tuple[bytes, int] | None] = [
            None if out is None else (out.script_pubkey, out.value) for out in spent_outputs
        ]
        prevouts = b"".join(prevout for prevout, _ in self._txins)
        sequences = b"".join(struct.pack("<I", sequence) for _, sequence in self._txins)
        outputs = b"".join(self._outputs)
        self._hash_prevouts = hash256(prevouts)
        self._hash_sequence = hash256(sequences)
        self._hash_outputs = hash256(outputs)
        self._sha_prevouts = _sha256(prevouts)
        self._sha_sequences = _sha256(sequences)
        self._sha_outputs = _sha256(outputs)
        self._sha_amounts: bytes | None = None
        self._sha_scriptpubkeys: bytes | None = None
        known = [out for out in self._spent_plain if out is not None]
        if len(known) == len(self._spent_plain):
            self._sha_amounts = _sha256(b"".join(struct.pack("<q", value) for _, value in known))
            self._sha_scriptpubkeys = _sha256(b"".join(var_bytes(spk) for spk, _ in known))

    @cached_property
    def tx(self) -> CTransaction:
        """bitcointx's own parse of the transaction, for its interpreter and legacy sighash."""
        from psbtbridge.verify_script import parse_tx

        return parse_tx(self._raw)

    # --- signature hashes, laid out as bitcointx's RawBitcoinSignatureHash / SignatureHashSchnorr

    def witness_v0_sighash(
        self, index: int, script_code: bytes, amount: int, hashtype: int
    ) -> bytes:
        """BIP143, for any hash-type byte, as Core's consensus code computes it."""
        base = hashtype & 0x1F
        anyonecanpay = hashtype & SIGHASH_ANYONECANPAY
        hash_prevouts = _ZERO32 if anyonecanpay else self._hash_prevouts
        hash_sequence = (
            self._hash_sequence
            if not anyonecanpay and base not in (SIGHASH_SINGLE, SIGHASH_NONE)
            else _ZERO32
        )
        if base not in (SIGHASH_SINGLE, SIGHASH_NONE):
            hash_outputs = self._hash_outputs
        elif base == SIGHASH_SINGLE and index < len(self._outputs):
            hash_outputs = hash256(self._outputs[index])
        else:
            hash_outputs = _ZERO32
        prevout, sequence = self._txins[index]
        preimage = b"".join(
            (
                struct.pack("<I", self._version),
                hash_prevouts,
                hash_sequence,
                prevout,
                var_bytes(script_code),
                struct.pack("<q", amount),
                struct.pack("<I", sequence),
                hash_outputs,
                struct.pack("<I", self._locktime),
                struct.pack("<I", hashtype),
            )
        )
        return hash256(preimage)

    def taproot_keypath_sighash(self, index: int, hashtype: int) -> bytes:
        """BIP341 key path without annex (ext_flag 0)."""
        spent = self._spent_plain[index]
        if spent is None or self._sha_amounts is None or self._sha_scriptpubkeys is None:
            raise Refused(
                "verify.missing_utxo",
                f"input {index}: a taproot signature commits to every spent output,"
                " and some are unknown",
            )
        output_type = hashtype & 0x03
        anyonecanpay = hashtype & SIGHASH_ANYONECANPAY
        parts = [
            b"\x00",
            bytes([hashtype]),
            struct.pack("<I", self._version),
            struct.pack("<I", self._locktime),
        ]
        if not anyonecanpay:
            parts += [
                self._sha_prevouts,
                self._sha_amounts,
                self._sha_scriptpubkeys,
                self._sha_sequences,
            ]
        if output_type in (SIGHASH_DEFAULT, SIGHASH_ALL):
            parts.append(self._sha_outputs)
        parts.append(b"\x00")  # spend_type: key path, no annex
        prevout, sequence = self._txins[index]
        if anyonecanpay:
            parts += [
                prevout,
                struct.pack("<q", spent[1]) + var_bytes(spent[0]),
                struct.pack("<I", sequence),
            ]
        else:
            parts.append(struct.pack("<I", index))
        if output_type == SIGHASH_SINGLE:
            if index >= len(self._outputs):
                raise Refused(
                    "verify.bad_signature", f"input {index}: SIGHASH_SINGLE without its output"
                )
            parts.append(_sha256(self._outputs[index]))
        tag = _sha256(b"TapSighash")
        return _sha256(tag + tag + b"".join(parts))

    # --- one signature at a time (the signer, and `psbt send` on returned signatures)

    def _spent_output(self, index: int) -> tuple[bytes, int]:
        """(scriptPubKey, amount) of the output input index spends, as plain values."""
        if not 0 <= index < len(self._txins):
            raise InvalidInput("verify.bad_index", f"input {index} does not exist")
        spent = self._spent_plain[index]
        if spent is None:
            raise Refused("verify.missing_utxo", f"input {index}: the spent output is unknown")
        return spent

    def _script_code(
        self,
        index: int,
        pubkey: bytes,
        redeem_script: bytes | None,
        witness_script: bytes | None,
    ) -> tuple[bytes, bool]:
        """The scriptCode an ECDSA signature by pubkey commits to, from the spent scriptPubKey,
        and whether it is a witness v0 one. Plain byte tests, no script objects."""
        spk = self._spent_output(index)[0]
        where = f"input {index}"
        program = spk
        if len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[22] == 0x87:  # P2SH
            if redeem_script is None or hash160(redeem_script) != spk[2:22]:
                raise Refused(
                    "verify.script_mismatch", f"{where}: redeemScript does not match the P2SH hash"
                )
            program = redeem_script
        elif redeem_script is not None:
            raise Refused(
                "verify.script_mismatch", f"{where}: a redeemScript for a non-P2SH output"
            )
        is_p2wsh = len(program) == 34 and program[:2] == b"\x00\x20"
        if witness_script is not None and not is_p2wsh:
            raise Refused(
                "verify.script_mismatch", f"{where}: a witnessScript for a non-P2WSH output"
            )
        if len(program) == 22 and program[:2] == b"\x00\x14":  # P2WPKH
            if hash160(pubkey) != program[2:]:
                raise Refused("verify.wrong_key", f"{where}: the key is not the P2WPKH key")
            # BIP143: P2WPKH signs the P2PKH script of its key hash.
            return b"\x76\xa9\x14" + program[2:] + b"\x88\xac", True
        if is_p2wsh:
            if witness_script is None or _sha256(witness_script) != program[2:]:
                raise Refused(
                    "verify.script_mismatch",
                    f"{where}: witnessScript does not match the P2WSH hash",
                )
            from psbtbridge.verify_script import OP_CODESEPARATOR, opcodes, pushes

            if OP_CODESEPARATOR in opcodes(witness_script):
                # Which part is the scriptCode depends on execution: nothing we sign.
                raise Refused("verify.unsupported", f"{where}: witnessScript has OP_CODESEPARATOR")
            if not pushes(witness_script, pubkey):
                raise Refused("verify.wrong_key", f"{where}: the key is not in the witnessScript")
            return witness_script, True
        if is_witness_program(program):
            raise Refused(
                "verify.unsupported", f"{where}: a witness program that is not an ECDSA spend"
            )
        is_p2pkh = (
            len(program) == 25 and program[:3] == b"\x76\xa9\x14" and program[23:] == b"\x88\xac"
        )
        if is_p2pkh and hash160(pubkey) != program[3:23]:
            raise Refused("verify.wrong_key", f"{where}: the key is not the P2PKH key")
        if not is_p2pkh:
            from psbtbridge.verify_script import pushes

            if not pushes(program, pubkey):
                raise Refused("verify.wrong_key", f"{where}: the key is not in the script")
        return program, False

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
        script_code, witness_v0 = self._script_code(index, pubkey, redeem_script, witness_script)
        parsed = secp256k1.strict_signature(signature[:-1])
        if parsed is None:
            raise Refused("verify.bad_encoding", f"{where}: not a strict-DER, low-S signature")
        hashtype = signature[-1]
        if hashtype not in hash_types:
            raise Refused(
                "verify.hash_type", f"{where}: sighash type 0x{hashtype:02x} not accepted"
            )
        if witness_v0 and len(pubkey) != 33:
            raise Refused("verify.bad_encoding", f"{where}: segwit v0 keys are compressed (BIP143)")
        if witness_v0:
            sighash = self.witness_v0_sighash(
                index, script_code, self._spent_output(index)[1], hashtype
            )
        else:
            from psbtbridge.verify_script import legacy_sighash

            sighash = legacy_sighash(self.tx, index, script_code, hashtype)
        if not secp256k1.ecdsa_verify(pubkey, sighash, parsed):
            raise Refused("verify.bad_signature", f"{where}: the ECDSA signature does not verify")

    def check_schnorr_keypath(
        self,
        index: int,
        signature: bytes,
        *,
        hash_types: Collection[int] = SCHNORR_HASH_TYPES,
    ) -> None:
        """Refuse unless signature is a valid key-path signature for input index's output key."""
        where = f"input {index}"
        spk = self._spent_output(index)[0]
        if not (len(spk) == 34 and spk[:2] == b"\x51\x20"):  # BIP341: OP_1 <32-byte key>
            raise Refused("verify.script_mismatch", f"{where}: the spent output is not P2TR")
        if len(signature) == 64:
            hashtype = SIGHASH_DEFAULT
        elif len(signature) == 65 and signature[64] != SIGHASH_DEFAULT:
            # BIP341: a 65-byte signature with hash type 0 is invalid.
            hashtype = signature[64]
        else:
            raise Refused("verify.bad_encoding", f"{where}: not a 64/65-byte BIP341 signature")
        if hashtype not in hash_types:
            raise Refused(
                "verify.hash_type", f"{where}: sighash type 0x{hashtype:02x} not accepted"
            )
        sighash = self.taproot_keypath_sighash(index, hashtype)
        if not secp256k1.schnorr_verify(spk[2:], sighash, signature[:64]):
            raise Refused("verify.bad_signature", f"{where}: the Schnorr signature does not verify")

    # --- finished transactions

    def check_final_input(self, index: int) -> None:
        """Refuse unless input index's scriptSig and witness spend its output (all hash types)."""
        from psbtbridge.verify_script import spent_output, verify_input_script, witness_stack

        script_pubkey, amount = self._spent_output(index)
        if len(script_pubkey) == 34 and script_pubkey[:2] == b"\x51\x20":  # P2TR
            witness = witness_stack(self.tx, index)
            if self.tx.vin[index].scriptSig or len(witness) != 1:
                raise Refused(
                    "verify.unsupported",
                    f"input {index}: only taproot key-path spends (one witness item) can be"
                    " verified",
                )
            self.check_schnorr_keypath(index, witness[0], hash_types=ANY_SCHNORR_HASH_TYPE)
            return
        verify_input_script(self, index, spent_output(script_pubkey, amount))


def verify_ecdsa(pubkey: bytes, message: bytes, der_signature: bytes) -> bool:
    """ECDSA verification (strict DER, low S) of a 32-byte message, without script context."""
    parsed = secp256k1.strict_signature(der_signature)
    return parsed is not None and secp256k1.ecdsa_verify(pubkey, message, parsed)


def verify_ecdsa_input(
    tx: Tx,
    index: int,
    spent_outputs: Sequence[TxOut | None],
    pubkey: bytes,
    signature: bytes,
    *,
    redeem_script: bytes | None = None,
    witness_script: bytes | None = None,
    hash_types: Collection[int] = ECDSA_HASH_TYPES,
) -> None:
    """One ECDSA signature; for many, build one Verifier and call check_ecdsa on it."""
    Verifier(tx, spent_outputs).check_ecdsa(
        index,
        pubkey,
        signature,
        redeem_script=redeem_script,
        witness_script=witness_script,
        hash_types=hash_types,
    )


def verify_schnorr_keypath(
    tx: Tx,
    index: int,
    spent_outputs: Sequence[TxOut | None],
    signature: bytes,
    *,
    hash_types: Collection[int] = SCHNORR_HASH_TYPES,
) -> None:
    """One taproot key-path signature, against the output key in the spent scriptPubKey."""
    Verifier(tx, spent_outputs).check_schnorr_keypath(index, signature, hash_types=hash_types)


def verify_final_tx(tx: Tx, spent_outputs: Sequence[TxOut | None]) -> None:
    """Refuse unless every input of a finished transaction spends its output."""
    verifier = Verifier(tx, spent_outputs)
    for index in range(len(tx.inputs)):
        verifier.check_final_input(index)
