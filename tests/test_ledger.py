"""cold/ledger.py: amounts and spends checked purely; 0.1's ledger.json read, never written.

What the ledger remembers lives in the state index (tests/test_state.py); signing against
it, through the real command line, in tests/test_sign_cli.py and tests/test_state_cli.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cold.ledger import (
    LEDGER_NAME,
    AmountConflict,
    Ledger,
    Remembered,
    Stated,
    check_amounts,
    load,
    outpoint_key,
    outpoint_key_from_internal,
    previous_spends,
)
from psbtbridge.errors import ConfigError, InvalidInput

TX_A = "ab" * 32
TX_B = "cd" * 32
SIGNING_1 = "11" * 32
SIGNING_2 = "22" * 32
A0 = outpoint_key(TX_A, 0)
A1 = outpoint_key(TX_A, 1)
B7 = outpoint_key(TX_B, 7)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def test_outpoint_keys() -> None:
    assert outpoint_key(TX_A, 0) == f"{TX_A}:0"
    assert outpoint_key(TX_A.upper(), 4294967295) == f"{TX_A}:4294967295"
    internal = bytes(range(32))
    assert outpoint_key_from_internal(internal, 3) == f"{internal[::-1].hex()}:3"
    for txid, vout in [("ab" * 31, 0), ("zz" * 32, 0), (TX_A, -1), (TX_A, 2**32)]:
        with pytest.raises(InvalidInput) as caught:
            outpoint_key(txid, vout)
        assert caught.value.code == "ledger.bad_outpoint"


def test_check_amounts() -> None:
    remembered = {A0: Remembered(5_000, True), B7: Remembered(9_000, False)}
    assert check_amounts(remembered, {A0: Stated(5_000, False), A1: Stated(1, False)}) == []
    assert check_amounts(remembered, {A0: Stated(4_000, False)}) == [
        AmountConflict(A0, 5_000, 4_000)
    ]
    assert check_amounts({}, {A0: Stated(1, False)}) == []


def test_a_proof_replaces_a_remembered_claim_but_a_claim_does_not() -> None:
    """0.1 remembered claimed (taproot) amounts: a full previous transaction overrules one,
    another claim does not (issue 11, finding 3)."""
    claimed = {B7: Remembered(100_000, False)}
    assert check_amounts(claimed, {B7: Stated(1_000_000, True)}) == []
    assert check_amounts(claimed, {B7: Stated(90_000, False)}) == [
        AmountConflict(B7, 100_000, 90_000)
    ]


def test_previous_spends() -> None:
    signed = {A0: {SIGNING_1}, A1: {SIGNING_1, SIGNING_2}}
    assert previous_spends({A0: {SIGNING_1}}, SIGNING_1) == []  # the same tx: no warning
    assert previous_spends({A0: {SIGNING_1}}, SIGNING_1.upper()) == []
    assert previous_spends(signed, SIGNING_2) == [(A0, SIGNING_1), (A1, SIGNING_1)]


def test_legacy_ledger_is_read(home: Path) -> None:
    assert load(home) == Ledger()
    stored = {"version": 1, "amounts": {A0: 5_000, B7: 0}, "spent": {A0: SIGNING_1}}
    (home / LEDGER_NAME).write_text(json.dumps(stored))
    ledger = load(home)
    assert dict(ledger.amounts) == {A0: 5_000, B7: 0}
    assert dict(ledger.spent) == {A0: SIGNING_1}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff",
        b"[]",
        b'{"version": 1, "amounts": {}}',
        b'{"version": 2, "amounts": {}, "spent": {}}',
        b'{"version": true, "amounts": {}, "spent": {}}',
        b'{"version": 1, "amounts": [], "spent": {}}',
        b'{"version": 1, "amounts": {}, "spent": {}, "extra": 1}',
        f'{{"version": 1, "amounts": {{"{TX_A}:x": 1}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:01": 1}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:4294967296": 1}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A.upper()}:0": 1}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:0": -1}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:0": 1.0}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:0": true}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{"{TX_A}:0": 2100000000000001}}, "spent": {{}}}}'.encode(),
        f'{{"version": 1, "amounts": {{}}, "spent": {{"{TX_A}:0": "xyz"}}}}'.encode(),
        f'{{"version": 1, "amounts": {{}}, "spent": {{"{TX_A}:0": 5}}}}'.encode(),
        f'{{"version": 1, "amounts": {{}}, "spent": {{"x:0": "{TX_B}"}}}}'.encode(),
    ],
)
def test_corrupt_ledger_is_refused_and_untouched(home: Path, content: bytes) -> None:
    path = home / LEDGER_NAME
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load(home)
    assert caught.value.code == "ledger.corrupt"
    assert path.read_bytes() == content


def test_unreadable_ledger(home: Path) -> None:
    (home / LEDGER_NAME).mkdir()
    with pytest.raises(ConfigError) as caught:
        load(home)
    assert caught.value.code == "ledger.unreadable"
