"""cli.py: the dispatcher's usage, unknown commands, and the no-traceback guarantee."""

from __future__ import annotations

import re
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


def _psbt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PSBT, *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )


def test_top_help_reads_like_git() -> None:
    result = _psbt("--help")
    for section in ("usage: psbt", "examples:", "environment:", "PSBTBRIDGE_HOME", "exit status:"):
        assert section in result.stderr
    assert result.stderr.count("\n  ") > len(COMMANDS)


def _actions(name: str) -> list[str]:
    """The ACTION names of a command with actions (`keys init`, ...), from its own help."""
    usage = _psbt(name, "--help").stderr
    listed = re.search(r"\{([a-z,-]+)\}", usage.split("positional arguments:")[-1])
    return listed.group(1).split(",") if listed else []


def test_every_command_and_action_help_has_the_same_parts() -> None:
    """`psbt help CMD` is `psbt CMD --help`; each has a description, the environment, the
    exit statuses, defaults shown, and no one-letter metavars but N."""
    for name in COMMANDS:
        for action in ["", *_actions(name)]:
            words = [name, action] if action else [name]
            result = _psbt(*words, "--help")
            assert (result.returncode, result.stdout) == (0, ""), words
            assert _psbt("help", *words).stderr == result.stderr
            text = result.stderr
            assert "environment:" in text and "exit status:" in text, words
            assert "  3  invalid input" in text
            description = text.split("\n\n")[1]
            assert not description.startswith(("  ", "positional", "options")), words
            for metavar in re.findall(r"--[a-z-]+ ([A-Z_]+)\b", text.split("\n\n")[0]):
                assert len(metavar) > 1 or metavar == "N", (words, metavar)


def test_defaults_are_shown() -> None:
    text = " ".join(_psbt("help", "keys", "init").stderr.split())
    assert "the network of the keys and addresses; regtest, signet or test for trying it" in text
    assert "(default: main)" in text and "(default: 0)" in text


def test_a_misspelt_command_gets_a_suggestion() -> None:
    result = _psbt("signn")
    assert result.returncode == 2
    assert result.stderr == (
        "psbt: error: unknown command 'signn'; did you mean `sign`? [cli.unknown_command]\n"
    )
    assert "did you mean" not in _psbt("frobnicate").stderr


def test_argparse_errors_take_the_documented_form() -> None:
    for argv in (["keys"], ["sign", "--confirm", "maybe"], ["inspect", "--nope"]):
        result = _psbt(*argv)
        assert result.returncode == 2 and result.stdout == ""
        last = result.stderr.strip().splitlines()[-1]
        assert re.fullmatch(r"psbt: error: .+ \[cli\.usage\]", last), last
