"""Wire encodings of keys and signatures: SEC and x-only public keys, extended public keys, DER and BIP340 signatures.

Each check takes untrusted bytes and either returns them unchanged (now known to be well
formed) or raises InvalidInput naming the place. Points are checked on the curve with
libsecp256k1 (through embit), so a "public key" that is not a point never reaches a signer.
"""

from __future__ import annotations

from functools import lru_cache

from embit.util import secp256k1

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.sighash import SighashType

#: Order of the secp256k1 group: ECDSA r and s must lie in [1, N-1].
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

#: BIP32 version bytes of extended public keys (mainnet xpub, testnet tpub).
XPUB_VERSIONS = frozenset({bytes.fromhex("0488b21e"), bytes.fromhex("043587cf")})
XPUB_SIZE = 78

#: Sighash types a signature may carry as its last byte: ALL, NONE, SINGLE, each with or
#: without ANYONECANPAY. Taproot's SIGHASH_DEFAULT (0x00) is only ever implicit (64 bytes).
SIGNATURE_HASH_TYPES = frozenset(t for t in SighashType if t is not SighashType.DEFAULT)


# A signer checks each of its keys twice: when the PSBT is parsed, and when it adds that
# key's partial signature. Each parse takes a square root.
@lru_cache(maxsize=4096)
def _on_curve(sec: bytes) -> bool:
    try:
        secp256k1.ec_pubkey_parse(sec)
    except ValueError:
        return False
    return True


def check_pubkey(untrusted_key: bytes, where: str) -> bytes:
    """A compressed (33-byte) or uncompressed (65-byte, 0x04) SEC key that is a curve point."""
    size = len(untrusted_key)
    well_formed = (size == 33 and untrusted_key[0] in (2, 3)) or (
        size == 65 and untrusted_key[0] == 4
    )
    if not well_formed or not _on_curve(untrusted_key):
        raise InvalidInput(Code.PSBT_BAD_PUBKEY, f"{where}: not a valid public key ({size} bytes)")
    return untrusted_key


def check_compressed_pubkey(untrusted_key: bytes, where: str) -> bytes:
    """A 33-byte compressed SEC key that is a curve point (BIP373 keys must be compressed)."""
    if len(untrusted_key) != 33:
        raise InvalidInput(
            Code.PSBT_BAD_PUBKEY,
            f"{where}: a compressed public key is 33 bytes, not {len(untrusted_key)}",
        )
    return check_pubkey(untrusted_key, where)


def check_xonly_pubkey(untrusted_key: bytes, where: str) -> bytes:
    """A 32-byte BIP340 x-only key whose x coordinate is on the curve."""
    if len(untrusted_key) != 32 or not _on_curve(b"\x02" + untrusted_key):
        raise InvalidInput(
            Code.PSBT_BAD_PUBKEY,
            f"{where}: not a valid 32-byte x-only public key ({len(untrusted_key)} bytes)",
        )
    return untrusted_key


def check_xpub(untrusted_xpub: bytes, where: str) -> bytes:
    """A 78-byte BIP32 extended public key: known version, consistent depth, valid point."""
    if len(untrusted_xpub) != XPUB_SIZE:
        raise InvalidInput(
            Code.PSBT_BAD_XPUB,
            f"{where}: an extended public key is 78 bytes, not {len(untrusted_xpub)}",
        )
    version, depth = untrusted_xpub[:4], untrusted_xpub[4]
    parent, child = untrusted_xpub[5:9], untrusted_xpub[9:13]
    if version not in XPUB_VERSIONS:
        raise InvalidInput(
            Code.PSBT_BAD_XPUB, f"{where}: version bytes {version.hex()} are not xpub or tpub"
        )
    # BIP32: a master key (depth 0) has no parent fingerprint and child number 0.
    if depth == 0 and (parent != bytes(4) or child != bytes(4)):
        raise InvalidInput(
            Code.PSBT_BAD_XPUB, f"{where}: depth 0 with a parent fingerprint or child number"
        )
    if untrusted_xpub[45] not in (2, 3) or not _on_curve(untrusted_xpub[45:]):
        raise InvalidInput(Code.PSBT_BAD_XPUB, f"{where}: the key is not a valid public key")
    return untrusted_xpub


def _der_integer_ok(body: bytes) -> bool:
    """BIP66: non-empty, non-negative, no needless leading zero; and here also 1 <= value < N."""
    if not body or body[0] & 0x80:
        return False
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        return False
    return 0 < int.from_bytes(body, "big") < CURVE_ORDER


def check_ecdsa_signature(untrusted_sig: bytes, where: str) -> bytes:
    """A strict-DER ECDSA signature (BIP66) followed by one defined sighash-type byte."""
    sig = untrusted_sig
    ok = 9 <= len(sig) <= 73 and sig[0] == 0x30 and sig[1] == len(sig) - 3 and sig[2] == 0x02
    if ok:
        len_r = sig[3]
        ok = 5 + len_r < len(sig) and sig[4 + len_r] == 0x02
        if ok:
            len_s = sig[5 + len_r]
            ok = (
                len_r + len_s + 7 == len(sig)
                and _der_integer_ok(sig[4 : 4 + len_r])
                and _der_integer_ok(sig[6 + len_r : 6 + len_r + len_s])
            )
    if not ok:
        raise InvalidInput(
            Code.PSBT_BAD_SIGNATURE, f"{where}: not a strict DER signature plus sighash byte"
        )
    if sig[-1] not in SIGNATURE_HASH_TYPES:
        raise InvalidInput(
            Code.PSBT_BAD_SIGNATURE, f"{where}: undefined sighash type 0x{sig[-1]:02x}"
        )
    return sig


def check_schnorr_signature(untrusted_sig: bytes, where: str) -> bytes:
    """BIP341: 64 bytes (SIGHASH_DEFAULT) or 65 with an explicit, defined, non-zero sighash byte."""
    if len(untrusted_sig) not in (64, 65):
        raise InvalidInput(
            Code.PSBT_BAD_SIGNATURE,
            f"{where}: a Schnorr signature is 64 or 65 bytes, not {len(untrusted_sig)}",
        )
    if len(untrusted_sig) == 65 and untrusted_sig[64] not in SIGNATURE_HASH_TYPES:
        raise InvalidInput(
            Code.PSBT_BAD_SIGNATURE,
            f"{where}: invalid explicit sighash type 0x{untrusted_sig[64]:02x}",
        )
    return untrusted_sig
