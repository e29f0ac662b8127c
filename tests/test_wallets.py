"""The wallet registry: proving our key, refusing duplicates, and the watch-only export."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from embit.bip32 import HDKey

from cold.keystore import (
    KeystoreFile,
    Seed,
    build_keystore,
    load_keystore,
    unlock,
    write_new_keystore,
)
from cold.wallets import (
    add_wallet,
    find_our_key,
    load_registry,
    registered_wallets,
    registry_path,
)
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import ConfigError, Refused
from psbtbridge.network import Network
from psbtbridge.wallet import AccountKey, Wallet, descriptor_of, parse_descriptor
from psbtbridge.wallet.export import export_document

ABANDON = " ".join(["abandon"] * 11 + ["about"])
NET = Network.REGTEST
BIP48_P2WSH = (48 + HARDENED, 1 + HARDENED, HARDENED, 2 + HARDENED)


@pytest.fixture
def keystore(home: Path) -> KeystoreFile:
    data = build_keystore(
        ABANDON,
        bip39_passphrase="",
        network=NET,
        account=0,
        passphrase=None,
        random_bytes=bytes(28),
    )
    write_new_keystore(home, data)
    return load_keystore(home)


@pytest.fixture
def seed(keystore: KeystoreFile) -> Seed:
    return unlock(keystore, None)


def cosigner(number: int, path: tuple[int, ...] = BIP48_P2WSH) -> AccountKey:
    root = HDKey.from_seed(bytes([number]) * 32, NET.params["xprv"])
    xpub = root.derive(list(path)).to_public(version=NET.params["xpub"]).to_base58()
    return AccountKey(KeyOrigin(root.my_fingerprint, path), xpub)


def ours(keystore: KeystoreFile) -> AccountKey:
    return keystore.cosigner_keys[0].key


def multisig(name: str, keys: list[AccountKey], threshold: int = 2) -> Wallet:
    text = "wsh(sortedmulti({}))".format(
        ",".join(
            [str(threshold), *(f"[{k.origin.descriptor_form()}]{k.xpub}/<0;1>/*" for k in keys)]
        )
    )
    return parse_descriptor(text, NET, name)


def test_register_and_reload(home: Path, keystore: KeystoreFile, seed: Seed) -> None:
    assert registered_wallets(home, keystore) == keystore.wallets
    vault = multisig("vault", [ours(keystore), cosigner(1), cosigner(2)])
    assert find_our_key(vault, seed) == ours(keystore)
    add_wallet(home, keystore, vault)
    assert stat.S_IMODE(os.stat(registry_path(home)).st_mode) == 0o600
    assert load_registry(home, NET) == (vault,)
    second = multisig("second", [ours(keystore), cosigner(3)], threshold=1)
    add_wallet(home, keystore, second)
    assert registered_wallets(home, keystore) == (*keystore.wallets, vault, second)
    stored = json.loads(registry_path(home).read_text())
    assert stored["format"] == "psbtbridge-wallets/1"
    assert [w["descriptor"] for w in stored["wallets"]] == [
        descriptor_of(vault),
        descriptor_of(second),
    ]


def test_duplicates_are_refused(home: Path, keystore: KeystoreFile) -> None:
    keys = [ours(keystore), cosigner(1), cosigner(2)]
    add_wallet(home, keystore, multisig("vault", keys))
    before = registry_path(home).read_bytes()
    cases = [
        (multisig("vault", [ours(keystore), cosigner(3)]), "wallet.duplicate_name"),
        (multisig("p2wpkh", [ours(keystore), cosigner(3)]), "wallet.duplicate_name"),
        (multisig("again", keys[::-1]), "wallet.duplicate_descriptor"),  # sortedmulti order
    ]
    for wallet, code in cases:
        with pytest.raises(Refused) as caught:
            add_wallet(home, keystore, wallet)
        assert caught.value.code == code
    assert registry_path(home).read_bytes() == before
    # another threshold over the same keys is another wallet
    add_wallet(home, keystore, multisig("other", keys, threshold=3))


def test_single_sig_descriptors_are_not_registered(home: Path, keystore: KeystoreFile) -> None:
    with pytest.raises(Refused) as caught:
        add_wallet(home, keystore, keystore.wallets[2])
    assert caught.value.code == "wallet.not_multisig"


def test_our_key_must_be_proven_by_the_seed(keystore: KeystoreFile, seed: Seed) -> None:
    with pytest.raises(Refused) as caught:
        find_our_key(multisig("w", [cosigner(1), cosigner(2)]), seed)
    assert caught.value.code == "wallet.not_ours"
    # our fingerprint on someone else's xpub: a forgery, or a wrong path or passphrase
    impostor = AccountKey(KeyOrigin(seed.fingerprint, BIP48_P2WSH), cosigner(1).xpub)
    with pytest.raises(Refused) as caught:
        find_our_key(multisig("w", [impostor, cosigner(2)]), seed)
    assert caught.value.code == "wallet.key_mismatch"
    other_path = (48 + HARDENED, 1 + HARDENED, 1 + HARDENED, 2 + HARDENED)
    twice = [ours(keystore), seed.account_key(other_path), cosigner(1)]
    with pytest.raises(Refused) as caught:
        find_our_key(multisig("w", twice), seed)
    assert caught.value.code == "wallet.ours_twice"
    # any path the seed really derives is accepted, not only BIP48
    odd = seed.account_key((45 + HARDENED, 7))
    odd_wallet = parse_descriptor(
        f"sh(sortedmulti(1,[{odd.origin.descriptor_form()}]{odd.xpub}/0/*,[{cosigner(1, (45 + HARDENED,)).origin.descriptor_form()}]{cosigner(1, (45 + HARDENED,)).xpub}/0/*))",
        NET,
        "legacy",
    )
    assert find_our_key(odd_wallet, seed) == odd


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (
            b'{"format": "psbtbridge-wallets/1", "network": "regtest", "wallets": [',
            "wallet.registry_corrupt",
        ),
        (
            b'{"format": "psbtbridge-wallets/2", "network": "regtest", "wallets": []}',
            "wallet.registry_corrupt",
        ),
        (
            b'{"format": "psbtbridge-wallets/1", "network": "main", "wallets": []}',
            "wallet.registry_network",
        ),
        (
            b'{"format": "psbtbridge-wallets/1", "network": "regtest", "wallets": [{}]}',
            "wallet.registry_corrupt",
        ),
        (
            b'{"format": "psbtbridge-wallets/1", "network": "regtest",'
            b' "wallets": [{"name": "x", "descriptor": "wsh(sortedmulti(2,"}]}',
            "wallet.registry_corrupt",
        ),
    ],
)
def test_damaged_registry_is_refused(
    home: Path, keystore: KeystoreFile, content: bytes, code: str
) -> None:
    registry_path(home).write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        registered_wallets(home, keystore)
    assert caught.value.code == code
    assert registry_path(home).read_bytes() == content


def test_registry_entries_are_checked_like_new_wallets(home: Path, keystore: KeystoreFile) -> None:
    vault = multisig("vault", [ours(keystore), cosigner(1)])
    entry = {"name": "vault", "descriptor": descriptor_of(vault)}
    single = {"name": "solo", "descriptor": descriptor_of(keystore.wallets[2])}
    for entries in ([entry, entry], [single], [{**entry, "name": "p2wpkh"}]):
        document = {"format": "psbtbridge-wallets/1", "network": "regtest", "wallets": entries}
        registry_path(home).write_text(json.dumps(document))
        with pytest.raises(ConfigError) as caught:
            registered_wallets(home, keystore)
        assert caught.value.code == "wallet.registry_corrupt"


def test_export_document_shape(home: Path, keystore: KeystoreFile) -> None:
    add_wallet(home, keystore, multisig("vault", [ours(keystore), cosigner(1), cosigner(2)]))
    wallets = registered_wallets(home, keystore)
    document = export_document(keystore.network, keystore.master_fingerprint, wallets)
    assert list(document) == ["format", "network", "master_fingerprint", "wallets"]
    assert (document["format"], document["network"], document["master_fingerprint"]) == (
        "psbtbridge-export/1",
        "regtest",
        "73c5da0a",
    )
    by_name = {w["name"]: w for w in document["wallets"]}
    assert list(by_name) == ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr", "vault"]
    p2wpkh = by_name["p2wpkh"]
    assert set(p2wpkh) == {
        "name",
        "kind",
        "script_type",
        "derivation",
        "xpub",
        "electrum_xpub",
        "descriptor",
        "descriptors",
        "first_receive_address",
    }
    assert (p2wpkh["kind"], p2wpkh["script_type"], p2wpkh["derivation"]) == (
        "single",
        "p2wpkh",
        "m/84h/1h/0h",
    )
    assert p2wpkh["xpub"].startswith("tpub") and p2wpkh["electrum_xpub"].startswith("vpub")
    assert by_name["p2sh-p2wpkh"]["electrum_xpub"].startswith("upub")
    assert by_name["p2pkh"]["electrum_xpub"].startswith("tpub")
    assert by_name["p2tr"]["electrum_xpub"] is None
    assert p2wpkh["descriptor"].startswith("wpkh([73c5da0a/84h/1h/0h]tpub")
    assert "/<0;1>/*)#" in p2wpkh["descriptor"]
    assert "/0/*)#" in p2wpkh["descriptors"]["receive"]
    assert "/1/*)#" in p2wpkh["descriptors"]["change"]
    # BIP84's m/84h/1h/0h/0/0 of "abandon ... about", in its regtest form
    assert p2wpkh["first_receive_address"] == "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
    vault = by_name["vault"]
    assert set(vault) == {
        "name",
        "kind",
        "script_type",
        "threshold",
        "sorted",
        "cosigners",
        "descriptor",
        "descriptors",
        "first_receive_address",
    }
    assert (vault["kind"], vault["script_type"], vault["threshold"], vault["sorted"]) == (
        "multisig",
        "p2wsh",
        2,
        True,
    )
    assert vault["cosigners"][0] == {
        "fingerprint": "73c5da0a",
        "derivation": "m/48h/1h/0h/2h",
        "xpub": ours(keystore).xpub,
        "electrum_xpub": vault["cosigners"][0]["electrum_xpub"],
    }
    assert all(c["electrum_xpub"].startswith("Vpub") for c in vault["cosigners"])
    for wallet in document["wallets"]:
        for text in (wallet["descriptor"], wallet["descriptors"]["receive"]):
            parsed = parse_descriptor(text, NET, wallet["name"])
            assert descriptor_of(parsed) == wallet["descriptor"]
            assert descriptor_of(parsed, 1) == wallet["descriptors"]["change"]
