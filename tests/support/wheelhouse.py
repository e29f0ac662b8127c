"""Test-only: the wheelhouse the lock file pins, built once per session where the network is.

PSBTBRIDGE_WHEELHOUSE names one built beforehand (CI builds it into /var/cache/psbtbridge
with salt/psbtbridge/files/bin/build-wheelhouse); otherwise it is built here, for Debian 12's
and Debian 13's Pythons, so one folder serves both roots.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "salt" / "psbtbridge" / "files" / "lock"
BUILD = ROOT / "salt" / "psbtbridge" / "files" / "bin" / "build-wheelhouse"


def wheelhouse(folder: Path) -> Path:
    """The prebuilt wheelhouse if PSBTBRIDGE_WHEELHOUSE names one, else one built in folder."""
    prebuilt = os.environ.get("PSBTBRIDGE_WHEELHOUSE")
    if prebuilt:
        return Path(prebuilt)
    subprocess.run([str(BUILD), str(folder), "3.11", "3.13"], check=True, timeout=600)
    return folder
