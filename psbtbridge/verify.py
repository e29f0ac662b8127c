"""Independent signature verification: a second implementation, built on python-bitcointx.

The signer computes sighashes with our tx.py/sighash.py and signs with embit's bundled
libsecp256k1. This module shares none of that: for signature checks the transaction is
re-parsed from its serialized bytes by embit's parser (not our tx.py) and the sighash is
laid out here, apart from sighash.py; the scriptCode is derived here from the spent
scriptPubKey; curve checks go through bitcointx's own ctypes binding to Debian's
libsecp256k1.so.1; finished inputs are parsed by bitcointx and run through its script
interpreter (VerifyScript).

What bitcointx 1.1.5 cannot do, and what we do instead (measured, see tests/test_verify.py):
* Its SignatureHash and SignatureHashSchnorr rehash every prevout and output for each
  input (11 s for 1,000 inputs). The transaction-wide hashes are computed once here, the
  preimage laid out as in its functions, and tests check the results equal its own
  SignatureHash/SignatureHashSchnorr on random transactions. Its BIP143 code also packs
  nLockTime as a signed int (struct.error from 2^31 up); ours is unsigned, as Core's.
* VerifyScript does not evaluate witness v1 (taproot) at all: it returns early, or
  refuses under DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM. Taproot key-path spends are
  checked here with its Schnorr verification; script-path spends are refused as
  unverifiable.
* Its interpreter starts the scriptCode at an executed OP_CODESEPARATOR instead of after
  it, which is wrong for witness v0 (legacy removes the byte anyway): a witness v0
  signature behind an executed OP_CODESEPARATOR is refused as unverifiable.
* Its Hash160 is pure-Python RIPEMD-160 (~0.2 ms), and every CPubKey computes one: the
  per-signature ECDSA check calls its libsecp256k1 handle directly instead (same library,
  contexts and argument types) and hashes keys with OpenSSL. VerifyScript keeps paying it
  (about 0.7 ms per P2WPKH input).
* It cannot check CHECKLOCKTIMEVERIFY, CHECKSEQUENCEVERIFY or MINIMALDATA: scripts using
  those fail verification (refused), which standard single-sig and multisig never do.
"""

from __future__ import annotations

import ctypes
import hashlib
import struct
from collections.abc import Collection, Sequence
from contextvars import ContextVar
from functools import cached_property
from typing import Final

from bitcointx.core import CTransaction, CTxOut, ValidationError
from bitcointx.core.key import XOnlyPubKey
from bitcointx.core.script import (
    SIGVERSION_BASE,
    SIGVERSION_WITNESS_V0,
    CBitcoinScript,
    CScript,
    CScriptWitness,
    IsLowDERSignature,
    SIGVERSION_Type,
)
from bitcointx.core.scripteval import VerifyScript, _IsValidSignatureEncoding
from bitcointx.core.secp256k1 import get_secp256k1
from bitcointx.core.serialize import BytesSerializer, Hash, SerializationError
from embit.base import EmbitError
from embit.transaction import Transaction as EmbitTransaction

from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.hashes import hash160
from psbtbridge.tx import Tx, TxOut

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
        self._hash_prevouts = Hash(prevouts)
        self._hash_sequence = Hash(sequences)
        self._hash_outputs = Hash(outputs)
        self._sha_prevouts = _sha256(prevouts)
        self._sha_sequences = _sha256(sequences)
        self._sha_outputs = _sha256(outputs)
        self._sha_amounts: bytes | None = None
        self._sha_scriptpubkeys: bytes | None = None
        known = [out for out in self._spent_plain if out is not None]
        if len(known) == len(self._spent_plain):
            self._sha_amounts = _sha256(b"".join(struct.pack("<q", value) for _, value in known))
            self._sha_scriptpubkeys = _sha256(
                b"".join(BytesSerializer.serialize(spk) for spk, _ in known)
            )

    @cached_property
    def tx(self) -> CTransaction:
        """bitcointx's own parse of the transaction, for its interpreter and legacy sighash."""
        try:
            return CTransaction.deserialize(self._raw)
        except (SerializationError, ValueError) as error:
            raise InvalidInput(
                "verify.bad_tx", f"bitcointx cannot parse the transaction: {error}"
            ) from error

    @cached_property
    def spent(self) -> list[CTxOut | None]:
        return [
            None if out is None else CTxOut(out[1], CBitcoinScript(out[0]))
            for out in self._spent_plain
        ]

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
            hash_outputs = Hash(self._outputs[index])
        else:
            hash_outputs = _ZERO32
        prevout, sequence = self._txins[index]
        preimage = b"".join(
            (
                struct.pack("<I", self._version),
                hash_prevouts,
                hash_sequence,
                prevout,
                BytesSerializer.serialize(script_code),
                struct.pack("<q", amount),
                struct.pack("<I", sequence),
                hash_outputs,
                struct.pack("<I", self._locktime),
                struct.pack("<I", hashtype),
            )
        )
        return Hash(preimage)

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
                struct.pack("<q", spent[1]) + BytesSerializer.serialize(spent[0]),
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

    def _spent(self, index: int) -> CTxOut:
        self._spent_output(index)  # the same checks and errors
        spent = self.spent[index]
        assert spent is not None  # _spent_output refused an unknown one
        return spent

    def _script_code(
        self,
        index: int,
        pubkey: bytes,
        redeem_script: bytes | None,
        witness_script: bytes | None,
    ) -> tuple[bytes, SIGVERSION_Type]:
        """The scriptCode an ECDSA signature by pubkey commits to, from the spent scriptPubKey.

        Plain byte tests: bitcointx's script predicates cost ~50 us each in class dispatch.
        """
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
            return b"\x76\xa9\x14" + program[2:] + b"\x88\xac", SIGVERSION_WITNESS_V0
        if is_p2wsh:
            if witness_script is None or _sha256(witness_script) != program[2:]:
                raise Refused(
                    "verify.script_mismatch",
                    f"{where}: witnessScript does not match the P2WSH hash",
                )
            script = CBitcoinScript(witness_script)
            if _OP_CODESEPARATOR in _opcodes(script):
                # Which part is the scriptCode depends on execution: nothing we sign.
                raise Refused("verify.unsupported", f"{where}: witnessScript has OP_CODESEPARATOR")
            if not _pushes(script, pubkey):
                raise Refused("verify.wrong_key", f"{where}: the key is not in the witnessScript")
            return witness_script, SIGVERSION_WITNESS_V0
        if CBitcoinScript(program).is_witness_scriptpubkey():
            raise Refused(
                "verify.unsupported", f"{where}: a witness program that is not an ECDSA spend"
            )
        is_p2pkh = (
            len(program) == 25 and program[:3] == b"\x76\xa9\x14" and program[23:] == b"\x88\xac"
        )
        if is_p2pkh and hash160(pubkey) != program[3:23]:
            raise Refused("verify.wrong_key", f"{where}: the key is not the P2PKH key")
        if not is_p2pkh and not _pushes(CBitcoinScript(program), pubkey):
            raise Refused("verify.wrong_key", f"{where}: the key is not in the script")
        return program, SIGVERSION_BASE

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
        script_code, sigversion = self._script_code(index, pubkey, redeem_script, witness_script)
        if not _IsValidSignatureEncoding(signature) or not IsLowDERSignature(signature):
            raise Refused("verify.bad_encoding", f"{where}: not a strict-DER, low-S signature")
        hashtype = signature[-1]
        if hashtype not in hash_types:
            raise Refused(
                "verify.hash_type", f"{where}: sighash type 0x{hashtype:02x} not accepted"
            )
        if sigversion == SIGVERSION_WITNESS_V0 and len(pubkey) != 33:
            raise Refused("verify.bad_encoding", f"{where}: segwit v0 keys are compressed (BIP143)")
        if sigversion == SIGVERSION_WITNESS_V0:
            sighash = self.witness_v0_sighash(
                index, script_code, self._spent_output(index)[1], hashtype
            )
        else:
            # Legacy: bitcointx's own code (it is O(n) per input by nature, as in Core).
            sighash, error = CBitcoinScript(script_code).raw_sighash(
                self.tx, index, hashtype, sigversion=sigversion
            )
            if error is not None:
                raise Refused("verify.bad_signature", f"{where}: {error}")
        if not _ecdsa_verify(pubkey, sighash, signature[:-1]):
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
        if not verify_schnorr(spk[2:], sighash, signature[:64]):
            raise Refused("verify.bad_signature", f"{where}: the Schnorr signature does not verify")

    # --- finished transactions

    def check_final_input(self, index: int) -> None:
        """Refuse unless input index's scriptSig and witness spend its output (all hash types)."""
        where = f"input {index}"
        spent = self._spent(index)
        txin = self.tx.vin[index]
        witness = (
            list(self.tx.wit.vtxinwit[index].scriptWitness.stack)
            if index < len(self.tx.wit.vtxinwit)
            else []
        )
        if spent.scriptPubKey.is_witness_v1_taproot():
            if txin.scriptSig or len(witness) != 1:
                raise Refused(
                    "verify.unsupported",
                    f"{where}: only taproot key-path spends (one witness item) can be verified",
                )
            self.check_schnorr_keypath(index, witness[0], hash_types=ANY_SCHNORR_HASH_TYPE)
            return
        token = _ACTIVE.set(self)
        try:
            VerifyScript(
                _RoutedScript(txin.scriptSig),
                _RoutedScript(spent.scriptPubKey),
                self.tx,
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


_ACTIVE: ContextVar[Verifier] = ContextVar("psbtbridge_verifier")
_OP_CODESEPARATOR = 0xAB


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
            if self[:1] == bytes([_OP_CODESEPARATOR]):
                raise _CodeSeparatorExecuted
            return verifier.witness_v0_sighash(inIdx, bytes(self), amount or 0, hashtype), None
        return super().raw_sighash(txTo, inIdx, hashtype, amount=amount, sigversion=sigversion)


def _opcodes(script: CScript) -> set[int]:
    try:
        return {opcode for opcode, _data, _position in script.raw_iter()}
    except (ValueError, IndexError):
        return {_OP_CODESEPARATOR}  # unparseable: treat as the unsupported case


def _pushes(script: CScript, data: bytes) -> bool:
    """True when script pushes exactly data somewhere (a key in a multisig or P2PK script)."""
    try:
        return any(item == data for item in script if isinstance(item, bytes))
    except (ValueError, IndexError):
        return False


def verify_schnorr(xonly_pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """BIP340 verification of a 32-byte message with bitcointx's libsecp256k1 binding."""
    if len(xonly_pubkey) != 32 or len(message) != 32 or len(signature) != 64:
        return False
    return bool(XOnlyPubKey(xonly_pubkey).verify_schnorr(message, signature))


def _ecdsa_verify(pubkey: bytes, message: bytes, der_signature: bytes) -> bool:
    """libsecp256k1's verification through bitcointx's handle; a high S fails (no normalize)."""
    secp256k1 = get_secp256k1()
    point = ctypes.create_string_buffer(64)
    if not secp256k1.lib.secp256k1_ec_pubkey_parse(
        secp256k1.ctx.verify, point, pubkey, len(pubkey)
    ):
        return False
    signature = ctypes.create_string_buffer(64)
    if not secp256k1.lib.secp256k1_ecdsa_signature_parse_der(
        secp256k1.ctx.verify, signature, der_signature, len(der_signature)
    ):
        return False
    result: int = secp256k1.lib.secp256k1_ecdsa_verify(
        secp256k1.ctx.verify, signature, message, point
    )
    return result == 1


def verify_ecdsa(pubkey: bytes, message: bytes, der_signature: bytes) -> bool:
    """ECDSA verification (strict DER, low S) of a 32-byte message, without script context."""
    if len(message) != 32 or not _IsValidSignatureEncoding(der_signature + b"\x01"):
        return False
    return IsLowDERSignature(der_signature) and _ecdsa_verify(pubkey, message, der_signature)


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
