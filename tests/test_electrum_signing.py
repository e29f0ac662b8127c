"""The cold signer end to end against the real Electrum (Debian's 4.3.4 or 4.5.8, regtest, offline).

Electrum watch-only wallets are made from `psbt keys export --json` by `psbt electrum
setup-watch-only`; Electrum's unsigned PSBTs are signed by `psbt sign --confirm policy`
(a second cold home from cosigner mnemonic #1 adds the multisig's second signature) and
finalized by `psbt finalize`. Electrum's acceptance alone proves nothing about signatures
(it never checks them offline: see the tampered-signature control), so every final
transaction also runs through python-bitcointx's VerifyScript, with its own sighashes.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bitcointx.core import ValidationError
from embit.psbt import PSBT
from embit.script import p2wpkh

from hot.electrum import ENV_VAR, Electrum
from psbtbridge.errors import Refused
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.finalize import extract, finalize
from psbtbridge.tx import Tx, TxOut
from psbtbridge.verify import verify_final_tx
from tests.support.electrum_harness import (
    COSIGNER_MNEMONICS,
    MNEMONIC,
    NETWORK,
    bitcointx_verify,
    electrum_status,
    funding_tx,
    regtest_electrum,
    restore_bare,
    root_key,
    vault_descriptor,
)
from tests.support.psbt_factory import PSBT as PSBT_COMMAND
from tests.support.verifying import spent_pairs

NAMES = ("p2wpkh", "p2sh-p2wpkh", "p2pkh", "vault")
FUNDS = 50_000_000
PAY_SATS = 10_000_000
FEERATE = 2.0
#: Someone else's address (cosigner #1's own BIP84 account), the one the policy allows.
EXTERNAL: str = p2wpkh(root_key(COSIGNER_MNEMONICS[0]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)
POLICY = f"""[unattended]
enabled = true
allowed_destinations = ["{EXTERNAL}"]
max_per_transaction = {PAY_SATS + 100_000}
max_per_24h = {10 * PAY_SATS}
refuse_on_warning = true
"""


@dataclass(frozen=True)
class Journey:
    """One Electrum wallet's way through the cold signer and back, up to the final tx."""

    electrum: Electrum
    wallet: Path
    spare: Path  # a copy of the funded wallet, before any spend (for the tampered control)
    funding: bytes
    unsigned: bytes  # base64, as Electrum printed it
    signed: bytes  # base64, as `psbt sign` printed it (ours; vault: then the cosigner's)
    partly: bytes | None  # vault: ours only, before the cosigner signed
    final: bytes  # the raw transaction `psbt finalize` printed


def run_psbt(
    home: Path, *args: str, stdin: bytes | None = None, electrum: Electrum | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real `psbt` command with PSBTBRIDGE_HOME=home (and Electrum's command line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    env["PSBTBRIDGE_HOME"] = str(home)
    if electrum is not None:
        env[ENV_VAR] = shlex.join(electrum.argv)
    return subprocess.run(
        [PSBT_COMMAND, *args], env=env, input=stdin, capture_output=True, timeout=60, check=False
    )


def _ok(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def _init_home(home: Path, mnemonic: str) -> Path:
    """`psbt keys init` from mnemonic (regtest, unencrypted) and the unattended policy."""
    home.mkdir(parents=True)
    words = home.parent / f"{home.name}-mnemonic.txt"
    words.write_text(mnemonic + "\n")
    init = ["keys", "init", "--mnemonic-file", str(words), "--network", NETWORK.value]
    _ok(run_psbt(home, *init, "--no-encryption"))
    (home / "policy.toml").write_text(POLICY)
    return home


def _vault_descriptor(home: Path) -> str:
    return vault_descriptor(_ok(run_psbt(home, "keys", "export")).decode())


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("electrum-signing")


@pytest.fixture(scope="module")
def homes(folder: Path) -> tuple[Path, Path]:
    """Our cold home and cosigner #1's, both with the vault registered by `psbt wallet add`."""
    ours = _init_home(folder / "cold", MNEMONIC)
    cosigner = _init_home(folder / "cosigner", COSIGNER_MNEMONICS[0])
    descriptor = _vault_descriptor(ours)
    for home in (ours, cosigner):
        _ok(run_psbt(home, "wallet", "add", "vault", descriptor, "--yes"))
    return ours, cosigner


@pytest.fixture(scope="module")
def export(folder: Path, homes: tuple[Path, Path]) -> Path:
    path = folder / "export.json"
    path.write_bytes(_ok(run_psbt(homes[0], "keys", "export", "--json")))
    return path


def _sign(home: Path, psbt: bytes) -> bytes:
    return _ok(run_psbt(home, "sign", "--confirm", "policy", stdin=psbt))


def _journey(folder: Path, homes: tuple[Path, Path], export: Path, name: str) -> Journey:
    electrum = regtest_electrum(folder / f"electrum-{name}")
    wallet = folder / f"{name}.wallet"
    setup = run_psbt(
        homes[0], "electrum", "setup-watch-only", "--from", str(export), "--wallet", str(wallet),
        "--name", name, "--json", electrum=electrum,
    )  # fmt: skip
    first_address = json.loads(_ok(setup))["first_address"]
    funding = funding_tx(first_address, FUNDS)
    electrum.add_transaction(wallet, funding)
    spare = folder / f"{name}-spare.wallet"
    shutil.copy(wallet, spare)
    unsigned = base64.b64encode(electrum.payto(wallet, [(EXTERNAL, "0.1")], FEERATE))
    signed = _sign(homes[0], unsigned)
    partly = None
    if name == "vault":
        partly, signed = signed, _sign(homes[1], signed)
    final = bytes.fromhex(_ok(run_psbt(homes[0], "finalize", stdin=signed)).decode())
    return Journey(electrum, wallet, spare, funding, unsigned, signed, partly, final)


def _parallel(function: Callable[[str], Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Each Electrum call is a ~1 s process start: run the wallets side by side."""
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(function, names), strict=True))


@pytest.fixture(scope="module")
def journeys(folder: Path, homes: tuple[Path, Path], export: Path) -> dict[str, Journey]:
    return _parallel(lambda name: _journey(folder, homes, export, name), NAMES)


def _spent_outputs(raw: bytes, funding: bytes) -> list[TxOut | None]:
    previous = Tx.parse(funding)
    return [previous.outputs[i.prevout.vout] for i in Tx.parse(raw).inputs]


def _our_sigs(psbt_b64: bytes) -> list[int]:
    return [len(inp.partial_sigs) for inp in PSBT.from_base64(psbt_b64.decode()).inputs]


@pytest.mark.parametrize("name", NAMES)
def test_signed_psbt_is_complete_for_electrum_and_verifies_independently(
    journeys: dict[str, Journey], name: str
) -> None:
    one = journeys[name]
    assert _our_sigs(one.unsigned) == [0]
    assert _our_sigs(one.signed) == [2 if name == "vault" else 1]
    status = electrum_status(one.electrum, one.wallet, one.signed)
    assert (status["complete"], status["status"]) == (True, "Signed")
    # Electrum's own finalizer builds the very transaction `psbt finalize` built.
    assert bytes.fromhex(status["tx"]) == one.final
    bitcointx_verify(one.final, {Tx.parse(one.funding).txid_hex(): one.funding})
    verify_final_tx(one.final, spent_pairs(_spent_outputs(one.final, one.funding)))


def test_multisig_needs_the_second_cosigner(
    journeys: dict[str, Journey], homes: tuple[Path, Path]
) -> None:
    one = journeys["vault"]
    assert one.partly is not None
    assert _our_sigs(one.partly) == [1]
    status = electrum_status(one.electrum, one.wallet, one.partly)
    assert (status["complete"], status["status"]) == (False, "Partially signed (1/2)")
    refused = run_psbt(homes[0], "finalize", stdin=one.partly)
    assert refused.returncode == 1
    assert b"[finalize.missing_signature]" in refused.stderr


def _hand_back(one: Journey) -> tuple[str, Any, dict[str, Any]]:
    txid = one.electrum.add_transaction(one.wallet, one.final)
    balance = one.electrum.get_balance(one.wallet)
    history = subprocess.run(
        [*one.electrum.argv, "onchain_history", "-w", str(one.wallet)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return txid, balance, json.loads(history.stdout)


def test_electrum_takes_the_transactions_back(journeys: dict[str, Journey]) -> None:
    results = _parallel(lambda name: _hand_back(journeys[name]), NAMES)
    for name, (txid, balance, history) in results.items():
        final = Tx.parse(journeys[name].final)
        fee = FUNDS - sum(out.value for out in final.outputs)
        assert txid == final.txid_hex(), name
        assert (balance.confirmed, balance.unconfirmed) == (0, FUNDS - PAY_SATS - fee), name
        (spend,) = [t for t in history["transactions"] if t["txid"] == txid]
        assert (spend["incoming"], spend["fee_sat"], len(history["transactions"])) == (
            False,
            fee,
            2,
        ), name


def _tamper(psbt_b64: bytes) -> bytes:
    """Flip one bit inside the signature's r value: still strict DER, no longer valid."""
    psbt = PSBT.from_base64(psbt_b64.decode())
    ((pubkey, signature),) = psbt.inputs[0].partial_sigs.items()
    bad = bytearray(signature)
    bad[10] ^= 0x01
    psbt.inputs[0].partial_sigs[pubkey] = bytes(bad)
    return psbt.to_base64().encode()


def test_a_bad_signature_is_refused_by_us_and_taken_by_electrum(
    journeys: dict[str, Journey], homes: tuple[Path, Path]
) -> None:
    """The negative control: Electrum calls it signed and stores it; only the verifier knows."""
    one = journeys["p2wpkh"]
    tampered = _tamper(one.signed)
    refused = run_psbt(homes[0], "finalize", stdin=tampered)
    assert refused.returncode == 1
    # verify.script_failed is raised only from bitcointx's VerifyScript failing the input.
    assert b"[verify.script_failed]" in refused.stderr
    unverified = extract(finalize(Psbt.parse(base64.b64decode(tampered))))
    with pytest.raises(Refused) as caught:
        verify_final_tx(
            unverified.serialize(), spent_pairs(_spent_outputs(unverified.serialize(), one.funding))
        )
    assert caught.value.code == "verify.script_failed"
    with pytest.raises(ValidationError):
        bitcointx_verify(unverified.serialize(), {Tx.parse(one.funding).txid_hex(): one.funding})
    # Electrum: "Signed", complete, and it adds the invalid spend to the wallet's history.
    status = electrum_status(one.electrum, one.spare, tampered)
    assert (status["complete"], status["status"]) == (True, "Signed")
    assert bytes.fromhex(status["tx"]) == unverified.serialize() != one.final
    assert one.electrum.add_transaction(one.spare, unverified.serialize()) == unverified.txid_hex()
    assert one.electrum.get_balance(one.spare).unconfirmed < FUNDS - PAY_SATS


def test_bare_xpub_wallet_psbts_are_signed(
    folder: Path, homes: tuple[Path, Path], export: Path
) -> None:
    """`electrum restore VPUB`: PSBTs name the account key's own fingerprint and m/0/i."""
    document = json.loads(export.read_text())
    (entry,) = [w for w in document["wallets"] if w["name"] == "p2wpkh"]
    electrum = regtest_electrum(folder / "electrum-bare")
    wallet = restore_bare(electrum, folder / "bare.wallet", entry["electrum_xpub"])
    (first,) = electrum.list_addresses(wallet)[:1]
    funding = funding_tx(first, FUNDS, salt=1)
    electrum.add_transaction(wallet, funding)
    unsigned = base64.b64encode(electrum.payto(wallet, [(EXTERNAL, "0.1")], FEERATE))
    (derivation,) = PSBT.from_base64(unsigned.decode()).inputs[0].bip32_derivations.values()
    assert derivation.derivation == [0, 0]
    signed = _sign(homes[0], unsigned)
    assert _our_sigs(signed) == [1]
    final = bytes.fromhex(_ok(run_psbt(homes[0], "finalize", stdin=signed)).decode())
    bitcointx_verify(final, {Tx.parse(funding).txid_hex(): funding})
    assert electrum.add_transaction(wallet, final) == Tx.parse(final).txid_hex()
