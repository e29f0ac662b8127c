"""The one exception hierarchy: every failure carries a stable code, a sentence and an exit status.

Codes are never renamed or reused once released; callers (scripts, the hot side reading
the service's stderr) match on them. Each module adds its codes to `CODES` under its own
heading; `tests/test_errors.py` checks that every code raised in the source is listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Final, NamedTuple


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

    def __init__(self, code: Code, message: str) -> None:
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


class Finding(NamedTuple):
    """One thing found about a request: a stable code, the place, and a sentence.

    Refusals and warnings alike: a refusal is raised (`refusal()`), a warning is shown, and
    tests compare codes, never wording.
    """

    code: Code
    place: str  # "input 2", "output 0", or "" for the whole transaction
    message: str

    @property
    def text(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message

    def refusal(self) -> Refused:
        return Refused(self.code, self.text)


class Code(StrEnum):
    """Every stable error and warning code, with what it means. Grouped by the module that
    raises it; never renamed or reused once released (callers match on the text)."""

    meaning: str

    def __new__(cls, value: str, meaning: str) -> Code:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    # cli / generic
    CLI_USAGE = (
        "cli.usage",
        "the command line asks for something impossible, or argparse cannot parse it",
    )
    CLI_UNKNOWN_COMMAND = (
        "cli.unknown_command",
        "`psbt NAME`: no command of that name (a close one is suggested)",
    )
    INTERNAL_BUG = (
        "internal.bug",
        "an unexpected internal error (a bug); the audit log says what was signed",
    )
    IO_READ_FAILED = "io.read_failed", "an input file could not be read"
    IO_WRITE_FAILED = "io.write_failed", "an output file could not be written"
    IO_TOO_LARGE = "io.too_large", "input is larger than the size cap"
    # delivery (cold/delivery.py): a signed result is kept until it has been delivered
    HOME_UNWRITABLE = (
        "home.unwritable",
        "the data folder cannot be written: checked before anything is asked",
    )
    SIGN_UNDELIVERED = (
        "sign.undelivered",
        "signed, but the result could not be delivered: kept in signed/",
    )
    SIGN_NOT_KEPT = (
        "sign.not_kept",
        "signed, but the result could neither be kept in signed/ nor delivered",
    )
    # wire (compact.py, tx.py)
    WIRE_TRUNCATED = "wire.truncated", "the input ends in the middle of a field"
    WIRE_TOO_LONG = "wire.too_long", "a length prefix claims more than the size cap"
    WIRE_NONCANONICAL_SIZE = "wire.noncanonical_size", "a CompactSize is not in its shortest form"
    WIRE_TRAILING_BYTES = (
        "wire.trailing_bytes",
        "bytes follow the end of a structure that must end there",
    )
    TX_BAD_SEGWIT_FLAG = "tx.bad_segwit_flag", "a transaction has the segwit marker but not flag 1"
    TX_EMPTY_WITNESS = "tx.empty_witness", "a segwit-serialized transaction carries no witness data"
    # confirm (cold/confirm): the human confirmation; a Decision's reason or a refusal to ask
    CONFIRM_APPROVED = (
        "confirm.approved",
        "the user approved the signature (the reason of an approving Decision)",
    )
    CONFIRM_DECLINED = (
        "confirm.declined",
        "the user declined: an answer other than yes, Decline, Esc or a closed window",
    )
    CONFIRM_TIMEOUT = (
        "confirm.timeout",
        "nobody answered the confirmation in time, which counts as declined",
    )
    CONFIRM_NO_DISPLAY = (
        "confirm.no_display",
        "the confirmation dialog cannot be shown: no X display reachable",
    )
    CONFIRM_NO_TK = "confirm.no_tk", "the confirmation dialog needs tkinter (Debian: python3-tk)"
    CONFIRM_NO_TTY = (
        "confirm.no_tty",
        "terminal confirmation needs a controlling terminal (/dev/tty)",
    )
    CONFIRM_BAD_MODE = "confirm.bad_mode", "unknown confirmation mode: use tty, gui or policy"
    CONFIRM_BAD_VIEW = (
        "confirm.bad_view",
        "the confirmation view is inconsistent (a bug): nothing was shown or signed",
    )
    CONFIRM_BAD_TIMING = "confirm.bad_timing", "the confirmation delay or timeout is out of range"
    # bip32 (psbtbridge/bip32.py, cold/crypto.py)
    BIP32_BAD_INDEX = (
        "bip32.bad_index",
        "a one-step derivation was asked for a hardened index (a bug)",
    )
    BIP32_INVALID_CHILD = (
        "bip32.invalid_child",
        "BIP32 child key is invalid at this index (probability below 2^-127)",
    )
    # inspect (psbtbridge/commands/inspect.py)
    INSPECT_NETWORK_UNKNOWN = (
        "inspect.network_unknown",
        "psbt inspect cannot tell the PSBT's network: --network is needed",
    )
    # encoding
    ENCODING_EMPTY = "encoding.empty", "input is empty"
    ENCODING_UNKNOWN = "encoding.unknown", "input is neither binary PSBT, base64 nor hex"
    ENCODING_TRUNCATED = (
        "encoding.truncated",
        "base64 or hex input looks cut off (a length no complete encoding has)",
    )
    # wallet model and descriptors (psbtbridge/wallet.py)
    WALLET_BAD_NAME = (
        "wallet.bad_name",
        "a wallet name is empty, too long or has characters other than A-Z a-z 0-9 . _ -",
    )
    WALLET_BAD_ORIGIN = (
        "wallet.bad_origin",
        "a key origin has a fingerprint that is not 4 bytes or a path out of range",
    )
    WALLET_BAD_XPUB = (
        "wallet.bad_xpub",
        "an extended public key is malformed or has an unknown version",
    )
    WALLET_ORIGIN_MISMATCH = (
        "wallet.origin_mismatch",
        "an xpub's depth, child number or parent contradicts its claimed origin",
    )
    WALLET_WRONG_NETWORK = (
        "wallet.wrong_network",
        "an xpub belongs to another network than the wallet's",
    )
    WALLET_BAD_SHAPE = (
        "wallet.bad_shape",
        "a single-sig wallet does not have exactly one key and threshold 1",
    )
    WALLET_TOO_MANY_KEYS = (
        "wallet.too_many_keys",
        "a multisig has no keys or more than 15 (sh) / 20 (wsh) keys",
    )
    WALLET_BAD_THRESHOLD = (
        "wallet.bad_threshold",
        "a multisig threshold is not between 1 and the number of keys",
    )
    WALLET_DUPLICATE_KEY = (
        "wallet.duplicate_key",
        "the same xpub or key origin appears twice in one wallet",
    )
    WALLET_BAD_DERIVATION = (
        "wallet.bad_derivation",
        "a derivation asks for a chain other than 0/1 or an index of 2^31 or more",
    )
    DESCRIPTOR_TOO_LONG = "descriptor.too_long", "a descriptor is longer than 10000 characters"
    DESCRIPTOR_SYNTAX = (
        "descriptor.syntax",
        "a descriptor is not well formed or has a character descriptors do not allow",
    )
    DESCRIPTOR_BAD_CHECKSUM = (
        "descriptor.bad_checksum",
        "a descriptor's BIP380 checksum does not match",
    )
    DESCRIPTOR_UNSUPPORTED = (
        "descriptor.unsupported",
        "a descriptor form psbtbridge does not handle (script trees, miniscript, ...)",
    )
    DESCRIPTOR_MISSING_ORIGIN = (
        "descriptor.missing_origin",
        "a descriptor key has no [fingerprint/path] origin",
    )
    DESCRIPTOR_BAD_PATH = (
        "descriptor.bad_path",
        "a descriptor key does not end in /<0;1>/* or /0/*, or a path step is invalid",
    )
    DESCRIPTOR_HARDENED_WILDCARD = (
        "descriptor.hardened_wildcard",
        "a descriptor key ends in a hardened wildcard, underivable from an xpub",
    )
    DESCRIPTOR_MIXED_PATHS = (
        "descriptor.mixed_paths",
        "some descriptor keys use /<0;1>/* and others /0/*",
    )
    DESCRIPTOR_PRIVATE_KEY = (
        "descriptor.private_key",
        "a descriptor holds a private key (xprv/tprv) where an xpub belongs",
    )
    DESCRIPTOR_SLIP132_MISMATCH = (
        "descriptor.slip132_mismatch",
        "a SLIP-132 xpub (zpub, Ypub, ...) is for another script type",
    )
    # addresses (psbtbridge/address.py, wallet_addresses.py, show_address.py, `psbt address`)
    ADDRESS_BAD_ADDRESS = (
        "address.bad_address",
        "the text is not a bitcoin address (bad characters, length or checksum)",
    )
    ADDRESS_WRONG_NETWORK = (
        "address.wrong_network",
        "the address belongs to another network than the wallets'",
    )
    ADDRESS_UNKNOWN_WALLET = (
        "address.unknown_wallet",
        "`address show --wallet NAME` names no wallet the signer knows",
    )
    ADDRESS_BAD_RANGE = (
        "address.bad_range",
        "`address show` asks for a chain other than 0/1, a count out of range or an index of 2^31 or more",
    )
    ADDRESS_NOT_OURS = (
        "address.not_ours",
        "no wallet derives the address on its receive or change chain within the window",
    )
    ADDRESS_BAD_ANSWER = (
        "address.bad_answer",
        "the cold qube's psbtbridge.ShowAddress answer is not `ours WALLET PATH` or `not-ours`",
    )
    # keystore (cold/keystore.py)
    KEYSTORE_EXISTS = "keystore.exists", "`keys init` refuses to replace an existing keystore"
    KEYSTORE_MISSING = "keystore.missing", "there is no keystore: run `psbt keys init`"
    KEYSTORE_UNREADABLE = "keystore.unreadable", "the keystore or a secret file could not be read"
    KEYSTORE_CORRUPT = "keystore.corrupt", "the keystore file is truncated, altered or malformed"
    KEYSTORE_UNSUPPORTED_FORMAT = (
        "keystore.unsupported_format",
        "the keystore has a format version this psbtbridge cannot read",
    )
    KEYSTORE_KDF_UNAVAILABLE = (
        "keystore.kdf_unavailable",
        "the keystore's KDF (Argon2id) needs a newer cryptography",
    )
    KEYSTORE_BAD_PASSPHRASE = (
        "keystore.bad_passphrase",
        "wrong keystore passphrase (or the encrypted part was altered)",
    )
    KEYSTORE_PASSPHRASE_REQUIRED = (
        "keystore.passphrase_required",
        "the keystore is encrypted and no passphrase was given",
    )
    KEYSTORE_PASSPHRASE_MISMATCH = (
        "keystore.passphrase_mismatch",
        "the passphrase and its repetition differ",
    )
    KEYSTORE_EMPTY_PASSPHRASE = (
        "keystore.empty_passphrase",
        "an empty keystore passphrase: use --no-encryption to mean none",
    )
    KEYSTORE_NO_TTY = "keystore.no_tty", "a passphrase must be asked but there is no terminal"
    KEYSTORE_BAD_ACCOUNT = "keystore.bad_account", "the account number is not in 0..2^31-1"
    KEYSTORE_BAD_MNEMONIC = (
        "keystore.bad_mnemonic",
        "a mnemonic has a wrong word count or a word outside the BIP39 list",
    )
    KEYSTORE_BAD_MNEMONIC_CHECKSUM = (
        "keystore.bad_mnemonic_checksum",
        "a mnemonic's BIP39 checksum is wrong",
    )
    KEYSTORE_BAD_SECRET_FILE = (
        "keystore.bad_secret_file",
        "a passphrase or mnemonic file is not UTF-8 text",
    )
    KEYSTORE_OUTSIDE_ACCOUNT = (
        "keystore.outside_account",
        "a path not below the one account key an imported keystore holds",
    )
    KEYSTORE_BAD_SECRET = (
        "keystore.bad_secret",
        "an imported seed or account xprv is malformed or contradicts its origin",
    )
    # Electrum seeds and wallet files (cold/keystore/electrum_seed.py, cold/keystore/electrum_file.py)
    KEYS_AMBIGUOUS_SEED = (
        "keys.ambiguous_seed",
        "the phrase is valid as BIP39 and as an Electrum seed: give --seed-type",
    )
    KEYS_NOT_ELECTRUM_SEED = "keys.not_electrum_seed", "the phrase is not an Electrum 2.0+ seed"
    KEYS_ELECTRUM_2FA_SEED = (
        "keys.electrum_2fa_seed",
        "an Electrum 2FA (TrustedCoin) seed or wallet: not supported",
    )
    KEYS_ELECTRUM_OLD_SEED = (
        "keys.electrum_old_seed",
        "a pre-2.0 Electrum seed or keystore: not supported",
    )
    KEYS_ACCOUNT_NOT_APPLICABLE = (
        "keys.account_not_applicable",
        "--account given with an Electrum seed, which has one account",
    )
    KEYS_ELECTRUM_UNREADABLE = (
        "keys.electrum_unreadable",
        "the Electrum wallet file could not be read",
    )
    KEYS_ELECTRUM_BAD_FILE = (
        "keys.electrum_bad_file",
        "the Electrum wallet file is malformed, truncated or inconsistent",
    )
    KEYS_ELECTRUM_UNSUPPORTED_VERSION = (
        "keys.electrum_unsupported_version",
        "the wallet file's seed_version or hash version is unknown",
    )
    KEYS_ELECTRUM_UNSUPPORTED_WALLET = (
        "keys.electrum_unsupported_wallet",
        "an Electrum wallet type other than standard or m-of-n",
    )
    KEYS_ELECTRUM_HARDWARE = (
        "keys.electrum_hardware",
        "a hardware wallet keystore: its keys are on the device",
    )
    KEYS_ELECTRUM_HARDWARE_ENCRYPTION = (
        "keys.electrum_hardware_encryption",
        "a file encrypted with a hardware wallet's key (BIE2)",
    )
    KEYS_ELECTRUM_IMPORTED_KEYS = (
        "keys.electrum_imported_keys",
        "a wallet of imported single private keys: not supported",
    )
    KEYS_ELECTRUM_WATCH_ONLY = "keys.electrum_watch_only", "the Electrum wallet holds no secret"
    KEYS_ELECTRUM_SEVERAL_SECRETS = (
        "keys.electrum_several_secrets",
        "several keystores of one multisig wallet hold secrets",
    )
    KEYS_ELECTRUM_SEED_MISMATCH = (
        "keys.electrum_seed_mismatch",
        "the stored seed does not derive the stored key",
    )
    KEYS_ELECTRUM_WRONG_NETWORK = (
        "keys.electrum_wrong_network",
        "the wallet's keys are not for the network given",
    )
    KEYS_ELECTRUM_UNKNOWN_ORIGIN = (
        "keys.electrum_unknown_origin",
        "a key deeper than 1 whose root fingerprint and path are unknown",
    )
    KEYS_NOT_WRITTEN_DOWN = (
        "keys.not_written_down",
        "`keys init`: the new words were not confirmed as written down; nothing stored",
    )
    KEYS_WORDS_MISMATCH = (
        "keys.words_mismatch",
        "`keys init`: the words typed back did not match the new mnemonic; nothing stored",
    )
    KEYS_PASSWORD_REQUIRED = (
        "keys.password_required",
        "the Electrum wallet is encrypted and no password was given",
    )
    KEYS_WRONG_PASSWORD = "keys.wrong_password", "wrong password for the Electrum wallet file"
    # wallet registry (cold/wallets.py, cold/commands/wallet.py)
    WALLET_REGISTRY_UNREADABLE = (
        "wallet.registry_unreadable",
        "the wallet registry could not be read",
    )
    WALLET_REGISTRY_CORRUPT = (
        "wallet.registry_corrupt",
        "the wallet registry is truncated, altered or malformed",
    )
    WALLET_REGISTRY_NETWORK = (
        "wallet.registry_network",
        "the wallet registry is for another network than the keystore",
    )
    WALLET_NOT_MULTISIG = (
        "wallet.not_multisig",
        "only multisig wallets are registered; single-sig ones come from the seed",
    )
    WALLET_DUPLICATE_NAME = "wallet.duplicate_name", "a wallet with this name is already registered"
    WALLET_DUPLICATE_DESCRIPTOR = (
        "wallet.duplicate_descriptor",
        "a wallet with the same scripts is already registered",
    )
    WALLET_NOT_OURS = (
        "wallet.not_ours",
        "no key of the descriptor has this seed's master fingerprint",
    )
    WALLET_KEY_MISMATCH = (
        "wallet.key_mismatch",
        "a key claims this seed's fingerprint but is not what the seed derives there",
    )
    WALLET_OURS_TWICE = "wallet.ours_twice", "several keys of one multisig come from this seed"
    WALLET_NO_TTY = (
        "wallet.no_tty",
        "confirmation is needed but there is no terminal (use --yes after checking)",
    )
    WALLET_DECLINED = "wallet.declined", "the user did not confirm registering the wallet"
    # qr (psbtbridge/qr/*, psbtbridge/commands/qr.py): air-gap QR codecs and commands
    QR_BYTEWORDS = "qr.bytewords", "a UR body is not valid bytewords"
    QR_CHECKSUM = "qr.checksum", "a UR frame's bytewords checksum does not match (misread frame)"
    QR_CBOR = "qr.cbor", "a UR carries malformed or unsupported CBOR"
    QR_UR_PART = (
        "qr.ur_part",
        "a UR fountain part is not [seqNum, seqLen, messageLen, checksum, data]",
    )
    QR_UR_SYNTAX = "qr.ur_syntax", "a frame is not a `ur:TYPE/[N-M/]BODY` string"
    QR_UR_INCONSISTENT = (
        "qr.ur_inconsistent",
        "UR frames disagree (type, length, size or checksum): two different messages?",
    )
    QR_UR_TYPE = (
        "qr.ur_type",
        "the UR is not a PSBT (`crypto-psbt` or `psbt`) or its body is not a byte string",
    )
    QR_MESSAGE_CHECKSUM = "qr.message_checksum", "the reassembled UR message fails its CRC-32"
    QR_CONFLICT = (
        "qr.conflict",
        "the same part was scanned twice with different contents, or parts contradict",
    )
    QR_TOO_LARGE = (
        "qr.too_large",
        "the scanned or shown data is over the size cap, or too big for QR frames",
    )
    QR_TOO_MANY_PARTS = "qr.too_many_parts", "more parts than the cap (or the format) allows"
    QR_TOO_MANY_FRAMES = "qr.too_many_frames", "too many frames scanned without completing the data"
    QR_UR_TOO_COMPLEX = (
        "qr.ur_too_complex",
        "UR parts mix so many fragments that decoding would take too much memory or time",
    )
    QR_VERSION = "qr.version", "the QR version is out of range or too small for the format"
    QR_BBQR_HEADER = "qr.bbqr_header", "a BBQr frame's 8-character header is malformed"
    QR_BBQR_ENCODING = "qr.bbqr_encoding", "a BBQr frame names an unknown encoding (not H, 2 or Z)"
    QR_BBQR_TYPE = "qr.bbqr_type", "a BBQr frame names a file type the BBQr spec does not list"
    QR_BBQR_INCONSISTENT = (
        "qr.bbqr_inconsistent",
        "BBQr frames disagree on encoding, file type or part count",
    )
    QR_BBQR_DATA = (
        "qr.bbqr_data",
        "a BBQr frame's data is not valid hex or base32, or parts are misaligned",
    )
    QR_DEFLATE = "qr.deflate", "BBQr Z data is not a complete raw-deflate stream"
    QR_INFLATE_TOO_LARGE = (
        "qr.inflate_too_large",
        "BBQr Z data inflates past the size cap (refused before inflating it all)",
    )
    QR_PMOFN = "qr.pmofn", "a Specter-style `pMofN` frame is malformed or inconsistent"
    QR_MIXED_FORMATS = (
        "qr.mixed_formats",
        "frames of different QR formats (UR, BBQr, pMofN, plain, base43) were mixed",
    )
    QR_UNKNOWN_FORMAT = (
        "qr.unknown_format",
        "a frame is neither UR, BBQr, pMofN, Electrum's base43 nor a base64/hex PSBT",
    )
    QR_UNSUPPORTED_PAYLOAD = (
        "qr.unsupported_payload",
        "the scanned data is not a PSBT or a transaction",
    )
    QR_INCOMPLETE = "qr.incomplete", "the frames scanned do not hold all the data yet"
    QR_NOT_TEXT = "qr.not_text", "a QR code holds binary data, not text"
    QR_BAD_IMAGE = "qr.bad_image", "an image file cannot be read as a picture"
    QR_NO_CODE = "qr.no_code", "an image holds no QR code"
    QR_CAMERA = "qr.camera", "the camera scanner (zbarcam) cannot be run or failed"
    QR_NO_DISPLAY = "qr.no_display", "no X display for the QR window: use --out DIR or --gif FILE"
    QR_NO_FORMAT_NOTE = (
        "qr.no_format_note",
        "--like FILE has no readable FILE.qrformat note from `psbt qr scan`",
    )
    QR_BASE43 = "qr.base43", "a frame is not Electrum's base43 text"
    QR_BASE43_TOO_LARGE = (
        "qr.base43_too_large",
        "the PSBT does not fit the one QR code Electrum reads (version 40 holds 4296 characters)",
    )
    # policy (psbtbridge/policy.py, cold/policy_file.py)
    POLICY_SYNTAX = "policy.syntax", "policy.toml is not valid TOML"
    POLICY_UNKNOWN_KEY = (
        "policy.unknown_key",
        "policy.toml has a setting or table psbtbridge does not know",
    )
    POLICY_BAD_TYPE = "policy.bad_type", "a policy.toml setting has the wrong type"
    POLICY_BAD_VALUE = "policy.bad_value", "a policy.toml setting is out of range or not allowed"
    POLICY_SIGHASH_UNSUPPORTED = (
        "policy.sighash_unsupported",
        "policy.toml allows a sighash type the signer never signs",
    )
    POLICY_UNREADABLE = (
        "policy.unreadable",
        "policy.toml cannot be read, is too large or is not UTF-8",
    )
    # audit (cold/audit.py)
    AUDIT_BROKEN = (
        "audit.broken",
        "the audit log's hash chain is broken or its last line is cut off",
    )
    AUDIT_BAD_RECORD = "audit.bad_record", "a record to log is invalid (a bug): nothing was logged"
    AUDIT_UNREADABLE = "audit.unreadable", "the audit log cannot be opened or read"
    AUDIT_WRITE_FAILED = (
        "audit.write_failed",
        "a record could not be appended to the audit log durably",
    )
    AUDIT_NOTHING_DECLARED = (
        "audit.nothing_declared",
        "`psbt audit used` was given neither --receive nor --change",
    )
    AUDIT_UNKNOWN_WALLET = (
        "audit.unknown_wallet",
        "`psbt audit used` names a wallet that is not registered here",
    )
    # state (cold/state.py): the lock and the index derived from the audit log
    STATE_UNUSABLE = (
        "state.unusable",
        "the state lock or index in the data folder cannot be opened or written",
    )
    STATE_CHANGED = (
        "state.changed",
        "another signing changed the state while this one was being confirmed",
    )
    # ledger (cold/ledger.py)
    LEDGER_CORRUPT = "ledger.corrupt", "ledger.json is damaged; it was left untouched"
    LEDGER_UNREADABLE = "ledger.unreadable", "ledger.json cannot be read or is too large"
    LEDGER_BAD_OUTPOINT = (
        "ledger.bad_outpoint",
        "a txid or outpoint given to the ledger is malformed",
    )
    # warnings (psbtbridge/analysis.py, cold/verdict.py, cold/pipeline.py): shown, not raised
    WARNING_AMOUNT_CLAIMED = (
        "warning.amount_claimed",
        "an input's amount is only claimed by its witness UTXO, not proven",
    )
    WARNING_SIGHASH_NOT_ALL = (
        "warning.sighash_not_all",
        "an input or a partial signature uses a sighash type other than ALL",
    )
    WARNING_UNKNOWN_SCRIPT = "warning.unknown_script", "an output's script has no address form"
    WARNING_DUST = "warning.dust", "an output is below the dust limit and may not relay"
    WARNING_UNKNOWN_FIELDS = (
        "warning.unknown_fields",
        "a map has fields of a type nobody here can interpret",
    )
    WARNING_PROPRIETARY_FIELDS = "warning.proprietary_fields", "a map has proprietary fields"
    WARNING_SIZE_UNKNOWN = (
        "warning.size_unknown",
        "an input's size is unknown: sized at its smallest, the fee rate is an upper bound",
    )
    WARNING_NETWORK_MISMATCH = (
        "warning.network_mismatch",
        "the PSBT's derivation paths name another network than the one shown",
    )
    WARNING_SELF_TRANSFER = (
        "warning.self_transfer",
        "an output pays our own receive address beyond the index window",
    )
    WARNING_FOREIGN_INPUTS = (
        "warning.foreign_inputs",
        "some inputs are not ours: a joint transaction, only ours are signed",
    )
    WARNING_INPUT_ALREADY_SIGNED = (
        "warning.input_already_signed",
        "an input of ours was already signed into another transaction",
    )
    WARNING_ALREADY_SIGNED = (
        "warning.already_signed",
        "this exact transaction was signed before; it counts once",
    )
    WARNING_INPUT_BEYOND_KNOWN = (
        "warning.input_beyond_known",
        "an input of ours lies far past the indexes this signer knows used",
    )
    WARNING_TRANSFER = (
        "warning.transfer",
        "an output pays another of our wallets: a transfer, counted as leaving",
    )
    PROOF_AMOUNT_CHANGED = (
        "proof.amount_changed",
        "an input's amount differs from the amount seen for it earlier",
    )
    # analysis (psbtbridge/analysis.py): a claim of the PSBT that cannot be proven
    PROOF_EMPTY_TX = "proof.empty_tx", "the transaction has no inputs or no outputs"
    PROOF_DUPLICATE_INPUT = "proof.duplicate_input", "two inputs spend the same outpoint"
    PROOF_NOTHING_TO_SIGN = "proof.nothing_to_sign", "no input re-derives from a registered wallet"
    PROOF_UNKNOWN_AMOUNT = (
        "proof.unknown_amount",
        "an input carries no UTXO at all, so the fee cannot be known",
    )
    PROOF_BAD_AMOUNT = (
        "proof.bad_amount",
        "an input or output amount is negative or above 21 million BTC",
    )
    PROOF_SCRIPT_TOO_LARGE = (
        "proof.script_too_large",
        "an output script is longer than 10,000 bytes (consensus MAX_SCRIPT_SIZE)",
    )
    PROOF_TX_TOO_HEAVY = (
        "proof.tx_too_heavy",
        "the transaction weighs more than the standard 400,000 WU",
    )
    PROOF_NEGATIVE_FEE = "proof.negative_fee", "the outputs add up to more than the inputs"
    PROOF_MISSING_NON_WITNESS_UTXO = (
        "proof.missing_non_witness_utxo",
        "an input of ours (not taproot) lacks the full previous transaction proving its amount",
    )
    PROOF_REDEEM_SCRIPT_MISMATCH = (
        "proof.redeem_script_mismatch",
        "PSBT_IN_REDEEM_SCRIPT does not hash to the P2SH output it spends",
    )
    PROOF_WITNESS_SCRIPT_MISMATCH = (
        "proof.witness_script_mismatch",
        "PSBT_IN_WITNESS_SCRIPT does not hash to the P2WSH program it spends",
    )
    PROOF_WITNESS_UTXO_NON_SEGWIT = (
        "proof.witness_utxo_non_segwit",
        "a witness UTXO is given for an input that is not segwit",
    )
    PROOF_SIGHASH_NOT_ALLOWED = (
        "proof.sighash_not_allowed",
        "an input of ours asks for a sighash type other than ALL (or DEFAULT on taproot)",
    )
    PROOF_OP_RETURN_VALUE = (
        "proof.op_return_value",
        "an OP_RETURN output carries value, which would be burned",
    )
    PROOF_WRONG_NETWORK = (
        "proof.wrong_network",
        "a derivation path or global xpub belongs to another network",
    )
    PROOF_FAKE_CHANGE = (
        "proof.fake_change",
        "an output claims to be ours but no registered wallet derives its script",
    )
    PROOF_CHANGE_HARDENED = (
        "proof.change_hardened",
        "an output claims a hardened change path, which no watch-only wallet derives",
    )
    PROOF_CHANGE_BAD_CHAIN = (
        "proof.change_bad_chain",
        "an output claims a path outside the receive (0) and change (1) chains",
    )
    PROOF_CHANGE_BEYOND_WINDOW = (
        "proof.change_beyond_window",
        "change re-derives as ours, but beyond the index window a wallet scans",
    )
    PROOF_CHANGE_OTHER_ACCOUNT = (
        "proof.change_other_account",
        "an output claims an account of ours that is not registered",
    )
    PROOF_CHANGE_SCRIPT_TYPE = (
        "proof.change_script_type",
        "an output claims our path but has another script type than that wallet",
    )
    PROOF_CHANGE_SCRIPT_TREE = (
        "proof.change_script_tree",
        "taproot change is not the BIP86 key-path output: it may hide a script tree",
    )
    PROOF_MULTISIG_CHANGE_MISMATCH = (
        "proof.multisig_change_mismatch",
        "multisig change claims our wallet but its script uses other keys",
    )
    # verdict (psbtbridge/verdict.py): a rule of policy.toml the proven transaction breaks
    POLICY_FEE_RATE_TOO_HIGH = "policy.fee_rate_too_high", "the fee rate is above max_fee_rate"
    POLICY_FEE_TOO_HIGH = "policy.fee_too_high", "the fee is above max_fee"
    POLICY_FEE_PERCENT_TOO_HIGH = (
        "policy.fee_percent_too_high",
        "the fee, as a share of all outputs, is above max_fee_percent",
    )
    POLICY_FOREIGN_INPUTS = (
        "policy.foreign_inputs",
        "an input is not ours and allow_foreign_inputs is false",
    )
    POLICY_OP_RETURN = "policy.op_return", "an OP_RETURN output and allow_op_return is false"
    POLICY_SIGHASH = (
        "policy.sighash",
        "an input of ours asks for a sighash type not in allowed_sighash",
    )
    POLICY_UNATTENDED_DISABLED = (
        "policy.unattended_disabled",
        "--confirm policy, but unattended signing is not enabled",
    )
    POLICY_DESTINATION_NOT_ALLOWED = (
        "policy.destination_not_allowed",
        "unattended: an output pays outside allowed_destinations",
    )
    POLICY_OVER_TRANSACTION_LIMIT = (
        "policy.over_transaction_limit",
        "unattended: more would leave the wallet than max_per_transaction",
    )
    POLICY_OVER_DAILY_LIMIT = (
        "policy.over_daily_limit",
        "unattended: the last 24 h plus this would pass max_per_24h",
    )
    POLICY_INPUT_SIGNED_ELSEWHERE = (
        "policy.input_signed_elsewhere",
        "unattended: a coin of ours was already signed into another transaction",
    )
    POLICY_INPUT_BEYOND_KNOWN = (
        "policy.input_beyond_known",
        "unattended: an input of ours lies far past the indexes known used",
    )
    POLICY_WARNING_UNATTENDED = (
        "policy.warning_unattended",
        "unattended: refused because of a warning (refuse_on_warning)",
    )
    # pipeline and signer (cold/pipeline.py, cold/signer.py)
    SERVICE_DIGEST_MISMATCH = (
        "service.digest_mismatch",
        "the announced digest does not name the transaction (or address) received",
    )
    SIGN_KEY_MISMATCH = (
        "sign.key_mismatch",
        "the seed does not derive a registered key it should sign with",
    )
    # psbt (psbtbridge/psbt/, keyencoding.py, taproot.py)
    PSBT_TOO_LARGE = (
        "psbt.too_large",
        "the PSBT is larger than the size cap (checked before parsing)",
    )
    PSBT_BAD_MAGIC = "psbt.bad_magic", "the data does not start with the PSBT magic psbt\\xff"
    PSBT_DUPLICATE_KEY = "psbt.duplicate_key", "a key appears twice in one map"
    PSBT_BAD_KEY_TYPE = (
        "psbt.bad_key_type",
        "a key's CompactSize type is truncated or not canonical",
    )
    PSBT_UNEXPECTED_KEY_DATA = (
        "psbt.unexpected_key_data",
        "a field whose key must be its type alone carries key data",
    )
    PSBT_BAD_KEY_DATA = "psbt.bad_key_data", "a field's key data has the wrong length"
    PSBT_BAD_VALUE_LENGTH = "psbt.bad_value_length", "a field's value has the wrong length"
    PSBT_BAD_VALUE = (
        "psbt.bad_value",
        "a field's value does not decode exactly (short, trailing bytes, not UTF-8)",
    )
    PSBT_BAD_PUBKEY = (
        "psbt.bad_pubkey",
        "a public key has the wrong length or is not a point on the curve",
    )
    PSBT_BAD_XPUB = (
        "psbt.bad_xpub",
        "a PSBT_GLOBAL_XPUB key is not a 78-byte BIP32 xpub/tpub with a valid key",
    )
    PSBT_BAD_KEY_ORIGIN = (
        "psbt.bad_key_origin",
        "a BIP32 derivation value is not a fingerprint plus 32-bit path elements",
    )
    PSBT_BAD_SIGNATURE = (
        "psbt.bad_signature",
        "an ECDSA signature is not strict DER plus a defined sighash byte, or a Schnorr signature is not 64/65 bytes with a valid sighash byte",
    )
    PSBT_BAD_CONTROL_BLOCK = (
        "psbt.bad_control_block",
        "a taproot control block is not 33 + 32·m bytes (m <= 128)",
    )
    PSBT_BAD_LEAF_VERSION = (
        "psbt.bad_leaf_version",
        "a taproot leaf version is odd, is 0x50, or disagrees with its control block",
    )
    PSBT_BAD_TAP_TREE = (
        "psbt.bad_tap_tree",
        "PSBT_OUT_TAP_TREE is empty, too deep, malformed or not one complete tree",
    )
    PSBT_BAD_PREIMAGE = (
        "psbt.bad_preimage",
        "a hash preimage field's value does not hash to its key",
    )
    PSBT_BAD_PROPRIETARY_KEY = (
        "psbt.bad_proprietary_key",
        "a proprietary key lacks its identifier or subtype",
    )
    PSBT_BAD_LOCKTIME = (
        "psbt.bad_locktime",
        "a required time locktime is below 500000000, or a height one is 0 or >= 500000000",
    )
    PSBT_UNSUPPORTED_VERSION = "psbt.unsupported_version", "PSBT_GLOBAL_VERSION is neither 0 nor 2"
    PSBT_V2_FIELD_IN_V0 = (
        "psbt.v2_field_in_v0",
        "a version 0 PSBT contains a field BIP370 reserves for version 2",
    )
    PSBT_UNSIGNED_TX_IN_V2 = (
        "psbt.unsigned_tx_in_v2",
        "a version 2 PSBT contains PSBT_GLOBAL_UNSIGNED_TX",
    )
    PSBT_MISSING_UNSIGNED_TX = (
        "psbt.missing_unsigned_tx",
        "a version 0 PSBT lacks PSBT_GLOBAL_UNSIGNED_TX",
    )
    PSBT_MISSING_FIELD = "psbt.missing_field", "a version 2 PSBT lacks a field BIP370 requires"
    PSBT_UNSIGNED_TX_SCRIPTSIG = (
        "psbt.unsigned_tx_scriptsig",
        "the unsigned transaction has a non-empty scriptSig",
    )
    PSBT_UNSIGNED_TX_WITNESS = (
        "psbt.unsigned_tx_witness",
        "the unsigned transaction is in the witness serialization",
    )
    PSBT_MISSING_MAP = "psbt.missing_map", "the PSBT ends before every input and output has its map"
    PSBT_TRAILING_BYTES = "psbt.trailing_bytes", "bytes follow the last output map"
    PSBT_NON_WITNESS_UTXO_TXID = (
        "psbt.non_witness_utxo_txid",
        "PSBT_IN_NON_WITNESS_UTXO is not the transaction the input spends from",
    )
    PSBT_NON_WITNESS_UTXO_INDEX = (
        "psbt.non_witness_utxo_index",
        "PSBT_IN_NON_WITNESS_UTXO has no output at the spent index",
    )
    PSBT_WITNESS_UTXO_MISMATCH = (
        "psbt.witness_utxo_mismatch",
        "PSBT_IN_WITNESS_UTXO differs from the spent output of PSBT_IN_NON_WITNESS_UTXO",
    )
    PSBT_LOCKTIME_CONFLICT = (
        "psbt.locktime_conflict",
        "v2 inputs require both a height and a time locktime: no transaction exists",
    )
    PSBT_MAP_MISMATCH = (
        "psbt.map_mismatch",
        "a replaced input/output map belongs to another position or version (a bug)",
    )
    # qrexec service edge (cold/service.py): the psbtbridge.Sign call itself
    SERVICE_MISSING_ARGUMENT = (
        "service.missing_argument",
        "psbtbridge.Sign was called without the PSBT digest argument",
    )
    SERVICE_BAD_ARGUMENT = (
        "service.bad_argument",
        "the psbtbridge.Sign argument is not an 8-character lower-case hex digest",
    )
    SERVICE_MISSING_CALLER = (
        "service.missing_caller",
        "QREXEC_REMOTE_DOMAIN is unset: `psbt serve` was not started by qrexec",
    )
    SERVICE_BAD_CALLER = "service.bad_caller", "QREXEC_REMOTE_DOMAIN is not a valid qube name"
    SERVICE_WRONG_NAME = (
        "service.wrong_name",
        "the service was started under a name other than psbtbridge.Sign",
    )
    SERVICE_READ_TIMEOUT = (
        "service.read_timeout",
        "the request did not fully arrive within the read deadline",
    )
    SERVICE_CALLER_GONE = (
        "service.caller_gone",
        "the calling qube went away before the answer was delivered",
    )
    SERVICE_DEADLINE = (
        "service.deadline",
        "the request was not answered within the service's processing deadline",
    )
    # qrexec client (hot/qrexec_client.py): how a call to the cold qube ended
    SEND_BAD_CLIENT = "send.bad_client", "PSBTBRIDGE_QREXEC_CLIENT is not a valid command line"
    SEND_NO_CLIENT = (
        "send.no_client",
        "qrexec-client-vm (or PSBTBRIDGE_QREXEC_CLIENT) cannot be run",
    )
    SEND_BAD_QUBE = "send.bad_qube", "the cold qube's name is not a valid qube name"
    SEND_BAD_DIGEST = (
        "send.bad_digest",
        "the digest to send is not 8 lower-case hex characters (a bug)",
    )
    SEND_DECLINED = (
        "send.declined",
        "the cold qube declined or refused to sign (its reason and code follow)",
    )
    SEND_INVALID = "send.invalid", "the cold qube rejected the PSBT as invalid input"
    SEND_SIGNER_ERROR = (
        "send.signer_error",
        "the cold signer failed with an internal error or was killed",
    )
    SEND_QREXEC_DENIED = (
        "send.qrexec_denied",
        "dom0 denied the call: qrexec policy, or the dom0 prompt was declined",
    )
    SEND_QREXEC_FAILED = "send.qrexec_failed", "qrexec itself could not make the call (exit 125)"
    SEND_SERVICE_MISSING = (
        "send.service_missing",
        "the cold qube has no psbtbridge.Sign service (exit 127)",
    )
    SEND_CLIENT_FAILED = (
        "send.client_failed",
        "the qrexec client failed without an answer from the cold qube",
    )
    SEND_ANSWER_TOO_LARGE = "send.answer_too_large", "the cold qube's answer is larger than the cap"
    SEND_EMPTY_ANSWER = "send.empty_answer", "the cold qube reported success but returned nothing"
    # send (hot/send.py, hot/commands/send.py)
    SEND_NETWORK_MISMATCH = (
        "send.network_mismatch",
        "--network disagrees with the network of PSBTBRIDGE_ELECTRUM",
    )
    SEND_USAGE = "send.usage", "psbt send: the options given do not go together"
    SEND_BAD_AMOUNT = "send.bad_amount", "an amount to pay is not an exact BTC amount"
    SEND_BAD_ADDRESS = "send.bad_address", "an address to pay is not a bitcoin address"
    SEND_WRONG_NETWORK = (
        "send.wrong_network",
        "an address to pay belongs to another network than --network",
    )
    SEND_PREVTX_UNAVAILABLE = (
        "send.prevtx_unavailable",
        "an input lacks its previous transaction and Electrum cannot supply it",
    )
    SEND_PAYMENT_MISSING = (
        "send.payment_missing",
        "Electrum's transaction does not make a payment that was asked for",
    )
    SEND_TX_CHANGED = (
        "send.tx_changed",
        "the signed PSBT is for another transaction than the one sent",
    )
    SEND_NO_SIGNATURE = "send.no_signature", "the signer's answer adds no signature"
    SEND_BROADCAST_FAILED = (
        "send.broadcast_failed",
        "broadcasting failed; the signed transaction was saved to a file",
    )
    # sighash (psbtbridge/sighash.py)
    SIGHASH_BAD_TYPE = (
        "sighash.bad_type",
        "a sighash type that is not one of the standard ones (or DEFAULT outside taproot)",
    )
    SIGHASH_BAD_AMOUNT = "sighash.bad_amount", "an amount to commit to is negative or over 2^63"
    SIGHASH_BAD_INDEX = (
        "sighash.bad_index",
        "a sighash was asked for an input the transaction does not have",
    )
    SIGHASH_SINGLE_NO_OUTPUT = (
        "sighash.single_no_output",
        "SIGHASH_SINGLE on an input with no output at its index: never signed",
    )
    SIGHASH_BAD_SCRIPT = "sighash.bad_script", "a scriptCode ends inside a push"
    SIGHASH_SPENT_OUTPUTS = (
        "sighash.spent_outputs",
        "spent outputs missing or not one per input (taproot commits to all)",
    )
    SIGHASH_BAD_ANNEX = "sighash.bad_annex", "a taproot annex that does not start with 0x50"
    SIGHASH_BAD_LEAF_HASH = "sighash.bad_leaf_hash", "a tapleaf hash that is not 32 bytes"
    # crypto (cold/crypto.py)
    CRYPTO_NO_LIBSECP256K1 = (
        "crypto.no_libsecp256k1",
        "libsecp256k1 cannot be loaded through embit: nothing is signed",
    )
    CRYPTO_BAD_KEY = "crypto.bad_key", "a private key is not a valid secp256k1 scalar"
    CRYPTO_BAD_MESSAGE = (
        "crypto.bad_message",
        "a message, aux_rand or merkle root of the wrong length (a bug)",
    )
    CRYPTO_SIGN_FAILED = (
        "crypto.sign_failed",
        "a fresh Schnorr signature failed its own check, or no low-R ECDSA one was found",
    )
    # verify (psbtbridge/verify/): the independent check of every signature
    VERIFY_SPENT_OUTPUTS = "verify.spent_outputs", "spent outputs not one per input"
    VERIFY_BAD_TX = (
        "verify.bad_tx",
        "the verifier's parsers (embit's, python-bitcointx's) cannot read the transaction",
    )
    VERIFY_NO_LIBRARY = (
        "verify.no_library",
        "Debian's libsecp256k1 (libsecp256k1.so.1) cannot be loaded",
    )
    VERIFY_BAD_INDEX = (
        "verify.bad_index",
        "a check was asked for an input the transaction does not have",
    )
    VERIFY_MISSING_UTXO = (
        "verify.missing_utxo",
        "the output an input spends is unknown (taproot needs all of them)",
    )
    VERIFY_SCRIPT_MISMATCH = (
        "verify.script_mismatch",
        "a redeemScript or witnessScript does not match the spent output",
    )
    VERIFY_WRONG_KEY = (
        "verify.wrong_key",
        "the signing key is not the one the spent output commits to",
    )
    VERIFY_UNSUPPORTED = (
        "verify.unsupported",
        "a spend this verifier cannot check (taproot script path, OP_CODESEPARATOR)",
    )
    VERIFY_BAD_ENCODING = (
        "verify.bad_encoding",
        "a signature or public key is not strictly encoded (DER, low S, lengths)",
    )
    VERIFY_HASH_TYPE = "verify.hash_type", "a signature carries a sighash type that is not accepted"
    VERIFY_BAD_SIGNATURE = (
        "verify.bad_signature",
        "a signature does not verify for this transaction, amount and key",
    )
    VERIFY_SCRIPT_FAILED = (
        "verify.script_failed",
        "an input's scriptSig and witness do not spend its output",
    )
    # finalize (psbtbridge/psbt/finalize.py, `psbt finalize`)
    FINALIZE_MISSING_UTXO = (
        "finalize.missing_utxo",
        "an input has neither non_witness_utxo nor witness_utxo",
    )
    FINALIZE_MISSING_SIGNATURE = (
        "finalize.missing_signature",
        "an input lacks the signatures its script needs",
    )
    FINALIZE_UNSUPPORTED = (
        "finalize.unsupported",
        "an input's script type is not one the finalizer supports",
    )
    FINALIZE_SCRIPT_MISMATCH = (
        "finalize.script_mismatch",
        "a redeemScript or witnessScript is missing or does not match",
    )
    FINALIZE_NOT_FINALIZED = (
        "finalize.not_finalized",
        "extraction asked for a PSBT with an unfinalized input",
    )
    FINALIZE_NO_INPUTS = "finalize.no_inputs", "a PSBT without inputs has no transaction to extract"
    # message (psbtbridge/message.py, bip322.py, sign_message.py, cold/message_sign.py, `psbt message`)
    MESSAGE_BAD_SIGNATURE = (
        "message.bad_signature",
        "the signature is not base64, not 65 bytes, or not a witness stack or transaction",
    )
    MESSAGE_INVALID = "message.invalid", "the signature does not sign this message for this address"
    MESSAGE_INCONCLUSIVE = (
        "message.inconclusive",
        "BIP-322: a signature of a kind this verifier cannot check (proof of funds, script path, time locks)",
    )
    MESSAGE_TOO_LONG = "message.too_long", "the message is over the 64 KiB cap"
    MESSAGE_NOT_UTF8 = "message.not_utf8", "the message is not UTF-8 text"
    MESSAGE_NOT_OURS = (
        "message.not_ours",
        "the address is not one of the keystore's wallets (receive or change, within the window)",
    )
    MESSAGE_MULTISIG = (
        "message.multisig",
        "the address belongs to a multisig wallet: one key cannot sign a message for it",
    )
    MESSAGE_UNSUPPORTED_FORMAT = (
        "message.unsupported_format",
        "the format cannot sign for this address type (bip322 needs p2wpkh/p2tr; electrum p2pkh/p2sh-p2wpkh/p2wpkh)",
    )
    MESSAGE_UNATTENDED = (
        "message.unattended",
        "--confirm policy: a message is never signed without a person reading it",
    )
    MESSAGE_BAD_REQUEST = (
        "message.bad_request",
        "the psbtbridge.SignMessage request is not an `address ADDRESS [FORMAT]` line and the message",
    )
    MESSAGE_BAD_ANSWER = (
        "message.bad_answer",
        "the cold qube's psbtbridge.SignMessage answer is not one base64 signature line",
    )
    # bip322 (psbtbridge/bip322_psbt.py): a PSBT shaped as a BIP-322 message proof that
    # breaks its rules; refused rather than signed as a payment
    BIP322_NOT_TO_SPEND = (
        "bip322.not_to_spend",
        "input 0 of a BIP-322 proof does not spend the to_spend of its message and address",
    )
    BIP322_BAD_TO_SIGN = (
        "bip322.bad_to_sign",
        "a BIP-322 proof's to_sign is not version 0, locktime 0, input 0 sequence 0 spending"
        " output 0 of value 0, with one output of 0 to OP_RETURN",
    )
    BIP322_BAD_MESSAGE_FIELD = (
        "bip322.bad_message_field",
        "PSBT_GLOBAL_GENERIC_SIGNED_MESSAGE has key data, or appears more than once",
    )
    BIP322_UNPROVEN = (
        "bip322.unproven",
        "shaped as a BIP-322 proof, but neither the message nor to_spend is given: input 0"
        " cannot be shown to spend a transaction that cannot exist",
    )
    BIP322_FOREIGN_INPUT = (
        "bip322.foreign_input",
        "an input of a BIP-322 proof of reserves is not ours: the proof would claim others' coins",
    )
    BIP322_NOT_OURS = (
        "bip322.not_ours",
        "the address a BIP-322 proof signs for is not one of the registered wallets'",
    )
    # electrum (hot/electrum.py): the hot side's Electrum command line
    ELECTRUM_BAD_COMMAND = "electrum.bad_command", "PSBTBRIDGE_ELECTRUM is not a valid command line"
    ELECTRUM_MISSING = (
        "electrum.missing",
        "the Electrum command cannot be run (not installed, not on PATH)",
    )
    ELECTRUM_NOT_RUNNING = (
        "electrum.not_running",
        "no Electrum daemon or GUI is running (and --offline was not given)",
    )
    ELECTRUM_WALLET_NOT_LOADED = (
        "electrum.wallet_not_loaded",
        "the wallet is not open in the running Electrum",
    )
    ELECTRUM_WALLET_MISSING = "electrum.wallet_missing", "Electrum cannot find the wallet file"
    ELECTRUM_WRONG_NETWORK = (
        "electrum.wrong_network",
        "Electrum cannot read the wallet's keys: it runs on another network",
    )
    ELECTRUM_OFFLINE = "electrum.offline", "the command needs the network but Electrum runs offline"
    ELECTRUM_TIMEOUT = "electrum.timeout", "Electrum did not answer in time"
    ELECTRUM_FAILED = (
        "electrum.failed",
        "an Electrum command failed for another reason (its message is shown)",
    )
    ELECTRUM_BAD_OUTPUT = (
        "electrum.bad_output",
        "Electrum printed something that is not what the command returns",
    )
    ELECTRUM_INSUFFICIENT_FUNDS = (
        "electrum.insufficient_funds",
        "the wallet cannot pay the outputs and the fee",
    )
    ELECTRUM_UNRELATED_TX = (
        "electrum.unrelated_tx",
        "a transaction to add neither pays to nor spends from the wallet",
    )
    ELECTRUM_TX_REJECTED = (
        "electrum.tx_rejected",
        "Electrum did not add a transaction (it conflicts with the wallet's)",
    )
    ELECTRUM_BROADCAST_FAILED = (
        "electrum.broadcast_failed",
        "Electrum's server did not accept the transaction",
    )
    ELECTRUM_BAD_ADDRESS = (
        "electrum.bad_address",
        "an output address is not a plain bech32/base58 address",
    )
    ELECTRUM_BAD_AMOUNT = (
        "electrum.bad_amount",
        "an amount is not a positive BTC amount with at most 8 decimals",
    )
    ELECTRUM_BAD_FEERATE = (
        "electrum.bad_feerate",
        "the fee rate is missing, not finite, or out of range (sat/vB)",
    )
    ELECTRUM_BAD_OUTPUT_COUNT = (
        "electrum.bad_output_count",
        "a payment needs between 1 and 1000 outputs",
    )
    ELECTRUM_BAD_TXID = "electrum.bad_txid", "a txid is not 64 lowercase hex digits"
    ELECTRUM_BAD_TX = (
        "electrum.bad_tx",
        "bytes to add or broadcast are not a serialized transaction",
    )
    ELECTRUM_WALLET_EXISTS = (
        "electrum.wallet_exists",
        "the wallet file exists already; it is never overwritten",
    )
    ELECTRUM_ADDRESS_MISMATCH = (
        "electrum.address_mismatch",
        "Electrum and psbtbridge derive different addresses for a new wallet",
    )
    ELECTRUM_STALE_LOCKFILE = (
        "electrum.stale_lockfile",
        "Electrum 4.5 refuses to run offline: its daemon lockfile exists but no Electrum answers",
    )
    # watch_only (hot/watch_only.py): a cold export turned into an Electrum wallet file
    WATCH_ONLY_BAD_EXPORT = (
        "watch_only.bad_export",
        "the key export is not valid psbtbridge-export/1 JSON",
    )
    WATCH_ONLY_NO_WALLET = "watch_only.no_wallet", "the export has no wallet of the name asked for"
    WATCH_ONLY_BAD_KEY = (
        "watch_only.bad_key",
        "an export key is private, of another network, or not where its origin says",
    )
    WATCH_ONLY_UNSUPPORTED = (
        "watch_only.unsupported",
        "a wallet Electrum cannot watch (taproot, unsorted or >15-key multisig)",
    )


#: The codes by their text, for matching a code another process sent (the reason line).
CODES: Final[Mapping[str, Code]] = {code.value: code for code in Code}
