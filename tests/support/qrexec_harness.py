"""Runs the psbtbridge services (Sign, ShowAddress, SignMessage) the way qrexec runs them in
the cold qube, for tests.

What qrexec does (measured with upstream qubes-core-qrexec 4.4.2), and what this copies, in
its two ways of starting a service (`Mode`):
- FORK_SERVER, the usual one in a qube with a GUI session (the services' rpc-config says
  `wait-for-session=1`): `qrexec-fork-server`, started inside the X session, execs the
  service file directly: no shell, no profile, the session's environment (HOME, USER,
  DISPLAY, PATH as the session has them) plus the QREXEC_ variables;
- LOGIN_SHELL, the fallback for a qube without a GUI session: the agent starts the service
  file through `/bin/sh -lc` as the qube's user, so /etc/profile and ~/.profile run first
  (and whatever they print lands on the service's stdout, i.e. in front of the answer);
- either way dom0 sets QREXEC_REMOTE_DOMAIN (the caller), QREXEC_SERVICE_FULL_NAME
  (`NAME+ARG`) and QREXEC_SERVICE_ARGUMENT, which is set and empty when the call had no
  argument (dom0 appends `+` anyway); a non-empty argument is also passed as $1;
- stdin and stdout are sockets (one socketpair each) to the qrexec agent; stderr goes back
  to the caller (and to the journal).

`install` copies every shipped service file (`qrexec/psbtbridge.*`) into a temporary root,
with the one line that names the interpreter pointed at this checkout's virtualenv (or at
another command, e.g. a Debian root's /opt/psbtbridge/bin/python run through
tests/support/in-debian-root) instead of /opt/psbtbridge: the shipped file stays as it is,
nothing in it reads an override from the environment, and everything else in it runs
unchanged. The HOME it creates has a `.profile` with whatever the test wants in it (empty by
default).

Each run is started by a small parent process that plays the qrexec agent's part of
parent: it waits for the service and records its peak memory (`Outcome.maxrss_kib`).

Not copied: the PAM session qrexec opens, the user switch, and the tee of stderr to the
journal. The argument is passed as given: tests that want dom0's rewriting of characters
outside [A-Za-z0-9._+-] apply `dom0_sanitize` first (the client shim does).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SCRIPT = ROOT / "qrexec" / "psbtbridge.Sign"
SHIPPED_POLICY = ROOT / "qrexec" / "70-psbtbridge.policy"
SHIPPED_PYTHON = "/opt/psbtbridge/bin/python"
PYTHON = Path(
    sys.executable
)  # the interpreter running the tests: the installed package is importable from it
DRIVER = ROOT / "tests" / "support" / "service_driver.py"
SHIM = ROOT / "tests" / "support" / "qrexec_client_shim.py"
SERVICE = "psbtbridge.Sign"
#: Every service file shipped next to psbtbridge.Sign.
SHIPPED_SERVICES = tuple(sorted(p.name for p in SHIPPED_SCRIPT.parent.glob("psbtbridge.*")))
_NOT_RPC_CHAR = re.compile(r"[^A-Za-z0-9._+-]")


class Mode(Enum):
    """How qrexec starts the service (see the module docstring)."""

    FORK_SERVER = "fork-server"  # a qube with a GUI session: exec, no shell, no profile
    LOGIN_SHELL = "login-shell"  # the fallback without one: /bin/sh -lc, the profile runs


@dataclass(frozen=True)
class Install:
    """A cold qube's service files and its user's HOME, under one temporary root."""

    root: Path
    script: Path  # psbtbridge.Sign's
    home: Path

    def service_script(self, service: str) -> Path:
        return self.root / "etc" / "qubes-rpc" / service


@dataclass(frozen=True)
class Outcome:
    """How one service run ended."""

    status: int
    stdout: bytes
    stderr: str
    elapsed: float  # seconds from start to exit
    maxrss_kib: int  # the service process's peak resident memory


def install(root: Path, profile: str = "", python: Path | str = PYTHON) -> Install:
    """Install the shipped service files under root, their interpreter pointed at python
    (a path, or a shell command line that ends by running a Python)."""
    folder = root / "etc" / "qubes-rpc"
    folder.mkdir(parents=True)
    for service in SHIPPED_SERVICES:
        text = (SHIPPED_SCRIPT.parent / service).read_text()
        assert text.count(SHIPPED_PYTHON) == 1, f"{service} must name its python once"
        (folder / service).write_text(text.replace(SHIPPED_PYTHON, str(python)))
        (folder / service).chmod(0o755)
    script = folder / SERVICE
    home = root / "home" / "user"
    home.mkdir(parents=True, mode=0o700)
    (home / ".profile").write_text(profile)
    return Install(root, script, home)


def dom0_sanitize(argument: str) -> str:
    """What dom0 does to a service argument: characters outside [A-Za-z0-9._+-] become `_`."""
    return _NOT_RPC_CHAR.sub("_", argument)


def service_environ(
    inst: Install, argument: str | None, caller: str | None = "electrum-hot", service: str = SERVICE
) -> dict[str, str]:
    """The environment qrexec gives the service: the session's or a login's basics plus the
    QREXEC_ variables (the argument variable set, and empty, when there is no argument)."""
    env = {
        "HOME": str(inst.home),
        "USER": "user",
        "LOGNAME": "user",
        "SHELL": "/bin/sh",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "QREXEC_SERVICE_FULL_NAME": f"{service}+{argument or ''}",
    }
    if caller is not None:
        env["QREXEC_REMOTE_DOMAIN"] = caller
    env["QREXEC_SERVICE_ARGUMENT"] = argument or ""
    return env


def login_shell(command: Sequence[str], argument: str | None) -> list[str]:
    """`/bin/sh -lc` running command with the argument as $1, as the qrexec agent does."""
    return ["/bin/sh", "-lc", 'exec "$0" "$@"', *command, *([argument] if argument else [])]


def fork_server(command: Sequence[str], argument: str | None) -> list[str]:
    """command exec'd directly with the argument as $1, as qrexec-fork-server does."""
    return [*command, *([argument] if argument else [])]


def start(mode: Mode, command: Sequence[str], argument: str | None) -> list[str]:
    return (login_shell if mode is Mode.LOGIN_SHELL else fork_server)(command, argument)


# Peak memory is read by a small parent, not by pytest: a process's ru_maxrss keeps its
# high-water mark across fork and exec, so a service forked straight from a large pytest
# worker would report the worker's size. Spawned from this ~10 MB parent, it reports its own.
_MEASURE = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""


def driver(handler: str, *options: str) -> list[str]:
    """A command running cold.service.run_service with a test handler (tests/support/service_driver.py)."""
    return [str(PYTHON), str(DRIVER), *options, handler]


class Running:
    """A started service: write the request to `request`, read the answer from `answer`."""

    def __init__(
        self,
        inst: Install,
        argument: str | None,
        caller: str | None = "electrum-hot",
        command: Sequence[str] | None = None,
        extra_env: dict[str, str] | None = None,
        service: str = SERVICE,
        mode: Mode = Mode.LOGIN_SHELL,
    ) -> None:
        self.request, service_in = socket.socketpair()
        self.answer, service_out = socket.socketpair()
        env = service_environ(inst, argument, caller, service) | (extra_env or {})
        self.started = time.monotonic()
        self._rss_file = inst.root / f"maxrss-{id(self)}"
        self.process = subprocess.Popen(
            [
                str(PYTHON),
                "-I",
                "-c",
                _MEASURE,
                str(self._rss_file),
                *start(mode, command or [str(inst.service_script(service))], argument),
            ],
            stdin=service_in,
            stdout=service_out,
            stderr=subprocess.PIPE,
            env=env,
            cwd=inst.home,
            start_new_session=True,
        )
        service_in.close()
        service_out.close()
        self.maxrss_kib = 0
        self.elapsed = 0.0

    def send(self, chunks: Iterable[bytes]) -> threading.Thread:
        """Write chunks from a thread, then end the request (EOF), as qrexec-client-vm does."""

        def write() -> None:
            try:
                for chunk in chunks:
                    self.request.sendall(chunk)
                self.request.shutdown(socket.SHUT_WR)
            except OSError:  # the service stopped reading: it refused early
                pass

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        return writer

    def read_answer(self, timeout: float) -> bytes:
        self.answer.settimeout(timeout)
        parts = []
        while chunk := self.answer.recv(65536):
            parts.append(chunk)
        return b"".join(parts)

    def hang_up(self, within: float) -> None:
        """Close the caller's end of the answer, as a hot qube that went away, and check the
        service noticed: it ends within `within` seconds, exit 4, one service.caller_gone line."""
        hung_up = time.monotonic()
        self.answer.close()
        status, stderr = self.wait(within)
        assert time.monotonic() - hung_up < within
        assert status == 4, stderr  # ExitStatus.INTERNAL
        assert stderr.startswith("psbtbridge: error: ") and stderr.endswith(
            "[service.caller_gone]\n"
        ), stderr

    def wait(self, timeout: float) -> tuple[int, str]:
        """Exit status (128+N for signal N, like a shell) and stderr; kills after timeout."""
        assert self.process.stderr is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the parent and the service
            self.process.wait()
            raise AssertionError(f"the service did not exit within {timeout} s") from None
        self.elapsed = time.monotonic() - self.started
        self.maxrss_kib = int(self._rss_file.read_text())
        stderr = self.process.stderr.read().decode("utf-8", "replace")
        self.process.stderr.close()
        self.request.close()
        self.answer.close()
        return status, stderr


def call(
    inst: Install,
    argument: str | None,
    request: bytes | Iterable[bytes],
    *,
    caller: str | None = "electrum-hot",
    command: Sequence[str] | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 30.0,
    service: str = SERVICE,
    mode: Mode = Mode.LOGIN_SHELL,
) -> Outcome:
    """Run the service once with request on stdin; the whole outcome."""
    running = Running(inst, argument, caller, command, extra_env, service, mode)
    writer = running.send([request] if isinstance(request, bytes) else request)
    answer = running.read_answer(timeout)
    status, stderr = running.wait(timeout)
    writer.join(timeout)
    return Outcome(status, answer, stderr, running.elapsed, running.maxrss_kib)


def shim_command() -> str:
    """PSBTBRIDGE_QREXEC_CLIENT value that makes `psbt send` call the harness (see the shim)."""
    return f"{PYTHON} {SHIM}"


def service_pid(parent: int) -> int:
    """The python running the service under the harness's measuring parent (Running.process)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.02)
    raise AssertionError("the service never started")


def wait_stopped(pid: int, timeout: float = 60) -> None:
    """Until the process has stopped itself (state T) at the step it was told (cold.state's
    STOP_VARIABLE)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "T":
            return
        time.sleep(0.02)
    raise AssertionError("the signing never reached its step")
