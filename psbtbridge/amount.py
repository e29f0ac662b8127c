"""Bitcoin amounts as both sides show them: exact BTC with the satoshis beside it.

One home for the unit convention (issue 14, item 7): the hot terminal, `psbt inspect` and
the cold confirmation all print an amount the same way, so a user comparing the two
screens compares the same characters.
"""

from __future__ import annotations

from typing import Final

SATS_PER_BTC: Final = 100_000_000


def format_btc(sats: int) -> str:
    """Exact BTC with 8 decimals and the satoshis beside it ("0.00120000 BTC (120,000 sat)");
    integer arithmetic only, so no float ever rounds an amount someone will sign."""
    sign = "-" if sats < 0 else ""
    whole, fraction = divmod(abs(sats), SATS_PER_BTC)
    return f"{sign}{whole}.{fraction:08d} BTC ({format_sat(sats)})"


def format_sat(sats: int) -> str:
    """Satoshis with thousands separators ("120,000 sat")."""
    return f"{sats:,} sat"
