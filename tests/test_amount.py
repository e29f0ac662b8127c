"""psbtbridge/amount.py: one way to show an amount on both sides, exact to the satoshi."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.amount import format_btc, format_sat


@pytest.mark.parametrize(
    ("sats", "text"),
    [
        (0, "0.00000000 BTC (0 sat)"),
        (1, "0.00000001 BTC (1 sat)"),
        (120_000, "0.00120000 BTC (120,000 sat)"),
        (100_000_000, "1.00000000 BTC (100,000,000 sat)"),
        # every satoshi that will ever exist
        (2_099_999_997_690_000, "20999999.97690000 BTC (2,099,999,997,690,000 sat)"),
        (-5, "-0.00000005 BTC (-5 sat)"),
    ],
)
def test_format_btc(sats: int, text: str) -> None:
    assert format_btc(sats) == text


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_format_btc_is_exact(sats: int) -> None:
    btc, _, rest = format_btc(sats).partition(" BTC (")
    assert int(btc.replace(".", "")) == sats
    assert rest == f"{format_sat(sats)})"
