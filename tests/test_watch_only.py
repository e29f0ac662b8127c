"""hot/watch_only.py and psbtbridge/wallet/export.py: a cold export becomes an Electrum wallet
file that knows its keys' origin."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from embit import bip32
from embit.descriptor import Descriptor
from hypothesis import given, settings
from hypothesis import strategies as st

from hot.watch_only import electrum_derivation, wallet_file, watchable_from_export
from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import BridgeError, InvalidInput, UsageError
from psbtbridge.script import ScriptType, address_of
from psbtbridge.wallet import Wallet
from psbtbridge.wallet.export import first_address
from tests.support.electrum_harness import NETWORK, export_document, root_key

EXPORT = export_document()
FINGERPRINT = "73c5da0a"
#: First receive addresses as Electrum 4.3.4 lists them for these wallets (measured).
ELECTRUM_FIRST_ADDRESS = {
    "p2wpkh": "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",  # BIP84's test vector, regtest hrp
    "p2sh-p2wpkh": "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2",
    "p2pkh": "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV",
    "vault": "bcrt1qr3az57pxl8z7q6d9q7v0fmeaphuwe3z0ghvkjr457ch4vqwmtkask29wwr",
}


def _encode(document: Any) -> bytes:
    return json.dumps(document).encode()


def _address(wallet: Wallet, chain: int, index: int) -> str | None:
    return address_of(wallet.derive(chain, index).script_pubkey, wallet.network)


def _wallet(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(w for w in document["wallets"] if w["name"] == name)
    return found


@pytest.mark.parametrize(
    ("name", "prefix", "derivation"),
    [
        ("p2wpkh", "vpub", "m/84'/1'/0'"),
        ("p2sh-p2wpkh", "upub", "m/49'/1'/0'"),
        ("p2pkh", "tpub", "m/44'/1'/0'"),
    ],
)
def test_single_sig_wallet_file_carries_the_origin(name: str, prefix: str, derivation: str) -> None:
    wallet = watchable_from_export(_encode(EXPORT), name)
    assert wallet.script_type is ScriptType(name)
    assert wallet.threshold == 1
    assert not wallet.is_multisig
    document = json.loads(wallet_file(wallet))
    assert document["wallet_type"] == "standard"
    assert document["seed_version"] == 50
    keystore = document["keystore"]
    assert keystore["type"] == "bip32"
    assert keystore["xprv"] is None
    assert keystore["root_fingerprint"] == FINGERPRINT
    assert keystore["derivation"] == derivation
    assert keystore["xpub"].startswith(prefix)
    assert keystore["xpub"] == _wallet(EXPORT, name)["electrum_xpub"]


def test_multisig_wallet_file_names_every_cosigner() -> None:
    wallet = watchable_from_export(_encode(EXPORT), "vault")
    assert wallet.is_multisig
    assert wallet.threshold == 2
    document = json.loads(wallet_file(wallet))
    assert document["wallet_type"] == "2of3"
    cosigners = _wallet(EXPORT, "vault")["cosigners"]
    for i, cosigner in enumerate(cosigners, start=1):
        keystore = document[f"x{i}/"]
        assert keystore["root_fingerprint"] == cosigner["fingerprint"]
        assert keystore["derivation"] == "m/48'/1'/0'/2'"
        assert keystore["xpub"] == cosigner["electrum_xpub"]
        assert keystore["xpub"].startswith("Vpub")
    assert "keystore" not in document


@pytest.mark.parametrize("name", sorted(ELECTRUM_FIRST_ADDRESS))
def test_addresses_match_electrum_and_the_export_descriptors(name: str) -> None:
    wallet = watchable_from_export(_encode(EXPORT), name)
    assert first_address(wallet) == ELECTRUM_FIRST_ADDRESS[name]
    descriptors = _wallet(EXPORT, name)["descriptors"]
    for chain, key in ((0, "receive"), (1, "change")):
        descriptor = Descriptor.from_string(descriptors[key].split("#")[0])
        for index in (0, 7):
            expected = descriptor.derive(index).address(NETWORK.params)
            assert _address(wallet, chain, index) == expected


def test_key_origin_path_and_fingerprint() -> None:
    origin = watchable_from_export(_encode(EXPORT), "p2wpkh").keys[0].origin
    assert origin.fingerprint.hex() == FINGERPRINT
    assert origin.path == (84 | HARDENED, 1 | HARDENED, HARDENED)


def test_master_and_depth_one_keys_follow_electrums_origin_rule() -> None:
    root = root_key()
    params = NETWORK.params
    for path, key in (("m", root), ("m/0h", root.derive("m/0h"))):
        document = copy.deepcopy(EXPORT)
        wallet = _wallet(document, "p2wpkh")
        wallet.update(derivation=path, xpub=key.to_public().to_base58(version=params["xpub"]))
        wallet.pop("electrum_xpub")
        wallet = watchable_from_export(_encode(document), "p2wpkh")
        assert electrum_derivation(wallet.keys[0].origin) == ("m" if path == "m" else "m/0'")
        document["master_fingerprint"] = "00000000"
        with pytest.raises(InvalidInput) as caught:
            watchable_from_export(_encode(document), "p2wpkh")
        assert caught.value.code == "watch_only.bad_key"


def _other_tpub(path: str = "m/84h/1h/1h") -> str:
    key: bip32.HDKey = root_key().derive(path).to_public()
    return str(key.to_base58(version=NETWORK.params["xpub"]))


def _set(name: str, **fields: Any) -> dict[str, Any]:
    document = copy.deepcopy(EXPORT)
    _wallet(document, name).update(fields)
    return document


def _cosigner(index: int, **fields: Any) -> dict[str, Any]:
    document = copy.deepcopy(EXPORT)
    _wallet(document, "vault")["cosigners"][index].update(fields)
    return document


_TPRV = root_key().derive("m/84h/1h/0h").to_base58(version=NETWORK.params["xprv"])
_MAINNET_XPUB = (
    root_key().derive("m/84h/1h/0h").to_public().to_base58(version=bytes.fromhex("0488b21e"))
)
_VAULT = _wallet(EXPORT, "vault")


def _cosigners(count: int) -> list[dict[str, Any]]:
    """count different cosigner keys (accounts of one seed), as an export lists them."""
    params = NETWORK.params
    keys = [root_key().derive(f"m/48h/1h/{i}h/2h").to_public() for i in range(count)]
    return [
        {
            "fingerprint": FINGERPRINT,
            "derivation": f"m/48h/1h/{i}h/2h",
            "xpub": key.to_base58(version=params["xpub"]),
        }
        for i, key in enumerate(keys)
    ]


REFUSED: list[tuple[str, Any, str, str]] = [
    ("not json", b"\xff{", "p2wpkh", "watch_only.bad_export"),
    ("array", [], "p2wpkh", "watch_only.bad_export"),
    ("old format", {**EXPORT, "format": "psbtbridge-export/0"}, "p2wpkh", "watch_only.bad_export"),
    ("unknown network", {**EXPORT, "network": "litecoin"}, "p2wpkh", "watch_only.bad_export"),
    ("bad master fp", {**EXPORT, "master_fingerprint": "73C5DA0A"}, "p2wpkh", "watch_only.bad_export"),
    ("wallets not a list", {**EXPORT, "wallets": {}}, "p2wpkh", "watch_only.bad_export"),
    ("wallet not an object", {**EXPORT, "wallets": ["p2wpkh"]}, "p2wpkh", "watch_only.bad_export"),
    ("bad wallet name", {**EXPORT, "wallets": [{"name": "-w"}]}, "-w", "watch_only.bad_export"),
    ("no such wallet", EXPORT, "savings", "watch_only.no_wallet"),
    ("taproot", EXPORT, "p2tr", "watch_only.unsupported"),
    ("unknown script type", _set("p2wpkh", script_type="p2wpkh-p2sh"), "p2wpkh", "watch_only.bad_export"),
    ("single p2wsh", _set("p2wpkh", script_type="p2wsh"), "p2wpkh", "watch_only.bad_export"),
    ("multisig kind p2wpkh", _set("vault", script_type="p2wpkh"), "vault", "watch_only.bad_export"),
    ("private key", _set("p2wpkh", xpub=_TPRV), "p2wpkh", "watch_only.bad_key"),
    ("mainnet xpub", _set("p2wpkh", xpub=_MAINNET_XPUB), "p2wpkh", "watch_only.bad_key"),
    ("not base58", _set("p2wpkh", xpub="tpub0OIl"), "p2wpkh", "watch_only.bad_key"),
    ("too long", _set("p2wpkh", xpub="t" * 200), "p2wpkh", "watch_only.bad_key"),
    ("depth mismatch", _set("p2wpkh", derivation="m/84h/1h"), "p2wpkh", "watch_only.bad_key"),
    ("child mismatch", _set("p2wpkh", derivation="m/84h/1h/1h"), "p2wpkh", "watch_only.bad_key"),
    ("unhardened last step", _set("p2wpkh", derivation="m/84h/1h/0"), "p2wpkh", "watch_only.bad_key"),
    ("path without m", _set("p2wpkh", derivation="84h/1h/0h"), "p2wpkh", "watch_only.bad_export"),
    ("path letter", _set("p2wpkh", derivation="m/84h/1h/xh"), "p2wpkh", "watch_only.bad_export"),
    ("index too large", _set("p2wpkh", derivation="m/84h/1h/2147483648h"), "p2wpkh", "watch_only.bad_export"),
    ("electrum xpub differs", _set("p2wpkh", electrum_xpub=_other_tpub()), "p2wpkh", "watch_only.bad_key"),
    ("unsorted multisig", _set("vault", sorted=False), "vault", "watch_only.unsupported"),
    ("sorted missing", _set("vault", sorted=None), "vault", "watch_only.bad_export"),
    ("one cosigner", _set("vault", cosigners=_VAULT["cosigners"][:1], threshold=1), "vault", "watch_only.unsupported"),
    ("sixteen cosigners", _set("vault", cosigners=_cosigners(16)), "vault", "watch_only.unsupported"),
    ("threshold zero", _set("vault", threshold=0), "vault", "watch_only.bad_export"),
    ("threshold above n", _set("vault", threshold=4), "vault", "watch_only.bad_export"),
    ("threshold bool", _set("vault", threshold=True), "vault", "watch_only.bad_export"),
    ("duplicate cosigner", _set("vault", cosigners=[*_VAULT["cosigners"][:2], _VAULT["cosigners"][0]]), "vault", "watch_only.bad_key"),
    ("cosigner not object", _set("vault", cosigners=[1, 2, 3]), "vault", "watch_only.bad_export"),
    ("cosigner fp", _cosigner(1, fingerprint="xyz"), "vault", "watch_only.bad_export"),
    ("cosigner electrum xpub", _cosigner(2, electrum_xpub=_VAULT["cosigners"][0]["electrum_xpub"]), "vault", "watch_only.bad_key"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("document", "name", "code"),
    [pytest.param(doc, name, code, id=case) for case, doc, name, code in REFUSED],
)
def test_refusals(document: Any, name: str, code: str) -> None:
    data = document if isinstance(document, bytes) else _encode(document)
    with pytest.raises(BridgeError) as caught:
        watchable_from_export(data, name)
    assert caught.value.code == code
    expected = (
        UsageError if code in ("watch_only.no_wallet", "watch_only.unsupported") else InvalidInput
    )
    assert isinstance(caught.value, expected)


def test_oversized_export_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidInput) as caught:
        watchable_from_export(b" " * (1024 * 1024 + 1), "p2wpkh")
    assert caught.value.code == "watch_only.bad_export"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_bridge_errors(data: bytes) -> None:
    with pytest.raises(BridgeError):
        watchable_from_export(data, "p2wpkh")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = [
    "kind",
    "script_type",
    "derivation",
    "xpub",
    "electrum_xpub",
    "threshold",
    "sorted",
    "cosigners",
]


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(["p2wpkh", "vault"]), field=st.sampled_from(_FIELDS), value=_JSON)
def test_any_field_value_gives_a_spec_or_a_bridge_error(name: str, field: str, value: Any) -> None:
    document = _set(name, **{field: value})
    try:
        wallet = watchable_from_export(_encode(document), name)
    except BridgeError:
        return
    json.loads(wallet_file(wallet))
