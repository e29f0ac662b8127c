"""Runs confirm_gui in its own process for tests/test_confirm_gui.py and prints the Decision.

Usage: python -m tests.support.confirm_gui_runner '{"timeout_s": 5, "needs_passphrase": true, ...}'
("passphrase_ok": TEXT makes the dialog check the typed passphrase against TEXT.)
Prints one JSON line: the Decision's fields, or {"error": CODE} for a BridgeError.
"""

from __future__ import annotations

import json
import sys

from cold.confirm.gui import confirm_gui
from psbtbridge.errors import BridgeError
from tests.support.confirm_samples import proof_view, sample_view


def main(argv: list[str]) -> int:
    options = json.loads(argv[1])
    view = sample_view(
        needs_passphrase=options.get("needs_passphrase", False),
        extra_outputs=options.get("extra_outputs", 0),
        warnings=tuple(options.get("warnings", ())),
    )
    if "proof_lines" in options:
        view = proof_view(lines=options["proof_lines"])
    expected = options.get("passphrase_ok")  # a keystore passphrase the dialog checks

    def check(passphrase: str) -> str | None:
        return None if passphrase == expected else "wrong passphrase"

    try:
        decision = confirm_gui(
            view,
            timeout_s=options.get("timeout_s", 20),
            sign_delay_s=options.get("sign_delay_s", 2.0),
            check_passphrase=check if expected is not None else None,
        )
    except BridgeError as e:
        print(json.dumps({"error": e.code}), flush=True)
        return 1
    result = {
        "approved": decision.approved,
        "passphrase": decision.passphrase,
        "reason_code": decision.reason_code,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
