"""Private-key operations: low-R ECDSA as Bitcoin Core signs, and BIP340 Schnorr with the BIP341 tweak.

The curve arithmetic is libsecp256k1 through embit's ctypes binding. embit 0.8.0 loads the
build it ships (`embit/util/prebuilt/libsecp256k1_linux_x86_64.so`), not Debian's
`libsecp256k1.so.1`, and silently falls back to a pure-Python, not constant-time curve when
loading fails: we import its ctypes module directly so that fallback can never sign.
embit's own `PrivateKey.sign` grinds until the DER encoding is at most 70 bytes and gives up
after 200 tries; Core grinds until R < 2^255 (a different rule: a high R with a short S is
70 bytes too), so the grinding loop is ours, and our signatures equal Core's byte for byte.
Schnorr signatures are verified before they are returned (BIP340's advice); ECDSA ones
by the signer, with the independent implementation (psbtbridge/verify/), before release.
"""

from __future__ import annotations

import os
from functools import cache
from types import ModuleType

from psbtbridge.bip32 import HARDENED, child_tweak
from psbtbridge.errors import BridgeError, Code, ConfigError
from psbtbridge.hashes import tagged_hash

#: Core stops nowhere; a signature needs two tries on average, so 256 never fails in practice.
_MAX_GRIND = 256
_EC_COMPRESSED = 0b0100000010  # SECP256K1_EC_COMPRESSED


@cache  # called several times per input: import machinery once, not per call
def _library() -> ModuleType:
    """embit's ctypes binding, or a ConfigError if libsecp256k1 cannot be loaded."""
    try:
        from embit.util import ctypes_secp256k1
    except (ImportError, OSError, RuntimeError) as error:
        raise ConfigError(
            Code.CRYPTO_NO_LIBSECP256K1,
            f"libsecp256k1 cannot be loaded through embit ({error}); refusing to sign",
        ) from error
    module: ModuleType = ctypes_secp256k1
    return module


def _check_message(message: bytes) -> None:
    if len(message) != 32:
        # A signature hash is always 32 bytes: anything else is a bug in the caller.
        raise BridgeError(
            Code.CRYPTO_BAD_MESSAGE, f"refusing to sign a {len(message)}-byte message"
        )


def _check_secret(secret: bytes) -> None:
    if len(secret) != 32 or not _library().ec_seckey_verify(secret):
        raise ConfigError(Code.CRYPTO_BAD_KEY, "a private key is not a valid secp256k1 scalar")


def public_key(secret: bytes) -> bytes:
    """The compressed (33-byte SEC) public key of a private key."""
    _check_secret(secret)
    lib = _library()
    return bytes(lib.ec_pubkey_serialize(lib.ec_pubkey_create(secret), _EC_COMPRESSED))


def xonly_public_key(secret: bytes) -> bytes:
    """The BIP340 x-only (32-byte) public key of a private key."""
    return public_key(secret)[1:]


def private_child(
    secret: bytes, chain_code: bytes, index: int, public: bytes | None = None
) -> tuple[bytes, bytes]:
    """BIP32 CKDpriv: the child's (secret, chain code).

    A non-hardened step hashes the parent's public key: a caller deriving many children of
    one parent passes it (`public`) instead of having it computed per child. embit's
    `HDKey.child` takes the same step but computes the parent's public key for every child,
    hardened ones too, and encodes each child in base58 to check its version: most of the
    per-input cost of a 100-input signing, and half of unlocking (bench/sign.py).
    """
    if not 0 <= index <= 0xFFFFFFFF:
        raise BridgeError(Code.CRYPTO_BAD_KEY, f"index {index} is not a BIP32 index")
    if index >= HARDENED:
        parent = b"\x00" + secret
    else:
        parent = public if public is not None else public_key(secret)
    tweak, child_code = child_tweak(chain_code, parent, index)
    try:
        # libsecp256k1 refuses I_L >= n and a zero sum: BIP32's "invalid child" (p < 2^-127)
        return bytes(_library().ec_privkey_add(tweak, secret)), child_code
    except ValueError as error:
        raise BridgeError(Code.CRYPTO_BAD_KEY, f"child {index} is an invalid BIP32 key") from error


def sign_ecdsa(secret: bytes, sighash: bytes) -> bytes:
    """A DER ECDSA signature (no hash-type byte): RFC6979 nonce, low S, ground to low R as Core.

    Core's CKey::Sign: sign with no extra entropy; while R >= 2^255, sign again with the
    counter 1, 2, ... as 32 bytes of little-endian extra entropy. Low R saves a byte and
    makes our signatures equal Core's, so the BIP174/Core signer vectors test us exactly.
    Not verified here: the signer checks every signature before release with the
    independent verifier (another build of the library, its own sighash), which is the
    check Core's CKey::Sign makes in place, done once and stronger.
    """
    _check_message(sighash)
    _check_secret(secret)
    lib = _library()
    signature = lib.ecdsa_sign(sighash, secret)
    counter = 0
    while lib.ecdsa_signature_serialize_compact(signature)[0] >= 0x80:
        counter += 1
        if counter > _MAX_GRIND:
            raise BridgeError(Code.CRYPTO_SIGN_FAILED, "no low-R signature found; nothing signed")
        signature = lib.ecdsa_sign(sighash, secret, None, counter.to_bytes(32, "little"))
    return bytes(lib.ecdsa_signature_serialize_der(signature))


def sign_schnorr(secret: bytes, message: bytes, aux_rand: bytes | None = None) -> bytes:
    """A BIP340 signature of a 32-byte message with aux_rand (fresh random bytes by default)."""
    _check_message(message)
    _check_secret(secret)
    if aux_rand is None:
        aux_rand = os.urandom(32)
    if len(aux_rand) != 32:
        raise BridgeError(Code.CRYPTO_BAD_MESSAGE, "BIP340 aux_rand is 32 bytes")
    lib = _library()
    keypair = lib.keypair_create(secret)
    signature = bytes(lib.schnorrsig_sign(message, keypair, None, aux_rand))
    xonly, _parity = lib.xonly_pubkey_from_pubkey(lib.ec_pubkey_create(secret))
    if not lib.schnorrsig_verify(signature, message, xonly):
        raise BridgeError(Code.CRYPTO_SIGN_FAILED, "a Schnorr signature failed its own check")
    return signature


def taproot_tweak_secret(secret: bytes, merkle_root: bytes | None = None) -> bytes:
    """The BIP341 output private key for an internal key and optional script tree.

    BIP86 key-path-only outputs have no script tree (merkle_root None): the tweak is
    tagged_hash("TapTweak", P). The internal key is negated first when P has odd y,
    since P stands for its even-y point.
    """
    if merkle_root is not None and len(merkle_root) != 32:
        raise BridgeError(Code.CRYPTO_BAD_MESSAGE, "a taproot merkle root is 32 bytes")
    lib = _library()
    internal = public_key(secret)
    if internal[0] == 0x03:
        secret = bytes(lib.ec_privkey_negate(secret))
    tweak = tagged_hash("TapTweak", internal[1:] + (merkle_root or b""))
    if not lib.ec_seckey_verify(tweak):
        # Probability ~2^-128; BIP341 says such an output cannot be spent by key path.
        raise BridgeError(Code.CRYPTO_SIGN_FAILED, "the taproot tweak is not a valid scalar")
    return bytes(lib.ec_privkey_add(secret, tweak))


def sign_taproot_keypath(
    secret: bytes,
    sighash: bytes,
    merkle_root: bytes | None = None,
    aux_rand: bytes | None = None,
) -> bytes:
    """A 64-byte BIP340 signature for a taproot key-path spend of the tweaked internal key.

    The caller appends the hash-type byte when it is not DEFAULT (BIP341).
    """
    return sign_schnorr(taproot_tweak_secret(secret, merkle_root), sighash, aux_rand)
