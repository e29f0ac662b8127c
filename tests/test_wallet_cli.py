"""`psbt wallet add` and `psbt wallet list`, run as the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from embit.bip32 import HDKey

from cold.keystore import build_keystore, write_new_keystore
from psbtbridge.address import group_address
from psbtbridge.network import Network
from tests.support.psbt_cli import run_psbt, run_psbt_on_tty

ABANDON = " ".join(["abandon"] * 11 + ["about"])
PASSPHRASE = "vault keeper"
NET = Network.REGTEST


def cosigner_text(number: int) -> str:
    root = HDKey.from_seed(bytes([number]) * 32, NET.params["xprv"])
    xpub = root.derive("m/48h/1h/0h/2h").to_public(version=NET.params["xpub"]).to_base58()
    return f"[{root.my_fingerprint.hex()}/48h/1h/0h/2h]{xpub}/<0;1>/*"


@pytest.fixture(scope="module")
def keystore_bytes() -> bytes:
    return build_keystore(
        ABANDON,
        bip39_passphrase="",
        network=NET,
        account=0,
        passphrase=PASSPHRASE,
        random_bytes=bytes(28),
    )


@pytest.fixture
def ready(home: Path, tmp_path: Path, keystore_bytes: bytes) -> str:
    """An encrypted keystore in home; returns the path of its passphrase file."""
    write_new_keystore(home, keystore_bytes)
    path = tmp_path / "pass"
    path.write_text(PASSPHRASE + "\n")
    return str(path)


def our_key_text(home: Path) -> str:
    document = json.loads((home / "keystore.json").read_text())
    cosigner = document["cosigner_keys"][0]
    origin = cosigner["derivation"].replace("m", document["master_fingerprint"], 1)
    return f"[{origin}]{cosigner['xpub']}/<0;1>/*"


def vault(home: Path, threshold: int = 2) -> str:
    keys = [our_key_text(home), cosigner_text(1), cosigner_text(2)]
    return f"wsh(sortedmulti({threshold},{','.join(keys)}))"


def test_add_with_yes_then_list(home: Path, ready: str) -> None:
    result = run_psbt(
        home, "wallet", "add", "vault", vault(home), "--yes", "--passphrase-file", ready
    )
    assert result.returncode == 0, result.stderr
    assert "Wallet vault: 2-of-3 p2wsh, sortedmulti (BIP67)" in result.stderr
    assert "path m/48h/1h/0h/2h  <- this seed" in result.stderr
    assert cosigner_text(1).split("]")[1].split("/")[0] in result.stderr  # every xpub shown
    first = json.loads(run_psbt(home, "address", "show", "--wallet", "vault", "--json").stdout)[0]
    assert first["path"] == "m/48h/1h/0h/2h/0/0"
    assert f"First receive address ({first['path']})" in result.stderr
    assert group_address(first["address"]) in result.stderr
    listed = run_psbt(home, "wallet", "list", "--json")
    assert listed.returncode == 0
    entries = json.loads(listed.stdout)["wallets"]
    assert [(e["name"], e["kind"], e["threshold"], e["keys"]) for e in entries][-1] == (
        "vault",
        "multisig",
        2,
        3,
    )
    assert len(entries) == 5
    text = run_psbt(home, "wallet", "list")
    assert "vault            2-of-3     p2wsh" in text.stdout
    export = json.loads(run_psbt(home, "keys", "export", "--json").stdout)
    assert export["wallets"][-1]["name"] == "vault"
    assert export["wallets"][-1]["cosigners"][0]["fingerprint"] == "73c5da0a"
    again = run_psbt(
        home, "wallet", "add", "vault", vault(home, 1), "--yes", "--passphrase-file", ready
    )
    assert again.returncode == 1
    assert "[wallet.duplicate_name]" in again.stderr


def test_confirmation_and_passphrase_on_the_terminal(home: Path, ready: str) -> None:
    dialogue = [("Passphrase for", PASSPHRASE), ("Type yes to confirm:", "no")]
    declined = run_psbt_on_tty(home, dialogue, "wallet", "add", "vault", vault(home))
    assert declined.status == 1, declined.screen
    assert "[wallet.declined]" in declined.screen
    assert not (home / "wallets.json").exists()
    dialogue = [("Passphrase for", PASSPHRASE), ("Type yes to confirm:", "yes")]
    accepted = run_psbt_on_tty(home, dialogue, "wallet", "add", "vault", vault(home))
    assert accepted.status == 0, accepted.screen
    assert "Registered wallet vault." in accepted.screen


def test_refusals(home: Path, ready: str) -> None:
    no_tty = run_psbt(home, "wallet", "add", "vault", vault(home), "--passphrase-file", ready)
    assert no_tty.returncode == 2
    assert "[wallet.no_tty]" in no_tty.stderr
    strangers = f"wsh(sortedmulti(2,{cosigner_text(1)},{cosigner_text(2)}))"
    not_ours = run_psbt(home, "wallet", "add", "w", strangers, "--yes", "--passphrase-file", ready)
    assert not_ours.returncode == 1
    assert "[wallet.not_ours]" in not_ours.stderr
    wrong = Path(ready).with_name("wrong")
    wrong.write_text("not it\n")
    bad_pass = run_psbt(
        home, "wallet", "add", "w", vault(home), "--yes", "--passphrase-file", str(wrong)
    )
    assert bad_pass.returncode == 4
    assert "[keystore.bad_passphrase]" in bad_pass.stderr
    single = json.loads(run_psbt(home, "keys", "export", "--json").stdout)["wallets"][2]
    not_multi = run_psbt(home, "wallet", "add", "w", single["descriptor"], "--yes")
    assert not_multi.returncode == 1
    assert "[wallet.not_multisig]" in not_multi.stderr
    broken = run_psbt(home, "wallet", "add", "w", vault(home) + "#aaaaaaaa", "--yes")
    assert broken.returncode == 3
    assert "[descriptor.bad_checksum]" in broken.stderr
    assert not (home / "wallets.json").exists()


def test_list_without_keystore(home: Path) -> None:
    result = run_psbt(home, "wallet", "list", "--json")
    assert result.returncode == 4
    assert json.loads(result.stdout)["code"] == "keystore.missing"
