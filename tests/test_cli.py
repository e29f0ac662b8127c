"""cli.py: the dispatcher's usage, unknown commands, and the no-traceback guarantee."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from psbtbridge.cli import COMMANDS, run

ROOT = Path(__file__).resolve().parent.parent
PSBT = str(Path(sys.executable).parent / "psbt")


def test_every_listed_command_module_exists() -> None:
    for name, command in COMMANDS.items():
        path = ROOT / (command.module.replace(".", "/") + ".py")
        assert path.is_file(), f"`psbt {name}` points at missing {path}"


def test_no_arguments_prints_usage_and_exits_2(capsys: object) -> None:
    assert run([]) == 2


def test_unknown_command_exits_2() -> None:
    result = subprocess.run([PSBT, "frobnicate"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "unknown command" in result.stderr
    assert result.stdout == ""


def test_help_goes_to_stderr_and_lists_commands() -> None:
    result = subprocess.run([PSBT, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stdout == ""
    for name in COMMANDS:
        assert name in result.stderr


def test_internal_errors_never_show_a_traceback(tmp_path: Path) -> None:
    """A bug surfaces as one line and exit 4; PSBTBRIDGE_DEBUG=1 shows the traceback."""
    code = "import sys, psbtbridge.cli as c;c.run = lambda argv: 1 / 0;c.main()"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert "[internal.bug]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
