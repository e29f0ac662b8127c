"""psbtbridge/wallet/addresses.py: listed addresses equal BIP86's vectors and embit's own
derivation; `find_address` answers ours (receive and change) within the window only."""

from __future__ import annotations

from typing import Any

import pytest
from embit.descriptor import Descriptor
from embit.script import p2wpkh

from psbtbridge.errors import InvalidInput
from psbtbridge.network import Network
from psbtbridge.wallet import Wallet, descriptor_of, parse_descriptor
from psbtbridge.wallet.addresses import (
    ADDRESS_WINDOW,
    CHANGE,
    MAX_SHOWN,
    RECEIVE,
    find_address,
    list_addresses,
    select_wallets,
    wallet_address,
)
from tests.conftest import load_vectors
from tests.support.electrum_harness import COSIGNER_MNEMONICS, NETWORK, export_document, root_key

BIP86: dict[str, Any] = load_vectors("address/bip86.json")
FINGERPRINT = bytes.fromhex("73c5da0a")  # master fingerprint of "abandon ... about"
#: The test wallets of electrum_harness: four single-sig and a 2-of-3 sortedmulti P2WSH.
WALLETS: tuple[Wallet, ...] = tuple(
    parse_descriptor(w["descriptor"], NETWORK, w["name"]) for w in export_document()["wallets"]
)
#: Someone else's BIP84 address (cosigner #1's seed).
STRANGER: str = p2wpkh(root_key(COSIGNER_MNEMONICS[0]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)


def bip86_wallet() -> Wallet:
    account = BIP86["account"]
    origin = f"{FINGERPRINT.hex()}/{account['path'][2:]}"
    return parse_descriptor(f"tr([{origin}]{account['xpub']}/<0;1>/*)", Network.MAIN, "p2tr")


@pytest.mark.parametrize("vector", BIP86["addresses"], ids=lambda v: v["path"])
def test_taproot_addresses_are_bip86s(vector: dict[str, Any]) -> None:
    wallet = bip86_wallet()
    shown = wallet_address(wallet, vector["chain"], vector["index"], FINGERPRINT)
    assert (shown.path, shown.address) == (vector["path"], vector["address"])
    derived = wallet.derive(vector["chain"], vector["index"])
    assert derived.script_pubkey.hex() == vector["script_pubkey"]
    assert derived.taproot_internal_key is not None
    assert derived.taproot_internal_key.hex() == vector["internal_key"]
    assert find_address(vector["address"], [wallet], Network.MAIN, 5, FINGERPRINT) == shown


@pytest.mark.parametrize("wallet", WALLETS, ids=lambda w: w.name)
@pytest.mark.parametrize("chain", [RECEIVE, CHANGE])
def test_addresses_equal_embits_own_derivation(wallet: Wallet, chain: int) -> None:
    """embit derives from the wallet's descriptor with its own BIP32, hashes and encoders."""
    descriptor = Descriptor.from_string(descriptor_of(wallet, chain).split("#")[0])
    expected = [
        descriptor.derive(index).script_pubkey().address(NETWORK.params) for index in range(20)
    ]
    shown = list_addresses([wallet], chain, 0, 20, FINGERPRINT)
    assert [a.address for a in shown] == expected
    assert [a.index for a in shown] == list(range(20))
    assert {a.chain for a in shown} == {chain} and {a.wallet for a in shown} == {wallet.name}


def test_paths_are_our_keys() -> None:
    by_name = {w.name: w for w in WALLETS}
    assert wallet_address(by_name["p2wpkh"], CHANGE, 5, FINGERPRINT).path == "m/84h/1h/0h/1/5"
    vault = by_name["vault"]
    assert wallet_address(vault, RECEIVE, 7, FINGERPRINT).path == "m/48h/1h/0h/2h/0/7"
    cosigner = vault.keys[1].origin.fingerprint
    assert wallet_address(vault, RECEIVE, 7, cosigner).path == "m/48h/1h/0h/2h/0/7"
    # the path is shown with the chosen key's own fingerprint; without one, the first key's
    assert wallet_address(vault, RECEIVE, 0).path == "m/48h/1h/0h/2h/0/0"


def test_listing_runs_wallet_by_wallet_from_the_index() -> None:
    shown = list_addresses(WALLETS, RECEIVE, 3, 2, FINGERPRINT)
    assert [(a.wallet, a.index) for a in shown] == [(w.name, i) for w in WALLETS for i in (3, 4)]
    assert shown[0].as_json() == {
        "wallet": "p2pkh",
        "chain": "receive",
        "index": 3,
        "path": "m/44h/1h/0h/0/3",
        "address": shown[0].address,
    }


@pytest.mark.parametrize(
    ("chain", "start", "count"),
    [(2, 0, 1), (0, 0, 0), (0, 0, MAX_SHOWN + 1), (0, -1, 1), (0, 2**31 - 1, 2)],
)
def test_impossible_listings_are_refused(chain: int, start: int, count: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        list_addresses(WALLETS, chain, start, count)
    assert caught.value.code == "address.bad_range"


def test_select_wallets() -> None:
    assert select_wallets(WALLETS, None) == WALLETS
    assert [w.name for w in select_wallets(WALLETS, "vault")] == ["vault"]
    with pytest.raises(InvalidInput) as caught:
        select_wallets(WALLETS, "savings")
    assert caught.value.code == "address.unknown_wallet"


@pytest.mark.parametrize("wallet", WALLETS, ids=lambda w: w.name)
def test_own_receive_and_change_addresses_are_found(wallet: Wallet) -> None:
    for chain, index in ((RECEIVE, 0), (CHANGE, 0), (RECEIVE, 17), (CHANGE, ADDRESS_WINDOW - 1)):
        ours = wallet_address(wallet, chain, index, FINGERPRINT)
        assert find_address(ours.address, WALLETS, NETWORK, fingerprint=FINGERPRINT) == ours


def test_upper_case_bech32_is_found_as_itself() -> None:
    ours = wallet_address(WALLETS[2], RECEIVE, 1, FINGERPRINT)
    assert find_address(ours.address.upper(), WALLETS, NETWORK, fingerprint=FINGERPRINT) == ours


def test_an_index_beyond_the_window_is_not_ours() -> None:
    p2wpkh_wallet = WALLETS[2]
    beyond = wallet_address(p2wpkh_wallet, RECEIVE, ADDRESS_WINDOW).address
    assert find_address(beyond, WALLETS, NETWORK) is None
    edge = wallet_address(p2wpkh_wallet, CHANGE, 4).address
    assert find_address(edge, WALLETS, NETWORK, window=5) is not None
    assert find_address(edge, WALLETS, NETWORK, window=4) is None


def test_another_seeds_address_is_not_ours() -> None:
    assert find_address(STRANGER, WALLETS, NETWORK) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (BIP86["addresses"][0]["address"], "address.wrong_network"),
        ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "address.wrong_network"),  # BIP173
        (STRANGER[:-1] + ("q" if STRANGER[-1] != "q" else "p"), "address.bad_address"),
        ("not an address", "address.bad_address"),
        ("", "address.bad_address"),
    ],
)
def test_not_an_address_of_this_network(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        find_address(text, WALLETS, NETWORK)
    assert caught.value.code == code
