"""bip32.py: key origins and paths; one non-hardened public step (CKDpub), equal to embit's HDKey.child."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from embit.bip32 import HDKey
from hypothesis import given, settings
from hypothesis import strategies as st

from psbtbridge.bip32 import HARDENED, KeyOrigin, format_index, public_child
from psbtbridge.errors import BridgeError, InvalidInput

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


def test_key_origins_format_as_paths() -> None:
    assert KeyOrigin(b"abcd", (0x80000054, 0x80000000, 0, 5)).derivation == "m/84h/0h/0/5"
    assert KeyOrigin(b"abcd", ()).derivation == "m"
    assert KeyOrigin(b"\xd3\x4d\xb3\x3f", (HARDENED + 84, 1)).descriptor_form() == "d34db33f/84h/1"
    assert format_index(HARDENED - 1) == "2147483647" and format_index(HARDENED) == "0h"


@pytest.mark.parametrize(
    ("fingerprint", "path"), [(b"abc", ()), (b"abcd", (1 << 32,)), (b"abcd", (0,) * 256)]
)
def test_key_origins_check_themselves(fingerprint: bytes, path: tuple[int, ...]) -> None:
    good = KeyOrigin(b"abcd", (1,))
    attempts: list[Callable[[], KeyOrigin]] = [
        lambda: KeyOrigin(fingerprint, path),
        lambda: KeyOrigin(fingerprint=fingerprint, path=path),
        # NamedTuple's own _replace skips __new__: KeyOrigin's goes through the checks.
        lambda: good._replace(fingerprint=fingerprint, path=path),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput) as info:
            attempt()
        assert info.value.code == "wallet.bad_origin"


def test_key_origins_are_values() -> None:
    origin = KeyOrigin(b"abcd", (HARDENED + 84, 0))
    assert origin == KeyOrigin(b"abcd", (HARDENED + 84, 0)) != origin.child(1)
    assert len({origin, KeyOrigin(b"abcd", (HARDENED + 84, 0))}) == 1
    assert origin._replace(path=(1,)) == KeyOrigin(b"abcd", (1,))
    assert repr(origin) == "KeyOrigin(fingerprint=b'abcd', path=(2147483732, 0))"
    with pytest.raises(AttributeError):
        origin.path = ()  # type: ignore[misc]
