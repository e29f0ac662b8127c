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
    # psbt (psbtbridge/psbt.py, keymap.py, psbt_fields.py, keyencoding.py, taproot.py)
    "psbt.too_large": "the PSBT is larger than the size cap (checked before parsing)",
    "psbt.bad_magic": "the data does not start with the PSBT magic psbt\\xff",
    "psbt.duplicate_key": "a key appears twice in one map",
    "psbt.bad_key_type": "a key's CompactSize type is truncated or not canonical",
    "psbt.unexpected_key_data": "a field whose key must be its type alone carries key data",
    "psbt.bad_key_data": "a field's key data has the wrong length",
    "psbt.bad_value_length": "a field's value has the wrong length",
    "psbt.bad_value": "a field's value does not decode exactly (short, trailing bytes, not UTF-8)",
    "psbt.bad_pubkey": "a public key has the wrong length or is not a point on the curve",
    "psbt.bad_xpub": "a PSBT_GLOBAL_XPUB key is not a 78-byte BIP32 xpub/tpub with a valid key",
    "psbt.bad_key_origin": "a BIP32 derivation value is not a fingerprint plus 32-bit path elements",
    "psbt.bad_signature": "an ECDSA signature is not strict DER plus a defined sighash byte, or a Schnorr signature is not 64/65 bytes with a valid sighash byte",
    "psbt.bad_control_block": "a taproot control block is not 33 + 32·m bytes (m <= 128)",
    "psbt.bad_leaf_version": "a taproot leaf version is odd, is 0x50, or disagrees with its control block",
    "psbt.bad_tap_tree": "PSBT_OUT_TAP_TREE is empty, too deep, malformed or not one complete tree",
    "psbt.bad_preimage": "a hash preimage field's value does not hash to its key",
    "psbt.bad_proprietary_key": "a proprietary key lacks its identifier or subtype",
    "psbt.bad_locktime": "a required time locktime is below 500000000, or a height one is 0 or >= 500000000",
    "psbt.unsupported_version": "PSBT_GLOBAL_VERSION is neither 0 nor 2",
    "psbt.v2_field_in_v0": "a version 0 PSBT contains a field BIP370 reserves for version 2",
    "psbt.unsigned_tx_in_v2": "a version 2 PSBT contains PSBT_GLOBAL_UNSIGNED_TX",
    "psbt.missing_unsigned_tx": "a version 0 PSBT lacks PSBT_GLOBAL_UNSIGNED_TX",
    "psbt.missing_field": "a version 2 PSBT lacks a field BIP370 requires",
    "psbt.unsigned_tx_scriptsig": "the unsigned transaction has a non-empty scriptSig",
    "psbt.unsigned_tx_witness": "the unsigned transaction is in the witness serialization",
    "psbt.missing_map": "the PSBT ends before every input and output has its map",
    "psbt.trailing_bytes": "bytes follow the last output map",
    "psbt.non_witness_utxo_txid": "PSBT_IN_NON_WITNESS_UTXO is not the transaction the input spends from",
    "psbt.non_witness_utxo_index": "PSBT_IN_NON_WITNESS_UTXO has no output at the spent index",
    "psbt.witness_utxo_mismatch": "PSBT_IN_WITNESS_UTXO differs from the spent output of PSBT_IN_NON_WITNESS_UTXO",
    "psbt.locktime_conflict": "v2 inputs require both a height and a time locktime: no transaction exists",
    "psbt.map_mismatch": "a replaced input/output map belongs to another position or version (a bug)",
}
