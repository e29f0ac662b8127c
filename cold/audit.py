"""The audit log: one hash-chained JSON line per signing decision, append-only, in PSBTBRIDGE_HOME.

Each line holds the SHA-256 of the previous line's exact bytes (without its newline; the
first line holds 64 zeros), so editing, removing or reordering a record breaks the chain at
a line `verify_chain` names. The log is never repaired: a broken or cut-off log refuses
further appends until a person has looked at it.

Record schema (version 1), one JSON object per line, ASCII, keys in this order:

    version       1
    time          UTC time of the decision, "YYYY-MM-DDTHH:MM:SSZ"
    decision      "signed" | "declined" (the user said no) | "refused" (proof or policy)
    reason        null when signed, else the error code, e.g. "policy.fee_too_high"
    txid          the unsigned transaction's txid (64 hex, display order), or null
    outputs       [{"address": str|null, "script": hex, "amount": sat, "kind": str}, ...]
                  address is null when the script has no address form; kind is the
                  analysis' class for the output (external, change, op_return, unknown, ...)
    fee           sat, or null when it was never proven
    fee_rate      sat/vB (a number), or null
    caller        the calling qube's name, or "local" for `psbt sign`
    sats_leaving  sat paid to outputs that are neither proven change nor our own
    prev          SHA-256 (hex) of the previous line, or 64 zeros for the first
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, NamedTuple

from psbtbridge.errors import ConfigError
from psbtbridge.files import fsync_folder
from psbtbridge.tx import MAX_MONEY

LOG_NAME: Final = "audit.log"
VERSION: Final = 1
GENESIS: Final = "0" * 64  # the `prev` of the first record

Decision = Literal["signed", "declined", "refused"]
DECISIONS: Final = ("signed", "declined", "refused")

_TAIL_CHUNK: Final = 64 * 1024
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_TIME_TEXT: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_HASH_TEXT: Final = re.compile(r"[0-9a-f]{64}")
_HEX_TEXT: Final = re.compile(r"(?:[0-9a-f]{2})*")
_CODE_TEXT: Final = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")
_KIND_TEXT: Final = re.compile(r"[a-z_]{1,32}")
_NAME_TEXT: Final = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces

_RECORD_KEYS: Final = (
    "version",
    "time",
    "decision",
    "reason",
    "txid",
    "outputs",
    "fee",
    "fee_rate",
    "caller",
    "sats_leaving",
    "prev",
)
_OUTPUT_KEYS: Final = ("address", "script", "amount", "kind")


class AuditOutput(NamedTuple):
    """One output of the transaction as the user was shown it."""

    address: str | None  # None when the script has no address form
    script: bytes  # scriptPubKey
    amount: int  # sat
    kind: str  # the analysis' class: external, change, op_return, unknown, ...


@dataclass(frozen=True)
class AuditRecord:
    """What was decided about one PSBT; `append_record` adds the time and the chain hash."""

    decision: Decision
    reason: str | None  # the error code when declined or refused, None when signed
    txid: str | None  # display-order hex of the unsigned transaction
    outputs: tuple[AuditOutput, ...]
    fee: int | None  # sat
    fee_rate: float | None  # sat/vB
    caller: str  # the calling qube, or "local"
    sats_leaving: int  # sat to outputs that are neither change nor ours


@dataclass(frozen=True)
class AuditEntry:
    """One record as stored: its line number, when it was written and the chain link."""

    line: int
    version: int
    time: datetime
    prev: str  # the previous line's digest
    digest: str  # SHA-256 of this line: the next record's prev
    record: AuditRecord


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a whole log: how many records, and the first broken line."""

    path: Path
    records: int  # records checked and found good (all of them when intact)
    #: Digest of the last record (None when broken). Only a copy kept elsewhere can show
    #: that the newest records were not removed or rewritten: nothing vouches for the last.
    head: str | None = GENESIS
    broken_line: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_line is None


def append_record(home: Path, record: AuditRecord, now: datetime) -> None:
    """Append one record, durably, chained to the last one; refuse if the log's end is broken.

    Only the last two lines are read (from the end of the file), so appending stays cheap
    however long the log grows; `verify_chain` checks the whole chain.
    """
    path = home / LOG_NAME
    _encode(record, now, GENESIS)  # refuse a bad record before touching the file
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = True
        try:
            fd = os.open(
                path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
            )
        except FileExistsError:
            created = False
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    except OSError as error:
        raise ConfigError("audit.unreadable", f"cannot open {path}: {error.strerror}") from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        size = os.fstat(fd).st_size
        prev = _chain_end(path, fd, size)
        data = _encode(record, now, prev) + b"\n"
        try:
            # One write of the whole line: with O_APPEND it lands after every earlier record.
            if os.write(fd, data) != len(data):
                raise OSError(0, "short write")
            os.fsync(fd)
        except OSError as error:
            # Our own half-written line, under our lock: take it back so the log stays whole.
            os.ftruncate(fd, size)
            raise ConfigError(
                "audit.write_failed", f"cannot append to {path}: {error.strerror}"
            ) from error
        if created:
            fsync_folder(home)
    except OSError as error:
        raise ConfigError("audit.write_failed", f"cannot append to {path}: {error}") from error
    finally:
        os.close(fd)


def read_records(home: Path) -> list[AuditEntry]:
    """Every record of the log, oldest first, after checking the whole chain."""
    path = home / LOG_NAME
    try:
        with open(path, "rb") as stream:
            return list(_walk(stream))
    except FileNotFoundError:
        return []
    except OSError as error:
        raise ConfigError("audit.unreadable", f"cannot read {path}: {error.strerror}") from error
    except _Broken as broken:
        raise ConfigError("audit.broken", f"{path} line {broken.line}: {broken.problem}") from None


def verify_chain(path: Path) -> VerifyResult:
    """Check every line of a log: complete, well-formed, and linked to the line before."""
    count, head = 0, GENESIS
    try:
        with open(path, "rb") as stream:
            for entry in _walk(stream):
                count, head = entry.line, entry.digest
    except FileNotFoundError:
        return VerifyResult(path, 0)
    except OSError as error:
        raise ConfigError("audit.unreadable", f"cannot read {path}: {error.strerror}") from error
    except _Broken as broken:
        return VerifyResult(path, broken.line - 1, None, broken.line, broken.problem)
    return VerifyResult(path, count, head)


def signed_spends(entries: Iterable[AuditEntry]) -> list[tuple[datetime, int]]:
    """(time, sats leaving) of every signed record: the input of policy.sum_last_24h."""
    return [
        (entry.time, entry.record.sats_leaving)
        for entry in entries
        if entry.record.decision == "signed"
    ]


def entry_json(entry: AuditEntry) -> dict[str, object]:
    """An entry as its stored JSON object, with its line number and its own digest."""
    return {
        "line": entry.line,
        **_as_json(entry.record, entry.time, entry.prev),
        "digest": entry.digest,
    }


# --- encoding ----------------------------------------------------------------------------


def _as_json(record: AuditRecord, time: datetime, prev: str) -> dict[str, object]:
    return {
        "version": VERSION,
        "time": time.astimezone(UTC).strftime(_TIME_FORMAT),
        "decision": record.decision,
        "reason": record.reason,
        "txid": record.txid,
        "outputs": [
            {"address": o.address, "script": o.script.hex(), "amount": o.amount, "kind": o.kind}
            for o in record.outputs
        ],
        "fee": record.fee,
        "fee_rate": record.fee_rate,
        "caller": record.caller,
        "sats_leaving": record.sats_leaving,
        "prev": prev,
    }


def _encode(record: AuditRecord, now: datetime, prev: str) -> bytes:
    """One log line (no newline), refused unless it reads back as a valid record."""
    try:
        line = json.dumps(
            _as_json(record, now, prev), ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")
        _decode(line, 0)
    except (ValueError, _Broken) as error:
        # A record we could not read back would break the chain for every later signing.
        detail = error.problem if isinstance(error, _Broken) else str(error)
        raise ConfigError(
            "audit.bad_record", f"refusing to log an invalid record: {detail}"
        ) from None
    return line


# --- decoding and walking the chain ------------------------------------------------------


class _Broken(Exception):
    """A line that is not a valid, correctly chained record (internal to this module)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _walk(stream: Iterable[bytes]) -> Iterator[AuditEntry]:
    """Decode and chain-check lines one at a time, so memory stays flat on a long log."""
    prev = GENESIS
    for number, raw in enumerate(stream, start=1):
        if not raw.endswith(b"\n"):
            raise _Broken(number, "the last line is incomplete (a write was cut off)")
        line = raw[:-1]
        entry = _decode(line, number)
        if entry.prev != prev:
            if number == 1:
                raise _Broken(1, "prev is not the genesis hash: records were removed before it")
            # A record is vouched for only by the next one's prev, so blame the earlier line.
            raise _Broken(
                number - 1,
                f"does not hash to the prev stored in line {number}: this record was changed,"
                " or records were removed or inserted after it",
            )
        prev = entry.digest
        yield entry


def _hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _decode(line: bytes, number: int) -> AuditEntry:
    try:
        value = json.loads(
            line.decode("ascii"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise _Broken(number, f"not a JSON record ({error})") from None
    fields = _object(value, _RECORD_KEYS, number, "the record")
    if type(fields["version"]) is not int or fields["version"] != VERSION:
        raise _Broken(number, f"unknown version {fields['version']!r}")
    decision = fields["decision"]
    if decision not in DECISIONS:
        raise _Broken(number, f"unknown decision {decision!r}")
    reason = fields["reason"]
    if decision == "signed":
        if reason is not None:
            raise _Broken(number, "a signed record has a reason")
    elif not (isinstance(reason, str) and _CODE_TEXT.fullmatch(reason)):
        raise _Broken(number, f"a {decision} record needs an error code as reason")
    txid = fields["txid"]
    if txid is not None and not (isinstance(txid, str) and _HASH_TEXT.fullmatch(txid)):
        raise _Broken(number, "txid is not 64 lowercase hex digits")
    if not isinstance(fields["outputs"], list):
        raise _Broken(number, "outputs is not a list")
    outputs = tuple(_output(o, number, i) for i, o in enumerate(fields["outputs"]))
    fee_rate = fields["fee_rate"]
    if fee_rate is not None and not (
        isinstance(fee_rate, int | float)
        and not isinstance(fee_rate, bool)
        and math.isfinite(fee_rate)
        and fee_rate >= 0
    ):
        raise _Broken(number, "fee_rate is not a non-negative number")
    caller = fields["caller"]
    if not (isinstance(caller, str) and _NAME_TEXT.fullmatch(caller)):
        raise _Broken(number, "caller is not a qube name")
    prev = fields["prev"]
    if not (isinstance(prev, str) and _HASH_TEXT.fullmatch(prev)):
        raise _Broken(number, "prev is not 64 lowercase hex digits")
    record = AuditRecord(
        decision=decision,
        reason=reason,
        txid=txid,
        outputs=outputs,
        fee=None if fields["fee"] is None else _sats(fields["fee"], number, "fee"),
        fee_rate=None if fee_rate is None else float(fee_rate),
        caller=caller,
        sats_leaving=_sats(fields["sats_leaving"], number, "sats_leaving"),
    )
    time = _time(fields["time"], number)
    return AuditEntry(number, VERSION, time, prev, _hash(line), record)


def _object(value: object, keys: tuple[str, ...], number: int, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _Broken(number, f"{what} is not a JSON object")
    for key in keys:
        if key not in value:
            raise _Broken(number, f"{what} has no field {key!r}")
    for key in value:
        if key not in keys:
            raise _Broken(number, f"{what} has an unknown field {key!r}")
    return value


def _output(value: object, number: int, index: int) -> AuditOutput:
    what = f"output {index}"
    fields = _object(value, _OUTPUT_KEYS, number, what)
    address, script, kind = fields["address"], fields["script"], fields["kind"]
    if address is not None and not (isinstance(address, str) and _NAME_TEXT.fullmatch(address)):
        raise _Broken(number, f"{what}: address is not printable text without spaces")
    if not (isinstance(script, str) and _HEX_TEXT.fullmatch(script)):
        raise _Broken(number, f"{what}: script is not lowercase hex")
    if not (isinstance(kind, str) and _KIND_TEXT.fullmatch(kind)):
        raise _Broken(number, f"{what}: kind is not a lowercase word")
    amount = _sats(fields["amount"], number, f"{what}: amount")
    return AuditOutput(address, bytes.fromhex(script), amount, kind)


def _sats(value: object, number: int, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_MONEY:
        raise _Broken(number, f"{what} is not an amount in sat")
    return value


def _time(value: object, number: int) -> datetime:
    if not (isinstance(value, str) and _TIME_TEXT.fullmatch(value)):
        raise _Broken(number, "time is not a UTC time like 2024-01-31T12:00:00Z")
    try:
        # The pattern fixed the shape; fromisoformat (which reads the Z) checks the date
        # and is ~50x faster than strptime: unattended signing reads every record.
        return datetime.fromisoformat(value)
    except ValueError:
        raise _Broken(number, f"time {value} is not a real date") from None


# --- the end of the chain, read from the end of the file ---------------------------------


def _chain_end(path: Path, fd: int, size: int) -> str:
    """The hash a new record must carry as prev, after checking the last two lines."""
    if size == 0:
        return GENESIS
    tail = _read_tail(fd, size)
    try:
        if not tail.endswith(b"\n"):
            raise _Broken(0, "the last line is incomplete (a write was cut off)")
        lines = tail[:-1].split(b"\n")
        last = _decode(lines[-1], 0)
        # one line only means the tail reaches the file's start: that line is the first
        expected = _hash(lines[-2]) if len(lines) >= 2 else GENESIS
        if last.prev != expected:
            raise _Broken(0, "the last record's prev does not match the line before it")
    except _Broken as broken:
        # Name the exact line (a full read, but only on this path): the user must go and look.
        found = verify_chain(path)
        where = f"line {found.broken_line}: {found.problem}" if not found.intact else broken.problem
        raise ConfigError(
            "audit.broken",
            f"{path} {where}; refusing to append to a broken log:"
            " inspect it with `psbt audit verify`, then move it aside",
        ) from None
    return last.digest


def _read_tail(fd: int, size: int) -> bytes:
    """The file's end from a line start: its last two lines, or all of it if shorter."""
    start = size
    tail = b""
    # three newlines: the end of the last line, and the starts of the last two
    while start > 0 and tail.count(b"\n") < 3:
        step = min(_TAIL_CHUNK, start)
        start -= step
        tail = os.pread(fd, step, start) + tail
    if start > 0:
        tail = tail[tail.index(b"\n") + 1 :]  # drop the partial line before the last two
    return tail
