"""Bytewords (BCR-2020-012): bytes as four-letter words, with a CRC-32 so a misread is caught.

UR uses the minimal style (first and last letter of each word); standard (spaces) and uri
(hyphens) are here for completeness and for the spec's vectors. The checksum is zlib's
CRC-32 (IEEE 802.3), appended big-endian.
"""

from __future__ import annotations

import zlib
from enum import Enum
from typing import Final

from psbtbridge.errors import Code, InvalidInput

_WORD_TEXT: Final = (
    "able acid also apex aqua arch atom aunt away axis back bald barn belt beta bias blue "
    "body brag brew bulb buzz calm cash cats chef city claw code cola cook cost crux curl "
    "cusp cyan dark data days deli dice diet door down draw drop drum dull duty each easy "
    "echo edge epic even exam exit eyes fact fair fern figs film fish fizz flap flew flux "
    "foxy free frog fuel fund gala game gear gems gift girl glow good gray grim guru gush "
    "gyro half hang hard hawk heat help high hill holy hope horn huts iced idea idle inch "
    "inky into iris iron item jade jazz join jolt jowl judo jugs jump junk jury keep keno "
    "kept keys kick kiln king kite kiwi knob lamb lava lazy leaf legs liar limp lion list "
    "logo loud love luau luck lung main many math maze memo menu meow mild mint miss monk "
    "nail navy need news next noon note numb obey oboe omit onyx open oval owls paid part "
    "peck play plus poem pool pose puff puma purr quad quiz race ramp real redo rich road "
    "rock roof ruby ruin runs rust safe saga scar sets silk skew slot soap solo song stub "
    "surf swan taco task taxi tent tied time tiny toil tomb toys trip tuna twin ugly undo "
    "unit urge user vast very veto vial vibe view visa void vows wall wand warm wasp wave "
    "waxy webs what when whiz wolf work yank yawn yell yoga yurt zaps zero zest zinc zone "
    "zoom"
)
WORDS: Final[tuple[str, ...]] = tuple(_WORD_TEXT.split())
_BY_WORD: Final[dict[str, int]] = {word: i for i, word in enumerate(WORDS)}
_BY_MINIMAL: Final[dict[str, int]] = {word[0] + word[3]: i for i, word in enumerate(WORDS)}
_CHECKSUM_LEN = 4


class Style(Enum):
    STANDARD = " "
    URI = "-"
    MINIMAL = ""


def encode(data: bytes, style: Style = Style.MINIMAL) -> str:
    """Encode data plus its CRC-32 as bytewords."""
    payload = data + zlib.crc32(data).to_bytes(_CHECKSUM_LEN, "big")
    if style is Style.MINIMAL:
        return "".join(WORDS[b][0] + WORDS[b][3] for b in payload)
    separator: str = style.value
    return separator.join(WORDS[b] for b in payload)


def decode(untrusted_text: str, style: Style = Style.MINIMAL) -> bytes:
    """Decode bytewords (case-insensitive), verify and strip the CRC-32."""
    text = untrusted_text.lower()
    if style is Style.MINIMAL:
        if len(text) % 2:
            raise InvalidInput(Code.QR_BYTEWORDS, "bytewords: odd number of letters")
        words = [text[i : i + 2] for i in range(0, len(text), 2)]
        table = _BY_MINIMAL
    else:
        separator: str = style.value
        words = text.split(separator) if text else []
        table = _BY_WORD
    try:
        payload = bytes(table[word] for word in words)
    except KeyError as error:
        raise InvalidInput(
            Code.QR_BYTEWORDS, f"bytewords: {str(error.args[0])[:8]!r} is not a byteword"
        ) from error
    if len(payload) <= _CHECKSUM_LEN:
        raise InvalidInput(Code.QR_BYTEWORDS, "bytewords: too short to hold data and a checksum")
    data, checksum = payload[:-_CHECKSUM_LEN], payload[-_CHECKSUM_LEN:]
    if zlib.crc32(data).to_bytes(_CHECKSUM_LEN, "big") != checksum:
        raise InvalidInput(Code.QR_CHECKSUM, "bytewords: checksum mismatch (misread frame?)")
    return data
