"""The scanner's front: feed QR frame texts in any order, get one PSBT or transaction back.

The first frame fixes the format (UR, BBQr, pMofN or one plain base64/hex PSBT); frames of
another format, of another message, or contradicting earlier ones are refused. Only PSBTs
and transactions come out: anything else is refused as soon as its first frame says so.
The result is structurally joined, not yet validated: the caller parses it strictly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Final

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.qr import bbqr, legacy, ur
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

    @property
    def reply(self) -> QrFormat:
        """The format to answer in: the same, except legacy formats (never emitted) get UR."""
        return self if self in (QrFormat.UR, QrFormat.BBQR) else QrFormat.UR


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


def detect(untrusted_text: str) -> QrFormat:
    text = untrusted_text.strip()
    if text[:3].lower() == "ur:":
        return QrFormat.UR
    if text[:2].upper() == "B$":
        return QrFormat.BBQR
    if legacy.is_pmofn(text):
        return QrFormat.PMOFN
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
