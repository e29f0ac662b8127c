"""The watch-only wallet model: known derivation vectors, descriptors, BIP380 checksums, refusals."""

from __future__ import annotations

import contextlib

import pytest
from embit import bip39
from embit.bip32 import HDKey
from embit.descriptor import Descriptor
from embit.networks import NETWORKS
from embit.script import Script
from hypothesis import given
from hypothesis import strategies as st

from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import InvalidInput
from psbtbridge.hashes import hash160
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet.descriptor import (
    descriptor_checksum,
    descriptor_of,
    parse_descriptor,
    strip_checksum,
)
from psbtbridge.wallet.wallet import AccountKey, Wallet, electrum_xpub, parse_path_item

ABANDON = " ".join(["abandon"] * 11 + ["about"])
H = HARDENED


def root_of(mnemonic: str = ABANDON, network: Network = Network.MAIN) -> HDKey:
    return HDKey.from_seed(bip39.mnemonic_to_seed(mnemonic), version=network.params["xprv"])


def account(root: HDKey, path: tuple[int, ...], network: Network) -> AccountKey:
    xpub = root.derive(list(path)).to_public(version=network.params["xpub"]).to_base58()
    return AccountKey(KeyOrigin(root.my_fingerprint, path), xpub)


def single(script_type: ScriptType, purpose: int, network: Network = Network.MAIN) -> Wallet:
    coin = network.coin_type
    key = account(root_of(network=network), (purpose + H, coin + H, H), network)
    return Wallet(script_type.value, script_type, 1, (key,), False, network)


def address(script_pubkey: bytes, network: Network) -> str:
    return str(Script(script_pubkey).address(NETWORKS[network.value]))


def cosigners(count: int, network: Network = Network.REGTEST, script: int = 2) -> list[AccountKey]:
    """BIP48 keys of `count` distinct seeds."""
    path = (48 + H, network.coin_type + H, H, script + H)
    return [
        account(HDKey.from_seed(bytes([i]) * 32, network.params["xprv"]), path, network)
        for i in range(1, count + 1)
    ]


def key_text(key: AccountKey, suffix: str = "<0;1>/*") -> str:
    return f"[{key.origin.descriptor_form()}]{key.xpub}/{suffix}"


def multi_text(keys: list[AccountKey], threshold: int = 2, wrap: str = "wsh({})", **kw: str) -> str:
    inner = ",".join([str(threshold), *(key_text(k, **kw) for k in keys)])
    return wrap.format(f"sortedmulti({inner})")


# --- known vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script_type", "purpose", "first_receive"),
    [
        (ScriptType.P2WPKH, 84, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"),  # BIP84
        (ScriptType.P2SH_P2WPKH, 49, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf"),
        (ScriptType.P2PKH, 44, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA"),
        (ScriptType.P2TR, 86, "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr"),
    ],
)
def test_first_receive_address_matches_the_bip_vector(
    script_type: ScriptType, purpose: int, first_receive: str
) -> None:
    wallet = single(script_type, purpose)
    assert address(wallet.derive(0, 0).script_pubkey, Network.MAIN) == first_receive


def test_bip84_second_receive_and_first_change_and_zpub() -> None:
    wallet = single(ScriptType.P2WPKH, 84)
    assert address(wallet.derive(0, 1).script_pubkey, Network.MAIN) == (
        "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
    )
    assert address(wallet.derive(1, 0).script_pubkey, Network.MAIN) == (
        "bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el"
    )
    assert electrum_xpub(wallet.keys[0].xpub, ScriptType.P2WPKH, Network.MAIN) == (
        "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs"
    )


def test_bip49_testnet_vector() -> None:
    wallet = single(ScriptType.P2SH_P2WPKH, 49, Network.TEST)
    derived = wallet.derive(0, 0)
    assert address(derived.script_pubkey, Network.TEST) == "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2"
    ((pubkey, _),) = derived.pubkeys
    assert derived.redeem_script == b"\x00\x14" + hash160(pubkey)
    assert derived.witness_script is None


def test_bip86_internal_and_output_keys() -> None:
    wallet = single(ScriptType.P2TR, 86)
    assert wallet.keys[0].xpub == (
        "xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ"
    )
    derived = wallet.derive(0, 0)
    internal = "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115"
    assert derived.taproot_internal_key == bytes.fromhex(internal)
    assert derived.script_pubkey.hex() == (
        "5120a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c"
    )
    assert derived.pubkeys == (
        (
            bytes.fromhex(internal),
            KeyOrigin(wallet.keys[0].origin.fingerprint, (86 + H, H, H, 0, 0)),
        ),
    )
    assert electrum_xpub(wallet.keys[0].xpub, ScriptType.P2TR, Network.MAIN) is None


def test_single_sig_pubkeys_carry_their_full_origin() -> None:
    wallet = single(ScriptType.P2WPKH, 84)
    ((pubkey, origin),) = wallet.derive(1, 7).pubkeys
    assert len(pubkey) == 33
    assert origin.derivation == "m/84h/0h/0h/1/7"
    assert origin.fingerprint.hex() == "73c5da0a"


# --- BIP380 checksums --------------------------------------------------------------------------


def test_bip380_valid_checksums() -> None:
    assert strip_checksum("raw(deadbeef)#89f8spxm") == "raw(deadbeef)"
    assert strip_checksum("raw(deadbeef)") == "raw(deadbeef)"
    body = "wpkh([d34db33f/84h/0h/0h]0279be667ef9dcbbac55a06295Ce870b07029Bfcdb2dce28d959f2815b16f81798)"
    assert descriptor_checksum(body) == "qwlqgth7"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("raw(deadbeef)#", "descriptor.bad_checksum"),  # missing checksum
        ("raw(deadbeef)#89f8spxmx", "descriptor.bad_checksum"),  # too long
        ("raw(deadbeef)#89f8spx", "descriptor.bad_checksum"),  # too short
        ("raw(deedbeef)#89f8spxm", "descriptor.bad_checksum"),  # error in payload
        ("raw(deadbeef)##9f8spxm", "descriptor.bad_checksum"),  # error in checksum
        ("raw(Ü)#00000000", "descriptor.syntax"),  # invalid character in payload
    ],
)
def test_bip380_invalid_checksums(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        strip_checksum(text)
    assert caught.value.code == code


# --- descriptors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script_type", "purpose"),
    [
        (ScriptType.P2WPKH, 84),
        (ScriptType.P2SH_P2WPKH, 49),
        (ScriptType.P2PKH, 44),
        (ScriptType.P2TR, 86),
    ],
)
def test_single_sig_descriptor_round_trips(script_type: ScriptType, purpose: int) -> None:
    wallet = single(script_type, purpose, Network.REGTEST)
    for chain in (None, 0):
        assert (
            parse_descriptor(descriptor_of(wallet, chain), Network.REGTEST, wallet.name) == wallet
        )


def test_descriptor_forms() -> None:
    wallet = single(ScriptType.P2WPKH, 84)
    multipath = descriptor_of(wallet)
    assert multipath.startswith("wpkh([73c5da0a/84h/0h/0h]xpub6CatWdiZ")
    assert multipath.split("#")[0].endswith("/<0;1>/*)")
    assert descriptor_of(wallet, 1).split("#")[0].endswith("/1/*)")
    assert multipath.split("#")[1] == descriptor_checksum(multipath.split("#")[0])


@pytest.mark.parametrize(
    ("wrap", "script_type", "script"),
    [
        ("wsh({})", ScriptType.P2WSH, 2),
        ("sh(wsh({}))", ScriptType.P2SH_P2WSH, 1),
        ("sh({})", ScriptType.P2SH, 2),
    ],
)
@pytest.mark.parametrize("sorted_keys", [True, False])
def test_multisig_scripts_match_embit_descriptors(
    wrap: str, script_type: ScriptType, script: int, sorted_keys: bool
) -> None:
    keys = cosigners(3, script=script)
    text = multi_text(keys, wrap=wrap)
    if not sorted_keys:
        text = text.replace("sortedmulti(", "multi(")
    wallet = parse_descriptor(text, Network.REGTEST, "vault")
    assert (wallet.script_type, wallet.threshold, wallet.sorted) == (script_type, 2, sorted_keys)
    for chain in (0, 1):
        reference = Descriptor.from_string(descriptor_of(wallet, chain).split("#")[0])
        for index in (0, 1, 17):
            ours = wallet.derive(chain, index)
            theirs = reference.derive(index)
            assert ours.script_pubkey == theirs.script_pubkey().data
            if script_type is not ScriptType.P2SH:
                assert ours.witness_script == theirs.witness_script().data
            else:
                assert ours.redeem_script == theirs.redeem_script().data
            assert {o.path[-2:] for _, o in ours.pubkeys} == {(chain, index)}


def test_sortedmulti_orders_keys_and_ignores_descriptor_order() -> None:
    keys = cosigners(3)
    one = parse_descriptor(multi_text(keys), Network.REGTEST, "a")
    other = parse_descriptor(multi_text(keys[::-1]), Network.REGTEST, "b")
    derived = one.derive(0, 3)
    assert derived.script_pubkey == other.derive(0, 3).script_pubkey
    pubkeys = [pk for pk, _ in derived.pubkeys]
    assert pubkeys == sorted(pubkeys)
    unsorted = parse_descriptor(
        multi_text(keys).replace("sortedmulti", "multi"), Network.REGTEST, "c"
    )
    assert [o for _, o in unsorted.derive(0, 3).pubkeys] == [k.origin.child(0, 3) for k in keys]


def test_receive_only_keys_mean_change_on_chain_one() -> None:
    keys = cosigners(2)
    receive_form = parse_descriptor(multi_text(keys, suffix="0/*"), Network.REGTEST, "r")
    multipath = parse_descriptor(multi_text(keys), Network.REGTEST, "m")
    assert receive_form == Wallet("r", ScriptType.P2WSH, 2, multipath.keys, True, Network.REGTEST)
    assert receive_form.derive(1, 4) == multipath.derive(1, 4)


def test_twenty_key_wsh_uses_a_one_byte_push_for_n() -> None:
    keys = cosigners(20)
    wallet = parse_descriptor(multi_text(keys, threshold=17), Network.REGTEST, "big")
    script = wallet.derive(0, 0).witness_script
    assert script is not None
    assert script[:2] == b"\x01\x11"  # 17 does not fit OP_1..OP_16
    assert script[-3:] == b"\x01\x14\xae"
    assert len(script) == 2 + 20 * 34 + 3


def test_slip132_keys_are_accepted_for_their_script_type_and_normalised() -> None:
    keys = cosigners(2)
    vpub = [electrum_xpub(k.xpub, ScriptType.P2WSH, Network.REGTEST) for k in keys]
    text = "wsh(sortedmulti(1,{}))".format(
        ",".join(
            f"[{k.origin.descriptor_form()}]{v}/<0;1>/*" for k, v in zip(keys, vpub, strict=True)
        )
    )
    assert all(v is not None and v.startswith("Vpub") for v in vpub)
    wallet = parse_descriptor(text, Network.REGTEST, "v")
    assert [k.xpub for k in wallet.keys] == [k.xpub for k in keys]
    assert "Vpub" not in descriptor_of(wallet)
    # the same Vpub in sh(wsh()) claims another script type
    with pytest.raises(InvalidInput) as caught:
        parse_descriptor(f"sh({text})", Network.REGTEST, "v")
    assert caught.value.code == "descriptor.slip132_mismatch"


def test_single_sig_zpub_in_wpkh_is_accepted() -> None:
    wallet = single(ScriptType.P2WPKH, 84)
    zpub = electrum_xpub(wallet.keys[0].xpub, ScriptType.P2WPKH, Network.MAIN)
    text = f"wpkh([{wallet.keys[0].origin.descriptor_form()}]{zpub}/<0;1>/*)"
    assert parse_descriptor(text, Network.MAIN, "p2wpkh") == wallet


def _refusal(text: str, network: Network = Network.REGTEST) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_descriptor(text, network, "w")
    return caught.value.code


def test_refusals() -> None:
    keys = cosigners(3)
    good = multi_text(keys)
    assert _refusal(good + "#qqqqqqqq") == "descriptor.bad_checksum"
    assert _refusal(multi_text([keys[0], keys[1], keys[0]])) == "wallet.duplicate_key"
    assert _refusal(multi_text(keys, threshold=0)) == "wallet.bad_threshold"
    assert _refusal(multi_text(keys, threshold=4)) == "wallet.bad_threshold"
    assert _refusal(multi_text(keys, suffix="0/*h")) == "descriptor.hardened_wildcard"
    assert _refusal(multi_text(keys, suffix="<0;1>/*'")) == "descriptor.hardened_wildcard"
    assert _refusal(good.replace(f"[{keys[1].origin.descriptor_form()}]", "")) == (
        "descriptor.missing_origin"
    )
    assert _refusal(good, Network.MAIN) == "wallet.wrong_network"
    assert _refusal(multi_text(cosigners(16), wrap="sh({})")) == "wallet.too_many_keys"
    assert _refusal(multi_text(cosigners(21))) == "wallet.too_many_keys"
    mixed = good.replace(key_text(keys[2]), key_text(keys[2], "0/*"))
    assert _refusal(mixed) == "descriptor.mixed_paths"
    for suffix in ("2/*", "0/0/*", "*", "<1;0>/*", "0"):
        assert _refusal(multi_text(keys, suffix=suffix)) == "descriptor.bad_path", suffix
    no_suffix = f"[{keys[0].origin.descriptor_form()}]{keys[0].xpub}"
    assert _refusal(good.replace(key_text(keys[0]), no_suffix)) == "descriptor.bad_path"
    assert _refusal(f"wsh(pkh({key_text(keys[0])}))") == "descriptor.unsupported"
    assert _refusal(f"tr({key_text(keys[0])},pk({key_text(keys[1])}))") == "descriptor.unsupported"
    assert _refusal(f"pk({key_text(keys[0])})") == "descriptor.unsupported"
    assert _refusal("wsh(sortedmulti(2,") == "descriptor.syntax"
    assert _refusal("wsh(sortedmulti(x," + key_text(keys[0]) + "))") == "descriptor.syntax"
    assert _refusal("x" * 10_001) == "descriptor.too_long"
    assert _refusal(good.replace("48h", "48x", 1)) == "descriptor.bad_path"
    assert (
        _refusal(good.replace("/48h", "", 1)) == "wallet.origin_mismatch"
    )  # depth 3 != xpub depth 4


def test_duplicate_origin_with_different_xpubs_is_refused() -> None:
    keys = cosigners(3)
    forged = AccountKey(
        keys[0].origin, keys[1].xpub
    )  # depth and index agree, fingerprint cannot be checked
    assert _refusal(multi_text([keys[0], forged, keys[2]])) == "wallet.duplicate_key"


def test_private_keys_are_refused_without_being_echoed() -> None:
    root = HDKey.from_seed(bytes([9]) * 32, NETWORKS["regtest"]["xprv"])
    tprv = root.derive("m/48h/1h/0h/2h").to_base58()
    text = f"wsh(sortedmulti(1,[{root.my_fingerprint.hex()}/48h/1h/0h/2h]{tprv}/<0;1>/*))"
    with pytest.raises(InvalidInput) as caught:
        parse_descriptor(text, Network.REGTEST, "w")
    assert caught.value.code == "descriptor.private_key"
    assert tprv not in caught.value.message
    assert tprv[4:20] not in caught.value.message


def test_derive_refuses_out_of_range_positions() -> None:
    wallet = single(ScriptType.P2WPKH, 84)
    for chain, index in ((2, 0), (-1, 0), (0, HARDENED), (0, -1), (0, True)):
        with pytest.raises(InvalidInput) as caught:
            wallet.derive(chain, index)
        assert caught.value.code == "wallet.bad_derivation"
    assert wallet.derive(0, HARDENED - 1).script_pubkey[:2] == b"\x00\x14"


def test_wallet_invariants() -> None:
    key = single(ScriptType.P2WPKH, 84).keys[0]
    for name in ("", "a/b", ".hidden", "x" * 65):
        with pytest.raises(InvalidInput) as caught:
            Wallet(name, ScriptType.P2WPKH, 1, (key,), False, Network.MAIN)
        assert caught.value.code == "wallet.bad_name"
    keys = cosigners(2, Network.MAIN)
    with pytest.raises(InvalidInput) as caught:
        Wallet("w", ScriptType.P2WPKH, 1, tuple(keys), False, Network.MAIN)
    assert caught.value.code == "wallet.bad_shape"
    with pytest.raises(InvalidInput) as caught:
        AccountKey(key.origin, key.xpub.replace("xpub", "tpub"))
    assert caught.value.code == "wallet.bad_xpub"


def test_wallets_and_keys_are_values_checked_on_every_construction() -> None:
    """NamedTuples since start-up cost mattered: still immutable, equal and hashable by value,
    and built by keyword or by _replace they are checked as when built by position."""
    wallet = single(ScriptType.P2WPKH, 84)
    key = wallet.keys[0]
    key.child_pubkey(0, 0)  # caches the chain keys, which are no part of the value
    again = single(ScriptType.P2WPKH, 84)
    assert again == wallet and hash(again) == hash(wallet) and {wallet: 1}[again] == 1
    assert repr(wallet).startswith("Wallet(name='p2wpkh', script_type=")
    for record, name in ((wallet, "name"), (key, "xpub")):
        with pytest.raises(AttributeError):
            setattr(record, name, "x")
    with pytest.raises(InvalidInput) as caught:
        Wallet(
            name="a/b",
            script_type=ScriptType.P2WPKH,
            threshold=1,
            keys=(key,),
            sorted=False,
            network=Network.MAIN,
        )
    assert caught.value.code == "wallet.bad_name"
    with pytest.raises(InvalidInput) as caught:
        AccountKey(origin=KeyOrigin(key.origin.fingerprint, key.origin.path[:2]), xpub=key.xpub)
    assert caught.value.code == "wallet.origin_mismatch"
    # a changed copy goes through the same checks (a NamedTuple's own _replace would not)
    assert wallet._replace(name="renamed").name == "renamed"
    with pytest.raises(InvalidInput) as caught:
        wallet._replace(name="a/b")
    assert caught.value.code == "wallet.bad_name"
    with pytest.raises(InvalidInput) as caught:
        key._replace(origin=KeyOrigin(key.origin.fingerprint, key.origin.path[:2]))
    assert caught.value.code == "wallet.origin_mismatch"


def test_key_origin_formats() -> None:
    origin = KeyOrigin(bytes.fromhex("d34db33f"), (84 + H, 1 + H, H))
    assert origin.derivation == "m/84h/1h/0h"
    assert origin.descriptor_form() == "d34db33f/84h/1h/0h"
    assert origin.child(1, 5).derivation == "m/84h/1h/0h/1/5"
    assert [parse_path_item(t, "k") for t in ("84h", "84'", "84H", "0")] == [84 + H] * 3 + [0]
    for bad in ("084", "-1", "2147483648", "1hh", ""):
        with pytest.raises(InvalidInput):
            parse_path_item(bad, "k")


@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_descriptor(text, Network.REGTEST, "w")


@given(
    st.lists(
        st.sampled_from(
            [
                "wsh(",
                "sh(",
                "sortedmulti(",
                "multi(",
                "2,",
                ",",
                ")",
                "[",
                "]",
                "/0/*",
                "/<0;1>/*",
                "d34db33f",
                "/48h",
                "tpub",
                "#",
                "*h",
            ]
        ),
        max_size=25,
    )
)
def test_descriptor_shaped_noise_raises_only_invalid_input(parts: list[str]) -> None:
    with contextlib.suppress(InvalidInput):
        parse_descriptor("".join(parts), Network.REGTEST, "w")
