"""psbt_fields.py: type numbers as the BIPs assign them, version and key-data rules, value helpers."""

from __future__ import annotations

from psbtbridge.psbt_fields import (
    NO_KEY_DATA_GLOBAL,
    V2_ONLY_GLOBAL,
    V2_ONLY_INPUT,
    V2_ONLY_OUTPUT,
    GlobalType,
    InputType,
    KeyOrigin,
    OutputType,
    PartialSig,
)


def test_type_numbers_follow_the_bips() -> None:
    assert (GlobalType.UNSIGNED_TX, GlobalType.XPUB, GlobalType.VERSION) == (0x00, 0x01, 0xFB)
    assert (InputType.PREVIOUS_TXID, InputType.REQUIRED_HEIGHT_LOCKTIME) == (0x0E, 0x12)  # 370
    assert (InputType.TAP_KEY_SIG, InputType.TAP_MERKLE_ROOT) == (0x13, 0x18)  # BIP371
    assert (InputType.MUSIG2_PARTICIPANT_PUBKEYS, InputType.MUSIG2_PARTIAL_SIG) == (0x1A, 0x1C)
    assert (OutputType.TAP_TREE, OutputType.MUSIG2_PARTICIPANT_PUBKEYS) == (0x06, 0x08)
    assert InputType.PROPRIETARY == OutputType.PROPRIETARY == GlobalType.PROPRIETARY == 0xFC
    assert InputType.TAP_LEAF_SCRIPT.bip_name == "PSBT_IN_TAP_LEAF_SCRIPT"
    assert GlobalType.TX_MODIFIABLE.bip_name == "PSBT_GLOBAL_TX_MODIFIABLE"
    assert OutputType.AMOUNT.bip_name == "PSBT_OUT_AMOUNT"


def test_bip370_version_rules() -> None:
    assert len(V2_ONLY_GLOBAL) == 5 and GlobalType.UNSIGNED_TX not in V2_ONLY_GLOBAL
    assert {InputType(t) for t in range(0x0E, 0x13)} == V2_ONLY_INPUT
    assert {OutputType.AMOUNT, OutputType.SCRIPT} == V2_ONLY_OUTPUT
    assert GlobalType.XPUB not in NO_KEY_DATA_GLOBAL


def test_value_helpers() -> None:
    assert KeyOrigin(b"abcd", (0x80000054, 0x80000000, 0, 5)).derivation == "m/84h/0h/0/5"
    assert KeyOrigin(b"abcd", ()).derivation == "m"
    assert PartialSig(b"k", b"\x30sig\x83").sighash_type == 0x83
