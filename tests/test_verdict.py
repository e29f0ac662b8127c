"""cold.verdict: the policy applied to a proven analysis; limits are inclusive maxima."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from cold.policy import DEFAULT_POLICY, Policy, UnattendedPolicy
from cold.verdict import ALREADY_SIGNED, Verdict, evaluate, evaluate_unattended
from psbtbridge.analysis import DUST_LIMIT, Analysis, analyse
from psbtbridge.errors import Code, Finding, Refused
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from tests.support.psbt_factory import (
    KeySet,
    Pay,
    Spend,
    build_psbt,
    change_to,
    external,
    make_keyset,
    sighash_entry,
)

DESTINATION = external(1, 0).script_pubkey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("verdict") / "home", registered=False)


def analysed(keys: KeySet, data: bytes) -> Analysis:
    return analyse(Psbt.parse(data), keys.all, Network.REGTEST)


def payment(keys: KeySet, fee: int, pay: int = 400_000, name: str = "p2wpkh") -> Analysis:
    """Spend 1,000,000 sat: pay to DESTINATION, the rest minus fee back as change."""
    wallet = keys.wallets[name]
    data = build_psbt(
        [Spend(wallet, 0, 3, 1_000_000)],
        [external(1, pay), change_to(wallet, 1, 3, 1_000_000 - pay - fee)],
    )
    return analysed(keys, data)


def codes(verdict: Verdict) -> list[str]:
    return [v.code for v in verdict.violations]


def test_an_ordinary_payment_passes_the_default_policy(keys: KeySet) -> None:
    verdict = evaluate(payment(keys, 2_000), DEFAULT_POLICY)
    assert verdict.violations == () and verdict.warnings == ()
    verdict.raise_if_refused()


def test_fee_rate_limit_is_inclusive(keys: KeySet) -> None:
    analysis = payment(keys, 14_100)
    exact = Decimal(analysis.fee) / Decimal(analysis.vsize)
    assert codes(evaluate(analysis, DEFAULT_POLICY._replace(max_fee_rate=exact))) == []
    lower = DEFAULT_POLICY._replace(max_fee_rate=exact - Decimal("0.001"))
    assert codes(evaluate(analysis, lower)) == ["policy.fee_rate_too_high"]


def test_fee_limit_is_inclusive(keys: KeySet) -> None:
    analysis = payment(keys, 5_000)
    assert codes(evaluate(analysis, DEFAULT_POLICY._replace(max_fee=5_000))) == []
    assert codes(evaluate(analysis, DEFAULT_POLICY._replace(max_fee=4_999))) == [
        "policy.fee_too_high"
    ]


def test_fee_percent_is_of_all_outputs_and_inclusive(keys: KeySet) -> None:
    analysis = payment(keys, 10_000)  # outputs total 990,000 sat
    exact = Decimal(10_000 * 100) / Decimal(990_000)
    loose = DEFAULT_POLICY._replace(max_fee_percent=exact + Decimal("0.0001"))
    tight = DEFAULT_POLICY._replace(max_fee_percent=exact - Decimal("0.0001"))
    assert codes(evaluate(analysis, loose)) == []
    assert codes(evaluate(analysis, tight)) == ["policy.fee_percent_too_high"]


def test_every_broken_rule_is_listed_and_the_first_is_raised(keys: KeySet) -> None:
    analysis = payment(keys, 200_000, pay=100_000)  # 20 %, about 1,400 sat/vB, over 100,000 sat
    verdict = evaluate(analysis, DEFAULT_POLICY)
    assert codes(verdict) == [
        "policy.fee_rate_too_high",
        "policy.fee_too_high",
        "policy.fee_percent_too_high",
    ]
    with pytest.raises(Refused) as refused:
        verdict.raise_if_refused()
    assert refused.value.code == "policy.fee_rate_too_high"


def test_foreign_inputs_need_the_policy_and_are_then_a_warning(keys: KeySet) -> None:
    ours, theirs = keys.wallets["p2wpkh"], keys.wallets["p2tr"]
    data = build_psbt(
        [Spend(ours, 0, 3, 100_000), Spend(theirs, 0, 4, 50_000, derivations=False)],
        [external(1, 148_000)],
    )
    analysis = analysed(keys, data)
    assert codes(evaluate(analysis, DEFAULT_POLICY)) == ["policy.foreign_inputs"]
    allowed = evaluate(analysis, DEFAULT_POLICY._replace(allow_foreign_inputs=True))
    assert codes(allowed) == []
    assert [w.code for w in allowed.warnings] == ["warning.foreign_inputs"]


def test_op_return_is_refused_when_the_policy_says_so(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt([Spend(wallet, 0, 3, 100_000)], [external(1, 98_000), Pay(b"\x6a\x02hi", 0)])
    analysis = analysed(keys, data)
    assert codes(evaluate(analysis, DEFAULT_POLICY)) == []
    no_data = DEFAULT_POLICY._replace(allow_op_return=False)
    assert codes(evaluate(analysis, no_data)) == ["policy.op_return"]


def test_allowed_sighash_can_narrow_to_all(keys: KeySet) -> None:
    """A taproot input asking for SIGHASH_DEFAULT explicitly, under allowed_sighash = ["ALL"]."""
    wallet = keys.wallets["p2tr"]
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000, extra=[sighash_entry(0)])], [external(1, 98_000)]
    )
    analysis = analysed(keys, data)
    assert codes(evaluate(analysis, DEFAULT_POLICY)) == []
    only_all = DEFAULT_POLICY._replace(allowed_sighash=("ALL",))
    assert codes(evaluate(analysis, only_all)) == ["policy.sighash"]


def test_extra_warnings_are_shown_with_the_analysis_ones(keys: KeySet) -> None:
    before = Finding("warning.input_already_signed", "input x", "was signed before")
    verdict = evaluate(payment(keys, 2_000), DEFAULT_POLICY, (before,))
    assert verdict.warnings == (before,)
    assert verdict.violations == ()


# --- unattended signing


def unattended(**rules: object) -> Policy:
    base = UnattendedPolicy(
        enabled=True,
        allowed_destinations=(_address(),),
        max_per_transaction=500_000,
        max_per_24h=1_000_000,
    )
    return DEFAULT_POLICY._replace(unattended=base._replace(**rules))


def _address() -> str:
    from psbtbridge.script import address_of

    address = address_of(DESTINATION, Network.REGTEST)
    assert address is not None
    return address


def unattended_codes(analysis: Analysis, policy: Policy, sent_24h: int = 0) -> list[str]:
    verdict = evaluate(analysis, policy)
    return codes(evaluate_unattended(analysis, policy, verdict, sent_24h))


def test_unattended_is_off_by_default(keys: KeySet) -> None:
    assert unattended_codes(payment(keys, 2_000), DEFAULT_POLICY)[0] == (
        "policy.unattended_disabled"
    )


def test_unattended_passes_an_allowed_payment(keys: KeySet) -> None:
    assert unattended_codes(payment(keys, 2_000), unattended()) == []


def test_unattended_refuses_other_destinations_but_not_change(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, 1_000_000)],
        [external(1, 100_000), external(2, 100_000), change_to(wallet, 1, 3, 798_000)],
    )
    assert unattended_codes(analysed(keys, data), unattended()) == [
        "policy.destination_not_allowed"
    ]
    op_return = build_psbt(
        [Spend(wallet, 0, 3, 1_000_000)],
        [external(1, 100_000), Pay(b"\x6a\x01\x00", 0), change_to(wallet, 1, 3, 898_000)],
    )
    assert unattended_codes(analysed(keys, op_return), unattended()) == [
        "policy.destination_not_allowed"
    ]


def test_unattended_transaction_limit_counts_the_fee_and_is_inclusive(keys: KeySet) -> None:
    """The fee leaves the wallet too: 400,000 sat paid plus 2,000 sat fee."""
    analysis = payment(keys, 2_000, pay=400_000)
    assert (analysis.sending, analysis.fee) == (400_000, 2_000)
    assert unattended_codes(analysis, unattended(max_per_transaction=402_000)) == []
    assert unattended_codes(analysis, unattended(max_per_transaction=401_999)) == [
        "policy.over_transaction_limit"
    ]


def test_unattended_daily_limit_counts_what_already_left(keys: KeySet) -> None:
    analysis = payment(keys, 2_000, pay=400_000)
    assert unattended_codes(analysis, unattended(), sent_24h=598_000) == []
    assert unattended_codes(analysis, unattended(), sent_24h=598_001) == ["policy.over_daily_limit"]


def test_unattended_limits_stop_a_drain_by_fees(keys: KeySet) -> None:
    """A dust-limit payment to the allowed address and a large fee to nobody: without the fee
    counted, such requests would pass any limit however often they came."""
    analysis = payment(keys, 14_000, pay=DUST_LIMIT)
    rules = unattended(max_per_transaction=10_000)
    assert unattended_codes(analysis, rules) == ["policy.over_transaction_limit"]
    assert unattended_codes(analysis, unattended(), sent_24h=990_000) == ["policy.over_daily_limit"]


def test_unattended_refuses_on_any_warning_unless_told_otherwise(keys: KeySet) -> None:
    analysis = payment(keys, 2_000)
    dust = Finding("warning.dust", "output 1", "is dust")
    warned = evaluate(analysis, unattended(), (dust,))
    assert codes(evaluate_unattended(analysis, unattended(), warned, 0)) == [
        "policy.warning_unattended"
    ]
    relaxed = unattended(refuse_on_warning=False)
    assert codes(evaluate_unattended(analysis, relaxed, warned, 0)) == []


def test_unattended_always_refuses_a_coin_signed_elsewhere_or_far_out(keys: KeySet) -> None:
    """Whatever refuse_on_warning says (issue 11: one coin, one transaction, unattended)."""
    analysis = payment(keys, 2_000)
    relaxed = unattended(refuse_on_warning=False)
    for warning, rule in (
        ("warning.input_already_signed", "policy.input_signed_elsewhere"),
        ("warning.input_beyond_known", "policy.input_beyond_known"),
    ):
        warned = evaluate(analysis, relaxed, (Finding(warning, "input 0", "x"),))
        assert codes(evaluate_unattended(analysis, relaxed, warned, 0)) == [rule]


def test_unattended_keeps_the_attended_violations_first(keys: KeySet) -> None:
    analysis = payment(keys, 5_000)
    policy = unattended()._replace(max_fee=4_000)
    assert unattended_codes(analysis, policy) == ["policy.fee_too_high"]


def test_every_violation_code_is_documented() -> None:
    """The violations are Code members (the type checker holds them to the table); the
    policy rules this module applies are all there."""
    source = (Path(__file__).resolve().parent.parent / "cold" / "verdict.py").read_text()
    found = set(re.findall(r"Code\.(POLICY_[A-Z0-9_]+)", source))
    assert len(found) >= 11
    assert found <= {code.name for code in Code}


def test_unattended_counts_the_same_transaction_once(keys: KeySet) -> None:
    """Signed again (issue 14, item 5): it adds nothing to the day, and the notice that says
    so is no warning to refuse on; the transaction limit still holds."""
    analysis = payment(keys, 2_000, pay=400_000)
    again = evaluate(analysis, unattended(), (Finding(ALREADY_SIGNED, "", "signed before"),))
    assert again.warnings and not again.violations
    assert codes(evaluate_unattended(analysis, unattended(), again, 1_000_000)) == [
        "policy.over_daily_limit"
    ]
    assert (
        codes(evaluate_unattended(analysis, unattended(), again, 1_000_000, already_counted=True))
        == []
    )
    tight = unattended(max_per_transaction=401_999)
    assert codes(evaluate_unattended(analysis, tight, again, 0, already_counted=True)) == [
        "policy.over_transaction_limit"
    ]
