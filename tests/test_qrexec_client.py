"""hot/qrexec_client.py: each way a qrexec call can end maps to one error code; through the
client shim, the shipped policy and service decide as dom0 and the cold qube would."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from hot.qrexec_client import (
    DEFAULT_CLIENT,
    SERVICE_NAME,
    call_signer,
    client_command,
    parse_reason,
    status_error,
)
from psbtbridge.errors import BridgeError, ConfigError, ExitStatus, UsageError
from tests.support import qrexec_harness as harness

DIGEST = "0badc0de"


def _fake_client(tmp_path: Path, body: str) -> list[str]:
    """A stand-in for qrexec-client-vm: a shell script called with QUBE SERVICE+ARG."""
    script = tmp_path / "fake-qrexec-client-vm"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return [str(script)]


def test_arguments_stdin_and_stdout_are_passed_through(tmp_path: Path) -> None:
    client = _fake_client(tmp_path, 'printf "%s|%s|" "$1" "$2"\ncat\n')
    answer = call_signer("electrum", DIGEST, b"\x00psbt\xff", client)
    assert answer == f"electrum|{SERVICE_NAME}+{DIGEST}|".encode() + b"\x00psbt\xff"


STATUSES = {
    "declined": (
        "echo 'psbtbridge: declined: the user declined [confirm.declined]' >&2; exit 1",
        "confirm.declined",
        ExitStatus.REFUSED,
        "electrum declined to sign: the user declined",
    ),
    "refused by policy": (
        "echo 'psbtbridge: refused: the fee is 12% of the spend [policy.fee_too_high]' >&2; exit 1",
        "policy.fee_too_high",
        ExitStatus.REFUSED,
        "refused to sign: the fee is 12% of the spend",
    ),
    "refused with a code we do not know": (
        "echo 'psbtbridge: refused: something new [policy.from_the_future]' >&2; exit 1",
        "send.declined",
        ExitStatus.REFUSED,
        "something new",
    ),
    "exit 1 from the client itself": (
        "echo 'write(params) to agent: Broken pipe' >&2; exit 1",
        "send.client_failed",
        ExitStatus.INTERNAL,
        "Broken pipe",
    ),
    "invalid": (
        "echo 'psbtbridge: invalid: the request on stdin is empty [encoding.empty]' >&2; exit 3",
        "encoding.empty",
        ExitStatus.INVALID_INPUT,
        "the request on stdin is empty",
    ),
    "signer error": (
        "echo 'psbtbridge: error: the keystore cannot be opened [keystore.unreadable]' >&2; exit 4",
        "keystore.unreadable",
        ExitStatus.INTERNAL,
        "the keystore cannot be opened",
    ),
    "qrexec problem": ("exit 125", "send.qrexec_failed", ExitStatus.INTERNAL, "qrexec"),
    "denied by dom0": (
        "echo 'Request refused' >&2; exit 126",
        "send.qrexec_denied",
        ExitStatus.REFUSED,
        "dom0 refused",
    ),
    "no such service": ("exit 127", "send.service_missing", ExitStatus.INTERNAL, "INSTALL.md"),
    "service killed": ("exit 137", "send.signer_error", ExitStatus.INTERNAL, "signal 9"),
    "client killed": ("kill -9 $$", "send.client_failed", ExitStatus.INTERNAL, "signal 9"),
    "unexpected status": ("exit 2", "send.client_failed", ExitStatus.INTERNAL, "status 2"),
    "success without an answer": (
        "cat >/dev/null; exit 0",
        "send.empty_answer",
        ExitStatus.INVALID_INPUT,
        "sent no answer",
    ),
}


@pytest.mark.parametrize("body, code, status, says", STATUSES.values(), ids=STATUSES.keys())
def test_exit_status_maps_to_error(
    tmp_path: Path, body: str, code: str, status: ExitStatus, says: str
) -> None:
    client = _fake_client(tmp_path, "cat >/dev/null\n" + body + "\n")
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", DIGEST, b"a psbt", client)
    assert caught.value.code == code
    assert caught.value.exit_status == status
    assert says in caught.value.message


def test_early_refusal_of_a_large_psbt_does_not_hang(tmp_path: Path) -> None:
    # The service refuses before reading stdin; our 8 MiB write must not block for ever.
    client = _fake_client(
        tmp_path, "echo 'psbtbridge: invalid: too large [io.too_large]' >&2; exit 3\n"
    )
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", DIGEST, b"x" * (8 << 20), client)
    assert caught.value.code == "io.too_large"


def test_answer_over_the_cap_is_refused(tmp_path: Path) -> None:
    client = _fake_client(tmp_path, "cat >/dev/null\nhead -c 100000 /dev/zero\n")
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", DIGEST, b"a psbt", client, cap=4096)
    assert caught.value.code == "send.answer_too_large"


def test_reason_from_the_other_side_cannot_carry_terminal_escapes(tmp_path: Path) -> None:
    client = _fake_client(
        tmp_path,
        "cat >/dev/null\nprintf 'psbtbridge: declined: \\033]0;pwned\\007no [confirm.declined]\\n'"
        " >&2\nexit 1\n",
    )
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", DIGEST, b"a psbt", client)
    assert "\x1b" not in caught.value.message
    assert "\x07" not in caught.value.message


def test_missing_client_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        call_signer("electrum", DIGEST, b"a psbt", [str(tmp_path / "no-such-client")])
    assert caught.value.code == "send.no_client"


@pytest.mark.parametrize("qube", ["", "-electrum", "electrum hot", "../electrum", "a" * 32])
def test_bad_qube_name_is_refused_before_calling(tmp_path: Path, qube: str) -> None:
    with pytest.raises(UsageError) as caught:
        call_signer(qube, DIGEST, b"a psbt", _fake_client(tmp_path, "exit 0\n"))
    assert caught.value.code == "send.bad_qube"


@pytest.mark.parametrize("digest", ["0BADC0DE", "0badc0d", "-0badc0d", "0badc0de+x"])
def test_bad_digest_is_refused_before_calling(tmp_path: Path, digest: str) -> None:
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", digest, b"a psbt", _fake_client(tmp_path, "exit 0\n"))
    assert caught.value.code == "send.bad_digest"


def test_client_command_comes_from_the_environment() -> None:
    assert client_command({}) == list(DEFAULT_CLIENT)
    assert client_command({"PSBTBRIDGE_QREXEC_CLIENT": "  "}) == list(DEFAULT_CLIENT)
    assert client_command({"PSBTBRIDGE_QREXEC_CLIENT": "/x/py '/a b/shim.py'"}) == [
        "/x/py",
        "/a b/shim.py",
    ]
    with pytest.raises(ConfigError) as caught:
        client_command({"PSBTBRIDGE_QREXEC_CLIENT": "'unclosed"})
    assert caught.value.code == "send.bad_client"


def test_parse_reason_takes_the_last_service_line() -> None:
    text = (
        "some noise\npsbtbridge: invalid: first [a.b]\n"
        "psbtbridge: refused: the fee is too high [policy.fee_too_high]\nRequest refused\n"
    )
    reason = parse_reason(text)
    assert reason is not None
    assert (reason.kind, reason.message, reason.code) == (
        "refused",
        "the fee is too high",
        "policy.fee_too_high",
    )
    assert parse_reason("Request refused\n") is None


# --- through the shim: the shipped policy and service file --------------------------------


@pytest.fixture
def shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> harness.Install:
    """PSBTBRIDGE_QREXEC_CLIENT points at the shim, which calls a harness-installed service."""
    cold = harness.install(tmp_path / "cold")
    monkeypatch.setenv("PSBTBRIDGE_QREXEC_CLIENT", harness.shim_command())
    monkeypatch.setenv("PSBTBRIDGE_SHIM_ROOT", str(cold.root))
    return cold


def test_allowed_call_reaches_the_service_and_returns_its_answer(
    shim: harness.Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PSBTBRIDGE_SHIM_COMMAND", shlex.join(harness.driver("echo")))
    assert call_signer("electrum", DIGEST, b"a psbt") == b"signed:a psbt"


def test_shipped_service_refuses_an_empty_psbt(shim: harness.Install) -> None:
    with pytest.raises(BridgeError) as caught:
        call_signer("electrum", DIGEST, b"")
    assert caught.value.code == "encoding.empty"
    assert "the request on stdin is empty" in caught.value.message


@pytest.mark.parametrize(
    "setting, qube",
    [
        ({}, "vault"),  # only electrum is a target
        ({"PSBTBRIDGE_SHIM_SOURCE": "work"}, "electrum"),  # only electrum-hot may call
        ({"PSBTBRIDGE_SHIM_ASK": "no"}, "electrum"),  # the user said no in dom0's prompt
    ],
    ids=["other target", "other caller", "dom0 prompt declined"],
)
def test_shipped_policy_denies(
    shim: harness.Install,
    monkeypatch: pytest.MonkeyPatch,
    setting: dict[str, str],
    qube: str,
) -> None:
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(BridgeError) as caught:
        call_signer(qube, DIGEST, b"a psbt")
    assert caught.value.code == "send.qrexec_denied"
    assert caught.value.exit_status == ExitStatus.REFUSED


def test_shim_plays_dom0_for_the_argument(shim: harness.Install) -> None:
    """dom0 turns '/' into '_' and the service then refuses the digest (exit 3)."""
    result = subprocess.run(
        [*shlex.split(harness.shim_command()), "electrum", f"{SERVICE_NAME}+0bad/0de"],
        input=b"a psbt",
        capture_output=True,
        check=False,
        env={"PSBTBRIDGE_SHIM_ROOT": str(shim.root), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 3
    assert b"[service.bad_argument]" in result.stderr


def test_a_missing_service_is_explained_without_stderr() -> None:
    """qrexec answers a call to a service that is not installed with exit 127 and an empty
    stderr (measured with qrexec 4.4.2): the message must come from the status alone."""
    silent = status_error(127, "", "electrum")
    noisy = status_error(127, "something else entirely\n", "electrum")
    assert (silent.code, str(silent)) == (noisy.code, str(noisy))
    assert silent.code == "send.service_missing"
