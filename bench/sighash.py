"""BIP143 sighashes for every input of a large transaction: cached once vs recomputed per input.

Run: .venv/bin/python bench/sighash.py [--inputs N]
The reference is the quadratic way (as a bare embit or python-bitcointx signing loop does):
hashPrevouts, hashSequence and hashOutputs rehashed for each input, here by building a new
SighashCache per input, so both sides run the same code and differ only in the caching.
For context it also times the per-input costs of the rest of a P2WPKH signature: signing
(cold/crypto.py, low-R grinding), the independent check of one signature
(psbtbridge/verify/) and of a finished input (bitcointx's VerifyScript, what `psbt finalize` runs).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cold.crypto import public_key, sign_ecdsa
from psbtbridge.hashes import hash160
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.verify import Verifier, verify_final_tx


def _transaction(n_inputs: int) -> tuple[Tx, list[bytes], list[TxOut]]:
    """n P2WPKH inputs with distinct keys, two outputs."""
    secrets = [hashlib.sha256(b"bench%d" % i).digest() for i in range(n_inputs)]
    spent = [TxOut(10_000 + i, b"\x00\x14" + hash160(public_key(s))) for i, s in enumerate(secrets)]
    inputs = tuple(
        TxIn(OutPoint(hashlib.sha256(b"prev%d" % i).digest(), i % 3), b"", 0xFFFFFFFD)
        for i in range(n_inputs)
    )
    outputs = (TxOut(5_000_000, b"\x00\x14" + bytes(20)), TxOut(4_000, b"\x00\x14" + b"\x01" * 20))
    return Tx(2, inputs, outputs, 800_000), secrets, spent


def _script_code(spent: TxOut) -> bytes:
    return b"\x76\xa9\x14" + spent.script_pubkey[2:] + b"\x88\xac"


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    args = parser.parse_args()
    tx, secrets, spent = _transaction(args.inputs)
    codes = [_script_code(out) for out in spent]

    def cached() -> list[bytes]:
        cache = SighashCache(tx)
        return [
            cache.segwit_v0(i, codes[i], spent[i].value, SighashType.ALL)
            for i in range(len(tx.inputs))
        ]

    def per_input() -> list[bytes]:
        return [
            SighashCache(tx).segwit_v0(i, codes[i], spent[i].value, SighashType.ALL)
            for i in range(len(tx.inputs))
        ]

    assert cached() == per_input()
    t_cached = min(_timed(cached) for _ in range(3))
    t_per_input = _timed(per_input)
    n = len(tx.inputs)
    print(f"BIP143 sighash, {n} P2WPKH inputs")
    print(f"  cached once per tx:     {t_cached * 1e3:9.1f} ms")
    print(f"  recomputed per input:   {t_per_input * 1e3:9.1f} ms")
    print(f"  ratio (per-input / cached): {t_per_input / t_cached:.0f}x")

    sighashes = cached()
    signatures = [sign_ecdsa(secrets[i], sighashes[i]) + b"\x01" for i in range(n)]
    t_sign = min(
        _timed(lambda: [sign_ecdsa(secrets[i], sighashes[i]) for i in range(n)]) for _ in range(3)
    )
    pubkeys = [public_key(s) for s in secrets]

    def check_all() -> None:
        verifier = Verifier(tx.serialize(), [(out.script_pubkey, out.value) for out in spent])
        for i in range(n):
            verifier.check_ecdsa(i, pubkeys[i], signatures[i])

    t_check = min(_timed(check_all) for _ in range(3))
    signed = Tx(
        tx.version,
        tuple(
            TxIn(txin.prevout, b"", txin.sequence, (signatures[i], pubkeys[i]))
            for i, txin in enumerate(tx.inputs)
        ),
        tx.outputs,
        tx.locktime,
    )
    plain = [(out.script_pubkey, out.value) for out in spent]
    t_final = _timed(lambda: verify_final_tx(signed.serialize(), plain))
    print(
        f"per input: sighash {t_cached / n * 1e6:.0f} us, sign {t_sign / n * 1e6:.0f} us,"
        f" independent check {t_check / n * 1e6:.0f} us,"
        f" finished-tx check (bitcointx VerifyScript) {t_final / n * 1e6:.0f} us"
    )
    print(f"sighash + sign + check for all {n} inputs: {t_cached + t_sign + t_check:.2f} s")


if __name__ == "__main__":
    main()
