"""The PSBT global map: version, the transaction's shape (v0's unsigned transaction or v2's
fields, BIP370), extended public keys, decoded from its raw entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.keyencoding import check_xpub
from psbtbridge.psbt.decode import (
    check_field_rules,
    decode_compact,
    decode_fixed,
    decode_key_origin,
    decode_proprietary,
    decode_value,
)
from psbtbridge.psbt.fields import GLOBAL_RULES, GlobalType, GlobalXpub
from psbtbridge.psbt.keymap import Entry, set_entry
from psbtbridge.tx import Tx

SUPPORTED_VERSIONS = (0, 2)


class PsbtGlobal(NamedTuple):
    """The global map: raw entries in wire order, and the typed fields decoded from them.

    `unsigned_tx` is PSBT_GLOBAL_UNSIGNED_TX (v0 only). `tx_version`, `input_count` and
    `output_count` are PSBT_GLOBAL_TX_VERSION/INPUT_COUNT/OUTPUT_COUNT in v2 and the
    unsigned transaction's in v0; `fallback_locktime` and `tx_modifiable` exist in v2 only.
    """

    entries: tuple[Entry, ...]
    version: int
    unsigned_tx: Tx | None
    tx_version: int
    fallback_locktime: int | None
    input_count: int
    output_count: int
    tx_modifiable: int | None
    xpubs: tuple[GlobalXpub, ...]
    proprietary: tuple[Entry, ...]
    unknown: tuple[Entry, ...]

    def with_entry(self, key_type: int, key_data: bytes, value: bytes) -> PsbtGlobal:
        """A new global map with one field set (replaced in place, or appended), validated."""
        return decode_global(set_entry(self.entries, Entry(key_type, key_data, value)))


def decode_global(entries: Iterable[Entry]) -> PsbtGlobal:
    """Validate and decode the global map (the version first: it decides how the rest reads)."""
    entries = tuple(entries)
    version = _version(entries)
    unsigned_tx: Tx | None = None
    tx_version: int | None = None
    fallback_locktime: int | None = None
    input_count: int | None = None
    output_count: int | None = None
    tx_modifiable: int | None = None
    xpubs: list[GlobalXpub] = []
    proprietary: list[Entry] = []
    unknown: list[Entry] = []
    for entry in entries:
        rule = GLOBAL_RULES.get(entry.key_type)
        if rule is None:
            unknown.append(entry)
            continue
        where = check_field_rules(entry, rule, "global map", version)
        match rule.field:
            case GlobalType.UNSIGNED_TX:
                if version != 0:
                    raise InvalidInput(
                        Code.PSBT_UNSIGNED_TX_IN_V2, f"{where}: must be excluded from PSBTv2"
                    )
                unsigned_tx = _unsigned_tx(entry.value, where)
            case GlobalType.XPUB:
                xpub = check_xpub(entry.key_data, where)
                xpubs.append(GlobalXpub(xpub, decode_key_origin(entry.value, where)))
            case GlobalType.TX_VERSION:
                tx_version = decode_fixed(entry.value, "<i", where)
            case GlobalType.FALLBACK_LOCKTIME:
                fallback_locktime = decode_fixed(entry.value, "<I", where)
            case GlobalType.INPUT_COUNT:
                input_count = decode_compact(entry.value, where)
            case GlobalType.OUTPUT_COUNT:
                output_count = decode_compact(entry.value, where)
            case GlobalType.TX_MODIFIABLE:
                tx_modifiable = decode_fixed(entry.value, "<B", where)
            case GlobalType.PROPRIETARY:
                proprietary.append(decode_proprietary(entry, where))
            case GlobalType.VERSION:
                pass  # decoded first, by _version
    if version == 0:
        if unsigned_tx is None:
            raise InvalidInput(
                Code.PSBT_MISSING_UNSIGNED_TX,
                "global map: PSBT_GLOBAL_UNSIGNED_TX is required in a version 0 PSBT",
            )
        tx_version = unsigned_tx.version
        input_count, output_count = len(unsigned_tx.inputs), len(unsigned_tx.outputs)
    else:
        if tx_version is None:
            raise _missing(GlobalType.TX_VERSION)
        if input_count is None:
            raise _missing(GlobalType.INPUT_COUNT)
        if output_count is None:
            raise _missing(GlobalType.OUTPUT_COUNT)
    return PsbtGlobal(
        entries=entries,
        version=version,
        unsigned_tx=unsigned_tx,
        tx_version=tx_version,
        fallback_locktime=fallback_locktime,
        input_count=input_count,
        output_count=output_count,
        tx_modifiable=tx_modifiable,
        xpubs=tuple(xpubs),
        proprietary=tuple(proprietary),
        unknown=tuple(unknown),
    )


def _missing(field: GlobalType) -> InvalidInput:
    return InvalidInput(
        Code.PSBT_MISSING_FIELD, f"global map: {field.bip_name} is required in PSBTv2"
    )


def _version(entries: tuple[Entry, ...]) -> int:
    """PSBT_GLOBAL_VERSION, 0 when absent (BIP174); only 0 and 2 exist."""
    for entry in entries:
        # With key data it is not a valid version field; decode_global says so.
        if entry.key_type == GlobalType.VERSION and not entry.key_data:
            where = "global map: PSBT_GLOBAL_VERSION"
            version = decode_fixed(entry.value, "<I", where)
            if version not in SUPPORTED_VERSIONS:
                raise InvalidInput(
                    Code.PSBT_UNSUPPORTED_VERSION,
                    f"{where}: version {version} is not supported (only 0 and 2 exist)",
                )
            return version
    return 0


def _unsigned_tx(value: bytes, where: str) -> Tx:
    """BIP174: the unsigned tx is in the serialization without witnesses, with empty scriptSigs.

    Read without witness, a zero input count is a count, so 0-input transactions parse.
    """
    try:
        tx = decode_value(value, Tx.parse_legacy, where)
    except InvalidInput as error:
        if _is_witness_serialization(value):
            raise InvalidInput(
                Code.PSBT_UNSIGNED_TX_WITNESS,
                f"{where}: serialized with witness marker and flag; it must have no witness",
            ) from error
        raise
    for index, txin in enumerate(tx.inputs):
        if txin.script_sig:
            raise InvalidInput(
                Code.PSBT_UNSIGNED_TX_SCRIPTSIG,
                f"{where}: input {index} has a non-empty scriptSig; it must be empty",
            )
    return tx


def _is_witness_serialization(value: bytes) -> bool:
    """Whether bytes that failed as a legacy tx read as a segwit one (for a precise error)."""
    try:
        Tx.parse(value)
    except InvalidInput as error:
        # Marker, flag and all-empty witnesses: still the witness format, just an empty one.
        return error.code == Code.TX_EMPTY_WITNESS
    return True
