"""The cold state: one lock, and an index of the audit log that the signer decides from.

The audit log (cold/audit.py) is the source of truth. What the signer needs from it on
every request (amounts proven per outpoint, every transaction each coin of ours was signed
into, the highest index used per wallet and chain, the sat that left in signed records by
time) is kept in PSBTBRIDGE_HOME/state.sqlite, built from the log and stamped with the
head digest and size of the log it was built from. On each use, under the lock:

- the stamp matches the log's last line: the index is current (reading it costs the same
  at 100,000 records as at none);
- the log has grown past the stamp, and the line at the stamp's offset still hashes to the
  stamped head (a signing killed between its log record and its index update): only the
  new records are read and applied;
- anything else (no index, a damaged or foreign one, a stamp the log does not contain): the
  index is rebuilt from the whole log, which is read once, line by line.

0.1's ledger.json is read, never written: its amounts (as claims, since 0.1 also remembered
claimed taproot amounts: a proof replaces them) and its spends are folded into every build.

Everything that decides happens inside `locked`: a request reads the budget and the
ledger, is judged, signed, logged and indexed before the next one may read them, so
concurrent requests cannot each see the same remaining budget (issue 11, finding 1).
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cold import audit, ledger
from cold.audit import AuditEntry, AuditRecord
from cold.ledger import OutPointKey, Remembered
from psbtbridge.errors import Code, ConfigError

STATE_NAME: Final = "state.sqlite"
LOCK_NAME: Final = "state.lock"  # a file of its own: state.sqlite is replaced on a rebuild
#: The rows of a query's JSON array parameter: one statement for any number of outpoints.
_EACH: Final = "(SELECT value FROM json_each(?))"
SCHEMA: Final = 2  # 2: leaving has the txid, so a transaction signed again counts once
#: For tests only: the name of a step (see `checkpoint`) at which the process stops itself
#: with SIGSTOP, so a test can kill it there or hang up on it. qrexec gives the caller no
#: way to set the service's environment.
STOP_VARIABLE: Final = "PSBTBRIDGE_TEST_STOP_AT"
#: The steps of an unattended signing, in order; an attended one also has "confirmed"
#: (the person said yes, the lock is not yet taken again).
STEPS: Final = ("locked", "decided", "signed", "logged", "indexed")

_TABLES: Final = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
    # proven = 0: a claim from 0.1's ledger.json, which a proof replaces
    "CREATE TABLE amounts (outpoint TEXT PRIMARY KEY, sats INTEGER NOT NULL,"
    " proven INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE spends (outpoint TEXT NOT NULL, txid TEXT NOT NULL,"
    " PRIMARY KEY (outpoint, txid)) WITHOUT ROWID",
    # One row per transaction, at its first signing: the same transaction signed again
    # can be mined only once, so it counts once toward the daily limit.
    "CREATE TABLE leaving (line INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
    " sats INTEGER NOT NULL, txid TEXT UNIQUE)",
    "CREATE INDEX leaving_by_time ON leaving (time)",
    "CREATE TABLE used (wallet TEXT NOT NULL, chain INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " PRIMARY KEY (wallet, chain)) WITHOUT ROWID",
)


_NAMES: Final = frozenset(
    {
        "meta",
        "amounts",
        "spends",
        "leaving",
        "leaving_by_time",
        "sqlite_autoindex_leaving_1",
        "used",
    }
)


def checkpoint(step: str) -> None:
    """A named step of a signing; stops the process there when a test asks (STOP_VARIABLE)."""
    if os.environ.get(STOP_VARIABLE) == step:
        os.kill(os.getpid(), signal.SIGSTOP)


class State:
    """The index, open and current, while the lock is held (see `locked`)."""

    def __init__(self, home: Path, db: sqlite3.Connection, head: str, size: int, lines: int):
        self.home = home
        self._db = db
        self._head = head
        self._size = size
        self._lines = lines

    @property
    def head(self) -> str:
        """The digest of the log's last record, which the index reflects."""
        return self._head

    @property
    def records(self) -> int:
        return self._lines

    def amounts(self, outpoints: Iterable[OutPointKey]) -> dict[OutPointKey, Remembered]:
        """The remembered amount of each of these outpoints that has one."""
        rows = self._rows(
            f"SELECT outpoint, sats, proven FROM amounts WHERE outpoint IN {_EACH}",
            (json.dumps(list(outpoints)),),
        )
        return {OutPointKey(o): Remembered(int(sats), bool(proven)) for o, sats, proven in rows}

    def signed_into(self, outpoints: Iterable[OutPointKey]) -> dict[OutPointKey, set[str]]:
        """For each outpoint, every txid we signed spending it."""
        found: dict[OutPointKey, set[str]] = {}
        rows = self._rows(
            f"SELECT outpoint, txid FROM spends WHERE outpoint IN {_EACH}",
            (json.dumps(list(outpoints)),),
        )
        for outpoint, txid in rows:
            found.setdefault(OutPointKey(outpoint), set()).add(str(txid))
        return found

    def left_since(self, start: datetime) -> int:
        """Sat that left in signed records dated after start: records dated in the future
        count too, so setting the clock back does not reopen the daily limit."""
        rows = self._rows(
            "SELECT COALESCE(SUM(sats), 0) FROM leaving WHERE time > ?", (start.timestamp(),)
        )
        return int(rows[0][0])

    def signed_at(self, txid: str) -> datetime | None:
        """When this transaction was first signed, or None if it never was."""
        rows = self._rows("SELECT time FROM leaving WHERE txid = ?", (txid,))
        return datetime.fromtimestamp(int(rows[0][0]), UTC) if rows else None

    def known_indexes(self) -> dict[tuple[str, int], int]:
        """(wallet name, chain) -> the highest index signed, proven or declared used."""
        rows = self._rows("SELECT wallet, chain, idx FROM used", ())
        return {(str(w), int(c)): int(i) for w, c, i in rows}

    def _rows(self, query: str, parameters: tuple[object, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(query, parameters).fetchall()
        except sqlite3.Error as error:
            raise ConfigError(
                Code.STATE_UNUSABLE,
                f"the state index {self.home / STATE_NAME} cannot be read ({error}); it is"
                " rebuilt from the audit log when deleted",
            ) from error

    def record(self, record: AuditRecord, now: datetime) -> AuditEntry:
        """Append record to the audit log, then apply it to the index in one transaction.

        Killed between the two, the log is ahead of the index; the next `locked` reads the
        missing record from the log. Nothing is recorded in the index that is not in the log.
        """
        appended = audit.append_record(self.home, record, now)
        checkpoint("logged")
        entry = AuditEntry(
            self._lines + 1,
            appended.entry.version,
            appended.entry.time,
            appended.entry.prev,
            appended.entry.digest,
            appended.entry.record,
        )
        with _transaction(self._db):
            _apply(self._db, entry)
            _stamp(self._db, entry.digest, appended.size, entry.line)
        self._head, self._size, self._lines = entry.digest, appended.size, entry.line
        return entry


@contextmanager
def locked(home: Path) -> Iterator[State]:
    """The state of home, current with its audit log, held exclusively until the block ends."""
    path = home / LOCK_NAME
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise ConfigError(Code.STATE_UNUSABLE, f"cannot open {path}: {error.strerror}") from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes, or the process dies
        except OSError as error:
            raise ConfigError(
                Code.STATE_UNUSABLE, f"cannot lock {path}: {error.strerror}"
            ) from error
        db = _open_current(home)
        try:
            yield db
        finally:
            db._db.close()
    finally:
        os.close(fd)


def rebuild(home: Path) -> State:
    """Build the index from the whole log (and 0.1's ledger.json); the caller holds the lock."""
    path = home / STATE_NAME
    for leftover in (path, path.with_name(STATE_NAME + "-journal")):
        with suppress(FileNotFoundError):
            leftover.unlink()
    db = _connect(path)
    try:
        with _transaction(db):
            for statement in _TABLES:
                db.execute(statement)
            legacy = ledger.load(home)
            db.executemany("INSERT INTO amounts VALUES (?, ?, 0)", sorted(legacy.amounts.items()))
            db.executemany("INSERT INTO spends VALUES (?, ?)", sorted(legacy.spent.items()))
            head, size, lines = _apply_log(db, home, 0, audit.GENESIS, 0)
            _stamp(db, head, size, lines)
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
    except BaseException:
        db.close()
        raise
    return State(home, db, head, size, lines)


# --- keeping the index current -----------------------------------------------------------


def _open_current(home: Path) -> State:
    path = home / STATE_NAME
    log = home / audit.LOG_NAME
    head = audit.read_head(log)
    if not path.exists():
        return rebuild(home)
    try:
        db = _connect(path)
    except ConfigError:
        return rebuild(home)
    try:
        stamp = _read_stamp(db)
        if stamp is not None:
            stamped_head, stamped_size, lines = stamp
            if (stamped_head, stamped_size) == (head.digest, head.size):
                return State(home, db, stamped_head, stamped_size, lines)
            if stamped_size < head.size and audit.digest_before(log, stamped_size) == stamped_head:
                with _transaction(db):
                    new_head, size, lines = _apply_log(db, home, stamped_size, stamped_head, lines)
                    _stamp(db, new_head, size, lines)
                return State(home, db, new_head, size, lines)
    except sqlite3.Error:
        pass  # a damaged index: rebuilt below
    except BaseException:
        db.close()
        raise
    db.close()
    return rebuild(home)


def _read_stamp(db: sqlite3.Connection) -> tuple[str, int, int] | None:
    """(head, size, lines) the index was built to, or None when it is not ours or not whole."""
    try:
        rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error:
        return None
    head, size, lines = rows.get("head"), rows.get("size"), rows.get("lines")
    if rows.get("schema") != SCHEMA or not isinstance(head, str):
        return None
    names = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master")}
    if names != _NAMES:
        return None  # a table or index dropped or added: not what this module built
    if type(size) is not int or type(lines) is not int or size < 0 or lines < 0:
        return None
    return head, size, lines


def _apply_log(
    db: sqlite3.Connection, home: Path, offset: int, prev: str, lines: int
) -> tuple[str, int, int]:
    """Apply every record from offset on; (head, size, line count) after the last one."""
    head, size = prev, offset
    for entry in audit.walk_log(home / audit.LOG_NAME, offset, prev, lines):
        _apply(db, entry)
        head, lines = entry.digest, entry.line
    if head != prev:
        size = audit.read_head(home / audit.LOG_NAME).size
    return head, size, lines


def _apply(db: sqlite3.Connection, entry: AuditEntry) -> None:
    """What one record adds to the index."""
    record = entry.record
    if record.decision == "signed":
        db.execute(
            "INSERT OR IGNORE INTO leaving VALUES (?, ?, ?, ?)",
            (entry.line, int(entry.time.timestamp()), record.left, record.txid),
        )
        # A proof is the truth (the txid commits to it): it replaces a 0.1 claim.
        db.executemany(
            "INSERT INTO amounts VALUES (?, ?, 1) ON CONFLICT (outpoint) DO UPDATE"
            " SET sats = excluded.sats, proven = 1 WHERE amounts.proven = 0",
            [(i.outpoint, i.amount) for i in record.inputs if i.proven and i.amount is not None],
        )
        # A proof's inputs are shown, not spent: a later payment is not a second spend.
        if record.txid is not None and not record.is_proof:
            db.executemany(
                "INSERT OR IGNORE INTO spends VALUES (?, ?)",
                [(i.outpoint, record.txid) for i in record.inputs if i.ours],
            )
    if record.decision in ("signed", "declared"):
        for used in record.used:
            db.execute(
                "INSERT INTO used VALUES (?, ?, ?) ON CONFLICT (wallet, chain) DO UPDATE"
                " SET idx = MAX(idx, excluded.idx)",
                (used.wallet, used.chain, used.highest),
            )


def _stamp(db: sqlite3.Connection, head: str, size: int, lines: int) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO meta VALUES (?, ?)",
        (("head", head), ("size", size), ("lines", lines)),
    )


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # Created private before sqlite opens it: `psbt sign` may run under a 022 umask.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA journal_mode = DELETE")
    except (OSError, sqlite3.Error) as error:
        raise ConfigError(Code.STATE_UNUSABLE, f"cannot open {path}: {error}") from error
    return db


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as error:
        raise ConfigError(Code.STATE_UNUSABLE, f"cannot write the state index: {error}") from error
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    try:
        db.execute("COMMIT")
    except sqlite3.Error as error:
        raise ConfigError(Code.STATE_UNUSABLE, f"cannot write the state index: {error}") from error
