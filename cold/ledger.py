"""The ledger: input amounts seen and outpoints signed for, remembered across signings.

A segwit v0 input may carry only a `witness_utxo`, whose amount the PSBT merely claims
(the fee attack: two PSBTs that each understate one input make two "small fee" signatures
that together pay a large fee). Remembering the first amount seen for every outpoint turns
a later, different claim into a refusal (`proof.amount_changed`). Remembering which
transaction we signed each outpoint into lets the signer warn when another transaction
spends it again (a fee bump, or a replay of an old request).

Outpoints are keys of the form "TXID:VOUT" (`OutPointKey`): TXID in display order (as
block explorers and Bitcoin Core show it, the reverse of the internal byte order), lowercase
hex, VOUT in decimal. Stored in PSBTBRIDGE_HOME/ledger.json:

    {"version": 1, "amounts": {"TXID:VOUT": sat, ...}, "spent": {"TXID:VOUT": "TXID", ...}}

where `spent` maps an outpoint to the txid of the last transaction we signed spending it.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple, NewType

from psbtbridge.errors import BridgeError, ConfigError, InvalidInput, Refused
from psbtbridge.files import read_stored, write_atomic
from psbtbridge.tx import MAX_MONEY

LEDGER_NAME: Final = "ledger.json"
LOCK_NAME: Final = "ledger.lock"  # a separate lock file: ledger.json itself is replaced on save
VERSION: Final = 1
MAX_LEDGER_SIZE: Final = 256 * 1024 * 1024  # bytes; about two million outpoints

OutPointKey = NewType("OutPointKey", str)

_TXID_TEXT: Final = re.compile(r"[0-9a-f]{64}")
_KEY_TEXT: Final = re.compile(r"(?P<txid>[0-9a-f]{64}):(?P<vout>0|[1-9][0-9]{0,9})")
_MAX_VOUT: Final = 0xFFFFFFFF


def outpoint_key(txid_hex: str, vout: int) -> OutPointKey:
    """The key of an outpoint from its display-order txid hex and output index."""
    txid = txid_hex.lower()
    if not _TXID_TEXT.fullmatch(txid) or not 0 <= vout <= _MAX_VOUT:
        raise InvalidInput("ledger.bad_outpoint", f"not an outpoint: {txid_hex[:80]!r}:{vout}")
    return OutPointKey(f"{txid}:{vout}")


def outpoint_key_from_internal(txid: bytes, vout: int) -> OutPointKey:
    """The key of an outpoint whose txid is in internal byte order (as in a serialized tx)."""
    return outpoint_key(txid[::-1].hex(), vout)


def _empty() -> Mapping[OutPointKey, int]:
    return MappingProxyType({})


def _empty_spent() -> Mapping[OutPointKey, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Ledger:
    """Amounts seen per outpoint, and the txid we last signed spending each outpoint."""

    amounts: Mapping[OutPointKey, int] = field(default_factory=_empty)
    spent: Mapping[OutPointKey, str] = field(default_factory=_empty_spent)


class AmountConflict(NamedTuple):
    """An outpoint claimed at another amount than the one remembered for it."""

    outpoint: OutPointKey
    known: int  # sat, first seen
    claimed: int  # sat, claimed now

    def sentence(self) -> str:
        return (
            f"input {self.outpoint} was seen earlier at {self.known} sat"
            f" but is now claimed at {self.claimed} sat"
        )


def check_amounts(ledger: Ledger, claims: Mapping[OutPointKey, int]) -> list[AmountConflict]:
    """Every claimed amount that differs from the one remembered for its outpoint."""
    return [
        AmountConflict(outpoint, ledger.amounts[outpoint], amount)
        for outpoint, amount in claims.items()
        if outpoint in ledger.amounts and ledger.amounts[outpoint] != amount
    ]


def previous_spends(
    ledger: Ledger, outpoints: Iterable[OutPointKey], txid: str
) -> list[tuple[OutPointKey, str]]:
    """(outpoint, earlier txid) for each outpoint we already signed into another transaction."""
    return [
        (outpoint, ledger.spent[outpoint])
        for outpoint in outpoints
        if outpoint in ledger.spent and ledger.spent[outpoint] != txid.lower()
    ]


def record(
    ledger: Ledger, amounts: Mapping[OutPointKey, int], spent: Iterable[OutPointKey], txid: str
) -> Ledger:
    """A new ledger that also remembers these amounts and these outpoints signed into txid.

    Refuses (rather than overwrites) an amount that conflicts with a remembered one: the
    caller should have checked, and the first amount seen is the one to keep.
    """
    conflicts = check_amounts(ledger, amounts)
    if conflicts:
        raise Refused("proof.amount_changed", conflicts[0].sentence())
    signed_txid = txid.lower()
    if not _TXID_TEXT.fullmatch(signed_txid):
        raise InvalidInput("ledger.bad_outpoint", f"not a txid: {txid[:80]!r}")
    return Ledger(
        amounts=MappingProxyType({**ledger.amounts, **amounts}),
        spent=MappingProxyType({**ledger.spent, **dict.fromkeys(spent, signed_txid)}),
    )


# --- storage -----------------------------------------------------------------------------


def load(home: Path) -> Ledger:
    """The ledger in home, or an empty one if there is none yet; a bad file is left as it is."""
    path = home / LEDGER_NAME
    untrusted_data = read_stored(path, MAX_LEDGER_SIZE, "ledger.unreadable", "ledger.unreadable")
    return Ledger() if untrusted_data is None else _parse(untrusted_data, path)


def save(home: Path, ledger: Ledger) -> None:
    """Replace the stored ledger atomically, under the ledger lock."""
    with _locked(home):
        write_atomic(home / LEDGER_NAME, _serialize(ledger))


def update(
    home: Path, amounts: Mapping[OutPointKey, int], spent: Iterable[OutPointKey], txid: str
) -> Ledger:
    """Load, `record` and save under one lock, so concurrent signings lose no entries."""
    with _locked(home):
        ledger = record(load(home), amounts, spent, txid)
        write_atomic(home / LEDGER_NAME, _serialize(ledger))
    return ledger


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    path = home / LOCK_NAME
    try:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = open(path, "ab")  # noqa: SIM115 (closed by the with below, after the lock)
    except OSError as error:
        raise BridgeError("io.write_failed", f"cannot lock {path}: {error.strerror}") from error
    with lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # released when the file closes
        except OSError as error:
            raise BridgeError("io.write_failed", f"cannot lock {path}: {error.strerror}") from error
        yield


def _serialize(ledger: Ledger) -> bytes:
    data = {
        "version": VERSION,
        "amounts": dict(sorted(ledger.amounts.items())),
        "spent": dict(sorted(ledger.spent.items())),
    }
    return (json.dumps(data, indent=1) + "\n").encode("ascii")


def _parse(untrusted_data: bytes, path: Path) -> Ledger:
    def corrupt(why: str) -> ConfigError:
        return ConfigError(
            "ledger.corrupt", f"{path} is damaged ({why}); it was left untouched: restore it"
        )

    try:
        untrusted = json.loads(untrusted_data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise corrupt(f"not JSON: {error}") from None
    if not isinstance(untrusted, dict) or set(untrusted) != {"version", "amounts", "spent"}:
        raise corrupt("not an object with exactly version, amounts and spent")
    if type(untrusted["version"]) is not int or untrusted["version"] != VERSION:
        raise corrupt(f"unknown version {untrusted['version']!r}")
    untrusted_amounts, untrusted_spent = untrusted["amounts"], untrusted["spent"]
    if not isinstance(untrusted_amounts, dict) or not isinstance(untrusted_spent, dict):
        raise corrupt("amounts and spent must be objects")
    amounts: dict[OutPointKey, int] = {}
    for key, sats in untrusted_amounts.items():
        if not _KEY_TEXT.fullmatch(key) or int(key.rpartition(":")[2]) > _MAX_VOUT:
            raise corrupt(f"amounts: {key[:80]!r} is not an outpoint")
        if type(sats) is not int or not 0 <= sats <= MAX_MONEY:
            raise corrupt(f"amounts: {key} is not an amount in sat")
        amounts[OutPointKey(key)] = sats  # checked above: a canonical outpoint and an amount
    spent: dict[OutPointKey, str] = {}
    for key, txid in untrusted_spent.items():
        if not _KEY_TEXT.fullmatch(key) or int(key.rpartition(":")[2]) > _MAX_VOUT:
            raise corrupt(f"spent: {key[:80]!r} is not an outpoint")
        if not (isinstance(txid, str) and _TXID_TEXT.fullmatch(txid)):
            raise corrupt(f"spent: {key} does not map to a txid")
        spent[OutPointKey(key)] = txid
    return Ledger(MappingProxyType(amounts), MappingProxyType(spent))
