"""PSBT field types by their BIP names, the rules on where they may appear, and the typed values they decode to.

BIP174 (v0), BIP370 (v2), BIP371 (taproot), BIP373 (MuSig2). The decoders that turn
untrusted key data and values into these types are in `decode.py` (shared by the maps)
and in each map's module (`global_map.py`, `input_map.py`, `output_map.py`).

Plain field values are NamedTuples, as are transactions' parts (tx.py) and map entries
(keymap.py): immutable and hashable like frozen dataclasses, but built in C (a PSBT holds
thousands) and a sixth of the cost to define, which every `psbt` process pays at start-up.
A value that checks itself on construction (bip32.KeyOrigin) does so in its `__new__`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Generic, NamedTuple, TypeVar

from psbtbridge.bip32 import KeyOrigin


class GlobalType(IntEnum):
    UNSIGNED_TX = 0x00
    XPUB = 0x01
    TX_VERSION = 0x02
    FALLBACK_LOCKTIME = 0x03
    INPUT_COUNT = 0x04
    OUTPUT_COUNT = 0x05
    TX_MODIFIABLE = 0x06
    VERSION = 0xFB
    PROPRIETARY = 0xFC

    @property
    def bip_name(self) -> str:
        return f"PSBT_GLOBAL_{self.name}"


class InputType(IntEnum):
    NON_WITNESS_UTXO = 0x00
    WITNESS_UTXO = 0x01
    PARTIAL_SIG = 0x02
    SIGHASH_TYPE = 0x03
    REDEEM_SCRIPT = 0x04
    WITNESS_SCRIPT = 0x05
    BIP32_DERIVATION = 0x06
    FINAL_SCRIPTSIG = 0x07
    FINAL_SCRIPTWITNESS = 0x08
    POR_COMMITMENT = 0x09
    RIPEMD160 = 0x0A
    SHA256 = 0x0B
    HASH160 = 0x0C
    HASH256 = 0x0D
    PREVIOUS_TXID = 0x0E
    OUTPUT_INDEX = 0x0F
    SEQUENCE = 0x10
    REQUIRED_TIME_LOCKTIME = 0x11
    REQUIRED_HEIGHT_LOCKTIME = 0x12
    TAP_KEY_SIG = 0x13
    TAP_SCRIPT_SIG = 0x14
    TAP_LEAF_SCRIPT = 0x15
    TAP_BIP32_DERIVATION = 0x16
    TAP_INTERNAL_KEY = 0x17
    TAP_MERKLE_ROOT = 0x18
    MUSIG2_PARTICIPANT_PUBKEYS = 0x1A
    MUSIG2_PUB_NONCE = 0x1B
    MUSIG2_PARTIAL_SIG = 0x1C
    PROPRIETARY = 0xFC

    @property
    def bip_name(self) -> str:
        return f"PSBT_IN_{self.name}"


class OutputType(IntEnum):
    REDEEM_SCRIPT = 0x00
    WITNESS_SCRIPT = 0x01
    BIP32_DERIVATION = 0x02
    AMOUNT = 0x03
    SCRIPT = 0x04
    TAP_INTERNAL_KEY = 0x05
    TAP_TREE = 0x06
    TAP_BIP32_DERIVATION = 0x07
    MUSIG2_PARTICIPANT_PUBKEYS = 0x08
    PROPRIETARY = 0xFC

    @property
    def bip_name(self) -> str:
        return f"PSBT_OUT_{self.name}"


#: BIP370: fields that must be excluded from a version 0 PSBT.
V2_ONLY_GLOBAL = frozenset(
    {
        GlobalType.TX_VERSION,
        GlobalType.FALLBACK_LOCKTIME,
        GlobalType.INPUT_COUNT,
        GlobalType.OUTPUT_COUNT,
        GlobalType.TX_MODIFIABLE,
    }
)
V2_ONLY_INPUT = frozenset(
    {
        InputType.PREVIOUS_TXID,
        InputType.OUTPUT_INDEX,
        InputType.SEQUENCE,
        InputType.REQUIRED_TIME_LOCKTIME,
        InputType.REQUIRED_HEIGHT_LOCKTIME,
    }
)
V2_ONLY_OUTPUT = frozenset({OutputType.AMOUNT, OutputType.SCRIPT})

#: Types whose key is the type alone: any key data makes the field invalid (BIP174).
NO_KEY_DATA_GLOBAL = frozenset(GlobalType) - {GlobalType.XPUB, GlobalType.PROPRIETARY}
NO_KEY_DATA_INPUT = frozenset(
    {
        InputType.NON_WITNESS_UTXO,
        InputType.WITNESS_UTXO,
        InputType.SIGHASH_TYPE,
        InputType.REDEEM_SCRIPT,
        InputType.WITNESS_SCRIPT,
        InputType.FINAL_SCRIPTSIG,
        InputType.FINAL_SCRIPTWITNESS,
        InputType.POR_COMMITMENT,
        InputType.TAP_KEY_SIG,
        InputType.TAP_INTERNAL_KEY,
        InputType.TAP_MERKLE_ROOT,
    }
    | V2_ONLY_INPUT
)
NO_KEY_DATA_OUTPUT = frozenset(
    {
        OutputType.REDEEM_SCRIPT,
        OutputType.WITNESS_SCRIPT,
        OutputType.AMOUNT,
        OutputType.SCRIPT,
        OutputType.TAP_INTERNAL_KEY,
        OutputType.TAP_TREE,
    }
)


FieldType = TypeVar("FieldType", GlobalType, InputType, OutputType)


class FieldRule(NamedTuple, Generic[FieldType]):
    """A known type with what every field of it must obey, looked up once per entry."""

    field: FieldType
    bip_name: str
    v2_only: bool  # BIP370: excluded from a version 0 PSBT
    no_key_data: bool  # BIP174: the key is the type alone


def _rules(
    types: type[FieldType], v2_only: frozenset[FieldType], no_key_data: frozenset[FieldType]
) -> dict[int, FieldRule[FieldType]]:
    return {int(t): FieldRule(t, t.bip_name, t in v2_only, t in no_key_data) for t in types}


GLOBAL_RULES = _rules(GlobalType, V2_ONLY_GLOBAL, NO_KEY_DATA_GLOBAL)
INPUT_RULES = _rules(InputType, V2_ONLY_INPUT, NO_KEY_DATA_INPUT)
OUTPUT_RULES = _rules(OutputType, V2_ONLY_OUTPUT, NO_KEY_DATA_OUTPUT)


class Bip32Derivation(NamedTuple):
    """PSBT_IN/OUT_BIP32_DERIVATION: a SEC public key and its claimed origin."""

    pubkey: bytes
    origin: KeyOrigin


class TapBip32Derivation(NamedTuple):
    """PSBT_IN/OUT_TAP_BIP32_DERIVATION: an x-only key, the leaves it is used in, its origin."""

    xonly_pubkey: bytes
    leaf_hashes: tuple[bytes, ...]
    origin: KeyOrigin


class GlobalXpub(NamedTuple):
    """PSBT_GLOBAL_XPUB: a 78-byte BIP32 extended public key and its claimed origin."""

    xpub: bytes
    origin: KeyOrigin


class PartialSig(NamedTuple):
    """PSBT_IN_PARTIAL_SIG: an ECDSA signature (DER + sighash byte) by pubkey."""

    pubkey: bytes
    signature: bytes

    @property
    def sighash_type(self) -> int:
        return self.signature[-1]


class TapScriptSig(NamedTuple):
    """PSBT_IN_TAP_SCRIPT_SIG: a Schnorr signature by an x-only key for one leaf."""

    xonly_pubkey: bytes
    leaf_hash: bytes
    signature: bytes


class TapLeafScript(NamedTuple):
    """PSBT_IN_TAP_LEAF_SCRIPT: a leaf script, its leaf version, and the control block proving it."""

    control_block: bytes
    script: bytes
    leaf_version: int


class Preimage(NamedTuple):
    """PSBT_IN_RIPEMD160/SHA256/HASH160/HASH256: a hash and the preimage hashing to it."""

    kind: InputType
    hash: bytes
    preimage: bytes


class MuSig2Participants(NamedTuple):
    """PSBT_IN/OUT_MUSIG2_PARTICIPANT_PUBKEYS: an aggregate key and its participants, in order."""

    aggregate_pubkey: bytes
    participants: tuple[bytes, ...]


class MuSig2PubNonce(NamedTuple):
    """PSBT_IN_MUSIG2_PUB_NONCE: a participant's 66-byte public nonce for an aggregate key."""

    participant_pubkey: bytes
    aggregate_pubkey: bytes
    leaf_hash: bytes | None
    pub_nonce: bytes


class MuSig2PartialSig(NamedTuple):
    """PSBT_IN_MUSIG2_PARTIAL_SIG: a participant's 32-byte partial signature."""

    participant_pubkey: bytes
    aggregate_pubkey: bytes
    leaf_hash: bytes | None
    partial_sig: bytes
