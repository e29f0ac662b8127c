"""cold.pipeline, in-process: what is remembered between requests (ledger, audit log), the
unattended rules over time, and what a refusal leaves behind.

The same pipeline runs through the real `psbt sign` in tests/test_sign_cli.py; here the
clock is a parameter, so 24-hour windows and races can be set up exactly.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cold import audit
from cold.pipeline import SignRequest, sign_psbt
from cold.state import STATE_NAME
from psbtbridge.encoding import Encoding, decode, encode
from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import address_of
from tests.support.psbt_factory import (
    KeySet,
    Spend,
    build_psbt,
    change_to,
    external,
    make_keyset,
)

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def unattended_policy(refuse_on_warning: bool = True) -> str:
    address = address_of(external(1, 0).script_pubkey, Network.REGTEST)
    return (
        "[unattended]\n"
        "enabled = true\n"
        f'allowed_destinations = ["{address}"]\n'
        "max_per_transaction = 500000\n"
        "max_per_24h = 1000000\n"
        f"refuse_on_warning = {str(refuse_on_warning).lower()}\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("pipeline") / "home", registered=True)


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    """A fresh copy of the template home, with unattended signing enabled."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    (home / "policy.toml").write_text(unattended_policy())
    return KeySet(home, template.wallets, template.seed)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def sign(keys: KeySet, data: bytes, when: datetime = T0, **request: object) -> bytes:
    options: dict[str, object] = {"confirm": "policy", **request}
    return sign_psbt(data, SignRequest(keys.home, **options), at(when))  # type: ignore[arg-type]


def refused(keys: KeySet, data: bytes, when: datetime = T0, **request: object) -> str:
    with pytest.raises(Refused) as error:
        sign(keys, data, when, **request)
    return error.value.code


def last_record(keys: KeySet) -> audit.AuditRecord:
    return audit.read_records(keys.home)[-1].record


def remembered(keys: KeySet) -> dict[str, int]:
    """The amounts the state index holds, by outpoint."""
    with sqlite3.connect(keys.home / STATE_NAME) as db:
        return dict(db.execute("SELECT outpoint, sats FROM amounts").fetchall())


def signed_into(keys: KeySet) -> set[tuple[str, str]]:
    with sqlite3.connect(keys.home / STATE_NAME) as db:
        return set(db.execute("SELECT outpoint, txid FROM spends").fetchall())


def taproot_payment(
    keys: KeySet, claimed: int | None = None, pay: int = 100_000, proven: bool = False
) -> bytes:
    """Spend our taproot coin of 1,000,000 sat (its amount only claimed: BIP341 commits to
    it, unless proven) to pay, with 5,000 sat fee (as far as the claim goes) and the rest as
    change."""
    wallet = keys.wallets["p2tr"]
    source = Spend(wallet, 0, 4, 1_000_000, full_tx=proven, claimed_amount=claimed)
    change = change_to(wallet, 1, 4, 1_000_000 - pay - 5_000)
    return build_psbt([source], [external(1, pay), change])


@pytest.mark.parametrize("encoding", list(Encoding))
def test_signs_and_logs_in_the_input_encoding(keys: KeySet, encoding: Encoding) -> None:
    signed = sign(keys, encode(taproot_payment(keys), encoding))
    raw, how = decode(signed)
    assert how is encoding and signed == encode(raw, how)
    assert Psbt.parse(raw).inputs[0].tap_key_sig is not None
    record = last_record(keys)
    assert (record.decision, record.reason, record.caller) == ("signed", None, "local")
    assert record.sats_leaving == 100_000 and record.fee == 5_000


# --- the ledger: amounts seen, outpoints spent


def test_an_amount_changed_since_signing_is_refused(keys: KeySet) -> None:
    sign(keys, taproot_payment(keys, proven=True))
    assert refused(keys, taproot_payment(keys, claimed=998_000)) == "proof.amount_changed"
    assert (last_record(keys).decision, last_record(keys).reason) == (
        "refused",
        "proof.amount_changed",
    )
    assert set(remembered(keys).values()) == {1_000_000}


def test_a_claimed_amount_is_never_remembered(keys: KeySet) -> None:
    """Issue 11, finding 3: a taproot coin claimed at 100,000 sat (BIP341 makes that
    signature invalid, so nothing is lost) must not freeze the coin for honest spends."""
    (keys.home / "policy.toml").write_text(unattended_policy(refuse_on_warning=False))
    wallet = keys.wallets["p2tr"]
    lie = build_psbt(
        [Spend(wallet, 0, 4, 1_000_000, full_tx=False, claimed_amount=100_000)],
        [change_to(wallet, 1, 4, 95_000)],
    )
    sign(keys, lie)
    assert remembered(keys) == {}
    # Not proof.amount_changed: only the rule against signing a coin twice unattended is left
    # (a person may approve it; see tests/test_state_cli.py).
    honest = taproot_payment(keys, pay=20_000, proven=True)
    assert refused(keys, honest) == "policy.input_signed_elsewhere"
    assert remembered(keys) == {}


def test_a_refused_request_does_not_poison_the_ledger(keys: KeySet) -> None:
    """Amounts are remembered only when we sign: a hostile host sending a lie that gets
    refused must not block the honest spend of that coin later."""
    lie = taproot_payment(keys, claimed=998_000, pay=600_000)
    assert refused(keys, lie) == "policy.over_transaction_limit"
    assert remembered(keys) == {}
    sign(keys, taproot_payment(keys, proven=True))
    assert refused(keys, taproot_payment(keys, claimed=998_000)) == "proof.amount_changed"


def test_only_proven_or_committed_amounts_are_remembered(keys: KeySet) -> None:
    ours, theirs = keys.wallets["p2wpkh"], keys.wallets["p2tr"]
    data = build_psbt(
        [
            Spend(ours, 0, 3, 100_000),
            Spend(theirs, 0, 5, 50_000, derivations=False),  # foreign, proven
            Spend(theirs, 0, 6, 40_000, full_tx=False, derivations=False),  # foreign, claimed
        ],
        [external(1, 185_000)],
    )
    (keys.home / "policy.toml").write_text(
        "allow_foreign_inputs = true\n" + unattended_policy(refuse_on_warning=False)
    )
    sign(keys, data)
    assert sorted(remembered(keys).values()) == [50_000, 100_000]
    assert len(signed_into(keys)) == 1  # only our own input was signed


def test_a_claim_contradicting_a_remembered_amount_is_refused_even_if_not_ours(
    keys: KeySet,
) -> None:
    """A joint transaction proved a foreign coin's amount; a later request only claiming
    another amount for that coin (its fee shown would be wrong) is a lie we can name."""
    (keys.home / "policy.toml").write_text(
        "allow_foreign_inputs = true\n" + unattended_policy(refuse_on_warning=False)
    )
    ours, theirs = keys.wallets["p2wpkh"], keys.wallets["p2tr"]

    def joint(index: int, proven: bool, claimed: int | None) -> bytes:
        foreign = Spend(theirs, 0, 5, 50_000, full_tx=proven, derivations=False)
        foreign.claimed_amount = claimed
        return build_psbt([Spend(ours, 0, index, 100_000), foreign], [external(1, 140_000)])

    sign(keys, joint(3, proven=True, claimed=None))
    assert refused(keys, joint(4, proven=False, claimed=45_000)) == "proof.amount_changed"
    sign(keys, joint(4, proven=False, claimed=None))


def test_a_coin_signed_into_another_transaction_is_refused_unattended(keys: KeySet) -> None:
    """A fee bump is for a person to approve (a warning on screen); unattended, one coin is
    never signed into two different transactions, whatever refuse_on_warning says."""
    first = taproot_payment(keys, pay=100_000)
    second = taproot_payment(keys, pay=90_000)  # a fee bump, or a replay: same coin
    sign(keys, first)
    sign(keys, first)  # the same transaction again: nothing new, no warning
    assert refused(keys, second) == "policy.warning_unattended"
    (keys.home / "policy.toml").write_text(unattended_policy(refuse_on_warning=False))
    assert refused(keys, second) == "policy.input_signed_elsewhere"
    txid = Psbt.parse(first).unsigned_tx().txid_hex()
    assert {spent for _, spent in signed_into(keys)} == {txid}


# --- unattended rules over time


def test_unattended_is_disabled_by_default(keys: KeySet) -> None:
    (keys.home / "policy.toml").unlink()
    assert refused(keys, taproot_payment(keys)) == "policy.unattended_disabled"


def test_unattended_refuses_a_destination_not_allowed(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt([Spend(wallet, 0, 3, 100_000)], [external(2, 99_000)])
    assert refused(keys, data) == "policy.destination_not_allowed"


def test_unattended_daily_limit_reads_the_audit_log(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]

    def payment(index: int) -> bytes:
        return build_psbt([Spend(wallet, 0, index, 400_000)], [external(1, 399_000)])

    sign(keys, payment(1), T0)
    sign(keys, payment(2), T0 + timedelta(hours=1))
    assert refused(keys, payment(3), T0 + timedelta(hours=2)) == "policy.over_daily_limit"
    # a declined or refused request never counts, and the first one ages out after 24 h
    sign(keys, payment(3), T0 + timedelta(hours=24, seconds=1))
    assert refused(keys, payment(4), T0 + timedelta(hours=24, seconds=2)) == (
        "policy.over_daily_limit"
    )


def test_unattended_daily_limit_counts_fees(keys: KeySet) -> None:
    """Requests paying 1,000 sat each with a 14,000-sat fee (99 sat/vB): the fees left the
    wallet, so the third one passes a 40,000-sat daily limit."""
    (keys.home / "policy.toml").write_text(unattended_policy().replace("1000000", "40000"))
    wallet = keys.wallets["p2wpkh"]

    def payment(index: int) -> bytes:
        return build_psbt(
            [Spend(wallet, 0, index, 200_000)],
            [external(1, 1_000), change_to(wallet, 1, index, 185_000)],
        )

    sign(keys, payment(1))
    sign(keys, payment(2))
    assert refused(keys, payment(3)) == "policy.over_daily_limit"


def test_unattended_transaction_limit(keys: KeySet) -> None:
    assert refused(keys, taproot_payment(keys, pay=500_001)) == "policy.over_transaction_limit"


def test_a_logging_failure_never_masks_a_refusal(keys: KeySet) -> None:
    """Issue 11, finding 7: the log breaks between the decision and its record; the caller
    is still told the refusal (exit 1, its own code), not the logging error."""
    calls = 0

    def breaking_clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 2:  # the refusal's record is being written: its log's end is cut off
            with open(keys.home / audit.LOG_NAME, "ab") as log:
                log.write(b'{"version":2')
        return T0

    sign(keys, taproot_payment(keys))  # a log to cut off
    request = SignRequest(keys.home, "policy")
    with pytest.raises(Refused) as error:
        sign_psbt(taproot_payment(keys, pay=500_001), request, breaking_clock)
    assert error.value.code == "policy.over_transaction_limit"
    assert "could not be logged" in error.value.message


# --- requests that name themselves, and bytes that are not a PSBT


def test_the_announced_digest_must_name_the_transaction(keys: KeySet) -> None:
    data = taproot_payment(keys)
    digest = Psbt.parse(data).unsigned_tx().txid_hex()[:8]
    wrong = f"{(int(digest, 16) ^ 1):08x}"
    assert refused(keys, data, expected_digest=wrong, caller="electrum-hot") == (
        "service.digest_mismatch"
    )
    assert last_record(keys).caller == "electrum-hot"
    sign(keys, data, expected_digest=digest)


def test_invalid_input_is_not_a_decision_and_is_not_logged(keys: KeySet) -> None:
    with pytest.raises(InvalidInput):
        sign(keys, b"psbt\xff\x00")
    assert audit.read_records(keys.home) == []
