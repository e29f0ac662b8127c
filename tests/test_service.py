"""cold/service.py: every bad call ends with a defined status and one line, in bounded time
and memory; the shipped service file runs it as qrexec does, exec'd by the fork server and
through a login shell, and signs."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cold.service import (
    SERVICE_NAME,
    read_request,
    run_service,
    validate_caller,
    validate_digest_arg,
    validate_service_name,
)
from psbtbridge.errors import (
    BridgeError,
    Code,
    ConfigError,
    Declined,
    InvalidInput,
    Refused,
)
from tests.support import qrexec_harness as harness
from tests.support import signing_request

DIGEST = "0badc0de"
ENV = {
    "QREXEC_REMOTE_DOMAIN": "electrum-hot",
    "QREXEC_SERVICE_FULL_NAME": f"{SERVICE_NAME}+{DIGEST}",
    "QREXEC_SERVICE_ARGUMENT": DIGEST,
}


@pytest.fixture(autouse=True)
def _keep_umask() -> Iterator[None]:
    """run_service sets umask 077 for the process; give pytest its own back."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


# --- validators -------------------------------------------------------------------------


def test_digest_argument_is_eight_lower_hex() -> None:
    assert validate_digest_arg("0123abcd") == "0123abcd"


@pytest.mark.parametrize(
    "arg",
    ["0123ABCD", "0123abc", "0123abcde", "-123abcd", "--help", "0123_bcd", "0123abc\n", "٠١٢٣abcd"],
)
def test_bad_digest_argument(arg: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_digest_arg(arg)
    assert caught.value.code == "service.bad_argument"


@pytest.mark.parametrize("arg", [None, ""])
def test_missing_digest_argument(arg: str | None) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_digest_arg(arg)
    assert caught.value.code == "service.missing_argument"


def test_caller_is_a_qube_name() -> None:
    assert validate_caller("electrum-hot") == "electrum-hot"
    with pytest.raises(ConfigError) as caught:
        validate_caller(None)
    assert caught.value.code == "service.missing_caller"
    for name in ("", "electrum hot", "../x", "sys-net-dm", "a" * 32):
        with pytest.raises(ConfigError) as caught:
            validate_caller(name)
        assert caught.value.code == "service.bad_caller"


def test_service_name_must_be_ours() -> None:
    validate_service_name(f"{SERVICE_NAME}+{DIGEST}", DIGEST)
    validate_service_name(f"{SERVICE_NAME}+", None)
    validate_service_name(SERVICE_NAME, None)
    for full, arg in (
        (None, DIGEST),
        (f"qubes.Other+{DIGEST}", DIGEST),
        (f"{SERVICE_NAME}+{DIGEST}", "feedface"),
        (f"{SERVICE_NAME}+{DIGEST}", None),
    ):
        with pytest.raises(ConfigError) as caught:
            validate_service_name(full, arg)
        assert caught.value.code == "service.wrong_name"


# --- read_request -----------------------------------------------------------------------


def _pipe_with(data: bytes, close: bool = True) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, data)
    if close:
        os.close(write_fd)
    return read_fd, write_fd


def test_read_request_reads_to_eof() -> None:
    read_fd, _ = _pipe_with(b"x" * 1000)
    assert read_request(read_fd, 1000, 5) == b"x" * 1000
    os.close(read_fd)


def test_read_request_refuses_one_byte_over_the_cap() -> None:
    read_fd, _ = _pipe_with(b"x" * 1001)
    with pytest.raises(InvalidInput) as caught:
        read_request(read_fd, 1000, 5)
    assert caught.value.code == "io.too_large"
    os.close(read_fd)


def test_read_request_gives_up_on_a_slow_drip() -> None:
    read_fd, write_fd = os.pipe()
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.05):
            try:
                os.write(write_fd, b"x")
            except BrokenPipeError:
                return

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    started = time.monotonic()
    with pytest.raises(InvalidInput) as caught:
        read_request(read_fd, 1 << 20, 0.5)
    elapsed = time.monotonic() - started
    stop.set()
    dripper.join()
    os.close(read_fd)
    os.close(write_fd)
    assert caught.value.code == "service.read_timeout"
    assert 0.5 <= elapsed < 5


def test_read_request_gives_up_on_a_caller_that_never_ends_the_request() -> None:
    read_fd, write_fd = _pipe_with(b"partial", close=False)
    with pytest.raises(InvalidInput) as caught:
        read_request(read_fd, 1 << 20, 0.2)
    assert caught.value.code == "service.read_timeout"
    os.close(read_fd)
    os.close(write_fd)


# --- run_service in this process --------------------------------------------------------


class Handler:
    """A test handler that records its calls and returns or raises what it is told."""

    def __init__(self, outcome: bytes | BaseException = b"signed") -> None:
        self.outcome = outcome
        self.calls: list[tuple[bytes, str, str]] = []
        self.umask: int | None = None

    def __call__(
        self, request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]
    ) -> bytes:
        self.calls.append((request, digest, caller))
        self.umask = os.umask(0o077)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def _serve(
    request: bytes,
    handler: Handler,
    env: dict[str, str] | None = None,
    **limits: float,
) -> tuple[int, bytes, str]:
    read_fd, _ = _pipe_with(request)
    stdout, stderr = io.BytesIO(), io.StringIO()
    try:
        status = run_service(
            ENV if env is None else env,
            read_fd,
            stdout,
            stderr,
            handler,
            **limits,  # type: ignore[arg-type]
        )
    finally:
        os.close(read_fd)
    return status, stdout.getvalue(), stderr.getvalue()


def _one_line(stderr: str, kind: str, code: str) -> None:
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"psbtbridge: {kind}: "), stderr
    assert stderr.endswith(f" [{code}]\n"), stderr


def test_answer_goes_to_stdout_and_nothing_to_stderr() -> None:
    handler = Handler(b"the signed psbt")
    status, out, err = _serve(b"a psbt", handler)
    assert (status, out, err) == (0, b"the signed psbt", "")
    assert handler.calls == [(b"a psbt", DIGEST, "electrum-hot")]
    assert handler.umask == 0o077


def test_empty_request_is_invalid_and_never_reaches_the_handler() -> None:
    handler = Handler()
    status, out, err = _serve(b"", handler)
    assert (status, out) == (3, b"")
    _one_line(err, "invalid", "encoding.empty")
    assert handler.calls == []


def test_garbage_is_invalid_input() -> None:
    handler = Handler(
        InvalidInput(Code.ENCODING_UNKNOWN, "input is neither binary PSBT, base64 nor hex")
    )
    status, out, err = _serve(b"\x00garbage\xff" * 10, handler)
    assert (status, out) == (3, b"")
    _one_line(err, "invalid", "encoding.unknown")
    assert len(handler.calls) == 1


def test_truncated_request_is_just_short_input() -> None:
    # The caller closed after half a PSBT: the handler sees the half and its parser refuses.
    handler = Handler(InvalidInput(Code.WIRE_TRUNCATED, "the PSBT ends in the middle of a field"))
    status, _, err = _serve(b"psbt\xff\x01\x00", handler)
    assert status == 3
    _one_line(err, "invalid", "wire.truncated")
    assert handler.calls[0][0] == b"psbt\xff\x01\x00"


@pytest.mark.parametrize(
    "argument, code",
    [
        ("DEADBEEF", "service.bad_argument"),
        ("-rf", "service.bad_argument"),
        ("-0badc0d", "service.bad_argument"),
        ("0badc0de0", "service.bad_argument"),
        ("0bad_0de", "service.bad_argument"),  # what dom0 makes of "0bad/0de"
        (None, "service.missing_argument"),
    ],
)
def test_bad_argument_is_invalid_and_never_reaches_the_handler(
    argument: str | None, code: str
) -> None:
    env = dict(ENV, QREXEC_SERVICE_FULL_NAME=f"{SERVICE_NAME}+{argument or ''}")
    env.pop("QREXEC_SERVICE_ARGUMENT")
    if argument is not None:
        env["QREXEC_SERVICE_ARGUMENT"] = argument
    handler = Handler()
    status, out, err = _serve(b"a psbt", handler, env)
    assert (status, out) == (3, b"")
    _one_line(err, "invalid", code)
    assert handler.calls == []


@pytest.mark.parametrize(
    "change, code",
    [
        ({"QREXEC_REMOTE_DOMAIN": None}, "service.missing_caller"),
        ({"QREXEC_REMOTE_DOMAIN": "evil\nqube"}, "service.bad_caller"),
        ({"QREXEC_SERVICE_FULL_NAME": None}, "service.wrong_name"),
        ({"QREXEC_SERVICE_FULL_NAME": f"qubes.VMShell+{DIGEST}"}, "service.wrong_name"),
    ],
)
def test_broken_qrexec_environment_is_an_internal_error(
    change: dict[str, str | None], code: str
) -> None:
    env = {k: v for k, v in (ENV | change).items() if v is not None}
    handler = Handler()
    status, _, err = _serve(b"a psbt", handler, env)
    assert status == 4
    _one_line(err, "error", code)
    assert handler.calls == []


@pytest.mark.parametrize(
    "error, kind",
    [
        (Declined(Code.CONFIRM_DECLINED, "the user declined"), "declined"),
        (Refused(Code.POLICY_FEE_TOO_HIGH, "the fee is 12% of the spend"), "refused"),
        (ConfigError(Code.KEYSTORE_UNREADABLE, "the keystore cannot be opened"), "error"),
    ],
)
def test_handler_outcome_maps_to_exit_status(error: BridgeError, kind: str) -> None:
    status, out, err = _serve(b"a psbt", Handler(error))
    assert (status, out) == (error.exit_status, b"")
    _one_line(err, kind, error.code)


def test_a_refusal_reaches_the_caller_as_its_codes_fixed_meaning() -> None:
    """The sentence (limits, paths, the budget left) stays on the cold side."""
    error = Refused(Code.MESSAGE_NOT_OURS, "secret detail: indexes 0-999 of p2wpkh")
    _, _, err = _serve(b"a psbt", Handler(error))
    assert err == f"psbtbridge: refused: {Code.MESSAGE_NOT_OURS.meaning} [message.not_ours]\n"


def test_reason_line_cannot_be_split_or_carry_escapes() -> None:
    # an invalid-input sentence is the one passed on whole: it must still make one safe line
    error = InvalidInput(Code.WIRE_TRUNCATED, "line one\nline two \x1b[2J" + "x" * 1000)
    _, _, err = _serve(b"a psbt", Handler(error))
    _one_line(err, "invalid", "wire.truncated")
    assert "\x1b" not in err
    assert len(err) < 500


def test_a_bug_is_one_line_with_no_traceback_or_details() -> None:
    status, out, err = _serve(b"a psbt", Handler(KeyError("xprv9s21ZrQH143K secret")))
    assert (status, out) == (4, b"")
    _one_line(err, "error", "internal.bug")
    assert "secret" not in err
    assert "Traceback" not in err


def test_request_over_the_cap_never_reaches_the_handler() -> None:
    handler = Handler()
    status, _, err = _serve(b"x" * 5000, handler, cap=4096)
    assert status == 3
    _one_line(err, "invalid", "io.too_large")
    assert handler.calls == []


def test_slow_drip_is_cut_off_at_the_deadline() -> None:
    read_fd, write_fd = os.pipe()
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.05):
            os.write(write_fd, b"p")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    handler = Handler()
    stderr = io.StringIO()
    started = time.monotonic()
    status = run_service(ENV, read_fd, io.BytesIO(), stderr, handler, read_deadline_s=0.5)
    elapsed = time.monotonic() - started
    stop.set()
    dripper.join()
    os.close(read_fd)
    os.close(write_fd)
    assert status == 3
    _one_line(stderr.getvalue(), "invalid", "service.read_timeout")
    assert handler.calls == []
    assert elapsed < 5


# --- as qrexec runs it: login shell, environment, sockets -------------------------------


@pytest.fixture
def cold(tmp_path: Path) -> harness.Install:
    return harness.install(tmp_path)


MODES = pytest.mark.parametrize("mode", list(harness.Mode), ids=lambda m: m.value)


@MODES
def test_shipped_service_file_runs_serve(cold: harness.Install, mode: harness.Mode) -> None:
    outcome = harness.call(cold, "0BADC0DE", b"a psbt", mode=mode)
    assert (outcome.status, outcome.stdout) == (3, b"")
    _one_line(outcome.stderr, "invalid", "service.bad_argument")
    assert outcome.elapsed < 10


@MODES
def test_shipped_service_file_hands_the_request_to_the_pipeline(
    cold: harness.Install, mode: harness.Mode
) -> None:
    outcome = harness.call(cold, DIGEST, b"not a psbt at all", mode=mode)
    assert (outcome.status, outcome.stdout) == (3, b"")
    _one_line(outcome.stderr, "invalid", "encoding.unknown")


@MODES
def test_shipped_service_file_refuses_a_missing_argument(
    cold: harness.Install, mode: harness.Mode
) -> None:
    """dom0 appends `+` to a call without an argument: QREXEC_SERVICE_ARGUMENT is set, empty."""
    outcome = harness.call(cold, None, b"a psbt", mode=mode)
    assert outcome.status == 3
    _one_line(outcome.stderr, "invalid", "service.missing_argument")


@MODES
def test_shipped_service_file_signs_with_the_default_data_folder(
    cold: harness.Install, mode: harness.Mode
) -> None:
    """A whole signing as qrexec starts it, with nothing configured from the environment: the
    data sits in the default folder under HOME, which both modes give the service."""
    data = cold.home / ".local" / "share" / "psbtbridge"
    _, request, digest = signing_request.prepare(data)
    outcome = harness.call(cold, digest, request, mode=mode, timeout=120)
    assert (outcome.status, outcome.stderr) == (0, ""), outcome.stderr
    assert signing_request.signatures(outcome.stdout) == 1


def test_the_fork_server_runs_no_profile(tmp_path: Path) -> None:
    """With a GUI session the fork server execs the service: a noisy ~/.profile cannot
    corrupt the answer, and what it exports (PSBTBRIDGE_HOME) does not reach the service,
    which is why configuration never comes from the profile."""
    elsewhere = tmp_path / "elsewhere"
    cold = harness.install(
        tmp_path / "root", profile=f"echo 'Welcome'\nexport PSBTBRIDGE_HOME={elsewhere}\n"
    )
    data = cold.home / ".local" / "share" / "psbtbridge"
    _, request, digest = signing_request.prepare(data)
    outcome = harness.call(cold, digest, request, mode=harness.Mode.FORK_SERVER, timeout=120)
    assert (outcome.status, outcome.stderr) == (0, ""), outcome.stderr
    assert signing_request.signatures(outcome.stdout) == 1
    assert not elsewhere.exists()


def test_stream_far_above_the_cap_is_refused_in_bounded_memory(cold: harness.Install) -> None:
    """100 MiB, generated lazily, to the shipped service (16 MiB cap): it stops reading just
    past the cap, refuses, and its peak memory stays far below what it was sent."""
    produced = []

    def stream() -> Iterator[bytes]:
        block = b"\x00" * (1 << 20)
        for n in range(100):
            produced.append(n)
            yield block

    outcome = harness.call(cold, DIGEST, stream())
    assert outcome.status == 3, outcome
    _one_line(outcome.stderr, "invalid", "io.too_large")
    assert len(produced) < 16 + 8, "the service kept reading past its cap"
    assert outcome.maxrss_kib < 64 * 1024, outcome  # 16 MiB cap + the interpreter


def test_memory_measurement_sees_a_service_that_holds_the_stream(cold: harness.Install) -> None:
    """The check above can fail: a service allowed to keep 100 MiB reports holding it."""
    block = b"\x00" * (1 << 20)
    outcome = harness.call(
        cold, DIGEST, (block for _ in range(100)), command=harness.driver("echo", "--cap", "2e8")
    )
    assert outcome.status == 0
    assert len(outcome.stdout) == len(b"signed:") + 100 * len(block)
    assert outcome.maxrss_kib > 100 * 1024


def test_whole_call_with_a_test_handler(cold: harness.Install, tmp_path: Path) -> None:
    record = tmp_path / "called"
    outcome = harness.call(
        cold,
        DIGEST,
        b"a psbt",
        command=harness.driver("echo"),
        extra_env={"PSBTBRIDGE_TEST_RECORD": str(record)},
    )
    assert (outcome.status, outcome.stdout, outcome.stderr) == (0, b"signed:a psbt", "")
    assert record.read_text() == f"6 {DIGEST} electrum-hot\n"


def test_caller_hanging_up_during_the_dialog_cancels_it(
    cold: harness.Install, tmp_path: Path
) -> None:
    """The handler blocks as an unanswered dialog would; the caller closes its end of our
    stdout; the service notices, stops waiting and exits 4 long before the handler would."""
    record = tmp_path / "called"
    running = harness.Running(
        cold,
        DIGEST,
        command=harness.driver("block"),
        extra_env={"PSBTBRIDGE_TEST_RECORD": str(record)},
    )
    running.send([b"a psbt"]).join(5)
    deadline = time.monotonic() + 10
    while not record.exists():
        assert time.monotonic() < deadline, "the handler never ran"
        time.sleep(0.01)
    hung_up = time.monotonic()
    running.answer.close()
    status, stderr = running.wait(10)
    assert status == 4
    _one_line(stderr, "error", "service.caller_gone")
    assert time.monotonic() - hung_up < 10  # the handler alone would take 30 s


def test_caller_hanging_up_closes_the_real_dialog(
    cold: harness.Install, tmp_path: Path, xdisplay: str
) -> None:
    """The Tk dialog is waiting for the user; the caller hangs up; within its next tick
    the dialog closes, nothing is signed, and the reason is the hang-up, not a dialog bug."""
    record = tmp_path / "called"
    running = harness.Running(
        cold,
        DIGEST,
        command=harness.driver("dialog"),
        extra_env={"PSBTBRIDGE_TEST_RECORD": str(record), "DISPLAY": xdisplay},
    )
    running.send([b"a psbt"]).join(5)
    deadline = time.monotonic() + 10
    while not record.exists():
        assert time.monotonic() < deadline, "the dialog never opened"
        time.sleep(0.01)
    time.sleep(1.0)  # let the window map and the Sign delay pass: the dialog is waiting
    hung_up = time.monotonic()
    running.answer.close()
    status, stderr = running.wait(10)
    assert status == 4
    _one_line(stderr, "error", "service.caller_gone")
    assert time.monotonic() - hung_up < 10  # a dialog tick is 1 s; its timeout is 60 s


def test_caller_gone_before_the_answer_is_exit_4_without_traceback(
    cold: harness.Install,
) -> None:
    running = harness.Running(cold, DIGEST, command=harness.driver("echo"))
    running.answer.close()
    running.send([b"a psbt" * 100_000]).join(5)
    status, stderr = running.wait(10)
    assert status == 4
    _one_line(stderr, "error", "service.caller_gone")


def test_bug_in_a_real_process_prints_no_traceback(cold: harness.Install) -> None:
    outcome = harness.call(cold, DIGEST, b"a psbt", command=harness.driver("crash"))
    assert outcome.status == 4
    _one_line(outcome.stderr, "error", "internal.bug")
    assert "secret" not in outcome.stderr


def test_python_variables_from_the_profile_are_ignored(tmp_path: Path) -> None:
    """The service file runs Python with -I: a PYTHONPATH the login profile exports (with a
    sitecustomize that would run first) does not reach the service."""
    planted = tmp_path / "planted"
    planted.mkdir()
    marker = tmp_path / "sitecustomize-ran"
    (planted / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    cold = harness.install(tmp_path / "root", profile=f"export PYTHONPATH={planted}\n")
    outcome = harness.call(cold, "bad", b"a psbt")
    assert outcome.status == 3
    assert not marker.exists()


def test_profile_output_lands_in_front_of_the_answer(tmp_path: Path) -> None:
    """Why the cold user's ~/.profile must print nothing: in a qube without a GUI session
    qrexec falls back to starting the service through a login shell, so the profile's stdout
    reaches the caller ahead of the signed PSBT (and the hot side's strict parse then refuses
    the answer). The service cannot take it back; INSTALL.md says to keep the profile quiet."""
    cold = harness.install(tmp_path, profile="echo 'Welcome to the cold qube'\n")
    outcome = harness.call(cold, DIGEST, b"a psbt", command=harness.driver("echo"))
    assert outcome.status == 0
    assert outcome.stdout == b"Welcome to the cold qube\nsigned:a psbt"


def test_processing_deadline_ends_a_request_that_takes_too_long(cold: harness.Install) -> None:
    """A handler still busy at the deadline (a hostile request that is slow to check, or a
    dialog nobody answers) is ended: one reason line, exit 4, no answer."""
    started = time.monotonic()
    outcome = harness.call(
        cold,
        DIGEST,
        b"a psbt",
        command=harness.driver("block", "--processing-deadline", "1"),
        timeout=20,
    )
    assert (outcome.status, outcome.stdout) == (4, b"")
    _one_line(outcome.stderr, "error", "service.deadline")
    assert time.monotonic() - started < 10  # the handler alone would take 30 s
