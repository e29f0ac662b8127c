"""Bitcoin transactions: outpoints, inputs, outputs, and the legacy and segwit serializations."""

from __future__ import annotations

import io
from dataclasses import dataclass

from psbtbridge.compact import (
    MAX_ITEM_SIZE,
    Readable,
    Serializable,
    Writable,
    compact_size,
    finish_compact_size,
    read_compact_size,
    read_exact,
    read_struct,
    var_bytes,
)
from psbtbridge.errors import InvalidInput
from psbtbridge.hashes import hash256

SEGWIT_FLAG = 0x01
#: Consensus limit on any amount (21 million BTC in sat): nothing larger means anything.
MAX_MONEY = 21_000_000 * 100_000_000


@dataclass(frozen=True, slots=True)
class OutPoint(Serializable):
    """A reference to a previous output: txid in internal (serialized) byte order, and index."""

    txid: bytes
    vout: int

    @classmethod
    def read_from(cls, stream: Readable) -> OutPoint:
        # One read for both fields: previous transactions in a PSBT hold thousands of these.
        data = read_exact(stream, 36, "outpoint")
        return cls(data[:32], int.from_bytes(data[32:], "little"))

    def write_to(self, stream: Writable) -> int:
        return stream.write(self.txid + self.vout.to_bytes(4, "little"))

    def __str__(self) -> str:
        return f"{self.txid[::-1].hex()}:{self.vout}"


@dataclass(frozen=True, slots=True)
class TxIn(Serializable):
    prevout: OutPoint
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...] = ()

    @classmethod
    def read_from(cls, stream: Readable) -> TxIn:
        return cls(*_read_input(stream))

    def write_to(self, stream: Writable) -> int:
        return stream.write(
            self.prevout.serialize()
            + var_bytes(self.script_sig)
            + self.sequence.to_bytes(4, "little")
        )


@dataclass(frozen=True, slots=True)
class TxOut(Serializable):
    """An output; value is the signed 64-bit integer on the wire, so a negative amount stays visible."""

    value: int
    script_pubkey: bytes

    @classmethod
    def read_from(cls, stream: Readable) -> TxOut:
        head = stream.read(9)  # amount and the script length's first byte
        if len(head) != 9:
            raise InvalidInput("wire.truncated", "output: the transaction ends inside an output")
        size = head[8] if head[8] < 0xFD else finish_compact_size(head[8], stream, "scriptPubKey")
        script = stream.read(size) if size <= MAX_ITEM_SIZE else b""
        if len(script) != size:
            raise InvalidInput("wire.truncated", "output: the transaction ends inside a script")
        return cls(int.from_bytes(head[:8], "little", signed=True), script)

    def write_to(self, stream: Writable) -> int:
        return stream.write(
            self.value.to_bytes(8, "little", signed=True) + var_bytes(self.script_pubkey)
        )


@dataclass(frozen=True, slots=True)
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
        parts = [_read_input(stream) for _ in range(n_inputs)]
        n_outputs = read_compact_size(stream, "output count")
        outputs = tuple([TxOut.read_from(stream) for _ in range(n_outputs)])
        if has_witness:
            witnesses = [_read_witness(stream, i) for i in range(n_inputs)]
            if not any(witnesses):
                # BIP144: a witness serialization with all witnesses empty is invalid.
                raise InvalidInput("tx.empty_witness", "segwit serialization with no witness data")
            inputs = tuple(
                [TxIn(*part, witness) for part, witness in zip(parts, witnesses, strict=True)]
            )
        else:
            inputs = tuple([TxIn(*part) for part in parts])
        locktime = read_struct(stream, "<I", "locktime")
        return cls(version, inputs, outputs, locktime)

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

    def digest(self) -> str:
        """The 8 hex characters that name a signing request in dom0's prompt, the cold
        dialog, the hot terminal and the audit log: the start of the unsigned txid."""
        return self.txid_hex()[:8]

    def wtxid(self) -> bytes:
        return hash256(self.serialize())

    def vsize(self) -> int:
        """Virtual size in vbytes: weight / 4, rounded up (BIP141)."""
        base = len(self.serialize_legacy())
        total = len(self.serialize())
        return (base * 3 + total + 3) // 4


def _read_witness(stream: Readable, index: int) -> tuple[bytes, ...]:
    try:
        items = []
        for _ in range(read_compact_size(stream, "witness item count")):
            size = read_compact_size(stream, "witness item")
            item = stream.read(size) if size <= MAX_ITEM_SIZE else b""  # read_exact, inlined:
            if len(item) != size:  # segwit previous transactions hold many thousands of items
                raise InvalidInput("wire.truncated", "witness item: the transaction ends inside it")
            items.append(item)
        return tuple(items)
    except InvalidInput as error:  # name the input only on failure: this loop is hot
        raise InvalidInput(error.code, f"input {index}: {error.message}") from error


def _read_input(stream: Readable) -> tuple[OutPoint, bytes, int]:
    """An input's prevout, scriptSig and sequence, in two reads (outpoint and length byte,
    then scriptSig and sequence): previous transactions in a PSBT hold thousands of inputs."""
    head = stream.read(37)
    if len(head) != 37:
        raise InvalidInput("wire.truncated", "input: the transaction ends inside an input")
    size = head[36] if head[36] < 0xFD else finish_compact_size(head[36], stream, "scriptSig")
    rest = stream.read(size + 4) if size <= MAX_ITEM_SIZE else b""
    if len(rest) != size + 4:
        raise InvalidInput("wire.truncated", "input: the transaction ends inside a scriptSig")
    prevout = OutPoint(head[:32], int.from_bytes(head[32:36], "little"))
    return prevout, rest[:size], int.from_bytes(rest[size:], "little")
