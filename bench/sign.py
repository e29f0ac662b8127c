"""Signing time of `psbt sign --confirm policy` against Electrum's own offline signtransaction.

Run: .venv/bin/python bench/sign.py [--sizes 1,10,100,500] [--ours-only 1000] [--repeat 5]
Against Debian 13's Electrum 4.5.8 and Python 3.13, from a checkout installed inside the root
that .ci/run builds: tests/support/in-debian-root ROOT .venv/bin/python bench/sign.py
Both sides run as whole processes on the same P2WPKH PSBTs, made by Electrum itself: a
watch-only wallet (`psbt electrum setup-watch-only` from `psbt keys export --json`) holds
one UTXO on each of its first receive addresses (funding transactions of 5 outputs each,
added offline), and `payto ADDR ! --from_coins ... --unsigned` spends N of them, other
coins for every size. The reference is `electrum signtransaction` on a seed wallet of the
same BIP39 keys (tests/support/electrum_harness.py: create_seed_wallet), run alternately with ours;
both results must finalize to the same transaction. Ours runs as an installed copy does
(`_installed_copy`), as Debian's Electrum runs compiled. Peak memory and CPU time are each
process's own (wait4). Sizes in --ours-only are signed by psbtbridge alone (Electrum's
time grows faster than linearly: 500 inputs already take it several seconds).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embit.script import Script, address_to_scriptpubkey, p2wpkh
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from psbtbridge.encoding import decode
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.finalize import extract, finalize, spent_outputs
from psbtbridge.verify import verify_final_tx
from tests.support.electrum_harness import (
    COSIGNER_MNEMONICS,
    ELECTRUM,
    INPROCESS,
    MNEMONIC,
    NETWORK,
    create_seed_wallet,
    root_key,
)

ROOT = Path(__file__).resolve().parent.parent
PSBT = str(Path(sys.executable).parent / "psbt")
SYSTEM_PYTHON = "/usr/bin/python3"  # Electrum's interpreter (Debian's electrum package)
#: Funding transactions of a typical size (~210 bytes): every input's non_witness_utxo is
#: its whole previous transaction, so one funding tx for all coins would make an N-input
#: PSBT grow with N squared (about 25 MB at 500 inputs from one 1,600-output funding tx,
#: over the signer's 16 MiB input cap).
OUTPUTS_PER_FUNDING = 5
UTXO_SATS = 100_000
FEERATE = "1"
#: Someone else's address (the first cosigner's BIP84 account): the policy allows paying it.
EXTERNAL: str = p2wpkh(root_key(COSIGNER_MNEMONICS[0]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)
POLICY = f"""max_fee = 1000000
[unattended]
enabled = true
allowed_destinations = ["{EXTERNAL}"]
max_per_transaction = 2100000000000000
max_per_24h = 2100000000000000
refuse_on_warning = true
"""


@dataclass(frozen=True)
class Run:
    """One finished process: wall time, CPU time, its own peak resident set, what it printed."""

    seconds: float
    cpu_seconds: float  # user + system: steadier than wall time on a busy machine
    peak_rss_mib: float
    stdout: bytes


def measure(argv: Sequence[str], stdin: Path, env: dict[str, str]) -> Run:
    """Run argv to completion; wait4 gives this child's own rusage, not the maximum of all."""
    with (
        open(stdin, "rb") as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdin=source, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:6])}... failed: {err.read().decode()[-500:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return Run(seconds, cpu, usage.ru_maxrss / 1024, out.read())  # ru_maxrss is in KiB


class Setup:
    """The cold home, the hot watch-only wallet with its UTXOs, and Electrum's seed wallet."""

    def __init__(self, folder: Path, utxos: int) -> None:
        self.folder = folder
        self.home = folder / "cold"
        self.datadir = folder / "electrum"
        self.electrum = [ELECTRUM, "--regtest", "--offline", "-D", str(self.datadir)]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
        self.env["PSBTBRIDGE_HOME"] = str(self.home)
        self.env["PSBTBRIDGE_ELECTRUM"] = " ".join(self.electrum)
        self.watch = folder / "watch.wallet"
        self.seed = create_seed_wallet(folder / "seed.wallet")
        self._cold_home()
        self._watch_only(utxos)
        self.installed = _installed_copy(folder / "install")

    def psbt(self, *args: str) -> bytes:
        result = subprocess.run(
            [PSBT, *args], env=self.env, capture_output=True, check=False, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise SystemExit(f"psbt {args[0]} failed: {result.stderr.decode()}")
        return result.stdout

    def run_electrum(self, *args: str, stdin: bytes = b"") -> str:
        result = subprocess.run(
            [*self.electrum, *args], input=stdin, capture_output=True, check=False
        )
        if result.returncode != 0:
            raise SystemExit(f"electrum {args[0]} failed: {result.stdout!r} {result.stderr!r}")
        return result.stdout.decode().strip()

    def _cold_home(self) -> None:
        self.home.mkdir()
        words = self.folder / "mnemonic.txt"
        words.write_text(MNEMONIC + "\n")
        init = ["keys", "init", "--mnemonic-file", str(words), "--network", NETWORK.value]
        self.psbt(*init, "--no-encryption")
        (self.home / "policy.toml").write_text(POLICY)

    def _watch_only(self, utxos: int) -> None:
        export = self.folder / "export.json"
        export.write_bytes(self.psbt("keys", "export", "--json"))
        self.psbt(
            "electrum", "setup-watch-only", "--from", str(export), "--wallet", str(self.watch)
        )
        wallet = ["-w", str(self.watch)]
        # Electrum only knows addresses within its gap limit; one UTXO per address needs more.
        self.run_electrum("changegaplimit", str(utxos + 20), "--iknowwhatimdoing", *wallet)
        addresses = json.loads(self.run_electrum("listaddresses", "--receiving", *wallet))[:utxos]
        funding = [
            _funding_tx(addresses[n : n + OUTPUTS_PER_FUNDING], n)
            for n in range(0, utxos, OUTPUTS_PER_FUNDING)
        ]
        lines = "\n".join(tx.serialize().hex() for tx in funding).encode()
        result = subprocess.run(
            [SYSTEM_PYTHON, str(INPROCESS), "add", str(self.datadir), str(self.watch)],
            input=lines, capture_output=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"adding the funding transactions failed: {result.stderr!r}")
        self.coins = [f"{tx.txid().hex()}:{n}" for tx in funding for n in range(len(tx.vout))]
        # The coins sit at receive indexes 0..utxos-1: a wallet with that history, which the
        # signer is told of (unattended, it refuses inputs far past the indexes it knows).
        self.psbt("audit", "used", "p2wpkh", "--receive", str(utxos), "--change", str(utxos))

    def unsigned(self, first: int, inputs: int) -> Path:
        """Electrum's own unsigned PSBT spending UTXOs first.. first+inputs-1, as a base64 file.

        Every size spends other coins: the signer remembers what it signed and warns (and
        so refuses, unattended) when a coin it signed into one transaction comes in another.
        """
        coins = ",".join(self.coins[first : first + inputs])
        text = self.run_electrum(
            "payto", EXTERNAL, "!", "--from_coins", coins, "--unsigned", "--feerate", FEERATE,
            "-w", str(self.watch),
        )  # fmt: skip
        path = self.folder / f"unsigned-{inputs}.psbt"
        path.write_text(text + "\n")
        return path


def _installed_copy(folder: Path) -> list[str]:
    """The command that runs psbtbridge as an installed copy runs: the qrexec services' own
    (`python -I -c 'from psbtbridge.cli import main; main()'`) in a venv of its own whose
    site-packages hold our packages, byte-compiled, as a wheel lays them down (the Salt
    formula's /opt/psbtbridge). This checkout's editable install would add its import hook
    to every start; the dependencies are this venv's, through a path file.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    site_packages = Path(purelib)
    for package in ("psbtbridge", "cold", "hot"):
        shutil.copytree(
            ROOT / package, site_packages / package, ignore=shutil.ignore_patterns("__pycache__")
        )
        compileall.compile_dir(site_packages / package, quiet=1)
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return [str(python), "-I", "-c", "from psbtbridge.cli import main; main()"]


def _funding_tx(addresses: Sequence[str], salt: int) -> Transaction:
    """One output of UTXO_SATS per address, from a made-up outpoint (Electrum keeps it local).

    The outpoint's txid is never all zeros: that would be a coinbase, its outputs immature.
    """
    return Transaction(
        version=2,
        vin=[TransactionInput((salt + 1).to_bytes(32, "little"), 0, script_sig=Script(b"\x51"))],
        vout=[TransactionOutput(UTXO_SATS, address_to_scriptpubkey(a)) for a in addresses],
        locktime=0,
    )


def _final_hex(signed_psbt: bytes) -> str:
    """Our signed PSBT finalized and verified in process (outside the timed runs)."""
    data, _ = decode(signed_psbt)
    psbt = finalize(Psbt.parse(data))
    tx = extract(psbt)
    verify_final_tx(tx.serialize(), [(out.script_pubkey, out.value) for out in spent_outputs(psbt)])
    return tx.serialize().hex()


@dataclass(frozen=True)
class Row:
    """One PSBT size: our runs, and Electrum's (none for --ours-only sizes)."""

    inputs: int
    ours: list[Run]
    theirs: list[Run]


def bench_size(setup: Setup, first: int, inputs: int, repeat: int, compare: bool) -> Row:
    unsigned = setup.unsigned(first, inputs)
    signed = setup.folder / f"signed-{inputs}.psbt"
    ours_argv = [*setup.installed, "sign", "--confirm", "policy", str(unsigned), "-o", str(signed)]
    # Electrum 4.5 asks for the wallet's password on signtransaction unless one is given;
    # the seed wallet has none (4.3 asks only for an encrypted wallet).
    electrum_argv = [*setup.electrum, "signtransaction", "-", "-w", str(setup.seed), "-W", ""]
    ours: list[Run] = []
    theirs: list[Run] = []
    for _ in range(repeat):  # alternating, so a busy moment hits both sides alike
        ours.append(measure(ours_argv, unsigned, setup.env))
        if compare:
            theirs.append(measure(electrum_argv, unsigned, setup.env))
    if compare and theirs[0].stdout.decode().strip() != _final_hex(signed.read_bytes()):
        raise SystemExit(f"{inputs} inputs: Electrum signed a different transaction than we did")
    return Row(inputs, ours, theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,100,500", help="inputs, against Electrum")
    parser.add_argument("--ours-only", default="1000", help="inputs, psbtbridge alone")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side and size (median)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n]
    ours_only = [int(n) for n in args.ours_only.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="bench-sign-") as name:
        started = time.perf_counter()
        setup = Setup(Path(name), sum(sizes + ours_only))
        print(f"setup: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        rows = []
        first = 0
        for inputs in sizes + ours_only:
            rows.append(bench_size(setup, first, inputs, args.repeat, inputs in sizes))
            first += inputs  # every size spends other coins (see Setup.unsigned)
            print(f"{inputs} inputs done", file=sys.stderr)
    print(_table(rows))


def _table(rows: list[Row]) -> str:
    """Medians; the ratios are Electrum's time over ours (wall, and CPU)."""
    lines = [
        "| inputs | psbt sign: wall s | CPU s | peak MiB"
        " | electrum signtransaction: wall s | CPU s | peak MiB | ratio wall | ratio CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ours = _medians(row.ours)
        cells = [str(row.inputs), f"{ours[0]:.3f}", f"{ours[1]:.3f}", f"{ours[2]:.0f}"]
        if row.theirs:
            theirs = _medians(row.theirs)
            cells += [f"{theirs[0]:.2f}", f"{theirs[1]:.2f}", f"{theirs[2]:.0f}"]
            cells += [f"{theirs[0] / ours[0]:.1f}x", f"{theirs[1] / ours[1]:.1f}x"]
        else:
            cells += ["-"] * 5
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _medians(runs: list[Run]) -> tuple[float, float, float]:
    """Median wall and CPU seconds, and the largest peak memory (MiB), of a side's runs."""
    return (
        statistics.median(r.seconds for r in runs),
        statistics.median(r.cpu_seconds for r in runs),
        max(r.peak_rss_mib for r in runs),
    )


if __name__ == "__main__":
    main()
