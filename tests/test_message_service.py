"""cold/message_service.py and hot/commands/message.py: psbtbridge.SignMessage end to end.

The shipped service file runs as qrexec runs it (tests/support/qrexec_harness.py: fork
server or login shell, QREXEC_* variables, socket stdin/stdout) on a cold qube made by
`psbt keys init`; the hot side is the real `psbt message sign --to electrum` with the
qrexec client shim, which evaluates the shipped dom0 policy. The dialog runs on Xvfb and
is answered with xdotool; without a DISPLAY the cold qube has no screen and must refuse.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cold import state
from cold.audit import read_records
from cold.message_sign import sign_electrum
from psbtbridge.errors import Code, ExitStatus
from psbtbridge.message import MAX_MESSAGE_SIZE, MessageFormat, script_of_address, verify_message
from psbtbridge.sign_message import MAX_REQUEST, SERVICE, encode_request, request_digest
from tests.conftest import screenshot
from tests.support import qrexec_harness as harness
from tests.support.electrum_harness import electrum_run, regtest_electrum
from tests.support.psbt_cli import loaded_modules
from tests.support.qube_pair import Cold, make_cold, ok, run_psbt, shim_env, start_psbt
from tests.support.xdo import click_sign, wait_for_window, window_visible, xdo
from tests.test_wallet_addresses import STRANGER

OURS = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"  # p2wpkh receive 0 of abandon..about
MAINNET = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"  # BIP84's first (abandon..about)
TEXT = "I, Alice, control this address.\nDated 2026-12-06 — ünïcödé"
MESSAGE = TEXT.encode()
MODES = list(harness.Mode)


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Cold:
    return make_cold(tmp_path_factory.mktemp("cold"))


def first_address(cold: Cold, wallet: str) -> str:
    env = {"PSBTBRIDGE_HOME": str(cold.home)}
    args = ["address", "show", "--wallet", wallet, "--count", "1", "--json"]
    address: str = json.loads(ok(run_psbt(env, *args)))[0]["address"]
    return address


def decisions_after(cold: Cold, before: int) -> list[tuple[str, str | None, str]]:
    return cold.decisions()[before:]


def serve(
    cold: Cold,
    address: str,
    message: bytes = MESSAGE,
    *,
    digest: str | None = None,
    mode: harness.Mode = harness.Mode.LOGIN_SHELL,
    framed: bytes | None = None,
) -> harness.Outcome:
    argument = request_digest(message) if digest is None else digest
    request = encode_request(address, message, None) if framed is None else framed
    return harness.call(cold.install, argument, request, service=SERVICE, mode=mode)


def dialog_title(digest: str) -> str:
    return f"^psbtbridge: sign a MESSAGE .*request from electrum-hot \\[{digest}\\]$"


def refused_line(kind: str, code: Code) -> str:
    """The whole of what the caller is told: the kind, the code's fixed meaning, the code."""
    return f"psbtbridge: {kind}: {code.meaning} [{code.value}]\n"


# --- with the cold qube's screen: the dialog, then the signature ----------------------------


@pytest.mark.parametrize(
    ("mode", "wallet", "chosen", "expected"),
    [
        (harness.Mode.FORK_SERVER, "p2wpkh", None, "electrum"),
        (harness.Mode.LOGIN_SHELL, "p2tr", None, "bip322-simple"),
        (harness.Mode.LOGIN_SHELL, "p2sh-p2wpkh", MessageFormat.ELECTRUM, "electrum"),
    ],
)
def test_signed_after_sign_is_clicked(
    xdisplay: str,
    cold: Cold,
    tmp_path: Path,
    mode: harness.Mode,
    wallet: str,
    chosen: MessageFormat | None,
    expected: str,
) -> None:
    address = first_address(cold, wallet)
    digest = request_digest(MESSAGE)
    before = len(cold.decisions())
    running = harness.Running(
        cold.install, digest, extra_env={"DISPLAY": xdisplay}, service=SERVICE, mode=mode
    )
    running.send([encode_request(address, MESSAGE, chosen)])
    window = wait_for_window(dialog_title(digest))
    time.sleep(2.3)  # Sign is dead for 2 s after the window appears
    screenshot(xdisplay, f"message_service_{wallet}")
    click_sign(window)
    answer = running.read_answer(30)
    status, stderr = running.wait(30)
    assert (status, stderr) == (0, "")
    signature = answer.decode("ascii").removesuffix("\n")
    assert answer == f"{signature}\n".encode()
    script = script_of_address(address)
    assert verify_message(script, signature, MESSAGE).format == expected
    if expected == "electrum":  # and Electrum itself agrees
        electrum = regtest_electrum(tmp_path / "electrum")
        assert electrum_run(electrum, "verifymessage", address, signature, TEXT) == "true"
    assert decisions_after(cold, before) == [("signed", None, "electrum-hot")]
    record = read_records(cold.home)[-1].record
    assert record.txid == hashlib.sha256(MESSAGE).hexdigest()
    # kept in signed/ until delivered (a hang-up after Sign would leave it there, named)
    assert not list((cold.home / "signed").glob("*.message.sig"))
    assert [(o.address, o.kind) for o in record.outputs] == [(address, "message")]


def test_escape_declines_and_the_decline_is_logged(xdisplay: str, cold: Cold) -> None:
    digest = request_digest(MESSAGE)
    before = len(cold.decisions())
    running = harness.Running(
        cold.install, digest, extra_env={"DISPLAY": xdisplay}, service=SERVICE
    )
    running.send([encode_request(OURS, MESSAGE, None)])
    wait_for_window(dialog_title(digest))
    xdo("key", "--delay", "50", "Escape")
    assert running.read_answer(30) == b""
    status, stderr = running.wait(30)
    assert status == ExitStatus.REFUSED
    assert stderr == refused_line("declined", Code.CONFIRM_DECLINED)
    assert decisions_after(cold, before) == [("declined", "confirm.declined", "electrum-hot")]


def test_caller_hanging_up_closes_the_dialog_and_signs_nothing(xdisplay: str, cold: Cold) -> None:
    digest = request_digest(MESSAGE)
    before = len(cold.decisions())
    running = harness.Running(
        cold.install, digest, extra_env={"DISPLAY": xdisplay}, service=SERVICE
    )
    running.send([encode_request(OURS, MESSAGE, None)]).join(5)
    title = dialog_title(digest)
    wait_for_window(title)
    running.hang_up(within=10)  # the dialog alone waits 5 minutes
    assert not window_visible(title)
    assert decisions_after(cold, before) == [("declined", "service.caller_gone", "electrum-hot")]


def test_a_signature_the_caller_did_not_take_is_kept_and_named(xdisplay: str, cold: Cold) -> None:
    """Signed after Sign, then the caller went away: the signature is in signed/, the
    reason line names it, and the record says signed."""
    digest = request_digest(MESSAGE)
    before = len(cold.decisions())
    running = harness.Running(
        cold.install,
        digest,
        extra_env={"DISPLAY": xdisplay, state.STOP_VARIABLE: "signed"},
        service=SERVICE,
    )
    running.send([encode_request(OURS, MESSAGE, None)]).join(5)
    window = wait_for_window(dialog_title(digest))
    time.sleep(2.3)  # Sign is dead for 2 s after the window appears
    click_sign(window)
    service = harness.service_pid(running.process.pid)
    harness.wait_stopped(service)  # signed and kept, not yet answered
    running.answer.close()
    os.kill(service, signal.SIGCONT)
    status, stderr = running.wait(30)
    kept = cold.home / "signed" / f"{hashlib.sha256(MESSAGE).hexdigest()}.message.sig"
    assert status == ExitStatus.INTERNAL
    assert stderr.endswith(f"kept in {kept} [sign.undelivered]\n"), stderr
    signature = kept.read_text().removesuffix("\n")
    assert verify_message(script_of_address(OURS), signature, MESSAGE).format == "electrum"
    assert decisions_after(cold, before) == [("signed", None, "electrum-hot")]


# --- refused before anything is shown (the harness gives the service no DISPLAY) ------------


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
def test_headless_cold_qube_refuses_and_signs_nothing(cold: Cold, mode: harness.Mode) -> None:
    before = len(cold.decisions())
    outcome = serve(cold, OURS, mode=mode)
    assert (outcome.status, outcome.stdout) == (ExitStatus.INTERNAL, b"")
    assert outcome.stderr == refused_line("error", Code.CONFIRM_NO_DISPLAY)
    assert decisions_after(cold, before) == []  # nobody was asked: no decision


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
def test_address_not_ours_is_refused_and_the_caller_gets_no_details(
    cold: Cold, mode: harness.Mode
) -> None:
    before = len(cold.decisions())
    outcome = serve(cold, STRANGER, mode=mode)
    assert (outcome.status, outcome.stdout) == (ExitStatus.REFUSED, b"")
    assert outcome.stderr == refused_line("refused", Code.MESSAGE_NOT_OURS)
    assert decisions_after(cold, before) == [("refused", "message.not_ours", "electrum-hot")]
    record = read_records(cold.home)[-1].record
    assert record.sentence is not None and "indexes 0-" in record.sentence  # kept here only
    assert [(o.address, o.kind) for o in record.outputs] == [(STRANGER, "message")]


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
def test_digest_of_another_message_is_refused_and_logged(cold: Cold, mode: harness.Mode) -> None:
    before = len(cold.decisions())
    outcome = serve(cold, OURS, digest=request_digest(b"what dom0 showed"), mode=mode)
    assert (outcome.status, outcome.stdout) == (ExitStatus.REFUSED, b"")
    assert outcome.stderr == refused_line("refused", Code.SERVICE_DIGEST_MISMATCH)
    assert decisions_after(cold, before) == [("refused", "service.digest_mismatch", "electrum-hot")]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("one byte over 64 KiB", ExitStatus.REFUSED, "message.too_long"),
        ("over the request cap", ExitStatus.INVALID_INPUT, "io.too_large"),
        ("no header", ExitStatus.INVALID_INPUT, "message.bad_request"),
        ("unknown format", ExitStatus.INVALID_INPUT, "message.bad_request"),
        ("not UTF-8", ExitStatus.INVALID_INPUT, "message.not_utf8"),
        ("another network", ExitStatus.INVALID_INPUT, "address.wrong_network"),
        ("no argument", ExitStatus.INVALID_INPUT, "service.missing_argument"),
    ],
)
def test_malformed_or_oversized_requests_say_why_in_one_line(
    cold: Cold, case: str, status: int, code: str
) -> None:
    message, address, digest, framed = MESSAGE, OURS, None, None
    if case == "one byte over 64 KiB":
        message = b"x" * (MAX_MESSAGE_SIZE + 1)
    elif case == "over the request cap":
        framed = encode_request(OURS, b"x" * MAX_REQUEST, None)
    elif case == "no header":
        framed = MESSAGE
    elif case == "unknown format":
        framed = f"address {OURS} bip137\n".encode() + MESSAGE
    elif case == "not UTF-8":
        message = "caf\xe9".encode("latin-1")
    elif case == "another network":
        address = MAINNET
    elif case == "no argument":
        digest = ""
    before = len(cold.decisions())
    outcome = serve(cold, address, message, digest=digest, framed=framed)
    assert (outcome.status, outcome.stdout) == (status, b""), outcome.stderr
    assert outcome.stderr.endswith(f" [{code}]\n") and outcome.stderr.count("\n") == 1
    assert decisions_after(cold, before) == []  # never a request for one of our keys


def test_a_copy_under_another_name_refuses(cold: Cold) -> None:
    """The ShowAddress name (allowed without a prompt) on SignMessage's body is refused."""
    running = harness.Running(
        cold.install,
        request_digest(MESSAGE),
        command=[str(cold.install.service_script(SERVICE))],
        service="psbtbridge.ShowAddress",
    )
    running.send([encode_request(OURS, MESSAGE, None)])
    assert running.read_answer(30) == b""
    status, stderr = running.wait(30)
    assert status == ExitStatus.INTERNAL and stderr.endswith("[service.wrong_name]\n")


# --- the hot command through the qrexec client shim and the shipped dom0 policy ---------------


def hot(cold: Cold, tmp_path: Path, address: str, *args: str, **extra: str) -> Any:
    env = shim_env(cold, tmp_path / "hot", **extra)
    command = ["message", "sign", "-", "--address", address, "--to", "electrum", *args]
    return run_psbt(env, *command, stdin=MESSAGE)


def test_hot_sign_prints_the_signature_the_cold_dialog_made(xdisplay: str, tmp_path: Path) -> None:
    screened = make_cold(tmp_path / "gui-cold", profile=f"export DISPLAY={xdisplay}\n")
    env = shim_env(screened, tmp_path / "hot")
    message = tmp_path / "message.txt"
    message.write_bytes(MESSAGE)
    command = ["message", "sign", str(message), "--address", OURS, "--to", "electrum"]
    with start_psbt(env, *command, "--format", "bip322") as process:
        try:
            window = wait_for_window(dialog_title(request_digest(MESSAGE)))
            time.sleep(2.3)
            click_sign(window)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0, stderr
    assert f"request code {request_digest(MESSAGE)}" in stderr.decode()
    signature = stdout.decode().removesuffix("\n")
    assert signature.startswith("smp")
    check = run_psbt(env, "message", "verify", OURS, signature, "-", stdin=MESSAGE)
    assert check.returncode == 0, check.stderr
    assert screened.decisions() == [("signed", None, "electrum-hot")]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("not ours", ExitStatus.REFUSED, "message.not_ours"),  # the cold side's own code
        ("headless", ExitStatus.INTERNAL, "confirm.no_display"),
        ("another network", ExitStatus.INVALID_INPUT, "address.wrong_network"),
        ("garbage address", ExitStatus.INVALID_INPUT, "address.bad_address"),
        ("another calling qube", ExitStatus.REFUSED, "send.qrexec_denied"),
        ("no in dom0's prompt", ExitStatus.REFUSED, "send.qrexec_denied"),
        ("a forged answer", ExitStatus.REFUSED, "message.invalid"),
        ("not a signature", ExitStatus.INVALID_INPUT, "message.bad_answer"),
    ],
)
def test_hot_sign_refusals(cold: Cold, tmp_path: Path, case: str, status: int, code: str) -> None:
    address = {
        "not ours": STRANGER,
        "another network": MAINNET,
        "garbage address": "bcrt1q not an address",
    }.get(case, OURS)
    # A well-formed signature by some other key, answered without asking anyone.
    forged = sign_electrum(hashlib.sha256(b"someone else").digest(), MESSAGE)
    answer = {"a forged answer": forged, "not a signature": "signed!"}.get(case)
    extra = {
        "another calling qube": {"PSBTBRIDGE_SHIM_SOURCE": "personal"},
        "no in dom0's prompt": {"PSBTBRIDGE_SHIM_ASK": "no"},
    }.get(case, {})
    if answer is not None:
        extra = {"PSBTBRIDGE_SHIM_COMMAND": f"sh -c 'cat >/dev/null; echo {answer}'"}
    before = len(cold.decisions())
    result = hot(cold, tmp_path, address, **extra)
    assert (result.returncode, result.stdout) == (status, b""), result.stderr
    assert result.stderr.decode().endswith(f" [{code}]\n")
    assert all(decision != "signed" for decision, _, _ in decisions_after(cold, before))


def test_hot_options_of_the_cold_side_are_a_usage_error(cold: Cold, tmp_path: Path) -> None:
    result = hot(cold, tmp_path, OURS, "--confirm", "tty")
    assert result.returncode == ExitStatus.USAGE
    assert result.stderr.decode().endswith("[cli.usage]\n")


def test_hot_sign_loads_no_cold_module(tmp_path: Path) -> None:
    message = tmp_path / "m.txt"
    message.write_bytes(MESSAGE)
    argv = ["message", "sign", str(message), "--address", OURS, "--to", "electrum"]
    loaded = loaded_modules(argv, tmp_path)
    assert "hot.commands.message" in loaded
    assert not {m for m in loaded if m == "cold" or m.startswith("cold.")}


def test_cold_serve_loads_no_hot_module(cold: Cold) -> None:
    loaded = loaded_modules(["message", "serve"], cold.home)
    assert "cold.commands.message" in loaded
    assert not {m for m in loaded if m == "hot" or m.startswith("hot.")}
