"""The transaction as the verifier sees it: embit's parse of the raw bytes, the spent outputs
as plain values, and every signature hash (legacy, BIP143, BIP341 key path) laid out here.

Nothing here comes from the code the verifier checks (psbtbridge/tx.py, sighash.py): the
bytes are re-parsed by embit's parser and the preimages are written out from the BIPs and
Core's SignatureHash, and tests check them against python-bitcointx's own functions on
random transactions.

Cost: what is the same for every input is serialized or hashed once per transaction, so a
signature hash costs what Bitcoin itself makes it cost, nothing more. For BIP143 and BIP341
that is constant per input. A legacy preimage contains the whole transaction, so it is
O(size) per input by nature; it is fed to SHA-256 as slices of one buffer laid out once,
not rebuilt from objects per input (python-bitcointx copies the whole transaction per
call: 475 s for 1,000 P2PKH inputs, bench/legacy.py).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Final, NamedTuple

from embit.base import EmbitError
from embit.compact import to_bytes as compact_size
from embit.transaction import Transaction as EmbitTransaction

from psbtbridge.errors import Code, InvalidInput, Refused

SIGHASH_ALL: Final = 0x01
SIGHASH_NONE: Final = 0x02
SIGHASH_SINGLE: Final = 0x03
SIGHASH_ANYONECANPAY: Final = 0x80
SIGHASH_DEFAULT: Final = 0x00
#: Core's SignatureHash answer to SIGHASH_SINGLE without a matching output (the "SIGHASH_SINGLE
#: bug"): the number one, little-endian. Consensus signs it; we never do (check_ecdsa refuses).
LEGACY_HASH_ONE: Final = b"\x01" + bytes(31)
_ZERO32: Final = bytes(32)
_EMPTY_SCRIPT: Final = b"\x00"
_ZERO_SEQUENCE: Final = bytes(4)
#: An output blanked by legacy SIGHASH_SINGLE: amount -1, empty script (Core's CTxOut()).
_BLANK_OUTPUT: Final = b"\xff" * 8 + _EMPTY_SCRIPT


class SpentOutput(NamedTuple):
    """The output an input spends, as plain values: what the caller says is being spent."""

    script_pubkey: bytes
    amount: int


def var_bytes(data: bytes) -> bytes:
    """data with its compact-size length in front, as scripts are serialized."""
    return bytes(compact_size(len(data))) + data


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash256(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


class TxLayout:
    """One transaction, its spent outputs, and what every signature hash shares, computed once.

    spent_outputs[i] is what input i spends, or None where it is unknown (then only ECDSA on
    the other inputs can be checked: taproot commits to every spent output).
    """

    def __init__(self, raw_tx: bytes, spent_outputs: Sequence[tuple[bytes, int] | None]) -> None:
        try:
            # embit's parser is ~80x faster than bitcointx's, whose object model costs 0.3 s
            # at 1,000 inputs; neither is ours.
            parsed = EmbitTransaction.parse(raw_tx)
        except (EmbitError, ValueError, IndexError) as error:
            raise InvalidInput(
                Code.VERIFY_BAD_TX, f"cannot parse the transaction: {error}"
            ) from error
        self.raw = raw_tx
        if len(spent_outputs) != len(parsed.vin):
            raise InvalidInput(
                Code.VERIFY_SPENT_OUTPUTS,
                f"{len(spent_outputs)} spent outputs for {len(parsed.vin)} inputs",
            )
        self.spent: tuple[SpentOutput | None, ...] = tuple(
            None if out is None else SpentOutput(bytes(out[0]), int(out[1]))
            for out in spent_outputs
        )
        self.version: int = parsed.version  # embit reads it unsigned: packed "<I"
        self.locktime: int = parsed.locktime
        self.prevouts: tuple[bytes, ...] = tuple(
            vin.txid[::-1] + vin.vout.to_bytes(4, "little") for vin in parsed.vin
        )
        self.sequences: tuple[bytes, ...] = tuple(
            struct.pack("<I", vin.sequence) for vin in parsed.vin
        )
        self.outputs: tuple[bytes, ...] = tuple(vout.serialize() for vout in parsed.vout)
        prevouts = b"".join(self.prevouts)
        sequences = b"".join(self.sequences)
        outputs = b"".join(self.outputs)
        self._hash_prevouts = hash256(prevouts)
        self._hash_sequence = hash256(sequences)
        self._hash_outputs = hash256(outputs)
        self._sha_prevouts = sha256(prevouts)
        self._sha_sequences = sha256(sequences)
        self._sha_outputs = sha256(outputs)
        self._sha_amounts: bytes | None = None
        self._sha_scriptpubkeys: bytes | None = None
        known = [out for out in self.spent if out is not None]
        if len(known) == len(self.spent):
            self._sha_amounts = sha256(b"".join(struct.pack("<q", out.amount) for out in known))
            self._sha_scriptpubkeys = sha256(
                b"".join(var_bytes(out.script_pubkey) for out in known)
            )
        self._legacy: _LegacyBuffers | None = None

    def legacy(self, index: int, script_code: bytes, hashtype: int) -> bytes:
        """The pre-segwit signature hash, as Core's SignatureHash computes it.

        script_code is the scriptCode as signed: from the last executed OP_CODESEPARATOR on,
        separators already removed (the caller knows the script; nothing we sign has one).
        """
        base = hashtype & 0x1F
        anyonecanpay = hashtype & SIGHASH_ANYONECANPAY
        if base == SIGHASH_SINGLE and index >= len(self.outputs):
            return LEGACY_HASH_ONE
        if self._legacy is None:
            self._legacy = _LegacyBuffers(self)
        buffers = self._legacy
        blank_others = base in (SIGHASH_NONE, SIGHASH_SINGLE)
        own_input = self.prevouts[index] + var_bytes(script_code) + self.sequences[index]
        digest = hashlib.sha256(struct.pack("<I", self.version))
        if anyonecanpay:
            digest.update(b"\x01" + own_input)
        else:
            # Every other input is serialized with an empty script (and, under NONE and
            # SINGLE, sequence 0): one fixed-size slot each in a buffer laid out once.
            others = buffers.blank_sequence_inputs if blank_others else buffers.empty_inputs
            slot = _INPUT_SLOT
            digest.update(buffers.input_count)
            digest.update(others[: index * slot])
            digest.update(own_input)
            digest.update(others[(index + 1) * slot :])
        if base == SIGHASH_NONE:
            digest.update(b"\x00")
        elif base == SIGHASH_SINGLE:
            digest.update(bytes(compact_size(index + 1)))
            digest.update(_BLANK_OUTPUT * index)
            digest.update(self.outputs[index])
        else:
            digest.update(buffers.all_outputs)
        digest.update(struct.pack("<I", self.locktime))
        digest.update(struct.pack("<I", hashtype))
        return sha256(digest.digest())

    def witness_v0(self, index: int, script_code: bytes, amount: int, hashtype: int) -> bytes:
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
        elif base == SIGHASH_SINGLE and index < len(self.outputs):
            hash_outputs = hash256(self.outputs[index])
        else:
            hash_outputs = _ZERO32
        preimage = b"".join(
            (
                struct.pack("<I", self.version),
                hash_prevouts,
                hash_sequence,
                self.prevouts[index],
                var_bytes(script_code),
                struct.pack("<q", amount),
                self.sequences[index],
                hash_outputs,
                struct.pack("<I", self.locktime),
                struct.pack("<I", hashtype),
            )
        )
        return hash256(preimage)

    def taproot_keypath(self, index: int, hashtype: int) -> bytes:
        """BIP341 key path without annex (ext_flag 0)."""
        spent = self.spent[index]
        if spent is None or self._sha_amounts is None or self._sha_scriptpubkeys is None:
            raise Refused(
                Code.VERIFY_MISSING_UTXO,
                f"input {index}: a taproot signature commits to every spent output,"
                " and some are unknown",
            )
        output_type = hashtype & 0x03
        anyonecanpay = hashtype & SIGHASH_ANYONECANPAY
        parts = [
            b"\x00",
            bytes([hashtype]),
            struct.pack("<I", self.version),
            struct.pack("<I", self.locktime),
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
        if anyonecanpay:
            parts += [
                self.prevouts[index],
                struct.pack("<q", spent.amount) + var_bytes(spent.script_pubkey),
                self.sequences[index],
            ]
        else:
            parts.append(struct.pack("<I", index))
        if output_type == SIGHASH_SINGLE:
            if index >= len(self.outputs):
                raise Refused(
                    Code.VERIFY_BAD_SIGNATURE, f"input {index}: SIGHASH_SINGLE without its output"
                )
            parts.append(sha256(self.outputs[index]))
        tag = sha256(b"TapSighash")
        return sha256(tag + tag + b"".join(parts))


#: One input serialized with an empty scriptSig: 36-byte outpoint, script length 0, sequence.
_INPUT_SLOT: Final = 36 + 1 + 4


class _LegacyBuffers:
    """The parts of every legacy preimage that do not depend on the input being signed."""

    def __init__(self, layout: TxLayout) -> None:
        self.input_count = bytes(compact_size(len(layout.prevouts)))
        # memoryviews: slicing them for each input copies nothing.
        self.empty_inputs = memoryview(
            b"".join(
                prevout + _EMPTY_SCRIPT + sequence
                for prevout, sequence in zip(layout.prevouts, layout.sequences, strict=True)
            )
        )
        self.blank_sequence_inputs = memoryview(
            b"".join(prevout + _EMPTY_SCRIPT + _ZERO_SEQUENCE for prevout in layout.prevouts)
        )
        self.all_outputs = bytes(compact_size(len(layout.outputs))) + b"".join(layout.outputs)
