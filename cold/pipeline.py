"""The whole cold pipeline on one request: parse, prove, check policy, confirm, sign, log.

`psbt sign` and the qrexec service (`psbt serve`) both come here, so a PSBT is treated the
same way however it arrives. Every decision after parsing lands in the audit log.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cold import audit, ledger
from cold.audit import AuditOutput, AuditRecord
from cold.keystore import KeystoreFile, load_keystore, read_secret_file, unlock
from cold.policy import Policy, load_policy, sum_last_24h
from cold.signer import sign
from cold.verdict import Verdict, evaluate, evaluate_unattended
from cold.wallets import registered_wallets
from psbtbridge.analysis import Analysis, analyse
from psbtbridge.encoding import decode, encode
from psbtbridge.errors import ConfigError, Declined, Finding, Refused
from psbtbridge.home import data_home
from psbtbridge.psbt import Psbt

if TYPE_CHECKING:
    from cold.confirm.view import Decision

Clock = Callable[[], datetime]
#: Where unattended signing finds the keystore passphrase when no --passphrase-file is given.
#: Set by the cold qube's own configuration; qrexec passes the caller no way to set it.
PASSPHRASE_FILE_VARIABLE = "PSBTBRIDGE_PASSPHRASE_FILE"


@dataclass(frozen=True)
class SignRequest:
    """How to handle one PSBT: where the data lives, who asks, and how the user confirms."""

    home: Path
    #: "tty", "gui" or "policy"; None (the service): "policy" when policy.toml enables
    #: unattended signing, else the dialog.
    confirm: str | None
    caller: str = "local"
    passphrase_file: str | None = None
    expected_digest: str | None = None  # the qrexec argument: must name this transaction
    dialog_timeout_s: float = 300.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def sign_request(untrusted_data: bytes, digest: str, caller: str) -> bytes:
    """The qrexec service's handler: digest and caller are already validated by cold.service."""
    request = SignRequest(
        home=data_home(os.environ),
        confirm=None,
        caller=caller,
        passphrase_file=os.environ.get(PASSPHRASE_FILE_VARIABLE),
        expected_digest=digest,
    )
    return sign_psbt(untrusted_data, request)


def sign_psbt(untrusted_data: bytes, request: SignRequest, now: Clock = utc_now) -> bytes:
    """The signed PSBT in the input's encoding, or a BridgeError saying why not."""
    data, encoding = decode(untrusted_data)
    psbt = Psbt.parse(data)
    keystore = load_keystore(request.home)
    policy = load_policy(request.home)
    wallets = registered_wallets(request.home, keystore)
    unsigned = psbt.unsigned_tx()
    txid = unsigned.txid_hex()
    analysis: Analysis | None = None
    try:
        if request.expected_digest is not None and unsigned.digest() != request.expected_digest:
            raise Refused(
                "service.digest_mismatch",
                f"the request was announced as {request.expected_digest} but the transaction"
                f" is {unsigned.digest()}",
            )
        analysis = analyse(psbt, wallets, keystore.network, policy.change_index_window)
        known = ledger.load(request.home)
        amounts = _remembered_amounts(analysis)
        conflicts = ledger.check_amounts(known, _stated_amounts(analysis))
        if conflicts:
            raise Refused("proof.amount_changed", conflicts[0].sentence())
        earlier = ledger.previous_spends(known, _owned_outpoints(analysis), txid)
        reused = tuple(
            Finding(
                "warning.input_already_signed",
                f"input {outpoint}",
                f"was already signed into another transaction {other}",
            )
            for outpoint, other in earlier
        )
        verdict = evaluate(analysis, policy, reused)
        verdict.raise_if_refused()
        passphrase = _confirm(analysis, verdict, policy, keystore, request, now)
        seed = unlock(keystore, passphrase)
        signed = sign(psbt, analysis, seed)
        # Record under the ledger lock before releasing anything: a request that checked
        # its amounts while another one (with other amounts) was being confirmed is refused
        # here, and logged as refused, rather than signed on a stale check.
        ledger.update(request.home, amounts, _owned_outpoints(analysis), txid)
    except (Refused, Declined) as error:
        decision: audit.Decision = "declined" if isinstance(error, Declined) else "refused"
        _log(request, now, decision, error.code, txid, analysis)
        raise
    _log(request, now, "signed", None, txid, analysis)
    return encode(signed.serialize(), encoding)


def _confirm(
    analysis: Analysis,
    verdict: Verdict,
    policy: Policy,
    keystore: KeystoreFile,
    request: SignRequest,
    now: Clock,
) -> str | None:
    """Ask the user (or the unattended rules); return the keystore passphrase to unlock with."""
    mode = request.confirm or ("policy" if policy.unattended.enabled else "gui")
    from_file = (
        read_secret_file(request.passphrase_file)
        if keystore.encrypted and request.passphrase_file is not None
        else None
    )
    if mode == "policy":
        if keystore.encrypted and from_file is None:
            raise ConfigError(
                "keystore.passphrase_required",
                "unattended signing with an encrypted keystore needs --passphrase-file",
            )
        records, moment = audit.read_records(request.home), now()
        # payments and fees: both left the wallet
        sent = sum_last_24h(audit.signed_spends(records), moment) + sum_last_24h(
            _signed_fees(records), moment
        )
        evaluate_unattended(analysis, policy, verdict, sent).raise_if_refused()
        return from_file
    # Loaded only when a person is asked: unattended signing starts faster without them.
    from cold.confirm.view import confirmation_view

    view = confirmation_view(
        analysis, verdict, request.caller, keystore.encrypted and not from_file
    )
    decision: Decision
    if mode == "gui":
        from cold.confirm.gui import confirm_gui

        decision = confirm_gui(view, timeout_s=request.dialog_timeout_s)
    else:
        from cold.confirm.tty import confirm_terminal

        decision = confirm_terminal(view)
    decision.raise_if_declined()
    return from_file if from_file is not None else decision.passphrase


def _stated_amounts(analysis: Analysis) -> dict[ledger.OutPointKey, int]:
    """Every input amount the PSBT states, proven or only claimed: each must agree with the
    amount remembered for its coin (a foreign coin proven earlier, then claimed otherwise,
    would make the fee shown a lie)."""
    return {
        ledger.outpoint_key_from_internal(i.prevout.txid, i.prevout.vout): i.amount
        for i in analysis.inputs
        if i.amount is not None
    }


def _remembered_amounts(analysis: Analysis) -> dict[ledger.OutPointKey, int]:
    """Amounts worth remembering: proven ones, and taproot ones our signature commits to."""
    return {
        ledger.outpoint_key_from_internal(i.prevout.txid, i.prevout.vout): i.amount
        for i in analysis.inputs
        if i.amount is not None and (i.amount_proven or i.owner is not None)
    }


def _signed_fees(entries: list[audit.AuditEntry]) -> list[tuple[datetime, int]]:
    """(time, fee) of every signed record: fees count towards the unattended daily limit."""
    return [(e.time, e.record.fee or 0) for e in entries if e.record.decision == "signed"]


def _owned_outpoints(analysis: Analysis) -> list[ledger.OutPointKey]:
    return [
        ledger.outpoint_key_from_internal(i.prevout.txid, i.prevout.vout)
        for i in analysis.owned_inputs
    ]


def _log(
    request: SignRequest,
    now: Clock,
    decision: audit.Decision,
    reason: str | None,
    txid: str,
    analysis: Analysis | None,
) -> None:
    outputs: tuple[AuditOutput, ...] = ()
    if analysis is not None:
        outputs = tuple(
            AuditOutput(o.address, o.script_pubkey, o.amount, o.kind.value)
            for o in analysis.outputs
        )
    audit.append_record(
        request.home,
        AuditRecord(
            decision=decision,
            reason=reason,
            txid=txid,
            outputs=outputs,
            fee=analysis.fee if analysis else None,
            fee_rate=round(analysis.fee_rate, 3) if analysis else None,
            caller=request.caller,
            sats_leaving=analysis.sending if analysis else 0,
        ),
        now(),
    )
