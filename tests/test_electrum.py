"""hot/electrum.py against the real Electrum (Debian 12's 4.3.4 or Debian 13's 4.5.8, see
tests/support/electrum_harness.py; regtest, offline), no mocks."""

from __future__ import annotations

import base64
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from embit import bip32
from embit.psbt import PSBT
from embit.script import p2wpkh

from hot.electrum import ENV_VAR, Electrum, WatchOnlyWallet
from hot.watch_only import watchable_from_export
from psbtbridge.errors import BridgeError, ConfigError, ExitStatus, UsageError
from psbtbridge.tx import Tx
from psbtbridge.wallet import electrum_xpub
from psbtbridge.wallet.export import first_address
from tests.support.electrum_harness import (
    COSIGNER_MNEMONICS,
    ELECTRUM_ARGV,
    NETWORK,
    create_seed_wallet,
    electrum_version,
    export_document,
    funding_tx,
    make_wallet,
    offline_daemon,
    regtest_electrum,
    restore_bare,
    root_key,
    sign_with_electrum,
)

NAMES = ("p2wpkh", "p2sh-p2wpkh", "p2pkh", "vault")
FUNDS = 50_000_000
PAY = "0.1"
PAY_SATS = 10_000_000
FEERATE = 2.0
#: An address none of our wallets owns (the first cosigner's own BIP84 account).
EXTERNAL: str = p2wpkh(root_key(COSIGNER_MNEMONICS[0]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)


@dataclass(frozen=True)
class Made:
    electrum: Electrum
    wallet: WatchOnlyWallet
    psbt: bytes


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("electrum")


@pytest.fixture(scope="module")
def export(folder: Path) -> bytes:
    data = json.dumps(export_document()).encode()
    (folder / "export.json").write_bytes(data)
    return data


@pytest.fixture(scope="module")
def made(folder: Path, export: bytes) -> dict[str, Made]:
    """Every wallet type created, funded and asked for an unsigned PSBT, in parallel (~1 s a call)."""

    def one(name: str) -> Made:
        electrum, wallet = make_wallet(folder, name, export, FUNDS)
        return Made(electrum, wallet, electrum.payto(wallet.path, [(EXTERNAL, PAY)], FEERATE))

    with ThreadPoolExecutor(len(NAMES)) as pool:
        return dict(zip(NAMES, pool.map(one, NAMES), strict=True))


def _origins(export: bytes, name: str) -> dict[str, tuple[int, ...]]:
    """Master fingerprint (hex) -> account path, for every key of wallet `name`."""
    wallet = watchable_from_export(export, name)
    return {k.origin.fingerprint.hex(): k.origin.path for k in wallet.keys}


@pytest.mark.parametrize("name", NAMES)
def test_unsigned_psbt_carries_full_origin_and_previous_tx(
    made: dict[str, Made], export: bytes, name: str
) -> None:
    psbt = PSBT.parse(made[name].psbt)
    origins = _origins(export, name)
    assert not psbt.xpubs  # Electrum 4.3 adds no PSBT_GLOBAL_XPUB, multisig included
    assert len(psbt.inputs) == 1
    for i, (txin, scope) in enumerate(zip(psbt.tx.vin, psbt.inputs, strict=True)):
        assert scope.non_witness_utxo is not None, f"input {i}"
        assert scope.non_witness_utxo.txid() == txin.txid
        assert {d.fingerprint.hex() for d in scope.bip32_derivations.values()} == set(origins)
        for derivation in scope.bip32_derivations.values():
            account = origins[derivation.fingerprint.hex()]
            assert tuple(derivation.derivation) == (*account, 0, 0)  # first receive address
    change = [o for o in psbt.outputs if o.bip32_derivations]
    assert len(change) == 1 and len(psbt.outputs) == 2
    for derivation in change[0].bip32_derivations.values():
        assert tuple(derivation.derivation) == (*origins[derivation.fingerprint.hex()], 1, 0)
    paid = [psbt.tx.vout[i].value for i, o in enumerate(psbt.outputs) if not o.bip32_derivations]
    assert paid == [PAY_SATS]


def test_round_trip_through_an_electrum_seed_wallet(made: dict[str, Made], folder: Path) -> None:
    """Sign with Electrum's own signtransaction (the benchmark's reference), hand the tx back."""
    one = made["p2wpkh"]
    seed_wallet = create_seed_wallet(folder / "seed.wallet")
    signed_hex = sign_with_electrum(one.electrum, seed_wallet, base64.b64encode(one.psbt).decode())
    raw = bytes.fromhex(signed_hex)  # complete: Electrum prints the final tx, not a PSBT
    tx = Tx.parse(raw)
    fee = FUNDS - sum(out.value for out in tx.outputs)
    # Electrum charges feerate x its own size estimate, which runs high (150 vB for these 141).
    assert FEERATE * tx.vsize() <= fee <= FEERATE * tx.vsize() * 1.1
    txid = one.electrum.add_transaction(one.wallet.path, raw)
    assert txid == tx.txid_hex()
    assert one.electrum.add_transaction(one.wallet.path, raw) == txid  # idempotent
    balance = one.electrum.get_balance(one.wallet.path)
    assert (balance.confirmed, balance.unconfirmed) == (0, FUNDS - PAY_SATS - fee)


def test_paytomany_pays_every_output(made: dict[str, Made]) -> None:
    one = made["vault"]
    outputs = [(EXTERNAL, "0.01"), (EXTERNAL, "0.02000001")]
    psbt = PSBT.parse(one.electrum.payto(one.wallet.path, outputs, 1.5))
    values = sorted(out.value for out in psbt.tx.vout)
    assert values[:2] == [1_000_000, 2_000_001] and len(values) == 3


def test_insufficient_funds(made: dict[str, Made]) -> None:
    one = made["p2pkh"]
    with pytest.raises(BridgeError) as caught:
        one.electrum.payto(one.wallet.path, [(EXTERNAL, "1")], FEERATE)
    assert caught.value.code == "electrum.insufficient_funds"


def test_unrelated_transaction_is_refused(made: dict[str, Made]) -> None:
    one = made["p2sh-p2wpkh"]
    with pytest.raises(BridgeError) as caught:
        one.electrum.add_transaction(one.wallet.path, funding_tx(EXTERNAL, 1000))
    assert caught.value.code == "electrum.unrelated_tx"


def test_offline_electrum_cannot_broadcast_or_fetch(made: dict[str, Made]) -> None:
    one = made["p2sh-p2wpkh"]
    with pytest.raises(BridgeError) as caught:
        one.electrum.broadcast(funding_tx(EXTERNAL, 1000))
    assert caught.value.code == "electrum.offline"
    assert caught.value.exit_status == ExitStatus.INTERNAL
    # Electrum 4.3's client refuses gettransaction offline even for the wallet's own txs.
    with pytest.raises(BridgeError) as caught:
        one.electrum.get_transaction(one.wallet.path, "00" * 32)
    assert caught.value.code == "electrum.offline"


def test_through_a_daemon_started_offline(made: dict[str, Made], folder: Path) -> None:
    source = made["p2pkh"].wallet.path
    wallet = folder / "daemon" / "copy.wallet"
    wallet.parent.mkdir()
    shutil.copy(source, wallet)
    funding = funding_tx(made["p2pkh"].wallet.first_address, FUNDS)
    with offline_daemon(folder / "daemon", wallet) as client:
        assert client.version() == electrum_version()
        assert PSBT.parse(client.payto(wallet, [(EXTERNAL, PAY)], FEERATE)).inputs
        assert client.get_transaction(wallet, Tx.parse(funding).txid_hex()) == funding
        with pytest.raises(BridgeError) as caught:
            client.broadcast(funding)
        assert caught.value.code == "electrum.offline"
        with pytest.raises(ConfigError) as caught_config:
            client.get_balance(source)
        assert caught_config.value.code == "electrum.wallet_not_loaded"


def test_errors_through_the_daemon_are_one_line(folder: Path) -> None:
    """A file that is not a wallet, opened through a running Electrum: 4.5 answers with a
    traceback and a generic last line; the error is the exception's one line."""
    garbage = folder / "garbage.wallet"
    garbage.write_text("this is not a wallet\n")
    configured = regtest_electrum(folder / "daemon-errors")  # --offline: loaded for the command
    with offline_daemon(folder / "daemon-errors"), pytest.raises(BridgeError) as caught:
        configured.get_balance(garbage)
    assert caught.value.code == "electrum.failed"
    message = caught.value.message
    assert "\n" not in message and "internal error" not in message, message
    assert message.endswith("WalletFileException: Cannot read wallet file. (parsing failed)")


def test_lockfile_is_where_electrum_puts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """DIR/NETWORK/daemon (simple_config.electrum_path and daemon.get_lockfile, 4.3 and 4.5)."""
    assert Electrum(("electrum", "--regtest", "-D", "/x")).lockfile() == Path("/x/regtest/daemon")
    assert Electrum(("e", "--dir=/y", "--testnet")).lockfile() == Path("/y/testnet/daemon")
    assert Electrum(("e", "--signet", "--dir", "/y")).lockfile() == Path("/y/signet/daemon")
    monkeypatch.setenv("ELECTRUMDIR", "/z")
    assert Electrum(("electrum", "--offline")).lockfile() == Path("/z/daemon")
    monkeypatch.delenv("ELECTRUMDIR")
    monkeypatch.setenv("HOME", "/home/user")
    assert Electrum(("electrum",)).lockfile() == Path("/home/user/.electrum/daemon")


def test_no_daemon_says_what_to_start(made: dict[str, Made], folder: Path) -> None:
    client = regtest_electrum(folder / "nobody-home", offline=False)
    with pytest.raises(ConfigError) as caught:
        client.get_balance(made["p2wpkh"].wallet.path)
    assert caught.value.code == "electrum.not_running"
    assert "electrum daemon -d" in caught.value.message


def test_missing_electrum() -> None:
    with pytest.raises(ConfigError) as caught:
        Electrum(("/nonexistent/electrum",)).version()
    assert caught.value.code == "electrum.missing"
    assert ENV_VAR in caught.value.message


def test_command_line_from_environment() -> None:
    assert Electrum.from_environ({}).argv == ("electrum",)
    assert Electrum.from_environ({ENV_VAR: "  "}).argv == ("electrum",)
    given = Electrum.from_environ({ENV_VAR: "electrum --regtest -D '/tmp/a b'"})
    assert given.argv == ("electrum", "--regtest", "-D", "/tmp/a b")
    with pytest.raises(ConfigError) as caught:
        Electrum.from_environ({ENV_VAR: "electrum -D 'open"})
    assert caught.value.code == "electrum.bad_command"


@pytest.mark.parametrize(
    ("outputs", "feerate", "code"),
    [
        ([], 1.0, "electrum.bad_output_count"),
        ([("--offline", "0.1")], 1.0, "electrum.bad_address"),
        ([("alice@example.com", "0.1")], 1.0, "electrum.bad_address"),
        ([("bcrt1q", "0.1")], 1.0, "electrum.bad_address"),
        ([(EXTERNAL, "0")], 1.0, "electrum.bad_amount"),
        ([(EXTERNAL, "-1")], 1.0, "electrum.bad_amount"),
        ([(EXTERNAL, "1e5")], 1.0, "electrum.bad_amount"),
        ([(EXTERNAL, "0.123456789")], 1.0, "electrum.bad_amount"),
        ([(EXTERNAL, " 1")], 1.0, "electrum.bad_amount"),
        ([(EXTERNAL, "0.1")], 0.0, "electrum.bad_feerate"),
        ([(EXTERNAL, "0.1")], -1.0, "electrum.bad_feerate"),
        ([(EXTERNAL, "0.1")], float("nan"), "electrum.bad_feerate"),
        ([(EXTERNAL, "0.1")], float("inf"), "electrum.bad_feerate"),
        ([(EXTERNAL, "0.1")], 10_001.0, "electrum.bad_feerate"),
        ([(EXTERNAL, "0.1")], True, "electrum.bad_feerate"),
    ],
)
def test_payto_arguments_are_checked_before_electrum_runs(
    outputs: list[tuple[str, str]], feerate: Any, code: str
) -> None:
    # An Electrum that cannot start: reaching it would raise electrum.missing instead.
    with pytest.raises(UsageError) as caught:
        Electrum(("/nonexistent/electrum",)).payto(None, outputs, feerate)
    assert caught.value.code == code


def test_bad_transactions_are_refused_before_electrum_runs() -> None:
    electrum = Electrum(("/nonexistent/electrum",))
    for call in (
        lambda: electrum.broadcast(b"\x01\x02"),
        lambda: electrum.add_transaction(None, b""),
    ):
        with pytest.raises(BridgeError) as caught:
            call()
        assert caught.value.code == "electrum.bad_tx"
    with pytest.raises(UsageError) as caught_usage:
        electrum.get_transaction(None, "AB" * 32)
    assert caught_usage.value.code == "electrum.bad_txid"


def test_create_watch_only_never_overwrites(made: dict[str, Made], export: bytes) -> None:
    one = made["p2wpkh"]
    before = one.wallet.path.read_bytes()
    with pytest.raises(UsageError) as caught:
        one.electrum.create_watch_only(one.wallet.path, watchable_from_export(export, "p2wpkh"))
    assert caught.value.code == "electrum.wallet_exists"
    assert one.wallet.path.read_bytes() == before


@pytest.mark.parametrize(
    ("flags", "code"),
    [((), "electrum.wrong_network"), (("--testnet",), "electrum.address_mismatch")],
)
def test_wrong_network_leaves_no_file(
    folder: Path, export: bytes, flags: tuple[str, ...], code: str
) -> None:
    electrum = Electrum((*ELECTRUM_ARGV, *flags, "--offline", "-D", str(folder / "other-net")))
    path = folder / f"wrong-net{len(flags)}.wallet"
    with pytest.raises(BridgeError) as caught:
        electrum.create_watch_only(path, watchable_from_export(export, "vault"))
    assert caught.value.code == code
    assert not path.exists()


def test_bare_xpub_wallet_names_the_account_key_itself(folder: Path, export: bytes) -> None:
    """`electrum restore VPUB` alone: fingerprint of the xpub itself and paths m/0/i, m/1/i."""
    watched = watchable_from_export(export, "p2wpkh")
    electrum = regtest_electrum(folder / "electrum-bare")
    path = restore_bare(
        electrum,
        folder / "bare.wallet",
        electrum_xpub(watched.keys[0].xpub, watched.script_type, watched.network),
    )
    electrum.add_transaction(path, funding_tx(first_address(watched), FUNDS, salt=7))
    psbt = PSBT.parse(electrum.payto(path, [(EXTERNAL, PAY)], FEERATE))
    account_fingerprint = bip32.HDKey.from_string(watched.keys[0].xpub).my_fingerprint
    (derivation,) = psbt.inputs[0].bip32_derivations.values()
    assert derivation.fingerprint == account_fingerprint
    assert derivation.derivation == [0, 0]
    assert psbt.inputs[0].non_witness_utxo is not None


@pytest.mark.parametrize(
    ("printed", "sats"),
    [("0E-8", 0), ("1E-8", 1), ("1.2E-7", 12), ("0.999997", 99_999_700), ("-0.5", -50_000_000)],
)
def test_balances_as_electrum_prints_them(printed: str, sats: int) -> None:
    """Electrum prints str(Decimal(sats) / COIN), exponents included."""
    from hot.electrum import _sats

    assert _sats(printed, printed) == sats


@pytest.mark.parametrize(
    "printed", ["1e999999", "1e999990", "1E-9", "21000001", "NaN", "Infinity", " 1", "1e99", 5]
)
def test_balances_out_of_bounds(printed: object) -> None:
    """Issue 16 item 5: no decimal.Overflow, no half-minute int(); electrum.bad_output."""
    from hot.electrum import _sats

    with pytest.raises(BridgeError) as caught:
        _sats(printed, str(printed))
    assert caught.value.code == "electrum.bad_output"
