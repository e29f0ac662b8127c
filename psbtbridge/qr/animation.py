"""What to show for one PSBT: the frame texts of an animated QR code in UR or BBQr (or Electrum's
one base43 frame), and its version.

Frames are upper case so QR alphanumeric mode carries them (UR is case-insensitive; BBQr is
upper case by design). Files hold a fixed loop: for UR twice as many frames as fragments,
the second half fountain-coded, so a scanner that missed some frames in the first pass
still completes; the window instead keeps producing fresh fountain parts for ever.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from psbtbridge.errors import Code, UsageError
from psbtbridge.qr import base43, bbqr, cbor, ur
from psbtbridge.qr.capacity import MAX_VERSION, Ecc, alphanumeric_capacity
from psbtbridge.qr.joiner import QrFormat

DEFAULT_MAX_VERSION = 20  # ~97x97 modules: still easy for phone and SeedSigner-class cameras
MIN_VERSION = 5  # BBQr's own minimum; smaller UR versions carry almost nothing per frame


@dataclass(frozen=True)
class Animation:
    """A PSBT as QR frames: `frames` is the loop written to files."""

    format: QrFormat
    version: int  # every frame, including endless UR parts, fits this QR version at ECC L
    fragments: int  # UR fragments or BBQr parts: the least number of frames a scanner needs
    frames: tuple[str, ...]
    psbt: bytes

    def stream(self) -> Iterator[str]:
        """Endless frames for a live window: fresh fountain parts for UR, the loop for BBQr."""
        if self.format is QrFormat.UR:
            encoder = _ur_encoder(self.psbt, self.version)
            while True:
                yield encoder.next_part().upper()
        yield from itertools.cycle(self.frames)


def _ur_encoder(psbt: bytes, max_version: int) -> ur.UREncoder:
    message = ur.psbt_to_ur(psbt)
    return ur.UREncoder(message, ur.max_fragment_len(ur.PSBT_TYPE, len(message.cbor), max_version))


def _smallest_version(length: int, max_version: int) -> int:
    for version in range(1, max_version + 1):
        if alphanumeric_capacity(version, Ecc.L) >= length:
            return version
    raise UsageError(
        Code.QR_VERSION, f"a {length}-character frame does not fit QR version {max_version}"
    )


def _longest_ur_part(encoder: ur.UREncoder, message_len: int) -> int:
    """The longest part string the endless stream can produce (10-digit seqNum, 5-byte CBOR)."""
    if encoder.seq_len == 1:
        return len(ur.encode_single(encoder.ur))
    body = 1 + 5 + len(cbor.encode(encoder.seq_len)) + len(cbor.encode(message_len)) + 5
    body += len(cbor.encode(bytes(encoder.fragment_len))) + 4  # byte string and the bytewords CRC
    return len(f"ur:{ur.PSBT_TYPE}/4294967295-{encoder.seq_len}/") + 2 * body


def _base43_frame(psbt: bytes, max_version: int) -> Animation:
    """Electrum's one frame, in the smallest version that holds it: Electrum reads no more."""
    frame = base43.encode(psbt)
    capacity = alphanumeric_capacity(max_version, Ecc.L)
    if len(frame) > capacity:
        raise UsageError(
            Code.QR_BASE43_TOO_LARGE,
            f"a {len(psbt)}-byte PSBT is {len(frame)} base43 characters, and the one QR code"
            f" Electrum reads holds {capacity} at version {max_version}: give Electrum the file"
            " (Tools > Load transaction > From file) or send it over qrexec; a wallet that reads"
            " animated codes takes --format ur or bbqr",
        )
    version = _smallest_version(len(frame), max_version)
    return Animation(QrFormat.BASE43, version, 1, (frame,), psbt)


def plan(psbt: bytes, qr_format: QrFormat, max_version: int = DEFAULT_MAX_VERSION) -> Animation:
    """Frames for a PSBT in UR (`crypto-psbt`), BBQr (type P, Z encoding) or base43 (one)."""
    if not MIN_VERSION <= max_version <= MAX_VERSION:
        raise UsageError(Code.QR_VERSION, f"--max-version must be {MIN_VERSION}..{MAX_VERSION}")
    if qr_format is QrFormat.BASE43:
        return _base43_frame(psbt, max_version)
    if qr_format is QrFormat.BBQR:
        split = bbqr.split(psbt, "P", max_version=max_version)
        return Animation(qr_format, split.version, len(split.parts), split.parts, psbt)
    if qr_format is not QrFormat.UR:
        raise UsageError(Code.CLI_USAGE, f"cannot show {qr_format.value}: only UR, BBQr, base43")
    encoder = _ur_encoder(psbt, max_version)
    count = 1 if encoder.seq_len == 1 else 2 * encoder.seq_len
    frames = tuple(encoder.next_part().upper() for _ in range(count))
    version = _smallest_version(_longest_ur_part(encoder, len(encoder.ur.cbor)), max_version)
    return Animation(qr_format, version, encoder.seq_len, frames, psbt)
