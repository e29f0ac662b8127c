"""cold/address_service.py and hot/commands/address.py: psbtbridge.ShowAddress end to end.

The shipped service file runs as qrexec runs it (tests/support/qrexec_harness.py: login
shell, QREXEC_* variables, socket stdin/stdout), on a cold qube made by `psbt keys init`;
the hot side is the real `psbt address verify ADDRESS --to electrum` with the qrexec client
shim, which evaluates the shipped dom0 policy. Headless unless the test gives the cold
qube's profile a DISPLAY (Xvfb), where the window is closed with xdotool.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cold.address_service import check_address
from cold.confirm.address_window import AddressView
from psbtbridge.errors import Code, ConfigError, ExitStatus, Refused
from psbtbridge.show_address import SERVICE, Answer, encode_request, request_digest
from tests.conftest import screenshot
from tests.support import qrexec_harness as harness
from tests.support.psbt_cli import loaded_modules
from tests.support.qube_pair import (
    Cold,
    add_vault,
    make_cold,
    ok,
    run_psbt,
    shim_env,
    start_psbt,
)
from tests.support.xdo import wait_for_window, window_visible
from tests.test_wallet_addresses import BIP86, STRANGER

OURS = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"  # p2wpkh receive 0 of abandon..about
MAINNET = BIP86["addresses"][0]["address"]


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Cold:
    made = make_cold(tmp_path_factory.mktemp("cold"))
    add_vault(made)
    return made


def vault_change(cold: Cold, index: int) -> str:
    env = {"PSBTBRIDGE_HOME": str(cold.home)}
    args = ["address", "show", "--wallet", "vault", "--change", "--index", str(index), "--json"]
    address: str = json.loads(ok(run_psbt(env, *args, "--count", "1")))[0]["address"]
    return address


def serve(cold: Cold, address: str, digest: str | None = None) -> harness.Outcome:
    argument = request_digest(address) if digest is None else digest
    return harness.call(cold.install, argument, encode_request(address), service=SERVICE)


# --- the service as qrexec runs it (headless: the harness gives it no DISPLAY) ----------------


def test_ours_is_answered_with_wallet_and_path(cold: Cold) -> None:
    outcome = serve(cold, OURS)
    assert (outcome.status, outcome.stderr) == (0, "")
    assert outcome.stdout == b"ours p2wpkh m/84h/1h/0h/0/0\n"
    change = serve(cold, vault_change(cold, 12))
    assert change.stdout == b"ours vault m/48h/1h/0h/2h/1/12\n", change.stderr


def test_not_ours_is_an_answer_too(cold: Cold) -> None:
    outcome = serve(cold, STRANGER)
    assert (outcome.status, outcome.stdout, outcome.stderr) == (0, b"not-ours\n", "")


@pytest.mark.parametrize(
    ("case", "address", "argument", "status", "line"),
    [
        ("digest of another address", OURS, request_digest(STRANGER), 1, "refused"),
        ("no argument", OURS, "", 3, "invalid"),
        ("argument not hex", OURS, "--help", 3, "invalid"),
        ("another network", MAINNET, None, 3, "invalid"),
        ("garbage", "x" * 91, None, 3, "invalid"),
    ],
)
def test_refused_calls_say_why_in_one_line(
    cold: Cold, case: str, address: str, argument: str | None, status: int, line: str
) -> None:
    code = {
        "digest of another address": "service.digest_mismatch",
        "no argument": "service.missing_argument",
        "argument not hex": "service.bad_argument",
        "another network": "address.wrong_network",
        "garbage": "io.too_large",
    }[case]
    outcome = serve(cold, address, argument)
    assert outcome.status == status, outcome.stderr
    assert outcome.stdout == b""
    assert outcome.stderr.startswith(f"psbtbridge: {line}: ")
    assert outcome.stderr.endswith(f"[{code}]\n") and outcome.stderr.count("\n") == 1


def test_a_copy_under_another_name_refuses(cold: Cold) -> None:
    """The Sign service's name with ShowAddress's body (and back) is refused: each policy
    line was reviewed for one service."""
    digest = request_digest(OURS)
    running = harness.Running(
        cold.install,
        digest,
        command=[str(cold.install.service_script(SERVICE))],
        service="psbtbridge.Sign",
    )
    running.send([encode_request(OURS)])
    assert running.read_answer(30) == b""
    status, stderr = running.wait(30)
    assert status == ExitStatus.INTERNAL and "[service.wrong_name]" in stderr


# --- the hot command through the qrexec client shim and the shipped dom0 policy ---------------


def hot(cold: Cold, tmp_path: Path, address: str, *args: str, **extra: str) -> Any:
    env = shim_env(cold, tmp_path / "hot", **extra)
    return run_psbt(env, "address", "verify", address, "--to", "electrum", *args)


def test_hot_verify_ours_exits_0(cold: Cold, tmp_path: Path) -> None:
    result = hot(cold, tmp_path, OURS, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "ours": True,
        "address": OURS,
        "wallet": "p2wpkh",
        "path": "m/84h/1h/0h/0/0",
    }
    assert f"request code {request_digest(OURS)}" in result.stderr.decode()
    text = hot(cold, tmp_path, OURS)
    assert text.stdout.decode() == (
        "OURS (electrum says): p2wpkh  m/84h/1h/0h/0/0\n"
        "    bcrt 1q6r z28m cfax tmd6 v789 l9rr lrus dprr 9pz3 cppk\n"
    )


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("another seed", ExitStatus.REFUSED, "address.not_ours"),
        ("beyond the window", ExitStatus.REFUSED, "address.not_ours"),
        ("another network", ExitStatus.INVALID_INPUT, "address.wrong_network"),  # the cold code
        ("garbage", ExitStatus.INVALID_INPUT, "address.bad_address"),
        ("another calling qube", ExitStatus.REFUSED, "send.qrexec_denied"),
    ],
)
def test_hot_verify_refusals(cold: Cold, tmp_path: Path, case: str, status: int, code: str) -> None:
    address = {
        "another seed": STRANGER,
        "beyond the window": vault_change(cold, 1000),
        "another network": MAINNET,
        "garbage": "bcrt1q not an address",
        "another calling qube": OURS,
    }[case]
    extra = {"PSBTBRIDGE_SHIM_SOURCE": "personal"} if case == "another calling qube" else {}
    result = hot(cold, tmp_path, address, "--json", **extra)
    assert result.returncode == status, result.stderr
    assert json.loads(result.stdout)["code"] == code


def test_hot_verify_loads_no_cold_module(tmp_path: Path) -> None:
    loaded = loaded_modules(["address", "verify", OURS, "--to", "electrum"], tmp_path)
    assert "hot.commands.address" in loaded
    assert not {m for m in loaded if m == "cold" or m.startswith("cold.")}


def test_cold_verify_loads_no_hot_module(cold: Cold) -> None:
    loaded = loaded_modules(["address", "verify", OURS], cold.home)
    assert "cold.commands.address" in loaded
    assert not {m for m in loaded if m == "hot" or m.startswith("hot.")}


# --- with a display: the answer on the cold qube's screen -----------------------------------


def test_the_window_shows_the_answer_before_it_is_returned(
    xdisplay: str, tmp_path: Path, cold: Cold
) -> None:
    screened = make_cold(tmp_path / "gui-cold", profile=f"export DISPLAY={xdisplay}\n")
    address = STRANGER
    env = shim_env(screened, tmp_path / "hot")
    with start_psbt(env, "address", "verify", address, "--to", "electrum") as process:
        try:
            title = f"^psbtbridge: address check \\[{request_digest(address)}\\]"
            subprocess.run(
                ["xdotool", "search", "--sync", "--onlyvisible", "--name", title],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip
            assert process.poll() is None, "the answer waits until the window is closed"
            screenshot(xdisplay, "address_service_not_ours")
            subprocess.run(["xdotool", "key", "Escape"], check=True, timeout=10)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == ExitStatus.REFUSED, stderr
    assert stdout == b"" and stderr.decode().rstrip().endswith("[address.not_ours]")


def test_caller_hanging_up_closes_the_window(xdisplay: str, tmp_path: Path) -> None:
    """The window waits for the user; the hot side hangs up; the window closes at its next
    tick and the reason is the hang-up, not a window bug."""
    screened = make_cold(tmp_path / "gui-cold")
    running = harness.Running(
        screened.install,
        request_digest(OURS),
        extra_env={"DISPLAY": xdisplay},
        service=SERVICE,
    )
    running.send([encode_request(OURS)]).join(5)
    title = f"^psbtbridge: address check \\[{request_digest(OURS)}\\]"
    wait_for_window(title)
    running.hang_up(within=10)  # the window alone stays 120 s
    assert not window_visible(title)


# --- the handler itself, with the display replaced by a list -----------------------------------


def test_handler_shows_what_it_answers(cold: Cold) -> None:
    shown: list[AddressView] = []
    address = OURS.upper()  # QR codes carry bech32 in upper case: the digest is of this text
    answer = check_address(
        encode_request(address), request_digest(address), "electrum-hot", cold.home, shown.append
    )
    assert answer == Answer(True, "p2wpkh", "m/84h/1h/0h/0/0")
    (view,) = shown
    assert (view.address, view.ours, view.wallet, view.chain, view.index) == (
        OURS,
        True,
        "p2wpkh",
        "receive",
        0,
    )
    assert (view.caller, view.digest) == ("electrum-hot", request_digest(address))


def test_handler_answers_without_a_screen_but_not_without_a_reason(cold: Cold) -> None:
    def no_screen(_view: AddressView) -> None:
        raise ConfigError(Code.CONFIRM_NO_DISPLAY, "no X")

    request, digest = encode_request(STRANGER), request_digest(STRANGER)
    assert check_address(request, digest, "electrum-hot", cold.home, no_screen) == Answer(False)
    with pytest.raises(Refused) as caught:
        check_address(request, "00000000", "electrum-hot", cold.home, None)
    assert caught.value.code == "service.digest_mismatch"
