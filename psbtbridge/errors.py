"""The one exception hierarchy: every failure carries a stable code, a sentence and an exit status.

Codes are never renamed or reused once released; callers (scripts, the hot side reading
the service's stderr) match on them. Each module adds its codes to `CODES` under its own
heading; `tests/test_errors.py` checks that every code raised in the source is listed.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class ExitStatus(IntEnum):
    """Process exit statuses, shared by every command and the qrexec service (DESIGN.md)."""

    OK = 0
    REFUSED = 1  # declined by the user or refused by proof/policy
    USAGE = 2  # bad command line (argparse's own status)
    INVALID_INPUT = 3
    INTERNAL = 4  # keystore, configuration, environment or a bug


class BridgeError(Exception):
    """Base of every error psbtbridge raises on purpose."""

    exit_status: ExitStatus = ExitStatus.INTERNAL

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(BridgeError):
    """The bytes we were given are not a valid PSBT, encoding, frame or file."""

    exit_status = ExitStatus.INVALID_INPUT


class Refused(BridgeError):
    """Valid input that the signer will not sign: a missing proof or a policy violation."""

    exit_status = ExitStatus.REFUSED


class Declined(BridgeError):
    """The user (or a timeout standing in for them) said no."""

    exit_status = ExitStatus.REFUSED


class UsageError(BridgeError):
    """A command line that parses but asks for something impossible."""

    exit_status = ExitStatus.USAGE


class ConfigError(BridgeError):
    """Configuration, keystore or environment problem: refuse to start."""

    exit_status = ExitStatus.INTERNAL


#: Every stable error code, with what it means. Grouped by the module that raises it.
CODES: Final[dict[str, str]] = {
    # cli / generic
    "cli.usage": "the command line asks for something impossible",
    "internal.bug": "an unexpected internal error (a bug): nothing was signed or written",
    "io.read_failed": "an input file could not be read",
    "io.write_failed": "an output file could not be written",
    "io.too_large": "input is larger than the size cap",
    # wire (compact.py, tx.py)
    "wire.truncated": "the input ends in the middle of a field",
    "wire.too_long": "a length prefix claims more than the size cap",
    "wire.noncanonical_size": "a CompactSize is not in its shortest form",
    "wire.trailing_bytes": "bytes follow the end of a structure that must end there",
    "tx.bad_segwit_flag": "a transaction has the segwit marker but not flag 1",
    "tx.empty_witness": "a segwit-serialized transaction carries no witness data",
    # encoding
    "encoding.empty": "input is empty",
    "encoding.unknown": "input is neither binary PSBT, base64 nor hex",
    # qr (psbtbridge/qr/*, psbtbridge/commands/qr.py): air-gap QR codecs and commands
    "qr.bytewords": "a UR body is not valid bytewords",
    "qr.checksum": "a UR frame's bytewords checksum does not match (misread frame)",
    "qr.cbor": "a UR carries malformed or unsupported CBOR",
    "qr.ur_part": "a UR fountain part is not [seqNum, seqLen, messageLen, checksum, data]",
    "qr.ur_syntax": "a frame is not a `ur:TYPE/[N-M/]BODY` string",
    "qr.ur_inconsistent": "UR frames disagree (type, length, size or checksum): two different messages?",
    "qr.ur_type": "the UR is not a PSBT (`crypto-psbt` or `psbt`) or its body is not a byte string",
    "qr.message_checksum": "the reassembled UR message fails its CRC-32",
    "qr.conflict": "the same part was scanned twice with different contents, or parts contradict",
    "qr.too_large": "the scanned or shown data is over the size cap, or too big for QR frames",
    "qr.too_many_parts": "more parts than the cap (or the format) allows",
    "qr.too_many_frames": "too many frames scanned without completing the data",
    "qr.version": "the QR version is out of range or too small for the format",
    "qr.bbqr_header": "a BBQr frame's 8-character header is malformed",
    "qr.bbqr_encoding": "a BBQr frame names an unknown encoding (not H, 2 or Z)",
    "qr.bbqr_type": "a BBQr frame names a file type the BBQr spec does not list",
    "qr.bbqr_inconsistent": "BBQr frames disagree on encoding, file type or part count",
    "qr.bbqr_data": "a BBQr frame's data is not valid hex or base32, or parts are misaligned",
    "qr.deflate": "BBQr Z data is not a complete raw-deflate stream",
    "qr.inflate_too_large": "BBQr Z data inflates past the size cap (refused before inflating it all)",
    "qr.pmofn": "a Specter-style `pMofN` frame is malformed or inconsistent",
    "qr.mixed_formats": "frames of different QR formats (UR, BBQr, pMofN, plain) were mixed",
    "qr.unknown_format": "a frame is neither UR, BBQr, pMofN nor a base64/hex PSBT",
    "qr.unsupported_payload": "the scanned data is not a PSBT or a transaction",
    "qr.incomplete": "the frames scanned do not hold all the data yet",
    "qr.not_text": "a QR code holds binary data, not text",
    "qr.bad_image": "an image file cannot be read as a picture",
    "qr.no_code": "an image holds no QR code",
    "qr.camera": "the camera scanner (zbarcam) cannot be run or failed",
    "qr.no_display": "no X display for the QR window: use --out DIR or --gif FILE",
    "qr.no_format_note": "--like FILE has no readable FILE.qrformat note from `psbt qr scan`",
    # policy (psbtbridge/policy.py, cold/policy_file.py)
    "policy.syntax": "policy.toml is not valid TOML",
    "policy.unknown_key": "policy.toml has a setting or table psbtbridge does not know",
    "policy.bad_type": "a policy.toml setting has the wrong type",
    "policy.bad_value": "a policy.toml setting is out of range or not allowed",
    "policy.sighash_unsupported": "policy.toml allows a sighash type the signer never signs",
    "policy.unreadable": "policy.toml cannot be read, is too large or is not UTF-8",
    # audit (cold/audit.py)
    "audit.broken": "the audit log's hash chain is broken or its last line is cut off",
    "audit.bad_record": "a record to log is invalid (a bug): nothing was logged",
    "audit.unreadable": "the audit log cannot be opened or read",
    "audit.write_failed": "a record could not be appended to the audit log durably",
    # ledger (cold/ledger.py)
    "ledger.corrupt": "ledger.json is damaged; it was left untouched",
    "ledger.unreadable": "ledger.json cannot be read or is too large",
    "ledger.bad_outpoint": "a txid or outpoint given to the ledger is malformed",
    "proof.amount_changed": "an input's amount differs from the amount seen for it earlier",
}
