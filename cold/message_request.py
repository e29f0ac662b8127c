"""One message-signing request, whole: find the address, show the message, ask, sign, log.

`psbt message sign` comes here, and so can a qrexec service body (psbtbridge.SignMessage):
the caller, the confirmation mode and the passphrase file are parameters. A message is
never signed unattended: there is no "policy" mode, and with neither a display nor a
terminal the request fails (confirm.no_display / confirm.no_tty) instead of signing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cold import audit
from cold.keystore import load_keystore, read_secret_file, unlock
from cold.message_sign import check_format, default_format, find_owner, sign_message
from cold.policy import load_policy
from cold.wallets import registered_wallets
from psbtbridge.errors import Code, Declined, Refused
from psbtbridge.message import MessageFormat, check_message, script_of_address
from psbtbridge.script import address_of

CONFIRM_MODES: Final = ("tty", "gui")


@dataclass(frozen=True)
class MessageRequest:
    """How to handle one message: where the data lives, who asks, how the user confirms."""

    home: Path
    confirm: str  # "tty" or "gui"
    caller: str = "local"
    format: MessageFormat | None = None  # None: the address type's default
    passphrase_file: str | None = None
    dialog_timeout_s: float = 300.0


def sign_message_request(
    untrusted_message: bytes, untrusted_address: str, request: MessageRequest
) -> str:
    """The base64 signature, or a BridgeError saying why not (declines are logged)."""
    if request.confirm not in CONFIRM_MODES:
        raise Refused(
            Code.MESSAGE_UNATTENDED,
            "a message is signed only after a person read it: use tty or gui",
        )
    text = check_message(untrusted_message)
    data = untrusted_message  # checked: at most the cap, and UTF-8 text
    keystore = load_keystore(request.home)
    script = script_of_address(untrusted_address, keystore.network)
    # What is shown and logged is the address as a wallet writes it for this script.
    address = address_of(script, keystore.network) or untrusted_address
    wallets = registered_wallets(request.home, keystore)
    owner = find_owner(wallets, script, load_policy(request.home).change_index_window)
    script_type = owner.wallet.script_type
    chosen = check_format(script_type, request.format or default_format(script_type))
    from_file = (
        read_secret_file(request.passphrase_file)
        if keystore.encrypted and request.passphrase_file
        else None
    )
    from cold.confirm.message import MessageView

    view = MessageView(
        text=text,
        address=address,
        wallet=owner.wallet.name,
        path=owner.path,
        format=chosen.value,
        caller=request.caller,
        needs_passphrase=keystore.encrypted and from_file is None,
    )
    if request.confirm == "gui":
        from cold.confirm.message_gui import confirm_message_gui

        decision = confirm_message_gui(view, timeout_s=request.dialog_timeout_s)
    else:
        from cold.confirm.message import confirm_message_terminal

        decision = confirm_message_terminal(view)
    try:
        decision.raise_if_declined()
    except Declined as error:
        _log(request, "declined", error.code, data, address, script)
        raise
    seed = unlock(keystore, from_file if from_file is not None else decision.passphrase)
    signature = sign_message(seed, owner, data, chosen)
    _log(request, "signed", None, data, address, script)
    return signature


def _log(
    request: MessageRequest,
    decision: audit.Decision,
    reason: str | None,
    data: bytes,
    address: str,
    script: bytes,
) -> None:
    """One audit record in the log's existing schema (version 1, unchanged): `txid` holds
    the message's SHA-256, and the one output, of kind "message" and amount 0, is the
    signing address. sats_leaving 0 keeps it out of the unattended daily sum."""
    audit.append_record(
        request.home,
        audit.AuditRecord(
            decision=decision,
            reason=reason,
            txid=hashlib.sha256(data).hexdigest(),
            outputs=(audit.AuditOutput(address, script, 0, "message"),),
            fee=None,
            fee_rate=None,
            caller=request.caller,
            sats_leaving=0,
        ),
        datetime.now(UTC),
    )
