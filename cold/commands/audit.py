"""`psbt audit verify` checks the hash-chained audit log; `psbt audit show` lists its records."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cold.audit import LOG_NAME, AuditEntry, entry_json, read_records, verify_chain
from psbtbridge.errors import ConfigError, ExitStatus
from psbtbridge.home import data_home


def _count(untrusted_text: str) -> int:
    if not untrusted_text.isdigit() or not 1 <= int(untrusted_text) <= 10**9:
        raise argparse.ArgumentTypeError("must be a whole number from 1")
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


def run(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    if args.action == "verify":
        return _verify(home / LOG_NAME, args.json)
    return _show(read_records(home), args.json, args.last)


def _verify(path: Path, as_json: bool) -> int:
    result = verify_chain(path)
    if not result.intact:
        raise ConfigError(
            "audit.broken",
            f"{result.path} line {result.broken_line}: {result.problem}"
            f" ({result.records} good records before it)",
        )
    if as_json:
        summary = {"intact": True, "records": result.records, "head": result.head}
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
    fee = "fee ?" if record.fee is None else f"fee {record.fee} sat"
    return (
        f"{entry.line:>6}  {time}  {outcome}  txid {record.txid or '?'}"
        f"  leaving {record.sats_leaving} sat  {fee}  caller {record.caller}"
    )
