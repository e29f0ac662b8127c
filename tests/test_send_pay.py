"""`psbt send --pay`: Electrum builds the PSBT, the cold qube signs it over (shimmed) qrexec,
the hot side checks, finalizes, and hands the transaction back to Electrum.

Real parts throughout: Debian's Electrum on regtest (offline, or an offline daemon where a
running Electrum is needed), watch-only wallets made by `psbt electrum setup-watch-only`
from the cold qube's `psbt keys export --json`, funded by local transactions, the shipped
service run as qrexec runs it with policy confirmation. Every final transaction is also
judged by python-bitcointx alone.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from embit.psbt import PSBT

from hot.electrum import Electrum
from hot.send import Payment, address_script, btc_to_sats, check_payments, parse_payments
from psbtbridge.errors import BridgeError, ExitStatus
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import address_of
from psbtbridge.tx import Tx
from psbtbridge.verify import verify_final_tx
from tests.support.electrum_harness import (
    bitcointx_verify,
    electrum_run,
    funding_tx,
    offline_daemon,
    regtest_electrum,
)
from tests.support.psbt_factory import Spend as FactorySpend
from tests.support.psbt_factory import build_psbt, change_to, make_keyset
from tests.support.qube_pair import (
    EXTERNAL,
    STRANGER,
    Cold,
    export,
    hot_env,
    make_cold,
    run_psbt,
    setup_watch_only,
)
from tests.support.verifying import spent_pairs

COIN = 30_000_000
FEERATE = "2"
WALLETS = ("pay", "all", "broadcast", "enrich", "running")
MAINNET_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP173's example


@dataclass(frozen=True)
class Wallet:
    """One hot wallet with its own Electrum data folder, and the coins it was funded with."""

    electrum: Electrum
    path: Path
    funding: tuple[bytes, ...]

    def previous(self) -> dict[str, bytes]:
        return {Tx.parse(raw).txid_hex(): raw for raw in self.funding}


@dataclass(frozen=True)
class World:
    cold: Cold
    folder: Path
    wallets: dict[str, Wallet]

    def env(self, electrum: Electrum, **extra: str) -> dict[str, str]:
        return hot_env(self.cold, electrum, self.folder / "hot", **extra)


def _parallel(function: Callable[[str], Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Each Electrum call is a ~1 s process start: run the wallets side by side."""
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(function, names), strict=True))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("send-pay")
    cold = make_cold(folder / "cold")
    export_file = export(cold, folder / "export.json")

    def make(name: str) -> Wallet:
        electrum = regtest_electrum(folder / f"electrum-{name}")
        path = folder / f"{name}.wallet"
        first = setup_watch_only(hot_env(cold, electrum, folder / "hot"), export_file, path)
        # Coins of their own (the cold ledger remembers every outpoint it signed); "pay" gets
        # two and spends both: a 2-input, 2-output transaction.
        salts = range(
            10 * WALLETS.index(name), 10 * WALLETS.index(name) + (2 if name == "pay" else 1)
        )
        coins = tuple(funding_tx(first, COIN, salt=salt) for salt in salts)
        for raw in coins:
            electrum.add_transaction(path, raw)
        return Wallet(electrum, path, coins)

    return World(cold, folder, _parallel(make, WALLETS))


def _pay(
    world: World, wallet: Wallet, *args: str, **env: str
) -> subprocess.CompletedProcess[bytes]:
    return run_psbt(
        world.env(wallet.electrum, **env),
        "send", "--to", "electrum", "--network", "regtest", "--feerate", FEERATE,
        "--wallet", str(wallet.path), *args,
    )  # fmt: skip


def _history(wallet: Wallet, txid: str) -> dict[str, Any]:
    history = json.loads(electrum_run(wallet.electrum, "onchain_history", "-w", str(wallet.path)))
    (entry,) = [t for t in history["transactions"] if t["txid"] == txid]
    found: dict[str, Any] = entry
    return found


def _judge(wallet: Wallet, raw: bytes) -> Tx:
    """python-bitcointx alone, then our verifier (bitcointx's VerifyScript) on the funding outputs."""
    tx = Tx.parse(raw)
    bitcointx_verify(raw, wallet.previous())
    spent = [
        Tx.parse(wallet.previous()[i.prevout.txid[::-1].hex()]).outputs[i.prevout.vout]
        for i in tx.inputs
    ]
    verify_final_tx(tx.serialize(), spent_pairs(spent))
    return tx


def test_pay_signs_finalizes_and_electrum_takes_the_spend(world: World) -> None:
    wallet = world.wallets["pay"]
    before = len(world.cold.decisions())
    result = _pay(world, wallet, "--pay", EXTERNAL, "0.5")
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    raw = bytes.fromhex(result.stdout.decode())
    tx = _judge(wallet, raw)
    assert (len(tx.inputs), len(tx.outputs)) == (2, 2)
    assert 50_000_000 in [o.value for o in tx.outputs]
    fee = 2 * COIN - sum(o.value for o in tx.outputs)
    # The screen: every output, the total in and the fee, and the name both sides show.
    assert f"asking electrum to sign request code {tx.txid_hex()[:8]}" in stderr
    assert "addresses for regtest" in stderr
    line = rf"\n  output [01]: 0\.50000000 BTC \(50,000,000 sat\)  {EXTERNAL}\n"
    assert re.search(line, stderr), stderr
    assert (
        f"from 2 input(s) of 0.60000000 BTC (60,000,000 sat); fee 0.{fee:08d} BTC ({fee:,} sat)"
        in stderr
    )
    assert "2 signature(s) verified" in stderr
    assert world.cold.decisions()[before:] == [("signed", None, "electrum-hot")]
    assert wallet.electrum.add_transaction(wallet.path, raw) == tx.txid_hex()
    balance = wallet.electrum.get_balance(wallet.path)
    assert balance.unconfirmed == 2 * COIN - 50_000_000 - fee
    spend = _history(wallet, tx.txid_hex())
    assert (spend["incoming"], spend["fee_sat"]) == (False, fee)


def test_pay_everything(world: World) -> None:
    wallet = world.wallets["all"]
    result = _pay(world, wallet, "--pay", EXTERNAL, "!")
    assert result.returncode == 0, result.stderr.decode()
    raw = bytes.fromhex(result.stdout.decode())
    tx = _judge(wallet, raw)
    (only,) = tx.outputs
    assert only.value < COIN and COIN - only.value < 1000  # everything but the fee
    assert wallet.electrum.add_transaction(wallet.path, raw) == tx.txid_hex()
    balance = wallet.electrum.get_balance(wallet.path)
    assert (balance.confirmed, balance.unconfirmed) == (0, 0)


def test_broadcast_failing_keeps_the_signed_transaction(world: World) -> None:
    """Electrum --offline cannot broadcast: exit 4, and the file named holds the signed tx."""
    wallet = world.wallets["broadcast"]
    result = _pay(world, wallet, "--pay", EXTERNAL, "0.1", "--broadcast")
    stderr = result.stderr.decode()
    assert result.returncode == ExitStatus.INTERNAL, stderr
    assert stderr.rstrip().endswith("[send.broadcast_failed]") and result.stdout == b""
    match = re.search(r"is saved in (\S+\.txn)", stderr)
    assert match, stderr
    saved = Path(match[1])
    assert saved.parent == world.folder / "hot" / "signed"
    assert saved.stat().st_mode & 0o777 == 0o600
    raw = bytes.fromhex(saved.read_text())
    tx = _judge(wallet, raw)
    assert saved.name == f"{tx.txid_hex()}.txn"
    assert f"broadcast it later with `electrum broadcast - < {saved}`" in stderr
    # Nothing lost: the file goes to Electrum as the message says (`broadcast - < FILE`
    # needs the network; `addtransaction` reads stdin the same way and works offline).
    added = electrum_run(
        wallet.electrum, "addtransaction", "-", "-w", str(wallet.path), stdin=saved.read_text()
    )
    assert added == tx.txid_hex()
    assert _history(wallet, tx.txid_hex())["incoming"] is False


def test_pay_and_broadcast_while_electrum_runs(world: World) -> None:
    """PSBTBRIDGE_ELECTRUM says --offline, but an Electrum runs on that folder (4.5 refuses
    offline commands then): payto and the broadcast go through it, the wallet loaded for
    each command and closed again. The running Electrum has no network here, so the
    broadcast fails as in test_broadcast_failing_keeps_the_signed_transaction."""
    wallet = world.wallets["running"]
    assert "--offline" in wallet.electrum.argv
    datadir = Path(wallet.electrum.argv[wallet.electrum.argv.index("-D") + 1])
    before = len(world.cold.decisions())
    with offline_daemon(datadir) as running:
        result = _pay(world, wallet, "--pay", EXTERNAL, "0.1", "--broadcast")
        stderr = result.stderr.decode()
        assert result.returncode == ExitStatus.INTERNAL, stderr
        assert stderr.rstrip().endswith("[send.broadcast_failed]"), stderr
        assert "needs the network" in stderr  # the running Electrum's answer, not a refusal
        assert json.loads(electrum_run(running, "list_wallets")) == []
    assert world.cold.decisions()[before:] == [("signed", None, "electrum-hot")]
    match = re.search(r"is saved in (\S+\.txn)", stderr)
    assert match, stderr
    raw = bytes.fromhex(Path(match[1]).read_text())
    tx = _judge(wallet, raw)
    assert 10_000_000 in [o.value for o in tx.outputs]
    # Once it stopped, the same command line works offline again.
    assert wallet.electrum.add_transaction(wallet.path, raw) == tx.txid_hex()


def _strip_previous_txs(psbt_b64: bytes) -> bytes:
    """Electrum's PSBT without PSBT_IN_NON_WITNESS_UTXO (witness_utxo stays): as some
    wallets make them, and what the cold signer refuses to sign."""
    psbt = PSBT.from_base64(psbt_b64.decode())
    for inp in psbt.inputs:
        assert inp.non_witness_utxo is not None and inp.witness_utxo is not None
        inp.non_witness_utxo = None
    stripped: bytes = psbt.serialize()
    return stripped


def test_missing_previous_transactions_are_added_from_the_running_wallet(
    world: World, tmp_path: Path
) -> None:
    wallet = world.wallets["enrich"]
    unsigned = base64.b64encode(wallet.electrum.payto(wallet.path, [(EXTERNAL, "0.1")], 2.0))
    request = tmp_path / "stripped.psbt"
    request.write_bytes(_strip_previous_txs(unsigned))
    send = ["send", str(request), "--to", "electrum", "--network", "regtest", "--finalize"]
    # As it is, the signer refuses it (checked on a copy of the cold home: nothing logged).
    copy = tmp_path / "cold-copy"
    shutil.copytree(world.cold.home, copy)
    bare = run_psbt({"PSBTBRIDGE_HOME": str(copy)}, "sign", "--confirm", "policy", str(request))
    assert bare.returncode == ExitStatus.REFUSED
    assert bare.stderr.decode().rstrip().endswith("[proof.missing_non_witness_utxo]")
    before = world.cold.decisions()

    # Electrum's --offline command line cannot look transactions up: refused, nothing sent.
    offline = run_psbt(world.env(wallet.electrum), *send, "--wallet", str(wallet.path))
    stderr = offline.stderr.decode()
    assert offline.returncode == ExitStatus.INTERNAL, stderr
    assert stderr.rstrip().endswith("[send.prevtx_unavailable]")
    assert "electrum daemon -d" in stderr and offline.stdout == b""
    assert world.cold.decisions() == before

    datadir = wallet.electrum.argv[wallet.electrum.argv.index("-D") + 1]
    with offline_daemon(Path(datadir), wallet.path) as running:
        # A running Electrum (here a daemon without network) answers from the wallet ...
        result = run_psbt(world.env(running), *send, "--wallet", str(wallet.path))
        assert result.returncode == 0, result.stderr.decode()
        raw = bytes.fromhex(result.stdout.decode())
        tx = _judge(wallet, raw)
        assert world.cold.decisions()[len(before) :] == [("signed", None, "electrum-hot")]
        assert running.add_transaction(wallet.path, raw) == tx.txid_hex()
        # ... but only from the wallet: without one it would ask its server, and it has none.
        unnamed = run_psbt(world.env(running), *send)
        assert unnamed.returncode == ExitStatus.INTERNAL
        assert unnamed.stderr.decode().rstrip().endswith("[send.prevtx_unavailable]")
        # The GUI-like setup for --pay: payto through the running Electrum, broadcast fails
        # (no network), the signed transaction is kept.
        through_daemon = Wallet(running, wallet.path, wallet.funding)
        paid = _pay(world, through_daemon, "--pay", EXTERNAL, "0.05", "--broadcast")
        assert paid.returncode == ExitStatus.INTERNAL, paid.stderr.decode()
        assert paid.stderr.decode().rstrip().endswith("[send.broadcast_failed]")


# --- checked before Electrum is asked anything (PSBTBRIDGE_ELECTRUM names no program)

USAGE = {
    "no fee rate": (["--pay", EXTERNAL, "0.1"], "send.usage"),
    "zero": (["--pay", EXTERNAL, "0", "--feerate", "2"], "send.bad_amount"),
    "exponent": (["--pay", EXTERNAL, "1e-3", "--feerate", "2"], "send.bad_amount"),
    "nine decimals": (["--pay", EXTERNAL, "0.000000001", "--feerate", "2"], "send.bad_amount"),
    "over 21M": (["--pay", EXTERNAL, "21000000.00000001", "--feerate", "2"], "send.bad_amount"),
    "leading zero": (["--pay", EXTERNAL, "00.1", "--feerate", "2"], "send.bad_amount"),
    "arabic-indic digit": (["--pay", EXTERNAL, "\u0661", "--feerate", "2"], "send.bad_amount"),
    "two everythings": (
        ["--pay", EXTERNAL, "!", "--pay", STRANGER, "!", "--feerate", "2"],
        "send.bad_amount",
    ),
    "mainnet address": (["--pay", MAINNET_ADDRESS, "0.1", "--feerate", "2"], "send.wrong_network"),
    "not an address": (
        ["--pay", "bcrt1qnotanaddress", "0.1", "--feerate", "2"],
        "send.bad_address",
    ),
    "contact name": (["--pay", "alice@example.com", "0.1", "--feerate", "2"], "send.bad_address"),
    "zero fee rate": (["--pay", EXTERNAL, "0.1", "--feerate", "0"], "electrum.bad_feerate"),
    "nan fee rate": (["--pay", EXTERNAL, "0.1", "--feerate", "nan"], "electrum.bad_feerate"),
    "file and --pay": (["x.psbt", "--pay", EXTERNAL, "0.1", "--feerate", "2"], "send.usage"),
    "broadcast a file": (["x.psbt", "--broadcast"], "send.usage"),
    "fee rate for a file": (["x.psbt", "--feerate", "2"], "send.usage"),
}


@pytest.mark.parametrize("args, code", USAGE.values(), ids=USAGE.keys())
def test_bad_command_lines_fail_before_electrum_runs(
    tmp_path: Path, args: list[str], code: str
) -> None:
    env = {"PSBTBRIDGE_HOME": str(tmp_path), "PSBTBRIDGE_ELECTRUM": str(tmp_path / "no-electrum")}
    result = run_psbt(env, "send", "--to", "electrum", "--network", "regtest", *args)
    assert result.returncode == ExitStatus.USAGE, result.stderr.decode()
    assert result.stderr.decode().rstrip().endswith(f"[{code}]"), result.stderr.decode()


def test_the_summary_shows_addresses_of_the_network_electrum_runs_on(tmp_path: Path) -> None:
    """Issue 14 item 6: without --network the hot side takes the network of the Electrum it
    drives (PSBTBRIDGE_ELECTRUM), so a regtest PSBT lists the bcrt1 addresses the cold
    dialog shows; --network may only repeat it; a plain `electrum` is main, and a PSBT whose
    paths say otherwise is named as such."""
    keys = make_keyset(tmp_path / "cold", registered=False)
    wallet = keys.wallets["p2wpkh"]
    request = tmp_path / "request.psbt"
    request.write_bytes(
        build_psbt([FactorySpend(wallet, 0, 3, 100_000)], [change_to(wallet, 1, 3, 90_000)])
    )
    nowhere = str(tmp_path / "no-electrum")
    env = {
        "PSBTBRIDGE_HOME": str(tmp_path / "hot"),
        "PSBTBRIDGE_ELECTRUM": f"{nowhere} --regtest",
        "PSBTBRIDGE_QREXEC_CLIENT": "false",  # the summary comes before the call
    }
    address = address_of(wallet.derive(1, 3).script_pubkey, Network.REGTEST)
    stderr = run_psbt(env, "send", str(request), "--to", "electrum").stderr.decode()
    assert "addresses for regtest" in stderr, stderr
    assert f"  output 0: 0.00090000 BTC (90,000 sat)  {address}\n" in stderr
    assert "derivation paths name" not in stderr
    mismatch = run_psbt(env, "send", str(request), "--to", "electrum", "--network", "main")
    assert mismatch.returncode == ExitStatus.USAGE
    assert mismatch.stderr.decode().rstrip().endswith("[send.network_mismatch]")
    plain = {**env, "PSBTBRIDGE_ELECTRUM": nowhere}
    stderr = run_psbt(plain, "send", str(request), "--to", "electrum").stderr.decode()
    assert "addresses for main" in stderr
    assert "warning: derivation paths name coin type 1 (test networks)" in stderr


def test_amounts_are_exact() -> None:
    assert btc_to_sats("0.00000001") == 1
    assert btc_to_sats("21000000") == 21_000_000 * 100_000_000
    assert btc_to_sats("1.5") == 150_000_000
    payment = Payment("x", b"", 150_000_000)
    assert payment.electrum_amount == "1.5"
    assert Payment("x", b"", 100_000_000).electrum_amount == "1"
    assert Payment("x", b"", 1).electrum_amount == "0.00000001"


def test_uppercase_bech32_is_the_same_address() -> None:
    assert address_script(EXTERNAL.upper(), Network.REGTEST) == address_script(
        EXTERNAL, Network.REGTEST
    )


def test_electrum_leaving_out_a_payment_is_refused(world: World) -> None:
    wallet = world.wallets["enrich"]
    unsigned = Psbt.parse(wallet.electrum.payto(wallet.path, [(EXTERNAL, "0.1")], 2.0))
    check_payments(unsigned, parse_payments([(EXTERNAL, "0.1")], Network.REGTEST))
    for pays in ([(EXTERNAL, "0.1"), (EXTERNAL, "0.1")], [(EXTERNAL, "0.2")]):
        with pytest.raises(BridgeError) as caught:
            check_payments(unsigned, parse_payments(pays, Network.REGTEST))
        assert caught.value.code == "send.payment_missing"
