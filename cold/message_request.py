"""One message-signing request, whole: find the address, show the message, ask, sign, log.

`psbt message sign` comes here, and so does the psbtbridge.SignMessage service body
(cold/message_service.py): the caller, the confirmation mode, the passphrase file and the
announced digest are parameters. A message is never signed unattended: there is no
"policy" mode, and with neither a display nor a terminal the request fails
(confirm.no_display / confirm.no_tty) instead of signing.

Every decision about a well-formed request is an audit record, as the transaction
pipeline keeps them: signed, declined, or refused once the address is read (not ours,
multisig, a format the address cannot use, a digest that does not name the message).
A request refused before that (too long, not UTF-8, not an address) was never a request
for one of our keys, and is not logged, as an unparseable PSBT is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cold import audit, state
from cold.keystore import load_keystore, read_secret_file, unlock
from cold.message_sign import check_format, default_format, find_owner, sign_message
from cold.pipeline import log_unsigned, never_gone, utc_now
from cold.policy import load_policy
from cold.wallets import registered_wallets
from psbtbridge.confirm_modes import ASKING_MODES
from psbtbridge.errors import BridgeError, Code, ConfigError, Declined, Refused
from psbtbridge.message import MessageFormat, check_message, script_of_address
from psbtbridge.qrexec import check_digest, digest_of
from psbtbridge.script import address_of


@dataclass(frozen=True)
class MessageRequest:
    """How to handle one message: where the data lives, who asks, how the user confirms."""

    home: Path
    confirm: str  # "tty" or "gui"
    caller: str = "local"
    format: MessageFormat | None = None  # None: the address type's default
    passphrase_file: str | None = None
    #: The qrexec argument (psbtbridge.qrexec.digest_of the message): must name this message.
    expected_digest: str | None = None
    dialog_timeout_s: float = 300.0


def sign_message_request(
    untrusted_message: bytes,
    untrusted_address: str,
    request: MessageRequest,
    caller_gone: Callable[[], bool] = never_gone,
) -> str:
    """The base64 signature, or a BridgeError saying why not (see the module docstring for
    what is logged). caller_gone: has a service's caller hung up? Asked by the dialog at
    every tick and once before signing."""
    if request.confirm not in ASKING_MODES:
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
    try:
        if request.expected_digest is not None:
            check_digest(request.expected_digest, digest_of(data), "message")
        try:
            wallets = registered_wallets(request.home, keystore)
            window = load_policy(request.home).change_index_window
        except ConfigError as error:
            # As cold/pipeline.py: a damaged registry or policy.toml stops the request, and
            # the request is logged as refused with that file's code.
            record = _record(request, error, data, address, script)
            raise log_unsigned(request.home, record, error, utc_now) from None
        owner = find_owner(wallets, script, window)
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
            digest=request.expected_digest,
        )
        if request.confirm == "gui":
            from cold.confirm.message_gui import confirm_message_gui

            decision = confirm_message_gui(
                view, timeout_s=request.dialog_timeout_s, caller_gone=caller_gone
            )
        else:
            from cold.confirm.message import confirm_message_terminal

            decision = confirm_message_terminal(view)
        decision.raise_if_declined()
        if caller_gone():
            raise Declined(
                Code.SERVICE_CALLER_GONE, "the caller went away before signing: nothing was signed"
            )
    except (Refused, Declined) as error:
        record = _record(request, error, data, address, script)
        raise log_unsigned(request.home, record, error, utc_now) from None
    seed = unlock(keystore, from_file if from_file is not None else decision.passphrase)
    signature = sign_message(seed, owner, data, chosen)
    with state.locked(request.home) as held:
        held.record(_record(request, None, data, address, script), utc_now())
    return signature


def _record(
    request: MessageRequest,
    error: BridgeError | None,
    data: bytes,
    address: str,
    script: bytes,
) -> audit.AuditRecord:
    """The request's audit record in the log's existing schema: `txid` holds the message's
    SHA-256, and the one output, of kind "message" and amount 0, is the signing address; a
    refusal keeps its full sentence, which the caller is never told. sats_leaving 0 keeps
    it out of the unattended daily sum. error None: signed."""
    return audit.AuditRecord(
        decision=audit.decision_for(error),
        reason=None if error is None else error.code,
        sentence=None if error is None else error.message,
        txid=hashlib.sha256(data).hexdigest(),
        outputs=(audit.AuditOutput(address, script, 0, "message"),),
        fee=None,
        fee_rate=None,
        caller=request.caller,
        sats_leaving=0,
    )
