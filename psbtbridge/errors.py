"""The one exception hierarchy: every failure carries a stable code, a sentence and an exit status.

Codes are never renamed or reused once released; callers (scripts, the hot side reading
the service's stderr) match on them. Each module adds its codes to `CODES` under its own
heading; `tests/test_errors.py` checks that every code raised in the source is listed.
"""

from __future__ import annotations

from enum import IntEnum
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


class Finding(NamedTuple):
    """One thing found about a request: a stable code, the place, and a sentence.

    Refusals and warnings alike: a refusal is raised (`refusal()`), a warning is shown, and
    tests compare codes, never wording.
    """

    code: str
    place: str  # "input 2", "output 0", or "" for the whole transaction
    message: str

    @property
    def text(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message

    def refusal(self) -> Refused:
        return Refused(self.code, self.text)


#: Every stable error code, with what it means. Grouped by the module that raises it.
CODES: Final[dict[str, str]] = {
    # cli / generic
    "cli.usage": "the command line asks for something impossible, or argparse cannot parse it",
    "cli.unknown_command": "`psbt NAME`: no command of that name (a close one is suggested)",
    "internal.bug": "an unexpected internal error (a bug); the audit log says what was signed",
    "io.read_failed": "an input file could not be read",
    "io.write_failed": "an output file could not be written",
    "io.too_large": "input is larger than the size cap",
    # delivery (cold/delivery.py): a signed result is kept until it has been delivered
    "home.unwritable": "the data folder cannot be written: checked before anything is asked",
    "sign.undelivered": "signed, but the result could not be delivered: kept in signed/",
    "sign.not_kept": "signed, but the result could neither be kept in signed/ nor delivered",
    # wire (compact.py, tx.py)
    "wire.truncated": "the input ends in the middle of a field",
    "wire.too_long": "a length prefix claims more than the size cap",
    "wire.noncanonical_size": "a CompactSize is not in its shortest form",
    "wire.trailing_bytes": "bytes follow the end of a structure that must end there",
    "tx.bad_segwit_flag": "a transaction has the segwit marker but not flag 1",
    "tx.empty_witness": "a segwit-serialized transaction carries no witness data",
    # confirm (cold/confirm): the human confirmation; a Decision's reason or a refusal to ask
    "confirm.approved": "the user approved the signature (the reason of an approving Decision)",
    "confirm.declined": "the user declined: an answer other than yes, Decline, Esc or a closed window",
    "confirm.timeout": "nobody answered the confirmation in time, which counts as declined",
    "confirm.no_display": "the confirmation dialog cannot be shown: no X display reachable",
    "confirm.no_tk": "the confirmation dialog needs tkinter (Debian: python3-tk)",
    "confirm.no_tty": "terminal confirmation needs a controlling terminal (/dev/tty)",
    "confirm.bad_mode": "unknown confirmation mode: use tty, gui or policy",
    "confirm.bad_view": "the confirmation view is inconsistent (a bug): nothing was shown or signed",
    "confirm.bad_timing": "the confirmation delay or timeout is out of range",
    # bip32 (psbtbridge/bip32.py, cold/crypto.py)
    "bip32.bad_index": "a one-step derivation was asked for a hardened index (a bug)",
    "bip32.invalid_child": "BIP32 child key is invalid at this index (probability below 2^-127)",
    # inspect (psbtbridge/commands/inspect.py)
    "inspect.network_unknown": "psbt inspect cannot tell the PSBT's network: --network is needed",
    # encoding
    "encoding.empty": "input is empty",
    "encoding.unknown": "input is neither binary PSBT, base64 nor hex",
    "encoding.truncated": "base64 or hex input looks cut off (a length no complete encoding has)",
    # wallet model and descriptors (psbtbridge/wallet.py)
    "wallet.bad_name": "a wallet name is empty, too long or has characters other than A-Z a-z 0-9 . _ -",
    "wallet.bad_origin": "a key origin has a fingerprint that is not 4 bytes or a path out of range",
    "wallet.bad_xpub": "an extended public key is malformed or has an unknown version",
    "wallet.origin_mismatch": "an xpub's depth, child number or parent contradicts its claimed origin",
    "wallet.wrong_network": "an xpub belongs to another network than the wallet's",
    "wallet.bad_shape": "a single-sig wallet does not have exactly one key and threshold 1",
    "wallet.too_many_keys": "a multisig has no keys or more than 15 (sh) / 20 (wsh) keys",
    "wallet.bad_threshold": "a multisig threshold is not between 1 and the number of keys",
    "wallet.duplicate_key": "the same xpub or key origin appears twice in one wallet",
    "wallet.bad_derivation": "a derivation asks for a chain other than 0/1 or an index of 2^31 or more",
    "descriptor.too_long": "a descriptor is longer than 10000 characters",
    "descriptor.syntax": "a descriptor is not well formed or has a character descriptors do not allow",
    "descriptor.bad_checksum": "a descriptor's BIP380 checksum does not match",
    "descriptor.unsupported": "a descriptor form psbtbridge does not handle (script trees, miniscript, ...)",
    "descriptor.missing_origin": "a descriptor key has no [fingerprint/path] origin",
    "descriptor.bad_path": "a descriptor key does not end in /<0;1>/* or /0/*, or a path step is invalid",
    "descriptor.hardened_wildcard": "a descriptor key ends in a hardened wildcard, underivable from an xpub",
    "descriptor.mixed_paths": "some descriptor keys use /<0;1>/* and others /0/*",
    "descriptor.private_key": "a descriptor holds a private key (xprv/tprv) where an xpub belongs",
    "descriptor.slip132_mismatch": "a SLIP-132 xpub (zpub, Ypub, ...) is for another script type",
    # addresses (psbtbridge/address.py, wallet_addresses.py, show_address.py, `psbt address`)
    "address.bad_address": "the text is not a bitcoin address (bad characters, length or checksum)",
    "address.wrong_network": "the address belongs to another network than the wallets'",
    "address.unknown_wallet": "`address show --wallet NAME` names no wallet the signer knows",
    "address.bad_range": "`address show` asks for a chain other than 0/1, a count out of range or an index of 2^31 or more",
    "address.not_ours": "no wallet derives the address on its receive or change chain within the window",
    "address.bad_answer": "the cold qube's psbtbridge.ShowAddress answer is not `ours WALLET PATH` or `not-ours`",
    # keystore (cold/keystore.py)
    "keystore.exists": "`keys init` refuses to replace an existing keystore",
    "keystore.missing": "there is no keystore: run `psbt keys init`",
    "keystore.unreadable": "the keystore or a secret file could not be read",
    "keystore.corrupt": "the keystore file is truncated, altered or malformed",
    "keystore.unsupported_format": "the keystore has a format version this psbtbridge cannot read",
    "keystore.kdf_unavailable": "the keystore's KDF (Argon2id) needs a newer cryptography",
    "keystore.bad_passphrase": "wrong keystore passphrase (or the encrypted part was altered)",
    "keystore.passphrase_required": "the keystore is encrypted and no passphrase was given",
    "keystore.passphrase_mismatch": "the passphrase and its repetition differ",
    "keystore.empty_passphrase": "an empty keystore passphrase: use --no-encryption to mean none",
    "keystore.no_tty": "a passphrase must be asked but there is no terminal",
    "keystore.bad_account": "the account number is not in 0..2^31-1",
    "keystore.bad_mnemonic": "a mnemonic has a wrong word count or a word outside the BIP39 list",
    "keystore.bad_mnemonic_checksum": "a mnemonic's BIP39 checksum is wrong",
    "keystore.bad_secret_file": "a passphrase or mnemonic file is not UTF-8 text",
    "keystore.outside_account": "a path not below the one account key an imported keystore holds",
    "keystore.bad_secret": "an imported seed or account xprv is malformed or contradicts its origin",
    # Electrum seeds and wallet files (cold/keystore/electrum_seed.py, cold/keystore/electrum_file.py)
    "keys.ambiguous_seed": "the phrase is valid as BIP39 and as an Electrum seed: give --seed-type",
    "keys.not_electrum_seed": "the phrase is not an Electrum 2.0+ seed",
    "keys.electrum_2fa_seed": "an Electrum 2FA (TrustedCoin) seed or wallet: not supported",
    "keys.electrum_old_seed": "a pre-2.0 Electrum seed or keystore: not supported",
    "keys.account_not_applicable": "--account given with an Electrum seed, which has one account",
    "keys.electrum_unreadable": "the Electrum wallet file could not be read",
    "keys.electrum_bad_file": "the Electrum wallet file is malformed, truncated or inconsistent",
    "keys.electrum_unsupported_version": "the wallet file's seed_version or hash version is unknown",
    "keys.electrum_unsupported_wallet": "an Electrum wallet type other than standard or m-of-n",
    "keys.electrum_hardware": "a hardware wallet keystore: its keys are on the device",
    "keys.electrum_hardware_encryption": "a file encrypted with a hardware wallet's key (BIE2)",
    "keys.electrum_imported_keys": "a wallet of imported single private keys: not supported",
    "keys.electrum_watch_only": "the Electrum wallet holds no secret",
    "keys.electrum_several_secrets": "several keystores of one multisig wallet hold secrets",
    "keys.electrum_seed_mismatch": "the stored seed does not derive the stored key",
    "keys.electrum_wrong_network": "the wallet's keys are not for the network given",
    "keys.electrum_unknown_origin": "a key deeper than 1 whose root fingerprint and path are unknown",
    "keys.not_written_down": "`keys init`: the new words were not confirmed as written down; nothing stored",
    "keys.words_mismatch": "`keys init`: the words typed back did not match the new mnemonic; nothing stored",
    "keys.password_required": "the Electrum wallet is encrypted and no password was given",
    "keys.wrong_password": "wrong password for the Electrum wallet file",
    # wallet registry (cold/wallets.py, cold/commands/wallet.py)
    "wallet.registry_unreadable": "the wallet registry could not be read",
    "wallet.registry_corrupt": "the wallet registry is truncated, altered or malformed",
    "wallet.registry_network": "the wallet registry is for another network than the keystore",
    "wallet.not_multisig": "only multisig wallets are registered; single-sig ones come from the seed",
    "wallet.duplicate_name": "a wallet with this name is already registered",
    "wallet.duplicate_descriptor": "a wallet with the same scripts is already registered",
    "wallet.not_ours": "no key of the descriptor has this seed's master fingerprint",
    "wallet.key_mismatch": "a key claims this seed's fingerprint but is not what the seed derives there",
    "wallet.ours_twice": "several keys of one multisig come from this seed",
    "wallet.no_tty": "confirmation is needed but there is no terminal (use --yes after checking)",
    "wallet.declined": "the user did not confirm registering the wallet",
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
    "qr.ur_too_complex": "UR parts mix so many fragments that decoding would take too much memory or time",
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
    "audit.nothing_declared": "`psbt audit used` was given neither --receive nor --change",
    "audit.unknown_wallet": "`psbt audit used` names a wallet that is not registered here",
    # state (cold/state.py): the lock and the index derived from the audit log
    "state.unusable": "the state lock or index in the data folder cannot be opened or written",
    "state.changed": "another signing changed the state while this one was being confirmed",
    # ledger (cold/ledger.py)
    "ledger.corrupt": "ledger.json is damaged; it was left untouched",
    "ledger.unreadable": "ledger.json cannot be read or is too large",
    "ledger.bad_outpoint": "a txid or outpoint given to the ledger is malformed",
    # warnings (psbtbridge/analysis.py, cold/verdict.py, cold/pipeline.py): shown, not raised
    "warning.amount_claimed": "an input's amount is only claimed by its witness UTXO, not proven",
    "warning.sighash_not_all": "an input or a partial signature uses a sighash type other than ALL",
    "warning.unknown_script": "an output's script has no address form",
    "warning.dust": "an output is below the dust limit and may not relay",
    "warning.unknown_fields": "a map has fields of a type nobody here can interpret",
    "warning.proprietary_fields": "a map has proprietary fields",
    "warning.size_unknown": "an input's size is unknown: sized at its smallest, the fee rate is an upper bound",
    "warning.network_mismatch": "the PSBT's derivation paths name another network than the one shown",
    "warning.self_transfer": "an output pays our own receive address beyond the index window",
    "warning.foreign_inputs": "some inputs are not ours: a joint transaction, only ours are signed",
    "warning.input_already_signed": "an input of ours was already signed into another transaction",
    "warning.already_signed": "this exact transaction was signed before; it counts once",
    "warning.input_beyond_known": "an input of ours lies far past the indexes this signer knows used",
    "warning.transfer": "an output pays another of our wallets: a transfer, counted as leaving",
    "proof.amount_changed": "an input's amount differs from the amount seen for it earlier",
    # analysis (psbtbridge/analysis.py): a claim of the PSBT that cannot be proven
    "proof.empty_tx": "the transaction has no inputs or no outputs",
    "proof.duplicate_input": "two inputs spend the same outpoint",
    "proof.nothing_to_sign": "no input re-derives from a registered wallet",
    "proof.unknown_amount": "an input carries no UTXO at all, so the fee cannot be known",
    "proof.bad_amount": "an input or output amount is negative or above 21 million BTC",
    "proof.script_too_large": "an output script is longer than 10,000 bytes (consensus MAX_SCRIPT_SIZE)",
    "proof.tx_too_heavy": "the transaction weighs more than the standard 400,000 WU",
    "proof.negative_fee": "the outputs add up to more than the inputs",
    "proof.missing_non_witness_utxo": "an input of ours (not taproot) lacks the full previous transaction proving its amount",
    "proof.redeem_script_mismatch": "PSBT_IN_REDEEM_SCRIPT does not hash to the P2SH output it spends",
    "proof.witness_script_mismatch": "PSBT_IN_WITNESS_SCRIPT does not hash to the P2WSH program it spends",
    "proof.witness_utxo_non_segwit": "a witness UTXO is given for an input that is not segwit",
    "proof.sighash_not_allowed": "an input of ours asks for a sighash type other than ALL (or DEFAULT on taproot)",
    "proof.op_return_value": "an OP_RETURN output carries value, which would be burned",
    "proof.wrong_network": "a derivation path or global xpub belongs to another network",
    "proof.fake_change": "an output claims to be ours but no registered wallet derives its script",
    "proof.change_hardened": "an output claims a hardened change path, which no watch-only wallet derives",
    "proof.change_bad_chain": "an output claims a path outside the receive (0) and change (1) chains",
    "proof.change_beyond_window": "change re-derives as ours, but beyond the index window a wallet scans",
    "proof.change_other_account": "an output claims an account of ours that is not registered",
    "proof.change_script_type": "an output claims our path but has another script type than that wallet",
    "proof.change_script_tree": "taproot change is not the BIP86 key-path output: it may hide a script tree",
    "proof.multisig_change_mismatch": "multisig change claims our wallet but its script uses other keys",
    # verdict (psbtbridge/verdict.py): a rule of policy.toml the proven transaction breaks
    "policy.fee_rate_too_high": "the fee rate is above max_fee_rate",
    "policy.fee_too_high": "the fee is above max_fee",
    "policy.fee_percent_too_high": "the fee, as a share of all outputs, is above max_fee_percent",
    "policy.foreign_inputs": "an input is not ours and allow_foreign_inputs is false",
    "policy.op_return": "an OP_RETURN output and allow_op_return is false",
    "policy.sighash": "an input of ours asks for a sighash type not in allowed_sighash",
    "policy.unattended_disabled": "--confirm policy, but unattended signing is not enabled",
    "policy.destination_not_allowed": "unattended: an output pays outside allowed_destinations",
    "policy.over_transaction_limit": "unattended: more would leave the wallet than max_per_transaction",
    "policy.over_daily_limit": "unattended: the last 24 h plus this would pass max_per_24h",
    "policy.input_signed_elsewhere": "unattended: a coin of ours was already signed into another transaction",
    "policy.input_beyond_known": "unattended: an input of ours lies far past the indexes known used",
    "policy.warning_unattended": "unattended: refused because of a warning (refuse_on_warning)",
    # pipeline and signer (cold/pipeline.py, cold/signer.py)
    "service.digest_mismatch": "the announced digest does not name the transaction (or address) received",
    "sign.key_mismatch": "the seed does not derive a registered key it should sign with",
    # psbt (psbtbridge/psbt/, keyencoding.py, taproot.py)
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
    # qrexec service edge (cold/service.py): the psbtbridge.Sign call itself
    "service.missing_argument": "psbtbridge.Sign was called without the PSBT digest argument",
    "service.bad_argument": "the psbtbridge.Sign argument is not an 8-character lower-case hex digest",
    "service.missing_caller": "QREXEC_REMOTE_DOMAIN is unset: `psbt serve` was not started by qrexec",
    "service.bad_caller": "QREXEC_REMOTE_DOMAIN is not a valid qube name",
    "service.wrong_name": "the service was started under a name other than psbtbridge.Sign",
    "service.read_timeout": "the request did not fully arrive within the read deadline",
    "service.caller_gone": "the calling qube went away before the answer was delivered",
    "service.deadline": "the request was not answered within the service's processing deadline",
    # qrexec client (hot/qrexec_client.py): how a call to the cold qube ended
    "send.bad_client": "PSBTBRIDGE_QREXEC_CLIENT is not a valid command line",
    "send.no_client": "qrexec-client-vm (or PSBTBRIDGE_QREXEC_CLIENT) cannot be run",
    "send.bad_qube": "the cold qube's name is not a valid qube name",
    "send.bad_digest": "the digest to send is not 8 lower-case hex characters (a bug)",
    "send.declined": "the cold qube declined or refused to sign (its reason and code follow)",
    "send.invalid": "the cold qube rejected the PSBT as invalid input",
    "send.signer_error": "the cold signer failed with an internal error or was killed",
    "send.qrexec_denied": "dom0 denied the call: qrexec policy, or the dom0 prompt was declined",
    "send.qrexec_failed": "qrexec itself could not make the call (exit 125)",
    "send.service_missing": "the cold qube has no psbtbridge.Sign service (exit 127)",
    "send.client_failed": "the qrexec client failed without an answer from the cold qube",
    "send.answer_too_large": "the cold qube's answer is larger than the cap",
    "send.empty_answer": "the cold qube reported success but returned nothing",
    # send (hot/send.py, hot/commands/send.py)
    "send.network_mismatch": "--network disagrees with the network of PSBTBRIDGE_ELECTRUM",
    "send.usage": "psbt send: the options given do not go together",
    "send.bad_amount": "an amount to pay is not an exact BTC amount",
    "send.bad_address": "an address to pay is not a bitcoin address",
    "send.wrong_network": "an address to pay belongs to another network than --network",
    "send.prevtx_unavailable": "an input lacks its previous transaction and Electrum cannot supply it",
    "send.payment_missing": "Electrum's transaction does not make a payment that was asked for",
    "send.tx_changed": "the signed PSBT is for another transaction than the one sent",
    "send.no_signature": "the signer's answer adds no signature",
    "send.broadcast_failed": "broadcasting failed; the signed transaction was saved to a file",
    # sighash (psbtbridge/sighash.py)
    "sighash.bad_type": "a sighash type that is not one of the standard ones (or DEFAULT outside taproot)",
    "sighash.bad_amount": "an amount to commit to is negative or over 2^63",
    "sighash.bad_index": "a sighash was asked for an input the transaction does not have",
    "sighash.single_no_output": "SIGHASH_SINGLE on an input with no output at its index: never signed",
    "sighash.bad_script": "a scriptCode ends inside a push",
    "sighash.spent_outputs": "spent outputs missing or not one per input (taproot commits to all)",
    "sighash.bad_annex": "a taproot annex that does not start with 0x50",
    "sighash.bad_leaf_hash": "a tapleaf hash that is not 32 bytes",
    # crypto (cold/crypto.py)
    "crypto.no_libsecp256k1": "libsecp256k1 cannot be loaded through embit: nothing is signed",
    "crypto.bad_key": "a private key is not a valid secp256k1 scalar",
    "crypto.bad_message": "a message, aux_rand or merkle root of the wrong length (a bug)",
    "crypto.sign_failed": "a fresh Schnorr signature failed its own check, or no low-R ECDSA one was found",
    # verify (psbtbridge/verify/): the independent check of every signature
    "verify.spent_outputs": "spent outputs not one per input",
    "verify.bad_tx": "the verifier's parsers (embit's, python-bitcointx's) cannot read the transaction",
    "verify.no_library": "Debian's libsecp256k1 (libsecp256k1.so.1) cannot be loaded",
    "verify.bad_index": "a check was asked for an input the transaction does not have",
    "verify.missing_utxo": "the output an input spends is unknown (taproot needs all of them)",
    "verify.script_mismatch": "a redeemScript or witnessScript does not match the spent output",
    "verify.wrong_key": "the signing key is not the one the spent output commits to",
    "verify.unsupported": "a spend this verifier cannot check (taproot script path, OP_CODESEPARATOR)",
    "verify.bad_encoding": "a signature or public key is not strictly encoded (DER, low S, lengths)",
    "verify.hash_type": "a signature carries a sighash type that is not accepted",
    "verify.bad_signature": "a signature does not verify for this transaction, amount and key",
    "verify.script_failed": "an input's scriptSig and witness do not spend its output",
    # finalize (psbtbridge/psbt/finalize.py, `psbt finalize`)
    "finalize.missing_utxo": "an input has neither non_witness_utxo nor witness_utxo",
    "finalize.missing_signature": "an input lacks the signatures its script needs",
    "finalize.unsupported": "an input's script type is not one the finalizer supports",
    "finalize.script_mismatch": "a redeemScript or witnessScript is missing or does not match",
    "finalize.not_finalized": "extraction asked for a PSBT with an unfinalized input",
    "finalize.no_inputs": "a PSBT without inputs has no transaction to extract",
    # message (psbtbridge/message.py, bip322.py, cold/message_sign.py, `psbt message`)
    "message.bad_signature": "the signature is not base64, not 65 bytes, or not a witness stack or transaction",
    "message.invalid": "the signature does not sign this message for this address",
    "message.inconclusive": "BIP-322: a signature of a kind this verifier cannot check (proof of funds, script path, time locks)",
    "message.too_long": "the message is over the 64 KiB cap",
    "message.not_utf8": "the message is not UTF-8 text",
    "message.not_ours": "the address is not one of the keystore's wallets (receive or change, within the window)",
    "message.multisig": "the address belongs to a multisig wallet: one key cannot sign a message for it",
    "message.unsupported_format": "the format cannot sign for this address type (bip322 needs p2wpkh/p2tr; electrum p2pkh/p2sh-p2wpkh/p2wpkh)",
    "message.unattended": "--confirm policy: a message is never signed without a person reading it",
    # electrum (hot/electrum.py): the hot side's Electrum command line
    "electrum.bad_command": "PSBTBRIDGE_ELECTRUM is not a valid command line",
    "electrum.missing": "the Electrum command cannot be run (not installed, not on PATH)",
    "electrum.not_running": "no Electrum daemon or GUI is running (and --offline was not given)",
    "electrum.wallet_not_loaded": "the wallet is not open in the running Electrum",
    "electrum.wallet_missing": "Electrum cannot find the wallet file",
    "electrum.wrong_network": "Electrum cannot read the wallet's keys: it runs on another network",
    "electrum.offline": "the command needs the network but Electrum runs offline",
    "electrum.timeout": "Electrum did not answer in time",
    "electrum.failed": "an Electrum command failed for another reason (its message is shown)",
    "electrum.bad_output": "Electrum printed something that is not what the command returns",
    "electrum.insufficient_funds": "the wallet cannot pay the outputs and the fee",
    "electrum.unrelated_tx": "a transaction to add neither pays to nor spends from the wallet",
    "electrum.tx_rejected": "Electrum did not add a transaction (it conflicts with the wallet's)",
    "electrum.broadcast_failed": "Electrum's server did not accept the transaction",
    "electrum.bad_address": "an output address is not a plain bech32/base58 address",
    "electrum.bad_amount": "an amount is not a positive BTC amount with at most 8 decimals",
    "electrum.bad_feerate": "the fee rate is missing, not finite, or out of range (sat/vB)",
    "electrum.bad_output_count": "a payment needs between 1 and 1000 outputs",
    "electrum.bad_txid": "a txid is not 64 lowercase hex digits",
    "electrum.bad_tx": "bytes to add or broadcast are not a serialized transaction",
    "electrum.wallet_exists": "the wallet file exists already; it is never overwritten",
    "electrum.address_mismatch": "Electrum and psbtbridge derive different addresses for a new wallet",
    "electrum.stale_lockfile": "Electrum 4.5 refuses to run offline: its daemon lockfile exists but no Electrum answers",
    # watch_only (hot/watch_only.py): a cold export turned into an Electrum wallet file
    "watch_only.bad_export": "the key export is not valid psbtbridge-export/1 JSON",
    "watch_only.no_wallet": "the export has no wallet of the name asked for",
    "watch_only.bad_key": "an export key is private, of another network, or not where its origin says",
    "watch_only.unsupported": "a wallet Electrum cannot watch (taproot, unsorted or >15-key multisig)",
}
