"""Signature hashes: the message each input's signature commits to (legacy, BIP143, BIP341).

`SighashCache` hashes the transaction-wide parts (prevouts, sequences, outputs, and for
taproot amounts and scriptPubKeys) once per transaction, so signing n inputs costs O(n),
not O(n²) as recomputing them per input does.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Final

from psbtbridge.compact import compact_size, var_bytes
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.hashes import hash256, sha256, tagged_hash
from psbtbridge.script import OP_CODESEPARATOR, ScriptEndsInPush, ops
from psbtbridge.tx import Tx, TxIn, TxOut

ANYONECANPAY: Final = 0x80
_BASE_MASK: Final = 0x1F  # Core masks the base type with 0x1f for the legacy and BIP143 rules
_ZERO32: Final = bytes(32)
#: BIP342: the code separator position committed to when no OP_CODESEPARATOR was executed.
NO_CODESEPARATOR: Final = 0xFFFFFFFF


class SighashType(IntEnum):
    """The standard hash types. DEFAULT (BIP341) exists only for taproot and means ALL."""

    DEFAULT = 0x00
    ALL = 0x01
    NONE = 0x02
    SINGLE = 0x03
    ALL_ANYONECANPAY = 0x81
    NONE_ANYONECANPAY = 0x82
    SINGLE_ANYONECANPAY = 0x83

    @property
    def base(self) -> int:
        """ALL, NONE or SINGLE (DEFAULT counts as ALL)."""
        return (self & _BASE_MASK) or SighashType.ALL

    @property
    def anyonecanpay(self) -> bool:
        return bool(self & ANYONECANPAY)


def _sighash_type(value: int, allow_default: bool) -> SighashType:
    """The hash type, or InvalidInput for a value no standard signature may carry."""
    try:
        hash_type = SighashType(value)
    except ValueError:
        raise InvalidInput(Code.SIGHASH_BAD_TYPE, f"unknown sighash type 0x{value:02x}") from None
    if hash_type is SighashType.DEFAULT and not allow_default:
        raise InvalidInput(
            Code.SIGHASH_BAD_TYPE, "sighash type DEFAULT (0) exists only for taproot"
        )
    return hash_type


def _amount_bytes(amount: int, where: str) -> bytes:
    if not 0 <= amount < 2**63:
        raise InvalidInput(Code.SIGHASH_BAD_AMOUNT, f"{where}: amount {amount} is out of range")
    return amount.to_bytes(8, "little")


def _input(tx: Tx, index: int) -> TxIn:
    if not 0 <= index < len(tx.inputs):
        raise InvalidInput(
            Code.SIGHASH_BAD_INDEX, f"input {index} does not exist (the tx has {len(tx.inputs)})"
        )
    return tx.inputs[index]


def _single_output(tx: Tx, index: int) -> TxOut:
    """The output SIGHASH_SINGLE commits to; refused when there is none.

    The legacy rule then signs the constant 1 (a signature anyone can reuse) and BIP341
    makes the signature invalid: either way, never something to sign.
    """
    if index >= len(tx.outputs):
        raise Refused(
            Code.SIGHASH_SINGLE_NO_OUTPUT,
            f"input {index}: SIGHASH_SINGLE without an output at the same index",
        )
    return tx.outputs[index]


def remove_codeseparators(script: bytes) -> bytes:
    """The script without its OP_CODESEPARATOR opcodes, as the legacy sighash serializes it."""
    if bytes([OP_CODESEPARATOR]) not in script:
        return script
    try:
        return b"".join(
            script[op.start : op.end] for op in ops(script) if op.opcode != OP_CODESEPARATOR
        )
    except ScriptEndsInPush:
        raise InvalidInput(Code.SIGHASH_BAD_SCRIPT, "scriptCode ends inside a push") from None


def legacy_sighash(tx: Tx, index: int, script_code: bytes, hash_type: int) -> bytes:
    """The pre-segwit signature hash (Core's SignatureHash with SIGVERSION_BASE).

    script_code is the script being executed from its last OP_CODESEPARATOR on; the
    signature itself is never in it for the scripts we sign, so no FindAndDelete applies.
    Each call serializes the whole transaction: legacy signing is O(n²) by design.
    """
    kind = _sighash_type(hash_type, allow_default=False)
    signing = _input(tx, index)
    script_code = remove_codeseparators(script_code)
    base = kind.base
    if kind.anyonecanpay:
        inputs: list[tuple[TxIn, bytes, int]] = [(signing, script_code, signing.sequence)]
    else:
        inputs = [
            (
                txin,
                script_code if i == index else b"",
                # NONE and SINGLE let the other inputs' sequences change.
                txin.sequence if i == index or base == SighashType.ALL else 0,
            )
            for i, txin in enumerate(tx.inputs)
        ]
    if base == SighashType.ALL:
        outputs: Sequence[TxOut] = tx.outputs
    elif base == SighashType.NONE:
        outputs = ()
    else:
        # SINGLE: outputs before ours become "null" (value -1, empty script).
        outputs = [TxOut(-1, b"")] * index + [_single_output(tx, index)]
    parts = [tx.version.to_bytes(4, "little", signed=True), compact_size(len(inputs))]
    for txin, script, sequence in inputs:
        parts += [txin.prevout.serialize(), var_bytes(script), sequence.to_bytes(4, "little")]
    parts.append(compact_size(len(outputs)))
    parts += [txout.serialize() for txout in outputs]
    parts += [tx.locktime.to_bytes(4, "little"), kind.to_bytes(4, "little")]
    return hash256(b"".join(parts))


class SighashCache:
    """One transaction's signature hashes, with the transaction-wide parts computed once.

    spent_outputs (the outputs the inputs spend, in input order) are needed only for
    taproot, whose signatures commit to every input's amount and scriptPubKey (BIP341).
    """

    def __init__(self, tx: Tx, spent_outputs: Sequence[TxOut] | None = None) -> None:
        if spent_outputs is not None and len(spent_outputs) != len(tx.inputs):
            raise InvalidInput(
                Code.SIGHASH_SPENT_OUTPUTS,
                f"{len(spent_outputs)} spent outputs for {len(tx.inputs)} inputs",
            )
        self.tx = tx
        self.spent_outputs = tuple(spent_outputs) if spent_outputs is not None else None
        prevouts = b"".join(txin.prevout.serialize() for txin in tx.inputs)
        sequences = b"".join(txin.sequence.to_bytes(4, "little") for txin in tx.inputs)
        outputs = b"".join(txout.serialize() for txout in tx.outputs)
        # BIP143 uses double SHA-256 of each concatenation.
        self.hash_prevouts = hash256(prevouts)
        self.hash_sequence = hash256(sequences)
        self.hash_outputs = hash256(outputs)
        # BIP341 uses single SHA-256 of the same concatenations, plus amounts and scripts.
        self.sha_prevouts = sha256(prevouts)
        self.sha_sequences = sha256(sequences)
        self.sha_outputs = sha256(outputs)
        self.sha_amounts: bytes | None = None
        self.sha_scriptpubkeys: bytes | None = None
        if self.spent_outputs is not None:
            self.sha_amounts = sha256(
                b"".join(
                    _amount_bytes(out.value, f"spent output {i}")
                    for i, out in enumerate(self.spent_outputs)
                )
            )
            self.sha_scriptpubkeys = sha256(
                b"".join(var_bytes(out.script_pubkey) for out in self.spent_outputs)
            )

    def legacy(self, index: int, script_code: bytes, hash_type: int) -> bytes:
        return legacy_sighash(self.tx, index, script_code, hash_type)

    def segwit_v0_preimage(
        self, index: int, script_code: bytes, amount: int, hash_type: int
    ) -> bytes:
        """The BIP143 preimage; script_code without its length prefix."""
        kind = _sighash_type(hash_type, allow_default=False)
        txin = _input(self.tx, index)
        base = kind.base
        hash_prevouts = _ZERO32 if kind.anyonecanpay else self.hash_prevouts
        hash_sequence = (
            self.hash_sequence if not kind.anyonecanpay and base == SighashType.ALL else _ZERO32
        )
        if base == SighashType.ALL:
            hash_outputs = self.hash_outputs
        elif base == SighashType.SINGLE and index < len(self.tx.outputs):
            hash_outputs = hash256(self.tx.outputs[index].serialize())
        else:
            # NONE, and BIP143's SINGLE without a matching output, commit to zeros.
            hash_outputs = _ZERO32
        return b"".join(
            (
                self.tx.version.to_bytes(4, "little", signed=True),
                hash_prevouts,
                hash_sequence,
                txin.prevout.serialize(),
                var_bytes(script_code),
                _amount_bytes(amount, f"input {index}"),
                txin.sequence.to_bytes(4, "little"),
                hash_outputs,
                self.tx.locktime.to_bytes(4, "little"),
                kind.to_bytes(4, "little"),
            )
        )

    def segwit_v0(self, index: int, script_code: bytes, amount: int, hash_type: int) -> bytes:
        """BIP143 signature hash for a P2WPKH/P2WSH spend (nested in P2SH or not)."""
        return hash256(self.segwit_v0_preimage(index, script_code, amount, hash_type))

    def taproot_sigmsg(
        self,
        index: int,
        hash_type: int,
        annex: bytes | None = None,
        leaf_hash: bytes | None = None,
        codesep_pos: int = NO_CODESEPARATOR,
    ) -> bytes:
        """BIP341 epoch byte and SigMsg, plus the BIP342 extension for a script path."""
        kind = _sighash_type(hash_type, allow_default=True)
        txin = _input(self.tx, index)
        if self.spent_outputs is None or self.sha_amounts is None or self.sha_scriptpubkeys is None:
            raise InvalidInput(
                Code.SIGHASH_SPENT_OUTPUTS, "a taproot sighash needs every spent output"
            )
        if annex is not None and annex[:1] != b"\x50":
            raise InvalidInput(Code.SIGHASH_BAD_ANNEX, f"input {index}: an annex starts with 0x50")
        if leaf_hash is not None and len(leaf_hash) != 32:
            raise InvalidInput(Code.SIGHASH_BAD_LEAF_HASH, "a tapleaf hash is 32 bytes")
        base = kind.base
        parts = [
            b"\x00",  # epoch
            bytes([kind]),
            self.tx.version.to_bytes(4, "little", signed=True),
            self.tx.locktime.to_bytes(4, "little"),
        ]
        if not kind.anyonecanpay:
            parts += [
                self.sha_prevouts,
                self.sha_amounts,
                self.sha_scriptpubkeys,
                self.sha_sequences,
            ]
        if base == SighashType.ALL:
            parts.append(self.sha_outputs)
        ext_flag = 0 if leaf_hash is None else 1
        parts.append(bytes([ext_flag * 2 + (annex is not None)]))
        if kind.anyonecanpay:
            spent = self.spent_outputs[index]
            parts += [
                txin.prevout.serialize(),
                _amount_bytes(spent.value, f"input {index}"),
                var_bytes(spent.script_pubkey),
                txin.sequence.to_bytes(4, "little"),
            ]
        else:
            parts.append(index.to_bytes(4, "little"))
        if annex is not None:
            parts.append(sha256(var_bytes(annex)))
        if base == SighashType.SINGLE:
            parts.append(sha256(_single_output(self.tx, index).serialize()))
        if leaf_hash is not None:
            parts += [leaf_hash, b"\x00", codesep_pos.to_bytes(4, "little")]  # key_version 0
        return b"".join(parts)

    def taproot(
        self,
        index: int,
        hash_type: int,
        annex: bytes | None = None,
        leaf_hash: bytes | None = None,
        codesep_pos: int = NO_CODESEPARATOR,
    ) -> bytes:
        """BIP341 signature hash (key path, or BIP342 script path when leaf_hash is given)."""
        return tagged_hash(
            "TapSighash", self.taproot_sigmsg(index, hash_type, annex, leaf_hash, codesep_pos)
        )
