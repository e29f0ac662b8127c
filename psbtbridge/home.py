"""Where psbtbridge keeps its data: keystore, wallets, policy, audit log and ledger."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from psbtbridge.errors import Code, ConfigError
from psbtbridge.files import read_stored
from psbtbridge.network import Network

#: The cold keystore's file in the data home (cold/keystore.py reads and writes it).
KEYSTORE_NAME: Final = "keystore.json"
MAX_KEYSTORE_SIZE: Final = 64 * 1024


def data_home(environ: Mapping[str, str]) -> Path:
    """PSBTBRIDGE_HOME if set, else $XDG_DATA_HOME/psbtbridge, else ~/.local/share/psbtbridge."""
    explicit = environ.get("PSBTBRIDGE_HOME")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_DATA_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "psbtbridge"
    return Path(environ.get("HOME", "~")).expanduser() / ".local" / "share" / "psbtbridge"


def keystore_network(home: Path) -> Network | None:
    """The network of the keystore in home, from its public header; None without one.

    Only `psbt inspect` asks, to show addresses as the signer beside it would: the full
    keystore checks stay in cold/keystore.py, which this side must not import.
    """
    path = home / KEYSTORE_NAME
    untrusted_data = read_stored(
        path, MAX_KEYSTORE_SIZE, Code.KEYSTORE_UNREADABLE, Code.KEYSTORE_CORRUPT
    )
    if untrusted_data is None:
        return None
    try:
        return Network(json.loads(untrusted_data)["network"])
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigError(Code.KEYSTORE_CORRUPT, f"{path}: no known network in it") from error
