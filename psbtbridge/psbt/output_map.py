"""The PSBT output map: its typed fields (BIP174, BIP370, BIP371, BIP373), decoded from its raw entries."""

from __future__ import annotations

from typing import NamedTuple

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.keyencoding import check_xonly_pubkey
from psbtbridge.psbt.decode import (
    check_field_rules,
    decode_bip32,
    decode_fixed,
    decode_musig2_participants,
    decode_proprietary,
    decode_tap_bip32,
)
from psbtbridge.psbt.fields import (
    OUTPUT_RULES,
    Bip32Derivation,
    MuSig2Participants,
    OutputType,
    TapBip32Derivation,
)
from psbtbridge.psbt.keymap import Entry, serialize_map, set_entry
from psbtbridge.taproot import TapLeaf, parse_tap_tree
from psbtbridge.tx import TxOut


class PsbtOutput(NamedTuple):
    """One output map: raw entries in wire order, and the typed fields decoded from them.

    `amount` and `script_pubkey` come from the global unsigned transaction in v0 and from
    PSBT_OUT_AMOUNT/PSBT_OUT_SCRIPT in v2.
    """

    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput
    psbt_version: int
    entries: tuple[Entry, ...]
    amount: int
    script_pubkey: bytes
    redeem_script: bytes | None
    witness_script: bytes | None
    bip32_derivations: tuple[Bip32Derivation, ...]
    tap_internal_key: bytes | None
    tap_tree: tuple[TapLeaf, ...] | None
    tap_bip32_derivations: tuple[TapBip32Derivation, ...]
    musig2_participant_pubkeys: tuple[MuSig2Participants, ...]
    proprietary: tuple[Entry, ...]
    unknown: tuple[Entry, ...]

    @property
    def txout(self) -> TxOut:
        return TxOut(self.amount, self.script_pubkey)

    def with_entry(self, key_type: int, key_data: bytes, value: bytes) -> PsbtOutput:
        """A new output with one field set (replaced in place, or appended), validated."""
        tx_output = self.txout if self.psbt_version == 0 else None
        return decode_output(
            set_entry(self.entries, Entry(key_type, key_data, value)),
            self.index,
            self.psbt_version,
            tx_output,
        )

    def serialize(self) -> bytes:
        return serialize_map(self.entries)


def decode_output(
    entries: tuple[Entry, ...], index: int, version: int, tx_output: TxOut | None
) -> PsbtOutput:
    """Validate and decode one output map; v0 passes the unsigned transaction's output, v2 None."""
    place = f"output {index}"
    redeem_script: bytes | None = None
    witness_script: bytes | None = None
    bip32_derivations: list[Bip32Derivation] = []
    amount: int | None = None
    script: bytes | None = None
    tap_internal_key: bytes | None = None
    tap_tree: tuple[TapLeaf, ...] | None = None
    tap_bip32_derivations: list[TapBip32Derivation] = []
    musig2_participant_pubkeys: list[MuSig2Participants] = []
    proprietary: list[Entry] = []
    unknown: list[Entry] = []
    for entry in entries:
        rule = OUTPUT_RULES.get(entry.key_type)
        if rule is None:
            unknown.append(entry)
            continue
        where = check_field_rules(entry, rule, place, version)
        match rule.field:
            case OutputType.REDEEM_SCRIPT:
                redeem_script = entry.value
            case OutputType.WITNESS_SCRIPT:
                witness_script = entry.value
            case OutputType.BIP32_DERIVATION:
                bip32_derivations.append(decode_bip32(entry, where))
            case OutputType.AMOUNT:
                # The signed wire value: refusing a negative amount is policy's job.
                amount = decode_fixed(entry.value, "<q", where)
            case OutputType.SCRIPT:
                script = entry.value
            case OutputType.TAP_INTERNAL_KEY:
                tap_internal_key = check_xonly_pubkey(entry.value, where)
            case OutputType.TAP_TREE:
                tap_tree = parse_tap_tree(entry.value, where)
            case OutputType.TAP_BIP32_DERIVATION:
                tap_bip32_derivations.append(decode_tap_bip32(entry, where))
            case OutputType.MUSIG2_PARTICIPANT_PUBKEYS:
                musig2_participant_pubkeys.append(decode_musig2_participants(entry, where))
            case OutputType.PROPRIETARY:
                proprietary.append(decode_proprietary(entry, where))
    if tx_output is not None:
        amount, script = tx_output.value, tx_output.script_pubkey
    elif amount is None or script is None:
        missing = OutputType.AMOUNT if amount is None else OutputType.SCRIPT
        raise InvalidInput(
            Code.PSBT_MISSING_FIELD, f"{place}: {missing.bip_name} is required in PSBTv2"
        )
    return PsbtOutput(
        index=index,
        psbt_version=version,
        entries=entries,
        amount=amount,
        script_pubkey=script,
        redeem_script=redeem_script,
        witness_script=witness_script,
        bip32_derivations=tuple(bip32_derivations),
        tap_internal_key=tap_internal_key,
        tap_tree=tap_tree,
        tap_bip32_derivations=tuple(tap_bip32_derivations),
        musig2_participant_pubkeys=tuple(musig2_participant_pubkeys),
        proprietary=tuple(proprietary),
        unknown=tuple(unknown),
    )
