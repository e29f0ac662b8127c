"""Partially signed Bitcoin transactions: strict parse and byte-exact serialization of PSBT v0 and v2.

BIP174 (v0), BIP370 (v2), BIP371 (taproot fields), BIP373 (MuSig2 fields). `Psbt.parse`
refuses everything those BIPs call invalid, with a `psbt.*` code and a sentence naming the
map and field. Each map keeps its raw entries in wire order (so `serialize()` returns the
parsed bytes exactly, unknown and proprietary fields included) next to typed, validated
views. What the fields *claim* (amounts, derivation paths) stays a claim: proving it is
the analysis' job, not the parser's.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import NamedTuple

from psbtbridge.errors import BridgeError, Code, InvalidInput
from psbtbridge.psbt.fields import GlobalXpub
from psbtbridge.psbt.global_map import PsbtGlobal, decode_global
from psbtbridge.psbt.input_map import PsbtInput, decode_input
from psbtbridge.psbt.keymap import Entry, read_map, serialize_map
from psbtbridge.psbt.output_map import PsbtOutput, decode_output
from psbtbridge.tx import Tx, TxIn

MAGIC = b"psbt\xff"
#: Refuse anything larger before reading a byte of it (DESIGN: bytes are bounded first).
DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class Psbt(NamedTuple):
    """A parsed PSBT: the global map, then one map per input and per output.

    The global map's fields read as the PSBT's own (`psbt.version`, `psbt.xpubs`);
    `global_tx` is PSBT_GLOBAL_UNSIGNED_TX (v0 only).
    """

    global_map: PsbtGlobal
    inputs: tuple[PsbtInput, ...]
    outputs: tuple[PsbtOutput, ...]

    @classmethod
    def parse(cls, untrusted_data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> Psbt:
        """Parse binary PSBT bytes strictly (size cap first); raise InvalidInput otherwise."""
        if len(untrusted_data) > max_size:
            raise InvalidInput(
                Code.PSBT_TOO_LARGE,
                f"the PSBT is {len(untrusted_data)} bytes, over the {max_size}-byte cap",
            )
        if not untrusted_data.startswith(MAGIC):
            raise InvalidInput(
                Code.PSBT_BAD_MAGIC, "not a PSBT: the magic bytes psbt\\xff are missing"
            )
        stream = io.BytesIO(untrusted_data)
        stream.seek(len(MAGIC))
        global_map = decode_global(read_map(stream, "global map"))
        tx = global_map.unsigned_tx
        version = global_map.version
        inputs = []
        for index in range(global_map.input_count):
            _expect_map(
                stream, len(untrusted_data), f"input {index}", global_map.input_count, "input"
            )
            tx_input = tx.inputs[index] if tx is not None else None
            entries = read_map(stream, f"input {index}")
            inputs.append(decode_input(entries, index, version, tx_input))
        outputs = []
        for index in range(global_map.output_count):
            _expect_map(
                stream, len(untrusted_data), f"output {index}", global_map.output_count, "output"
            )
            tx_output = tx.outputs[index] if tx is not None else None
            entries = read_map(stream, f"output {index}")
            outputs.append(decode_output(entries, index, version, tx_output))
        if stream.tell() != len(untrusted_data):
            raise InvalidInput(
                Code.PSBT_TRAILING_BYTES,
                f"{len(untrusted_data) - stream.tell()} bytes follow the last output map",
            )
        return cls(global_map, tuple(inputs), tuple(outputs))

    def serialize(self) -> bytes:
        """The PSBT bytes: exactly the parsed bytes when nothing was changed."""
        parts = [MAGIC, serialize_map(self.global_map.entries)]
        parts.extend(serialize_map(inp.entries) for inp in self.inputs)
        parts.extend(serialize_map(out.entries) for out in self.outputs)
        return b"".join(parts)

    @property
    def version(self) -> int:
        return self.global_map.version

    @property
    def global_entries(self) -> tuple[Entry, ...]:
        return self.global_map.entries

    @property
    def global_tx(self) -> Tx | None:
        return self.global_map.unsigned_tx

    @property
    def tx_version(self) -> int:
        return self.global_map.tx_version

    @property
    def fallback_locktime(self) -> int | None:
        return self.global_map.fallback_locktime

    @property
    def tx_modifiable(self) -> int | None:
        return self.global_map.tx_modifiable

    @property
    def xpubs(self) -> tuple[GlobalXpub, ...]:
        return self.global_map.xpubs

    @property
    def proprietary(self) -> tuple[Entry, ...]:
        return self.global_map.proprietary

    @property
    def unknown(self) -> tuple[Entry, ...]:
        return self.global_map.unknown

    def locktime(self) -> int:
        """nLockTime: the global transaction's in v0; BIP370's "Determining Lock Time" in v2."""
        if self.global_tx is not None:
            return self.global_tx.locktime
        constrained = [
            inp
            for inp in self.inputs
            if inp.required_height_locktime is not None or inp.required_time_locktime is not None
        ]
        if not constrained:
            return self.fallback_locktime if self.fallback_locktime is not None else 0
        heights = [inp.required_height_locktime for inp in constrained]
        times = [inp.required_time_locktime for inp in constrained]
        # Height wins when every constrained input accepts it (BIP370 prefers heights).
        if all(h is not None for h in heights):
            return max(h for h in heights if h is not None)
        if all(t is not None for t in times):
            return max(t for t in times if t is not None)
        raise InvalidInput(
            Code.PSBT_LOCKTIME_CONFLICT,
            "some inputs require a block-height locktime and others a time locktime:"
            " no transaction can satisfy both",
        )

    def unsigned_tx(self) -> Tx:
        """The transaction being signed: the global one in v0, built from the fields in v2."""
        if self.global_tx is not None:
            return self.global_tx
        return Tx(
            self.tx_version,
            tuple(TxIn(inp.prevout, b"", inp.sequence) for inp in self.inputs),
            tuple(out.txout for out in self.outputs),
            self.locktime(),
        )

    def unique_id(self) -> bytes:
        """BIP370 "Unique Identification": txid of the unsigned tx with every sequence set to 0."""
        tx = self.unsigned_tx()
        zeroed = tuple(TxIn(txin.prevout, b"", 0) for txin in tx.inputs)
        return Tx(tx.version, zeroed, tx.outputs, tx.locktime).txid()

    def with_input(self, index: int, new: PsbtInput) -> Psbt:
        """A copy with input map `index` replaced (e.g. by `inp.with_partial_sig(...)`)."""
        if new.index != index:
            raise BridgeError(
                Code.PSBT_MAP_MISMATCH, f"input {index}: the new map is input {new.index}'s"
            )
        return self.with_inputs([new])

    def with_inputs(self, replacements: Iterable[PsbtInput]) -> Psbt:
        """A copy with each given input map replacing the one at its `index`: one copy of
        the input list for any number of inputs (a signer touching all n stays linear)."""
        inputs = list(self.inputs)
        for new in replacements:
            old = inputs[new.index] if 0 <= new.index < len(inputs) else None
            if (
                old is None
                or new.psbt_version != self.version
                or (
                    self.version == 0 and (new.prevout, new.sequence) != (old.prevout, old.sequence)
                )
            ):
                raise BridgeError(
                    Code.PSBT_MAP_MISMATCH,
                    f"input {new.index}: the new map belongs to another input",
                )
            inputs[new.index] = new
        return self._replace(inputs=tuple(inputs))

    def with_output(self, index: int, new: PsbtOutput) -> Psbt:
        """A copy with output map `index` replaced."""
        old = self.outputs[index] if 0 <= index < len(self.outputs) else None
        if (
            old is None
            or new.index != index
            or new.psbt_version != self.version
            or (self.version == 0 and new.txout != old.txout)
        ):
            raise BridgeError(
                Code.PSBT_MAP_MISMATCH, f"output {index}: the new map belongs to another output"
            )
        outputs = (*self.outputs[:index], new, *self.outputs[index + 1 :])
        return self._replace(outputs=outputs)

    def with_global_entry(self, key_type: int, key_data: bytes, value: bytes) -> Psbt:
        """A copy with one global field set (replaced in place, or appended at the end of
        the global map), validated like parsing; e.g. a v2 signer updating
        PSBT_GLOBAL_TX_MODIFIABLE (BIP370). The PSBT version, the v0 unsigned transaction
        and the number of inputs and outputs cannot change this way."""
        new = self.global_map.with_entry(key_type, key_data, value)
        if (
            new.version != self.version
            or new.unsigned_tx != self.global_tx
            or (new.input_count, new.output_count) != (len(self.inputs), len(self.outputs))
        ):
            raise BridgeError(
                Code.PSBT_MAP_MISMATCH,
                "global map: the change would alter the version, the unsigned transaction"
                " or the number of inputs or outputs",
            )
        return self._replace(global_map=new)


def _expect_map(stream: io.BytesIO, size: int, name: str, count: int, kind: str) -> None:
    if stream.tell() >= size:
        raise InvalidInput(
            Code.PSBT_MISSING_MAP,
            f"{name}: the PSBT ends before this map, but the transaction has {count} {kind}s",
        )
