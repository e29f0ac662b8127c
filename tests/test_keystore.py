"""The keystore: BIP39 vectors, encryption at rest, and refusing damaged or foreign files untouched."""

from __future__ import annotations

import base64
import json
import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from embit.bip32 import HDKey

from cold.keystore import (
    KIND_ACCOUNT_XPRV,
    KIND_ELECTRUM_SEED,
    ImportedSecret,
    Seed,
    build_key_keystore,
    build_keystore,
    entropy_to_mnemonic,
    keystore_path,
    load_keystore,
    mnemonic_to_seed,
    normalize_mnemonic,
    parse_keystore,
    read_secret_file,
    unlock,
    write_new_keystore,
)
from cold.keystore.kdf import Argon2idKdf, ScryptKdf
from psbtbridge.bip32 import HARDENED as H
from psbtbridge.errors import BridgeError, ConfigError, InvalidInput
from psbtbridge.network import Network
from psbtbridge.script import ScriptType

ABANDON = " ".join(["abandon"] * 11 + ["about"])
RANDOM = bytes(range(28))  # salt and nonce: fixed, so a test can rebuild the same file
PASSPHRASE = "correct horse battery staple"


def build(
    mnemonic: str = ABANDON,
    passphrase: str | None = PASSPHRASE,
    network: Network = Network.REGTEST,
    **kw: Any,
) -> bytes:
    kw.setdefault("bip39_passphrase", "")
    kw.setdefault("account", 0)
    return build_keystore(
        mnemonic, network=network, passphrase=passphrase, random_bytes=RANDOM, **kw
    )


@pytest.fixture(scope="module")
def encrypted() -> bytes:
    """One real Argon2id keystore for the module (each build costs about 0.4 s)."""
    return build()


@pytest.fixture(scope="module")
def clear() -> bytes:
    return build(passphrase=None)


def stored(home: Path, data: bytes) -> Path:
    write_new_keystore(home, data)
    return keystore_path(home)


def refusal(home: Path, passphrase: str | None = PASSPHRASE) -> BridgeError:
    with pytest.raises(BridgeError) as caught:
        unlock(load_keystore(home), passphrase)
    return caught.value


# --- BIP39 ---------------------------------------------------------------------------------


def test_bip39_trezor_vector_seed_and_root() -> None:
    seed = mnemonic_to_seed(ABANDON, "TREZOR")
    assert seed.hex() == (
        "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e5349553"
        "1f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
    )


def test_keystore_with_bip39_passphrase_unlocks_to_the_vector_root() -> None:
    data = build(passphrase=None, network=Network.MAIN, bip39_passphrase="TREZOR")
    root = unlock(parse_keystore(data, Path("k")), None).root
    assert root.to_base58() == (
        "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9XFKzUsAF"
    )


#: BIP32 test vector 1: seed 000102...0f, the extended public key at m/0H/1/2H/2/1000000000.
BIP32_VECTOR_1_DEEPEST = "xpub6H1LXWLaKsWFhvm6RVpEL9P4KfRZSW7abD2ttkWP3SSQvnyA8FSVqNTEcYFgJS2UaFcxupHiYkro49S8yGasTvXEYBVPamhGW6cFJodrTHy"


def test_bip32_vector_1() -> None:
    seed = Seed(Network.MAIN, HDKey.from_seed(bytes(range(16))))
    assert seed.xpub((H, 1, 2 + H, 2, 1_000_000_000)) == BIP32_VECTOR_1_DEEPEST


@pytest.mark.parametrize(
    ("entropy", "words"),
    [
        (bytes(16), ABANDON),
        (
            b"\x7f" * 16,
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
        ),
        (
            b"\x80" * 16,
            "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
        ),
        (bytes(32), " ".join(["abandon"] * 23 + ["art"])),
        (b"\xff" * 32, " ".join(["zoo"] * 23 + ["vote"])),
    ],
)
def test_bip39_entropy_vectors(entropy: bytes, words: str) -> None:
    assert entropy_to_mnemonic(entropy) == words
    assert normalize_mnemonic(words) == words


def test_mnemonic_whitespace_and_case_are_normalised() -> None:
    messy = "  ABANDON abandon\tabandon\nabandon abandon  abandon abandon abandon abandon"
    assert normalize_mnemonic(messy + " abandon abandon About\n") == ABANDON


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (" ".join(["abandon"] * 12), "keystore.bad_mnemonic_checksum"),
        (" ".join(["abandon"] * 11), "keystore.bad_mnemonic"),
        (ABANDON.replace("about", "aboot"), "keystore.bad_mnemonic"),
        ("", "keystore.bad_mnemonic"),
    ],
)
def test_bad_mnemonics(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_mnemonic(text)
    assert caught.value.code == code
    assert "aboot" not in caught.value.message  # positions are named, words never echoed


def test_bip39_passphrase_is_nfkd_normalised() -> None:
    composed = unicodedata.normalize("NFC", "café")
    decomposed = unicodedata.normalize("NFD", "café")
    assert composed != decomposed
    assert mnemonic_to_seed(ABANDON, composed) == mnemonic_to_seed(ABANDON, decomposed)
    assert mnemonic_to_seed(ABANDON, composed) != mnemonic_to_seed(ABANDON, "cafe")


# --- the file --------------------------------------------------------------------------------


def test_encrypted_round_trip(home: Path, encrypted: bytes) -> None:
    path = stored(home, encrypted)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    keystore = load_keystore(home)
    assert keystore.encrypted
    assert isinstance(keystore.encryption and keystore.encryption.kdf, Argon2idKdf)
    assert keystore.network is Network.REGTEST
    assert keystore.master_fingerprint.hex() == "73c5da0a"
    assert [w.name for w in keystore.wallets] == ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"]
    assert [w.keys[0].origin.derivation for w in keystore.wallets] == [
        "m/44h/1h/0h",
        "m/49h/1h/0h",
        "m/84h/1h/0h",
        "m/86h/1h/0h",
    ]
    assert [(c.script_type, c.key.origin.derivation) for c in keystore.cosigner_keys] == [
        (ScriptType.P2WSH, "m/48h/1h/0h/2h"),
        (ScriptType.P2SH_P2WSH, "m/48h/1h/0h/1h"),
    ]
    seed = unlock(keystore, PASSPHRASE)
    assert seed.fingerprint == keystore.master_fingerprint
    assert seed.account_key((84 + 2**31, 1 + 2**31, 2**31)) == keystore.wallets[2].keys[0]
    text = path.read_text()
    assert "abandon" not in text and PASSPHRASE not in text
    assert "Seed" in repr(seed) and "xprv" not in repr(seed) and "tprv" not in repr(seed)


def test_public_metadata_needs_no_passphrase_and_kdf_parameters_are_stored(
    encrypted: bytes,
) -> None:
    document = json.loads(encrypted)
    kdf = document["encryption"]["kdf"]
    assert kdf["name"] == "argon2id"
    assert (kdf["memory_kib"], kdf["iterations"], kdf["lanes"]) == (128 * 1024, 3, 4)
    assert document["encryption"]["cipher"] == "chacha20poly1305"
    assert document["accounts"][2]["xpub"].startswith("tpub")


def test_wrong_passphrase_leaves_the_file_untouched(home: Path, encrypted: bytes) -> None:
    path = stored(home, encrypted)
    error = refusal(home, "wrong horse")
    assert isinstance(error, ConfigError)
    assert error.code == "keystore.bad_passphrase"
    assert path.read_bytes() == encrypted
    assert refusal(home, None).code == "keystore.passphrase_required"


def _edit(data: bytes, change: Any) -> bytes:
    document = json.loads(data)
    change(document)
    return json.dumps(document, indent=2).encode()


def _swap_first_xpubs(document: dict[str, Any]) -> None:
    accounts = document["accounts"]
    accounts[0]["xpub"], accounts[1]["xpub"] = accounts[1]["xpub"], accounts[0]["xpub"]


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda d: d[: len(d) // 2], "keystore.corrupt"),  # truncated
        (lambda d: d[:-3], "keystore.corrupt"),
        (lambda d: b"", "keystore.corrupt"),
        (lambda d: b"\xff" * 40, "keystore.corrupt"),
        (lambda d: b"[]", "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j.update(extra=1)), "keystore.corrupt"),
        (
            lambda d: _edit(d, lambda j: j.update(format="psbtbridge-keystore/9")),
            "keystore.unsupported_format",
        ),
        (lambda d: _edit(d, lambda j: j.update(network="mars")), "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j.update(account=-1)), "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j.update(master_fingerprint="D34DB33F")), "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j.update(secret="not base64!")), "keystore.corrupt"),
        (
            lambda d: _edit(d, lambda j: j["encryption"]["kdf"].update(memory_kib=1 << 40)),
            "keystore.corrupt",
        ),
        (
            lambda d: _edit(d, lambda j: j["encryption"]["kdf"].update(iterations=True)),
            "keystore.corrupt",
        ),
        (lambda d: _edit(d, lambda j: j["encryption"].update(cipher="rot13")), "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j["encryption"].update(nonce="AAAA")), "keystore.corrupt"),
        (lambda d: _edit(d, lambda j: j["accounts"].pop()), "keystore.corrupt"),
        (
            lambda d: _edit(d, lambda j: j["accounts"][0].update(derivation="m/0")),
            "keystore.corrupt",
        ),
        (
            lambda d: _edit(d, lambda j: j["accounts"][0].update(xpub="tpubD6NzVbkrYhZ4")),
            "keystore.corrupt",
        ),
        # parses, but the header is the AEAD's associated data: unlocking fails
        (lambda d: _edit(d, _swap_first_xpubs), "keystore.bad_passphrase"),
        (
            lambda d: _edit(d, lambda j: j["encryption"]["kdf"].update(iterations=2)),
            "keystore.bad_passphrase",
        ),
        (
            lambda d: _edit(d, lambda j: j.update(secret="AAAA" + j["secret"][4:])),
            "keystore.bad_passphrase",
        ),
    ],
)
def test_damaged_files_are_refused_and_left_untouched(
    home: Path, encrypted: bytes, damage: Any, code: str
) -> None:
    data = damage(encrypted)
    path = stored(home, data)
    assert refusal(home).code == code
    assert path.read_bytes() == data


def test_unencrypted_keystore_checks_its_public_keys_against_the_seed(
    home: Path, clear: bytes
) -> None:
    keystore = parse_keystore(clear, Path("k"))
    assert not keystore.encrypted
    assert unlock(keystore, None).fingerprint.hex() == "73c5da0a"
    path = stored(home, _edit(clear, _swap_first_xpubs))
    before = path.read_bytes()
    assert refusal(home, None).code == "keystore.corrupt"
    assert path.read_bytes() == before


def test_an_unencrypted_keystore_keeps_its_secret_out_of_its_repr(clear: bytes) -> None:
    """Unencrypted, the sealed part is the mnemonic itself: a repr in a log or a traceback
    must not carry it. Nor may any code swap it in place."""
    keystore = parse_keystore(clear, Path("k"))
    shown = repr(keystore)
    assert shown.startswith("KeystoreFile(path=") and "master_fingerprint=" in shown
    assert repr(keystore.secret) not in shown and "abandon" not in shown
    assert repr(keystore.header) not in shown
    with pytest.raises(AttributeError):
        keystore.secret = b""  # type: ignore[misc]


def test_the_sealed_part_must_be_a_valid_seed(clear: bytes) -> None:
    import base64

    for payload in (b"{}", b'{"mnemonic": "abandon", "bip39_passphrase": ""}', b"\xff"):
        data = _edit(clear, lambda j, p=payload: j.update(secret=base64.b64encode(p).decode()))
        with pytest.raises(ConfigError) as caught:
            unlock(parse_keystore(data, Path("k")), None)
        assert caught.value.code == "keystore.corrupt"


def test_never_overwrites(home: Path, clear: bytes) -> None:
    path = stored(home, clear)
    with pytest.raises(ConfigError) as caught:
        write_new_keystore(home, clear + b" ")
    assert caught.value.code == "keystore.exists"
    assert path.read_bytes() == clear


def test_missing_keystore(home: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_keystore(home)
    assert caught.value.code == "keystore.missing"


def test_scrypt_keystore(home: Path) -> None:
    data = build(kdf=ScryptKdf(RANDOM[:16], n=1 << 14))
    stored(home, data)
    keystore = load_keystore(home)
    assert isinstance(keystore.encryption and keystore.encryption.kdf, ScryptKdf)
    assert keystore.encryption is not None and keystore.encryption.kdf.name == "scrypt"
    assert unlock(keystore, PASSPHRASE).fingerprint.hex() == "73c5da0a"
    assert refusal(home, PASSPHRASE + "!").code == "keystore.bad_passphrase"


def test_other_accounts_get_suffixed_names(clear: bytes) -> None:
    keystore = parse_keystore(build(passphrase=None, account=3), Path("k"))
    assert [w.name for w in keystore.wallets] == ["p2pkh-3", "p2sh-p2wpkh-3", "p2wpkh-3", "p2tr-3"]
    assert keystore.wallets[2].keys[0].origin.derivation == "m/84h/1h/3h"
    assert keystore.cosigner_keys[0].key.origin.derivation == "m/48h/1h/3h/2h"
    assert unlock(keystore, None).fingerprint.hex() == "73c5da0a"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"passphrase": ""}, "keystore.empty_passphrase"),
        ({"account": -1}, "keystore.bad_account"),
        ({"account": 2**31}, "keystore.bad_account"),
        ({"mnemonic": "abandon " * 12}, "keystore.bad_mnemonic_checksum"),
    ],
)
def test_build_refusals(kw: dict[str, Any], code: str) -> None:
    with pytest.raises(BridgeError) as caught:
        build(**kw)
    assert caught.value.code == code


def test_secret_files(tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(b"pass phrase \n")
    assert read_secret_file(str(path)) == "pass phrase "  # one newline dropped, spaces kept
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InvalidInput) as caught:
        read_secret_file(str(path))
    assert caught.value.code == "keystore.bad_secret_file"
    with pytest.raises(ConfigError) as unreadable:
        read_secret_file(str(tmp_path / "absent"))
    assert unreadable.value.code == "keystore.unreadable"


# --- one imported key: an Electrum seed's BIP32 seed, or an account xprv with its origin ------

ELECTRUM_SEED = bytes(range(64))


def _secret_and_chain_code(key: HDKey) -> tuple[bytes, bytes]:
    """embit's derivation of the same key, which Seed.derive must equal."""
    return bytes(key.key.secret), bytes(key.chain_code)


def _imported(secret: ImportedSecret, path: tuple[int, ...], multisig: bool = False) -> bytes:
    return build_key_keystore(
        secret,
        network=Network.REGTEST,
        script_type=ScriptType.P2WSH if multisig else ScriptType.P2WPKH,
        path=path,
        multisig=multisig,
        passphrase=None,
        random_bytes=RANDOM,
    )


def test_electrum_seed_keystore(tmp_path: Path) -> None:
    root = HDKey.from_seed(ELECTRUM_SEED, version=Network.REGTEST.params["xprv"])
    data = _imported(ImportedSecret(KIND_ELECTRUM_SEED, ELECTRUM_SEED.hex()), (H,))
    keystore = parse_keystore(data, tmp_path / "k")
    assert keystore.kind == KIND_ELECTRUM_SEED
    assert json.loads(data)["kind"] == KIND_ELECTRUM_SEED
    (wallet,) = keystore.wallets
    assert (wallet.name, wallet.keys[0].origin.derivation) == ("p2wpkh", "m/0h")
    assert wallet.keys[0].xpub == root.derive([H]).to_public().to_base58()
    assert keystore.cosigner_keys == ()
    seed = unlock(keystore, None)
    assert seed.fingerprint == root.my_fingerprint
    assert seed.derive((H, 1, 5)) == _secret_and_chain_code(root.derive([H, 1, 5]))


def test_account_xprv_keystore_signs_only_below_its_account(tmp_path: Path) -> None:
    root = HDKey.from_seed(mnemonic_to_seed(ABANDON, ""), version=Network.REGTEST.params["xprv"])
    path = (84 + H, 1 + H, H)
    account = root.derive(list(path))
    secret = ImportedSecret(KIND_ACCOUNT_XPRV, account.to_base58(), path, root.my_fingerprint)
    keystore = parse_keystore(_imported(secret, path), tmp_path / "k")
    assert keystore.master_fingerprint == root.my_fingerprint
    assert keystore.wallets[0].keys[0].xpub == account.to_public().to_base58()
    seed = unlock(keystore, None)
    assert seed.xpub(path) == account.to_public().to_base58()
    assert seed.derive((*path, 0, 7)) == _secret_and_chain_code(root.derive([*path, 0, 7]))
    with pytest.raises(BridgeError) as caught:
        seed.derive((84 + H, 1 + H, 1 + H, 0, 7))
    assert caught.value.code == "keystore.outside_account"


def test_imported_multisig_key_is_a_cosigner_key(tmp_path: Path) -> None:
    data = _imported(ImportedSecret(KIND_ELECTRUM_SEED, ELECTRUM_SEED.hex()), (1 + H,), True)
    keystore = parse_keystore(data, tmp_path / "k")
    assert keystore.wallets == ()
    ((script_type, key),) = keystore.cosigner_keys
    assert (script_type, key.origin.derivation) == (ScriptType.P2WSH, "m/1h")
    unlock(keystore, None)


def test_bip39_keystores_have_no_kind_field(clear: bytes, tmp_path: Path) -> None:
    """The header is the AEAD's associated data: keystores written before `kind` must keep it."""
    assert "kind" not in json.loads(clear)
    assert parse_keystore(clear, tmp_path / "k").kind == "bip39"


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "bip39"},  # the default is never written
        {"kind": "something"},
        {"account": 1},
        {"cosigner_keys": "extra"},
    ],
)
def test_imported_keystore_header_is_strict(change: dict[str, Any], tmp_path: Path) -> None:
    document = json.loads(_imported(ImportedSecret(KIND_ELECTRUM_SEED, ELECTRUM_SEED.hex()), (H,)))
    if change.get("cosigner_keys") == "extra":
        change = {"cosigner_keys": [dict(document["accounts"][0], script_type="p2wsh")]}
    document.update(change)
    with pytest.raises(ConfigError) as caught:
        parse_keystore(json.dumps(document).encode(), tmp_path / "k")
    assert caught.value.code == "keystore.corrupt"


def test_imported_secret_must_match_the_stored_key(tmp_path: Path) -> None:
    document = json.loads(_imported(ImportedSecret(KIND_ELECTRUM_SEED, ELECTRUM_SEED.hex()), (H,)))
    other = ImportedSecret(KIND_ELECTRUM_SEED, bytes(64).hex()).sealed()
    document["secret"] = base64.b64encode(other).decode()
    keystore = parse_keystore(json.dumps(document).encode(), tmp_path / "k")
    with pytest.raises(ConfigError) as caught:
        unlock(keystore, None)
    assert caught.value.code == "keystore.corrupt"
