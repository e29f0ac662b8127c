"""Runs show_address_window in its own process for tests/test_address_window.py.

Usage: python -m tests.support.address_window_runner '{"ours": true, "timeout_s": 20}'
Prints one JSON line once the window is closed: {"closed": true}, or {"error": CODE}.
"""

from __future__ import annotations

import json
import sys

from cold.confirm.address_window import AddressView, show_address_window
from psbtbridge.errors import BridgeError

OURS = "bcrt1qhqyge6xhaz2zzjf5nn7tsgyja7ye76qyqh4gtwxrets6g7h28kqqxggw8t"  # vault change 999
STRANGER = "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"


def sample_address_view(ours: bool) -> AddressView:
    if ours:
        return AddressView(
            OURS,
            True,
            "vault",
            "change",
            999,
            "m/48h/1h/0h/2h/1/999",
            "electrum-hot",
            "5d1c09a2",
            1000,
        )
    return AddressView(STRANGER, False, None, None, None, None, "electrum-hot", "0be5a1f3", 1000)


def main(argv: list[str]) -> int:
    options = json.loads(argv[1])
    try:
        show_address_window(sample_address_view(options["ours"]), options.get("timeout_s", 20))
    except BridgeError as e:
        print(json.dumps({"error": e.code}), flush=True)
        return 1
    print(json.dumps({"closed": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
