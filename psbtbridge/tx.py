"""Bitcoin transactions: outpoints, inputs, outputs, and the legacy and segwit serializations.

Transactions are read from whole byte strings by offset rather than from a stream: a PSBT's
previous transactions hold many thousands of inputs and outputs, and a Python call per
field was most of the time of a parse. One walk checks the whole layout strictly;
`PreviousTx` keeps only what a PSBT proves with a previous transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Self, TypeVar

from psbtbridge.compact import compact_size, compact_size_at, var_bytes
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.hashes import hash256

SEGWIT_FLAG = 0x01
#: Consensus limit on any amount (21 million BTC in sat): nothing larger means anything.
MAX_MONEY = 21_000_000 * 100_000_000


class OutPoint(NamedTuple):
    """A reference to a previous output: txid in internal (serialized) byte order, and index."""

    txid: bytes
    vout: int

    def serialize(self) -> bytes:
        return self.txid + self.vout.to_bytes(4, "little")

    def __str__(self) -> str:
        return f"{self.txid[::-1].hex()}:{self.vout}"


class TxIn(NamedTuple):
    prevout: OutPoint
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...] = ()

    def serialize(self) -> bytes:
        """The input as the serialization without witnesses has it."""
        return (
            self.prevout.serialize()
            + var_bytes(self.script_sig)
            + self.sequence.to_bytes(4, "little")
        )


class TxOut(NamedTuple):
    """An output; value is the signed 64-bit integer on the wire, so a negative amount stays visible."""

    value: int
    script_pubkey: bytes

    @classmethod
    def parse(cls, data: bytes) -> TxOut:
        """Exactly one serialized output (a PSBT_IN_WITNESS_UTXO value)."""
        outputs, end = _walk(data, 0, 1, "an output", _output_reader(data))
        _expect_end(data, end, "output")
        return outputs[0]

    def serialize(self) -> bytes:
        return self.value.to_bytes(8, "little", signed=True) + var_bytes(self.script_pubkey)


class Tx(NamedTuple):
    """A transaction. `parse` reads both serializations; `serialize` writes witnesses when any input has one."""

    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int

    @classmethod
    def parse(cls, data: bytes) -> Self:
        """Either serialization, as a whole byte string."""
        return cls._from_layout(_Layout.read(data, allow_witness=True, keep_inputs=True))

    @classmethod
    def parse_legacy(cls, data: bytes) -> Self:
        """The serialization without witnesses only: a zero input count is a count, not a marker."""
        return cls._from_layout(_Layout.read(data, allow_witness=False, keep_inputs=True))

    @classmethod
    def _from_layout(cls, layout: _Layout) -> Self:
        inputs = layout.inputs
        if layout.witnesses:
            inputs = [
                txin._replace(witness=witness)
                for txin, witness in zip(inputs, layout.witnesses, strict=True)
            ]
        return cls(layout.version, tuple(inputs), layout.outputs, layout.locktime)

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    def serialize(self) -> bytes:
        return self._serialize(self.has_witness)

    def serialize_legacy(self) -> bytes:
        """The serialization without witnesses: what the txid commits to."""
        return self._serialize(False)

    def _serialize(self, with_witness: bool) -> bytes:
        parts = [self.version.to_bytes(4, "little", signed=True)]
        if with_witness:
            parts.append(bytes([0, SEGWIT_FLAG]))
        parts.append(compact_size(len(self.inputs)))
        parts.extend(txin.serialize() for txin in self.inputs)
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

    def vsize(self) -> int:
        """Virtual size in vbytes: weight / 4, rounded up (BIP141)."""
        base = len(self.serialize_legacy())
        total = len(self.serialize())
        return (base * 3 + total + 3) // 4


class PreviousTx(NamedTuple):
    """A full previous transaction as a PSBT carries it (PSBT_IN_NON_WITNESS_UTXO).

    Parsed as strictly as a `Tx`, but only its txid and outputs are kept: they are all a
    PSBT proves with it, and its own inputs would be most of the cost of a big PSBT.
    """

    wire_txid: bytes
    outputs: tuple[TxOut, ...]

    @classmethod
    def parse(cls, data: bytes) -> PreviousTx:
        layout = _Layout.read(data, allow_witness=True, keep_inputs=False)
        # The txid commits to the serialization without marker, flag and witnesses.
        legacy = data[:4] + data[6 : layout.outputs_end] + data[-4:] if layout.segwit else data
        return cls(hash256(legacy), layout.outputs)

    def txid(self) -> bytes:
        """The txid in internal byte order (as in outpoints)."""
        return self.wire_txid


class _Layout(NamedTuple):
    """One strict walk over a serialized transaction."""

    version: int
    inputs: list[TxIn]  # empty unless asked for
    outputs: tuple[TxOut, ...]
    witnesses: list[tuple[bytes, ...]]  # with the inputs, when segwit
    locktime: int
    segwit: bool
    outputs_end: int  # offset just past the last output

    @classmethod
    def read(cls, data: bytes, allow_witness: bool, keep_inputs: bool) -> _Layout:
        if len(data) < 5:
            raise InvalidInput(Code.WIRE_TRUNCATED, "transaction: shorter than any transaction")
        version = int.from_bytes(data[:4], "little", signed=True)
        n_inputs, at = compact_size_at(data, 4, "input count")
        segwit = n_inputs == 0 and allow_witness
        if segwit:
            if at >= len(data):
                raise InvalidInput(
                    Code.WIRE_TRUNCATED, "transaction: the data ends before the segwit flag"
                )
            if data[at] != SEGWIT_FLAG:
                flag = data[at]
                raise InvalidInput(
                    Code.TX_BAD_SEGWIT_FLAG, f"transaction has segwit marker but flag {flag}"
                )
            n_inputs, at = compact_size_at(data, at + 1, "input count")
        inputs: list[TxIn] = []
        if keep_inputs:
            inputs, at = _walk(data, at, n_inputs, "an input", _input_reader(data))
        else:
            at = _walk(data, at, n_inputs, "an input", _skip_input(data))[1]
        n_outputs, at = compact_size_at(data, at, "output count")
        outputs, at = _walk(data, at, n_outputs, "an output", _output_reader(data))
        outputs_end = at
        witnesses: list[tuple[bytes, ...]] = []
        if segwit:
            if keep_inputs:
                witnesses, at = _walk(data, at, n_inputs, "a witness", _stack_reader(data))
                counts = [len(stack) for stack in witnesses]
            else:
                counts, at = _walk(data, at, n_inputs, "a witness", _skip_stack(data))
            if not any(counts):
                # BIP144: a witness serialization with all witnesses empty is invalid.
                raise InvalidInput(
                    Code.TX_EMPTY_WITNESS, "segwit serialization with no witness data"
                )
        _expect_end(data, at + 4, "transaction")
        locktime = int.from_bytes(data[at:], "little")
        return cls(version, inputs, tuple(outputs), witnesses, locktime, segwit, outputs_end)


T = TypeVar("T")


def _walk(
    data: bytes, at: int, count: int, what: str, read: Callable[[int], tuple[T, int]]
) -> tuple[list[T], int]:
    """`count` consecutive items from `at`, each read by `read(offset) -> (item, next offset)`.

    Readers check no bounds: an item may run past the end of the data, which the next
    item's length byte (IndexError) or the final offset shows. So a hostile count stops
    at the end of the data and costs nothing.
    """
    items = []
    try:
        for _ in range(count):
            item, at = read(at)
            items.append(item)
    except IndexError:  # a length byte past the end
        at = len(data) + 1
    if at > len(data):
        raise InvalidInput(Code.WIRE_TRUNCATED, f"transaction: the data ends inside {what}")
    return items, at


def _span(data: bytes, at: int, what: str) -> tuple[int, int]:
    """Where the length-prefixed byte string at data[at] starts and ends."""
    size = data[at]
    if size < 0xFD:  # compact_size_at, inlined for the usual one-byte length
        return at + 1, at + 1 + size
    size, start = compact_size_at(data, at, what)
    return start, start + size


def _input_reader(data: bytes) -> Callable[[int], tuple[TxIn, int]]:
    def read(at: int) -> tuple[TxIn, int]:
        start, end = _span(data, at + 36, "scriptSig")
        prevout = OutPoint(data[at : at + 32], int.from_bytes(data[at + 32 : at + 36], "little"))
        sequence = int.from_bytes(data[end : end + 4], "little")
        return TxIn(prevout, data[start:end], sequence), end + 4

    return read


def _skip_input(data: bytes) -> Callable[[int], tuple[None, int]]:
    def skip(at: int) -> tuple[None, int]:
        return None, _span(data, at + 36, "scriptSig")[1] + 4

    return skip


def _output_reader(data: bytes) -> Callable[[int], tuple[TxOut, int]]:
    def read(at: int) -> tuple[TxOut, int]:
        start, end = _span(data, at + 8, "scriptPubKey")
        return TxOut(int.from_bytes(data[at : at + 8], "little", signed=True), data[start:end]), end

    return read


def _stack_reader(data: bytes) -> Callable[[int], tuple[tuple[bytes, ...], int]]:
    def read(at: int) -> tuple[tuple[bytes, ...], int]:
        count, at = compact_size_at(data, at, "witness item count")
        items = []
        for _ in range(count):
            start, at = _span(data, at, "witness item")
            items.append(data[start:at])
        return tuple(items), at

    return read


def _skip_stack(data: bytes) -> Callable[[int], tuple[int, int]]:
    """A witness stack's item count (all the previous-transaction check needs) and its end."""

    def skip(at: int) -> tuple[int, int]:
        count, at = compact_size_at(data, at, "witness item count")
        for _ in range(count):
            at = _span(data, at, "witness item")[1]
        return count, at

    return skip


def _expect_end(data: bytes, end: int, what: str) -> None:
    if end > len(data):
        raise InvalidInput(
            Code.WIRE_TRUNCATED, f"{what}: the data ends {end - len(data)} bytes early"
        )
    if end < len(data):
        raise InvalidInput(
            Code.WIRE_TRAILING_BYTES, f"{what}: {len(data) - end} bytes after the end"
        )
