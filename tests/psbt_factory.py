"""Builds PSBTs for test wallets, honest or crafted, with our own wire helpers (test-only).

Every attack test starts from an honest PSBT made here and changes one thing, so a refusal
can only come from that one thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from psbtbridge.compact import var_bytes
from psbtbridge.network import Network
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.wallet import DerivedScript, KeyOrigin, Wallet

PSBT = str(Path(sys.executable).parent / "psbt")
#: BIP39's best-known test mnemonic: its keys are public, so nothing here holds real money.
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
RBF = 0xFFFFFFFD


def kv(key_type: int, key_data: bytes, value: bytes) -> bytes:
    return var_bytes(bytes([key_type]) + key_data) + var_bytes(value)


def origin_value(origin: KeyOrigin) -> bytes:
    return origin.fingerprint + b"".join(step.to_bytes(4, "little") for step in origin.path)


def derivation_entries(derived: DerivedScript, input_side: bool) -> list[bytes]:
    """PSBT_IN/OUT_BIP32_DERIVATION (or the TAP_ ones for taproot) for a derived script."""
    if derived.taproot_internal_key is not None:
        key_type = 0x16 if input_side else 0x07
        internal = 0x17 if input_side else 0x05
        entries = [
            kv(key_type, xonly, b"\x00" + origin_value(origin)) for xonly, origin in derived.pubkeys
        ]
        return [*entries, kv(internal, b"", derived.taproot_internal_key)]
    key_type = 0x06 if input_side else 0x02
    return [kv(key_type, pubkey, origin_value(origin)) for pubkey, origin in derived.pubkeys]


def script_entries(derived: DerivedScript, input_side: bool) -> list[bytes]:
    redeem, witness = (0x04, 0x05) if input_side else (0x00, 0x01)
    found = []
    if derived.redeem_script is not None:
        found.append(kv(redeem, b"", derived.redeem_script))
    if derived.witness_script is not None:
        found.append(kv(witness, b"", derived.witness_script))
    return found


def funding_tx(script_pubkey: bytes, amount: int, salt: int) -> Tx:
    """A previous transaction paying amount to script_pubkey at output 1 (not 0, to catch
    code that assumes index 0); its input is made up, which is all a PSBT needs."""
    txin = TxIn(OutPoint(salt.to_bytes(32, "little"), 0), b"", 0xFFFFFFFF)
    filler = TxOut(1000, b"\x00\x14" + bytes(20))
    return Tx(2, (txin,), (filler, TxOut(amount, script_pubkey)), 0)


@dataclass
class Spend:
    """One input: a wallet position and its amount; which UTXO fields the PSBT carries."""

    wallet: Wallet
    chain: int
    index: int
    amount: int
    full_tx: bool = True
    witness_utxo: bool = True
    derivations: bool = True
    extra: list[bytes] = field(default_factory=list)


@dataclass
class Pay:
    """One output: a script and amount, with optional extra entries (e.g. change claims)."""

    script_pubkey: bytes
    amount: int
    extra: list[bytes] = field(default_factory=list)


def change_to(wallet: Wallet, chain: int, index: int, amount: int) -> Pay:
    """An honest change (or self) output with the derivation information a wallet writes."""
    derived = wallet.derive(chain, index)
    entries = script_entries(derived, False) + derivation_entries(derived, False)
    return Pay(derived.script_pubkey, amount, entries)


def build_psbt(spends: list[Spend], pays: list[Pay], locktime: int = 0) -> bytes:
    """A BIP174 (v0) PSBT spending spends into pays."""
    prevs = [
        funding_tx(s.wallet.derive(s.chain, s.index).script_pubkey, s.amount, salt=n + 1)
        for n, s in enumerate(spends)
    ]
    tx = Tx(
        2,
        tuple(TxIn(OutPoint(p.txid(), 1), b"", RBF) for p in prevs),
        tuple(TxOut(p.amount, p.script_pubkey) for p in pays),
        locktime,
    )
    parts = [b"psbt\xff", kv(0x00, b"", tx.serialize_legacy()), b"\x00"]
    for spend, prev in zip(spends, prevs, strict=True):
        derived = spend.wallet.derive(spend.chain, spend.index)
        entries = []
        if spend.full_tx:
            entries.append(kv(0x00, b"", prev.serialize()))
        if spend.witness_utxo and spend.wallet.script_type.value not in ("p2pkh", "p2sh"):
            entries.append(kv(0x01, b"", prev.outputs[1].serialize()))
        entries += script_entries(derived, True)
        if spend.derivations:
            entries += derivation_entries(derived, True)
        parts += [*entries, *spend.extra, b"\x00"]
    for pay in pays:
        parts += [*pay.extra, b"\x00"]
    return b"".join(parts)


def init_keystore(home: Path, network: Network = Network.REGTEST) -> None:
    """`psbt keys init` from MNEMONIC, unencrypted, through the real command line."""
    home.mkdir(parents=True, exist_ok=True)
    words = home.parent / "mnemonic.txt"
    words.write_text(MNEMONIC + "\n")
    result = subprocess.run(
        [PSBT, "keys", "init", "--mnemonic-file", str(words), "--network", network.value,
         "--no-encryption"],
        env={**os.environ, "PSBTBRIDGE_HOME": str(home)},
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def run_psbt(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the real `psbt` command with PSBTBRIDGE_HOME=home."""
    return subprocess.run(
        [PSBT, *args],
        env={**os.environ, "PSBTBRIDGE_HOME": str(home)},
        input=stdin,
        capture_output=True,
        check=False,
    )
