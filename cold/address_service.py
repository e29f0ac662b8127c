"""The psbtbridge.ShowAddress service body: is this address one of ours, said on the cold screen.

`cold.service.run_service` has already validated the caller and the digest argument and
read the request (bounded, within a deadline); this answers it. The answer is computed
from the keystore's public part and the wallet registry only: no passphrase, no seed, and
nothing is signed, so there is nothing to approve. Where the cold qube has a display the
answer is also shown there (cold/confirm/address_window.py), and the call returns once the
user closed that window; a headless cold qube answers at once.

Not written to the audit log: its records are signing decisions (signed, declined or
refused, with a transaction's outputs and fee), and an address check is none of these.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from cold.confirm.address_window import AddressView, show_address_window
from cold.keystore import load_keystore
from cold.service import CallerGone
from cold.wallets import registered_wallets
from psbtbridge.address import decode_address
from psbtbridge.errors import Code, ConfigError
from psbtbridge.home import data_home
from psbtbridge.qrexec import check_digest
from psbtbridge.show_address import Answer, parse_request, request_digest
from psbtbridge.wallet.addresses import ADDRESS_WINDOW, find_address

READ_DEADLINE_S: Final = 10.0  # ninety bytes; a caller slower than this is stalling
WINDOW_TIMEOUT_S: Final = 120.0
#: Window failures that mean "this qube has no screen": answer without one.
_HEADLESS: Final = frozenset({Code.CONFIRM_NO_DISPLAY, Code.CONFIRM_NO_TK})

#: Shows the view to the user; returns once the user has seen it (or raises ConfigError).
Show = Callable[[AddressView], None]


def check_address(
    untrusted_request: bytes, digest: str, caller: str, home: Path, show: Show | None
) -> Answer:
    """Decide whether the requested address is ours, show the answer, and return it."""
    untrusted_address = parse_request(untrusted_request)
    check_digest(digest, request_digest(untrusted_address), "address")
    keystore = load_keystore(home)
    wallets = registered_wallets(home, keystore)
    address, _ = decode_address(untrusted_address, keystore.network)
    found = find_address(
        address, wallets, keystore.network, ADDRESS_WINDOW, keystore.master_fingerprint
    )
    if show is not None:
        view = AddressView(
            address=address,
            ours=found is not None,
            wallet=found.wallet if found else None,
            chain=found.chain_name if found else None,
            index=found.index if found else None,
            path=found.path if found else None,
            caller=caller,
            digest=digest,
            window=ADDRESS_WINDOW,
        )
        try:
            show(view)
        except ConfigError as error:
            if error.code not in _HEADLESS:
                raise
    return Answer(False) if found is None else Answer(True, found.wallet, found.path)


def handle(
    untrusted_request: bytes, digest: str, caller: str, caller_gone: Callable[[], bool]
) -> bytes:
    """run_service's handler: the answer line, the window shown when there is a display
    (closed at its next tick when the caller hangs up)."""
    environ: Mapping[str, str] = os.environ

    def window(view: AddressView) -> None:
        show_address_window(view, WINDOW_TIMEOUT_S, caller_gone)

    show = window if environ.get("DISPLAY") else None
    answer = check_address(untrusted_request, digest, caller, data_home(environ), show)
    if caller_gone():
        raise CallerGone  # nobody to answer: say why, not a broken pipe
    return answer.encode()
