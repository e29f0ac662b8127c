"""BIP-322 proof PSBTs (to_sign) as a coordinator writes them, honest or with one thing changed.

Sparrow writes PSBTv2 with PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE and input 0's witness_utxo;
older proof-of-reserves tools give to_spend as input 0's non_witness_utxo instead.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psbtbridge import bip322
from psbtbridge.compact import compact_size
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.wallet import DerivedScript, Wallet
from tests.support.psbt_factory import (
    Spend,
    derivation_entries,
    funding_tx,
    kv,
    script_entries,
)

OP_RETURN_ZERO = TxOut(0, b"\x6a")


@dataclass
class Proof:
    """to_sign for message by the key of challenge; every field a thing a host could change."""

    challenge: bytes  # input 0's script: the address signed for
    message: bytes
    derived: DerivedScript | None = None  # our position of challenge, for its derivations
    message_field: bool = True  # PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE
    to_spend_utxo: bool = False  # to_spend as input 0's PSBT_IN_NON_WITNESS_UTXO
    to_spend_message: bytes | None = None  # to_spend built from another message
    witness_value: int = 0  # what input 0's witness_utxo claims
    witness_utxo: bool = True  # input 0's PSBT_IN_WITNESS_UTXO (a legacy input has none)
    sequence: int = 0
    tx_version: int = 0
    locktime: int = 0
    outputs: tuple[TxOut, ...] = (OP_RETURN_ZERO,)
    reserves: Sequence[Spend] = ()
    psbt_version: int = 0
    global_extra: list[bytes] = field(default_factory=list)

    def to_spend(self) -> Tx:
        committed = self.message if self.to_spend_message is None else self.to_spend_message
        return bip322.to_spend(self.challenge, committed)

    def build(self) -> bytes:
        spend = self.to_spend()
        prevs = [
            funding_tx(s.wallet.derive(s.chain, s.index).script_pubkey, s.amount, n + 1)
            for n, s in enumerate(self.reserves)
        ]
        reserves = [TxIn(OutPoint(p.txid(), 1), b"", 0xFFFFFFFF) for p in prevs]
        inputs = (TxIn(OutPoint(spend.txid(), 0), b"", self.sequence), *reserves)
        tx = Tx(self.tx_version, inputs, self.outputs, self.locktime)
        message = [kv(0x09, b"", self.message)] if self.message_field else []
        if self.psbt_version == 0:
            parts = [b"psbt\xff", kv(0x00, b"", tx.serialize_legacy())]
        else:
            parts = [
                b"psbt\xff",
                kv(0x02, b"", tx.version.to_bytes(4, "little")),
                kv(0x03, b"", tx.locktime.to_bytes(4, "little")),
                kv(0x04, b"", compact_size(len(inputs))),
                kv(0x05, b"", compact_size(len(self.outputs))),
                kv(0xFB, b"", self.psbt_version.to_bytes(4, "little")),
            ]
        parts += [*message, *self.global_extra, b"\x00"]
        first = (
            [kv(0x01, b"", TxOut(self.witness_value, self.challenge).serialize())]
            if self.witness_utxo
            else []
        )
        if self.to_spend_utxo:
            first.insert(0, kv(0x00, b"", spend.serialize()))
        if self.derived is not None:
            first += script_entries(self.derived, True) + derivation_entries(self.derived, True)
        maps = [first]
        for reserve, prev in zip(self.reserves, prevs, strict=True):
            derived = reserve.wallet.derive(reserve.chain, reserve.index)
            entries = [kv(0x00, b"", prev.serialize())]
            entries.append(kv(0x01, b"", TxOut(reserve.amount, derived.script_pubkey).serialize()))
            if reserve.derivations:
                entries += script_entries(derived, True) + derivation_entries(derived, True)
            maps.append(entries)
        for entries, txin in zip(maps, inputs, strict=True):
            if self.psbt_version != 0:
                entries += [
                    kv(0x0E, b"", txin.prevout.txid),
                    kv(0x0F, b"", txin.prevout.vout.to_bytes(4, "little")),
                    kv(0x10, b"", txin.sequence.to_bytes(4, "little")),
                ]
            parts += [*entries, b"\x00"]
        for out in self.outputs:
            if self.psbt_version != 0:
                parts += [
                    kv(0x03, b"", out.value.to_bytes(8, "little")),
                    kv(0x04, b"", out.script_pubkey),
                ]
            parts.append(b"\x00")
        return b"".join(parts)


# --- the stored vectors (tests/vectors/message/bip322_psbt.json)

VECTOR_MESSAGE = b"I control this address.\nSigned on the cold qube: Gr\xc3\xbc\xc3\x9fe"


def vector_proofs(wallets: dict[str, Wallet]) -> dict[str, tuple[Proof, str | None]]:
    """Each stored case by name: the proof of the test mnemonic's p2wpkh m/84h/1h/0h/0/0
    (with one more coin, m/84h/1h/0h/0/3, in a proof of reserves), and the code refusing
    it, None for the honest ones."""
    wallet = wallets["p2wpkh"]
    derived = wallet.derive(0, 0)
    coin = [Spend(wallet, 0, 3, 1_000_000)]

    def make(**changes: Any) -> Proof:
        return Proof(derived.script_pubkey, VECTOR_MESSAGE, derived, **changes)

    paying = (OP_RETURN_ZERO, TxOut(5_000, wallet.derive(0, 7).script_pubkey))
    return {
        "full": (make(), None),
        "full_psbt_v2": (make(psbt_version=2), None),
        "full_to_spend_only": (make(message_field=False, to_spend_utxo=True), None),
        "reserves": (make(reserves=coin, to_spend_utxo=True), None),
        "reserves_extra_paying_output": (make(reserves=coin, outputs=paying), "bip322.bad_to_sign"),
        "reserves_input_0_not_zero": (make(reserves=coin, witness_value=1), "bip322.bad_to_sign"),
        "reserves_other_to_spend": (
            make(reserves=coin, to_spend_message=b"another message"),
            "bip322.not_to_spend",
        ),
        "reserves_sequence_not_0": (
            make(reserves=coin, sequence=0xFFFFFFFE),
            "bip322.bad_to_sign",
        ),
        "reserves_unproven": (make(reserves=coin, message_field=False), "bip322.unproven"),
        "reserves_op_return_value": (
            make(reserves=coin, outputs=(TxOut(1_000, OP_RETURN_ZERO.script_pubkey),)),
            "proof.op_return_value",
        ),
    }


def write_vectors(path: Path, wallets: dict[str, Wallet]) -> None:
    cases = {
        name: {"psbt": base64.b64encode(proof.build()).decode(), "refused": code}
        for name, (proof, code) in vector_proofs(wallets).items()
    }
    path.write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    import sys
    import tempfile

    from tests.support.psbt_factory import make_keyset

    keys = make_keyset(Path(tempfile.mkdtemp()) / "home", registered=False)
    write_vectors(Path(sys.argv[1]), keys.wallets)
