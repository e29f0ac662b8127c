"""QR capacities computed from data codewords, against the ISO table (bbqr/qr_capacity_L_M.json)."""

from __future__ import annotations

from typing import Any

import pytest

from psbtbridge.errors import UsageError
from psbtbridge.qr.capacity import Ecc, alphanumeric_capacity, byte_capacity, modules
from tests.conftest import load_vectors

ROWS = load_vectors("bbqr/qr_capacity_L_M.json")["versions"]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"v{r['version']}")
def test_capacity(row: dict[str, Any]) -> None:
    version = row["version"]
    assert modules(version) == row["modules"]
    assert alphanumeric_capacity(version, Ecc.L) == row["alnum_L"]
    assert byte_capacity(version, Ecc.L) == row["byte_L"]
    assert alphanumeric_capacity(version, Ecc.M) == row["alnum_M"]
    assert byte_capacity(version, Ecc.M) == row["byte_M"]


@pytest.mark.parametrize("version", [0, 41])
def test_version_out_of_range(version: int) -> None:
    with pytest.raises(UsageError) as caught:
        alphanumeric_capacity(version)
    assert caught.value.code == "qr.version"
