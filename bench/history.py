"""Unattended signing time and peak memory against the size of the history (issue 11).

Run: .venv/bin/python bench/history.py [--sizes 0,10000,100000] [--inputs 100] [--repeat 5]

One keystore home per size, the same 100-input P2WPKH PSBT in each. The history is
written directly as valid, hash-chained version 2 audit records (as the README documents
them; signing 100,000 times would take hours): mostly signed records dated over the last
years, some refusals, some signings of the last 24 hours. Each home is signed once to build
its state index (that one-time build is printed too), then `psbt sign --confirm policy` is
timed in turns across the homes, as whole processes; peak memory is each process's own
(wait4, from a small parent so the bench's own size does not leak into it). The target:
at 100,000 records, within 1.25x the time and 1.5x the peak memory of an empty home.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cold.audit import GENESIS, LOG_NAME
from cold.state import STATE_NAME
from psbtbridge.network import Network
from psbtbridge.script import address_of
from tests.support.psbt_factory import (
    Spend,
    build_psbt,
    change_to,
    external,
    make_keyset,
)

PSBT = str(Path(sys.executable).parent / "psbt")
TIME_TARGET = 1.25
MEMORY_TARGET = 1.5
RECENT = 50  # records in the last 24 hours
_MEASURE = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def write_history(home: Path, count: int, now: datetime) -> None:
    """count valid version 2 records, chained, oldest first, straight into the log."""
    allowed = external(1, 0).script_pubkey
    address = address_of(allowed, Network.REGTEST)
    prev = GENESIS
    with open(home / LOG_NAME, "wb") as log:
        for i in range(count):
            recent = i >= count - RECENT
            when = now - (timedelta(hours=23) if recent else timedelta(days=2, minutes=15 * i))
            txid = hashlib.sha256(b"tx %d" % i).hexdigest()
            coin = hashlib.sha256(b"coin %d" % i).hexdigest()
            signed = i % 10 != 9
            paid = 1_000 if recent else 50_000 + i
            record = {
                "version": 2,
                "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "decision": "signed" if signed else "refused",
                "reason": None if signed else "policy.fee_too_high",
                "sentence": None if signed else "fee 200000 sat is above max_fee 100000 sat",
                "txid": txid,
                "inputs": [
                    {"outpoint": f"{coin}:1", "amount": 100_000 + i, "proven": True, "ours": True}
                ],
                "outputs": [
                    {
                        "address": address,
                        "script": allowed.hex(),
                        "script_size": len(allowed),
                        "script_sha256": None,
                        "amount": paid,
                        "kind": "external",
                    }
                ],
                "omitted": 0,
                "fee": 1_000,
                "fee_rate": 7.1,
                "caller": "electrum-hot",
                "sats_leaving": paid,
                "leaving": paid + 1_000,
                "used": [{"wallet": "p2wpkh", "chain": 1, "index": i % 10}] if signed else [],
                "prev": prev,
            }
            line = json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode()
            prev = hashlib.sha256(line).hexdigest()
            log.write(line + b"\n")


def measure(home: Path, request: Path) -> tuple[float, int]:
    """(seconds, peak KiB) of one `psbt sign --confirm policy`; it must sign."""
    return run(home, "sign", str(request), "--confirm", "policy", "-o", os.devnull)


def run(home: Path, *args: str) -> tuple[float, int]:
    """(seconds, peak KiB) of one `psbt ARGS`; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    env["PSBTBRIDGE_HOME"] = str(home)
    with tempfile.NamedTemporaryFile() as rss:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-I", "-c", _MEASURE, rss.name, PSBT, *args],
            env=env,
            capture_output=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"psbt {args[0]} failed in {home}: {result.stderr.decode()}")
        return elapsed, int(Path(rss.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="psbtbridge-history-"))
    try:
        keys = make_keyset(root / "template", registered=False)
        wallet = keys.wallets["p2wpkh"]
        address = address_of(external(1, 0).script_pubkey, Network.REGTEST)
        (keys.home / "policy.toml").write_text(
            "[unattended]\nenabled = true\n"
            f'allowed_destinations = ["{address}"]\n'
            "max_per_transaction = 100000000\nmax_per_24h = 2000000000\n"
        )
        # Receive indexes 0-19 (inside the window a fresh home knows), coins of their own.
        spends = [Spend(wallet, 0, i % 20, 100_000, salt=i + 1) for i in range(args.inputs)]
        total = 100_000 * args.inputs
        data = build_psbt(
            spends, [external(1, total // 2), change_to(wallet, 1, 0, total // 2 - 20_000)]
        )
        request = root / "request.psbt"
        request.write_bytes(data)
        now = datetime.now(UTC)
        homes: dict[int, Path] = {}
        print(f"{args.inputs}-input PSBT, {len(data)} bytes; building homes...", file=sys.stderr)
        for size in sizes:
            home = root / f"home-{size}"
            shutil.copytree(keys.home, home)
            written = time.perf_counter()
            write_history(home, size, now)
            written = time.perf_counter() - written
            built, _ = measure(home, request)  # the first signing builds the state index
            assert (home / STATE_NAME).exists()
            print(
                f"  {size:>7} records: log {(home / LOG_NAME).stat().st_size / 1e6:.1f} MB written"
                f" in {written:.1f} s; first signing (builds the index) {built:.2f} s",
                file=sys.stderr,
            )
            homes[size] = home
        runs: dict[int, list[tuple[float, int]]] = {size: [] for size in sizes}
        for _ in range(args.repeat):
            for size in sizes:  # in turns, so drift in the machine's load hits all alike
                runs[size].append(measure(homes[size], request))
        base_time = statistics.median(t for t, _ in runs[sizes[0]])
        base_rss = statistics.median(r for _, r in runs[sizes[0]])
        print(f"{'records':>8}  {'time s':>8}  {'x':>6}  {'peak MiB':>9}  {'x':>6}")
        ok = True
        for size in sizes:
            median_time = statistics.median(t for t, _ in runs[size])
            median_rss = statistics.median(r for _, r in runs[size])
            time_ratio, rss_ratio = median_time / base_time, median_rss / base_rss
            print(
                f"{size:>8}  {median_time:>8.3f}  {time_ratio:>6.2f}  {median_rss / 1024:>9.1f}"
                f"  {rss_ratio:>6.2f}"
            )
            ok = ok and time_ratio <= TIME_TARGET and rss_ratio <= MEMORY_TARGET
        print(
            f"target (each size within {TIME_TARGET}x the time and {MEMORY_TARGET}x the peak"
            f" memory of {sizes[0]} records): {'met' if ok else 'NOT met'}"
        )
        # `psbt audit verify` reads every line: linear in time, flat in memory.
        print(f"\n{'records':>8}  {'verify s':>8}  {'us/rec':>7}  {'peak MiB':>9}")
        for size in sizes:
            seconds, peak = run(homes[size], "audit", "verify")
            per_record = 1e6 * seconds / size if size else 0.0
            print(f"{size:>8}  {seconds:>8.2f}  {per_record:>7.1f}  {peak / 1024:>9.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
