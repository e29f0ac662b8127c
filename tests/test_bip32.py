"""bip32.py: one non-hardened public step (CKDpub), equal to embit's HDKey.child."""

from __future__ import annotations

import pytest
from embit.bip32 import HDKey
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.bip32 import public_child
from psbtbridge.errors import BridgeError
from psbtbridge.psbt_fields import HARDENED

# BIP32 test vector 1's master key (seed 000102...0f): public material only matters here.
ROOT = HDKey.from_base58(
    "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
)
ACCOUNT = ROOT.derive("m/84h/0h/0h/0")


@settings(max_examples=60)
@given(st.integers(0, HARDENED - 1))
def test_public_step_equals_embit(index: int) -> None:
    expected = ACCOUNT.child(index)
    pubkey, chain_code = public_child(
        bytes(ACCOUNT.key.get_public_key().sec()), bytes(ACCOUNT.chain_code), index
    )
    assert pubkey == bytes(expected.key.get_public_key().sec())
    assert chain_code == bytes(expected.chain_code)


def test_a_hardened_index_is_refused() -> None:
    with pytest.raises(BridgeError) as info:
        public_child(bytes(ACCOUNT.key.get_public_key().sec()), bytes(ACCOUNT.chain_code), HARDENED)
    assert info.value.code == "bip32.bad_index"
