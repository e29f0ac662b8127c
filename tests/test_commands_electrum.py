"""hot/commands/electrum.py: `psbt electrum setup-watch-only` run as a user runs it, real Electrum."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hot.electrum import ENV_VAR
from tests.support.electrum_harness import (
    ELECTRUM,
    NETWORK,
    electrum_run,
    electrum_version,
    export_document,
    offline_daemon,
    read_wallet_file,
    root_key,
)

PSBT = str(Path(sys.executable).parent / "psbt")
EXPORT = export_document()
FIRST_P2WPKH = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(EXPORT))
    return path


def _psbt(
    tmp_path: Path, *args: str, stdin: str = "", electrum: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = electrum or f"{ELECTRUM} --regtest --offline -D {tmp_path / 'electrum'}"
    return subprocess.run(
        [PSBT, "electrum", "setup-watch-only", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, ENV_VAR: command},
    )


def test_creates_the_default_p2wpkh_wallet_and_never_overwrites(
    tmp_path: Path, export_file: Path
) -> None:
    wallet = tmp_path / "hot.wallet"
    result = _psbt(tmp_path, "--from", str(export_file), "--wallet", str(wallet))
    assert result.returncode == 0, result.stderr
    assert FIRST_P2WPKH in result.stdout
    keystore = read_wallet_file(wallet)["keystore"]
    assert keystore["root_fingerprint"] == EXPORT["master_fingerprint"]
    assert keystore["derivation"] == "m/84'/1'/0'"
    before = wallet.read_bytes()
    again = _psbt(tmp_path, "--from", str(export_file), "--wallet", str(wallet))
    assert again.returncode == 2
    assert "[electrum.wallet_exists]" in again.stderr
    assert wallet.read_bytes() == before


def test_multisig_from_stdin_with_json_output(tmp_path: Path) -> None:
    wallet = tmp_path / "vault.wallet"
    args = ("--from", "-", "--wallet", str(wallet), "--name", "vault", "--json")
    result = _psbt(tmp_path, *args, stdin=json.dumps(EXPORT))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["path"] == str(wallet)
    assert answer["name"] == "vault"
    assert answer["script_type"] == "p2wsh"
    assert answer["network"] == NETWORK.value
    assert answer["first_address"].startswith("bcrt1q")
    assert read_wallet_file(wallet)["wallet_type"] == "2of3"


def test_taproot_is_refused(tmp_path: Path, export_file: Path) -> None:
    wallet = tmp_path / "tr.wallet"
    result = _psbt(tmp_path, "--from", str(export_file), "--wallet", str(wallet), "--name", "p2tr")
    assert result.returncode == 2
    assert "[watch_only.unsupported]" in result.stderr
    assert not wallet.exists()


def test_a_private_key_in_the_export_is_refused(tmp_path: Path) -> None:
    document = copy.deepcopy(EXPORT)
    tprv = root_key().derive("m/84h/1h/0h").to_base58(version=NETWORK.params["xprv"])
    document["wallets"][2].update(xpub=tprv)
    assert document["wallets"][2]["name"] == "p2wpkh"
    wallet = tmp_path / "w.wallet"
    result = _psbt(tmp_path, "--from", "-", "--wallet", str(wallet), stdin=json.dumps(document))
    assert result.returncode == 3
    assert "[watch_only.bad_key]" in result.stderr
    assert not wallet.exists()


def test_missing_electrum_is_reported_as_json(tmp_path: Path, export_file: Path) -> None:
    wallet = tmp_path / "w.wallet"
    args = ("--from", str(export_file), "--wallet", str(wallet), "--json")
    result = _psbt(tmp_path, *args, electrum="/nonexistent/electrum --offline")
    assert result.returncode == 4
    assert json.loads(result.stdout)["code"] == "electrum.missing"
    assert not wallet.exists()


def test_while_electrum_runs_the_check_goes_through_it(tmp_path: Path, export_file: Path) -> None:
    """PSBTBRIDGE_ELECTRUM says --offline, but an Electrum runs on that folder (Electrum 4.5
    then refuses every offline command): the new wallet is loaded in the running one for
    the check and closed again."""
    wallet = tmp_path / "hot.wallet"
    with offline_daemon(tmp_path / "electrum") as running:
        result = _psbt(tmp_path, "--from", str(export_file), "--wallet", str(wallet))
        assert result.returncode == 0, result.stderr
        assert FIRST_P2WPKH in result.stdout
        assert json.loads(electrum_run(running, "list_wallets")) == []
    keystore = read_wallet_file(wallet)["keystore"]
    assert keystore["root_fingerprint"] == EXPORT["master_fingerprint"]


def test_a_lockfile_a_crash_left(tmp_path: Path, export_file: Path) -> None:
    """A lockfile naming a socket nobody listens on: 4.3 works offline regardless, 4.5
    refuses, and the message says how to remove the lockfile; no wallet file is left."""
    lockfile = tmp_path / "electrum" / "regtest" / "daemon"
    lockfile.parent.mkdir(parents=True)
    lockfile.write_text(f"('unix', {str(tmp_path / 'gone.sock')!r}, 0)")
    wallet = tmp_path / "hot.wallet"
    result = _psbt(tmp_path, "--from", str(export_file), "--wallet", str(wallet))
    if electrum_version().startswith("4.3."):
        assert result.returncode == 0, result.stderr
        assert FIRST_P2WPKH in result.stdout
    else:
        assert result.returncode == 4, result.stderr
        assert result.stderr.rstrip().endswith("[electrum.stale_lockfile]")
        assert "electrum stop" in result.stderr
        assert not wallet.exists()
