"""cold/keystore/electrum_file.py on wallet files Electrum 4.3.4 wrote (tests/vectors/electrum),
with every expected key re-derived by embit from the seeds, not by our code."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from embit import bip32, bip39
from hypothesis import given, settings
from hypothesis import strategies as st

from cold.keystore.electrum_file import ElectrumWallet, load_document, read_wallet
from cold.keystore.electrum_seed import seed_bytes
from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import BridgeError, ConfigError, InvalidInput, Refused
from psbtbridge.network import Network
from psbtbridge.script import ScriptType

VECTORS = Path(__file__).parent / "vectors" / "electrum"
MADE: dict[str, Any] = json.loads((VECTORS / "seeds.json").read_text())
SEEDS: dict[str, str] = MADE["seeds"]
PASSWORD: str = MADE["password"]
NETWORK = Network.REGTEST
PARAMS = NETWORK.params


def _data(name: str) -> bytes:
    return (VECTORS / f"{name}.wallet").read_bytes()


def _plain(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_data(name))
    return document


def _read(name: str, password: str | None = PASSWORD) -> ElectrumWallet:
    return read_wallet(_data(name), password, NETWORK)


def _electrum_root(name: str, extension: str = "") -> bip32.HDKey:
    return bip32.HDKey.from_seed(seed_bytes(SEEDS[name], extension), version=PARAMS["xprv"])


def _slip132(key: bip32.HDKey, version: str) -> str:
    return str(key.to_public().to_base58(version=PARAMS[version]))


@pytest.mark.parametrize(
    ("name", "extension", "script_type", "path", "version"),
    [
        ("segwit_encrypted", "", ScriptType.P2WPKH, (HARDENED,), "zpub"),
        ("standard", "", ScriptType.P2PKH, (), "xpub"),
        ("segwit_extension", MADE["extension"], ScriptType.P2WPKH, (HARDENED,), "zpub"),
    ],
)
def test_electrum_seed_wallets(
    name: str, extension: str, script_type: ScriptType, path: tuple[int, ...], version: str
) -> None:
    root = _electrum_root(name, extension)
    account = root.derive(list(path)) if path else root
    ours = _read(name).ours
    assert ours.seed == seed_bytes(SEEDS[name], extension)
    assert ours.script_type is script_type
    assert ours.account.origin.fingerprint == root.my_fingerprint
    assert ours.account.origin.path == path
    assert ours.electrum_xpub == _slip132(account, version)
    assert ours.account.xpub == _slip132(account, "xpub")
    assert ours.account_xprv(NETWORK) == account.to_base58(version=PARAMS["xprv"])


def test_the_storage_encrypted_file_is_not_json() -> None:
    assert _data("segwit_encrypted").startswith(base64.b64encode(b"BIE1")[:4])
    assert _plain("segwit_extension")["use_encryption"] is True


def test_bip39_restored_wallet_keeps_the_account_xprv_and_its_origin() -> None:
    root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(SEEDS["bip39"]), version=PARAMS["xprv"])
    account = root.derive(MADE["bip39_derivation"])
    ours = _read("bip39").ours
    assert ours.seed is None
    assert ours.account.origin.fingerprint == root.my_fingerprint
    assert ours.account.origin.derivation == "m/84h/1h/0h"
    assert ours.electrum_xpub == _slip132(account, "zpub") == _plain("bip39")["keystore"]["xpub"]
    assert ours.account_xprv(NETWORK) == account.to_base58(version=PARAMS["xprv"])


def test_xprv_wallet_is_its_own_root() -> None:
    root = bip32.HDKey.from_seed(bip39.mnemonic_to_seed(SEEDS["bip39"]), version=PARAMS["xprv"])
    ours = _read("xprv").ours
    assert (ours.seed, ours.script_type) == (None, ScriptType.P2WPKH)
    assert (ours.account.origin.fingerprint, ours.account.origin.path) == (root.my_fingerprint, ())
    assert ours.electrum_xpub == _slip132(root, "zpub")


@pytest.mark.parametrize("mine", [1, 2])
def test_multisig_wallet(mine: int) -> None:
    wallet = _read(f"multisig_x{mine}")
    assert wallet.multisig is not None
    assert (wallet.multisig.threshold, wallet.multisig.script_type) == (2, ScriptType.P2WSH)
    roots = [_electrum_root(f"multisig_x{i}") for i in (1, 2, 3)]
    keys = [r.derive([1 + HARDENED]) for r in roots]
    assert [k.xpub for k in wallet.multisig.keys] == [_slip132(k, "xpub") for k in keys]
    assert [k.origin.descriptor_form() for k in wallet.multisig.keys] == [
        f"{r.my_fingerprint.hex()}/1h" for r in roots
    ]
    assert wallet.ours.account == wallet.multisig.keys[mine - 1]
    assert wallet.ours.seed == seed_bytes(SEEDS[f"multisig_x{mine}"], "")
    assert wallet.ours.electrum_xpub == _slip132(keys[mine - 1], "Zpub")


def _patched_45(document: dict[str, Any], patches: list[dict[str, Any]]) -> bytes:
    """Electrum 4.5's layout: the JSON object, then one JSON patch per ",\\n"-separated line."""
    text = json.dumps(document, indent=4)
    return "".join([text, *(",\n" + json.dumps(p) for p in patches)]).encode()


def test_electrum_45_layout_with_patches_and_renamed_keystores() -> None:
    document = _plain("multisig_x1")
    document["seed_version"] = 59
    for i in (1, 2, 3):
        document[f"x{i}"] = document.pop(f"x{i}/")
    real_xpub = document["x2"]["xpub"]
    document["x2"]["xpub"] = "replaced below"
    patches = [
        {"op": "replace", "path": "/x2/xpub", "value": real_xpub},
        {"op": "add", "path": "/labels/a~1b", "value": "slash in a key"},
        {"op": "remove", "path": "/addr_history"},
    ]
    wallet = read_wallet(_patched_45(document, patches), None, NETWORK)
    assert wallet.multisig == _read("multisig_x1").multisig
    assert load_document(_patched_45(document, patches).decode())["labels"]["a/b"]
    # an append cut after its separator (a crash mid-write): Electrum drops it, so do we
    assert read_wallet(_patched_45(document, patches) + b",\n", None, NETWORK) == wallet


def test_a_seed_version_beyond_45_is_refused() -> None:
    document = _plain("standard")
    document["seed_version"] = 60
    with pytest.raises(InvalidInput) as caught:
        read_wallet(json.dumps(document).encode(), None, NETWORK)
    assert caught.value.code == "keys.electrum_unsupported_version"


@pytest.mark.parametrize("name", ["segwit_encrypted", "segwit_extension"])
def test_wrong_or_missing_password(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _read(name, "not the password")
    assert (caught.value.code, caught.value.exit_status) == ("keys.wrong_password", 4)
    with pytest.raises(ConfigError) as caught:
        _read(name, None)
    assert caught.value.code == "keys.password_required"


def _refused(document: dict[str, Any]) -> BridgeError:
    with pytest.raises(BridgeError) as caught:
        read_wallet(json.dumps(document).encode(), None, NETWORK)
    return caught.value


def test_hardware_keystores_are_refused() -> None:
    document = _plain("standard")
    document["keystore"] = {
        "type": "hardware",
        "hw_type": "ledger",
        "xpub": document["keystore"]["xpub"],
    }
    assert isinstance(_refused(document), Refused)
    assert _refused(document).code == "keys.electrum_hardware"
    multisig = _plain("multisig_x2")
    multisig["x1/"] = {"type": "hardware", "hw_type": "trezor", "xpub": multisig["x1/"]["xpub"]}
    del multisig["x2/"]["xprv"]
    assert _refused(multisig).code == "keys.electrum_hardware"


def test_bie2_files_are_refused() -> None:
    data = base64.b64encode(b"BIE2" + bytes(33 + 16 + 32))
    with pytest.raises(Refused) as caught:
        read_wallet(data, "x", NETWORK)
    assert caught.value.code == "keys.electrum_hardware_encryption"


def test_other_refusals() -> None:
    document = _plain("standard")
    assert _refused({**document, "wallet_type": "2fa"}).code == "keys.electrum_2fa_seed"
    assert _refused({**document, "wallet_type": "imported"}).code == (
        "keys.electrum_unsupported_wallet"
    )
    old = {**document, "keystore": {"type": "old", "mpk": "00" * 64}}
    assert _refused(old).code == "keys.electrum_old_seed"
    watch_only = {**document, "keystore": {**document["keystore"], "xprv": None, "seed": None}}
    assert _refused(watch_only).code == "keys.electrum_watch_only"
    other_seed = {**document, "keystore": {**document["keystore"], "seed": SEEDS["multisig_x1"]}}
    assert _refused(other_seed).code == "keys.electrum_seed_mismatch"
    foreign = _plain("multisig_x1")
    foreign["x2/"]["xprv"] = _plain("multisig_x2")["x2/"]["xprv"]
    assert _refused(foreign).code == "keys.electrum_several_secrets"
    with pytest.raises(InvalidInput) as caught:
        read_wallet(_data("standard"), None, Network.MAIN)
    assert caught.value.code == "keys.electrum_wrong_network"


def test_an_xprv_not_matching_the_xpub_is_a_wrong_password() -> None:
    """Without a MAC, a wrong password yields noise: only re-deriving the xpub tells."""
    document = _plain("standard")
    document["keystore"]["xprv"] = _plain("bip39")["keystore"]["xprv"]
    assert _refused(document).code == "keys.wrong_password"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_bridge_errors(data: bytes) -> None:
    with contextlib.suppress(BridgeError):
        read_wallet(data, "password", NETWORK)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_arbitrary_json_patches_raise_only_bridge_errors(patch: object) -> None:  # fmt: skip
    text = json.dumps(_plain("standard")) + ",\n" + json.dumps(patch)
    with contextlib.suppress(BridgeError):
        read_wallet(text.encode(), None, NETWORK)
