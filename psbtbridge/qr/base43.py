"""Electrum's base43: the one QR frame Electrum shows a PSBT or a signed transaction as, and reads.

Electrum (`bitcoin.py` base_encode/base_decode with base=43) writes the bytes as one
big-endian number in the 43 characters below, every one in the QR alphanumeric set, so a
frame is one alphanumeric QR code; each leading zero byte is a leading '0', as in base58.
What goes in (`transaction.py` to_qr_data, 4.3 and 4.5 alike): an incomplete transaction as
PSBT bytes with every previous transaction cut down to the output it spends (a witness UTXO,
to make the code smaller), a complete one as the raw network transaction. There is no
checksum: the strict parser and the sha256 both screens show are the checks.
"""

from __future__ import annotations

import re
from typing import Final

from psbtbridge.errors import Code, InvalidInput

ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-./:"
_BASE: Final = len(ALPHABET)
_VALUES: Final = {char: value for value, char in enumerate(ALPHABET)}
_TEXT_RE: Final = re.compile(r"[0-9A-Z$*+\-./:]+", re.ASCII)


def is_base43(untrusted_text: str) -> bool:
    """Whether every character is in Electrum's alphabet (upper case only: no base64, no `ur:`)."""
    return _TEXT_RE.fullmatch(untrusted_text) is not None


def encode(data: bytes) -> str:
    """The text Electrum's base_encode(data, base=43) gives, which its base_decode reads back."""
    body = data.lstrip(b"\x00")
    number = int.from_bytes(body, "big")
    digits = []
    while number:
        number, digit = divmod(number, _BASE)
        digits.append(ALPHABET[digit])
    return ALPHABET[0] * (len(data) - len(body)) + "".join(reversed(digits))


def decode(untrusted_text: str) -> bytes:
    """The bytes of a base43 text. Quadratic in its length: the caller bounds it (one QR frame)."""
    if not is_base43(untrusted_text):
        raise InvalidInput(Code.QR_BASE43, "frame is not Electrum's base43 (0-9 A-Z $*+-./:)")
    body = untrusted_text.lstrip(ALPHABET[0])
    number = 0
    for char in body:
        number = number * _BASE + _VALUES[char]
    # The number's own bytes never start with a zero byte, so leading '0's are the only
    # zero bytes in front: encode(decode(text)) == text for every text, no second spelling.
    return bytes(len(untrusted_text) - len(body)) + number.to_bytes(
        (number.bit_length() + 7) // 8, "big"
    )
