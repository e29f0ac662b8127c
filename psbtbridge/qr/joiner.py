"""The scanner's front: feed QR frame texts in any order, get one PSBT or transaction back.

The first frame fixes the format (UR, BBQr, pMofN, one plain base64/hex PSBT or one
Electrum base43 frame); frames of another format, of another message, or contradicting
earlier ones are refused. Only PSBTs and transactions come out: anything else is refused
as soon as its first frame says so.
The result is structurally joined, not yet validated: the caller parses it strictly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Final

from psbtbridge import encoding
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.qr import base43, bbqr, legacy, ur
from psbtbridge.qr.bbqr import BBQrJoiner
from psbtbridge.qr.legacy import PmofnJoiner
from psbtbridge.qr.ur import URDecoder

MAX_FRAME_LEN: Final = 7089  # the most characters any QR code holds (v40-L, numeric)
SHA256_HEX_LEN: Final = 16


def sha256_prefix(data: bytes) -> str:
    """The check shown on both screens as "sha256": the first 16 hex digits of SHA-256(data).

    Both sides compute it over the exact PSBT (or transaction) bytes, so a person can check
    that what was scanned is what was shown, whatever the QR format in between. Not called
    a digest: that word was the request code's (the 8-hex unsigned txid prefix) elsewhere.
    """
    return hashlib.sha256(data).hexdigest()[:SHA256_HEX_LEN]


class QrFormat(Enum):
    UR = "ur"
    BBQR = "bbqr"
    PMOFN = "pmofn"
    PLAIN = "plain"
    BASE43 = "base43"

    @property
    def reply(self) -> QrFormat:
        """The format to answer in: the same, except legacy formats (never emitted) get UR."""
        return self if self in (QrFormat.UR, QrFormat.BBQR, QrFormat.BASE43) else QrFormat.UR


class PayloadKind(Enum):
    PSBT = "PSBT"
    TRANSACTION = "transaction"


@dataclass(frozen=True)
class Payload:
    kind: PayloadKind
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256_prefix(self.data)


@dataclass(frozen=True)
class Limits:
    """Caps on what a scan may make us hold."""

    max_len: int = 4 * 1024 * 1024  # bytes of PSBT, before and after inflation
    max_seq_len: int = 4096  # UR fragments / pMofN parts (BBQr's own cap is 1295)
    max_frames: int = 100_000  # frames fed in total, duplicates included


_BBQR_KINDS: Final = {"P": PayloadKind.PSBT, "T": PayloadKind.TRANSACTION}
_BBQR_ENCODINGS: Final = frozenset(e.value for e in bbqr.Encoding)
#: The nVersion values (4 bytes, little-endian) a base43 transaction may start with: what
#: Electrum writes (1 and 2) and BIP431's 3. Anything else is not Electrum's export.
_TX_VERSIONS: Final = tuple(v.to_bytes(4, "little") for v in (1, 2, 3))


def detect(untrusted_text: str) -> QrFormat:
    """The format a frame is in, from its first characters (and, for base43, its alphabet).

    Electrum's base43 alphabet holds the upper-case `UR:` and `B$`, and every hex digit, so
    the order matters. A base43 PSBT's first characters are fixed by the PSBT magic and its
    length: every 978-byte PSBT's start `B$5XAH`, so `B$` alone would take it for BBQr, and
    BBQr needs its encoding letter too (H, 2 or Z). With that, UR, BBQr and pMofN (lower-case
    `p`) come first: no base43 PSBT one QR code holds starts like them (tests/test_qr_joiner.py
    tries every length). Then a PSBT in hex (magic `70736274ff`; Electrum's own reader also
    tries hex first) or base64 (`cHNidP`: lower case, never base43); only then base43.
    """
    text = untrusted_text.strip()
    if text[:3].lower() == "ur:":
        return QrFormat.UR
    if text[:2].upper() == "B$" and text[2:3].upper() in _BBQR_ENCODINGS:
        return QrFormat.BBQR
    if legacy.is_pmofn(text):
        return QrFormat.PMOFN
    if encoding.text_encoding(text.encode("ascii", "replace")) is not None:
        return QrFormat.PLAIN
    if base43.is_base43(text):
        return QrFormat.BASE43
    return QrFormat.PLAIN


class Joiner:
    """Collects frames of one PSBT or transaction."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self._limits = limits
        self._frames = 0
        self.format: QrFormat | None = None
        self._ur = URDecoder(limits.max_len, limits.max_seq_len)
        self._bbqr = BBQrJoiner(limits.max_len)
        self._pmofn = PmofnJoiner(limits.max_len, limits.max_seq_len)
        self.result: Payload | None = None
        self.detail = ""  # e.g. "crypto-psbt" or "Z/P": what exactly the frames were

    @property
    def progress(self) -> tuple[int, int]:
        """(parts in hand, parts needed) so far; UR counts independent parts (its rank)."""
        if self.format is QrFormat.UR:
            return self._ur.progress
        if self.format is QrFormat.BBQR:
            return self._bbqr.progress
        if self.format is QrFormat.PMOFN:
            return self._pmofn.progress
        return (1, 1) if self.result is not None else (0, 1)

    def receive(self, untrusted_text: str) -> bool:
        """Take one frame; True if it added information. Raises InvalidInput on bad frames."""
        self._frames += 1
        if self._frames > self._limits.max_frames:
            raise InvalidInput(
                Code.QR_TOO_MANY_FRAMES, f"{self._limits.max_frames} frames without a complete PSBT"
            )
        if len(untrusted_text) > MAX_FRAME_LEN:
            raise InvalidInput(Code.QR_TOO_LARGE, "a frame is longer than any QR code holds")
        kind = detect(untrusted_text)
        if self.format is None:
            self.format = kind
        elif kind is not self.format:
            raise InvalidInput(
                Code.QR_MIXED_FORMATS,
                f"a {kind.value} frame among {self.format.value} frames",
            )
        if self.result is not None:
            return False
        if kind is QrFormat.UR:
            return self._receive_ur(untrusted_text)
        if kind is QrFormat.BBQR:
            return self._receive_bbqr(untrusted_text)
        if kind is QrFormat.PMOFN:
            new = self._pmofn.receive(untrusted_text)
            if self._pmofn.text is not None:
                self.result = Payload(PayloadKind.PSBT, legacy.psbt_from_text(self._pmofn.text))
            return new
        if kind is QrFormat.BASE43:
            self.result = _base43_payload(untrusted_text.strip())
            return True
        self.result = Payload(PayloadKind.PSBT, legacy.psbt_from_text(untrusted_text))
        return True

    def _receive_ur(self, untrusted_text: str) -> bool:
        new = self._ur.receive(untrusted_text)
        self.detail = self._ur.ur_type or ""
        if self.detail not in ur.PSBT_TYPES:
            raise InvalidInput(
                Code.QR_UR_TYPE, f"UR: `{self.detail}` is not `crypto-psbt` or `psbt`"
            )
        if self._ur.ur is not None:
            self.result = Payload(PayloadKind.PSBT, ur.psbt_from_ur(self._ur.ur))
        return new

    def _receive_bbqr(self, untrusted_text: str) -> bool:
        header = bbqr.parse_header(untrusted_text.strip())
        if header.file_type not in _BBQR_KINDS:
            raise InvalidInput(
                Code.QR_UNSUPPORTED_PAYLOAD,
                f"BBQr file type {header.file_type} ({bbqr.FILE_TYPES[header.file_type]})"
                " is not a PSBT or a transaction",
            )
        new = self._bbqr.receive(untrusted_text)
        self.detail = f"{header.encoding.value}{header.file_type}"
        file = self._bbqr.result
        if file is not None:
            self.result = Payload(_BBQR_KINDS[file.file_type], file.data)
        return new


def _base43_payload(untrusted_text: str) -> Payload:
    """One Electrum frame: a PSBT (its magic) or a signed transaction (its version)."""
    data = base43.decode(untrusted_text)
    if data.startswith(encoding.PSBT_MAGIC):
        return Payload(PayloadKind.PSBT, data)
    if data[:4] in _TX_VERSIONS:
        return Payload(PayloadKind.TRANSACTION, data)
    raise InvalidInput(
        Code.QR_UNSUPPORTED_PAYLOAD,
        "a base43 frame (Electrum's QR) that holds neither a PSBT nor a transaction",
    )
