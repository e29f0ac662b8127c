"""cold/ledger.py: amounts seen and outpoints signed, checked purely, stored atomically."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from cold.ledger import (
    LEDGER_NAME,
    AmountConflict,
    Ledger,
    check_amounts,
    load,
    outpoint_key,
    outpoint_key_from_internal,
    previous_spends,
    record,
    save,
    update,
)
from psbtbridge.errors import ConfigError, InvalidInput, Refused

TX_A = "ab" * 32
TX_B = "cd" * 32
SIGNING_1 = "11" * 32
SIGNING_2 = "22" * 32
A0 = outpoint_key(TX_A, 0)
A1 = outpoint_key(TX_A, 1)
B7 = outpoint_key(TX_B, 7)


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
    ledger = record(Ledger(), {A0: 5_000, B7: 9_000}, [], SIGNING_1)
    assert check_amounts(ledger, {A0: 5_000, A1: 1, B7: 9_000}) == []
    assert check_amounts(ledger, {A0: 4_000, B7: 9_000}) == [AmountConflict(A0, 5_000, 4_000)]
    assert check_amounts(Ledger(), {A0: 1}) == []


def test_previous_spends() -> None:
    ledger = record(Ledger(), {}, [A0, A1], SIGNING_1)
    assert previous_spends(ledger, [A0, B7], SIGNING_1) == []  # the same tx again: no warning
    assert previous_spends(ledger, [A0, B7], SIGNING_1.upper()) == []
    assert previous_spends(ledger, [A0, B7], SIGNING_2) == [(A0, SIGNING_1)]


def test_record_returns_a_new_value() -> None:
    empty = Ledger()
    first = record(empty, {A0: 5_000}, [A0], SIGNING_1)
    assert empty == Ledger() and dict(empty.amounts) == {}
    second = record(first, {B7: 1}, [A0, B7], SIGNING_2.upper())
    assert dict(first.spent) == {A0: SIGNING_1}
    assert dict(second.amounts) == {A0: 5_000, B7: 1}
    assert dict(second.spent) == {A0: SIGNING_2, B7: SIGNING_2}
    with pytest.raises(TypeError):
        second.amounts[A1] = 3  # type: ignore[index]


def test_record_refuses_a_changed_amount() -> None:
    ledger = record(Ledger(), {A0: 5_000}, [], SIGNING_1)
    with pytest.raises(Refused) as caught:
        record(ledger, {A0: 4_999}, [A0], SIGNING_2)
    assert caught.value.code == "proof.amount_changed"
    with pytest.raises(InvalidInput):
        record(ledger, {}, [A0], "not a txid")


def test_save_load_round_trip(home: Path) -> None:
    assert load(home) == Ledger()
    ledger = record(Ledger(), {A0: 5_000, B7: 0}, [A0], SIGNING_1)
    save(home, ledger)
    assert load(home) == ledger
    stored = json.loads((home / LEDGER_NAME).read_text())
    assert stored == {
        "version": 1,
        "amounts": {A0: 5_000, B7: 0},
        "spent": {A0: SIGNING_1},
    }
    assert (home / LEDGER_NAME).stat().st_mode & 0o777 == 0o600


def test_update_merges_with_what_is_stored(home: Path) -> None:
    update(home, {A0: 5_000}, [A0], SIGNING_1)
    update(home, {B7: 10}, [B7], SIGNING_2)
    ledger = load(home)
    assert dict(ledger.amounts) == {A0: 5_000, B7: 10}
    assert dict(ledger.spent) == {A0: SIGNING_1, B7: SIGNING_2}
    before = (home / LEDGER_NAME).read_bytes()
    with pytest.raises(Refused):
        update(home, {A0: 1}, [A0], SIGNING_2)
    assert (home / LEDGER_NAME).read_bytes() == before


def _update_many(home: str, worker: int) -> None:
    for i in range(10):
        update(Path(home), {outpoint_key(TX_A, worker * 100 + i): i}, [], SIGNING_1)


def test_concurrent_updates_lose_nothing(home: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_update_many, args=(str(home), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(load(home).amounts) == 40


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
    with pytest.raises(ConfigError):
        update(home, {A0: 1}, [A0], SIGNING_1)
    assert path.read_bytes() == content


def test_unreadable_ledger(home: Path) -> None:
    (home / LEDGER_NAME).mkdir()
    with pytest.raises(ConfigError) as caught:
        load(home)
    assert caught.value.code == "ledger.unreadable"
