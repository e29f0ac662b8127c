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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from psbtbridge.compact import compact_size
from psbtbridge.errors import BridgeError, InvalidInput
from psbtbridge.keyencoding import check_xpub
from psbtbridge.keymap import Entry, read_map, serialize_map
from psbtbridge.psbt_decode import (
    INPUT_FIELDS,
    OUTPUT_FIELDS,
    check_proprietary_key,
    decode_compact,
    decode_fixed,
    decode_key_origin,
    decode_map,
    decode_value,
    raise_unexpected_key_data,
)
from psbtbridge.psbt_fields import (
    NO_KEY_DATA_GLOBAL,
    V2_ONLY_GLOBAL,
    V2_ONLY_INPUT,
    Bip32Derivation,
    GlobalType,
    GlobalXpub,
    InputType,
    MuSig2PartialSig,
    MuSig2Participants,
    MuSig2PubNonce,
    OutputType,
    PartialSig,
    Preimage,
    TapBip32Derivation,
    TapLeafScript,
    TapScriptSig,
)
from psbtbridge.taproot import TapLeaf
from psbtbridge.tx import OutPoint, PreviousTx, Tx, TxIn, TxOut

MAGIC = b"psbt\xff"
#: Refuse anything larger before reading a byte of it (DESIGN: bytes are bounded first).
DEFAULT_MAX_SIZE = 16 * 1024 * 1024
SUPPORTED_VERSIONS = (0, 2)
SEQUENCE_FINAL = 0xFFFFFFFF

_GLOBAL_TYPES = {t.value: t for t in GlobalType}
_INPUT_TYPES = {t.value: t for t in InputType}


@dataclass(frozen=True, slots=True)
class PsbtInput:
    """One input map: raw entries in wire order, and the typed fields decoded from them.

    `prevout` and `sequence` are the input's place in the transaction: from the global
    unsigned transaction in v0, from PSBT_IN_PREVIOUS_TXID/OUTPUT_INDEX/SEQUENCE in v2
    (a missing PSBT_IN_SEQUENCE means 0xffffffff). `unknown` holds entries of unknown type,
    `proprietary` the PSBT_IN_PROPRIETARY ones; both are written back unchanged.
    """

    index: int
    psbt_version: int
    entries: tuple[Entry, ...]
    prevout: OutPoint
    sequence: int
    non_witness_utxo: PreviousTx | None = None
    witness_utxo: TxOut | None = None
    partial_sigs: tuple[PartialSig, ...] = ()
    sighash_type: int | None = None
    redeem_script: bytes | None = None
    witness_script: bytes | None = None
    bip32_derivations: tuple[Bip32Derivation, ...] = ()
    final_scriptsig: bytes | None = None
    final_scriptwitness: tuple[bytes, ...] | None = None
    por_commitment: str | None = None
    preimages: tuple[Preimage, ...] = ()
    required_time_locktime: int | None = None
    required_height_locktime: int | None = None
    tap_key_sig: bytes | None = None
    tap_script_sigs: tuple[TapScriptSig, ...] = ()
    tap_leaf_scripts: tuple[TapLeafScript, ...] = ()
    tap_bip32_derivations: tuple[TapBip32Derivation, ...] = ()
    tap_internal_key: bytes | None = None
    tap_merkle_root: bytes | None = None
    musig2_participant_pubkeys: tuple[MuSig2Participants, ...] = ()
    musig2_pub_nonces: tuple[MuSig2PubNonce, ...] = ()
    musig2_partial_sigs: tuple[MuSig2PartialSig, ...] = ()
    proprietary: tuple[Entry, ...] = ()
    unknown: tuple[Entry, ...] = ()

    @classmethod
    def from_entries(
        cls, entries: tuple[Entry, ...], index: int, psbt_version: int, tx_input: TxIn | None
    ) -> PsbtInput:
        """Validate and decode an input map; v0 passes the unsigned transaction's input."""
        return _decode_input(entries, index, psbt_version, tx_input)

    @property
    def spent_output(self) -> TxOut | None:
        """The output this input claims to spend (witness_utxo, else the non_witness_utxo's output)."""
        if self.witness_utxo is not None:
            return self.witness_utxo
        if self.non_witness_utxo is not None:
            return self.non_witness_utxo.outputs[self.prevout.vout]
        return None

    @property
    def amount_proven(self) -> bool:
        """True when a full previous transaction hashing to the prevout txid gives the amount."""
        return self.non_witness_utxo is not None

    @property
    def is_finalized(self) -> bool:
        return self.final_scriptsig is not None or self.final_scriptwitness is not None

    def with_entry(self, key_type: int, key_data: bytes, value: bytes) -> PsbtInput:
        """A new input with one field set: an entry with the same key is replaced where it
        stands, otherwise the entry is appended at the end of the map. Validated like parsing."""
        new = Entry(key_type, key_data, value)
        entries = _set_entry(self.entries, new)
        if key_type in _SELF_CONTAINED and len(entries) > len(self.entries):
            # A new signature relates to no other field: decode it alone rather than the
            # whole map again, whose previous transaction would be re-parsed per signature.
            fields, _ = decode_map((new,), INPUT_FIELDS, f"input {self.index}", self.psbt_version)
            ((attribute, decoded),) = fields.items()
            if INPUT_FIELDS[key_type].repeated:  # one more item of a repeated field
                decoded = getattr(self, attribute) + decoded
            return replace(self, entries=entries, **{attribute: decoded})
        return _decode_input(entries, self.index, self.psbt_version, self._tx_input())

    def with_partial_sig(self, pubkey: bytes, signature: bytes) -> PsbtInput:
        """Add (or replace) the ECDSA signature (DER + sighash byte) of a SEC public key."""
        return self.with_entry(InputType.PARTIAL_SIG, pubkey, signature)

    def with_tap_key_sig(self, signature: bytes) -> PsbtInput:
        """Set the BIP340 key-path signature (64 bytes, or 65 with a sighash byte)."""
        return self.with_entry(InputType.TAP_KEY_SIG, b"", signature)

    def with_tap_script_sig(
        self, xonly_pubkey: bytes, leaf_hash: bytes, signature: bytes
    ) -> PsbtInput:
        """Add (or replace) a BIP340 script-path signature for one key and leaf."""
        return self.with_entry(InputType.TAP_SCRIPT_SIG, xonly_pubkey + leaf_hash, signature)

    def finalized(self, script_sig: bytes, witness: Sequence[bytes]) -> PsbtInput:
        """The finalizer's result (BIP174/BIP370/BIP371): keep the UTXOs, the v2 transaction
        fields, unknown and proprietary entries; drop all signing data; append the final
        scriptSig and witness (each only when non-empty, as Bitcoin Core does)."""
        kept = tuple(e for e in self.entries if _kept_when_finalized(e.key_type))
        if script_sig:
            kept += (Entry(InputType.FINAL_SCRIPTSIG, b"", script_sig),)
        if witness:
            stack = compact_size(len(witness)) + b"".join(
                compact_size(len(item)) + item for item in witness
            )
            kept += (Entry(InputType.FINAL_SCRIPTWITNESS, b"", stack),)
        return _decode_input(kept, self.index, self.psbt_version, self._tx_input())

    def _tx_input(self) -> TxIn | None:
        return TxIn(self.prevout, b"", self.sequence) if self.psbt_version == 0 else None

    def serialize(self) -> bytes:
        return serialize_map(self.entries)


#: Input fields whose validity depends on nothing else in the map (BIP174/BIP371 signatures).
_SELF_CONTAINED: Final = frozenset(
    {InputType.PARTIAL_SIG, InputType.TAP_KEY_SIG, InputType.TAP_SCRIPT_SIG}
)


def _kept_when_finalized(key_type: int) -> bool:
    """BIP174: a finalizer keeps the UTXOs and unknown fields; BIP370 adds the v2 tx fields."""
    known = _INPUT_TYPES.get(key_type)
    return (
        known is None
        or known in V2_ONLY_INPUT
        or known in (InputType.NON_WITNESS_UTXO, InputType.WITNESS_UTXO, InputType.PROPRIETARY)
    )


def _set_entry(entries: tuple[Entry, ...], new: Entry) -> tuple[Entry, ...]:
    for position, entry in enumerate(entries):
        if entry.key_type == new.key_type and entry.key_data == new.key_data:
            return (*entries[:position], new, *entries[position + 1 :])
    return (*entries, new)


def _decode_input(
    entries: tuple[Entry, ...], index: int, version: int, tx_input: TxIn | None
) -> PsbtInput:
    place = f"input {index}"
    fields, unknown = decode_map(entries, INPUT_FIELDS, place, version)
    prev_txid = fields.pop("_previous_txid", None)
    prev_index = fields.pop("_output_index", None)
    sequence = fields.pop("_sequence", None)
    if tx_input is not None:
        prevout, sequence = tx_input.prevout, tx_input.sequence
    else:
        if prev_txid is None or prev_index is None:
            missing = InputType.PREVIOUS_TXID if prev_txid is None else InputType.OUTPUT_INDEX
            raise InvalidInput(
                "psbt.missing_field", f"{place}: {missing.bip_name} is required in PSBTv2"
            )
        prevout = OutPoint(prev_txid, prev_index)
        if sequence is None:
            sequence = SEQUENCE_FINAL  # BIP370: an omitted sequence is final; 0 stays 0
    previous = fields.get("non_witness_utxo")
    if previous is not None:
        _check_non_witness_utxo(previous, prevout, place)
        witness_utxo = fields.get("witness_utxo")
        if witness_utxo is not None and witness_utxo != previous.outputs[prevout.vout]:
            raise InvalidInput(
                "psbt.witness_utxo_mismatch",
                f"{place}: PSBT_IN_WITNESS_UTXO differs from output {prevout.vout} of"
                " PSBT_IN_NON_WITNESS_UTXO",
            )
    return PsbtInput(
        index=index,
        psbt_version=version,
        entries=entries,
        prevout=prevout,
        sequence=sequence,
        unknown=unknown,
        **fields,
    )


def _check_non_witness_utxo(previous: PreviousTx, prevout: OutPoint, place: str) -> None:
    """The full previous transaction must be the one the prevout names, and have that output."""
    txid = previous.txid()
    if txid != prevout.txid:
        raise InvalidInput(
            "psbt.non_witness_utxo_txid",
            f"{place}: PSBT_IN_NON_WITNESS_UTXO has txid {txid[::-1].hex()}, but the input"
            f" spends {prevout.txid[::-1].hex()}",
        )
    if prevout.vout >= len(previous.outputs):
        raise InvalidInput(
            "psbt.non_witness_utxo_index",
            f"{place}: PSBT_IN_NON_WITNESS_UTXO has {len(previous.outputs)} outputs, but the"
            f" input spends output {prevout.vout}",
        )


@dataclass(frozen=True, slots=True)
class PsbtOutput:
    """One output map: raw entries in wire order, and the typed fields decoded from them.

    `amount` and `script_pubkey` come from the global unsigned transaction in v0 and from
    PSBT_OUT_AMOUNT/PSBT_OUT_SCRIPT in v2.
    """

    index: int
    psbt_version: int
    entries: tuple[Entry, ...]
    amount: int
    script_pubkey: bytes
    redeem_script: bytes | None = None
    witness_script: bytes | None = None
    bip32_derivations: tuple[Bip32Derivation, ...] = ()
    tap_internal_key: bytes | None = None
    tap_tree: tuple[TapLeaf, ...] | None = None
    tap_bip32_derivations: tuple[TapBip32Derivation, ...] = ()
    musig2_participant_pubkeys: tuple[MuSig2Participants, ...] = ()
    proprietary: tuple[Entry, ...] = ()
    unknown: tuple[Entry, ...] = ()

    @classmethod
    def from_entries(
        cls, entries: tuple[Entry, ...], index: int, psbt_version: int, tx_output: TxOut | None
    ) -> PsbtOutput:
        """Validate and decode an output map; v0 passes the unsigned transaction's output."""
        return _decode_output(entries, index, psbt_version, tx_output)

    @property
    def txout(self) -> TxOut:
        return TxOut(self.amount, self.script_pubkey)

    def with_entry(self, key_type: int, key_data: bytes, value: bytes) -> PsbtOutput:
        """A new output with one field set (replaced in place, or appended), validated."""
        tx_output = self.txout if self.psbt_version == 0 else None
        return _decode_output(
            _set_entry(self.entries, Entry(key_type, key_data, value)),
            self.index,
            self.psbt_version,
            tx_output,
        )

    def serialize(self) -> bytes:
        return serialize_map(self.entries)


def _decode_output(
    entries: tuple[Entry, ...], index: int, version: int, tx_output: TxOut | None
) -> PsbtOutput:
    place = f"output {index}"
    fields, unknown = decode_map(entries, OUTPUT_FIELDS, place, version)
    amount = fields.pop("_amount", None)
    script = fields.pop("_script", None)
    if tx_output is not None:
        amount, script = tx_output.value, tx_output.script_pubkey
    elif amount is None or script is None:
        missing = OutputType.AMOUNT if amount is None else OutputType.SCRIPT
        raise InvalidInput(
            "psbt.missing_field", f"{place}: {missing.bip_name} is required in PSBTv2"
        )
    return PsbtOutput(
        index=index,
        psbt_version=version,
        entries=entries,
        amount=amount,
        script_pubkey=script,
        unknown=unknown,
        **fields,
    )


@dataclass(frozen=True, slots=True)
class Psbt:
    """A parsed PSBT: the global map's raw entries and typed fields, then the input and output maps.

    `global_tx` is PSBT_GLOBAL_UNSIGNED_TX (v0 only); `tx_version`, `fallback_locktime` and
    `tx_modifiable` are the v2 fields (for v0, `tx_version` is the global transaction's).
    """

    version: int
    global_entries: tuple[Entry, ...]
    inputs: tuple[PsbtInput, ...]
    outputs: tuple[PsbtOutput, ...]
    global_tx: Tx | None
    tx_version: int
    fallback_locktime: int | None = None
    tx_modifiable: int | None = None
    xpubs: tuple[GlobalXpub, ...] = ()
    proprietary: tuple[Entry, ...] = ()
    unknown: tuple[Entry, ...] = ()

    @classmethod
    def parse(cls, untrusted_data: bytes, max_size: int = DEFAULT_MAX_SIZE) -> Psbt:
        """Parse binary PSBT bytes strictly (size cap first); raise InvalidInput otherwise."""
        if len(untrusted_data) > max_size:
            raise InvalidInput(
                "psbt.too_large",
                f"the PSBT is {len(untrusted_data)} bytes, over the {max_size}-byte cap",
            )
        if not untrusted_data.startswith(MAGIC):
            raise InvalidInput(
                "psbt.bad_magic", "not a PSBT: the magic bytes psbt\\xff are missing"
            )
        stream = io.BytesIO(untrusted_data)
        stream.seek(len(MAGIC))
        global_entries = read_map(stream, "global map")
        header = _decode_global(global_entries)
        if header.global_tx is not None:
            input_count, output_count = len(header.global_tx.inputs), len(header.global_tx.outputs)
        else:
            input_count, output_count = header.input_count, header.output_count
        inputs = []
        for index in range(input_count):
            _expect_map(stream, len(untrusted_data), f"input {index}", input_count, "input")
            tx_input = header.global_tx.inputs[index] if header.global_tx is not None else None
            entries = read_map(stream, f"input {index}")
            inputs.append(_decode_input(entries, index, header.version, tx_input))
        outputs = []
        for index in range(output_count):
            _expect_map(stream, len(untrusted_data), f"output {index}", output_count, "output")
            tx_output = header.global_tx.outputs[index] if header.global_tx is not None else None
            entries = read_map(stream, f"output {index}")
            outputs.append(_decode_output(entries, index, header.version, tx_output))
        if stream.tell() != len(untrusted_data):
            raise InvalidInput(
                "psbt.trailing_bytes",
                f"{len(untrusted_data) - stream.tell()} bytes follow the last output map",
            )
        return cls(
            version=header.version,
            global_entries=global_entries,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            global_tx=header.global_tx,
            tx_version=header.tx_version,
            fallback_locktime=header.fallback_locktime,
            tx_modifiable=header.tx_modifiable,
            xpubs=header.xpubs,
            proprietary=header.proprietary,
            unknown=header.unknown,
        )

    def serialize(self) -> bytes:
        """The PSBT bytes: exactly the parsed bytes when nothing was changed."""
        parts = [MAGIC, serialize_map(self.global_entries)]
        parts.extend(serialize_map(inp.entries) for inp in self.inputs)
        parts.extend(serialize_map(out.entries) for out in self.outputs)
        return b"".join(parts)

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
            "psbt.locktime_conflict",
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
                "psbt.map_mismatch", f"input {index}: the new map is input {new.index}'s"
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
                    "psbt.map_mismatch", f"input {new.index}: the new map belongs to another input"
                )
            inputs[new.index] = new
        return replace(self, inputs=tuple(inputs))

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
                "psbt.map_mismatch", f"output {index}: the new map belongs to another output"
            )
        outputs = (*self.outputs[:index], new, *self.outputs[index + 1 :])
        return replace(self, outputs=outputs)

    def with_global_entry(self, key_type: int, key_data: bytes, value: bytes) -> Psbt:
        """A copy with one global field set (replaced in place, or appended at the end of
        the global map), validated like parsing; e.g. a v2 signer updating
        PSBT_GLOBAL_TX_MODIFIABLE (BIP370). The PSBT version, the v0 unsigned transaction
        and the v2 input and output counts cannot change this way."""
        entries = _set_entry(self.global_entries, Entry(key_type, key_data, value))
        header = _decode_global(entries)
        counts = (header.input_count, header.output_count)
        if (
            header.version != self.version
            or header.global_tx != self.global_tx
            or (self.version == 2 and counts != (len(self.inputs), len(self.outputs)))
        ):
            raise BridgeError(
                "psbt.map_mismatch",
                "global map: the change would alter the version, the unsigned transaction"
                " or the number of inputs or outputs",
            )
        return replace(
            self,
            global_entries=entries,
            tx_version=header.tx_version,
            fallback_locktime=header.fallback_locktime,
            tx_modifiable=header.tx_modifiable,
            xpubs=header.xpubs,
            proprietary=header.proprietary,
            unknown=header.unknown,
        )


def _expect_map(stream: io.BytesIO, size: int, name: str, count: int, kind: str) -> None:
    if stream.tell() >= size:
        raise InvalidInput(
            "psbt.missing_map",
            f"{name}: the PSBT ends before this map, but the transaction has {count} {kind}s",
        )


@dataclass(frozen=True, slots=True)
class _Global:
    version: int
    global_tx: Tx | None
    tx_version: int
    fallback_locktime: int | None
    input_count: int
    output_count: int
    tx_modifiable: int | None
    xpubs: tuple[GlobalXpub, ...]
    proprietary: tuple[Entry, ...]
    unknown: tuple[Entry, ...]


def _decode_global(entries: Iterable[Entry]) -> _Global:
    entries = tuple(entries)
    version = 0
    for entry in entries:
        # With key data it is not a valid version field; the loop below says so.
        if entry.key_type == GlobalType.VERSION and not entry.key_data:
            where = "global map: PSBT_GLOBAL_VERSION"
            version = decode_fixed(entry.value, "<I", where)
            if version not in SUPPORTED_VERSIONS:
                raise InvalidInput(
                    "psbt.unsupported_version",
                    f"{where}: version {version} is not supported (only 0 and 2 exist)",
                )
    global_tx: Tx | None = None
    values: dict[GlobalType, int] = {}
    xpubs: list[GlobalXpub] = []
    proprietary: list[Entry] = []
    unknown: list[Entry] = []
    for entry in entries:
        field = _GLOBAL_TYPES.get(entry.key_type)
        if field is None:
            unknown.append(entry)
            continue
        where = f"global map: {field.bip_name}"
        if version == 0 and field in V2_ONLY_GLOBAL:
            raise InvalidInput(
                "psbt.v2_field_in_v0", f"{where}: a PSBTv2 field in a version 0 PSBT"
            )
        if entry.key_data and field in NO_KEY_DATA_GLOBAL:
            raise_unexpected_key_data(entry, where)
        match field:
            case GlobalType.UNSIGNED_TX:
                if version != 0:
                    raise InvalidInput(
                        "psbt.unsigned_tx_in_v2", f"{where}: must be excluded from PSBTv2"
                    )
                global_tx = _unsigned_tx(entry.value, where)
            case GlobalType.XPUB:
                xpub = check_xpub(entry.key_data, where)
                xpubs.append(GlobalXpub(xpub, decode_key_origin(entry.value, where)))
            case GlobalType.TX_VERSION:
                values[field] = decode_fixed(entry.value, "<i", where)
            case GlobalType.FALLBACK_LOCKTIME:
                values[field] = decode_fixed(entry.value, "<I", where)
            case GlobalType.INPUT_COUNT | GlobalType.OUTPUT_COUNT:
                values[field] = decode_compact(entry.value, where)
            case GlobalType.TX_MODIFIABLE:
                values[field] = decode_fixed(entry.value, "<B", where)
            case GlobalType.PROPRIETARY:
                check_proprietary_key(entry.key_data, where)
                proprietary.append(entry)
            case GlobalType.VERSION:
                pass  # decoded above: the version decides how the rest reads
    if version == 0:
        if global_tx is None:
            raise InvalidInput(
                "psbt.missing_unsigned_tx",
                "global map: PSBT_GLOBAL_UNSIGNED_TX is required in a version 0 PSBT",
            )
        tx_version = global_tx.version
    else:
        for required in (GlobalType.TX_VERSION, GlobalType.INPUT_COUNT, GlobalType.OUTPUT_COUNT):
            if required not in values:
                raise InvalidInput(
                    "psbt.missing_field", f"global map: {required.bip_name} is required in PSBTv2"
                )
        tx_version = values[GlobalType.TX_VERSION]
    return _Global(
        version=version,
        global_tx=global_tx,
        tx_version=tx_version,
        fallback_locktime=values.get(GlobalType.FALLBACK_LOCKTIME),
        input_count=values.get(GlobalType.INPUT_COUNT, 0),
        output_count=values.get(GlobalType.OUTPUT_COUNT, 0),
        tx_modifiable=values.get(GlobalType.TX_MODIFIABLE),
        xpubs=tuple(xpubs),
        proprietary=tuple(proprietary),
        unknown=tuple(unknown),
    )


def _unsigned_tx(value: bytes, where: str) -> Tx:
    """BIP174: the unsigned tx is in the serialization without witnesses, with empty scriptSigs.

    Read without witness, a zero input count is a count, so 0-input transactions parse.
    """
    try:
        tx = decode_value(value, Tx.parse_legacy, where)
    except InvalidInput as error:
        if _is_witness_serialization(value):
            raise InvalidInput(
                "psbt.unsigned_tx_witness",
                f"{where}: serialized with witness marker and flag; it must have no witness",
            ) from error
        raise
    for index, txin in enumerate(tx.inputs):
        if txin.script_sig:
            raise InvalidInput(
                "psbt.unsigned_tx_scriptsig",
                f"{where}: input {index} has a non-empty scriptSig; it must be empty",
            )
    return tx


def _is_witness_serialization(value: bytes) -> bool:
    """Whether bytes that failed as a legacy tx read as a segwit one (for a precise error)."""
    try:
        Tx.parse(value)
    except InvalidInput as error:
        # Marker, flag and all-empty witnesses: still the witness format, just an empty one.
        return error.code == "tx.empty_witness"
    return True
