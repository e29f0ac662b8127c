"""Electrum's own seed phrases (2.0 and later): their type, their BIP32 seed and the key they imply.

Electrum seeds carry no checksum in the words: the version is the prefix of
HMAC-SHA512(key "Seed version", normalized phrase), and the BIP32 seed is
PBKDF2-HMAC-SHA512(normalized phrase, "electrum" + normalized extension, 2048 rounds)
(Electrum's mnemonic.py, version.py, keystore.from_seed). Electrum's words are the BIP39
English list, so one phrase in 16 x 256 of the 12-word ones reads as both: such a phrase
is refused in "auto" mode rather than guessed, since the two readings are different coins.
"""

from __future__ import annotations

import hashlib
import hmac
import string
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from embit import bip39

from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import Code, InvalidInput, Refused, UsageError
from psbtbridge.script import ScriptType

#: Electrum's version.py: the hex prefixes of HMAC-SHA512("Seed version", phrase).
PREFIX_STANDARD: Final = "01"
PREFIX_SEGWIT: Final = "100"
PREFIX_2FA: Final = "101"
PREFIX_2FA_SEGWIT: Final = "102"
PBKDF2_ROUNDS: Final = 2048

#: Unicode blocks Electrum's mnemonic.py treats as CJK: spaces between two of them vanish.
_CJK_RANGES: Final = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1D),
    (0x3190, 0x319F),
    (0x2E80, 0x2EFF),
    (0x2F00, 0x2FDF),
    (0x31C0, 0x31EF),
    (0x2FF0, 0x2FFF),
    (0xE0100, 0xE01EF),
    (0x3100, 0x312F),
    (0x31A0, 0x31BF),
    (0xFF00, 0xFFEF),
    (0x3040, 0x309F),
    (0x30A0, 0x30FF),
    (0x31F0, 0x31FF),
    (0x1B000, 0x1B0FF),
    (0xAC00, 0xD7AF),
    (0x1100, 0x11FF),
    (0xA960, 0xA97F),
    (0xD7B0, 0xD7FF),
    (0x3130, 0x318F),
    (0xFFA0, 0xFFDC),
)


class SeedFormat(Enum):
    """How `psbt keys init --seed-type` reads a phrase."""

    AUTO = "auto"
    BIP39 = "bip39"
    ELECTRUM = "electrum"


class ElectrumSeedType(Enum):
    STANDARD = "standard"
    SEGWIT = "segwit"


@dataclass(frozen=True)
class ElectrumSeed:
    """An Electrum seed's BIP32 seed and the one account key Electrum derives from it."""

    seed_type: ElectrumSeedType
    seed_bytes: bytes = field(repr=False)
    script_type: ScriptType
    derivation: tuple[int, ...]


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def normalize_text(text: str) -> str:
    """Electrum's normalize_text: NFKD, lower case, accents dropped, whitespace collapsed,
    and no space between two CJK characters (the same phrase typed either way)."""
    text = unicodedata.normalize("NFKD", text).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = " ".join(text.split())
    return "".join(
        c
        for i, c in enumerate(text)
        if not (
            c in string.whitespace
            and 0 < i < len(text) - 1
            and _is_cjk(text[i - 1])
            and _is_cjk(text[i + 1])
        )
    )


def version_hex(phrase: str) -> str:
    """Hex of HMAC-SHA512(key "Seed version", normalized phrase): its prefix is the type."""
    return hmac.digest(b"Seed version", normalize_text(phrase).encode("utf-8"), "sha512").hex()


def electrum_seed_type(phrase: str) -> str | None:
    """'standard', 'segwit', '2fa', '2fa_segwit', 'old' or None, as Electrum would read it.

    'old' (pre-2.0) is recognised only in its hex form here: the old word list is not
    shipped, so old word seeds come back None and are refused as unrecognised.
    """
    normalized = normalize_text(phrase)
    if _is_old_hex_seed(normalized):
        return "old"
    version = version_hex(normalized)
    if version.startswith(PREFIX_STANDARD):
        return "standard"
    if version.startswith(PREFIX_SEGWIT):
        return "segwit"
    if version.startswith(PREFIX_2FA):
        return "2fa"
    if version.startswith(PREFIX_2FA_SEGWIT):
        return "2fa_segwit"
    return None


def _is_old_hex_seed(normalized: str) -> bool:
    """Electrum 1.x also accepted the seed as 32 or 64 hex digits (old_mnemonic's input)."""
    return len(normalized) in (32, 64) and all(c in string.hexdigits for c in normalized)


def seed_bytes(phrase: str, extension: str) -> bytes:
    """PBKDF2-HMAC-SHA512(phrase, "electrum" + extension, 2048), both normalized as Electrum does."""
    return hashlib.pbkdf2_hmac(
        "sha512",
        normalize_text(phrase).encode("utf-8"),
        b"electrum" + normalize_text(extension).encode("utf-8"),
        PBKDF2_ROUNDS,
    )


def electrum_seed(untrusted_phrase: str, extension: str, *, multisig: bool = False) -> ElectrumSeed:
    """The seed and account key of an Electrum phrase; 2FA, old and unknown phrases refused.

    keystore.from_seed: a standard seed signs p2pkh at m/ (p2sh multisig at m/ too), a
    segwit seed p2wpkh at m/0h (p2wsh multisig at m/1h).
    """
    kind = electrum_seed_type(untrusted_phrase)
    if kind in ("2fa", "2fa_segwit"):
        raise Refused(
            Code.KEYS_ELECTRUM_2FA_SEED,
            "this is an Electrum 2FA (TrustedCoin) seed: its wallet is a 2-of-3 with"
            " TrustedCoin's key, which psbtbridge does not sign for",
        )
    if kind == "old":
        raise Refused(
            Code.KEYS_ELECTRUM_OLD_SEED,
            "this is a pre-2.0 Electrum seed, which psbtbridge does not support: move the"
            " coins to a new seed",
        )
    if kind is None:
        raise InvalidInput(
            Code.KEYS_NOT_ELECTRUM_SEED,
            "the phrase is not an Electrum 2.0+ seed (its version hash matches no seed type;"
            " pre-2.0 'old' Electrum word seeds are not supported)",
        )
    seed_type = ElectrumSeedType(kind)
    data = seed_bytes(untrusted_phrase, extension)
    if seed_type is ElectrumSeedType.STANDARD:
        return ElectrumSeed(seed_type, data, ScriptType.P2SH if multisig else ScriptType.P2PKH, ())
    if multisig:
        return ElectrumSeed(seed_type, data, ScriptType.P2WSH, (1 + HARDENED,))
    return ElectrumSeed(seed_type, data, ScriptType.P2WPKH, (0 + HARDENED,))


def is_bip39(phrase: str) -> bool:
    """Valid BIP39 English words with a correct checksum (embit's check, NFKD lower case)."""
    words = unicodedata.normalize("NFKD", phrase).lower().split()
    if len(words) not in (12, 15, 18, 21, 24):
        return False
    try:
        return bool(bip39.mnemonic_is_valid(" ".join(words)))
    except (ValueError, KeyError, IndexError):
        return False


def detect_format(untrusted_phrase: str, requested: SeedFormat) -> SeedFormat:
    """BIP39 or Electrum: what the user asked, or in AUTO what the phrase can only be."""
    if requested is not SeedFormat.AUTO:
        return requested
    bip39_ok = is_bip39(untrusted_phrase)
    electrum_kind = electrum_seed_type(untrusted_phrase)
    if bip39_ok and electrum_kind is not None:
        raise UsageError(
            Code.KEYS_AMBIGUOUS_SEED,
            f"the phrase is valid both as a BIP39 mnemonic and as an Electrum {electrum_kind}"
            " seed: say which with --seed-type bip39 or --seed-type electrum",
        )
    if electrum_kind is not None:
        return SeedFormat.ELECTRUM
    # neither: the BIP39 reader names the wrong word or checksum
    return SeedFormat.BIP39
