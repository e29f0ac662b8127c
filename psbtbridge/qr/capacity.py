"""How much a QR code of a given version holds (ISO/IEC 18004), to size frames before rendering.

Computed from the standard's data-codeword counts rather than a table of capacities, so the
shared vectors (`bbqr/qr_capacity_L_M.json`) check the arithmetic.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from psbtbridge.errors import Code, UsageError

MIN_VERSION: Final = 1
MAX_VERSION: Final = 40

# Data codewords per version 1..40 (ISO/IEC 18004 table 7), error correction L and M.
_DATA_CODEWORDS_L: Final = (
    19, 34, 55, 80, 108, 136, 156, 194, 232, 274, 324, 370, 428, 461, 523, 589, 647, 721, 795,
    861, 932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735, 1843, 1955, 2071, 2191,
    2306, 2434, 2566, 2702, 2812, 2956,
)  # fmt: skip
_DATA_CODEWORDS_M: Final = (
    16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627,
    669, 714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541, 1631, 1725, 1812,
    1914, 1992, 2102, 2216, 2334,
)  # fmt: skip
_MODE_INDICATOR_BITS = 4
ALPHANUMERIC: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


class Ecc(Enum):
    L = "L"
    M = "M"


def _data_bits(version: int, ecc: Ecc) -> int:
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise UsageError(Code.QR_VERSION, f"QR version {version} is outside 1..40")
    table = _DATA_CODEWORDS_L if ecc is Ecc.L else _DATA_CODEWORDS_M
    return 8 * table[version - 1]


def alphanumeric_capacity(version: int, ecc: Ecc = Ecc.L) -> int:
    """Most characters of the 45-character alphanumeric set one QR code holds."""
    count_bits = 9 if version < 10 else 11 if version < 27 else 13
    bits = _data_bits(version, ecc) - _MODE_INDICATOR_BITS - count_bits
    return bits // 11 * 2 + (1 if bits % 11 >= 6 else 0)  # 2 chars in 11 bits, 1 in 6


def byte_capacity(version: int, ecc: Ecc = Ecc.L) -> int:
    """Most bytes one QR code holds in byte mode."""
    count_bits = 8 if version < 10 else 16
    return (_data_bits(version, ecc) - _MODE_INDICATOR_BITS - count_bits) // 8


def modules(version: int) -> int:
    """Side length in modules, without the quiet zone."""
    return 17 + 4 * version
