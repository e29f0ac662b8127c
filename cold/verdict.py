"""The policy applied to a proven analysis: what refuses signing, and what the user must see."""

from __future__ import annotations

from decimal import Decimal
from typing import Final, NamedTuple

from cold.policy import Policy
from psbtbridge.analysis import Analysis, OutputKind
from psbtbridge.errors import Code, Finding

#: The warning that this exact transaction (same txid) was signed before.
ALREADY_SIGNED: Final = Code.WARNING_ALREADY_SIGNED


class Verdict(NamedTuple):
    violations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    def raise_if_refused(self) -> None:
        if self.violations:
            raise self.violations[0].refusal()


def evaluate(
    analysis: Analysis, policy: Policy, extra_warnings: tuple[Finding, ...] = ()
) -> Verdict:
    """Every policy rule the analysis breaks, and every warning to show (analysis' and extra).

    A BIP-322 message proof pays nothing: its "fee" is the whole of a proof of reserves,
    which no fee rule may judge, and its one OP_RETURN is BIP-322's own, not data.
    """
    found = _payment_rules(analysis, policy) if analysis.proof is None else []
    if analysis.foreign_inputs and not policy.allow_foreign_inputs:
        found.append(
            Finding(
                Code.POLICY_FOREIGN_INPUTS,
                "",
                f"input {analysis.foreign_inputs[0].index} is not ours and allow_foreign_inputs"
                " is false",
            )
        )
    for inp in analysis.owned_inputs:
        if inp.sighash_type is not None and not policy.allows_sighash(inp.sighash_type):
            found.append(
                Finding(
                    Code.POLICY_SIGHASH,
                    "",
                    f"input {inp.index}: sighash 0x{inp.sighash_type:02x} is not in allowed_sighash",
                )
            )
    warnings = list(analysis.warnings) + list(extra_warnings)
    if analysis.foreign_inputs and policy.allow_foreign_inputs:
        warnings.append(
            Finding(
                Code.WARNING_FOREIGN_INPUTS,
                "",
                f"{len(analysis.foreign_inputs)} input(s) are not ours (a joint transaction);"
                " only ours will be signed",
            )
        )
    return Verdict(tuple(found), tuple(warnings))


def _payment_rules(analysis: Analysis, policy: Policy) -> list[Finding]:
    """The fee limits and the OP_RETURN rule: what a payment may not do."""
    found: list[Finding] = []
    fee_rate = Decimal(analysis.fee) / Decimal(analysis.vsize)
    if fee_rate > policy.max_fee_rate:
        found.append(
            Finding(
                Code.POLICY_FEE_RATE_TOO_HIGH,
                "",
                f"fee rate {fee_rate:.1f} sat/vB is above max_fee_rate {policy.max_fee_rate}",
            )
        )
    if analysis.fee > policy.max_fee:
        found.append(
            Finding(
                Code.POLICY_FEE_TOO_HIGH,
                "",
                f"fee {analysis.fee} sat is above max_fee {policy.max_fee} sat",
            )
        )
    # Coldcard's measure: the fee against the total value of all outputs.
    if analysis.fee * 100 > policy.max_fee_percent * analysis.total_out:
        found.append(
            Finding(
                Code.POLICY_FEE_PERCENT_TOO_HIGH,
                "",
                f"fee is {analysis.fee_percent:.2f}% of the outputs, above max_fee_percent"
                f" {policy.max_fee_percent}%",
            )
        )
    if not policy.allow_op_return and any(o.kind is OutputKind.OP_RETURN for o in analysis.outputs):
        found.append(
            Finding(Code.POLICY_OP_RETURN, "", "an OP_RETURN output and allow_op_return is false")
        )
    return found


def evaluate_unattended(
    analysis: Analysis,
    policy: Policy,
    verdict: Verdict,
    sent_24h: int,
    *,
    already_counted: bool = False,
) -> Verdict:
    """The stricter rules of `--confirm policy`, where no human looks: everything must hold.

    sent_24h: sat that left the wallet in signed transactions of the last 24 hours,
    payments and fees alike. already_counted: this exact transaction was signed before, so
    it adds nothing to them (it can be mined once).
    """
    rules = policy.unattended
    found = list(verdict.violations)
    if analysis.proof is not None:
        # A proof is a message: a person reads it, as `psbt message sign` asks.
        found.append(
            Finding(
                Code.MESSAGE_UNATTENDED,
                "",
                "a BIP-322 message proof is never signed unattended: sign it with --confirm tty"
                " or gui",
            )
        )
    if not rules.enabled:
        found.append(
            Finding(
                Code.POLICY_UNATTENDED_DISABLED,
                "",
                "unattended signing is off ([unattended] enabled = false in policy.toml)",
            )
        )
    allowed = set(rules.allowed_destinations)
    for out in analysis.outputs:
        if out.kind in (OutputKind.CHANGE, OutputKind.SELF):
            continue
        if out.address is None or out.address not in allowed:
            found.append(
                Finding(
                    Code.POLICY_DESTINATION_NOT_ALLOWED,
                    "",
                    f"output {out.index} pays {out.address or 'a non-address script'}, which is not"
                    " in allowed_destinations",
                )
            )
            break
    leaving = analysis.leaving
    if leaving > rules.max_per_transaction:
        found.append(
            Finding(
                Code.POLICY_OVER_TRANSACTION_LIMIT,
                "",
                f"{leaving} sat (fee included) would leave the wallet; max_per_transaction is"
                f" {rules.max_per_transaction}",
            )
        )
    adding = 0 if already_counted else leaving
    if sent_24h + adding > rules.max_per_24h:
        found.append(
            Finding(
                Code.POLICY_OVER_DAILY_LIMIT,
                "",
                f"already spent in the last 24 h: {sent_24h} sat; this transaction: {adding}"
                f" sat (fee included); together over max_per_24h {rules.max_per_24h} sat",
            )
        )
    # Signing the same transaction again is not a reason to stop: nothing more can leave.
    warnings = [w for w in verdict.warnings if w.code != ALREADY_SIGNED]
    if rules.refuse_on_warning and warnings:
        found.append(
            Finding(Code.POLICY_WARNING_UNATTENDED, "", f"refused on a warning: {warnings[0].text}")
        )
    # Refused whatever refuse_on_warning says: nobody is there to judge them.
    for warning in verdict.warnings:
        rule = _ALWAYS_REFUSED.get(warning.code)
        if rule is not None:
            found.append(Finding(rule, warning.place, f"unattended: {warning.message}"))
    return Verdict(tuple(found), verdict.warnings)


#: Warnings that unattended signing always refuses, with the refusal's code. A coin signed
#: into another transaction is a fee bump a person may approve, or a replay that spends the
#: coin twice; an input far past the indexes known may be planted to move the change window.
_ALWAYS_REFUSED = {
    Code.WARNING_INPUT_ALREADY_SIGNED: Code.POLICY_INPUT_SIGNED_ELSEWHERE,
    Code.WARNING_INPUT_BEYOND_KNOWN: Code.POLICY_INPUT_BEYOND_KNOWN,
}
