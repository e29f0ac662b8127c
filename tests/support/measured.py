"""Run the real `psbt` command and measure it: exit status, output, wall time and peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PSBT = str(Path(sys.executable).parent / "psbt")

# Peak memory is read by a small parent, not by pytest: ru_maxrss keeps its high-water mark
# across fork and exec, so a command forked straight from pytest would report pytest's size.
_MEASURE = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
"""

MAX_SECONDS = 5.0  # the issue 16 bounds for any hostile input
MAX_MEGABYTES = 500


@dataclass(frozen=True)
class Measured:
    status: int
    stdout: bytes
    stderr: str
    seconds: float
    megabytes: float

    def assert_bounded(self) -> None:
        assert self.seconds < MAX_SECONDS, f"took {self.seconds:.1f} s: {self.stderr}"
        assert self.megabytes < MAX_MEGABYTES, f"used {self.megabytes:.0f} MB: {self.stderr}"

    def assert_code(self, status: int, code: str) -> None:
        """Exit status and code of a one-line error; never internal.bug."""
        assert "[internal.bug]" not in self.stderr, self.stderr
        assert self.status == status, self.stderr
        assert self.stderr.rstrip("\n").endswith(f"[{code}]"), self.stderr


def run_measured(
    *args: str,
    home: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
) -> Measured:
    """`psbt ARGS` with PSBTBRIDGE_HOME=home (no other PSBTBRIDGE_ setting), measured."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    environment.pop("DISPLAY", None)
    if home is not None:
        environment["PSBTBRIDGE_HOME"] = str(home)
    environment.update(env or {})
    with tempfile.NamedTemporaryFile(prefix="maxrss-") as rss:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-I", "-c", _MEASURE, rss.name, PSBT, *args],
            env=environment,
            cwd=cwd,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=120,
        )
        seconds = time.monotonic() - started
        megabytes = int(Path(rss.name).read_text() or 0) / 1024
    return Measured(
        result.returncode, result.stdout, result.stderr.decode(errors="replace"), seconds, megabytes
    )
