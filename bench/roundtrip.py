"""Whole-process latency of the hot/cold round trip against signing alone, in the same run.

Run: .venv/bin/python bench/roundtrip.py [--repeat 9]
The PSBT is Electrum's own: a watch-only wallet (`psbt electrum setup-watch-only` from the
cold side's `psbt keys export --json`) holding two coins pays 0.5 BTC out of 0.6, so two
inputs and two outputs (payment and change). Timed, alternately, each as whole processes:
  send       `psbt send FILE --to electrum --finalize`: the hot command, the qrexec client
             shim (it evaluates the shipped dom0 policy), the shipped service through a
             login shell, the cold pipeline (policy confirmation, signing, audit), then the
             hot side's checks of every signature, finalizing and bitcointx VerifyScript;
  sign       `psbt sign --confirm policy FILE`: the same cold pipeline, nothing around it;
  transport  the shim and the service alone (`qrexec_client_shim.py electrum
             psbtbridge.Sign+DIGEST < FILE`), to show where the difference goes.
The ratio is send over sign (medians). No real qrexec here: on Qubes the vchan transfer
and dom0's policy daemon add their own time (and the user's time at dom0's prompt).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psbtbridge.encoding import decode
from psbtbridge.psbt import Psbt
from tests.support import qrexec_harness as harness
from tests.support.electrum_harness import funding_tx, regtest_electrum
from tests.support.psbt_factory import PSBT
from tests.support.qube_pair import EXTERNAL, environ, export, hot_env, make_cold, setup_watch_only

COIN = 30_000_000


def timed(argv: Sequence[str], stdin: Path, env: dict[str, str]) -> float:
    """Wall seconds of one whole process; it must succeed."""
    with open(stdin, "rb") as source:
        start = time.perf_counter()
        result = subprocess.run(argv, stdin=source, capture_output=True, env=env, check=False)
        seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])}... failed: {result.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="runs of each (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-roundtrip-") as name:
        folder = Path(name)
        cold = make_cold(folder / "cold")
        electrum = regtest_electrum(folder / "electrum")
        wallet = folder / "hot.wallet"
        hot = hot_env(cold, electrum, folder / "hot")
        first = setup_watch_only(hot, export(cold, folder / "export.json"), wallet)
        for salt in (0, 1):
            electrum.add_transaction(wallet, funding_tx(first, COIN, salt=salt))
        unsigned = folder / "unsigned.psbt"
        unsigned.write_bytes(electrum.payto(wallet, [(EXTERNAL, "0.5")], 2.0))
        psbt = Psbt.parse(decode(unsigned.read_bytes())[0])
        shape = (len(psbt.inputs), len(psbt.outputs))
        assert shape == (2, 2), shape
        digest = psbt.unsigned_tx().txid_hex()[:8]

        out = str(folder / "out")
        send = [PSBT, "send", str(unsigned), "--to", "electrum", "--network", "regtest"]
        send += ["--finalize", "-o", out]
        sign = [PSBT, "sign", "--confirm", "policy", str(unsigned), "-o", out]
        transport = [*harness.shim_command().split(), "electrum", f"psbtbridge.Sign+{digest}"]
        cold_env = environ({"PSBTBRIDGE_HOME": str(cold.home)})
        runs: dict[str, list[float]] = {"send": [], "sign": [], "transport": []}
        for _ in range(args.repeat):  # alternating, so a busy moment hits all three alike
            runs["send"].append(timed(send, unsigned, environ(hot)))
            runs["sign"].append(timed(sign, unsigned, cold_env))
            runs["transport"].append(timed(transport, unsigned, environ(hot)))
    medians = {key: statistics.median(values) for key, values in runs.items()}
    print(f"2-input 2-output P2WPKH PSBT from Electrum, median of {args.repeat} runs each:")
    print("| what | median s | min s | max s |")
    print("|---|---:|---:|---:|")
    for key, values in runs.items():
        print(f"| {key} | {medians[key]:.3f} | {min(values):.3f} | {max(values):.3f} |")
    print(f"send / sign: {medians['send'] / medians['sign']:.2f}x")
    hot_side = medians["send"] - medians["transport"]
    print(f"send - transport (the hot command's own share): {hot_side:.3f} s")


if __name__ == "__main__":
    main()
