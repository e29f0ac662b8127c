"""The ledger: input amounts proven and outpoints signed for, remembered across signings.

A segwit v0 input may carry only a `witness_utxo`, whose amount the PSBT merely claims
(the fee attack: two PSBTs that each understate one input make two "small fee" signatures
that together pay a large fee). Remembering every amount once *proven* (by a full previous
transaction) turns a later, different claim into a refusal (`proof.amount_changed`). Only
proven amounts are remembered: a claim never is, so a lie cannot freeze a coin (issue 11,
finding 3: a taproot amount claim, signed because BIP341 makes such a signature invalid,
used to be remembered and then refused every honest spend). Remembering every transaction
we signed each outpoint into lets the signer warn when another one spends it again (a fee
bump), and unattended signing refuse it.

The remembered values live in the state index (cold/state.py), derived from the audit log.
This module holds the pure checks and the outpoint keys ("TXID:VOUT": TXID in display order,
lowercase hex, VOUT in decimal), and reads psbtbridge 0.1's ledger.json, which is no longer
written:

    {"version": 1, "amounts": {"TXID:VOUT": sat, ...}, "spent": {"TXID:VOUT": "TXID", ...}}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple, NewType

from psbtbridge.errors import Code, ConfigError, InvalidInput
from psbtbridge.files import load_json, read_stored
from psbtbridge.tx import MAX_MONEY

LEDGER_NAME: Final = "ledger.json"
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
        raise InvalidInput(Code.LEDGER_BAD_OUTPOINT, f"not an outpoint: {txid_hex[:80]!r}:{vout}")
    return OutPointKey(f"{txid}:{vout}")


def outpoint_key_from_internal(txid: bytes, vout: int) -> OutPointKey:
    """The key of an outpoint whose txid is in internal byte order (as in a serialized tx)."""
    return outpoint_key(txid[::-1].hex(), vout)


#: The empty ledger's maps: immutable, so every Ledger() may share them.
_NO_AMOUNTS: Final[Mapping[OutPointKey, int]] = MappingProxyType({})
_NO_SPENDS: Final[Mapping[OutPointKey, str]] = MappingProxyType({})


class Ledger(NamedTuple):
    """Amounts seen per outpoint, and the txid we last signed spending each outpoint."""

    amounts: Mapping[OutPointKey, int] = _NO_AMOUNTS
    spent: Mapping[OutPointKey, str] = _NO_SPENDS


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


class Remembered(NamedTuple):
    """The amount the state holds for an outpoint."""

    sats: int
    proven: bool  # False: a claim 0.1 remembered (ledger.json), which a proof replaces


class Stated(NamedTuple):
    """The amount a request states for an input, and whether it is proven."""

    sats: int
    proven: bool


def check_amounts(
    remembered: Mapping[OutPointKey, Remembered], stated: Mapping[OutPointKey, Stated]
) -> list[AmountConflict]:
    """Every stated amount that contradicts the one remembered for its outpoint.

    A proof never contradicts a remembered claim: it replaces it (a claim is what a hostile
    host may have invented). Two proofs cannot differ: the txid commits to the amount.
    """
    conflicts = []
    for outpoint, now in stated.items():
        known = remembered.get(outpoint)
        if known is None or known.sats == now.sats or (now.proven and not known.proven):
            continue
        conflicts.append(AmountConflict(outpoint, known.sats, now.sats))
    return conflicts


def previous_spends(
    signed_into: Mapping[OutPointKey, Iterable[str]], txid: str
) -> list[tuple[OutPointKey, str]]:
    """(outpoint, earlier txid) for each outpoint we already signed into another transaction."""
    return [
        (outpoint, other)
        for outpoint, txids in sorted(signed_into.items())
        for other in sorted(txids)
        if other != txid.lower()
    ]


# --- storage -----------------------------------------------------------------------------


def load(home: Path) -> Ledger:
    """0.1's ledger.json in home, or an empty ledger; a bad file is refused and left as it is."""
    path = home / LEDGER_NAME
    untrusted_data = read_stored(
        path, MAX_LEDGER_SIZE, Code.LEDGER_UNREADABLE, Code.LEDGER_UNREADABLE
    )
    return Ledger() if untrusted_data is None else _parse(untrusted_data, path)


def _parse(untrusted_data: bytes, path: Path) -> Ledger:
    def corrupt(why: str) -> ConfigError:
        return ConfigError(
            Code.LEDGER_CORRUPT, f"{path} is damaged ({why}); it was left untouched: restore it"
        )

    untrusted = load_json(untrusted_data, corrupt, cap=MAX_LEDGER_SIZE)
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
