"""Loading the signing policy from PSBTBRIDGE_HOME/policy.toml (the edge of psbtbridge.policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from psbtbridge.errors import ConfigError
from psbtbridge.files import read_stored
from psbtbridge.policy import DEFAULT_POLICY, FILE_NAME, Policy, parse_policy

MAX_POLICY_SIZE: Final = 64 * 1024  # bytes; a policy is a dozen lines


def load_policy(home: Path) -> Policy:
    """The policy in home/policy.toml, or the safe defaults when there is no such file."""
    path = home / FILE_NAME
    data = read_stored(path, MAX_POLICY_SIZE, "policy.unreadable", "policy.unreadable")
    if data is None:
        return DEFAULT_POLICY
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            "policy.unreadable", f"{FILE_NAME} line {line}: not UTF-8 text"
        ) from error
    return parse_policy(text)
