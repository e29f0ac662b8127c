"""`psbt audit verify` checks the hash-chained audit log; `psbt audit show` lists its records;
`psbt audit used` records how far a wallet has been used (a wallet moved here with history)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cold.audit import (
    LOG_NAME,
    AuditEntry,
    AuditRecord,
    UsedIndex,
    entry_json,
    read_records,
    verify_chain,
)
from psbtbridge.errors import Code, ConfigError, ExitStatus, UsageError
from psbtbridge.home import data_home

MAX_INDEX = 2**31 - 1


def _count(untrusted_text: str) -> int:
    if not untrusted_text.isdigit() or not 1 <= int(untrusted_text) <= 10**9:
        raise argparse.ArgumentTypeError("must be a whole number from 1")
    return int(untrusted_text)  # digits only and in range: safe


def _index(untrusted_text: str) -> int:
    if not untrusted_text.isdigit() or not 0 <= int(untrusted_text) <= MAX_INDEX:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_INDEX}")
    return int(untrusted_text)  # digits only and in range: safe


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check every record and the hash chain; exit 4 naming the first bad line"
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    show = actions.add_parser("show", help="list the records (after checking the chain)")
    show.add_argument("--json", action="store_true", help="print the records as JSON")
    show.add_argument("--last", type=_count, metavar="N", help="only the last N records")
    used = actions.add_parser(
        "used",
        help="record that a wallet has used its addresses up to these indexes (e.g. a wallet"
        " moved here with its history), so its change is accepted that far",
    )
    used.add_argument("wallet", help="the wallet's name (see `psbt wallet list`)")
    used.add_argument("--receive", type=_index, metavar="N", help="receive chain used up to N")
    used.add_argument("--change", type=_index, metavar="N", help="change chain used up to N")


def run(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    if args.action == "verify":
        return _verify(home / LOG_NAME, args.json)
    if args.action == "used":
        return _declare_used(home, args.wallet, args.receive, args.change)
    return _show(read_records(home), args.json, args.last)


def _declare_used(home: Path, untrusted_name: str, receive: int | None, change: int | None) -> int:
    """A `declared` audit record: the index then counts as used (cold/state.py), as if the
    signer had seen it, so the change window and the input check start from there."""
    from cold import state
    from cold.keystore import load_keystore
    from cold.pipeline import utc_now
    from cold.wallets import registered_wallets

    if receive is None and change is None:
        raise UsageError(Code.AUDIT_NOTHING_DECLARED, "give --receive N, --change N or both")
    names = {w.name for w in registered_wallets(home, load_keystore(home))}
    if untrusted_name not in names:
        raise ConfigError(
            Code.AUDIT_UNKNOWN_WALLET,
            f"no wallet of that name here; known: {', '.join(sorted(names)) or 'none'}",
        )
    name = untrusted_name  # one of our own wallets' names: safe to log
    used = tuple(
        UsedIndex(name, chain, index)
        for chain, index in ((0, receive), (1, change))
        if index is not None
    )
    record = AuditRecord("declared", None, None, (), None, None, "local", 0, used=used)
    with state.locked(home) as held:
        entry = held.record(record, utc_now())
    chains = ", ".join(f"{'change' if u.chain else 'receive'} up to {u.highest}" for u in used)
    sys.stderr.write(f"recorded in the audit log (line {entry.line}): {name} used {chains}\n")
    return ExitStatus.OK


def _verify(path: Path, as_json: bool) -> int:
    if not path.exists():
        # Not "intact: 0 records" with a head of zeros: that reads as a log someone emptied.
        if as_json:
            empty: dict[str, object] = {"intact": True, "records": 0, "head": None}
            sys.stdout.write(json.dumps({**empty, "exists": False, "path": str(path)}) + "\n")
        else:
            sys.stdout.write(
                f"no audit log yet ({path}): nothing has been signed or refused here\n"
            )
        return ExitStatus.OK
    result = verify_chain(path)
    if not result.intact:
        raise ConfigError(
            Code.AUDIT_BROKEN,
            f"{result.path} line {result.broken_line}: {result.problem}"
            f" ({result.records} good records before it)",
        )
    if as_json:
        summary = {"intact": True, "records": result.records, "head": result.head, "exists": True}
        sys.stdout.write(json.dumps({**summary, "path": str(result.path)}) + "\n")
    else:
        # the head digest, noted elsewhere, is what can later show the newest records are whole
        sys.stdout.write(
            f"audit log intact: {result.records} records; head {result.head} ({result.path})\n"
        )
    return ExitStatus.OK


def _show(entries: list[AuditEntry], as_json: bool, last: int | None) -> int:
    if last is not None:
        entries = entries[-last:]
    if as_json:
        sys.stdout.write(json.dumps({"records": [entry_json(e) for e in entries]}) + "\n")
        return ExitStatus.OK
    for entry in entries:
        sys.stdout.write(_line(entry) + "\n")
    return ExitStatus.OK


def _line(entry: AuditEntry) -> str:
    record = entry.record
    time = entry.time.strftime("%Y-%m-%d %H:%M:%SZ")
    outcome = record.decision if record.reason is None else f"{record.decision} ({record.reason})"
    if record.decision == "declared":
        used = ", ".join(
            f"{u.wallet} {'change' if u.chain else 'receive'} {u.highest}" for u in record.used
        )
        return f"{entry.line:>6}  {time}  declared used: {used}  caller {record.caller}"
    if record.is_proof:
        signed_for = record.outputs[0].address or record.outputs[0].script.hex()
        return (
            f"{entry.line:>6}  {time}  {outcome}  BIP-322 proof for {signed_for}"
            f"  txid {record.txid or '?'}  nothing spent  caller {record.caller}"
        )
    fee = "fee ?" if record.fee is None else f"fee {record.fee} sat"
    return (
        f"{entry.line:>6}  {time}  {outcome}  txid {record.txid or '?'}"
        f"  leaving {record.sats_leaving} sat  {fee}  caller {record.caller}"
    )
