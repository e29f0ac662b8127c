"""Legacy (P2PKH) inputs through the independent verifier: ours vs python-bitcointx's sighash.

Run: .venv/bin/python bench/legacy.py [--inputs 250 1000] [--sample 5]
The shape of the cold-state review's finding 5: our own P2PKH coins sent back to change.
For each size it builds and signs the transaction with the signer's parts, then times
* the signer's own legacy sighashes (psbtbridge/sighash.py, for context),
* the independent check of every new signature (Verifier.check_ecdsa, what `psbt sign`
  runs before release), and of the finished transaction (verify_final_tx: bitcointx's
  interpreter, sighashes from verify/layout.py, what `psbt finalize` and `psbt send` run),
* the reference: bitcointx's own legacy sighash (CScript.raw_sighash, which the verifier
  called before), which copies the whole transaction per call. It is timed on the first
  --sample inputs and scaled to all of them (the whole run would take minutes to hours);
  the sampled hashes are checked equal to ours.
A legacy preimage holds the whole transaction, so O(size) per input and O(n^2) overall
are Bitcoin's own cost; the ratio shows the overhead that was on top of it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bitcointx.core import CTransaction
from bitcointx.core.script import SIGVERSION_BASE, CBitcoinScript

from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.verify import Verifier, verify_final_tx
from tests.support.legacy_tx import signed_p2pkh_spend
from tests.support.verifying import spent_pairs


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(n: int, sample: int) -> None:
    case = signed_p2pkh_spend(n)
    raw_unsigned = case.unsigned.serialize()
    raw_signed = case.signed.serialize()
    spent = spent_pairs(case.spent)

    def signer_sighashes() -> None:
        cache = SighashCache(case.unsigned)
        for i in range(n):
            cache.legacy(i, case.spent[i].script_pubkey, SighashType.ALL)

    def check_new_signatures() -> None:
        verifier = Verifier(raw_unsigned, spent)
        for i in range(n):
            verifier.check_ecdsa(i, case.pubkeys[i], case.signatures[i])

    t_signer = _timed(signer_sighashes)
    t_check = _timed(check_new_signatures)
    t_final = _timed(lambda: verify_final_tx(raw_signed, spent))

    btx = CTransaction.deserialize(raw_unsigned)
    layout = Verifier(raw_unsigned, spent).layout
    start = time.perf_counter()
    reference = [
        bytes(
            CBitcoinScript(case.spent[i].script_pubkey).raw_sighash(
                btx, i, SighashType.ALL, sigversion=SIGVERSION_BASE
            )[0]
        )
        for i in range(min(sample, n))
    ]
    t_reference = (time.perf_counter() - start) / len(reference) * n
    ours = [layout.legacy(i, case.spent[i].script_pubkey, 1) for i in range(len(reference))]
    assert ours == reference, "verify/layout.py's legacy sighash differs from bitcointx's"

    print(f"{n} P2PKH inputs, {len(raw_signed):,} bytes signed")
    print(f"  signer's sighashes (psbtbridge/sighash.py):      {t_signer:8.2f} s")
    print(f"  independent check of {n} new signatures:         {t_check:8.2f} s")
    print(f"  finished-tx check (bitcointx interpreter):       {t_final:8.2f} s")
    print(
        f"  reference, bitcointx raw_sighash for all inputs: {t_reference:8.1f} s (from {len(reference)})"
    )
    print(f"  ratio (reference / independent check): {t_reference / t_check:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, nargs="+", default=[250, 1000])
    parser.add_argument("--sample", type=int, default=5)
    args = parser.parse_args()
    for n in args.inputs:
        run(n, args.sample)


if __name__ == "__main__":
    main()
