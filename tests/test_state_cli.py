"""The cold state through the real command line and the service as qrexec runs it (issue 11).

Races (many processes against one home), lies that used to poison the ledger, a change
window the hot side used to choose, floods, and a signing killed or hung up on at each of
its steps. Each runs the installed `psbt`; nothing of ours is replaced.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cold import audit, state
from psbtbridge.encoding import decode
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import address_of
from tests.support import qrexec_harness as harness
from tests.support.mounts import read_only
from tests.support.psbt_cli import environment, run_psbt_on_tty
from tests.support.psbt_factory import (
    PSBT,
    KeySet,
    Pay,
    Spend,
    build_psbt,
    change_to,
    external,
    make_keyset,
    run_psbt,
)

ALLOWED = address_of(external(1, 0).script_pubkey, Network.REGTEST)
PAY = 101_000
FEE = 1_000
COIN = 300_000


def policy(refuse_on_warning: bool = True, per_tx: int = 200_000, per_day: int = 500_000) -> str:
    return (
        "[unattended]\n"
        "enabled = true\n"
        f'allowed_destinations = ["{ALLOWED}"]\n'
        f"max_per_transaction = {per_tx}\n"
        f"max_per_24h = {per_day}\n"
        f"refuse_on_warning = {str(refuse_on_warning).lower()}\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("coldstate") / "home", registered=True)


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    (home / "policy.toml").write_text(policy())
    return KeySet(home, template.wallets, template.seed)


def payment(keys: KeySet, index: int, pay: int = PAY, salt: int | None = None) -> bytes:
    """Our p2wpkh coin at receive index `index` pays `pay` to the allowed address."""
    wallet = keys.wallets["p2wpkh"]
    return build_psbt(
        [Spend(wallet, 0, index, COIN, salt=salt)],
        [external(1, pay), change_to(wallet, 1, 0, COIN - pay - FEE)],
    )


def digest_of(data: bytes) -> str:
    return Psbt.parse(data).unsigned_tx().digest()


def request_file(keys: KeySet, data: bytes) -> Path:
    path = Path(tempfile.mkdtemp(dir=keys.home.parent)) / "request.psbt"
    path.write_bytes(data)
    return path


def start_sign(keys: KeySet, data: bytes, *options: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PSBT, "sign", str(request_file(keys, data)), "--confirm", "policy", *options],
        env={**environment(keys.home), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr.decode()


def code_of(stderr: str) -> str:
    return stderr.rstrip("\n").rsplit("[", 1)[-1].rstrip("]") if stderr else ""


def decisions(keys: KeySet) -> list[tuple[str, str | None]]:
    return [(e.record.decision, e.record.reason) for e in audit.read_records(keys.home)]


def snapshot(home: Path) -> tuple[object, ...]:
    with sqlite3.connect(home / state.STATE_NAME) as db:
        return tuple(
            sorted(db.execute(f"SELECT * FROM {table}").fetchall())
            for table in ("meta", "amounts", "spends", "leaving", "used")
        )


def assert_consistent(keys: KeySet) -> None:
    """The log verifies, and the index, once opened as the next signing opens it, is exactly
    what a build from the log alone gives."""
    verify = run_psbt(keys.home, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    with state.locked(keys.home):
        pass
    live = snapshot(keys.home)
    copy = keys.home.parent / "rebuilt"
    shutil.copytree(keys.home, copy)
    (copy / state.STATE_NAME).unlink()
    with state.locked(copy):
        pass
    assert snapshot(copy) == live
    shutil.rmtree(copy)


# --- finding 1: the 24-hour limit cannot be raced -----------------------------------------


def test_concurrent_signings_stay_within_the_daily_limit(keys: KeySet) -> None:
    """20 requests at once, each 102,000 sat leaving against 500,000 a day: exactly 4 sign."""
    processes = [start_sign(keys, payment(keys, i)) for i in range(20)]
    outcomes = [finish(p) for p in processes]
    assert sorted(status for status, _ in outcomes) == [0] * 4 + [1] * 16, outcomes
    assert {code_of(err) for status, err in outcomes if status} == {"policy.over_daily_limit"}
    assert decisions(keys).count(("signed", None)) == 4
    assert_consistent(keys)


def test_concurrent_service_calls_stay_within_the_daily_limit(keys: KeySet, tmp_path: Path) -> None:
    cold = harness.install(tmp_path / "qube")
    env = {"PSBTBRIDGE_HOME": str(keys.home)}
    running = []
    for i in range(20):
        data = payment(keys, i)
        call = harness.Running(cold, digest_of(data), extra_env=env)
        call.send([data])
        running.append(call)
    outcomes = []
    for call in running:
        call.read_answer(120)
        outcomes.append(call.wait(120))
    assert sorted(status for status, _ in outcomes) == [0] * 4 + [1] * 16, outcomes
    assert all("policy.over_daily_limit" in err for status, err in outcomes if status)
    assert decisions(keys).count(("signed", None)) == 4
    assert_consistent(keys)


# --- finding 2: one coin, one transaction ------------------------------------------------


def test_one_coin_is_signed_into_one_transaction_however_many_ask(keys: KeySet) -> None:
    (keys.home / "policy.toml").write_text(policy(refuse_on_warning=False))
    spends = [payment(keys, 5, pay=50_000 + i, salt=99) for i in range(10)]
    outcomes = [finish(p) for p in [start_sign(keys, data) for data in spends]]
    assert sorted(status for status, _ in outcomes) == [0] + [1] * 9, outcomes
    assert {code_of(err) for status, err in outcomes if status} == {"policy.input_signed_elsewhere"}
    # and one at a time, later, as well
    status, err = finish(start_sign(keys, payment(keys, 5, pay=70_000, salt=99)))
    assert (status, code_of(err)) == (1, "policy.input_signed_elsewhere")
    assert_consistent(keys)


# --- finding 3: a claimed amount never freezes a coin --------------------------------------


def test_a_taproot_amount_lie_does_not_freeze_the_coin(keys: KeySet) -> None:
    wallet = keys.wallets["p2tr"]
    lie = build_psbt(
        [Spend(wallet, 0, 4, 1_000_000, full_tx=False, claimed_amount=100_000)],
        [change_to(wallet, 1, 4, 95_000)],
    )
    status, err = finish(start_sign(keys, lie))
    assert status == 0, err  # a signature BIP341 makes invalid on chain: nothing is lost
    honest = build_psbt(
        [Spend(wallet, 0, 4, 1_000_000)],
        [external(1, 100_000), change_to(wallet, 1, 4, 895_000)],
    )
    request = request_file(keys, honest)
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign: ", "yes")],
        "sign", str(request), "-o", str(request.with_suffix(".signed")), "--confirm", "tty",
    )  # fmt: skip
    assert run.status == 0, run.screen
    assert "already signed into another transaction" in run.screen  # a fee bump, shown
    assert decisions(keys) == [("signed", None), ("signed", None)]


# --- finding 4: the change window is the signer's, not the request's ----------------------


def test_dust_far_out_does_not_move_the_change_window(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    dust = Spend(wallet, 0, 900_000, 600)
    real = Spend(wallet, 0, 2, 4_900_000)
    data = build_psbt([dust, real], [change_to(wallet, 1, 900_999, 4_899_600 - 1_000)])
    (keys.home / "policy.toml").write_text("")
    request = request_file(keys, data)
    result = run_psbt(keys.home, "sign", str(request), "--confirm", "tty")
    assert result.returncode == 1
    assert code_of(result.stderr.decode()) == "proof.change_beyond_window"


def test_a_payment_to_another_of_our_wallets_is_a_transfer(keys: KeySet) -> None:
    """From single-sig into our 2-of-3: not change, so not exempt from unattended rules."""
    source, vault = keys.wallets["p2wpkh"], keys.wallets["wsh"]
    data = build_psbt([Spend(source, 0, 3, 900_000)], [change_to(vault, 1, 0, 899_000)])
    status, err = finish(start_sign(keys, data))
    assert (status, code_of(err)) == (1, "policy.destination_not_allowed")
    record = audit.read_records(keys.home)[-1].record
    assert record.outputs[0].kind == "transfer" and record.sats_leaving == 899_000


def test_a_wallet_moved_here_with_history_is_told_how_to_go_on(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, COIN)],
        [external(1, PAY), change_to(wallet, 1, 75, COIN - PAY - FEE)],
    )
    status, err = finish(start_sign(keys, data))
    assert (status, code_of(err)) == (1, "proof.change_beyond_window")
    assert "psbt audit used p2wpkh --change 75" in err
    declared = run_psbt(keys.home, "audit", "used", "p2wpkh", "--change", "75")
    assert declared.returncode == 0, declared.stderr
    status, err = finish(start_sign(keys, data))
    assert status == 0, err
    unknown = run_psbt(keys.home, "audit", "used", "nosuch", "--change", "1")
    assert unknown.returncode == 4 and b"[audit.unknown_wallet]" in unknown.stderr
    assert [d for d, _ in decisions(keys)] == ["refused", "declared", "signed"]
    assert_consistent(keys)


# --- finding 5: weight, and the service's deadline ---------------------------------------


def test_a_transaction_over_the_standard_weight_is_refused_before_signing(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    pays = [external(1, 600) for _ in range(3_300)]  # 3,300 x 31 bytes: over 100,000 vB
    data = build_psbt([Spend(wallet, 0, 3, 3_000_000)], pays)
    started = time.monotonic()
    status, err = finish(start_sign(keys, data))
    assert (status, code_of(err)) == (1, "proof.tx_too_heavy")
    assert time.monotonic() - started < 30
    assert len((keys.home / audit.LOG_NAME).read_bytes()) < audit.MAX_RECORD_SIZE


# --- finding 6: floods stay out of the log -----------------------------------------------


def test_a_huge_output_script_is_refused_early_and_logged_small(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    flood = b"\x6a\x4e" + (4_000_000).to_bytes(4, "little") + bytes(4_000_000)
    data = build_psbt([Spend(wallet, 0, 3, COIN)], [Pay(flood, 0), external(1, 1_000)])
    status, err = finish(start_sign(keys, data))
    assert (status, code_of(err)) == (1, "proof.script_too_large")
    assert (keys.home / audit.LOG_NAME).stat().st_size < 2_000
    record = audit.read_records(keys.home)[-1].record
    assert record.outputs[0].script_size == len(flood) and record.outputs[0].script_sha256


def test_a_long_script_is_logged_as_prefix_and_hash(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data_push = b"\x6a\x4d" + (5_000).to_bytes(2, "little") + bytes(5_000)
    data = build_psbt([Spend(wallet, 0, 3, COIN)], [Pay(data_push, 0), external(1, 1_000)])
    (keys.home / "policy.toml").write_text("")
    finish(start_sign(keys, data))
    line = json.loads((keys.home / audit.LOG_NAME).read_bytes().splitlines()[-1])
    assert line["outputs"][0]["script_size"] == len(data_push)
    assert len(line["outputs"][0]["script"]) == 2 * audit.MAX_SCRIPT_SHOWN
    assert len(json.dumps(line)) < 3_000


# --- finding 7: a refusal is never replaced by a logging failure ---------------------------


def test_totals_over_21_million_are_refused_and_logged(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    big = 15_000_000 * 100_000_000
    data = build_psbt(
        [Spend(wallet, 0, 3, big), Spend(wallet, 0, 4, big)],
        [external(1, 14_990_000 * 100_000_000), external(2, 14_990_000 * 100_000_000)],
    )
    status, err = finish(start_sign(keys, data))
    assert (status, code_of(err)) == (1, "proof.bad_amount")
    assert decisions(keys) == [("refused", "proof.bad_amount")]


# --- the full sentence goes to the audit log, not to the caller ----------------------------


def test_the_caller_gets_the_code_and_the_log_gets_the_figures(
    keys: KeySet, tmp_path: Path
) -> None:
    (keys.home / "policy.toml").write_text(policy(per_day=150_000))
    cold = harness.install(tmp_path / "qube")
    env = {"PSBTBRIDGE_HOME": str(keys.home)}
    for index, expected in ((1, 0), (2, 1)):
        data = payment(keys, index)
        outcome = harness.call(cold, digest_of(data), data, extra_env=env, timeout=60)
        assert outcome.status == expected, outcome.stderr
    assert "policy.over_daily_limit" in outcome.stderr
    assert "150000" not in outcome.stderr and "102000" not in outcome.stderr
    record = audit.read_records(keys.home)[-1].record
    assert record.reason == "policy.over_daily_limit"
    assert record.sentence is not None and "150000" in record.sentence


# --- the dialog runs outside the lock; what it approved is judged again -------------------


def test_what_changed_while_the_person_decided_is_refused(keys: KeySet) -> None:
    """A person approves spending a coin; before the signature, another request signs that
    coin into another transaction. The approval no longer fits: refused and logged."""
    (keys.home / "policy.toml").write_text(policy(refuse_on_warning=False))
    approved = request_file(keys, payment(keys, 5, pay=50_000, salt=99))
    env = {**environment(keys.home), state.STOP_VARIABLE: "confirmed"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes psbt, never returns
        os.execve(PSBT, [PSBT, "sign", str(approved), "-o", os.devnull, "--confirm", "tty"], env)
    screen = _read_until(fd, b"Type yes to sign: ")
    os.write(fd, b"yes\n")
    harness.wait_stopped(pid)
    status, err = finish(start_sign(keys, payment(keys, 5, pay=60_000, salt=99)))
    assert status == 0, err
    os.kill(pid, signal.SIGCONT)
    screen += _read_until(fd, None)
    os.close(fd)
    _, raw = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(raw) == 1, screen
    assert b"[state.changed]" in screen
    assert decisions(keys) == [("signed", None), ("refused", "state.changed")]
    assert_consistent(keys)


def _read_until(fd: int, marker: bytes | None, timeout: float = 60) -> bytes:
    """What the terminal shows until marker (None: until the program closes it)."""
    screen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker is not None and marker in screen:
            return screen
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program closed the terminal
            return screen
        if not chunk:
            return screen
        screen += chunk
    raise AssertionError(f"the terminal never showed {marker!r}: {screen[-500:]!r}")


# --- a kill -9, or a hang-up, at each step of a signing ----------------------------------


@pytest.mark.parametrize("step", state.STEPS)
def test_a_kill_at_any_step_leaves_the_state_consistent(keys: KeySet, step: str) -> None:
    first = start_sign(keys, payment(keys, 1), **{state.STOP_VARIABLE: step})
    harness.wait_stopped(first.pid)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(30)
    recorded = step in ("logged", "indexed")
    assert decisions(keys) == ([("signed", None)] if recorded else [])
    assert_consistent(keys)
    # the next signing proceeds, and the budget counts what was recorded
    status, err = finish(start_sign(keys, payment(keys, 2)))
    assert status == 0, err
    (keys.home / "policy.toml").write_text(policy(per_day=250_000))
    status, err = finish(start_sign(keys, payment(keys, 3)))
    assert (status, code_of(err) if status else "") == (
        (1, "policy.over_daily_limit") if recorded else (0, "")
    )
    assert_consistent(keys)


@pytest.mark.parametrize("step", state.STEPS)
def test_a_caller_hanging_up_at_any_step_leaves_the_state_consistent(
    keys: KeySet, tmp_path: Path, step: str
) -> None:
    cold = harness.install(tmp_path / "qube")
    data = payment(keys, 1)
    digest = digest_of(data)
    env = {"PSBTBRIDGE_HOME": str(keys.home), state.STOP_VARIABLE: step}
    call = harness.Running(cold, digest, extra_env=env)
    call.send([data]).join(10)
    service = harness.service_pid(call.process.pid)
    harness.wait_stopped(service)
    call.answer.close()
    os.kill(service, signal.SIGCONT)
    status, stderr = call.wait(60)
    assert status == 4, stderr
    found = decisions(keys)
    if step == "locked":  # the hang-up is seen at the check before signing
        assert found == [("declined", "service.caller_gone")]
    else:  # signed and recorded, or declined: either way, recorded as it happened
        assert found in ([("signed", None)], [("declined", "service.caller_gone")])
    kept = list((keys.home / "signed").iterdir())
    if found == [("signed", None)]:  # a signature made is kept, and the message says where
        assert "[sign.undelivered]" in stderr and f"kept in {kept[0]}" in stderr
        assert Psbt.parse(decode(kept[0].read_bytes())[0]).inputs[0].partial_sigs
    else:
        assert "[service.caller_gone]" in stderr and kept == []
    assert_consistent(keys)


# --- the same transaction signed again (issue 14, item 5)


def test_the_same_transaction_signed_twice_counts_once(keys: KeySet) -> None:
    (keys.home / "policy.toml").write_text(policy(per_day=150_000))  # room for one payment
    data = payment(keys, 1)
    assert finish(start_sign(keys, data))[0] == 0
    status, err = finish(start_sign(keys, data))
    assert status == 0, err
    assert "(again: first signed at " in err and err.endswith(" UTC)\n")
    assert decisions(keys) == [("signed", None), ("signed", None)]  # the log keeps both
    with state.locked(keys.home) as held:
        assert held.left_since(datetime.fromtimestamp(0, UTC)) == PAY + FEE  # counted once
    # a different transaction does not fit: the sentence says what was already spent
    status, err = finish(start_sign(keys, payment(keys, 2)))
    assert (status, code_of(err)) == (1, "policy.over_daily_limit")
    assert f"already spent in the last 24 h: {PAY + FEE} sat" in err and " left " not in err
    assert_consistent(keys)


def test_the_review_says_the_transaction_was_already_signed(keys: KeySet) -> None:
    data = payment(keys, 1)
    assert finish(start_sign(keys, data))[0] == 0
    first = audit.read_records(keys.home)[0].time.astimezone(UTC)
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign: ", "no")],
        "sign", str(request_file(keys, data)), "--confirm", "tty",
    )  # fmt: skip
    assert run.status == 1, run.screen
    when = first.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"you already signed this exact transaction at {when}" in run.screen


def test_the_ledger_keeps_every_transaction_a_coin_was_signed_into(keys: KeySet) -> None:
    assert finish(start_sign(keys, payment(keys, 1)))[0] == 0
    wallet = keys.wallets["p2wpkh"]
    bump = build_psbt(  # the same coin, a higher fee: signed on a terminal despite the warning
        [Spend(wallet, 0, 1, COIN)],
        [external(1, PAY), change_to(wallet, 1, 0, COIN - PAY - 2 * FEE)],
    )
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign: ", "yes")],
        "sign", str(request_file(keys, bump)), "-o", str(keys.home.parent / "bump.psbt"),
        "--confirm", "tty",
    )  # fmt: skip
    assert run.status == 0, run.screen
    records = [e.record for e in audit.read_records(keys.home)]
    (coin,) = {i.outpoint for r in records for i in r.inputs}
    with state.locked(keys.home) as held:
        assert held.signed_into([coin]) == {coin: {r.txid for r in records}}
    assert len({r.txid for r in records}) == 2
    assert_consistent(keys)


def test_the_service_with_a_read_only_data_folder_fails_before_anything(
    keys: KeySet, tmp_path: Path
) -> None:
    """Not `audit.unreadable` after the review (issue 14, item 2): at once, its own code."""
    cold = harness.install(tmp_path / "qube")
    assert finish(start_sign(keys, payment(keys, 1)))[0] == 0  # the state files exist
    data = payment(keys, 2)
    with read_only(keys.home):
        call = harness.Running(cold, digest_of(data), extra_env={"PSBTBRIDGE_HOME": str(keys.home)})
        call.send([data])
        call.read_answer(60)
        status, stderr = call.wait(60)
    assert (status, code_of(stderr)) == (4, "home.unwritable"), stderr
    assert decisions(keys) == [("signed", None)]
