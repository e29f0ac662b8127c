"""The policy applied to a proven analysis: what refuses signing, and what the user must see."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cold.policy import Policy
from psbtbridge.analysis import Analysis, OutputKind
from psbtbridge.errors import Finding


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    def raise_if_refused(self) -> None:
        if self.violations:
            raise self.violations[0].refusal()


def evaluate(
    analysis: Analysis, policy: Policy, extra_warnings: tuple[Finding, ...] = ()
) -> Verdict:
    """Every policy rule the analysis breaks, and every warning to show (analysis' and extra)."""
    found: list[Finding] = []
    fee_rate = Decimal(analysis.fee) / Decimal(analysis.vsize)
    if fee_rate > policy.max_fee_rate:
        found.append(
            Finding(
                "policy.fee_rate_too_high",
                "",
                f"fee rate {fee_rate:.1f} sat/vB is above max_fee_rate {policy.max_fee_rate}",
            )
        )
    if analysis.fee > policy.max_fee:
        found.append(
            Finding(
                "policy.fee_too_high",
                "",
                f"fee {analysis.fee} sat is above max_fee {policy.max_fee} sat",
            )
        )
    # Coldcard's measure: the fee against the total value of all outputs.
    if analysis.fee * 100 > policy.max_fee_percent * analysis.total_out:
        found.append(
            Finding(
                "policy.fee_percent_too_high",
                "",
                f"fee is {analysis.fee_percent:.2f}% of the outputs, above max_fee_percent"
                f" {policy.max_fee_percent}%",
            )
        )
    if analysis.foreign_inputs and not policy.allow_foreign_inputs:
        found.append(
            Finding(
                "policy.foreign_inputs",
                "",
                f"input {analysis.foreign_inputs[0].index} is not ours and allow_foreign_inputs"
                " is false",
            )
        )
    if not policy.allow_op_return and any(o.kind is OutputKind.OP_RETURN for o in analysis.outputs):
        found.append(
            Finding("policy.op_return", "", "an OP_RETURN output and allow_op_return is false")
        )
    for inp in analysis.owned_inputs:
        if inp.sighash_type is not None and not policy.allows_sighash(inp.sighash_type):
            found.append(
                Finding(
                    "policy.sighash",
                    "",
                    f"input {inp.index}: sighash 0x{inp.sighash_type:02x} is not in allowed_sighash",
                )
            )
    warnings = list(analysis.warnings) + list(extra_warnings)
    if analysis.foreign_inputs and policy.allow_foreign_inputs:
        warnings.append(
            Finding(
                "warning.foreign_inputs",
                "",
                f"{len(analysis.foreign_inputs)} input(s) are not ours (a joint transaction);"
                " only ours will be signed",
            )
        )
    return Verdict(tuple(found), tuple(warnings))


def evaluate_unattended(
    analysis: Analysis, policy: Policy, verdict: Verdict, sent_24h: int
) -> Verdict:
    """The stricter rules of `--confirm policy`, where no human looks: everything must hold.

    sent_24h: sat that left the wallet in signed transactions of the last 24 hours,
    payments and fees alike.
    """
    rules = policy.unattended
    found = list(verdict.violations)
    if not rules.enabled:
        found.append(
            Finding(
                "policy.unattended_disabled",
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
                    "policy.destination_not_allowed",
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
                "policy.over_transaction_limit",
                "",
                f"{leaving} sat (fee included) would leave the wallet; max_per_transaction is"
                f" {rules.max_per_transaction}",
            )
        )
    if sent_24h + leaving > rules.max_per_24h:
        found.append(
            Finding(
                "policy.over_daily_limit",
                "",
                f"{sent_24h} sat left in the last 24 h; {leaving} more (fee included) would"
                f" pass max_per_24h {rules.max_per_24h}",
            )
        )
    if rules.refuse_on_warning and verdict.warnings:
        found.append(
            Finding(
                "policy.warning_unattended", "", f"refused on a warning: {verdict.warnings[0].text}"
            )
        )
    return Verdict(tuple(found), verdict.warnings)
