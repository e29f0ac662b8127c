"""errors.py: every code is a member of the one Code table, with a meaning; none is a bare string.

The type checker already refuses a plain string where a Code is expected (BridgeError,
Finding, every helper that passes a code on), and a misspelt member fails at import; this
file checks the table itself, and that no code hides in a string literal the type checker
cannot see (a dictionary value, a default argument).
"""

from __future__ import annotations

import ast
import re

from psbtbridge.errors import (
    CODES,
    BridgeError,
    Code,
    ConfigError,
    Declined,
    ExitStatus,
    InvalidInput,
    Refused,
)
from tests.conftest import ROOT

CODE_SHAPE = re.compile(r"[a-z0-9_]+\.[a-z0-9_.]+")


def test_codes_have_a_stable_shape_a_name_and_a_meaning() -> None:
    for code in Code:
        assert CODE_SHAPE.fullmatch(code.value), code
        assert code.name == re.sub(r"[^A-Za-z0-9]", "_", code.value).upper(), code
        assert code.meaning.strip(), code
    assert {code.value: code for code in Code} == CODES
    assert len(CODES) == len(Code)  # no two members share a text


def test_no_code_is_written_as_a_string() -> None:
    found = []
    for package in ("psbtbridge", "cold", "hot"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and node.value in CODES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert not found


def test_a_code_from_another_process_is_looked_up_not_trusted() -> None:
    assert CODES.get("policy.fee_too_high") is Code.POLICY_FEE_TOO_HIGH
    assert CODES.get("policy.from_the_future") is None


def test_exit_statuses_follow_design() -> None:
    code = Code.INTERNAL_BUG
    assert InvalidInput(code, "m").exit_status == ExitStatus.INVALID_INPUT == 3
    assert Refused(code, "m").exit_status == Declined(code, "m").exit_status == 1
    assert ConfigError(code, "m").exit_status == BridgeError(code, "m").exit_status == 4
