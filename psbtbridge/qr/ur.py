"""Uniform Resources (BCR-2020-005/006): `ur:TYPE/[SEQ/]BYTEWORDS` strings and the PSBT types.

A UR carries one CBOR item. Multi-part URs wrap fountain parts (see fountain.py). For PSBTs
the item is a CBOR byte string holding the PSBT: type `crypto-psbt` (CBOR tag 310, what
Sparrow, Keystone, Jade, Passport, SeedSigner and Krux exchange) or its v2 name `psbt`
(tag 40310). We emit `crypto-psbt` and accept both; text is case-insensitive because QR
alphanumeric mode only carries upper case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from psbtbridge.errors import Code, InvalidInput, UsageError
from psbtbridge.qr import bytewords, cbor
from psbtbridge.qr.capacity import Ecc, alphanumeric_capacity
from psbtbridge.qr.fountain import FountainDecoder, FountainEncoder, Part

PSBT_TYPE: Final = "crypto-psbt"
PSBT_TYPES: Final = {"crypto-psbt": 310, "psbt": 40310}  # type -> its CBOR tag
_TYPE_RE = re.compile(r"[a-z0-9-]{1,64}")
_SEQ_RE = re.compile(r"([1-9][0-9]{0,9})-([1-9][0-9]{0,9})")
_CHECKSUM_LEN = 4


@dataclass(frozen=True)
class UR:
    """A decoded UR: its type and its CBOR body."""

    ur_type: str
    cbor: bytes


@dataclass(frozen=True)
class Frame:
    """One parsed UR string: a whole UR, or one fountain part of one."""

    ur_type: str
    body: Part | bytes  # a fountain part, or the whole CBOR of a single-part UR


def encode_single(ur: UR) -> str:
    return f"ur:{ur.ur_type}/{bytewords.encode(ur.cbor)}"


def encode_part(ur_type: str, part: Part) -> str:
    return f"ur:{ur_type}/{part.seq_num}-{part.seq_len}/{bytewords.encode(part.to_cbor())}"


def parse(untrusted_text: str) -> Frame:
    """Parse one UR string (any case); the bytewords checksum is verified here."""
    text = untrusted_text.strip().lower()
    if not text.startswith("ur:"):
        raise InvalidInput(Code.QR_UR_SYNTAX, "UR: does not start with `ur:`")
    components = text[3:].split("/")
    ur_type = components[0]
    if not _TYPE_RE.fullmatch(ur_type):
        raise InvalidInput(Code.QR_UR_SYNTAX, "UR: the type is not lower-case letters, digits, `-`")
    if len(components) == 2:
        return Frame(ur_type, bytewords.decode(components[1]))
    if len(components) != 3:
        raise InvalidInput(Code.QR_UR_SYNTAX, "UR: expected `ur:TYPE/BODY` or `ur:TYPE/N-M/BODY`")
    seq = _SEQ_RE.fullmatch(components[1])
    if seq is None:
        raise InvalidInput(Code.QR_UR_SYNTAX, "UR: the sequence is not `N-M`")
    part = Part.from_cbor(bytewords.decode(components[2]))
    if (part.seq_num, part.seq_len) != (int(seq[1]), int(seq[2])):
        raise InvalidInput(
            Code.QR_UR_INCONSISTENT, f"UR: header says {seq[0]} but the part holds another number"
        )
    return Frame(ur_type, part)


class UREncoder:
    """Frames for one UR: a single-part string if it fits, else an endless part stream."""

    def __init__(self, ur: UR, max_fragment_len: int) -> None:
        self.ur = ur
        self._fountain = FountainEncoder(ur.cbor, max_fragment_len)

    @property
    def seq_len(self) -> int:
        return self._fountain.seq_len

    @property
    def fragment_len(self) -> int:
        return self._fountain.fragment_len

    def next_part(self) -> str:
        if self.seq_len == 1:
            return encode_single(self.ur)
        return encode_part(self.ur.ur_type, self._fountain.next_part())


def max_fragment_len(ur_type: str, message_len: int, version: int) -> int:
    """Largest fragment whose part string, upper-cased, fits an alphanumeric QR at ECC L.

    Sized for the longest possible header (a 10-digit seqNum), so every part of an endless
    stream fits the same version.
    """
    uint_len = len(cbor.encode(message_len))
    prefix = len(f"ur:{ur_type}/") + len("4294967295-") + len(str(message_len)) + 1
    # array head, seqNum, seqLen, messageLen, checksum, byte-string head (<= 3 bytes)
    cbor_overhead = 1 + 5 + uint_len + uint_len + 5 + 3
    budget = (alphanumeric_capacity(version, Ecc.L) - prefix) // 2 - _CHECKSUM_LEN
    fragment = budget - cbor_overhead
    if fragment < 10:
        raise UsageError(Code.QR_VERSION, f"QR version {version} is too small for UR parts")
    return fragment


class URDecoder:
    """Feeds UR strings in any order; `ur` is set once the message is whole."""

    def __init__(self, max_message_len: int, max_seq_len: int) -> None:
        self._fountain = FountainDecoder(max_message_len, max_seq_len)
        self._max_message_len = max_message_len
        self.ur_type: str | None = None
        self.ur: UR | None = None

    @property
    def progress(self) -> tuple[int, int]:
        if self.ur is not None:
            needed = max(1, self._fountain.progress[1])
            return needed, needed
        return self._fountain.progress

    def receive(self, untrusted_text: str) -> bool:
        """Take one UR string; True if it added information."""
        frame = parse(untrusted_text)
        if self.ur_type is None:
            self.ur_type = frame.ur_type
        elif frame.ur_type != self.ur_type:
            raise InvalidInput(
                Code.QR_UR_INCONSISTENT,
                f"UR: a `{frame.ur_type}` part among `{self.ur_type}` parts",
            )
        if isinstance(frame.body, bytes):
            whole = UR(frame.ur_type, frame.body)
            if self.ur == whole:
                return False
            if self.ur is not None or self._fountain.progress != (0, 0):
                raise InvalidInput(
                    Code.QR_UR_INCONSISTENT, "UR: a single-part UR among other parts"
                )
            if len(frame.body) > self._max_message_len:
                raise InvalidInput(Code.QR_TOO_LARGE, "UR: message is over the size cap")
            self.ur = whole
            return True
        if self.ur is not None and self._fountain.message is None:
            raise InvalidInput(Code.QR_UR_INCONSISTENT, "UR: a part after a single-part UR")
        new = self._fountain.receive(frame.body)
        if self._fountain.message is not None and self.ur is None:
            self.ur = UR(frame.ur_type, self._fountain.message)
        return new


def psbt_to_ur(psbt: bytes) -> UR:
    """The `crypto-psbt` UR: the PSBT as a CBOR byte string (the tag is implied by the type)."""
    return UR(PSBT_TYPE, cbor.encode(psbt))


def psbt_from_ur(ur: UR) -> bytes:
    """The PSBT bytes in a `crypto-psbt` or `psbt` UR (an explicit matching tag is tolerated)."""
    if ur.ur_type not in PSBT_TYPES:
        raise InvalidInput(Code.QR_UR_TYPE, f"UR: type `{ur.ur_type}` is not a PSBT")
    item = cbor.decode(ur.cbor)
    if isinstance(item, cbor.Tagged) and item.tag == PSBT_TYPES[ur.ur_type]:
        item = item.value
    if not isinstance(item, bytes):
        raise InvalidInput(Code.QR_UR_TYPE, f"UR: `{ur.ur_type}` body is not a CBOR byte string")
    return item
