"""psbt/fields.py: type numbers as the BIPs assign them, version and key-data rules, value helpers."""

from __future__ import annotations

from psbtbridge.psbt.fields import (
    GLOBAL_RULES,
    INPUT_RULES,
    NO_KEY_DATA_GLOBAL,
    NO_KEY_DATA_INPUT,
    NO_KEY_DATA_OUTPUT,
    OUTPUT_RULES,
    V2_ONLY_GLOBAL,
    V2_ONLY_INPUT,
    V2_ONLY_OUTPUT,
    GlobalType,
    InputType,
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


def test_rules_cover_every_known_type_with_its_bip_name_and_rules() -> None:
    assert set(GLOBAL_RULES) == {int(t) for t in GlobalType}
    assert set(INPUT_RULES) == {int(t) for t in InputType}
    assert set(OUTPUT_RULES) == {int(t) for t in OutputType}
    for in_type in InputType:
        in_rule = INPUT_RULES[in_type]
        assert in_rule.field is in_type and in_rule.bip_name == f"PSBT_IN_{in_type.name}"
        assert in_rule.v2_only == (in_type in V2_ONLY_INPUT)
        assert in_rule.no_key_data == (in_type in NO_KEY_DATA_INPUT)
    for out_type in OutputType:
        out_rule = OUTPUT_RULES[out_type]
        assert out_rule.field is out_type and out_rule.bip_name == f"PSBT_OUT_{out_type.name}"
        assert out_rule.v2_only == (out_type in V2_ONLY_OUTPUT)
        assert out_rule.no_key_data == (out_type in NO_KEY_DATA_OUTPUT)
    for global_type in GlobalType:
        rule = GLOBAL_RULES[global_type]
        assert rule.field is global_type and rule.bip_name == f"PSBT_GLOBAL_{global_type.name}"
        assert rule.v2_only == (global_type in V2_ONLY_GLOBAL)
        assert rule.no_key_data == (global_type in NO_KEY_DATA_GLOBAL)


def test_value_helpers() -> None:
    assert PartialSig(b"k", b"\x30sig\x83").sighash_type == 0x83
