"""The hash functions Bitcoin uses, by their usual names."""

from __future__ import annotations

import hashlib


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash256(data: bytes) -> bytes:
    """Double SHA-256: txids, sighashes (legacy and BIP143), checksums."""
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def ripemd160(data: bytes) -> bytes:
    """RIPEMD-160 from OpenSSL when it has it, else embit's pure-Python one (OpenSSL 3 may hide it)."""
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:
        from embit.hashes import ripemd160 as pure_ripemd160

        return bytes(pure_ripemd160(data))


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: P2PKH, P2SH and P2WPKH programs, BIP32 fingerprints."""
    return ripemd160(hashlib.sha256(data).digest())


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP340 tagged hash: SHA-256(SHA-256(tag) || SHA-256(tag) || data)."""
    tag_digest = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_digest + tag_digest + data).digest()
