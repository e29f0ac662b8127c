"""cold/crypto.py: BIP340 and BIP341 vectors, Core's low-R signer vectors, Core's grinding rule."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from bitcointx.core.key import CKey
from embit.bip32 import HDKey
from embit.ec import PrivateKey

from cold.crypto import (
    private_child,
    public_key,
    sign_ecdsa,
    sign_schnorr,
    sign_taproot_keypath,
    taproot_tweak_secret,
    xonly_public_key,
)
from psbtbridge.errors import BridgeError, ConfigError
from psbtbridge.psbt import Psbt, PsbtInput
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.verify import verify_ecdsa
from psbtbridge.verify.secp256k1 import schnorr_verify
from tests.conftest import load_vectors

BIP340 = load_vectors("psbt/bip340-schnorr.json")["vectors"]
BIP341 = load_vectors("psbt/bip341-wallet-test-vectors.json")["keyPathSpending"][0]
CORE = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
ROLES = load_vectors("psbt/bip174.json")["roles"]


def _secret(wif: str) -> bytes:
    return bytes(PrivateKey.from_wif(wif).secret)


# --- BIP340 -----------------------------------------------------------------------------


@pytest.mark.parametrize("vector", BIP340, ids=lambda v: f"bip340-{v['index']}")
def test_bip340_vector(vector: dict[str, Any]) -> None:
    pubkey = bytes.fromhex(vector["public_key"])
    message = bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])
    if len(message) != 32:
        # Vectors 15-18 sign 0, 1, 17 and 100-byte messages. Sighashes are always 32 bytes,
        # so both sides refuse other lengths rather than support a path nothing uses.
        if vector["secret_key"]:
            with pytest.raises(BridgeError) as caught:
                sign_schnorr(bytes.fromhex(vector["secret_key"]), message, bytes(32))
            assert caught.value.code == "crypto.bad_message"
        assert schnorr_verify(pubkey, message, signature) is False
        return
    if vector["secret_key"]:
        secret = bytes.fromhex(vector["secret_key"])
        assert xonly_public_key(secret) == pubkey
        aux_rand = bytes.fromhex(vector["aux_rand"])
        assert sign_schnorr(secret, message, aux_rand) == signature
    assert schnorr_verify(pubkey, message, signature) is vector["verification_result"]


def test_bip340_vectors_include_must_fail_cases() -> None:
    assert sum(not v["verification_result"] for v in BIP340) == 10


def test_schnorr_aux_rand_defaults_to_fresh_randomness() -> None:
    secret, message = hashlib.sha256(b"k").digest(), hashlib.sha256(b"m").digest()
    first, second = sign_schnorr(secret, message), sign_schnorr(secret, message)
    assert first != second
    for signature in (first, second):
        assert schnorr_verify(xonly_public_key(secret), message, signature)


# --- BIP341 key path --------------------------------------------------------------------


@pytest.mark.parametrize(
    "spend", BIP341["inputSpending"], ids=lambda s: f"input{s['given']['txinIndex']}"
)
def test_bip341_keypath_witness(spend: dict[str, Any]) -> None:
    given, intermediary = spend["given"], spend["intermediary"]
    secret = bytes.fromhex(given["internalPrivkey"])
    merkle_root = bytes.fromhex(given["merkleRoot"]) if given["merkleRoot"] else None
    assert xonly_public_key(secret).hex() == intermediary["internalPubkey"]
    assert taproot_tweak_secret(secret, merkle_root).hex() == intermediary["tweakedPrivkey"]
    sighash = bytes.fromhex(intermediary["sigHash"])
    signature = sign_taproot_keypath(secret, sighash, merkle_root, aux_rand=bytes(32))
    hash_type = given["hashType"]
    witness = signature + (bytes([hash_type]) if hash_type else b"")
    assert [witness.hex()] == spend["expected"]["witness"]


# --- ECDSA: Bitcoin Core's low-R signatures ----------------------------------------------


def _sighash(psbt: Psbt, index: int, cache: SighashCache) -> bytes:
    """The ALL sighash of a vector's input (P2SH multisig or P2SH-P2WSH multisig)."""
    inp: PsbtInput = psbt.inputs[index]
    if inp.witness_script is not None:
        assert inp.witness_utxo is not None
        return cache.segwit_v0(index, inp.witness_script, inp.witness_utxo.value, SighashType.ALL)
    assert inp.redeem_script is not None
    return cache.legacy(index, inp.redeem_script, SighashType.ALL)


def _signer_cases() -> list[Any]:
    cases = [
        pytest.param(entry["psbt"], entry["privkeys"], entry["result"], id=f"core-signer{i}")
        for i, entry in enumerate(CORE["signer"][:2])
    ]
    signer_1 = ROLES["signer_1"]
    cases.append(
        pytest.param(
            ROLES["updater_sighash_all"]["result"]["psbt"],
            [k["wif"] for k in signer_1["keys_wif"]],
            signer_1["result"]["psbt"],
            id="bip174-signer_1",
        )
    )
    return cases


@pytest.mark.parametrize(("unsigned", "wifs", "signed"), _signer_cases())
def test_ecdsa_signatures_equal_cores(unsigned: str, wifs: list[str], signed: str) -> None:
    psbt = Psbt.parse(base64.b64decode(unsigned))
    expected = Psbt.parse(base64.b64decode(signed))
    cache = SighashCache(psbt.unsigned_tx())
    keys = {public_key(_secret(wif)): _secret(wif) for wif in wifs}
    made = 0
    for index, inp in enumerate(expected.inputs):
        for partial in inp.partial_sigs:
            secret = keys[partial.pubkey]
            signature = sign_ecdsa(secret, _sighash(psbt, index, cache)) + b"\x01"
            assert signature == partial.signature
            made += 1
    assert made == 2


def test_bip174_signer_2_high_r_signature_is_not_what_core_or_we_make() -> None:
    """The BIP text's signer_2 carries a 72-byte (high-R) signature; Core's json a 71-byte one."""
    bip = Psbt.parse(base64.b64decode(ROLES["signer_2"]["result"]["psbt"]))
    core = Psbt.parse(base64.b64decode(CORE["signer"][1]["result"]))
    bip_sig, core_sig = bip.inputs[0].partial_sigs[0], core.inputs[0].partial_sigs[0]
    assert bip_sig.pubkey == core_sig.pubkey
    assert (len(bip_sig.signature), len(core_sig.signature)) == (72, 71)
    psbt = Psbt.parse(base64.b64decode(ROLES["updater_sighash_all"]["result"]["psbt"]))
    wif = ROLES["signer_2"]["keys_wif"][0]["wif"]
    ours = sign_ecdsa(_secret(wif), _sighash(psbt, 0, SighashCache(psbt.unsigned_tx())))
    assert ours + b"\x01" == core_sig.signature


def test_grinding_follows_cores_rule_where_embits_differs() -> None:
    """embit grinds to a DER length <= 70; Core to R < 2^255. A high R with a 31-byte S is
    70 bytes: embit keeps it, Core grinds on. Case 132 below is the first such one."""
    secret = hashlib.sha256(b"key132").digest()
    message = hashlib.sha256(b"msg132").digest()
    embit_sig = bytes(PrivateKey(secret).sign(message).serialize())
    core_sig = CKey(secret).sign(message)  # bitcointx mimics Core's loop, on Debian's library
    assert embit_sig != core_sig
    assert (len(embit_sig), embit_sig[3]) == (70, 33)  # 70 bytes, yet R needs a 0x00 pad
    assert sign_ecdsa(secret, message) == core_sig


def test_ecdsa_equals_core_grinding_on_many_keys() -> None:
    for i in range(300):
        secret = hashlib.sha256(b"k%d" % i).digest()
        message = hashlib.sha256(b"m%d" % i).digest()
        signature = sign_ecdsa(secret, message)
        assert signature == CKey(secret).sign(message)
        assert signature[4] < 0x80  # R's first byte: low R, never a 0x00 pad
        assert verify_ecdsa(public_key(secret), message, signature)


# --- refusals ---------------------------------------------------------------------------


def test_bad_keys_and_messages_are_refused() -> None:
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    for bad_key in (bytes(32), order.to_bytes(32, "big"), b"\x01" * 31):
        with pytest.raises(ConfigError) as caught:
            sign_ecdsa(bad_key, bytes(32))
        assert caught.value.code == "crypto.bad_key"
    secret = hashlib.sha256(b"k").digest()
    for call in (
        lambda: sign_ecdsa(secret, bytes(31)),
        lambda: sign_schnorr(secret, bytes(33)),
        lambda: sign_schnorr(secret, bytes(32), aux_rand=bytes(31)),
        lambda: taproot_tweak_secret(secret, bytes(31)),
    ):
        with pytest.raises(BridgeError) as error:
            call()
        assert error.value.code == "crypto.bad_message"


def test_odd_y_internal_keys_are_negated_before_the_tweak() -> None:
    """BIP341 treats P as its even-y point: both parities must produce the output key."""
    parities = set()
    for i in range(8):
        secret = hashlib.sha256(b"t%d" % i).digest()
        parities.add(public_key(secret)[0])
        tweaked = taproot_tweak_secret(secret)
        internal = xonly_public_key(secret)
        output = PrivateKey(secret).taproot_tweak(b"").xonly()  # embit's pubkey-side tweak
        assert xonly_public_key(tweaked) == output != internal
    assert parities == {2, 3}


# BIP32 test vector 1's chain m/0h (its seed), children checked against embit's HDKey.child
_BIP32_SEED = bytes.fromhex("000102030405060708090a0b0c0d0e0f")


@pytest.mark.parametrize("index", [0, 1, 7, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF])
def test_private_child_equals_bip32_ckdpriv(index: int) -> None:
    parent = HDKey.from_seed(_BIP32_SEED).derive("m/0h")
    embit = parent.child(index)
    expected = (bytes(embit.key.secret), bytes(embit.chain_code))
    assert private_child(bytes(parent.key.secret), parent.chain_code, index) == expected
    if index < 0x80000000:  # a non-hardened step with the parent's public key given
        given = bytes(parent.key.sec())
        assert private_child(bytes(parent.key.secret), parent.chain_code, index, given) == expected


def test_bip32_test_vector_1_m_0h_1() -> None:
    root = HDKey.from_seed(_BIP32_SEED)
    secret, chain_code = private_child(bytes(root.key.secret), root.chain_code, 0x80000000)
    secret, chain_code = private_child(secret, chain_code, 1)
    # BIP32 test vector 1, chain m/0h/1: its chain code and key (the public key, to keep it short)
    assert chain_code.hex() == "2a7857631386ba23dacac34180dd1983734e444fdbf774041578e9b6adb37c19"
    assert public_key(secret).hex() == (
        "03501e454bf00751f24b1b489aa925215d66af2234e3891c3b21a52bedb3cd711c"
    )


def test_private_child_refuses_an_index_beyond_32_bits() -> None:
    parent = HDKey.from_seed(_BIP32_SEED)
    with pytest.raises(BridgeError) as raised:
        private_child(bytes(parent.key.secret), parent.chain_code, 1 << 32)
    assert raised.value.code == "crypto.bad_key"
