"""One non-hardened BIP32 step from a public key (CKDpub): an HMAC and a point addition.

Ownership proofs derive one address per input and per claimed change output. embit's
HDKey also builds a base58 string for every child it makes, which is most of the time
spent; the proof only needs the key and the chain code.
"""

from __future__ import annotations

import hmac

from embit.util import ctypes_secp256k1 as secp

from psbtbridge.errors import BridgeError
from psbtbridge.psbt_fields import HARDENED


def child_tweak(chain_code: bytes, pubkey: bytes, index: int) -> tuple[bytes, bytes]:
    """BIP32's I = HMAC-SHA512(c, serP(K) || ser32(i)), split into (IL, IR) for index < 2^31."""
    if not 0 <= index < HARDENED:
        raise BridgeError("bip32.bad_index", f"index {index} is not a non-hardened child index")
    digest = hmac.digest(chain_code, pubkey + index.to_bytes(4, "big"), "sha512")
    return digest[:32], digest[32:]


def public_child(pubkey: bytes, chain_code: bytes, index: int) -> tuple[bytes, bytes]:
    """(compressed public key, chain code) of child index of an extended public key."""
    tweak, child_code = child_tweak(chain_code, pubkey, index)
    try:
        point = secp.ec_pubkey_add(secp.ec_pubkey_parse(pubkey), tweak)
    except ValueError as error:
        # BIP32: IL >= n or a point at infinity (probability < 2^-127) makes the index invalid.
        raise BridgeError("bip32.invalid_child", f"child {index} is invalid; skip it") from error
    return bytes(secp.ec_pubkey_serialize(point, secp.EC_COMPRESSED)), child_code
