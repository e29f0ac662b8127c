"""The audit log: one hash-chained JSON line per signing decision, append-only, in PSBTBRIDGE_HOME.

The log is the cold side's source of truth: the ledger, the highest indexes known per
wallet and the unattended budget are an index derived from it (cold/state.py). Each line
holds the SHA-256 of the previous line's exact bytes (without its newline; the first line
holds 64 zeros), so editing, removing or reordering a record breaks the chain at a line
`verify_chain` names. The log is never repaired: a broken or cut-off log refuses further
appends until a person has looked at it.

Record schema, version 2 (written now), one JSON object per line, ASCII, keys in this order:

    version       2
    time          UTC time of the decision, "YYYY-MM-DDTHH:MM:SSZ"
    decision      "signed" | "declined" (the user said no) | "refused" (proof or policy)
                  | "declared" (`psbt audit used`: how far a wallet has been used)
    reason        null when signed or declared, else the error code, e.g. "policy.fee_too_high"
    sentence      null when signed, else the full sentence (at most 1,000 characters): the
                  limits and figures the caller is never told
    txid          the unsigned transaction's txid (64 hex, display order), or null
    inputs        [{"outpoint": "TXID:VOUT", "amount": sat|null, "proven": bool,
                  "ours": bool}, ...]; proven: a full previous transaction gave the amount
    outputs       [{"address": str|null, "script": hex, "script_size": bytes,
                  "script_sha256": hex|null, "amount": sat, "kind": str}, ...]
                  script holds at most the first 100 bytes; script_sha256 names a longer one.
                  A signed BIP-322 message proof has one output of kind "message_proof": the
                  address it signs for, 0 sat; its inputs are shown, not spent (cold/state.py)
    omitted       inputs and outputs left out to bound the record (at most 3,000 of each kept)
    fee           sat, or null when it was never proven
    fee_rate      sat/vB (a number), or null
    caller        the calling qube's name, or "local" for `psbt sign`
    sats_leaving  sat paid to outputs that are not proven ours (payments, transfers included)
    leaving       sats_leaving plus the fee: what counts towards the unattended daily limit
    used          [{"wallet": name, "chain": 0|1, "index": n}, ...]: the highest position of
                  each wallet and chain this signing touched (inputs and our outputs), or
                  that a declaration names
    prev          SHA-256 (hex) of the previous line, or 64 zeros for the first

Version 1 records (psbtbridge 0.1: no sentence, inputs, omitted, leaving or used; scripts
whole, no script_size or script_sha256) still verify, and count towards the daily limit
with sats_leaving plus fee. A line is at most 2 MiB.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, NamedTuple

from psbtbridge.errors import BridgeError, Code, ConfigError, Declined
from psbtbridge.files import fsync_folder, load_json
from psbtbridge.tx import MAX_MONEY

LOG_NAME: Final = "audit.log"
VERSION: Final = 2
VERSIONS: Final = (1, 2)
GENESIS: Final = "0" * 64  # the `prev` of the first record
#: A line's cap: a refused flood must not grow the log by megabytes per request (finding 6).
MAX_RECORD_SIZE: Final = 2 * 1024 * 1024
MAX_SENTENCE: Final = 1000  # characters of a refusal's sentence kept
MAX_SCRIPT_SHOWN: Final = 100  # bytes of an output script kept; longer ones add their hash
MAX_LISTED: Final = 3000  # inputs, and outputs, kept in one record (400,000 WU fit ~2,400)

Decision = Literal["signed", "declined", "refused", "declared"]
#: The output kind of a signed BIP-322 message proof's record (see the schema above).
PROOF_KIND: Final = "message_proof"
DECISIONS: Final = ("signed", "declined", "refused", "declared")

_TAIL_CHUNK: Final = 64 * 1024
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_TIME_TEXT: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_HASH_TEXT: Final = re.compile(r"[0-9a-f]{64}")
_HEX_TEXT: Final = re.compile(r"(?:[0-9a-f]{2})*")
_CODE_TEXT: Final = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)+")
_KIND_TEXT: Final = re.compile(r"[a-z_]{1,32}")
_NAME_TEXT: Final = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces
_OUTPOINT_TEXT: Final = re.compile(r"[0-9a-f]{64}:(?:0|[1-9][0-9]{0,9})")
_MAX_INDEX: Final = 0x7FFFFFFF  # non-hardened BIP32 indexes

_V1_KEYS: Final = (
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
_V2_KEYS: Final = (
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
)
_V1_OUTPUT_KEYS: Final = ("address", "script", "amount", "kind")
_V2_OUTPUT_KEYS: Final = ("address", "script", "script_size", "script_sha256", "amount", "kind")
_INPUT_KEYS: Final = ("outpoint", "amount", "proven", "ours")
_USED_KEYS: Final = ("wallet", "chain", "index")


class AuditOutput(NamedTuple):
    """One output of the transaction as the user was shown it."""

    address: str | None  # None when the script has no address form
    script: bytes  # scriptPubKey, or its first MAX_SCRIPT_SHOWN bytes when read back
    amount: int  # sat
    kind: str  # the analysis' class: external, change, self, transfer, op_return, unknown
    script_size: int | None = None  # the whole script's size (None: len(script))
    script_sha256: str | None = None  # set when script holds only a prefix


class AuditInput(NamedTuple):
    """One input: the coin it spends, its amount, and whether that amount was proven."""

    outpoint: str  # "TXID:VOUT", TXID in display order
    amount: int | None  # sat; None when the PSBT gives no UTXO
    proven: bool  # a full previous transaction hashing to the outpoint gave the amount
    ours: bool  # re-derived from a registered wallet: we signed it


class UsedIndex(NamedTuple):
    """A wallet's chain (0 receive, 1 change) used up to index."""

    wallet: str
    chain: int
    highest: int  # that index: "index" in the log, but as a field it would shadow tuple.index


class AuditRecord(NamedTuple):
    """What was decided about one PSBT; `append_record` adds the time and the chain hash."""

    decision: Decision
    reason: str | None  # the error code when declined or refused, None when signed
    txid: str | None  # display-order hex of the unsigned transaction
    outputs: tuple[AuditOutput, ...]
    fee: int | None  # sat
    fee_rate: float | None  # sat/vB
    caller: str  # the calling qube, or "local"
    sats_leaving: int  # sat to outputs that are not proven ours
    sentence: str | None = None  # the full refusal sentence (version 2)
    inputs: tuple[AuditInput, ...] = ()
    used: tuple[UsedIndex, ...] = ()
    omitted: int = 0

    @property
    def is_proof(self) -> bool:
        """A BIP-322 message proof: signed, yet none of its inputs can be spent by it."""
        return any(o.kind == PROOF_KIND for o in self.outputs)

    @property
    def left(self) -> int:
        """Sat that left our wallets, fee included: what the daily limit counts (stored as
        `leaving` in version 2; version 1 records give the same sum)."""
        return self.sats_leaving + (self.fee or 0)


def decision_for(error: BridgeError | None) -> Decision:
    """What a request's record says was decided: signed (no error), declined (the user or
    a timeout said no), or refused."""
    if error is None:
        return "signed"
    return "declined" if isinstance(error, Declined) else "refused"


class AuditEntry(NamedTuple):
    """One record as stored: its line number, when it was written and the chain link."""

    line: int
    version: int
    time: datetime
    prev: str  # the previous line's digest
    digest: str  # SHA-256 of this line: the next record's prev
    record: AuditRecord


class VerifyResult(NamedTuple):
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


class Appended(NamedTuple):
    """Where a record landed: the new head of the chain and the log's size after it."""

    entry: AuditEntry
    size: int  # bytes of the log up to and including this record's newline


def bounded_output(address: str | None, script: bytes, amount: int, kind: str) -> AuditOutput:
    """An output as logged: a long script (an OP_RETURN flood) keeps a prefix and its hash."""
    if len(script) <= MAX_SCRIPT_SHOWN:
        return AuditOutput(address, script, amount, kind, len(script), None)
    digest = hashlib.sha256(script).hexdigest()
    return AuditOutput(address, script[:MAX_SCRIPT_SHOWN], amount, kind, len(script), digest)


def bounded_sentence(sentence: str) -> str:
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 3] + "..."


def append_record(home: Path, record: AuditRecord, now: datetime) -> Appended:
    """Append one record, durably, chained to the last one; refuse if the log's end is broken.

    Only the last two lines are read (from the end of the file), so appending stays cheap
    however long the log grows; `verify_chain` checks the whole chain.
    """
    path = home / LOG_NAME
    try:
        created = False
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            _encode(record, now, GENESIS)  # a bad record must not create an empty log
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
                fd = os.open(path, flags, 0o600)
                created = True
            except FileExistsError:  # another signing made it first
                fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
    except OSError as error:
        raise ConfigError(Code.AUDIT_UNREADABLE, f"cannot open {path}: {error.strerror}") from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released by close
        size = os.fstat(fd).st_size
        prev, line_number = _chain_end(path, fd, size)
        line, entry = _encode(record, now, prev)
        data = line + b"\n"
        try:
            # One write of the whole line: with O_APPEND it lands after every earlier record.
            if os.write(fd, data) != len(data):
                raise OSError(0, "short write")
            os.fsync(fd)
        except OSError as error:
            # Our own half-written line, under our lock: take it back so the log stays whole.
            os.ftruncate(fd, size)
            raise ConfigError(
                Code.AUDIT_WRITE_FAILED, f"cannot append to {path}: {error.strerror}"
            ) from error
        if created:
            fsync_folder(home)
    except OSError as error:
        raise ConfigError(Code.AUDIT_WRITE_FAILED, f"cannot append to {path}: {error}") from error
    finally:
        os.close(fd)
    return Appended(entry._replace(line=line_number + 1), size + len(data))


def read_records(home: Path) -> list[AuditEntry]:
    """Every record of the log, oldest first, after checking the whole chain."""
    return list(walk_log(home / LOG_NAME))


def walk_log(
    path: Path, start: int = 0, prev: str = GENESIS, line: int = 0
) -> Iterator[AuditEntry]:
    """The records from byte offset start (a line start whose previous digest is prev, after
    `line` lines), checking the chain as it goes; one line in memory at a time."""
    try:
        with open(path, "rb") as stream:
            stream.seek(start)
            yield from _walk(stream, prev, line)
    except FileNotFoundError:
        return
    except OSError as error:
        raise ConfigError(Code.AUDIT_UNREADABLE, f"cannot read {path}: {error.strerror}") from error
    except _Broken as broken:
        raise ConfigError(
            Code.AUDIT_BROKEN, f"{path} line {broken.line}: {broken.problem}"
        ) from None


def verify_chain(path: Path) -> VerifyResult:
    """Check every line of a log: complete, well-formed, and linked to the line before."""
    count, head = 0, GENESIS
    try:
        with open(path, "rb") as stream:
            for entry in _walk(stream, GENESIS, 0):
                count, head = entry.line, entry.digest
    except FileNotFoundError:
        return VerifyResult(path, 0)
    except OSError as error:
        raise ConfigError(Code.AUDIT_UNREADABLE, f"cannot read {path}: {error.strerror}") from error
    except _Broken as broken:
        return VerifyResult(path, broken.line - 1, None, broken.line, broken.problem)
    return VerifyResult(path, count, head)


def line_digest(line: bytes) -> str:
    """The chain hash of one line (without its newline)."""
    return hashlib.sha256(line).hexdigest()


def signed_spends(entries: Iterable[AuditEntry]) -> list[tuple[datetime, int]]:
    """(time, sats leaving, fee included) of every signed record: what the daily limit counts."""
    return [
        (entry.time, entry.record.left) for entry in entries if entry.record.decision == "signed"
    ]


def entry_json(entry: AuditEntry) -> dict[str, object]:
    """An entry as its stored JSON object, with its line number and its own digest."""
    return {
        "line": entry.line,
        **_as_json(entry.record, entry.time, entry.prev, entry.version),
        "digest": entry.digest,
    }


# --- encoding ----------------------------------------------------------------------------


def _as_json(record: AuditRecord, time: datetime, prev: str, version: int) -> dict[str, object]:
    when = time.astimezone(UTC).strftime(_TIME_FORMAT)
    if version == 1:
        return {
            "version": 1,
            "time": when,
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
    inputs, outputs = record.inputs[:MAX_LISTED], record.outputs[:MAX_LISTED]
    omitted = record.omitted + len(record.inputs) - len(inputs)
    omitted += len(record.outputs) - len(outputs)
    shown = [
        o if o.script_size is not None else bounded_output(o.address, o.script, o.amount, o.kind)
        for o in outputs
    ]
    return {
        "version": 2,
        "time": when,
        "decision": record.decision,
        "reason": record.reason,
        "sentence": None if record.sentence is None else bounded_sentence(record.sentence),
        "txid": record.txid,
        "inputs": [
            {"outpoint": i.outpoint, "amount": i.amount, "proven": i.proven, "ours": i.ours}
            for i in inputs
        ],
        "outputs": [
            {
                "address": o.address,
                "script": o.script.hex(),
                "script_size": o.script_size,
                "script_sha256": o.script_sha256,
                "amount": o.amount,
                "kind": o.kind,
            }
            for o in shown
        ],
        "omitted": omitted,
        "fee": record.fee,
        "fee_rate": record.fee_rate,
        "caller": record.caller,
        "sats_leaving": record.sats_leaving,
        "leaving": record.left,
        "used": [{"wallet": u.wallet, "chain": u.chain, "index": u.highest} for u in record.used],
        "prev": prev,
    }


def _encode(record: AuditRecord, now: datetime, prev: str) -> tuple[bytes, AuditEntry]:
    """One log line (no newline) and the record it reads back as; refused unless it does."""
    try:
        line = json.dumps(
            _as_json(record, now, prev, VERSION),
            ensure_ascii=True,
            allow_nan=False,
            separators=(",", ":"),
        ).encode("ascii")
        if len(line) > MAX_RECORD_SIZE:
            raise ValueError(f"the record is {len(line)} bytes, over {MAX_RECORD_SIZE}")
        entry = _decode(line, 0)
    except (ValueError, _Broken) as error:
        # A record we could not read back would break the chain for every later signing.
        detail = error.problem if isinstance(error, _Broken) else str(error)
        raise ConfigError(
            Code.AUDIT_BAD_RECORD, f"refusing to log an invalid record: {detail}"
        ) from None
    return line, entry


# --- decoding and walking the chain ------------------------------------------------------


class _Broken(Exception):
    """A line that is not a valid, correctly chained record (internal to this module)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def _walk(stream: Iterable[bytes], prev: str, start_line: int) -> Iterator[AuditEntry]:
    """Decode and chain-check lines one at a time, so memory stays flat on a long log."""
    for number, raw in enumerate(stream, start=start_line + 1):
        if not raw.endswith(b"\n"):
            raise _Broken(number, "the last line is incomplete (a write was cut off)")
        if len(raw) > MAX_RECORD_SIZE + 1:
            raise _Broken(number, f"the line is longer than {MAX_RECORD_SIZE} bytes")
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


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _decode(line: bytes, number: int) -> AuditEntry:
    value = load_json(
        line,
        lambda why: _Broken(number, f"not a JSON record: {why}"),
        cap=MAX_RECORD_SIZE,
        encoding="ascii",
        object_pairs_hook=_no_duplicates,
        parse_constant=_no_constant,
    )
    if not isinstance(value, dict):
        raise _Broken(number, "the record is not a JSON object")
    version = value.get("version")
    if type(version) is not int or version not in VERSIONS:
        raise _Broken(number, f"unknown version {version!r}")
    fields = _object(value, _V1_KEYS if version == 1 else _V2_KEYS, number, "the record")
    decision = fields["decision"]
    if decision not in DECISIONS or (version == 1 and decision == "declared"):
        raise _Broken(number, f"unknown decision {decision!r}")
    reason = fields["reason"]
    if decision in ("signed", "declared"):
        if reason is not None:
            raise _Broken(number, f"a {decision} record has a reason")
    elif not (isinstance(reason, str) and _CODE_TEXT.fullmatch(reason)):
        raise _Broken(number, f"a {decision} record needs an error code as reason")
    txid = fields["txid"]
    if txid is not None and not (isinstance(txid, str) and _HASH_TEXT.fullmatch(txid)):
        raise _Broken(number, "txid is not 64 lowercase hex digits")
    if not isinstance(fields["outputs"], list):
        raise _Broken(number, "outputs is not a list")
    outputs = tuple(_output(o, number, i, version) for i, o in enumerate(fields["outputs"]))
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
    fee = None if fields["fee"] is None else _sats(fields["fee"], number, "fee")
    sats_leaving = _sats(fields["sats_leaving"], number, "sats_leaving")
    record = AuditRecord(
        decision=decision,
        reason=reason,
        txid=txid,
        outputs=outputs,
        fee=fee,
        fee_rate=None if fee_rate is None else float(fee_rate),
        caller=caller,
        sats_leaving=sats_leaving,
    )
    if version == 2:
        record = _version_2(record, fields, number)
    time = _time(fields["time"], number)
    return AuditEntry(number, version, time, prev, line_digest(line), record)


def _version_2(record: AuditRecord, fields: dict[str, object], number: int) -> AuditRecord:
    sentence = fields["sentence"]
    if record.decision == "signed":
        if sentence is not None:
            raise _Broken(number, "a signed record has a sentence")
    elif sentence is not None and not (isinstance(sentence, str) and len(sentence) <= MAX_SENTENCE):
        raise _Broken(number, f"sentence is not text of at most {MAX_SENTENCE} characters")
    if not isinstance(fields["inputs"], list) or not isinstance(fields["used"], list):
        raise _Broken(number, "inputs and used must be lists")
    inputs = tuple(_input(i, number, n) for n, i in enumerate(fields["inputs"]))
    used = tuple(_used(u, number, n) for n, u in enumerate(fields["used"]))
    omitted = fields["omitted"]
    if type(omitted) is not int or omitted < 0:
        raise _Broken(number, "omitted is not a count")
    if _sats(fields["leaving"], number, "leaving") != record.left:
        raise _Broken(number, "leaving is not sats_leaving plus the fee")
    return AuditRecord(
        record.decision,
        record.reason,
        record.txid,
        record.outputs,
        record.fee,
        record.fee_rate,
        record.caller,
        record.sats_leaving,
        sentence if isinstance(sentence, str) else None,
        inputs,
        used,
        omitted,
    )


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


def _output(value: object, number: int, index: int, version: int) -> AuditOutput:
    what = f"output {index}"
    fields = _object(value, _V1_OUTPUT_KEYS if version == 1 else _V2_OUTPUT_KEYS, number, what)
    address, script, kind = fields["address"], fields["script"], fields["kind"]
    if address is not None and not (isinstance(address, str) and _NAME_TEXT.fullmatch(address)):
        raise _Broken(number, f"{what}: address is not printable text without spaces")
    if not (isinstance(script, str) and _HEX_TEXT.fullmatch(script)):
        raise _Broken(number, f"{what}: script is not lowercase hex")
    if not (isinstance(kind, str) and _KIND_TEXT.fullmatch(kind)):
        raise _Broken(number, f"{what}: kind is not a lowercase word")
    amount = _sats(fields["amount"], number, f"{what}: amount")
    shown = bytes.fromhex(script)
    if version == 1:
        return AuditOutput(address, shown, amount, kind)
    size, digest = fields["script_size"], fields["script_sha256"]
    if type(size) is not int or size < len(shown):
        raise _Broken(number, f"{what}: script_size is not the script's size")
    whole = size == len(shown) and len(shown) <= MAX_SCRIPT_SHOWN
    if whole and digest is not None:
        raise _Broken(number, f"{what}: a whole script needs no script_sha256")
    if not whole and not (
        len(shown) == MAX_SCRIPT_SHOWN and isinstance(digest, str) and _HASH_TEXT.fullmatch(digest)
    ):
        raise _Broken(number, f"{what}: a long script needs its 100-byte prefix and its sha256")
    return AuditOutput(
        address, shown, amount, kind, size, digest if isinstance(digest, str) else None
    )


def _input(value: object, number: int, index: int) -> AuditInput:
    what = f"input {index}"
    fields = _object(value, _INPUT_KEYS, number, what)
    outpoint, proven, ours = fields["outpoint"], fields["proven"], fields["ours"]
    if not (isinstance(outpoint, str) and _OUTPOINT_TEXT.fullmatch(outpoint)):
        raise _Broken(number, f"{what}: outpoint is not TXID:VOUT")
    if int(outpoint.rpartition(":")[2]) > 0xFFFFFFFF:
        raise _Broken(number, f"{what}: vout is out of range")
    if type(proven) is not bool or type(ours) is not bool:
        raise _Broken(number, f"{what}: proven and ours must be true or false")
    amount = fields["amount"]
    if amount is not None:
        amount = _sats(amount, number, f"{what}: amount")
    elif proven:
        raise _Broken(number, f"{what}: a proven input needs its amount")
    return AuditInput(outpoint, amount, proven, ours)


def _used(value: object, number: int, index: int) -> UsedIndex:
    what = f"used {index}"
    fields = _object(value, _USED_KEYS, number, what)
    wallet, chain, position = fields["wallet"], fields["chain"], fields["index"]
    if not (isinstance(wallet, str) and _NAME_TEXT.fullmatch(wallet)):
        raise _Broken(number, f"{what}: wallet is not a wallet name")
    if type(chain) is not int or chain not in (0, 1):
        raise _Broken(number, f"{what}: chain is not 0 or 1")
    if type(position) is not int or not 0 <= position <= _MAX_INDEX:
        raise _Broken(number, f"{what}: index is not a non-hardened index")
    return UsedIndex(wallet, chain, position)


def _sats(value: object, number: int, what: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_MONEY:
        raise _Broken(number, f"{what} is not an amount in sat")
    return value


def _time(value: object, number: int) -> datetime:
    if not (isinstance(value, str) and _TIME_TEXT.fullmatch(value)):
        raise _Broken(number, "time is not a UTC time like 2024-01-31T12:00:00Z")
    try:
        # The pattern fixed the shape; fromisoformat (which reads the Z) checks the date
        # and is ~50x faster than strptime.
        return datetime.fromisoformat(value)
    except ValueError:
        raise _Broken(number, f"time {value} is not a real date") from None


# --- the end of the chain, read from the end of the file ---------------------------------


class Head(NamedTuple):
    """The log's last record as found at its end: its digest, and the log's size."""

    digest: str  # GENESIS for an empty log
    size: int


def read_head(path: Path) -> Head:
    """The digest of the last line, from the end of the file (no chain check), or GENESIS."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return Head(GENESIS, 0)
    except OSError as error:
        raise ConfigError(Code.AUDIT_UNREADABLE, f"cannot open {path}: {error.strerror}") from error
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return Head(GENESIS, 0)
        tail = _read_tail(fd, size)
    except OSError as error:
        raise ConfigError(Code.AUDIT_UNREADABLE, f"cannot read {path}: {error.strerror}") from error
    finally:
        os.close(fd)
    if not tail.endswith(b"\n"):
        raise ConfigError(
            Code.AUDIT_BROKEN,
            f"{path}: the last line is incomplete (a write was cut off); inspect it with"
            " `psbt audit verify`, then move it aside",
        )
    return Head(line_digest(tail[:-1].split(b"\n")[-1]), size)


def digest_before(path: Path, offset: int) -> str | None:
    """The digest of the line that ends at byte offset (its newline at offset - 1), GENESIS at
    offset 0, or None when no line ends there."""
    if offset == 0:
        return GENESIS
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < offset:
            return None
        tail = _read_tail(fd, offset)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not tail.endswith(b"\n"):
        return None
    return line_digest(tail[:-1].split(b"\n")[-1])


def _chain_end(path: Path, fd: int, size: int) -> tuple[str, int]:
    """The hash a new record must carry as prev (after checking the last two lines), and the
    last line's number when the whole file had to be read, else 0."""
    if size == 0:
        return GENESIS, 0
    tail = _read_tail(fd, size)
    try:
        if not tail.endswith(b"\n"):
            raise _Broken(0, "the last line is incomplete (a write was cut off)")
        lines = tail[:-1].split(b"\n")
        last = _decode(lines[-1], 0)
        # one line only means the tail reaches the file's start: that line is the first
        expected = line_digest(lines[-2]) if len(lines) >= 2 else GENESIS
        if last.prev != expected:
            raise _Broken(0, "the last record's prev does not match the line before it")
    except _Broken as broken:
        # Name the exact line (a full read, but only on this path): the user must go and look.
        found = verify_chain(path)
        where = f"line {found.broken_line}: {found.problem}" if not found.intact else broken.problem
        raise ConfigError(
            Code.AUDIT_BROKEN,
            f"{path} {where}; refusing to append to a broken log:"
            " inspect it with `psbt audit verify`, then move it aside",
        ) from None
    return last.digest, 0


def _read_tail(fd: int, size: int) -> bytes:
    """The file's bytes before size from a line start: its last two lines, or all if shorter."""
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
