"""errors.py: every code raised anywhere in the source is in the one CODES table."""

from __future__ import annotations

import re
from pathlib import Path

from psbtbridge.errors import (
    CODES,
    BridgeError,
    ConfigError,
    Declined,
    ExitStatus,
    InvalidInput,
    Refused,
)

ROOT = Path(__file__).resolve().parent.parent
RAISED = re.compile(
    r"\b(?:BridgeError|InvalidInput|Refused|Declined|UsageError|ConfigError)\(\s*[\"']([^\"']+)[\"']"
)
CODE_SHAPE = re.compile(r"[a-z0-9_]+\.[a-z0-9_.]+")


def _raised_codes() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("psbtbridge", "cold", "hot"):
        for path in (ROOT / package).rglob("*.py"):
            for code in RAISED.findall(path.read_text()):
                found.setdefault(code, path)
    return found


def test_every_raised_code_is_documented() -> None:
    missing = {code: str(path) for code, path in _raised_codes().items() if code not in CODES}
    assert not missing


def test_codes_have_a_stable_shape_and_a_meaning() -> None:
    for code, meaning in CODES.items():
        assert CODE_SHAPE.fullmatch(code), code
        assert meaning.strip(), code


def test_exit_statuses_follow_design() -> None:
    assert InvalidInput("x.y", "m").exit_status == ExitStatus.INVALID_INPUT == 3
    assert Refused("x.y", "m").exit_status == Declined("x.y", "m").exit_status == 1
    assert ConfigError("x.y", "m").exit_status == BridgeError("x.y", "m").exit_status == 4
