"""The display model: exact amounts, grouped addresses, and a view that refuses to mislead."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cold.confirm.view import (
    ConfirmationView,
    Decision,
    OutputLine,
    WalletLine,
    confirmation_view,
    render_text,
)
from cold.verdict import Verdict
from psbtbridge.address import group_address
from psbtbridge.analysis import analyse
from psbtbridge.errors import BridgeError, Code, Declined
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from tests.support.confirm_samples import CHANGE, OP_RETURN_SCRIPT, PAY, TAPROOT, sample_view
from tests.support.psbt_factory import Spend, build_psbt, external, kv, make_keyset

WARNING = "fee is 3.09% of the outputs, above the policy warning level of 2%"


def test_group_address() -> None:
    assert group_address(PAY) == "tb1q w508 d6qe jxtd g4y5 r3za rvar y0c5 xw7k xpjz sx"
    assert group_address("abcdefgh") == "abcd efgh"
    assert group_address("") == ""


def test_render_text_shows_everything() -> None:
    view = sample_view(extra_outputs=1, warnings=(WARNING,))
    text = render_text(view)
    for address in (PAY, CHANGE, TAPROOT):
        assert group_address(address) in text
    assert "CHANGE back to this wallet  m/84h/1h/0h/1/5" in text
    assert group_address(OP_RETURN_SCRIPT) in text
    assert "0.00120000 BTC" in text and "0.00850000 BTC" in text
    assert "30,000 sat" in text and "211.27 sat/vB" in text and "3.09% of outputs" in text
    assert f"WARNING: {WARNING}" in text
    assert "1a2b3c4d" in text and "electrum-hot" in text


def test_render_text_shows_wallet_inputs_and_what_leaves() -> None:
    """Issue 14 item 8: the wallet and m-of-n, every input, RBF, locktime, fee included."""
    text = render_text(sample_view())
    assert "Request code: 1a2b3c4d" in text
    assert "Wallet:   vault (2-of-3 p2wsh multisig; after this: 1 of 2 signatures)" in text
    assert "Inputs:   2, 0.01000000 BTC (1,000,000 sat)" in text
    assert f"  #1  {'cd' * 32}:0\n      0.00400000 BTC (400,000 sat)  ours: vault" in text
    assert "Leaving:  0.00150000 BTC (150,000 sat), fee included" in text
    assert "RBF:      yes (replaceable)" in text and "Locktime: block height 2500000" in text


def test_inputs_must_add_up() -> None:
    view = sample_view()
    short = dataclasses.replace(view.inputs[1], amount_sat=view.inputs[1].amount_sat - 1)
    with pytest.raises(BridgeError) as caught:
        dataclasses.replace(view, inputs=(view.inputs[0], short))
    assert caught.value.code == "confirm.bad_view"


def test_self_transfer_is_marked() -> None:
    view = sample_view()
    self_line = dataclasses.replace(view.outputs[0], kind="self", path="m/84h/1h/0h/0/7")
    text = render_text(dataclasses.replace(view, outputs=(self_line, *view.outputs[1:])))
    assert "SELF-TRANSFER to this wallet  m/84h/1h/0h/0/7" in text


def test_tiny_fee_percent_is_not_shown_as_zero() -> None:
    assert "<0.01% of outputs" in render_text(dataclasses.replace(sample_view(), fee_percent=0.004))


def _line(**changes: Any) -> OutputLine:
    fields: dict[str, Any] = {
        "index": 0,
        "address": PAY,
        "script_hex": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
        "amount_sat": 1,
        "kind": "external",
        "path": None,
    }
    return OutputLine(**{**fields, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "mystery"},
        {"amount_sat": -1},
        {"script_hex": "ABCD"},
        {"script_hex": "abc"},
        {"kind": "change"},  # change without its proven path
        {"path": "m/84h/1h/0h/1/5"},  # a path on an external output
        {"kind": "op_return", "address": PAY},
        {"address": None},
        {"address": "tb1q\x1b[2Jfake"},  # a terminal escape
    ],
)
def test_bad_output_line_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(BridgeError) as error:
        _line(**changes)
    assert error.value.code == "confirm.bad_view"


@pytest.mark.parametrize(
    "changes",
    [
        {"digest": "1A2B3C4D"},
        {"digest": "1a2b3c4"},
        {"caller": ""},
        {"caller": "evil\nWARNING: none"},
        {"network": "mainnet"},
        {"outputs": ()},
        {"fee_sat": 29_999},  # does not add up to inputs minus outputs
        {"inputs_total_sat": 0, "fee_sat": -970_000},
        {"sending_sat": -1},
        {"fee_rate_sat_vb": float("nan")},
        {"fee_percent": -1.0},
        {"warnings": ("line one\nline two",)},
    ],
)
def test_inconsistent_view_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(BridgeError) as error:
        dataclasses.replace(sample_view(), **changes)
    assert error.value.code == "confirm.bad_view"


def test_outputs_must_be_listed_in_order() -> None:
    view = sample_view()
    with pytest.raises(BridgeError) as error:
        dataclasses.replace(view, outputs=(view.outputs[1], view.outputs[0], view.outputs[2]))
    assert error.value.code == "confirm.bad_view"


def test_decision() -> None:
    approved = Decision.approve("secret")
    assert approved.approved and approved.reason_code == "confirm.approved"
    assert "secret" not in repr(approved)
    approved.raise_if_declined()
    with pytest.raises(Declined) as error:
        Decision.decline("confirm.timeout").raise_if_declined()
    assert error.value.code == "confirm.timeout"
    with pytest.raises(BridgeError):
        Decision(approved=True, passphrase=None, reason_code=Code.CONFIRM_DECLINED)
    with pytest.raises(BridgeError):
        Decision(approved=False, passphrase="x", reason_code=Code.CONFIRM_DECLINED)


def test_view_is_frozen() -> None:
    view: ConfirmationView = sample_view()
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.fee_sat = 0  # type: ignore[misc]


def test_a_cosigners_signature_counts_toward_after_this(tmp_path: Path) -> None:
    """Issue 14 item 8: "after this: k of m" counts the PSBT's other signatures plus ours."""
    keys = make_keyset(tmp_path / "home", registered=False)
    wallet, ours = keys.wallets["wsh"], keys.seed.fingerprint
    other = next(key for key, origin in wallet.derive(0, 3).pubkeys if origin.fingerprint != ours)
    signature = bytes.fromhex("3006020101020101") + b"\x01"  # strict DER, SIGHASH_ALL

    def view(*extra: bytes) -> ConfirmationView:
        data = build_psbt([Spend(wallet, 0, 3, 100_000, extra=list(extra))], [external(1, 9_000)])
        analysis = analyse(Psbt.parse(data), keys.all, Network.REGTEST)
        return confirmation_view(analysis, Verdict((), ()), "local", False, ours)

    after = "wsh (2-of-3 p2wsh multisig; after this: {} of 2 signatures)"
    assert [w.text for w in view().wallets] == [after.format(1)]
    assert [w.text for w in view(kv(0x02, other, signature)).wallets] == [after.format(2)]
    assert WalletLine("p2wpkh", "p2wpkh", 1, 1, 1).text == "p2wpkh (single key)"
