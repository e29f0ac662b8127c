"""cold/commands/address.py: `psbt address show|verify` run as a user runs them, on a keystore
made by `psbt keys init`, checked against real Electrum 4.3.4's `listaddresses`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PIL import Image
from pyzbar import pyzbar

from hot.watch_only import watchable_from_export
from psbtbridge.errors import ExitStatus
from psbtbridge.wallet.addresses import ADDRESS_WINDOW
from tests.support.electrum_harness import electrum_run, regtest_electrum
from tests.support.qube_pair import Cold, add_vault, make_cold, ok, run_psbt
from tests.test_wallet_addresses import BIP86, STRANGER

#: Electrum 4.3 cannot watch a taproot wallet: p2tr is checked against BIP86 and embit.
ELECTRUM_WALLETS = ("p2pkh", "p2sh-p2wpkh", "p2wpkh", "vault")
RECEIVE_GAP, CHANGE_GAP = 20, 10  # how many addresses a new Electrum wallet derives


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Cold:
    made = make_cold(tmp_path_factory.mktemp("cold"))
    add_vault(made)
    return made


def psbt(cold: Cold, *args: str) -> Any:
    return run_psbt({"PSBTBRIDGE_HOME": str(cold.home)}, *args)


def shown(cold: Cold, *args: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(ok(psbt(cold, "address", "show", "--json", *args)))
    return result


@pytest.fixture(scope="module")
def electrum_addresses(
    cold: Cold, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, list[str]]]:
    """{wallet: {"receive": [...], "change": [...]}} as Electrum lists them for the watch-only
    wallet made from the cold side's own `keys export --json`."""
    folder = tmp_path_factory.mktemp("electrum")
    export = ok(psbt(cold, "keys", "export", "--json"))
    electrum = regtest_electrum(folder / "datadir")
    found = {}
    for name in ELECTRUM_WALLETS:
        wallet = electrum.create_watch_only(
            folder / f"{name}.wallet", watchable_from_export(export, name)
        )
        found[name] = {
            chain: json.loads(electrum_run(electrum, "listaddresses", "-w", str(wallet.path), flag))
            for chain, flag in (("receive", "--receiving"), ("change", "--change"))
        }
    return found


@pytest.mark.parametrize("name", ELECTRUM_WALLETS)
def test_addresses_equal_electrums(
    cold: Cold, electrum_addresses: dict[str, dict[str, list[str]]], name: str
) -> None:
    receive = shown(cold, "--wallet", name, "--count", str(RECEIVE_GAP))
    change = shown(cold, "--wallet", name, "--change", "--count", str(CHANGE_GAP))
    assert [a["address"] for a in receive] == electrum_addresses[name]["receive"]
    assert [a["address"] for a in change] == electrum_addresses[name]["change"]
    assert receive[5]["chain"] == "receive" and change[5]["chain"] == "change"
    assert receive[5]["index"] == change[5]["index"] == 5
    assert receive[5]["path"].endswith("/0/5") and change[5]["path"].endswith("/1/5")
    assert {a["wallet"] for a in receive + change} == {name}


def test_taproot_is_bip86_on_this_network(cold: Cold) -> None:
    """BIP86's vectors are mainnet (coin type 0): here the same seed's regtest account."""
    (first,) = shown(cold, "--wallet", "p2tr", "--count", "1")
    assert first["path"] == "m/86h/1h/0h/0/0"
    assert first["address"].startswith("bcrt1p") and len(first["address"]) == 64


def test_every_wallet_by_default_in_groups_of_four(cold: Cold) -> None:
    text = ok(psbt(cold, "address", "show", "--count", "2")).decode()
    first = shown(cold, "--count", "2")
    assert [a["wallet"] for a in first] == [
        w for w in ("p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr", "vault") for _ in range(2)
    ]
    assert "p2wpkh  receive 0  m/84h/1h/0h/0/0\n    bcrt 1q6r z28m cfax tmd6 v789" in text
    assert len(shown(cold)) == 5 * 10


def _qr_payload(text: str) -> str:
    """Read back a QR code printed with half blocks (qrcode's print_ascii, inverted: a block
    is light, code page 437's no-break space is dark), through zbar."""
    rows = [line for line in text.splitlines() if line and set(line) <= set("█▀▄\xa0")]
    pixels: list[list[int]] = []
    for line in rows:
        top = [255 if ch in "█▀" else 0 for ch in line]
        bottom = [255 if ch in "█▄" else 0 for ch in line]
        pixels += [top, bottom]
    scale = 8
    image = Image.new("L", (len(pixels[0]) * scale, len(pixels) * scale))
    width = len(pixels[0]) * scale
    image.putdata([row[x // scale] for row in pixels for _ in range(scale) for x in range(width)])
    (decoded,) = pyzbar.decode(image)
    return str(decoded.data.decode())


def test_qr_shows_the_one_address(cold: Cold) -> None:
    result = psbt(cold, "address", "show", "--wallet", "p2wpkh", "--index", "3", "--qr")
    assert result.returncode == 0, result.stderr
    (address,) = shown(cold, "--wallet", "p2wpkh", "--index", "3", "--count", "1")
    assert _qr_payload(result.stdout.decode()) == address["address"]
    many = psbt(cold, "address", "show", "--qr")
    assert many.returncode == ExitStatus.USAGE
    assert b"[cli.usage]" in many.stderr


def _verify(cold: Cold, address: str) -> tuple[int, dict[str, Any]]:
    result = psbt(cold, "address", "verify", address, "--json")
    return result.returncode, json.loads(result.stdout)


def test_verify_own_receive_and_change_addresses(cold: Cold) -> None:
    for wallet, args in (("p2wpkh", ()), ("vault", ("--change", "--index", "41"))):
        (address,) = shown(cold, "--wallet", wallet, "--count", "1", *args)
        status, answer = _verify(cold, address["address"])
        assert status == ExitStatus.OK
        assert answer == {"ours": True, **address}
    text = psbt(cold, "address", "verify", address["address"])
    assert text.stdout.decode().startswith("OURS: vault  change 41  m/48h/1h/0h/2h/1/41\n    bcrt")


@pytest.mark.parametrize(
    ("case", "code", "status"),
    [
        ("beyond the window", "address.not_ours", ExitStatus.REFUSED),
        ("another seed", "address.not_ours", ExitStatus.REFUSED),
        ("another network", "address.wrong_network", ExitStatus.INVALID_INPUT),
        ("garbage", "address.bad_address", ExitStatus.INVALID_INPUT),
    ],
)
def test_verify_refusals(cold: Cold, case: str, code: str, status: int) -> None:
    address = {
        "beyond the window": shown(
            cold, "--wallet", "p2wpkh", "--index", str(ADDRESS_WINDOW), "--count", "1"
        )[0]["address"],
        "another seed": STRANGER,
        "another network": BIP86["addresses"][0]["address"],
        "garbage": "bcrt1qnotanaddress",
    }[case]
    result = psbt(cold, "address", "verify", address, "--json")
    assert result.returncode == status, result.stderr
    assert json.loads(result.stdout)["code"] == code
    text = psbt(cold, "address", "verify", address)
    assert text.returncode == status and text.stdout == b""
    assert text.stderr.decode().rstrip().endswith(f"[{code}]")


def test_unknown_wallet_and_bad_options(cold: Cold) -> None:
    unknown = psbt(cold, "address", "show", "--wallet", "savings")
    assert unknown.returncode == ExitStatus.INVALID_INPUT
    assert b"[address.unknown_wallet]" in unknown.stderr
    for args in (("--count", "0"), ("--index", "-1"), ("--index", "x")):
        assert psbt(cold, "address", "show", *args).returncode == ExitStatus.USAGE
