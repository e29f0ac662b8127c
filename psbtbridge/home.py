"""Where psbtbridge keeps its data: keystore, wallets, policy, audit log and ledger."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def data_home(environ: Mapping[str, str]) -> Path:
    """PSBTBRIDGE_HOME if set, else $XDG_DATA_HOME/psbtbridge, else ~/.local/share/psbtbridge."""
    explicit = environ.get("PSBTBRIDGE_HOME")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_DATA_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "psbtbridge"
    return Path(environ.get("HOME", "~")).expanduser() / ".local" / "share" / "psbtbridge"
