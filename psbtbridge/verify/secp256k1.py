"""Signature verification with Debian's libsecp256k1 (package libsecp256k1-1), bound here.

The signer signs through embit's binding to the build of the library embit bundles; the
independent check of every new signature goes through this separate binding to Debian's
build. Loading by soname avoids ctypes.util.find_library, which runs ldconfig and was
most of python-bitcointx's ~50 ms import. Only verification lives here: nothing secret.
"""

from __future__ import annotations

import ctypes
from functools import cache

from psbtbridge.errors import BridgeError, Code

SONAME = "libsecp256k1.so.1"
_CONTEXT_VERIFY = 0x0101  # SECP256K1_FLAGS_TYPE_CONTEXT | SECP256K1_FLAGS_BIT_CONTEXT_VERIFY
_BUFFER = ctypes.c_char * 64  # secp256k1_pubkey, _ecdsa_signature, _xonly_pubkey: 64 opaque bytes
#: A parsed secp256k1_ecdsa_signature.
Signature = ctypes.Array[ctypes.c_char]


def _load() -> ctypes.CDLL:
    try:
        return ctypes.CDLL(SONAME)
    except OSError:
        pass
    # Another release's soname (a newer Debian's package has another): the slow search,
    # which runs ldconfig, only then. Every function used here is in all of them.
    from ctypes.util import find_library

    found = find_library("secp256k1")
    try:
        if found is None:
            raise OSError(f"no {SONAME} and no other libsecp256k1 found")
        return ctypes.CDLL(found)
    except OSError as error:
        raise BridgeError(
            Code.VERIFY_NO_LIBRARY, f"cannot load {SONAME} (Debian package libsecp256k1-1)"
        ) from error


class _Library:
    def __init__(self) -> None:
        lib = _load()
        p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
        signatures = {
            "secp256k1_context_create": (p, [ctypes.c_uint]),
            "secp256k1_ec_pubkey_parse": (i, [p, p, p, s]),
            "secp256k1_ecdsa_signature_parse_der": (i, [p, p, p, s]),
            "secp256k1_ecdsa_signature_serialize_der": (i, [p, p, ctypes.POINTER(s), p]),
            "secp256k1_ecdsa_signature_normalize": (i, [p, p, p]),
            "secp256k1_ecdsa_verify": (i, [p, p, p, p]),
            "secp256k1_xonly_pubkey_parse": (i, [p, p, p]),
            "secp256k1_schnorrsig_verify": (i, [p, p, p, s, p]),
        }
        for name, (restype, argtypes) in signatures.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = restype, argtypes
        self.lib = lib
        self.ctx = lib.secp256k1_context_create(_CONTEXT_VERIFY)


@cache
def _library() -> _Library:
    return _Library()


def strict_signature(der_signature: bytes) -> Signature | None:
    """The parsed signature when it is canonical strict DER with a low S (BIP66, and BIP62's
    rule 5 as Core's standardness requires), else None; the sighash byte not included."""
    secp = _library()
    lib, ctx = secp.lib, secp.ctx
    signature = _BUFFER()
    if len(der_signature) > 72 or not lib.secp256k1_ecdsa_signature_parse_der(
        ctx, signature, der_signature, len(der_signature)
    ):
        return None
    # The parser takes some encodings Core's strict-DER rule refuses (and values out of
    # range); one the serializer does not reproduce byte for byte is not canonical.
    length = ctypes.c_size_t(72)
    canonical = ctypes.create_string_buffer(72)
    lib.secp256k1_ecdsa_signature_serialize_der(ctx, canonical, ctypes.byref(length), signature)
    if canonical.raw[: length.value] != der_signature:
        return None
    zero = b"\x02\x01\x00"  # in canonical DER, the only encoding of 0 (R first, S last)
    if der_signature[2:5] == zero or der_signature.endswith(zero):
        return None  # never valid, and Core's low-S rule refuses it
    if lib.secp256k1_ecdsa_signature_normalize(ctx, None, signature):
        return None  # it had a high S
    return signature


def ecdsa_verify(pubkey: bytes, message: bytes, signature: Signature) -> bool:
    """True only for a valid signature (from strict_signature) of the 32-byte message by a
    compressed or uncompressed public key."""
    secp = _library()
    point = _BUFFER()
    if len(message) != 32 or not _is_standard_pubkey(pubkey):
        return False
    if not secp.lib.secp256k1_ec_pubkey_parse(secp.ctx, point, pubkey, len(pubkey)):
        return False
    return bool(secp.lib.secp256k1_ecdsa_verify(secp.ctx, signature, message, point) == 1)


def _is_standard_pubkey(pubkey: bytes) -> bool:
    """Compressed or uncompressed, as Core's standardness wants: the library would also
    take the hybrid form (0x06/0x07)."""
    return (len(pubkey) == 33 and pubkey[0] in (2, 3)) or (len(pubkey) == 65 and pubkey[0] == 4)


def schnorr_verify(xonly_pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """BIP340 verification of a 32-byte message."""
    if len(xonly_pubkey) != 32 or len(message) != 32 or len(signature) != 64:
        return False
    secp = _library()
    lib, ctx = secp.lib, secp.ctx
    point = _BUFFER()
    if not lib.secp256k1_xonly_pubkey_parse(ctx, point, xonly_pubkey):
        return False
    return bool(lib.secp256k1_schnorrsig_verify(ctx, signature, message, 32, point) == 1)
