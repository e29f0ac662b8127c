"""psbtbridge/address.py: an address is one of a network's only if it re-encodes to itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.address import decode_address, group_address
from psbtbridge.errors import InvalidInput
from psbtbridge.network import Network

P2WPKH = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"  # BIP84 m/84h/1h/0h/0/0, abandon..about
P2PKH_TEST = "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV"  # BIP44 m/44h/1h/0h/0/0
BIP86_MAIN = "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"


def test_addresses_decode_to_their_script() -> None:
    address, spk = decode_address(P2WPKH, Network.REGTEST)
    assert address == P2WPKH and spk[:2] == b"\x00\x14" and len(spk) == 22
    address, spk = decode_address(BIP86_MAIN, Network.MAIN)
    assert spk.hex() == "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
    # base58 test prefixes are shared by testnet, signet and regtest
    for network in (Network.TEST, Network.SIGNET, Network.REGTEST):
        assert decode_address(P2PKH_TEST, network)[0] == P2PKH_TEST


def test_upper_case_bech32_is_the_same_address() -> None:
    assert decode_address(P2WPKH.upper(), Network.REGTEST) == decode_address(
        P2WPKH, Network.REGTEST
    )


@pytest.mark.parametrize(
    ("text", "network"),
    [(BIP86_MAIN, Network.REGTEST), (P2WPKH, Network.MAIN), (P2PKH_TEST, Network.MAIN)],
)
def test_another_networks_address(text: str, network: Network) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_address(text, network)
    assert caught.value.code == "address.wrong_network"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        P2WPKH[:-1] + "q",  # bech32 checksum broken
        P2PKH_TEST[:-1] + "X",  # base58 checksum broken
        P2WPKH + "q" * 60,  # over 90 characters
        P2WPKH.upper()[:10] + P2WPKH[10:],  # mixed case bech32
        " " + P2WPKH,
        "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk\n",
        "٠١٢٣",
    ],
)
def test_garbage_is_not_an_address(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_address(text, Network.REGTEST)
    assert caught.value.code == "address.bad_address"


@given(st.text(max_size=120))
def test_any_text_decodes_or_raises_invalid_input(text: str) -> None:
    try:
        address, spk = decode_address(text, Network.MAIN)
    except InvalidInput as error:
        assert error.code in ("address.bad_address", "address.wrong_network")
    else:
        assert address.lower() == text.lower() and spk


def test_group_address() -> None:
    assert group_address(P2PKH_TEST) == "mkpZ hYtJ u2r8 7Js3 pDiW JDmP te2N RZ8b JV"
    assert group_address("abcdefgh") == "abcd efgh"
    assert group_address("") == ""
