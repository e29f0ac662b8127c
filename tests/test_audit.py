"""cold/audit.py and `psbt audit`: the chain verifies, tampering and truncation are named."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from cold.audit import (
    GENESIS,
    LOG_NAME,
    AuditOutput,
    AuditRecord,
    append_record,
    entry_json,
    read_records,
    signed_spends,
    verify_chain,
)
from cold.policy import sum_last_24h
from psbtbridge.errors import ConfigError

PSBT = Path(sys.executable).parent / "psbt"
T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TXID = "a" * 64

SIGNED = AuditRecord(
    decision="signed",
    reason=None,
    txid=TXID,
    outputs=(
        AuditOutput(
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            bytes.fromhex("0014e8df018c7e326cc253faac7e46cdc51e68542c42"),
            150_000,
            "external",
            22,
        ),
        AuditOutput(None, bytes.fromhex("6a0568656c6c6f"), 0, "op_return", 7),
        AuditOutput("bc1qchange", bytes.fromhex("0014" + "11" * 20), 49_000, "change", 22),
    ),
    fee=1_000,
    fee_rate=7.25,
    caller="electrum-hot",
    sats_leaving=150_000,
)
REFUSED = AuditRecord(
    decision="refused",
    reason="policy.fee_too_high",
    txid="b" * 64,
    outputs=(),
    fee=None,
    fee_rate=None,
    caller="local",
    sats_leaving=0,
)


def write_log(home: Path, count: int) -> Path:
    for i in range(count):
        record = SIGNED if i % 2 == 0 else REFUSED
        append_record(home, record._replace(sats_leaving=record.sats_leaving + i), T0)
    return home / LOG_NAME


def psbt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PSBTBRIDGE_HOME": str(home)}
    return subprocess.run(
        [str(PSBT), *args], env=env, capture_output=True, text=True, check=False, timeout=60
    )


def test_records_round_trip_and_chain(home: Path) -> None:
    append_record(home, SIGNED, T0)
    append_record(home, REFUSED, T0 + timedelta(minutes=5))
    entries = read_records(home)
    assert [e.record for e in entries] == [SIGNED, REFUSED]
    assert [e.line for e in entries] == [1, 2]
    assert entries[0].time == T0 and entries[1].time == T0 + timedelta(minutes=5)
    lines = (home / LOG_NAME).read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert entries[0].prev == GENESIS
    assert entries[1].prev == hashlib.sha256(lines[0]).hexdigest() == entries[0].digest
    assert verify_chain(home / LOG_NAME).head == entries[1].digest
    first = json.loads(lines[0])
    assert list(first) == [
        "version",
        "time",
        "decision",
        "reason",
        "sentence",
        "txid",
        "inputs",
        "outputs",
        "omitted",
        "fee",
        "fee_rate",
        "caller",
        "sats_leaving",
        "leaving",
        "used",
        "prev",
    ]
    assert first["version"] == 2 and first["leaving"] == 151_000
    assert first["time"] == "2024-05-01T12:00:00Z"
    assert first["outputs"][1] == {
        "address": None,
        "script": "6a0568656c6c6f",
        "script_size": 7,
        "script_sha256": None,
        "amount": 0,
        "kind": "op_return",
    }
    assert entry_json(entries[0])["digest"] == entries[0].digest


def test_log_file_is_private(home: Path) -> None:
    append_record(home, SIGNED, T0)
    assert (home / LOG_NAME).stat().st_mode & 0o777 == 0o600


def test_time_is_stored_in_utc(home: Path) -> None:
    local = datetime(2024, 5, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    append_record(home, SIGNED, local)
    assert read_records(home)[0].time == T0
    assert b'"time":"2024-05-01T12:00:00Z"' in (home / LOG_NAME).read_bytes()


def test_untrusted_text_cannot_add_a_line(home: Path) -> None:
    # an address or reason with a newline stays inside one JSON line (or is refused)
    with pytest.raises(ConfigError) as caught:
        append_record(home, SIGNED._replace(caller="evil\n{}"), T0)
    assert caught.value.code == "audit.bad_record"
    assert not (home / LOG_NAME).exists()


@pytest.mark.parametrize(
    "bad",
    [
        SIGNED._replace(sats_leaving=-1),
        SIGNED._replace(fee_rate=float("nan")),
        SIGNED._replace(reason="policy.fee_too_high"),  # a signed record has no reason
        REFUSED._replace(reason=None),
        REFUSED._replace(reason="Not A Code"),
        SIGNED._replace(txid="A" * 64),
        SIGNED._replace(caller=""),
        SIGNED._replace(outputs=(AuditOutput("x y", b"", 1, "external"),)),
        SIGNED._replace(outputs=(AuditOutput(None, b"", 1, "External"),)),
    ],
)
def test_invalid_record_is_refused_before_writing(home: Path, bad: AuditRecord) -> None:
    write_log(home, 2)
    before = (home / LOG_NAME).read_bytes()
    with pytest.raises(ConfigError) as caught:
        append_record(home, bad, T0)
    assert caught.value.code == "audit.bad_record"
    assert (home / LOG_NAME).read_bytes() == before


def test_verify_intact_and_missing(home: Path) -> None:
    assert verify_chain(home / LOG_NAME).intact
    assert verify_chain(home / LOG_NAME).records == 0
    path = write_log(home, 5)
    result = verify_chain(path)
    assert result.intact and result.records == 5


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_tampered_middle_record_is_named(home: Path) -> None:
    path = write_log(home, 5)
    lines = _lines(path)
    tampered = lines[2].replace(b'"sats_leaving":150002', b'"sats_leaving":15')
    assert tampered != lines[2]
    lines[2] = tampered
    _write_lines(path, lines)
    result = verify_chain(path)
    assert not result.intact
    assert result.broken_line == 3 and result.records == 2

    cli = psbt(home, "audit", "verify")
    assert cli.returncode == 4
    assert cli.stdout == ""
    assert "[audit.broken]" in cli.stderr and "line 3" in cli.stderr

    cli = psbt(home, "audit", "verify", "--json")
    assert cli.returncode == 4
    assert json.loads(cli.stdout)["code"] == "audit.broken"

    with pytest.raises(ConfigError) as caught:
        read_records(home)
    assert caught.value.code == "audit.broken" and "line 3" in caught.value.message


def test_removed_first_record_is_named(home: Path) -> None:
    path = write_log(home, 3)
    _write_lines(path, _lines(path)[1:])
    assert verify_chain(path).broken_line == 1


def test_reordered_records_are_named(home: Path) -> None:
    path = write_log(home, 4)
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(path, lines)
    assert verify_chain(path).broken_line == 1  # line 2 now holds line 3's prev


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (lambda obj: obj.pop("fee"), 2),
        (lambda obj: obj.update(extra=1), 2),
        (lambda obj: obj.update(version=3), 2),
        (lambda obj: obj.update(version=1), 2),  # a version 2 record's fields are not v1's
        (lambda obj: obj.update(leaving=5), 2),
        (lambda obj: obj.update(sentence="x" * 1001), 2),
        (lambda obj: obj.update(inputs=[{"outpoint": "ab:0"}]), 2),
        (lambda obj: obj.update(used=[{"wallet": "w", "chain": 2, "index": 0}]), 2),
        (lambda obj: obj.update(version=True), 2),
        (lambda obj: obj.update(decision="maybe"), 2),
        (lambda obj: obj.update(time="2024-13-01T00:00:00Z"), 2),
        (lambda obj: obj.update(time="2024-05-01 12:00:00"), 2),
        (lambda obj: obj.update(fee=-5), 2),
        (lambda obj: obj.update(fee=True), 2),
        (lambda obj: obj.update(fee_rate="7"), 2),
        (lambda obj: obj.update(outputs={}), 2),
        (lambda obj: obj.update(outputs=[{"address": None}]), 2),
        (lambda obj: obj.update(prev="0" * 63), 2),
        (lambda obj: obj.update(prev="f" * 64), 1),  # blames the line it no longer matches
    ],
)
def test_malformed_record_is_named(home: Path, edit: object, line: int) -> None:
    path = write_log(home, 3)
    lines = _lines(path)
    obj = json.loads(lines[1])
    edit(obj)  # type: ignore[operator]
    lines[1] = json.dumps(obj, separators=(",", ":")).encode()
    _write_lines(path, lines)
    assert verify_chain(path).broken_line == line


@pytest.mark.parametrize(
    "garbage",
    [b"not json", b"", b"[1,2]", b'{"a":1,"a":1}', b"\xff\xfe", b'{"fee_rate":NaN}'],
)
def test_bad_json_line_is_named(home: Path, garbage: bytes) -> None:
    path = write_log(home, 3)
    lines = _lines(path)
    lines[1] = garbage
    _write_lines(path, lines)
    result = verify_chain(path)
    assert result.broken_line == 2 and result.problem


def test_truncated_last_line_named_and_append_refuses(home: Path) -> None:
    path = write_log(home, 4)
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    before = path.read_bytes()
    result = verify_chain(path)
    assert result.broken_line == 4 and result.records == 3

    with pytest.raises(ConfigError) as caught:
        append_record(home, SIGNED, T0)
    assert caught.value.code == "audit.broken" and "line 4" in caught.value.message
    assert path.read_bytes() == before

    cli = psbt(home, "audit", "verify")
    assert cli.returncode == 4 and "line 4" in cli.stderr
    assert path.read_bytes() == before


def test_missing_final_newline_refuses(home: Path) -> None:
    path = write_log(home, 2)
    before = path.read_bytes()[:-1]
    path.write_bytes(before)
    with pytest.raises(ConfigError) as caught:
        append_record(home, SIGNED, T0)
    assert caught.value.code == "audit.broken"
    assert path.read_bytes() == before


@pytest.mark.parametrize("count", [1, 2, 3])
def test_append_refuses_when_last_link_is_broken(home: Path, count: int) -> None:
    path = write_log(home, count)
    lines = _lines(path)
    obj = json.loads(lines[-1])
    obj["prev"] = "1" * 64
    lines[-1] = json.dumps(obj, separators=(",", ":")).encode()
    _write_lines(path, lines)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        append_record(home, SIGNED, T0)
    assert caught.value.code == "audit.broken"
    assert path.read_bytes() == before


def test_long_records_cross_the_tail_read_chunks(home: Path) -> None:
    many = tuple(
        AuditOutput(f"bc1q{i:060d}", bytes.fromhex("0014" + "22" * 20), i, "external")
        for i in range(1500)
    )
    big = SIGNED._replace(outputs=many)
    for _ in range(3):
        append_record(home, big, T0)
    append_record(home, SIGNED, T0)
    append_record(home, big, T0)
    assert len(_lines(home / LOG_NAME)[0]) > 64 * 1024
    result = verify_chain(home / LOG_NAME)
    assert result.intact and result.records == 5


def _append_past_the_size_limit(home: str) -> None:
    size = (Path(home) / LOG_NAME).stat().st_size
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a short write instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, resource.RLIM_INFINITY))
    try:
        append_record(Path(home), SIGNED, T0)
    except ConfigError as error:
        os._exit(0 if error.code == "audit.write_failed" else 2)
    os._exit(3)


def test_failed_write_is_taken_back(home: Path) -> None:
    path = write_log(home, 2)
    before = path.read_bytes()
    child = multiprocessing.get_context("fork").Process(
        target=_append_past_the_size_limit, args=(str(home),)
    )
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert path.read_bytes() == before
    append_record(home, SIGNED, T0)
    assert verify_chain(path).records == 3


def _append_many(home: str, worker: int) -> None:
    for i in range(20):
        append_record(Path(home), SIGNED._replace(sats_leaving=worker * 100 + i), T0)


def test_concurrent_appends_keep_the_chain(home: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(home), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    result = verify_chain(home / LOG_NAME)
    assert result.intact and result.records == 80
    leaving = sorted(e.record.sats_leaving for e in read_records(home))
    assert leaving == sorted(w * 100 + i for w in range(4) for i in range(20))


def test_signed_spends_feed_the_24h_limit(home: Path) -> None:
    append_record(home, SIGNED._replace(sats_leaving=1_000), T0 - timedelta(hours=30))
    append_record(home, SIGNED._replace(sats_leaving=2_000), T0 - timedelta(hours=2))
    append_record(home, REFUSED._replace(sats_leaving=50_000), T0 - timedelta(hours=1))
    spends = signed_spends(read_records(home))
    assert len(spends) == 2
    assert sum_last_24h(spends, T0) == 2_000 + 1_000  # what left counts the fee


def test_cli_verify_and_show(home: Path) -> None:
    cli = psbt(home, "audit", "verify")
    assert cli.returncode == 0 and cli.stdout.startswith("no audit log yet")
    assert "intact" not in cli.stdout
    cli = psbt(home, "audit", "verify", "--json")
    assert cli.returncode == 0 and json.loads(cli.stdout)["exists"] is False

    write_log(home, 3)
    cli = psbt(home, "audit", "verify")
    assert cli.returncode == 0 and "audit log intact: 3 records" in cli.stdout
    cli = psbt(home, "audit", "verify", "--json")
    assert cli.returncode == 0
    summary = json.loads(cli.stdout)
    assert summary["intact"] is True and summary["records"] == 3
    assert summary["head"] == verify_chain(home / LOG_NAME).head

    cli = psbt(home, "audit", "show", "--json", "--last", "2")
    assert cli.returncode == 0
    shown = json.loads(cli.stdout)["records"]
    assert [r["line"] for r in shown] == [2, 3]
    assert shown[0]["reason"] == "policy.fee_too_high"

    cli = psbt(home, "audit", "show")
    assert cli.returncode == 0 and len(cli.stdout.splitlines()) == 3
    assert "policy.fee_too_high" in cli.stdout

    cli = psbt(home, "audit", "show", "--last", "0")
    assert cli.returncode == 2
