"""Parse time of a ~1.5 MB PSBT: psbtbridge next to embit and python-bitcointx, on the same bytes.

Run: .venv/bin/python bench/parse.py [--inputs N] [--repeat R]
Each input carries a full previous transaction (PSBT_IN_NON_WITNESS_UTXO), the case that
makes PSBTs big and that a strict parser must hash (txid check) and walk.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psbtbridge.psbt import MAGIC, Psbt
from psbtbridge.psbt.fields import GlobalType, InputType
from psbtbridge.psbt.keymap import Entry, serialize_map
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut


def _pubkeys(n: int) -> list[bytes]:
    """n distinct valid public keys (k·G), so no key check can be answered from a cache."""
    from embit.ec import PrivateKey

    return [PrivateKey((k + 1).to_bytes(32, "big")).get_public_key().sec() for k in range(n)]


def _previous_tx(seed: int, segwit: bool, n_in: int = 12, n_out: int = 12) -> Tx:
    """A previous transaction: legacy (P2PKH-sized scriptSigs) or segwit (P2WPKH witnesses)."""
    inputs = tuple(
        TxIn(
            OutPoint(hashlib.sha256(b"%d-%d" % (seed, i)).digest(), i),
            b"" if segwit else bytes(107),
            0xFFFFFFFD,
            (bytes(72), bytes(33)) if segwit else (),
        )
        for i in range(n_in)
    )
    outputs = tuple(
        TxOut(10_000 + i, b"\x00\x14" + hashlib.sha256(b"%d-%d" % (seed, i)).digest()[:20])
        for i in range(n_out)
    )
    return Tx(2, inputs, outputs, 0)


def build_psbt(n_inputs: int) -> bytes:
    """Inputs alternate between legacy and segwit previous transactions; segwit ones also
    carry a PSBT_IN_WITNESS_UTXO (as wallets write them), which must match."""
    previous = [_previous_tx(i, segwit=i % 2 == 1) for i in range(n_inputs)]
    vouts = [i % len(p.outputs) for i, p in enumerate(previous)]
    unsigned = Tx(
        2,
        tuple(
            TxIn(OutPoint(p.txid(), vout), b"", 0xFFFFFFFD)
            for p, vout in zip(previous, vouts, strict=True)
        ),
        (TxOut(1_000, b"\x00\x14" + bytes(20)),),
        0,
    )
    maps = [serialize_map((Entry(GlobalType.UNSIGNED_TX, b"", unsigned.serialize_legacy()),))]
    origin = struct.pack("<4sIII", b"\x01\x02\x03\x04", 0x80000054, 0x80000000, 0x80000000)
    pubkeys = _pubkeys(n_inputs)
    for i, (p, vout) in enumerate(zip(previous, vouts, strict=True)):
        entries = [Entry(InputType.NON_WITNESS_UTXO, b"", p.serialize())]
        if p.has_witness:
            entries.append(Entry(InputType.WITNESS_UTXO, b"", p.outputs[vout].serialize()))
        entries.append(Entry(InputType.BIP32_DERIVATION, pubkeys[i], origin))
        maps.append(serialize_map(tuple(entries)))
    maps.append(serialize_map(()))
    return MAGIC + b"".join(maps)


def best_of(
    repeat: int, parsers: dict[str, Callable[[bytes], object]], data: bytes
) -> dict[str, float]:
    """Fastest of `repeat` runs per parser, runs interleaved so load spikes hit all alike."""
    best = dict.fromkeys(parsers, float("inf"))
    for _ in range(repeat):
        for name, parse in parsers.items():
            start = time.perf_counter()
            parse(data)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=660)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    data = build_psbt(args.inputs)
    assert Psbt.parse(data).serialize() == data

    from bitcointx.core.psbt import PartiallySignedTransaction
    from embit.psbt import PSBT

    def embit_verified(raw: bytes) -> object:
        psbt = PSBT.parse(raw)
        psbt.verify()  # the txid check we do while parsing; embit leaves it to this call
        return psbt

    best = best_of(
        args.repeat,
        {"psbtbridge": Psbt.parse, "embit": PSBT.parse, "embit+verify": embit_verified},
        data,
    )
    # python-bitcointx takes seconds on this input: one run is enough.
    best |= best_of(1, {"bitcointx": PartiallySignedTransaction.deserialize}, data)
    ours = best["psbtbridge"]
    print(
        f"PSBT: {len(data):,} bytes, {args.inputs} inputs each with a full previous"
        " transaction (half legacy, half segwit with witness_utxo too), a distinct key each;"
        f" best of {args.repeat} interleaved runs (python-bitcointx: 1 run)"
    )
    rows = [
        ("psbtbridge (strict)", "psbtbridge"),
        ("embit 0.8.0 parse", "embit"),
        ("embit parse+verify()", "embit+verify"),
        ("python-bitcointx 1.1.5", "bitcointx"),
    ]
    for label, name in rows:
        print(f"{label:<24}{best[name] * 1000:9.1f} ms   {best[name] / ours:6.2f}x ours")


if __name__ == "__main__":
    main()
