"""Loading the signing policy from PSBTBRIDGE_HOME/policy.toml (the edge of psbtbridge.policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from psbtbridge.errors import ConfigError, InvalidInput
from psbtbridge.files import read_bounded
from psbtbridge.policy import DEFAULT_POLICY, FILE_NAME, Policy, parse_policy

MAX_POLICY_SIZE: Final = 64 * 1024  # bytes; a policy is a dozen lines


def load_policy(home: Path) -> Policy:
    """The policy in home/policy.toml, or the safe defaults when there is no such file."""
    path = home / FILE_NAME
    try:
        with open(path, "rb") as stream:
            data = read_bounded(stream, MAX_POLICY_SIZE)
    except FileNotFoundError:
        return DEFAULT_POLICY
    except OSError as error:
        raise ConfigError("policy.unreadable", f"cannot read {path}: {error.strerror}") from error
    except InvalidInput as error:
        raise ConfigError(
            "policy.unreadable", f"{path} is larger than {MAX_POLICY_SIZE} bytes"
        ) from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            "policy.unreadable", f"{FILE_NAME} line {line}: not UTF-8 text"
        ) from error
    return parse_policy(text)
