"""Bitcoin transactions: outpoints, inputs, outputs, and the legacy and segwit serializations."""

from __future__ import annotations

import io
from dataclasses import dataclass

from psbtbridge.compact import (
    Readable,
    Serializable,
    Writable,
    compact_size,
    read_compact_size,
    read_exact,
    read_struct,
    read_var_bytes,
    var_bytes,
)
from psbtbridge.errors import InvalidInput
from psbtbridge.hashes import hash256

SEGWIT_FLAG = 0x01


@dataclass(frozen=True)
class OutPoint(Serializable):
    """A reference to a previous output: txid in internal (serialized) byte order, and index."""

    txid: bytes
    vout: int

    @classmethod
    def read_from(cls, stream: Readable) -> OutPoint:
        return cls(
            read_exact(stream, 32, "outpoint txid"), read_struct(stream, "<I", "outpoint index")
        )

    def write_to(self, stream: Writable) -> int:
        return stream.write(self.txid + self.vout.to_bytes(4, "little"))

    def __str__(self) -> str:
        return f"{self.txid[::-1].hex()}:{self.vout}"


@dataclass(frozen=True)
class TxIn(Serializable):
    prevout: OutPoint
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...] = ()

    @classmethod
    def read_from(cls, stream: Readable) -> TxIn:
        prevout = OutPoint.read_from(stream)
        script_sig = read_var_bytes(stream, "scriptSig")
        return cls(prevout, script_sig, read_struct(stream, "<I", "sequence"))

    def write_to(self, stream: Writable) -> int:
        return stream.write(
            self.prevout.serialize()
            + var_bytes(self.script_sig)
            + self.sequence.to_bytes(4, "little")
        )


@dataclass(frozen=True)
class TxOut(Serializable):
    """An output; value is the signed 64-bit integer on the wire, so a negative amount stays visible."""

    value: int
    script_pubkey: bytes

    @classmethod
    def read_from(cls, stream: Readable) -> TxOut:
        value = read_struct(stream, "<q", "output amount")
        return cls(value, read_var_bytes(stream, "scriptPubKey"))

    def write_to(self, stream: Writable) -> int:
        return stream.write(
            self.value.to_bytes(8, "little", signed=True) + var_bytes(self.script_pubkey)
        )


@dataclass(frozen=True)
class Tx(Serializable):
    """A transaction. `parse` reads both serializations; `serialize` writes witnesses when any input has one."""

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int

    @classmethod
    def read_from(cls, stream: Readable) -> Tx:
        return cls._read(stream, allow_witness=True)

    @classmethod
    def read_legacy_from(cls, stream: Readable) -> Tx:
        """Read the serialization without witnesses only: a zero input count is a count, not a marker."""
        return cls._read(stream, allow_witness=False)

    @classmethod
    def parse_legacy(cls, data: bytes) -> Tx:
        stream = io.BytesIO(data)
        tx = cls.read_legacy_from(stream)
        if stream.tell() != len(data):
            raise InvalidInput(
                "wire.trailing_bytes", f"Tx: {len(data) - stream.tell()} bytes after the end"
            )
        return tx

    @classmethod
    def _read(cls, stream: Readable, allow_witness: bool) -> Tx:
        version = read_struct(stream, "<i", "tx version")
        n_inputs = read_compact_size(stream, "input count")
        has_witness = False
        if n_inputs == 0 and allow_witness:
            flag = read_exact(stream, 1, "segwit flag")[0]
            if flag != SEGWIT_FLAG:
                raise InvalidInput(
                    "tx.bad_segwit_flag", f"transaction has segwit marker but flag {flag}"
                )
            has_witness = True
            n_inputs = read_compact_size(stream, "input count")
        inputs = [TxIn.read_from(stream) for _ in range(n_inputs)]
        n_outputs = read_compact_size(stream, "output count")
        outputs = tuple(TxOut.read_from(stream) for _ in range(n_outputs))
        if has_witness:
            for i, txin in enumerate(inputs):
                items = read_compact_size(stream, f"input {i} witness item count")
                witness = tuple(
                    read_var_bytes(stream, f"input {i} witness item") for _ in range(items)
                )
                inputs[i] = TxIn(txin.prevout, txin.script_sig, txin.sequence, witness)
            if not any(txin.witness for txin in inputs):
                # BIP144: a witness serialization with all witnesses empty is invalid.
                raise InvalidInput("tx.empty_witness", "segwit serialization with no witness data")
        locktime = read_struct(stream, "<I", "locktime")
        return cls(version, tuple(inputs), outputs, locktime)

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    def write_to(self, stream: Writable) -> int:
        return stream.write(self._serialize(self.has_witness))

    def serialize_legacy(self) -> bytes:
        """The serialization without witnesses: what the txid commits to."""
        return self._serialize(False)

    def _serialize(self, with_witness: bool) -> bytes:
        parts = [self.version.to_bytes(4, "little", signed=True)]
        if with_witness:
            parts.append(bytes([0, SEGWIT_FLAG]))
        parts.append(compact_size(len(self.inputs)))
        buffer = io.BytesIO()
        for txin in self.inputs:
            txin.write_to(buffer)
        parts.append(buffer.getvalue())
        parts.append(compact_size(len(self.outputs)))
        parts.extend(txout.serialize() for txout in self.outputs)
        if with_witness:
            for txin in self.inputs:
                parts.append(compact_size(len(txin.witness)))
                parts.extend(var_bytes(item) for item in txin.witness)
        parts.append(self.locktime.to_bytes(4, "little"))
        return b"".join(parts)

    def txid(self) -> bytes:
        """The txid in internal byte order (as in outpoints)."""
        return hash256(self.serialize_legacy())

    def txid_hex(self) -> str:
        """The txid as block explorers and wallets display it (byte-reversed hex)."""
        return self.txid()[::-1].hex()

    def wtxid(self) -> bytes:
        return hash256(self.serialize())

    def vsize(self) -> int:
        """Virtual size in vbytes: weight / 4, rounded up (BIP141)."""
        base = len(self.serialize_legacy())
        total = len(self.serialize())
        return (base * 3 + total + 3) // 4
