"""verify/secp256k1.py: our binding to Debian's libsecp256k1 is never laxer than Core's rules as
python-bitcointx ports them (strict DER, low S), and verifies what the signer makes."""

from __future__ import annotations

import ctypes.util
import hashlib

import pytest
from bitcointx.core.key import CKey
from bitcointx.core.script import IsLowDERSignature
from bitcointx.core.scripteval import _IsValidSignatureEncoding
from hypothesis import given, settings
from hypothesis import strategies as st

from cold.crypto import public_key, sign_ecdsa
from psbtbridge.errors import BridgeError
from psbtbridge.verify import secp256k1, verify_ecdsa

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECRET = hashlib.sha256(b"secp256k1 test key").digest()
MESSAGE = hashlib.sha256(b"secp256k1 test message").digest()


def _der(r: int, s: int) -> bytes:
    def integer(value: int) -> bytes:
        body = value.to_bytes((value.bit_length() + 8) // 8, "big")  # room for a sign bit
        return b"\x02" + bytes([len(body)]) + body

    content = integer(r) + integer(s)
    return b"\x30" + bytes([len(content)]) + content


def _r_s(der: bytes) -> tuple[int, int]:
    r_len = der[3]
    r = int.from_bytes(der[4 : 4 + r_len], "big")
    return r, int.from_bytes(der[6 + r_len :], "big")


def _core_strict(der: bytes) -> bool:
    """Core's IsValidSignatureEncoding and IsLowDERSignature, in bitcointx's port (they take
    the sighash byte too)."""
    with_hashtype = der + b"\x01"
    return bool(_IsValidSignatureEncoding(with_hashtype)) and bool(IsLowDERSignature(with_hashtype))


def test_what_the_signer_makes_verifies() -> None:
    signature = sign_ecdsa(SECRET, MESSAGE)
    pubkey = public_key(SECRET)
    assert secp256k1.strict_signature(signature) is not None
    assert verify_ecdsa(pubkey, MESSAGE, signature)
    assert not verify_ecdsa(pubkey, bytes(32), signature)
    assert not verify_ecdsa(pubkey, MESSAGE[:31], signature)


def test_a_high_s_twin_is_refused_though_it_is_valid_math() -> None:
    signature = sign_ecdsa(SECRET, MESSAGE)
    r, s = _r_s(signature)
    high = _der(r, ORDER - s)
    assert _IsValidSignatureEncoding(high + b"\x01") and not IsLowDERSignature(high + b"\x01")
    assert secp256k1.strict_signature(high) is None
    assert not verify_ecdsa(public_key(SECRET), MESSAGE, high)


def test_padding_and_out_of_range_values_are_refused() -> None:
    r, s = _r_s(sign_ecdsa(SECRET, MESSAGE))
    padded_r = b"\x02" + bytes([33]) + b"\x00" + r.to_bytes(32, "big")
    body = padded_r + _der(r, s)[4 + _der(r, s)[3] :]
    padded = b"\x30" + bytes([len(body)]) + body
    assert r < 2**255  # low R: the pad is excess, which BIP66 forbids
    bad = (padded, _der(ORDER + 1, s), _der(r, 0), _der(0, s), b"", b"\x30", bytes(73))
    for signature in bad:
        assert secp256k1.strict_signature(signature) is None


def test_hybrid_public_keys_are_refused() -> None:
    """libsecp256k1 parses the hybrid form (0x06/0x07 and both coordinates); Core's
    standardness and we do not."""
    signature = sign_ecdsa(SECRET, MESSAGE)
    uncompressed = bytes(CKey(SECRET, compressed=False).pub)
    assert verify_ecdsa(uncompressed, MESSAGE, signature)
    hybrid = bytes([6 + (uncompressed[64] & 1)]) + uncompressed[1:]
    assert not verify_ecdsa(hybrid, MESSAGE, signature)


@settings(max_examples=400)
@given(st.integers(0, 299), st.data())
def test_never_laxer_than_core_on_mutated_signatures(seed: int, data: st.DataObject) -> None:
    secret = hashlib.sha256(b"k%d" % seed).digest()
    blob = bytearray(sign_ecdsa(secret, hashlib.sha256(b"m%d" % seed).digest()))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(blob)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "insert":
            blob.insert(position, data.draw(st.sampled_from([0x00, 0x80, 0xFF, 0x02, 0x30])))
        elif blob and action == "delete":
            del blob[min(position, len(blob) - 1)]
        elif blob:
            blob[min(position, len(blob) - 1)] ^= data.draw(st.integers(1, 255))
    der = bytes(blob)
    ours = secp256k1.strict_signature(der) is not None
    assert not ours or _core_strict(der)
    if _core_strict(der) and all(0 < value < ORDER for value in _r_s(der)):
        assert ours


def test_another_soname_is_found_by_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian 12 names it libsecp256k1.so.1; another release's name is found by the
    search python-bitcointx makes (ldconfig), only when that one is missing."""
    monkeypatch.setattr(secp256k1, "SONAME", "libsecp256k1.so.0-not-installed")
    library = secp256k1._Library()
    assert library.lib.secp256k1_context_create is not None and library.ctx


def test_a_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secp256k1, "SONAME", "libsecp256k1.so.0-not-installed")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    with pytest.raises(BridgeError) as caught:
        secp256k1._Library()
    assert caught.value.code == "verify.no_library"
    assert "libsecp256k1-1" in caught.value.message
