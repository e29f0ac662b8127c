"""An Electrum wallet file, read (never written): the one keystore that holds our secret.

Electrum (storage.py, crypto.py, ecc.py, keystore.py, json_db.py) stores a wallet as JSON,
since 4.5 possibly followed by JSON-patch lines. With storage encryption the whole file is
base64 of "BIE1" || ephemeral public key || AES-128-CBC ciphertext || HMAC-SHA256, keyed by
SHA-512 of the ECDH point between the ephemeral key and the password's key
(PBKDF2-HMAC-SHA512(password, "", 1024) mod n); the plaintext is zlib-compressed. With a
password, the keystore's `seed`, `passphrase` and `xprv` are each base64 of IV ||
AES-256-CBC under SHA256d(password), without a MAC: a wrong password is detected by
re-deriving the stored xpub, as Electrum's check_password does.

Everything in the file is untrusted until re-derived: the result's secret always
reproduces the keystore's xpub, and a seed reproduces the xprv.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Final

from embit import base58
from embit.bip32 import HDKey
from embit.util import ctypes_secp256k1 as secp

from cold.crypto import public_key
from cold.keystore.electrum_seed import electrum_seed
from psbtbridge.bip32 import KeyOrigin
from psbtbridge.errors import Code, ConfigError, InvalidInput, Refused
from psbtbridge.hashes import hash160
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet import AccountKey
from psbtbridge.wallet.wallet import parse_path_item

#: A wallet with years of history is a few MiB; the decompressed JSON is bounded the same.
MAX_WALLET_FILE_SIZE: Final = 64 * 1024 * 1024
#: Electrum 2.7 wrote seed_version 13+; 4.3.4 writes 50, 4.5.8 upgrades to 59.
MIN_SEED_VERSION: Final = 17
MAX_SEED_VERSION: Final = 59
_CURVE_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MULTISIG_TYPE: Final = re.compile(r"([1-9][0-9]?)of([1-9][0-9]?)")
_MAX_PATCHES: Final = 1_000_000

#: Electrum's xpub version names (SLIP-132, as in embit's table) -> (single-sig, multisig).
_SCRIPT_TYPES: Final = {
    "xpub": (ScriptType.P2PKH, ScriptType.P2SH),
    "ypub": (ScriptType.P2SH_P2WPKH, None),
    "zpub": (ScriptType.P2WPKH, None),
    "Ypub": (None, ScriptType.P2SH_P2WSH),
    "Zpub": (None, ScriptType.P2WSH),
}


@dataclass(frozen=True)
class OurKey:
    """The keystore that holds our secret: its account key, and the secret proven to match.

    seed is the 64-byte BIP32 seed of an Electrum seed phrase (then the account key is at
    account.origin.path below it); None for a wallet that keeps only the account xprv.
    """

    script_type: ScriptType
    account: AccountKey
    electrum_xpub: str  # as the file has it: what the user's watch-only wallet shows
    private_key: bytes = field(repr=False)
    chain_code: bytes = field(repr=False)
    seed: bytes | None = field(repr=False)

    def account_xprv(self, network: Network) -> str:
        """The account's extended private key, in the network's standard xprv version."""
        public = base58.decode_check(self.account.xpub)
        payload = public[4:13] + self.chain_code + b"\x00" + self.private_key
        return str(base58.encode_check(network.params["xprv"] + payload))


@dataclass(frozen=True)
class MultisigPieces:
    """An Electrum m-of-n wallet (always sortedmulti, keys in x1..xn order)."""

    threshold: int
    script_type: ScriptType
    keys: tuple[AccountKey, ...]


@dataclass(frozen=True)
class ElectrumWallet:
    network: Network
    ours: OurKey
    multisig: MultisigPieces | None


# --- storage encryption (BIE1) -------------------------------------------------------------


def storage_magic(untrusted_data: bytes) -> bytes | None:
    """b"BIE1" / b"BIE2" for a storage-encrypted file, None for a plain one."""
    text = untrusted_data.strip()
    if text[:1] == b"{":
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw[:4] if raw[:4] in (b"BIE1", b"BIE2") else None


def _password_point_secret(password: str) -> bytes:
    secret = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), b"", 1024)
    scalar = int.from_bytes(secret, "big") % _CURVE_ORDER
    return scalar.to_bytes(32, "big")


def decrypt_storage(untrusted_data: bytes, password: str) -> bytes:
    """The decompressed plaintext of a BIE1 file; a MAC mismatch is a wrong password."""
    try:
        raw = base64.b64decode(untrusted_data.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, "the encrypted wallet is not base64"
        ) from error
    if len(raw) < 4 + 33 + 16 + 32 or raw[:4] != b"BIE1" or (len(raw) - 69) % 16:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "the encrypted wallet is truncated")
    ephemeral, ciphertext, mac = raw[4:37], raw[37:-32], raw[-32:]
    try:
        # embit's tweak_mul multiplies the freshly parsed 64-byte point in place
        shared = secp.ec_pubkey_parse(ephemeral)
        secp.ec_pubkey_tweak_mul(shared, _password_point_secret(password))
    except ValueError as error:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, "the encrypted wallet's ephemeral key is not a point"
        ) from error
    digest = hashlib.sha512(bytes(secp.ec_pubkey_serialize(shared, secp.EC_COMPRESSED))).digest()
    iv, aes_key, mac_key = digest[:16], digest[16:32], digest[32:]
    if not hmac.compare_digest(mac, hmac.digest(mac_key, raw[:-32], "sha256")):
        raise ConfigError(Code.KEYS_WRONG_PASSWORD, "wrong password for the Electrum wallet file")
    compressed = _aes_cbc_decrypt(aes_key, iv, ciphertext)
    if compressed is None:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "the decrypted wallet has bad padding")
    inflater = zlib.decompressobj()
    try:
        plaintext = inflater.decompress(compressed, MAX_WALLET_FILE_SIZE + 1)
    except zlib.error as error:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, "the decrypted wallet is not zlib"
        ) from error
    if len(plaintext) > MAX_WALLET_FILE_SIZE or not inflater.eof:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "the decrypted wallet is too large or cut")
    return plaintext


def _aes_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes | None:
    """AES-CBC with PKCS#7 padding removed; None when the padding is wrong."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if not ciphertext or len(ciphertext) % 16:
        return None
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        return None
    return padded[:-pad]


def decrypt_field(untrusted_value: str, password: str) -> str:
    """Electrum's pw_decode (hash version 1): base64(IV || AES-256-CBC), key SHA256d(password)."""
    try:
        raw = base64.b64decode(untrusted_value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, "an encrypted field is not base64"
        ) from error
    key = hashlib.sha256(hashlib.sha256(password.encode("utf-8")).digest()).digest()
    plaintext = _aes_cbc_decrypt(key, raw[:16], raw[16:]) if len(raw) >= 32 else None
    if plaintext is None:
        raise ConfigError(Code.KEYS_WRONG_PASSWORD, "wrong password for the Electrum wallet file")
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            Code.KEYS_WRONG_PASSWORD, "wrong password for the Electrum wallet file"
        ) from error


# --- the JSON document (4.3: one object; 4.5: an object, then ",\n"-separated patches) ---


def load_document(untrusted_text: str) -> dict[str, Any]:
    """The wallet's JSON object with 4.5's appended JSON patches applied (add/replace/remove)."""
    decoder = json.JSONDecoder()
    text = untrusted_text.strip()
    try:
        document, end = decoder.raw_decode(text)
        patches: list[Any] = []
        while end < len(text):
            if text[end:] == ",":
                break  # an append cut after its separator: Electrum drops it too
            if not text.startswith(",", end) or len(patches) >= _MAX_PATCHES:
                raise InvalidInput(
                    Code.KEYS_ELECTRUM_BAD_FILE, "the wallet file is not Electrum JSON"
                )
            patch, end = decoder.raw_decode(text, end + 1 + _spaces(text, end + 1))
            patches.append(patch)
    except (ValueError, RecursionError) as error:  # JSONDecodeError; absurd nesting
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, "the wallet file is not Electrum's JSON (or truncated)"
        ) from error
    if not isinstance(document, dict):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "the wallet file is not a JSON object")
    for patch in patches:
        _apply_patch(document, patch)
    return document


def _spaces(text: str, start: int) -> int:
    return len(text[start:]) - len(text[start:].lstrip())


def _apply_patch(document: dict[str, Any], untrusted_patch: object) -> None:
    """RFC 6902 add/replace/remove on object members (all Electrum's json_db writes)."""
    ops = untrusted_patch if isinstance(untrusted_patch, list) else [untrusted_patch]
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "a JSON patch in the file is malformed")
        pointer = op["path"]
        if not pointer.startswith("/"):
            raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "a JSON patch path is not a pointer")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
        parent: Any = document
        for part in parts[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            # lists and missing parents: never in a keystore; leave the rest of the file alone
            continue
        last = parts[-1]
        match op.get("op"):
            case "add" | "replace" if "value" in op:
                parent[last] = op["value"]
            case "remove":
                parent.pop(last, None)
            case _:
                raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "a JSON patch has an unknown op")


# --- keystores ---------------------------------------------------------------------------


def read_wallet(untrusted_data: bytes, password: str | None, network: Network) -> ElectrumWallet:
    """Parse a wallet file's bytes: decrypt, pick our keystore, prove its secret."""
    magic = storage_magic(untrusted_data)
    if magic == b"BIE2":
        raise Refused(
            Code.KEYS_ELECTRUM_HARDWARE_ENCRYPTION,
            "the wallet file is encrypted with a hardware wallet's key (BIE2): it holds no"
            " secret psbtbridge can use",
        )
    if magic == b"BIE1":
        if not password:
            raise ConfigError(
                Code.KEYS_PASSWORD_REQUIRED,
                "the Electrum wallet file is encrypted: give its password",
            )
        untrusted_plain = decrypt_storage(untrusted_data, password)
    else:
        untrusted_plain = untrusted_data
    try:
        untrusted_text = untrusted_plain.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "the wallet file is not UTF-8") from error
    return parse_wallet(load_document(untrusted_text), password, network)


def parse_wallet(
    untrusted: dict[str, Any], password: str | None, network: Network
) -> ElectrumWallet:
    seed_version = untrusted.get("seed_version")
    if (
        not isinstance(seed_version, int)
        or isinstance(seed_version, bool)
        or not MIN_SEED_VERSION <= seed_version <= MAX_SEED_VERSION
    ):
        raise InvalidInput(
            Code.KEYS_ELECTRUM_UNSUPPORTED_VERSION,
            f"the wallet file's seed_version {str(seed_version)[:12]} is not one this reads"
            f" ({MIN_SEED_VERSION}..{MAX_SEED_VERSION}): open it once with Electrum 4.3..4.5",
        )
    use_encryption = untrusted.get("use_encryption", False)
    if not isinstance(use_encryption, bool):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "use_encryption is not a boolean")
    if use_encryption and not password:
        raise ConfigError(
            Code.KEYS_PASSWORD_REQUIRED,
            "the Electrum wallet's keys are encrypted: give its password",
        )
    field_password = password if use_encryption else None
    wallet_type = untrusted.get("wallet_type")
    if wallet_type == "standard":
        entry = _keystore_entry(untrusted.get("keystore"), "keystore")
        if entry.get("xprv") is None and entry.get("type") == "bip32":
            raise Refused(Code.KEYS_ELECTRUM_WATCH_ONLY, "the wallet file is watch-only: no secret")
        ours = _our_key(entry, "keystore", field_password, network, multisig=False)
        return ElectrumWallet(network, ours, None)
    if wallet_type in ("2fa", "trustedcoin"):
        raise Refused(
            Code.KEYS_ELECTRUM_2FA_SEED,
            "this is an Electrum 2FA (TrustedCoin) wallet: not supported",
        )
    match = _MULTISIG_TYPE.fullmatch(wallet_type) if isinstance(wallet_type, str) else None
    if match is None:
        raise Refused(
            Code.KEYS_ELECTRUM_UNSUPPORTED_WALLET,
            f"Electrum wallet type {str(wallet_type)[:20]!r} is not supported (only standard"
            " and multisig wallets with keys)",
        )
    threshold, count = int(match[1]), int(match[2])
    if not 1 <= threshold <= count <= 15:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"bad multisig type {wallet_type}")
    return _multisig(untrusted, threshold, count, field_password, network)


def _multisig(
    untrusted: dict[str, Any], threshold: int, count: int, password: str | None, network: Network
) -> ElectrumWallet:
    entries = []
    for i in range(1, count + 1):
        # 4.3 names them "x1/"; 4.5's upgrade to seed_version 55 renamed them "x1"
        name = f"x{i}/" if f"x{i}/" in untrusted else f"x{i}"
        entries.append((name, _keystore_entry(untrusted.get(name), name)))
    for name, entry in entries:
        if entry.get("type") == "hardware":
            continue
        if entry.get("type") != "bip32":
            _refuse_keystore_type(entry, name)
    secret_holders = [(n, e) for n, e in entries if e.get("type") == "bip32" and e.get("xprv")]
    if not secret_holders:
        if any(e.get("type") == "hardware" for _, e in entries):
            _refuse_keystore_type({"type": "hardware"}, "the multisig wallet")
        raise Refused(
            Code.KEYS_ELECTRUM_WATCH_ONLY, "no keystore of the multisig wallet has a secret"
        )
    if len(secret_holders) > 1:
        raise Refused(
            Code.KEYS_ELECTRUM_SEVERAL_SECRETS,
            f"{len(secret_holders)} keystores of this multisig wallet hold secrets: one signer"
            f" would hold several of the {threshold} signatures",
        )
    our_name, our_entry = secret_holders[0]
    ours = _our_key(our_entry, our_name, password, network, multisig=True)
    keys = []
    for name, entry in entries:
        if name == our_name:
            keys.append(ours.account)
            continue
        xpub = _string(entry, "xpub", name)
        _, standard = _xpub_script_type(xpub, network, multisig=True, where=name)
        keys.append(AccountKey(_origin(entry, standard, name), standard))
    if len({k.xpub for k in keys}) != len(keys):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, "a cosigner key appears twice")
    return ElectrumWallet(network, ours, MultisigPieces(threshold, ours.script_type, tuple(keys)))


def _keystore_entry(untrusted: object, name: str) -> dict[str, Any]:
    if not isinstance(untrusted, dict):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"keystore {name} is missing or malformed")
    return untrusted


def _refuse_keystore_type(entry: dict[str, Any], name: str) -> None:
    kind = entry.get("type")
    if kind == "hardware":
        raise Refused(
            Code.KEYS_ELECTRUM_HARDWARE,
            f"{name} is a hardware wallet ({str(entry.get('hw_type'))[:20]}): its keys are on"
            " the device, sign there",
        )
    if kind == "old":
        raise Refused(
            Code.KEYS_ELECTRUM_OLD_SEED,
            f"{name} holds a pre-2.0 Electrum seed, which psbtbridge does not support",
        )
    if kind == "imported":
        raise Refused(
            Code.KEYS_ELECTRUM_IMPORTED_KEYS,
            f"{name} holds imported single private keys, which psbtbridge does not support",
        )
    raise Refused(
        Code.KEYS_ELECTRUM_UNSUPPORTED_WALLET, f"{name} has keystore type {str(kind)[:20]!r}"
    )


def _our_key(
    entry: dict[str, Any], name: str, password: str | None, network: Network, *, multisig: bool
) -> OurKey:
    if entry.get("type") != "bip32":
        _refuse_keystore_type(entry, name)
    if entry.get("pw_hash_version", 1) != 1:
        raise Refused(
            Code.KEYS_ELECTRUM_UNSUPPORTED_VERSION, f"{name} uses an unknown password hash version"
        )
    electrum_xpub = _string(entry, "xpub", name)
    script_type, standard = _xpub_script_type(electrum_xpub, network, multisig=multisig, where=name)
    account = AccountKey(_origin(entry, standard, name), standard)
    untrusted_xprv = _string(entry, "xprv", name)
    xprv = untrusted_xprv if password is None else decrypt_field(untrusted_xprv, password)
    private_key, chain_code = _xprv_matching(xprv, standard, name)
    seed = _seed_of(entry, name, password, account, private_key)
    return OurKey(script_type, account, electrum_xpub, private_key, chain_code, seed)


def _xprv_matching(untrusted_xprv: str, standard_xpub: str, name: str) -> tuple[bytes, bytes]:
    """(private key, chain code) of the keystore's xprv, which must be the xpub's private half:
    with a wrong password the decrypted bytes are noise (or, rarely, pad correctly)."""
    wrong = ConfigError(Code.KEYS_WRONG_PASSWORD, "wrong password for the Electrum wallet file")
    try:
        raw = base58.decode_check(untrusted_xprv)
    except (ValueError, IndexError) as error:
        raise wrong from error
    public = base58.decode_check(standard_xpub)
    if len(raw) != 78 or raw[45] != 0 or raw[4:13] != public[4:13]:
        raise wrong
    private_key, chain_code = raw[46:78], raw[13:45]
    try:
        matches = public_key(private_key) == public[45:] and chain_code == public[13:45]
    except ConfigError as error:  # not a valid scalar
        raise wrong from error
    if not matches:
        raise wrong
    return private_key, chain_code


def _seed_of(
    entry: dict[str, Any], name: str, password: str | None, account: AccountKey, private_key: bytes
) -> bytes | None:
    """The keystore's Electrum seed, as BIP32 seed bytes, when it has one that derives the xprv."""
    untrusted_seed = entry.get("seed")
    if untrusted_seed is None:
        return None
    if not isinstance(untrusted_seed, str):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{name}: the seed is not a string")
    phrase = untrusted_seed if password is None else decrypt_field(untrusted_seed, password)
    untrusted_extension = entry.get("passphrase") or ""
    if not isinstance(untrusted_extension, str):
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{name}: the passphrase is not a string")
    extension = (
        untrusted_extension
        if password is None or not untrusted_extension
        else decrypt_field(untrusted_extension, password)
    )
    seed = electrum_seed(phrase, extension).seed_bytes  # refuses 2FA, old and unknown types
    root = HDKey.from_seed(seed)
    secret = bytes(root.derive(list(account.origin.path)).key.secret)
    root_fingerprint = bytes(root.my_fingerprint)
    if secret != private_key or root_fingerprint != account.origin.fingerprint:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_SEED_MISMATCH,
            f"{name}: the seed (with its extension) does not derive the stored key",
        )
    return seed


def _string(entry: dict[str, Any], key: str, name: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{name}: field {key!r} is missing")
    return value


def _xpub_script_type(
    untrusted_xpub: str, network: Network, *, multisig: bool, where: str
) -> tuple[ScriptType, str]:
    """The script type Electrum's version bytes imply, and the xpub in standard version."""
    try:
        raw = base58.decode_check(untrusted_xpub)
    except (ValueError, IndexError) as error:
        raise InvalidInput(
            Code.KEYS_ELECTRUM_BAD_FILE, f"{where}: the xpub is not base58"
        ) from error
    if len(raw) != 78:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{where}: the xpub is not 78 bytes")
    params = network.params
    for version_name, (single, multi) in _SCRIPT_TYPES.items():
        if raw[:4] == params[version_name]:
            script_type = multi if multisig else single
            if script_type is None:
                raise InvalidInput(
                    Code.KEYS_ELECTRUM_BAD_FILE,
                    f"{where}: a {version_name} key in a {'multi' if multisig else 'single'}"
                    "-sig wallet",
                )
            return script_type, str(base58.encode_check(params["xpub"] + raw[4:]))
    raise InvalidInput(
        Code.KEYS_ELECTRUM_WRONG_NETWORK,
        f"{where}: the xpub is not a {network.value} key (give --network)",
    )


def _origin(entry: dict[str, Any], standard_xpub: str, name: str) -> KeyOrigin:
    """Root fingerprint and path as Electrum records them (root_fingerprint + derivation),
    else what it infers from the xpub itself (bip32.root_fp_and_der_prefix_from_xkey)."""
    raw = base58.decode_check(standard_xpub)
    depth, parent, child = raw[4], raw[5:9], int.from_bytes(raw[9:13], "big")
    untrusted_fp, untrusted_derivation = entry.get("root_fingerprint"), entry.get("derivation")
    if isinstance(untrusted_fp, str) and isinstance(untrusted_derivation, str):
        try:
            fingerprint = bytes.fromhex(untrusted_fp)
            path = _parse_derivation(untrusted_derivation, name)
            return KeyOrigin(fingerprint, path)
        except ValueError as error:
            raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{name}: bad key origin") from error
    if depth == 0:
        return KeyOrigin(hash160(raw[45:])[:4], ())
    if depth == 1:
        return KeyOrigin(parent, (child,))
    raise Refused(
        Code.KEYS_ELECTRUM_UNKNOWN_ORIGIN,
        f"{name}: a depth-{depth} key without its root fingerprint and derivation; psbtbridge"
        " needs the key's origin",
    )


def _parse_derivation(untrusted: str, name: str) -> tuple[int, ...]:
    """Electrum writes "m/0'" or "m/84'/1'/0'" (also "m/" for the root)."""
    parts = untrusted.rstrip("/").split("/")
    if parts[0] != "m" or len(parts) > 256:
        raise InvalidInput(Code.KEYS_ELECTRUM_BAD_FILE, f"{name}: bad derivation")
    return tuple(parse_path_item(part, name) for part in parts[1:])
