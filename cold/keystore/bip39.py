"""BIP39 mnemonics: words, checksum and seed (embit's), with the errors that name what is wrong."""

from __future__ import annotations

import unicodedata
from typing import Final

from embit import bip39
from embit.wordlists.bip39 import WORDLIST

from psbtbridge.errors import Code, InvalidInput

_WORDS: Final = frozenset(WORDLIST)


def nfkd(text: str) -> bytes:
    """BIP39 normalises mnemonics and passphrases to NFKD UTF-8; we do the same for ours."""
    return unicodedata.normalize("NFKD", text).encode("utf-8")


# --- BIP39 -------------------------------------------------------------------------------


def entropy_to_mnemonic(entropy: bytes) -> str:
    """BIP39 words for 16..32 bytes of entropy (a multiple of 4)."""
    return str(bip39.mnemonic_from_bytes(entropy))


def normalize_mnemonic(untrusted_text: str) -> str:
    """Validate words and checksum (BIP39, English list); return NFKD, single-spaced, lower case.

    The word count and each word are checked here only to name what is wrong (by position:
    the words are the secret); embit checks the checksum.
    """
    words = unicodedata.normalize("NFKD", untrusted_text).lower().split()
    if len(words) not in (12, 15, 18, 21, 24):
        raise InvalidInput(
            Code.KEYSTORE_BAD_MNEMONIC,
            f"a BIP39 mnemonic has 12, 15, 18, 21 or 24 words, not {len(words)}",
        )
    for position, word in enumerate(words, 1):
        if word not in _WORDS:
            raise InvalidInput(
                Code.KEYSTORE_BAD_MNEMONIC, f"word {position} is not in the BIP39 English wordlist"
            )
    mnemonic = " ".join(words)
    if not bip39.mnemonic_is_valid(mnemonic):
        raise InvalidInput(
            Code.KEYSTORE_BAD_MNEMONIC_CHECKSUM,
            "the mnemonic's checksum is wrong: a word is mistyped or missing",
        )
    return mnemonic


def mnemonic_to_seed(mnemonic: str, bip39_passphrase: str) -> bytes:
    """BIP39's seed; both texts NFKD-normalised first, as BIP39 says (embit does not)."""
    normal = unicodedata.normalize("NFKD", mnemonic)
    return bytes(bip39.mnemonic_to_seed(normal, unicodedata.normalize("NFKD", bip39_passphrase)))
