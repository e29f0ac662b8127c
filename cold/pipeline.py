"""The whole cold pipeline on one request: parse, prove, check policy, confirm, sign, log.

`psbt sign` and the qrexec service (`psbt serve`) both come here, so a PSBT is treated the
same way however it arrives. Every decision after parsing lands in the audit log.

What decides happens under the state lock (cold/state.py): the ledger and budget are read,
the request judged, signed, logged and indexed before another request may read them.
Unattended, all of that is one locked section. With a person deciding, the dialog runs
outside the lock (a person may take minutes), and everything is judged again under the
lock before signing: a request that no longer fits is refused and logged as such.
Cancellation is checked at defined points only: the dialog's timer, and once under the
lock before signing; a caller gone by then is logged as declined and nothing is signed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple

from cold import audit, state
from cold.audit import (
    PROOF_KIND,
    AuditInput,
    AuditOutput,
    AuditRecord,
    UsedIndex,
    bounded_output,
)
from cold.keystore import KeystoreFile, Seed, load_keystore, read_secret_file, unlock
from cold.ledger import (
    OutPointKey,
    Stated,
    check_amounts,
    outpoint_key_from_internal,
    previous_spends,
)
from cold.policy import Policy, load_policy
from cold.signer import sign
from cold.verdict import ALREADY_SIGNED, Verdict, evaluate, evaluate_unattended
from cold.wallets import registered_wallets
from psbtbridge.analysis import Analysis, analyse
from psbtbridge.bip322_psbt import claims_proof
from psbtbridge.encoding import decode, encode
from psbtbridge.errors import BridgeError, Code, ConfigError, Declined, Finding, Refused
from psbtbridge.home import data_home
from psbtbridge.psbt import Psbt
from psbtbridge.qrexec import check_digest
from psbtbridge.script import address_of
from psbtbridge.size import MAX_SCRIPT_SIZE, MAX_STANDARD_WEIGHT, unsigned_weight
from psbtbridge.tx import Tx
from psbtbridge.wallet import Wallet

if TYPE_CHECKING:
    from cold.confirm.view import Decision

Clock = Callable[[], datetime]
#: True once the caller has hung up (the service's watcher sets it; `psbt sign`: never).
CallerGone = Callable[[], bool]
#: Where unattended signing finds the keystore passphrase when no --passphrase-file is given.
#: Set by the cold qube's own configuration; qrexec passes the caller no way to set it.
PASSPHRASE_FILE_VARIABLE = "PSBTBRIDGE_PASSPHRASE_FILE"
DAY: Final = timedelta(hours=24)


class SignRequest(NamedTuple):
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


def never_gone() -> bool:
    return False


def service_request(digest: str, caller: str) -> SignRequest:
    """The qrexec service's request: digest and caller are already validated by cold.service."""
    return SignRequest(
        home=data_home(os.environ),
        confirm=None,
        caller=caller,
        passphrase_file=os.environ.get(PASSPHRASE_FILE_VARIABLE),
        expected_digest=digest,
    )


class Signed(NamedTuple):
    """A signing that happened: the signed PSBT and what the success line says about it."""

    data: bytes  # the signed PSBT in the input's encoding
    txid: str
    digest: str  # the 8-hex request code (psbtbridge.qrexec)
    inputs_signed: int
    inputs: int
    #: When this exact transaction was first signed, if it was before this request.
    already_signed_at: datetime | None

    def summary(self, where: str) -> str:
        """The one line `psbt sign` prints on success."""
        line = f"signed {self.inputs_signed} of {self.inputs} inputs ({self.digest}) -> {where}"
        if self.already_signed_at is not None:
            line += f" (again: first signed at {_when(self.already_signed_at)})"
        return line


def _when(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Context:
    """One request as far as it got: what its audit record is made from."""

    __slots__ = (
        "already_signed_at",
        "analysis",
        "keystore",
        "policy",
        "psbt",
        "request",
        "seed",
        "tx",
        "txid",
        "wallets",
    )

    def __init__(
        self,
        request: SignRequest,
        tx: Tx,
        txid: str,
        psbt: Psbt,
        wallets: tuple[Wallet, ...],
        keystore: KeystoreFile,
        policy: Policy,
    ) -> None:
        self.request = request
        self.tx = tx
        self.txid = txid
        self.psbt = psbt
        self.wallets = wallets
        self.keystore = keystore
        self.policy = policy
        self.analysis: Analysis | None = None
        self.seed: Seed | None = None  # unlocked while the user was asked (the passphrase checked)
        self.already_signed_at: datetime | None = None


def sign_psbt(
    untrusted_data: bytes,
    request: SignRequest,
    now: Clock = utc_now,
    caller_gone: CallerGone = never_gone,
) -> bytes:
    """The signed PSBT in the input's encoding, or a BridgeError saying why not."""
    return run_signing(untrusted_data, request, now, caller_gone).data


def run_signing(
    untrusted_data: bytes,
    request: SignRequest,
    now: Clock = utc_now,
    caller_gone: CallerGone = never_gone,
) -> Signed:
    """The whole pipeline on one request: what was signed, or a BridgeError saying why not."""
    data, encoding = decode(untrusted_data)
    psbt = Psbt.parse(data)
    unsigned = psbt.unsigned_tx()
    try:
        keystore = load_keystore(request.home)
        policy = load_policy(request.home)
        wallets = tuple(registered_wallets(request.home, keystore))
    except ConfigError as error:
        # A broken keystore, policy or wallet registry stops the request before any proof:
        # still logged, with that file's code, as a refusal of this transaction.
        record = _unanalysed_record(request, unsigned, "refused", error)
        raise log_unsigned(request.home, record, error, now) from None
    ctx = _Context(request, unsigned, unsigned.txid_hex(), psbt, wallets, keystore, policy)
    # A message proof is never signed unattended (cold/verdict.py): the service asks a person.
    unattended = policy.unattended.enabled and not claims_proof(psbt)
    mode = request.confirm or ("policy" if unattended else "gui")
    try:
        _check_bounds(ctx)
        if mode == "policy":
            passphrase = _unattended_passphrase(keystore, request)
            with state.locked(request.home) as held:
                state.checkpoint("locked")
                analysis, verdict = _judge(ctx, held)
                sent = held.left_since(now() - DAY)
                # The same transaction signed again spends nothing more: counted once.
                again = ctx.already_signed_at is not None
                evaluate_unattended(
                    analysis, policy, verdict, sent, already_counted=again
                ).raise_if_refused()
                signed = _sign_and_record(ctx, held, analysis, passphrase, now, caller_gone)
        else:
            with state.locked(request.home) as held:
                analysis, shown = _judge(ctx, held)
            passphrase = _ask(ctx, analysis, shown, mode, caller_gone)
            state.checkpoint("confirmed")
            with state.locked(request.home) as held:
                state.checkpoint("locked")
                analysis, verdict = _judge(ctx, held)
                _still_as_shown(shown, verdict)
                signed = _sign_and_record(ctx, held, analysis, passphrase, now, caller_gone)
    except (Refused, Declined) as error:
        decision = audit.decision_for(error)
        # A record the log cannot hold in full (audit.bad_record): the decision alone can.
        alone = _unanalysed_record(request, unsigned, decision, error)._replace(outputs=())
        raise log_unsigned(request.home, _record(ctx, decision, error), error, now, alone) from None
    return Signed(
        encode(signed.serialize(), encoding),
        ctx.txid,
        ctx.tx.digest(),
        len(analysis.owned_inputs),
        len(analysis.inputs),
        ctx.already_signed_at,
    )


def _check_bounds(ctx: _Context) -> None:
    """What no request may exceed, checked before any work that grows with it."""
    if ctx.request.expected_digest is not None:
        check_digest(ctx.request.expected_digest, ctx.tx.digest(), "transaction")
    for index, out in enumerate(ctx.tx.outputs):
        if len(out.script_pubkey) > MAX_SCRIPT_SIZE:
            raise Refused(
                Code.PROOF_SCRIPT_TOO_LARGE,
                f"output {index}: its script is {len(out.script_pubkey)} bytes, over the"
                f" {MAX_SCRIPT_SIZE}-byte limit of any spendable script",
            )
    weight = unsigned_weight(ctx.tx)
    if weight > MAX_STANDARD_WEIGHT:
        raise Refused(
            Code.PROOF_TX_TOO_HEAVY,
            f"the transaction weighs at least {weight} WU before signing, over the standard"
            f" {MAX_STANDARD_WEIGHT} WU: no node would relay it",
        )


def _judge(ctx: _Context, held: state.State) -> tuple[Analysis, Verdict]:
    """Prove the request and judge it against the policy and the state; raise if refused."""
    analysis = analyse(
        ctx.psbt,
        ctx.wallets,
        ctx.keystore.network,
        ctx.policy.change_index_window,
        held.known_indexes(),
    )
    ctx.analysis = analysis
    if analysis.vsize * 4 > MAX_STANDARD_WEIGHT:
        raise Refused(
            Code.PROOF_TX_TOO_HEAVY,
            f"the signed transaction would weigh about {analysis.vsize * 4} WU, over the"
            f" standard {MAX_STANDARD_WEIGHT} WU: no node would relay it",
        )
    stated = {
        _key(i.prevout.txid, i.prevout.vout): Stated(i.amount, i.amount_proven)
        for i in analysis.inputs
        if i.amount is not None
    }
    conflicts = check_amounts(held.amounts(stated), stated)
    if conflicts:
        raise Refused(
            Code.PROOF_AMOUNT_CHANGED,
            f"{conflicts[0].sentence()}; the full previous transaction proves the real amount",
        )
    owned = [_key(i.prevout.txid, i.prevout.vout) for i in analysis.owned_inputs]
    reused = tuple(
        Finding(
            Code.WARNING_INPUT_ALREADY_SIGNED,
            f"input {outpoint}",
            f"was already signed into another transaction {other}",
        )
        for outpoint, other in previous_spends(held.signed_into(owned), ctx.txid)
    )
    ctx.already_signed_at = held.signed_at(ctx.txid)
    if ctx.already_signed_at is not None:
        reused += (
            Finding(
                ALREADY_SIGNED,
                "",
                f"you already signed this exact transaction at {_when(ctx.already_signed_at)};"
                " signing it again spends nothing more",
            ),
        )
    verdict = evaluate(analysis, ctx.policy, reused)
    verdict.raise_if_refused()
    return analysis, verdict


def _still_as_shown(shown: Verdict, now: Verdict) -> None:
    """After the dialog: refuse if the state changed what the user should have been shown."""
    new = [w for w in now.warnings if w not in shown.warnings]
    if new:
        raise Refused(
            Code.STATE_CHANGED,
            f"while the request was being confirmed, another signing changed it: {new[0].text};"
            " nothing was signed, send the request again to see it",
        )


def _sign_and_record(
    ctx: _Context,
    held: state.State,
    analysis: Analysis,
    passphrase: str | None,
    now: Clock,
    caller_gone: CallerGone,
) -> Psbt:
    state.checkpoint("decided")
    if caller_gone():
        raise Declined(
            Code.SERVICE_CALLER_GONE, "the caller went away before signing: nothing was signed"
        )
    seed = ctx.seed if ctx.seed is not None else unlock(ctx.keystore, passphrase)
    signed = sign(ctx.psbt, analysis, seed)
    state.checkpoint("signed")
    held.record(_record(ctx, "signed", None), now())
    state.checkpoint("indexed")
    return signed


def _unattended_passphrase(keystore: KeystoreFile, request: SignRequest) -> str | None:
    if not keystore.encrypted:
        return None
    if request.passphrase_file is None:
        raise ConfigError(
            Code.KEYSTORE_PASSPHRASE_REQUIRED,
            "unattended signing with an encrypted keystore needs --passphrase-file",
        )
    return read_secret_file(request.passphrase_file)


def _ask(
    ctx: _Context, analysis: Analysis, verdict: Verdict, mode: str, caller_gone: CallerGone
) -> str | None:
    """Ask the user; return the keystore passphrase to unlock with."""
    request, keystore = ctx.request, ctx.keystore
    from_file = (
        read_secret_file(request.passphrase_file)
        if keystore.encrypted and request.passphrase_file is not None
        else None
    )
    # Loaded only when a person is asked: unattended signing starts faster without them.
    from cold.confirm.view import confirmation_view

    view = confirmation_view(
        analysis,
        verdict,
        request.caller,
        keystore.encrypted and not from_file,
        keystore.master_fingerprint,
    )
    decision: Decision
    if mode == "gui":
        from cold.confirm.gui import confirm_gui

        decision = confirm_gui(
            view,
            timeout_s=request.dialog_timeout_s,
            caller_gone=caller_gone,
            check_passphrase=_passphrase_check(ctx),
        )
    else:
        from cold.confirm.tty import confirm_terminal

        decision = confirm_terminal(view, _passphrase_check(ctx))
    decision.raise_if_declined()
    return from_file if from_file is not None else decision.passphrase


def _passphrase_check(ctx: _Context) -> Callable[[str], str | None]:
    """For the confirmers: unlock with a passphrase; None if it works, else what was wrong.

    The unlocked seed is kept, so the key derivation runs once per right passphrase.
    """

    def check(passphrase: str) -> str | None:
        try:
            ctx.seed = unlock(ctx.keystore, passphrase)
        except ConfigError as error:
            if error.code != Code.KEYSTORE_BAD_PASSPHRASE:
                raise
            return error.message
        return None

    return check


# --- the audit record --------------------------------------------------------------------


def _key(txid: bytes, vout: int) -> OutPointKey:
    return outpoint_key_from_internal(txid, vout)


def _record(ctx: _Context, decision: audit.Decision, error: BridgeError | None) -> AuditRecord:
    """The audit record of this request: in full after analysis, else what the bytes say."""
    analysis = ctx.analysis
    reason = None if error is None else error.code
    sentence = None if error is None else error.message
    if analysis is None:
        return _unanalysed_record(ctx.request, ctx.tx, decision, error)
    outputs, fee, fee_rate = _recorded_outputs(analysis)
    return AuditRecord(
        decision=decision,
        reason=reason,
        txid=ctx.txid,
        outputs=outputs,
        fee=fee,
        fee_rate=fee_rate,
        caller=ctx.request.caller,
        sats_leaving=analysis.sending,
        sentence=sentence,
        inputs=tuple(
            AuditInput(
                _key(i.prevout.txid, i.prevout.vout), i.amount, i.amount_proven, i.owner is not None
            )
            for i in analysis.inputs
        ),
        used=_used(analysis),
    )


def _recorded_outputs(
    analysis: Analysis,
) -> tuple[tuple[AuditOutput, ...], int | None, float | None]:
    """The outputs, fee and fee rate a record keeps. A message proof pays nothing and has no
    fee: its one output names the address signed for (audit.PROOF_KIND)."""
    if analysis.proof is not None:
        challenge = analysis.proof.message_challenge
        address = address_of(challenge, analysis.network)
        return (bounded_output(address, challenge, 0, PROOF_KIND),), None, None
    outputs = tuple(
        bounded_output(o.address, o.script_pubkey, o.amount, o.kind.value) for o in analysis.outputs
    )
    return outputs, analysis.fee, round(analysis.fee_rate, 3)


def _unanalysed_record(
    request: SignRequest, tx: Tx, decision: audit.Decision, error: BridgeError | None
) -> AuditRecord:
    """The record of a request stopped before its analysis: what its bytes say."""
    outputs = tuple(
        bounded_output(None, o.script_pubkey, o.value, "unanalysed") for o in tx.outputs
    )
    return AuditRecord(
        decision,
        None if error is None else error.code,
        tx.txid_hex(),
        outputs,
        None,
        None,
        request.caller,
        0,
        None if error is None else error.message,
    )


def _used(analysis: Analysis) -> tuple[UsedIndex, ...]:
    """The highest index of each wallet and chain this transaction proves ours. A message
    proof's address is not thereby used: signing for it puts no coin there."""
    highest: dict[tuple[str, int], int] = {}
    inputs = analysis.inputs[1:] if analysis.proof is not None else analysis.inputs
    owners = [i.owner for i in inputs] + [o.owner for o in analysis.outputs]
    for owner in owners:
        if owner is not None:
            key = (owner.wallet.name, owner.chain)
            highest[key] = max(highest.get(key, 0), owner.index)
    return tuple(UsedIndex(w, c, i) for (w, c), i in sorted(highest.items()))


def log_unsigned(
    home: Path,
    record: AuditRecord,
    error: BridgeError,
    now: Clock,
    shorter: AuditRecord | None = None,
) -> BridgeError:
    """Log a request that ended without a signature; return the error to raise. A logging
    failure never takes the error's place (issue 11, finding 7): the caller is still told
    why, and that it could not be logged."""
    try:
        with state.locked(home) as held:
            try:
                held.record(record, now())
            except ConfigError as bad:
                if bad.code != Code.AUDIT_BAD_RECORD or shorter is None:
                    raise
                held.record(shorter, now())
    except BridgeError as failure:
        return type(error)(
            error.code, f"{error.message} (this could not be logged: {failure.message})"
        )
    return error
