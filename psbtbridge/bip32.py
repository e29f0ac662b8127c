"""BIP32 types and one step: key origins and paths, and one non-hardened step from a
public key (CKDpub: an HMAC and a point addition).

Ownership proofs derive one address per input and per claimed change output. embit's
HDKey also builds a base58 string for every child it makes, which is most of the time
spent; the proof only needs the key and the chain code.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import NamedTuple

from embit.util import ctypes_secp256k1 as secp

from psbtbridge.checked import Checked
from psbtbridge.errors import BridgeError, Code, InvalidInput

#: BIP32: indexes from 2^31 on are hardened children.
HARDENED = 0x80000000


def format_index(index: int) -> str:
    """One path element as `84h` or `0`."""
    return f"{index - HARDENED}h" if index >= HARDENED else str(index)


class _KeyOriginFields(NamedTuple):
    fingerprint: bytes
    path: tuple[int, ...]


class KeyOrigin(Checked, _KeyOriginFields):
    """Master key fingerprint and BIP32 path: in a PSBT a claim until re-derived; in a
    registered wallet, where its key comes from."""

    __slots__ = ()

    # every construction is checked, `_replace` too (psbtbridge.checked)
    def __new__(cls, fingerprint: bytes, path: tuple[int, ...]) -> KeyOrigin:
        if len(fingerprint) != 4:
            raise InvalidInput(Code.WALLET_BAD_ORIGIN, "a key fingerprint must be 4 bytes")
        # BIP32 serializes depth in one byte
        if len(path) > 255 or (path and not 0 <= min(path) <= max(path) <= 0xFFFFFFFF):
            raise InvalidInput(Code.WALLET_BAD_ORIGIN, "a derivation path is out of range")
        return super().__new__(cls, fingerprint, path)

    @property
    def derivation(self) -> str:
        """The path as `m/84h/1h/0h`."""
        return "/".join(["m", *map(format_index, self.path)])

    def descriptor_form(self) -> str:
        """The origin as written inside a descriptor's brackets: `d34db33f/84h/1h/0h`."""
        return "/".join([self.fingerprint.hex(), *map(format_index, self.path)])

    def child(self, *indexes: int) -> KeyOrigin:
        return KeyOrigin(self.fingerprint, self.path + indexes)


def child_tweak(chain_code: bytes, parent: bytes, index: int) -> tuple[bytes, bytes]:
    """BIP32's I = HMAC-SHA512(c, parent || ser32(i)), split into (IL, IR). `parent` is
    serP(K_par), or 0x00 || ser256(k_par) for a hardened index (CKDpriv only)."""
    if not 0 <= index <= 0xFFFFFFFF:
        raise BridgeError(Code.BIP32_BAD_INDEX, f"index {index} is not a 32-bit child index")
    digest = hmac.digest(chain_code, parent + index.to_bytes(4, "big"), "sha512")
    return digest[:32], digest[32:]


@lru_cache(maxsize=64)
def _parsed(pubkey: bytes) -> bytes:
    """A parent key in the library's form, parsed once: a signing derives its many children
    from a few chain keys, and each parse takes a square root."""
    return bytes(secp.ec_pubkey_parse(pubkey))


def public_child(pubkey: bytes, chain_code: bytes, index: int) -> tuple[bytes, bytes]:
    """(compressed public key, chain code) of child index of an extended public key."""
    if not 0 <= index < HARDENED:
        raise BridgeError(Code.BIP32_BAD_INDEX, f"index {index} is not a non-hardened child index")
    tweak, child_code = child_tweak(chain_code, pubkey, index)
    try:
        # K_i = point(IL) + K_par, as BIP32 writes it: a multiplication of the generator
        # (precomputed tables) and an addition cost 4/5 of the library's general tweak.
        point = secp.ec_pubkey_combine(_parsed(pubkey), secp.ec_pubkey_create(tweak))
    except ValueError as error:
        # BIP32: IL >= n or a point at infinity (probability < 2^-127) makes the index invalid.
        raise BridgeError(Code.BIP32_INVALID_CHILD, f"child {index} is invalid; skip it") from error
    return bytes(secp.ec_pubkey_serialize(point, secp.EC_COMPRESSED)), child_code
