"""keyencoding.py: points on the curve, x-only keys, xpubs, strict DER, Schnorr signature lengths."""

from __future__ import annotations

import pytest
from embit.bip32 import HDKey

from psbtbridge.errors import InvalidInput
from psbtbridge.keyencoding import (
    check_compressed_pubkey,
    check_ecdsa_signature,
    check_pubkey,
    check_schnorr_signature,
    check_xonly_pubkey,
    check_xpub,
)

G = bytes.fromhex("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
G_UNCOMPRESSED = bytes.fromhex(
    "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
)
# 5 has no square root of 5^3 + 7 mod p: not the x of any point.
NOT_ON_CURVE_X = (5).to_bytes(32, "big")
SIG = bytes.fromhex(
    "3044022074018ad4180097b873323c0015720b3684cc8123891048e7dbcd9b55ad679c99022073d369b7"
    "40e3eb53dcefa33823c8070514ca55a7dd9544f157c167913261118c01"
)


def _code(call: object, *args: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(*args, "input 0: PSBT_IN_X")  # type: ignore[operator]
    assert "input 0" in raised.value.message
    return raised.value.code


def test_valid_keys() -> None:
    assert check_pubkey(G, "x") == G
    assert check_pubkey(G_UNCOMPRESSED, "x") == G_UNCOMPRESSED
    assert check_xonly_pubkey(G[1:], "x") == G[1:]
    assert check_compressed_pubkey(G, "x") == G


@pytest.mark.parametrize(
    "key",
    [
        G[1:],
        G + b"\x00",
        b"\x04" + G[1:],
        b"\x06" + G_UNCOMPRESSED[1:],  # hybrid encoding
        b"\x02" + NOT_ON_CURVE_X,
        b"\x02" + b"\xff" * 32,  # x >= p
        b"",
    ],
)
def test_invalid_pubkeys(key: bytes) -> None:
    assert _code(check_pubkey, key) == "psbt.bad_pubkey"


def test_invalid_xonly_and_compressed() -> None:
    assert _code(check_xonly_pubkey, NOT_ON_CURVE_X) == "psbt.bad_pubkey"
    assert _code(check_xonly_pubkey, G) == "psbt.bad_pubkey"
    assert _code(check_compressed_pubkey, G_UNCOMPRESSED) == "psbt.bad_pubkey"


def _xpub(version: str = "xpub", depth: int = 0) -> bytes:
    key = HDKey.from_seed(bytes(32))
    for index in range(depth):
        key = key.derive([index])
    encoded = key.to_public().serialize()
    return (bytes.fromhex("043587cf") + encoded[4:]) if version == "tpub" else encoded


def test_xpubs() -> None:
    assert check_xpub(_xpub(), "x") == _xpub()
    assert check_xpub(_xpub("tpub", depth=2), "x")
    assert _code(check_xpub, _xpub()[:-1]) == "psbt.bad_xpub"
    private = HDKey.from_seed(bytes(32)).serialize()
    assert _code(check_xpub, private) == "psbt.bad_xpub"  # xprv version
    master_with_parent = _xpub()[:5] + b"\x01\x02\x03\x04" + _xpub()[9:]
    assert _code(check_xpub, master_with_parent) == "psbt.bad_xpub"
    bad_point = _xpub()[:45] + b"\x02" + NOT_ON_CURVE_X
    assert _code(check_xpub, bad_point) == "psbt.bad_xpub"


def test_strict_der() -> None:
    assert check_ecdsa_signature(SIG, "x") == SIG
    for sighash in (0x02, 0x03, 0x81, 0x82, 0x83):
        assert check_ecdsa_signature(SIG[:-1] + bytes([sighash]), "x")


def _der(r: bytes, s: bytes, sighash: int = 1) -> bytes:
    body = b"\x02" + bytes([len(r)]) + r + b"\x02" + bytes([len(s)]) + s
    return b"\x30" + bytes([len(body)]) + body + bytes([sighash])


R = bytes.fromhex("74018ad4180097b873323c0015720b3684cc8123891048e7dbcd9b55ad679c99")
S = bytes.fromhex("73d369b740e3eb53dcefa33823c8070514ca55a7dd9544f157c167913261118c")


@pytest.mark.parametrize(
    "sig",
    [
        SIG[:-1],  # no sighash byte: the last DER byte is read as one and lengths break
        SIG[:-1] + b"\x00",  # sighash 0 is not defined for ECDSA
        SIG[:-1] + b"\x04",
        _der(b"\x00" + R, S),  # needless leading zero
        _der(b"\x80" + R[1:], S),  # negative R
        _der(R, b""),  # empty S
        _der(R, bytes(32)),  # S = 0
        _der(
            R, bytes.fromhex("00fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        ),
        b"\x31" + SIG[1:],  # not a SEQUENCE
        SIG[:1] + bytes([SIG[1] + 1]) + SIG[2:],  # wrong total length
        b"\x30\x06\x02\x01\x01\x02\x01\x01",  # too short to have a sighash byte
        b"",
    ],
)
def test_invalid_der(sig: bytes) -> None:
    assert _code(check_ecdsa_signature, sig) == "psbt.bad_signature"


def test_schnorr_signatures() -> None:
    assert check_schnorr_signature(bytes(64), "x")
    assert check_schnorr_signature(bytes(64) + b"\x83", "x")
    for bad in (bytes(63), bytes(66), bytes(64) + b"\x00", bytes(64) + b"\x04"):
        assert _code(check_schnorr_signature, bad) == "psbt.bad_signature"
