"""What the user is asked to approve: a pure display model of a proven transaction, and the answer.

The signer builds a `ConfirmationView` from its `Analysis` (every amount proven, every
change output re-derived); the confirmers only show it. The view checks its own
consistency, so a signer bug shows up as a refusal, never as a misleading screen.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from psbtbridge.address import group_address
from psbtbridge.amount import format_btc
from psbtbridge.errors import BridgeError, Code, Declined
from psbtbridge.message import escape_note, size_text, visible_lines
from psbtbridge.network import Network
from psbtbridge.script import address_of
from psbtbridge.summary import LOCKTIME_THRESHOLD, SEQUENCE_RBF_LIMIT

if TYPE_CHECKING:
    from cold.verdict import Verdict
    from psbtbridge.analysis import Analysis, InputAnalysis, OutputAnalysis

OutputKind = Literal["external", "change", "self", "transfer", "op_return", "unknown"]

#: The 8-hex request identifier's one name, on every screen of both sides (issue 14, item 7).
REQUEST_CODE: Final = "Request code"

#: How each kind of output is headed on screen; change and self are followed by their path.
KIND_LABELS: Final[dict[str, str]] = {
    "external": "PAY TO",
    "change": "CHANGE back to this wallet",
    "self": "SELF-TRANSFER to this wallet",
    "transfer": "TRANSFER to our other wallet",  # followed by its name and path
    "op_return": "OP_RETURN data (unspendable)",
    "unknown": "UNKNOWN script (no address)",
}
_OURS: Final = frozenset({"change", "self", "transfer"})

_DIGEST = re.compile(r"[0-9a-f]{8}")
_HEX = re.compile(r"(?:[0-9a-f]{2})*")

#: Tries at the keystore passphrase within one review: a typo should not cost the review.
PASSPHRASE_TRIES: Final = 3
#: Unlocks the keystore with a passphrase: None if it worked, else the sentence saying why not.
PassphraseCheck = Callable[[str], "str | None"]

APPROVED: Final = Code.CONFIRM_APPROVED
DECLINED: Final = Code.CONFIRM_DECLINED
TIMEOUT: Final = Code.CONFIRM_TIMEOUT
_DECLINE_SENTENCES: Final[dict[Code, str]] = {
    DECLINED: "the user declined to sign",
    TIMEOUT: "nobody confirmed the signature in time",
}


def _bad_view(message: str) -> BridgeError:
    # A bug in whoever built the view: exit 4, nothing shown or signed.
    return BridgeError(Code.CONFIRM_BAD_VIEW, f"confirmation view: {message}")


def _check_text(place: str, text: str) -> None:
    # Terminal escapes or newlines in a shown string could repaint or fake lines of the screen.
    if not text.isprintable():
        raise _bad_view(f"{place} contains a non-printable character")


@dataclass(frozen=True)
class OutputLine:
    """One transaction output as shown: where it goes, how much, and what we proved about it."""

    index: int
    address: str | None
    script_hex: str
    amount_sat: int
    kind: OutputKind
    path: str | None  # proven derivation path ("m/84h/1h/0h/1/5") for change and self

    def __post_init__(self) -> None:
        place = f"output {self.index}"
        if self.kind not in KIND_LABELS:
            raise _bad_view(f"{place} has unknown kind {self.kind!r}")
        if self.amount_sat < 0:
            raise _bad_view(f"{place} has a negative amount")
        if not _HEX.fullmatch(self.script_hex):
            raise _bad_view(f"{place} script is not lower-case hex")
        if (self.path is not None) != (self.kind in _OURS):
            raise _bad_view(f"{place}: a path is shown exactly for change and self outputs")
        if self.kind == "op_return" and self.address is not None:
            raise _bad_view(f"{place}: an OP_RETURN output has no address")
        if self.kind in {"external", *_OURS} and self.address is None:
            raise _bad_view(f"{place}: a {self.kind} output needs its address")
        for text in (self.address, self.path):
            if text is not None:
                _check_text(place, text)


@dataclass(frozen=True)
class InputLine:
    """One transaction input as shown: the coin it spends, its amount, and whose it is."""

    index: int
    outpoint: str  # txid:vout, txid as explorers show it
    amount_sat: int
    owner: str | None  # "p2wpkh m/84h/1h/0h/0/3" for ours, None for another signer's

    def __post_init__(self) -> None:
        if self.amount_sat < 0:
            raise _bad_view(f"input {self.index} has a negative amount")
        for text in (self.outpoint, self.owner):
            if text is not None:
                _check_text(f"input {self.index}", text)


@dataclass(frozen=True)
class WalletLine:
    """A wallet the request spends from: its name, m-of-n, and the signatures after ours."""

    name: str
    script_type: str
    threshold: int  # m: signatures needed
    keys: int  # n
    signatures_after: int  # on the input with fewest: the PSBT's others' plus this one

    def __post_init__(self) -> None:
        _check_text("wallet", self.name)
        if not 1 <= self.threshold <= self.keys or not 0 <= self.signatures_after <= self.keys:
            raise _bad_view(f"wallet {self.name}: inconsistent signature counts")

    @property
    def text(self) -> str:
        """ "vault (2-of-3 p2wsh multisig; after this: 1 of 2 signatures)", or for one key
        "p2wpkh (single key)" (single-sig wallets are named by their script type)."""
        if self.keys == 1:
            kind = "" if self.name == self.script_type else f"{self.script_type}, "
            return f"{self.name} ({kind}single key)"
        return (
            f"{self.name} ({self.threshold}-of-{self.keys} {self.script_type} multisig;"
            f" after this: {self.signatures_after} of {self.threshold} signatures)"
        )


@dataclass(frozen=True)
class ProofView:
    """A BIP-322 message proof as shown: the address signed for, the message, the reserves."""

    address: str
    wallet: str
    path: str  # proven derivation path of the address's key
    message: str | None  # None: the PSBT gives only the hash (shown, and said so)
    message_hash: str  # BIP-322's tagged hash, 64 hex
    reserves_inputs: int  # inputs after input 0: a proof of reserves when any
    reserves_sat: int

    def __post_init__(self) -> None:
        for text in (self.address, self.wallet, self.path):
            _check_text("proof", text)
        if not re.fullmatch(r"[0-9a-f]{64}", self.message_hash):
            raise _bad_view("proof: the message hash is not 64 lower-case hex digits")
        if self.reserves_inputs < 0 or self.reserves_sat < 0:
            raise _bad_view("proof: negative reserves")
        if not self.reserves_inputs and self.reserves_sat:
            raise _bad_view("proof: reserves without inputs")


@dataclass(frozen=True)
class ConfirmationView:
    """Everything the user must see before a signature: outputs, fee, warnings, request code."""

    digest: str  # the request code, 8 lower-case hex: dom0's prompt and the hot side show it
    caller: str  # the calling qube's name, or "local" for `psbt sign`
    network: str
    inputs_total_sat: int
    outputs: tuple[OutputLine, ...]
    fee_sat: int
    fee_rate_sat_vb: float
    fee_percent: float  # fee as % of the total value of all outputs
    sending_sat: int  # paid to others: every output not proven ours
    warnings: tuple[str, ...]
    needs_passphrase: bool
    wallets: tuple[WalletLine, ...] = ()
    inputs: tuple[InputLine, ...] = ()
    rbf: bool = False
    locktime: int = 0
    #: A BIP-322 message proof: shown as the message it signs, never as a payment.
    proof: ProofView | None = None

    @property
    def leaving_sat(self) -> int:
        """What leaves our wallets, the fee included (analysis.leaving); nothing for a proof."""
        return 0 if self.proof is not None else self.sending_sat + self.fee_sat

    def __post_init__(self) -> None:
        if not _DIGEST.fullmatch(self.digest):
            raise _bad_view("digest is not 8 lower-case hex digits")
        if not self.caller:
            raise _bad_view("caller is empty")
        _check_text("caller", self.caller)
        if self.network not in Network.names():
            raise _bad_view(f"unknown network {self.network!r}")
        if not self.outputs:
            raise _bad_view("a transaction without outputs cannot be shown")
        for position, line in enumerate(self.outputs):
            if line.index != position:
                raise _bad_view(f"output {line.index} is listed at position {position}")
        # The fee line is the one number a user cannot check by eye: it must add up.
        if self.fee_sat != self.inputs_total_sat - sum(o.amount_sat for o in self.outputs):
            raise _bad_view("fee is not inputs minus outputs")
        if self.fee_sat < 0 or self.sending_sat < 0:
            raise _bad_view("fee and sending amount cannot be negative")
        for name, value in (("fee rate", self.fee_rate_sat_vb), ("fee %", self.fee_percent)):
            if math.isnan(value) or value < 0:
                raise _bad_view(f"{name} is not a non-negative number")
        for warning in self.warnings:
            _check_text("warning", warning)
        if self.inputs:
            if [i.index for i in self.inputs] != list(range(len(self.inputs))):
                raise _bad_view("inputs are not listed in order")
            if sum(i.amount_sat for i in self.inputs) != self.inputs_total_sat:
                raise _bad_view("input amounts do not add up to the input total")
        if not 0 <= self.locktime <= 0xFFFFFFFF:
            raise _bad_view("locktime out of range")
        if self.proof is not None:
            # What makes it a proof (psbtbridge/bip322_psbt.py), checked again where it is shown.
            if [(o.kind, o.amount_sat) for o in self.outputs] != [("op_return", 0)]:
                raise _bad_view("a BIP-322 proof has exactly one output: 0 sat to OP_RETURN")
            if self.proof.reserves_sat != self.inputs_total_sat or self.locktime:
                raise _bad_view("a BIP-322 proof's inputs or locktime are inconsistent")


@dataclass(frozen=True)
class Decision:
    """The human's answer: approved (with the keystore passphrase if one was asked) or why not."""

    approved: bool
    passphrase: str | None = field(repr=False)  # never in a log line or a traceback
    reason_code: Code

    def __post_init__(self) -> None:
        if self.approved != (self.reason_code == APPROVED) or (
            self.passphrase is not None and not self.approved
        ):
            raise BridgeError(Code.INTERNAL_BUG, f"inconsistent confirmation {self.reason_code}")

    @classmethod
    def approve(cls, passphrase: str | None) -> Decision:
        return cls(approved=True, passphrase=passphrase, reason_code=APPROVED)

    @classmethod
    def decline(cls, reason_code: Code) -> Decision:
        return cls(approved=False, passphrase=None, reason_code=reason_code)

    def raise_if_declined(self) -> None:
        """Turn a no into the `Declined` error the signer reports (exit 1)."""
        if not self.approved:
            sentence = _DECLINE_SENTENCES.get(self.reason_code, "the signature was not confirmed")
            raise Declined(self.reason_code, sentence)


def format_percent(percent: float) -> str:
    # A tiny but non-zero fee must not read as "0.00%".
    if 0 < percent < 0.01:
        return "<0.01%"
    return f"{percent:.2f}%"


def output_heading(line: OutputLine) -> str:
    """ "#1  CHANGE back to this wallet  m/84h/1h/0h/1/5": what the output is, and its proof."""
    heading = f"#{line.index}  {KIND_LABELS[line.kind]}"
    return f"{heading}  {line.path}" if line.path is not None else heading


def output_target(line: OutputLine) -> str:
    """The full address in groups of 4, or the full script where there is no address."""
    if line.address is not None:
        return group_address(line.address)
    return f"script {group_address(line.script_hex)}"


def fee_summary(view: ConfirmationView) -> str:
    return (
        f"{format_btc(view.fee_sat)}  ({view.fee_rate_sat_vb:.2f} sat/vB, "
        f"{format_percent(view.fee_percent)} of outputs)"
    )


def locktime_text(locktime: int) -> str:
    """BIP65's two meanings of nLockTime, said in words."""
    if locktime == 0:
        return "none"
    if locktime < LOCKTIME_THRESHOLD:
        return f"block height {locktime}"
    return f"time {locktime} (Unix seconds)"


def summary_rows(view: ConfirmationView) -> tuple[tuple[str, str], ...]:
    """The label/value lines under the outputs, shared by the terminal and the dialog."""
    rows = [(f"Wallet{'s' if len(view.wallets) > 1 else ''}", w.text) for w in view.wallets[:1]]
    rows += [("", w.text) for w in view.wallets[1:]]
    count = f"{len(view.inputs)}, " if view.inputs else ""
    if view.proof is not None:
        # No fee, payment or locktime lines: a proof pays nothing, and has none of them.
        rows += [
            ("Network", view.network),
            ("Inputs", count + format_btc(view.inputs_total_sat)),
            ("Spending", "NOTHING: a BIP-322 proof cannot be mined"),
        ]
        return tuple(rows)
    rows += [
        ("Network", view.network),
        ("Inputs", count + format_btc(view.inputs_total_sat)),
        ("Sending", format_btc(view.sending_sat)),
        ("Fee", fee_summary(view)),
        ("Leaving", f"{format_btc(view.leaving_sat)}, fee included"),
        ("RBF", "yes (replaceable)" if view.rbf else "no"),
        ("Locktime", locktime_text(view.locktime)),
    ]
    return tuple(rows)


def input_text(line: InputLine) -> tuple[str, str]:
    """("#0  txid:vout", "    0.01000000 BTC (1,000,000 sat)  ours: p2wpkh m/84h/1h/0h/0/3"):
    two lines, as a txid alone nearly fills one."""
    whose = f"ours: {line.owner}" if line.owner is not None else "not ours (not signed)"
    return f"#{line.index}  {line.outpoint}", f"    {format_btc(line.amount_sat)}  {whose}"


def title(view: ConfirmationView) -> str:
    if view.proof is not None:
        return (
            f"psbtbridge: sign request from {view.caller}: BIP-322 MESSAGE PROOF, nothing is spent"
        )
    return f"psbtbridge: sign request from {view.caller}"


def proof_heading(proof: ProofView) -> str:
    if proof.reserves_inputs:
        return (
            f"BIP-322 proof of reserves: {format_btc(proof.reserves_sat)} in"
            f" {proof.reserves_inputs} input(s), and a message signed for"
        )
    return "BIP-322 message proof: signing a message for"


def proof_lines(proof: ProofView) -> list[str]:
    """The proof as text lines, for the terminal and the dialog: the address, where it
    re-derives, the hashes, and the whole message made visible as `psbt message sign`
    shows it (cold/confirm/message.py), or that only its hash is known."""
    rows = [
        ("Address", group_address(proof.address)),
        ("Wallet", f"{proof.wallet}  {proof.path}"),
        ("Hash", f"{proof.message_hash} (BIP-322 message hash)"),
    ]
    text = proof.message
    if text is None:
        return [
            *(f"{label + ':':<9} {value}" for label, value in rows),
            "Message:  NOT in the PSBT (no PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE): only its hash is",
            "          known. Compare the hash with the one the requester shows for the message.",
        ]
    rows.append(("Message", size_text(text)))
    rows.append(("SHA-256", hashlib.sha256(text.encode("utf-8")).hexdigest()))
    lines = [f"{label + ':':<9} {value}" for label, value in rows]
    note = escape_note(text)
    if note is not None:
        lines.append(f"          {note}")
    lines.append("--- message begins ---")
    lines.extend(f"| {line}" for line in visible_lines(text))
    lines.append("--- message ends ---")
    return lines


def render_text(view: ConfirmationView) -> str:
    """The whole confirmation as plain text: what the terminal shows and the tests read."""
    lines = [title(view), f"{REQUEST_CODE}: {view.digest}", ""]
    if view.proof is not None:
        lines.append(proof_heading(view.proof))
        lines.extend(f"  {line}" for line in proof_lines(view.proof))
    else:
        lines.append(f"Outputs ({len(view.outputs)}):")
        for line in view.outputs:
            lines.append(f"  {output_heading(line)}")
            lines.append(f"      {output_target(line)}")
            lines.append(f"      {format_btc(line.amount_sat)}")
    lines.append("")
    lines.extend(
        f"{label + ':' if label else '':<9} {value}" for label, value in summary_rows(view)
    )
    if view.inputs:
        lines.append("")
        lines.append(f"Inputs ({len(view.inputs)}):")
        lines.extend(f"  {text}" for line in view.inputs for text in input_text(line))
    if view.warnings:
        lines.append("")
        lines.extend(f"WARNING: {warning}" for warning in view.warnings)
    return "\n".join(lines) + "\n"


def _proof(output: OutputAnalysis) -> str | None:
    """Where an output of ours re-derives; a transfer names the wallet it goes to."""
    if output.owner is None:
        return None
    if output.kind.value == "transfer":
        return f"{output.owner.wallet.name} {output.owner.path}"
    return output.owner.path


def _wallet_lines(analysis: Analysis, our_fingerprint: bytes | None) -> tuple[WalletLine, ...]:
    """Each wallet spent from, once, with the signatures its inputs will have after ours.

    Others' signatures are counted as the PSBT carries them, per key of the script, and
    ours once whether or not the PSBT already holds it; the fewest over the wallet's inputs.
    """
    found: dict[str, WalletLine] = {}
    for inp in analysis.owned_inputs:
        assert inp.owner is not None
        wallet, derived = inp.owner.wallet, inp.owner.derived
        signers = {key for key, origin in derived.pubkeys if key in inp.signed_by} | {
            key for key, origin in derived.pubkeys if origin.fingerprint == our_fingerprint
        }
        after = max(1, len(signers))
        earlier = found.get(wallet.name)
        if earlier is None or after < earlier.signatures_after:
            found[wallet.name] = WalletLine(
                wallet.name, wallet.script_type.value, wallet.threshold, len(wallet.keys), after
            )
    return tuple(found.values())


def _input_line(inp: InputAnalysis) -> InputLine:
    owner = None if inp.owner is None else f"{inp.owner.wallet.name} {inp.owner.path}"
    return InputLine(inp.index, str(inp.prevout), inp.amount or 0, owner)


def confirmation_view(
    analysis: Analysis,
    verdict: Verdict,
    caller: str,
    needs_passphrase: bool,
    our_fingerprint: bytes | None = None,
) -> ConfirmationView:
    """What the user is shown: the proven analysis, not what the PSBT claims.

    our_fingerprint: the keystore's master fingerprint, naming our key in a multisig script.
    """
    lines = tuple(
        OutputLine(
            index=o.index,
            address=o.address,
            script_hex=o.script_pubkey.hex(),
            amount_sat=o.amount,
            kind=o.kind.value,
            path=_proof(o),
        )
        for o in analysis.outputs
    )
    tx = analysis.tx
    return ConfirmationView(
        digest=analysis.digest,
        caller=caller,
        network=analysis.network.value,
        inputs_total_sat=analysis.total_in,
        outputs=lines,
        fee_sat=analysis.fee,
        fee_rate_sat_vb=analysis.fee_rate,
        fee_percent=analysis.fee_percent,
        sending_sat=analysis.sending,
        warnings=tuple(w.text for w in verdict.warnings),
        needs_passphrase=needs_passphrase,
        wallets=_wallet_lines(analysis, our_fingerprint),
        inputs=tuple(_input_line(i) for i in analysis.inputs),
        rbf=any(txin.sequence < SEQUENCE_RBF_LIMIT for txin in tx.inputs),
        locktime=tx.locktime,
        proof=_proof_view(analysis),
    )


def _proof_view(analysis: Analysis) -> ProofView | None:
    """The proof as proven by the analysis: input 0 is ours at its path (analysis refuses
    a proof for an address not ours), the reserves are our other inputs."""
    proof = analysis.proof
    if proof is None:
        return None
    owner = analysis.inputs[0].owner
    address = address_of(proof.message_challenge, analysis.network)
    if owner is None or address is None:
        raise _bad_view("a BIP-322 proof for an address that is not ours")
    return ProofView(
        address=address,
        wallet=owner.wallet.name,
        path=owner.path,
        message=proof.message,
        message_hash=proof.message_hash.hex(),
        reserves_inputs=len(proof.reserves),
        reserves_sat=analysis.reserves,
    )
