"""The PSBT input map: its typed fields (BIP174, BIP370, BIP371, BIP373), decoded from its
raw entries, and the edits a signer and a finalizer make to it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, NamedTuple

from psbtbridge.compact import Readable, compact_size, read_compact_size, read_var_bytes
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.hashes import hash160, hash256, ripemd160, sha256
from psbtbridge.keyencoding import (
    check_compressed_pubkey,
    check_ecdsa_signature,
    check_pubkey,
    check_schnorr_signature,
    check_xonly_pubkey,
)
from psbtbridge.psbt.decode import (
    check_field_rules,
    decode_bip32,
    decode_exact,
    decode_fixed,
    decode_musig2_participants,
    decode_proprietary,
    decode_tap_bip32,
    decode_value,
    expect_key_data_length,
    expect_length,
)
from psbtbridge.psbt.fields import (
    INPUT_RULES,
    Bip32Derivation,
    InputType,
    MuSig2PartialSig,
    MuSig2Participants,
    MuSig2PubNonce,
    PartialSig,
    Preimage,
    TapBip32Derivation,
    TapLeafScript,
    TapScriptSig,
)
from psbtbridge.psbt.keymap import Entry, serialize_map, set_entry
from psbtbridge.taproot import TAPROOT_LEAF_MASK, check_control_block
from psbtbridge.tx import OutPoint, PreviousTx, TxIn, TxOut

SEQUENCE_FINAL = 0xFFFFFFFF
#: nLockTime values below this are block heights, at or above it Unix times.
LOCKTIME_THRESHOLD = 500_000_000


class PsbtInput(NamedTuple):
    """One input map: raw entries in wire order, and the typed fields decoded from them.

    `prevout` and `sequence` are the input's place in the transaction: from the global
    unsigned transaction in v0, from PSBT_IN_PREVIOUS_TXID/OUTPUT_INDEX/SEQUENCE in v2
    (a missing PSBT_IN_SEQUENCE means 0xffffffff). `unknown` holds entries of unknown type,
    `proprietary` the PSBT_IN_PROPRIETARY ones; both are written back unchanged.
    """

    # A NamedTuple field named `index` hides tuple.index(), which mypy flags. Here and in
    # the other records with one (output maps, analysis, wallet addresses) the name stays:
    # it is the BIPs' word (input index, BIP32 child index), and no caller searches a record.
    index: int  # type: ignore[assignment]
    psbt_version: int
    entries: tuple[Entry, ...]
    prevout: OutPoint
    sequence: int
    non_witness_utxo: PreviousTx | None
    witness_utxo: TxOut | None
    partial_sigs: tuple[PartialSig, ...]
    sighash_type: int | None
    redeem_script: bytes | None
    witness_script: bytes | None
    bip32_derivations: tuple[Bip32Derivation, ...]
    final_scriptsig: bytes | None
    final_scriptwitness: tuple[bytes, ...] | None
    por_commitment: str | None
    preimages: tuple[Preimage, ...]
    required_time_locktime: int | None
    required_height_locktime: int | None
    tap_key_sig: bytes | None
    tap_script_sigs: tuple[TapScriptSig, ...]
    tap_leaf_scripts: tuple[TapLeafScript, ...]
    tap_bip32_derivations: tuple[TapBip32Derivation, ...]
    tap_internal_key: bytes | None
    tap_merkle_root: bytes | None
    musig2_participant_pubkeys: tuple[MuSig2Participants, ...]
    musig2_pub_nonces: tuple[MuSig2PubNonce, ...]
    musig2_partial_sigs: tuple[MuSig2PartialSig, ...]
    proprietary: tuple[Entry, ...]
    unknown: tuple[Entry, ...]

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
        entries = set_entry(self.entries, new)
        if key_type in _SELF_CONTAINED and len(entries) > len(self.entries):
            # A new signature relates to no other field: decode it alone rather than the
            # whole map again, whose previous transaction would be re-parsed per signature.
            rule = INPUT_RULES[key_type]
            where = check_field_rules(new, rule, f"input {self.index}", self.psbt_version)
            match rule.field:
                case InputType.PARTIAL_SIG:
                    partial_sigs = (*self.partial_sigs, _partial_sig(new, where))
                    return self._replace(entries=entries, partial_sigs=partial_sigs)
                case InputType.TAP_KEY_SIG:
                    tap_key_sig = check_schnorr_signature(value, where)
                    return self._replace(entries=entries, tap_key_sig=tap_key_sig)
                case InputType.TAP_SCRIPT_SIG:
                    tap_script_sigs = (*self.tap_script_sigs, _tap_script_sig(new, where))
                    return self._replace(entries=entries, tap_script_sigs=tap_script_sigs)
        return decode_input(entries, self.index, self.psbt_version, self._tx_input())

    def with_partial_sig(self, pubkey: bytes, signature: bytes) -> PsbtInput:
        """Add (or replace) the ECDSA signature (DER + sighash byte) of a SEC public key."""
        return self.with_entry(InputType.PARTIAL_SIG, pubkey, signature)

    def with_tap_key_sig(self, signature: bytes) -> PsbtInput:
        """Set the BIP340 key-path signature (64 bytes, or 65 with a sighash byte)."""
        return self.with_entry(InputType.TAP_KEY_SIG, b"", signature)

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
        return decode_input(kept, self.index, self.psbt_version, self._tx_input())

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
    rule = INPUT_RULES.get(key_type)
    return (
        rule is None
        or rule.v2_only
        or rule.field in (InputType.NON_WITNESS_UTXO, InputType.WITNESS_UTXO, InputType.PROPRIETARY)
    )


def decode_input(
    entries: tuple[Entry, ...], index: int, version: int, tx_input: TxIn | None
) -> PsbtInput:
    """Validate and decode one input map; v0 passes the unsigned transaction's input, v2 None."""
    place = f"input {index}"
    non_witness_utxo: PreviousTx | None = None
    witness_utxo: TxOut | None = None
    partial_sigs: list[PartialSig] = []
    sighash_type: int | None = None
    redeem_script: bytes | None = None
    witness_script: bytes | None = None
    bip32_derivations: list[Bip32Derivation] = []
    final_scriptsig: bytes | None = None
    final_scriptwitness: tuple[bytes, ...] | None = None
    por_commitment: str | None = None
    preimages: list[Preimage] = []
    previous_txid: bytes | None = None
    output_index: int | None = None
    sequence: int | None = None
    required_time_locktime: int | None = None
    required_height_locktime: int | None = None
    tap_key_sig: bytes | None = None
    tap_script_sigs: list[TapScriptSig] = []
    tap_leaf_scripts: list[TapLeafScript] = []
    tap_bip32_derivations: list[TapBip32Derivation] = []
    tap_internal_key: bytes | None = None
    tap_merkle_root: bytes | None = None
    musig2_participant_pubkeys: list[MuSig2Participants] = []
    musig2_pub_nonces: list[MuSig2PubNonce] = []
    musig2_partial_sigs: list[MuSig2PartialSig] = []
    proprietary: list[Entry] = []
    unknown: list[Entry] = []
    for entry in entries:
        rule = INPUT_RULES.get(entry.key_type)
        if rule is None:
            unknown.append(entry)
            continue
        where = check_field_rules(entry, rule, place, version)
        value = entry.value
        # Cases in the order the fields are common: each one tried costs a lookup.
        match rule.field:
            case InputType.NON_WITNESS_UTXO:
                non_witness_utxo = decode_value(value, PreviousTx.parse, where)
            case InputType.WITNESS_UTXO:
                witness_utxo = decode_value(value, TxOut.parse, where)
            case InputType.BIP32_DERIVATION:
                bip32_derivations.append(decode_bip32(entry, where))
            case InputType.PARTIAL_SIG:
                partial_sigs.append(_partial_sig(entry, where))
            case InputType.TAP_BIP32_DERIVATION:
                tap_bip32_derivations.append(decode_tap_bip32(entry, where))
            case InputType.TAP_INTERNAL_KEY:
                tap_internal_key = check_xonly_pubkey(value, where)
            case InputType.SIGHASH_TYPE:
                sighash_type = decode_fixed(value, "<I", where)
            case InputType.REDEEM_SCRIPT:
                redeem_script = value
            case InputType.WITNESS_SCRIPT:
                witness_script = value
            case InputType.TAP_KEY_SIG:
                tap_key_sig = check_schnorr_signature(value, where)
            case InputType.FINAL_SCRIPTWITNESS:
                final_scriptwitness = decode_exact(value, read_witness_stack, where)
            case InputType.FINAL_SCRIPTSIG:
                final_scriptsig = value
            case InputType.PREVIOUS_TXID:
                previous_txid = expect_length(value, 32, where)
            case InputType.OUTPUT_INDEX:
                output_index = decode_fixed(value, "<I", where)
            case InputType.SEQUENCE:
                sequence = decode_fixed(value, "<I", where)
            case InputType.POR_COMMITMENT:
                por_commitment = _por_commitment(value, where)
            case InputType.RIPEMD160 | InputType.SHA256 | InputType.HASH160 | InputType.HASH256:
                preimages.append(_preimage(entry, rule.field, where))
            case InputType.REQUIRED_TIME_LOCKTIME:
                required_time_locktime = required_locktime(value, where, time=True)
            case InputType.REQUIRED_HEIGHT_LOCKTIME:
                required_height_locktime = required_locktime(value, where, time=False)
            case InputType.TAP_SCRIPT_SIG:
                tap_script_sigs.append(_tap_script_sig(entry, where))
            case InputType.TAP_LEAF_SCRIPT:
                tap_leaf_scripts.append(_tap_leaf_script(entry, where))
            case InputType.TAP_MERKLE_ROOT:
                tap_merkle_root = expect_length(value, 32, where)
            case InputType.MUSIG2_PARTICIPANT_PUBKEYS:
                musig2_participant_pubkeys.append(decode_musig2_participants(entry, where))
            case InputType.MUSIG2_PUB_NONCE:
                participant, aggregate, leaf_hash = _musig2_key(entry, where)
                nonce = expect_length(value, 66, where)
                musig2_pub_nonces.append(MuSig2PubNonce(participant, aggregate, leaf_hash, nonce))
            case InputType.MUSIG2_PARTIAL_SIG:
                participant, aggregate, leaf_hash = _musig2_key(entry, where)
                partial = expect_length(value, 32, where)
                musig2_partial_sigs.append(
                    MuSig2PartialSig(participant, aggregate, leaf_hash, partial)
                )
            case InputType.PROPRIETARY:
                proprietary.append(decode_proprietary(entry, where))
    if tx_input is not None:
        prevout, sequence = tx_input.prevout, tx_input.sequence
    else:
        if previous_txid is None or output_index is None:
            missing = InputType.PREVIOUS_TXID if previous_txid is None else InputType.OUTPUT_INDEX
            raise InvalidInput(
                Code.PSBT_MISSING_FIELD, f"{place}: {missing.bip_name} is required in PSBTv2"
            )
        prevout = OutPoint(previous_txid, output_index)
        if sequence is None:
            sequence = SEQUENCE_FINAL  # BIP370: an omitted sequence is final; 0 stays 0
    if non_witness_utxo is not None:
        _check_non_witness_utxo(non_witness_utxo, prevout, place)
        if witness_utxo is not None and witness_utxo != non_witness_utxo.outputs[prevout.vout]:
            raise InvalidInput(
                Code.PSBT_WITNESS_UTXO_MISMATCH,
                f"{place}: PSBT_IN_WITNESS_UTXO differs from output {prevout.vout} of"
                " PSBT_IN_NON_WITNESS_UTXO",
            )
    return PsbtInput(
        index=index,
        psbt_version=version,
        entries=entries,
        prevout=prevout,
        sequence=sequence,
        non_witness_utxo=non_witness_utxo,
        witness_utxo=witness_utxo,
        partial_sigs=tuple(partial_sigs),
        sighash_type=sighash_type,
        redeem_script=redeem_script,
        witness_script=witness_script,
        bip32_derivations=tuple(bip32_derivations),
        final_scriptsig=final_scriptsig,
        final_scriptwitness=final_scriptwitness,
        por_commitment=por_commitment,
        preimages=tuple(preimages),
        required_time_locktime=required_time_locktime,
        required_height_locktime=required_height_locktime,
        tap_key_sig=tap_key_sig,
        tap_script_sigs=tuple(tap_script_sigs),
        tap_leaf_scripts=tuple(tap_leaf_scripts),
        tap_bip32_derivations=tuple(tap_bip32_derivations),
        tap_internal_key=tap_internal_key,
        tap_merkle_root=tap_merkle_root,
        musig2_participant_pubkeys=tuple(musig2_participant_pubkeys),
        musig2_pub_nonces=tuple(musig2_pub_nonces),
        musig2_partial_sigs=tuple(musig2_partial_sigs),
        proprietary=tuple(proprietary),
        unknown=tuple(unknown),
    )


def _check_non_witness_utxo(previous: PreviousTx, prevout: OutPoint, place: str) -> None:
    """The full previous transaction must be the one the prevout names, and have that output."""
    txid = previous.txid()
    if txid != prevout.txid:
        raise InvalidInput(
            Code.PSBT_NON_WITNESS_UTXO_TXID,
            f"{place}: PSBT_IN_NON_WITNESS_UTXO has txid {txid[::-1].hex()}, but the input"
            f" spends {prevout.txid[::-1].hex()}",
        )
    if prevout.vout >= len(previous.outputs):
        raise InvalidInput(
            Code.PSBT_NON_WITNESS_UTXO_INDEX,
            f"{place}: PSBT_IN_NON_WITNESS_UTXO has {len(previous.outputs)} outputs, but the"
            f" input spends output {prevout.vout}",
        )


def read_witness_stack(stream: Readable) -> tuple[bytes, ...]:
    count = read_compact_size(stream, "witness item count")
    return tuple(read_var_bytes(stream, "witness item") for _ in range(count))


def required_locktime(untrusted_value: bytes, where: str, *, time: bool) -> int:
    """BIP370: a required time lock is >= 500000000, a required height lock in 1..499999999."""
    locktime = decode_fixed(untrusted_value, "<I", where)
    valid = locktime >= LOCKTIME_THRESHOLD if time else 0 < locktime < LOCKTIME_THRESHOLD
    if not valid:
        kind = "time (>= 500000000)" if time else "block height (1 to 499999999)"
        raise InvalidInput(Code.PSBT_BAD_LOCKTIME, f"{where}: {locktime} is not a {kind}")
    return locktime


def _partial_sig(entry: Entry, where: str) -> PartialSig:
    """BIP174: key data a SEC public key, the value a DER signature and a sighash byte."""
    return PartialSig(
        check_pubkey(entry.key_data, where), check_ecdsa_signature(entry.value, where)
    )


_PREIMAGE_HASHES: Final = {
    InputType.RIPEMD160: ripemd160,
    InputType.SHA256: sha256,
    InputType.HASH160: hash160,
    InputType.HASH256: hash256,
}


def _preimage(entry: Entry, kind: InputType, where: str) -> Preimage:
    """BIP174: the key data is a hash, the value its preimage, which must hash to it."""
    digest = _PREIMAGE_HASHES[kind]
    expected = expect_key_data_length(entry, (len(digest(b"")),), where)
    if digest(entry.value) != expected:
        raise InvalidInput(
            Code.PSBT_BAD_PREIMAGE, f"{where}: the preimage does not hash to the key"
        )
    return Preimage(kind, expected, entry.value)


def _por_commitment(untrusted_value: bytes, where: str) -> str:
    try:
        return untrusted_value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(Code.PSBT_BAD_VALUE, f"{where}: not UTF-8 text") from error


def _tap_script_sig(entry: Entry, where: str) -> TapScriptSig:
    """BIP371: key data is an x-only key and a leaf hash; the value a Schnorr signature."""
    key_data = expect_key_data_length(entry, (64,), where)
    return TapScriptSig(
        check_xonly_pubkey(key_data[:32], where),
        key_data[32:],
        check_schnorr_signature(entry.value, where),
    )


def _tap_leaf_script(entry: Entry, where: str) -> TapLeafScript:
    """BIP371: key data is a control block, the value a script followed by its leaf version."""
    control_block = check_control_block(entry.key_data, where)
    if not entry.value:
        raise InvalidInput(Code.PSBT_BAD_VALUE_LENGTH, f"{where}: value has no leaf version byte")
    leaf_version = entry.value[-1]
    if leaf_version != control_block[0] & TAPROOT_LEAF_MASK:
        raise InvalidInput(
            Code.PSBT_BAD_LEAF_VERSION,
            f"{where}: leaf version 0x{leaf_version:02x} differs from the control block's"
            f" 0x{control_block[0] & TAPROOT_LEAF_MASK:02x}",
        )
    return TapLeafScript(control_block, entry.value[:-1], leaf_version)


def _musig2_key(entry: Entry, where: str) -> tuple[bytes, bytes, bytes | None]:
    """BIP373 nonce and partial signature keys: participant, aggregate, optional leaf hash."""
    key_data = expect_key_data_length(entry, (66, 98), where)
    participant = check_compressed_pubkey(key_data[:33], f"{where} participant key")
    aggregate = check_compressed_pubkey(key_data[33:66], f"{where} aggregate key")
    return participant, aggregate, key_data[66:] or None
