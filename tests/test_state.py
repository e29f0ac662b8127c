"""cold/state.py: the index is derived from the audit log, and rebuilt whenever it does not
match it (missing, damaged, tampered with, or behind after a kill)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cold import audit, state
from cold.audit import AuditInput, AuditRecord, UsedIndex
from cold.ledger import LEDGER_NAME, OutPointKey, Remembered
from psbtbridge.errors import ConfigError

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TXID = "ab" * 32
COIN = OutPointKey("cd" * 32 + ":1")
OTHER = OutPointKey("ef" * 32 + ":0")


def signed(
    txid: str = TXID, leaving: int = 10_000, fee: int = 1_000, inputs: tuple[AuditInput, ...] = ()
) -> AuditRecord:
    return AuditRecord(
        "signed",
        None,
        txid,
        (),
        fee,
        1.0,
        "local",
        leaving,
        inputs=inputs,
        used=(UsedIndex("p2wpkh", 1, 7),),
    )


def snapshot(home: Path) -> tuple[object, ...]:
    """Everything the index holds, for comparing two builds."""
    with sqlite3.connect(home / state.STATE_NAME) as db:
        return tuple(
            sorted(db.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("meta", "amounts", "spends", "leaving", "used")
        )


def fresh_build(home: Path) -> tuple[object, ...]:
    (home / state.STATE_NAME).unlink()
    with state.locked(home):
        pass
    return snapshot(home)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def busy(home: Path) -> Path:
    """A home with a few records: a proven coin signed, a refusal, a declaration."""
    with state.locked(home) as held:
        held.record(signed(inputs=(AuditInput(COIN, 50_000, True, True),)), T0)
        refusal = AuditRecord(
            "refused", "policy.fee_too_high", "11" * 32, (), None, None, "local", 0, "too much"
        )
        held.record(refusal, T0)
        declared = AuditRecord(
            "declared", None, None, (), None, None, "local", 0, used=(UsedIndex("p2wpkh", 0, 90),)
        )
        held.record(declared, T0)
    return home


def test_the_index_answers_from_the_log(busy: Path) -> None:
    with state.locked(busy) as held:
        assert held.records == 3
        assert held.amounts([COIN, OTHER]) == {COIN: Remembered(50_000, True)}
        assert held.signed_into([COIN, OTHER]) == {COIN: {TXID}}
        assert held.left_since(T0 - timedelta(hours=24)) == 11_000
        assert held.left_since(T0) == 0
        assert held.known_indexes() == {("p2wpkh", 1): 7, ("p2wpkh", 0): 90}


def test_records_dated_in_the_future_still_count(home: Path) -> None:
    """Setting the clock back must not reopen the daily limit."""
    with state.locked(home) as held:
        held.record(signed(), T0 + timedelta(days=30))
        assert held.left_since(T0 - timedelta(hours=24)) == 11_000


def test_a_deleted_index_is_rebuilt_the_same(busy: Path) -> None:
    before = snapshot(busy)
    assert fresh_build(busy) == before


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE meta SET value = '00' WHERE key = 'head'",
        "UPDATE meta SET value = 1 WHERE key = 'size'",
        "DELETE FROM meta",
        "DROP TABLE amounts",
        "UPDATE meta SET value = 99 WHERE key = 'schema'",
    ],
)
def test_a_tampered_index_is_rebuilt(busy: Path, tamper: str) -> None:
    before = snapshot(busy)
    with sqlite3.connect(busy / state.STATE_NAME) as db:
        db.execute(tamper)
    with state.locked(busy) as held:
        assert held.amounts([COIN]) == {COIN: Remembered(50_000, True)}
    assert snapshot(busy) == before


def test_a_damaged_index_file_is_rebuilt(busy: Path) -> None:
    before = snapshot(busy)
    (busy / state.STATE_NAME).write_bytes(b"not a database" * 100)
    with state.locked(busy):
        pass
    assert snapshot(busy) == before


def test_records_the_index_missed_are_read_from_the_log(busy: Path) -> None:
    """A signing killed between its log record and its index update: the next one reads
    only what is missing (and ends with what a full build gives)."""
    audit.append_record(busy, signed(txid="99" * 32, leaving=5_000), T0)
    with state.locked(busy) as held:
        assert held.records == 4
        assert held.left_since(T0 - timedelta(hours=24)) == 17_000
    assert snapshot(busy) == fresh_build(busy)


def test_a_log_that_no_longer_contains_the_index_rebuilds_it(busy: Path) -> None:
    """A log moved aside (after `psbt audit verify` found it broken) starts a new index."""
    (busy / audit.LOG_NAME).rename(busy / "audit.log.broken")
    with state.locked(busy) as held:
        assert held.records == 0 and held.left_since(T0 - timedelta(days=1)) == 0


def test_a_broken_log_refuses(busy: Path) -> None:
    lines = (busy / audit.LOG_NAME).read_bytes().split(b"\n")
    record = json.loads(lines[0])
    record["fee"] = 1
    lines[0] = json.dumps(record, separators=(",", ":")).encode()
    (busy / audit.LOG_NAME).write_bytes(b"\n".join(lines))
    (busy / state.STATE_NAME).unlink()
    with pytest.raises(ConfigError) as caught, state.locked(busy):
        pass
    assert caught.value.code == "audit.broken"


def test_a_proof_replaces_a_legacy_claim(home: Path) -> None:
    """0.1's ledger.json is folded into every build; its amounts are claims that a proof
    replaces (issue 11, finding 3: 0.1 remembered claimed taproot amounts)."""
    legacy = {"version": 1, "amounts": {COIN: 100_000}, "spent": {OTHER: TXID}}
    (home / LEDGER_NAME).write_text(json.dumps(legacy))
    with state.locked(home) as held:
        assert held.amounts([COIN]) == {COIN: Remembered(100_000, False)}
        assert held.signed_into([OTHER]) == {OTHER: {TXID}}
        held.record(signed("77" * 32, inputs=(AuditInput(COIN, 1_000_000, True, True),)), T0)
        assert held.amounts([COIN]) == {COIN: Remembered(1_000_000, True)}
    assert (home / LEDGER_NAME).read_text() == json.dumps(legacy)  # read, never written
    with state.locked(home) as held:
        assert held.amounts([COIN]) == {COIN: Remembered(1_000_000, True)}


def test_only_signed_records_teach_the_index(home: Path) -> None:
    refusal = AuditRecord(
        "refused",
        "policy.over_daily_limit",
        TXID,
        (),
        1_000,
        1.0,
        "local",
        99_000,
        "limit",
        (AuditInput(COIN, 5, True, True),),
        (UsedIndex("p2wpkh", 1, 500),),
    )
    with state.locked(home) as held:
        held.record(refusal, T0)
        assert held.amounts([COIN]) == {} and held.signed_into([COIN]) == {}
        assert held.known_indexes() == {} and held.left_since(T0 - timedelta(days=1)) == 0


def test_the_index_is_private(busy: Path) -> None:
    assert (busy / state.STATE_NAME).stat().st_mode & 0o777 == 0o600


def test_version_1_records_still_verify_and_count(home: Path) -> None:
    """A 0.1 log: its signed records count towards the daily limit with payments plus fee."""
    prev = audit.GENESIS
    lines = []
    for sats, decision in ((40_000, "signed"), (7, "refused")):
        record = {
            "version": 1,
            "time": "2030-01-01T11:00:00Z",
            "decision": decision,
            "reason": None if decision == "signed" else "policy.fee_too_high",
            "txid": TXID,
            "outputs": [{"address": None, "script": "6a00", "amount": 0, "kind": "op_return"}],
            "fee": 500,
            "fee_rate": 2.5,
            "caller": "local",
            "sats_leaving": sats,
            "prev": prev,
        }
        line = json.dumps(record, separators=(",", ":")).encode()
        prev = audit.line_digest(line)
        lines.append(line + b"\n")
    (home / audit.LOG_NAME).write_bytes(b"".join(lines))
    assert audit.verify_chain(home / audit.LOG_NAME).intact
    with state.locked(home) as held:
        assert held.left_since(T0 - timedelta(hours=24)) == 40_500
        held.record(signed(), T0)  # a version 2 record chains onto them
    entries = audit.read_records(home)
    assert [e.version for e in entries] == [1, 1, 2]
