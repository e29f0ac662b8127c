"""script.py: every template built and recognised in one place; the one push walker."""

from __future__ import annotations

import hashlib

import pytest
from embit import script as embit_script
from embit.ec import PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.script import (
    OP_CODESEPARATOR,
    ScriptEndsInPush,
    ScriptType,
    is_p2pkh,
    is_p2sh,
    is_p2tr,
    is_p2wpkh,
    is_p2wsh,
    last_push,
    multisig,
    multisig_threshold,
    ops,
    p2pkh,
    p2sh,
    p2tr,
    p2wpkh,
    p2wsh,
    parse_multisig,
    push,
    push_size,
    script_type_of,
)

KEYS = [PrivateKey(hashlib.sha256(bytes([i])).digest()).get_public_key() for i in range(3)]
SEC = [k.sec() for k in KEYS]


def test_templates_equal_embits_and_are_recognised() -> None:
    redeem = multisig(2, SEC)
    assert redeem == embit_script.multisig(2, KEYS).data
    built = {
        ScriptType.P2PKH: (p2pkh(SEC[0]), embit_script.p2pkh(KEYS[0]).data, is_p2pkh),
        ScriptType.P2WPKH: (p2wpkh(SEC[0]), embit_script.p2wpkh(KEYS[0]).data, is_p2wpkh),
        ScriptType.P2WSH: (p2wsh(redeem), embit_script.p2wsh(embit_script.Script(redeem)).data, is_p2wsh),
        ScriptType.P2TR: (p2tr(SEC[0]), embit_script.p2tr(KEYS[0]).data, is_p2tr),
        ScriptType.P2SH: (p2sh(redeem), embit_script.p2sh(embit_script.Script(redeem)).data, is_p2sh),
    }  # fmt: skip
    for kind, (ours, theirs, recognise) in built.items():
        assert ours == theirs, kind
        assert recognise(ours), kind
        assert script_type_of(ours) is kind
    assert script_type_of(p2sh(p2wpkh(SEC[0])), p2wpkh(SEC[0])) is ScriptType.P2SH_P2WPKH
    assert script_type_of(p2sh(p2wsh(redeem)), p2wsh(redeem), redeem) is ScriptType.P2SH_P2WSH


def test_multisig_parses_back() -> None:
    script = multisig(2, SEC)
    found = parse_multisig(script)
    assert found is not None and found.threshold == 2 and list(found.pubkeys) == SEC
    assert multisig_threshold(script) == 2
    assert parse_multisig(script[:-1] + b"\xac") is None  # CHECKSIG, not CHECKMULTISIG
    assert parse_multisig(bytes([0x54]) + script[1:]) is None  # 4 of 3
    assert parse_multisig(b"\x51\x02\x00\x00\x51\xae") is None  # a 2-byte "key"
    assert parse_multisig(None) is None


@pytest.mark.parametrize("size", [0, 1, 75, 76, 255, 256, 520])
def test_push_is_minimal_and_walks_back(size: int) -> None:
    data = bytes(range(256)) * 3
    pushed = push(data[:size])
    assert len(pushed) == (1 if size == 0 else push_size(size))
    assert [op.data for op in ops(pushed)] == [data[:size]]
    assert last_push(pushed) == data[:size]


def test_ops_refuses_a_push_past_the_end() -> None:
    with pytest.raises(ScriptEndsInPush):
        list(ops(b"\x4c\x05ab"))
    with pytest.raises(ScriptEndsInPush):
        list(ops(b"\x4d\x01"))
    assert last_push(b"\x4c\x05ab") is None


def test_last_push_of_a_script_that_is_not_push_only() -> None:
    assert last_push(bytes([OP_CODESEPARATOR])) is None
    assert last_push(b"\x51") == b""  # OP_1 pushes a number: no data of its own


@given(st.binary(max_size=200))
def test_ops_spans_cover_the_script(script: bytes) -> None:
    try:
        found = list(ops(script))
    except ScriptEndsInPush:
        return
    assert b"".join(script[op.start : op.end] for op in found) == script
