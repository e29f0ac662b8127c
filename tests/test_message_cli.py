"""`psbt message sign` and `psbt message verify` as a user runs them: the real command line.

Signing answers on a pseudo-terminal (tests/support/psbt_cli.py); every refusal is
checked by its code and exit status, and every signed message by the audit log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from cold import audit
from psbtbridge.network import Network
from psbtbridge.script import address_of
from tests.conftest import screenshot
from tests.support.psbt_cli import PSBT, loaded_modules, run_psbt_on_tty
from tests.support.psbt_factory import (
    STRANGER_MNEMONIC,
    KeySet,
    init_keystore,
    make_keyset,
    run_psbt,
)
from tests.support.xdo import click_sign, wait_for_window, xdo

REGTEST = Network.REGTEST
TEXT = "I control this address.\nDated 2026-12-06, for Alice — ünïcödé"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("message_cli") / "home", registered=True)


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    return KeySet(home, template.wallets, template.seed)


def address(keys: KeySet, wallet: str, chain: int = 0, index: int = 0) -> str:
    found = address_of(keys.wallets[wallet].derive(chain, index).script_pubkey, REGTEST)
    assert found is not None
    return found


def message_file(keys: KeySet, data: bytes, name: str = "message.txt") -> Path:
    path = keys.home.parent / name
    path.write_bytes(data)
    return path


def assert_error(result_stderr: bytes, code: str) -> None:
    text = result_stderr.decode()
    assert text.endswith(f" [{code}]\n") and text.count("\n") == 1, text


def sign_on_tty(
    keys: KeySet, answer: str, target: str, *options: str, then: str | None = None
) -> tuple[int, str]:
    """then: the answer to type if the question is asked again."""
    path = message_file(keys, TEXT.encode())
    again = [("whole word yes or no", then)] if then is not None and answer != then else []
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign", answer), *again],
        "message",
        "sign",
        str(path),
        "--address",
        target,
        "--confirm",
        "tty",
        *options,
    )
    return run.status, run.screen


@pytest.mark.parametrize(
    ("wallet", "chain", "fmt", "expected"),
    [
        ("p2wpkh", 1, None, "electrum"),
        ("p2pkh", 0, None, "electrum"),
        ("p2sh-p2wpkh", 0, None, "electrum"),
        ("p2wpkh", 0, "bip322", "bip322-simple"),
        ("p2tr", 0, None, "bip322-simple"),
    ],
)
def test_yes_signs_and_the_signature_verifies(
    keys: KeySet, wallet: str, chain: int, fmt: str | None, expected: str
) -> None:
    target = address(keys, wallet, chain, 4)
    options = ["--format", fmt] if fmt else []
    status, screen = sign_on_tty(keys, "yes", target, *options)
    assert status == 0, screen
    assert f"{keys.wallets[wallet].keys[0].origin.derivation}/{chain}/4" in screen
    assert "\\u{fc LATIN SMALL LETTER U WITH DIAERESIS}" in screen
    assert "\\n" in screen and "SHA-256:" in screen
    signature = screen.strip().splitlines()[-1]
    check = run_psbt(
        keys.home, "message", "verify", target, signature, "-", "--json", stdin=TEXT.encode()
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout) == {"valid": True, "format": expected}
    entries = audit.read_records(keys.home)
    assert len(entries) == 1
    record = entries[0].record
    assert (record.decision, record.caller, record.sats_leaving) == ("signed", "local", 0)
    import hashlib

    assert record.txid == hashlib.sha256(TEXT.encode()).hexdigest()
    assert [(o.address, o.kind, o.amount) for o in record.outputs] == [(target, "message", 0)]
    assert run_psbt(keys.home, "audit", "verify").returncode == 0


@pytest.mark.parametrize("answer", ["no", "y", "YES", "yes please"])
def test_anything_but_yes_declines(keys: KeySet, answer: str) -> None:
    """`no` declines at once; anything else but `yes` is asked again, and then `no` declines."""
    status, screen = sign_on_tty(keys, answer, address(keys, "p2wpkh"), then="no")
    assert (answer == "no") == ("whole word yes or no" not in screen)
    assert status == 1
    assert "[confirm.declined]" in screen and "Declined: nothing was signed." in screen
    entries = audit.read_records(keys.home)
    assert [(e.record.decision, e.record.reason) for e in entries] == [
        ("declined", "confirm.declined")
    ]


def test_encrypted_keystore_asks_the_passphrase_after_yes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_keystore(home, passphrase="correct horse")
    from cold.keystore import load_keystore

    wallet = next(w for w in load_keystore(home).wallets if w.name == "p2wpkh")
    target = address_of(wallet.derive(0, 1).script_pubkey, REGTEST)
    assert target is not None
    path = tmp_path / "message.txt"
    path.write_text("hello")
    run = run_psbt_on_tty(
        home,
        [("Type yes to sign", "yes"), ("Keystore passphrase:", "correct horse")],
        "message", "sign", str(path), "--address", target, "--confirm", "tty",
    )  # fmt: skip
    assert run.status == 0, run.screen
    signature = run.screen.strip().splitlines()[-1]
    assert run_psbt(home, "message", "verify", target, signature, str(path)).returncode == 0


def test_refusals(keys: KeySet, tmp_path: Path) -> None:
    """Each refusal before anything is shown: its code, its exit status, nothing on stdout."""
    path = message_file(keys, b"hello")
    ours = address(keys, "p2wpkh")
    stranger_home = tmp_path / "stranger"
    init_keystore(stranger_home, mnemonic=STRANGER_MNEMONIC)
    from cold.keystore import load_keystore

    stranger_wallet = next(w for w in load_keystore(stranger_home).wallets if w.name == "p2wpkh")
    stranger = address_of(stranger_wallet.derive(0, 0).script_pubkey, REGTEST)
    mainnet = address_of(keys.wallets["p2wpkh"].derive(0, 0).script_pubkey, Network.MAIN)
    too_long = message_file(keys, b"x" * (64 * 1024 + 1), "long.txt")
    undecodable = keys.home.parent / "latin1.txt"
    undecodable.write_bytes("caf\xe9".encode("latin-1"))
    cases: list[tuple[list[str], int, str]] = [
        ([str(path), "--address", str(stranger)], 1, "message.not_ours"),
        ([str(path), "--address", address(keys, "p2wpkh", 0, 5000)], 1, "message.not_ours"),
        ([str(path), "--address", address(keys, "wsh")], 1, "message.multisig"),
        ([str(path), "--address", ours, "--confirm", "policy"], 1, "message.unattended"),
        ([str(too_long), "--address", ours], 1, "message.too_long"),
        ([str(undecodable), "--address", ours], 3, "message.not_utf8"),
        ([str(path), "--address", str(mainnet)], 3, "address.wrong_network"),
        ([str(path), "--address", "bcrt1qnotanaddress"], 3, "address.bad_address"),
        (
            [str(path), "--address", address(keys, "p2tr"), "--format", "electrum"],
            1,
            "message.unsupported_format",
        ),
        (
            [str(path), "--address", address(keys, "p2pkh"), "--format", "bip322"],
            1,
            "message.unsupported_format",
        ),
        # no terminal to ask on (explicitly tty: a test display may be set)
        ([str(path), "--address", ours, "--confirm", "tty"], 4, "confirm.no_tty"),
    ]
    for options, status, code in cases:
        result = run_psbt(keys.home, "message", "sign", *options)
        assert result.returncode == status, (code, result.stderr)
        assert_error(result.stderr, code)
        assert result.stdout == b""
    # Nothing was asked or signed; refusals once the address was read are logged, as the
    # transaction pipeline logs its refusals: the others never named one of our keys.
    assert [(e.record.decision, e.record.reason) for e in audit.read_records(keys.home)] == [
        ("refused", code)
        for code in (
            "message.not_ours",
            "message.not_ours",
            "message.multisig",
            "message.unsupported_format",
            "message.unsupported_format",
        )
    ]


def test_verify_exit_statuses(keys: KeySet) -> None:
    target = address(keys, "p2wpkh")
    status, screen = sign_on_tty(keys, "yes", target)
    assert status == 0
    signature = screen.strip().splitlines()[-1]
    path = message_file(keys, TEXT.encode())
    ok = run_psbt(keys.home, "message", "verify", target, signature, str(path))
    assert ok.returncode == 0 and ok.stdout == b"", ok.stderr
    other = run_psbt(keys.home, "message", "verify", target, signature, "-", stdin=b"other text")
    assert other.returncode == 1
    assert_error(other.stderr, "message.invalid")
    elsewhere = address(keys, "p2wpkh", 0, 1)
    wrong_key = run_psbt(keys.home, "message", "verify", elsewhere, signature, str(path))
    assert wrong_key.returncode == 1
    assert_error(wrong_key.stderr, "message.invalid")
    garbage = run_psbt(keys.home, "message", "verify", target, "%%%", str(path), "--json")
    assert garbage.returncode == 3
    assert json.loads(garbage.stdout)["code"] == "message.bad_signature"
    bad_address = run_psbt(keys.home, "message", "verify", "nonsense", signature, str(path))
    assert bad_address.returncode == 3
    assert_error(bad_address.stderr, "address.bad_address")


def test_message_verify_loads_no_cold_code(tmp_path: Path) -> None:
    """`psbt message verify` runs in the hot qube: no keystore, signer or confirmation code."""
    path = tmp_path / "m.txt"
    path.write_text("m")
    loaded = loaded_modules(
        ["message", "verify", "bcrt1qx82rjy3h09q55pvqwgea47f2cvvu8r66rqz2h4", "AAAA", str(path)],
        tmp_path,
    )
    assert "psbtbridge.commands.message" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("cold", "hot")}


# --- the dialog, on a real X server --------------------------------------------------------


def _dialog_sign(keys: KeySet, display: str, target: str) -> tuple[subprocess.Popen[bytes], str]:
    path = message_file(keys, TEXT.encode())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    process = subprocess.Popen(
        [PSBT, "message", "sign", str(path), "--address", target, "--confirm", "gui"],
        env={**env, "PSBTBRIDGE_HOME": str(keys.home), "DISPLAY": display},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        window = wait_for_window("^psbtbridge: sign a MESSAGE")
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process, window


def test_dialog_signs_after_the_delay_and_escape_declines(keys: KeySet, xdisplay: str) -> None:
    target = address(keys, "p2tr", 0, 2)
    process, window = _dialog_sign(keys, xdisplay, target)
    try:
        time.sleep(0.3)
        shot = screenshot(xdisplay, "message_dialog")
        time.sleep(2.2)  # Sign is dead for 2 s after the window appears
        click_sign(window)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert shot.stat().st_size > 10_000
    signature = out.decode().strip()
    check = run_psbt(keys.home, "message", "verify", target, signature, "-", stdin=TEXT.encode())
    assert check.returncode == 0, check.stderr

    process, window = _dialog_sign(keys, xdisplay, target)
    try:
        time.sleep(0.3)
        xdo("key", "--delay", "50", "Escape")
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1 and out == b""
    assert_error(err, "confirm.declined")
    decisions = [e.record.decision for e in audit.read_records(keys.home)]
    assert decisions == ["signed", "declined"]
