"""The keystore: one seed or account key, encrypted at rest, with its public account keys readable without it.

File `keystore.json` in the data home, mode 0600, written once and atomically. Its public
header (network, master fingerprint, account xpubs, KDF and cipher parameters) is the
AEAD's associated data, so altering any of it makes unlocking fail; after decryption the
header is also re-derived from the seed and compared, which covers unencrypted files.

What is sealed is said by the header's "kind" (absent in keystores written before it, which
all hold BIP39 words): `bip39` (a mnemonic: BIP44/49/84/86 and BIP48 accounts), or one key
imported from Electrum: `electrum_seed` (the 64-byte BIP32 seed of an Electrum seed phrase)
or `account_xprv` (an account xprv and its origin, all a BIP39-restored or xprv Electrum
wallet keeps). Those hold exactly one key: one single-sig account, or one multisig
cosigner key whose wallet is in the registry; its path is read from the header, not
recomputed, and the xpub is re-derived from the secret on unlock.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

from embit.bip32 import HDKey

from cold.keystore.bip39 import mnemonic_to_seed, normalize_mnemonic
from cold.keystore.kdf import Argon2idKdf, Kdf, ScryptKdf, b64_text, default_kdf
from cold.keystore.seed import (
    COSIGNER_SCRIPTS,
    KIND_ACCOUNT_XPRV,
    KIND_ELECTRUM_SEED,
    SINGLE_SIG_PURPOSES,
    ImportedSecret,
    Seed,
    cosigner_path,
    seed_from_secret,
    single_sig_path,
    wallet_name,
)
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import BridgeError, Code, ConfigError, InvalidInput, UsageError
from psbtbridge.files import load_json, read_stored, write_new
from psbtbridge.home import KEYSTORE_NAME, MAX_KEYSTORE_SIZE
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet import AccountKey, Wallet
from psbtbridge.wallet.wallet import parse_path_item

FORMAT: Final = "psbtbridge-keystore/1"
CIPHER: Final = "chacha20poly1305"
KIND_BIP39: Final = "bip39"


# --- the file ----------------------------------------------------------------------------


class Encryption(NamedTuple):
    kdf: Kdf
    nonce: bytes

    def to_json(self) -> dict[str, Any]:
        return {"kdf": self.kdf.to_json(), "cipher": CIPHER, "nonce": b64_text(self.nonce)}


class CosignerKey(NamedTuple):
    """Our BIP48 account xpub for one multisig script type, to hand to a coordinator."""

    script_type: ScriptType
    key: AccountKey


class KeystoreFile(NamedTuple):
    """The keystore as read from disk: public metadata, and the secret still sealed."""

    path: Path
    network: Network
    master_fingerprint: bytes
    account: int
    wallets: tuple[Wallet, ...]  # single-sig, one per SINGLE_SIG_PURPOSES entry
    cosigner_keys: tuple[CosignerKey, ...]
    encryption: Encryption | None
    secret: bytes  # not in the repr, nor is header
    header: bytes  # canonical public part: the AEAD associated data
    kind: str = KIND_BIP39

    @property
    def encrypted(self) -> bool:
        return self.encryption is not None

    def __repr__(self) -> str:
        # An unencrypted keystore's secret is the seed itself: never in a log or a traceback.
        return (
            f"KeystoreFile(path={self.path!r}, network={self.network!r},"
            f" master_fingerprint={self.master_fingerprint!r}, account={self.account!r},"
            f" wallets={self.wallets!r}, cosigner_keys={self.cosigner_keys!r},"
            f" encryption={self.encryption!r}, kind={self.kind!r})"
        )


def _public_metadata(
    seed: Seed, account: int
) -> tuple[tuple[Wallet, ...], tuple[CosignerKey, ...]]:
    network = seed.network
    wallets = tuple(
        Wallet(
            wallet_name(script_type, account),
            script_type,
            1,
            (seed.account_key(single_sig_path(script_type, network, account)),),
            False,
            network,
        )
        for script_type in SINGLE_SIG_PURPOSES
    )
    cosigners = tuple(
        CosignerKey(script_type, seed.account_key(cosigner_path(script_type, network, account)))
        for script_type in COSIGNER_SCRIPTS
    )
    return wallets, cosigners


def _header(
    *,
    network: Network,
    fingerprint: bytes,
    account: int,
    wallets: tuple[Wallet, ...],
    cosigners: tuple[CosignerKey, ...],
    encryption: Encryption | None,
    kind: str = KIND_BIP39,
) -> dict[str, Any]:
    header = {
        "format": FORMAT,
        "network": network.value,
        "master_fingerprint": fingerprint.hex(),
        "account": account,
        "accounts": [
            {
                "name": w.name,
                "script_type": w.script_type.value,
                "derivation": w.keys[0].origin.derivation,
                "xpub": w.keys[0].xpub,
            }
            for w in wallets
        ],
        "cosigner_keys": [
            {
                "script_type": c.script_type.value,
                "derivation": c.key.origin.derivation,
                "xpub": c.key.xpub,
            }
            for c in cosigners
        ],
        "encryption": None if encryption is None else encryption.to_json(),
    }
    if kind != KIND_BIP39:  # BIP39 keystores keep the header (the AEAD data) they always had
        header["kind"] = kind
    return header


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def build_keystore(
    mnemonic: str,
    *,
    bip39_passphrase: str,
    network: Network,
    account: int,
    passphrase: str | None,
    random_bytes: bytes,
    kdf: Kdf | None = None,
) -> bytes:
    """The bytes of a new keystore file; passphrase None stores the seed unencrypted.

    random_bytes (28 bytes: 16 of salt, 12 of nonce) comes from the caller, who takes
    it from the OS; kdf defaults to `default_kdf` over that salt.
    """
    if len(random_bytes) != 28:
        raise BridgeError(Code.INTERNAL_BUG, "build_keystore needs 28 random bytes")
    if not 0 <= account < HARDENED:
        raise UsageError(Code.KEYSTORE_BAD_ACCOUNT, f"account {account} is not in 0..2^31-1")
    if passphrase == "":
        raise UsageError(
            Code.KEYSTORE_EMPTY_PASSPHRASE,
            "the keystore passphrase is empty: give one, or choose --no-encryption",
        )
    mnemonic = normalize_mnemonic(mnemonic)
    seed = _seed_from(mnemonic, bip39_passphrase, network)
    wallets, cosigners = _public_metadata(seed, account)
    plaintext = json.dumps({"mnemonic": mnemonic, "bip39_passphrase": bip39_passphrase}).encode()
    return _seal(
        seed, account, wallets, cosigners, KIND_BIP39, plaintext, passphrase, random_bytes, kdf
    )


def build_key_keystore(
    secret: ImportedSecret,
    *,
    network: Network,
    script_type: ScriptType,
    path: tuple[int, ...],
    multisig: bool,
    passphrase: str | None,
    random_bytes: bytes,
    kdf: Kdf | None = None,
) -> bytes:
    """The bytes of a keystore holding one imported key (an Electrum seed or an account
    xprv, as `seed` holds it): a single-sig account, or our key of a multisig wallet."""
    if len(random_bytes) != 28:
        raise BridgeError(Code.INTERNAL_BUG, "build_key_keystore needs 28 random bytes")
    if passphrase == "":
        raise UsageError(
            Code.KEYSTORE_EMPTY_PASSPHRASE,
            "the keystore passphrase is empty: give one, or choose --no-encryption",
        )
    seed = seed_from_secret(secret, network)
    key = seed.account_key(path)
    wallets: tuple[Wallet, ...] = ()
    cosigners: tuple[CosignerKey, ...] = ()
    if multisig:
        cosigners = (CosignerKey(script_type, key),)
    else:
        wallets = (
            Wallet(wallet_name(script_type, 0), script_type, 1, (key,), False, seed.network),
        )
    return _seal(
        seed, 0, wallets, cosigners, secret.kind, secret.sealed(), passphrase, random_bytes, kdf
    )


def _seal(
    seed: Seed,
    account: int,
    wallets: tuple[Wallet, ...],
    cosigners: tuple[CosignerKey, ...],
    kind: str,
    plaintext: bytes,
    passphrase: str | None,
    random_bytes: bytes,
    kdf: Kdf | None,
) -> bytes:
    encryption = None
    if passphrase is not None:
        encryption = Encryption(kdf or default_kdf(random_bytes[:16]), random_bytes[16:])
    header = _header(
        network=seed.network,
        fingerprint=seed.fingerprint,
        account=account,
        wallets=wallets,
        cosigners=cosigners,
        encryption=encryption,
        kind=kind,
    )
    if encryption is not None and passphrase is not None:
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        key = encryption.kdf.derive_key(passphrase)
        secret = ChaCha20Poly1305(key).encrypt(encryption.nonce, plaintext, _canonical(header))
    else:
        secret = plaintext
    return (json.dumps({**header, "secret": b64_text(secret)}, indent=2) + "\n").encode()


def keystore_path(home: Path) -> Path:
    return home / KEYSTORE_NAME


def write_new_keystore(home: Path, data: bytes) -> Path:
    """Store a keystore built by build_keystore; never replace an existing one."""
    path = keystore_path(home)
    try:
        write_new(path, data, mode=0o600)
    except FileExistsError as error:
        raise ConfigError(
            Code.KEYSTORE_EXISTS,
            f"a keystore already exists at {path}; move it away first (it may hold funds)",
        ) from error
    return path


def load_keystore(home: Path) -> KeystoreFile:
    """Read and strictly parse the keystore; needs no passphrase."""
    path = keystore_path(home)
    untrusted_data = read_stored(
        path, MAX_KEYSTORE_SIZE, Code.KEYSTORE_UNREADABLE, Code.KEYSTORE_CORRUPT
    )
    if untrusted_data is None:
        raise ConfigError(
            Code.KEYSTORE_MISSING, f"no keystore at {path}: create one with `psbt keys init`"
        )
    return parse_keystore(untrusted_data, path)


def parse_keystore(untrusted_data: bytes, path: Path) -> KeystoreFile:
    """Strict parse: exact fields, exact types, bounded KDF parameters; else keystore.corrupt."""
    untrusted = load_json(
        untrusted_data, lambda why: _corrupt(path, f"{why} (truncated?)"), cap=MAX_KEYSTORE_SIZE
    )
    if not isinstance(untrusted, dict):
        raise _corrupt(path, "it is not a JSON object")
    if untrusted.get("format") != FORMAT:
        raise ConfigError(
            Code.KEYSTORE_UNSUPPORTED_FORMAT,
            f"{path} has format {str(untrusted.get('format'))[:40]!r}; this version reads {FORMAT}",
        )
    expected = {
        "format",
        "network",
        "master_fingerprint",
        "account",
        "accounts",
        "cosigner_keys",
        "encryption",
        "secret",
    }
    kind = untrusted.get("kind", KIND_BIP39)
    if "kind" in untrusted:
        expected.add("kind")
        if kind not in (KIND_ELECTRUM_SEED, KIND_ACCOUNT_XPRV):
            raise _corrupt(path, "unknown kind of secret")
    if set(untrusted) != expected:
        raise _corrupt(path, "its fields are not the expected ones")
    try:
        network = Network(_field(untrusted, "network", str, path))
    except ValueError as error:
        raise _corrupt(path, "unknown network") from error
    fingerprint = _hex(_field(untrusted, "master_fingerprint", str, path), 4, path)
    account = _field(untrusted, "account", int, path)
    if not 0 <= account < HARDENED:
        raise _corrupt(path, "account out of range")
    encryption = _parse_encryption(untrusted["encryption"], path)
    secret = _unb64(_field(untrusted, "secret", str, path), path)
    try:
        if kind != KIND_BIP39:
            if account != 0:
                raise _corrupt(path, "an imported key has no account number")
            wallets, cosigners = _parse_imported_key(untrusted, network, fingerprint, path)
        else:
            wallets, cosigners = _parse_bip39_accounts(
                untrusted, network, fingerprint, account, path
            )
    except InvalidInput as error:
        raise _corrupt(path, error.message) from error
    header = _header(
        network=network,
        fingerprint=fingerprint,
        account=account,
        wallets=wallets,
        cosigners=cosigners,
        encryption=encryption,
        kind=kind,
    )
    if _canonical(header) != _canonical({k: v for k, v in untrusted.items() if k != "secret"}):
        raise _corrupt(path, "its public metadata is not in canonical form")
    return KeystoreFile(
        path,
        network,
        fingerprint,
        account,
        wallets,
        cosigners,
        encryption,
        secret,
        _canonical(header),
        kind,
    )


def _parse_imported_key(
    untrusted: dict[str, Any], network: Network, fingerprint: bytes, path: Path
) -> tuple[tuple[Wallet, ...], tuple[CosignerKey, ...]]:
    """One key, as one single-sig account or as one multisig cosigner key; path as stored."""
    untrusted_accounts, untrusted_cosigners = untrusted["accounts"], untrusted["cosigner_keys"]
    if (
        not isinstance(untrusted_accounts, list)
        or not isinstance(untrusted_cosigners, list)
        or len(untrusted_accounts) + len(untrusted_cosigners) != 1
    ):
        raise _corrupt(path, "an imported keystore holds exactly one key")
    multisig = bool(untrusted_cosigners)
    (untrusted_entry,) = untrusted_cosigners or untrusted_accounts
    if not isinstance(untrusted_entry, dict):
        raise _corrupt(path, "an account entry is not an object")
    try:
        script_type = ScriptType(_field(untrusted_entry, "script_type", str, path))
    except ValueError as error:
        raise _corrupt(path, "unknown script type") from error
    if script_type.is_multisig != multisig or script_type is ScriptType.P2TR:
        raise _corrupt(path, "the key's script type does not fit its place")
    untrusted_derivation = _field(untrusted_entry, "derivation", str, path)
    steps = untrusted_derivation.split("/")
    if steps[0] != "m" or len(steps) > 256:
        raise _corrupt(path, "bad derivation")
    key_path = tuple(parse_path_item(step, "keystore derivation") for step in steps[1:])
    key = AccountKey(KeyOrigin(fingerprint, key_path), _field(untrusted_entry, "xpub", str, path))
    if multisig:
        return (), (CosignerKey(script_type, key),)
    return (Wallet(wallet_name(script_type, 0), script_type, 1, (key,), False, network),), ()


def _parse_bip39_accounts(
    untrusted: dict[str, Any], network: Network, fingerprint: bytes, account: int, path: Path
) -> tuple[tuple[Wallet, ...], tuple[CosignerKey, ...]]:
    wallets = tuple(
        Wallet(wallet_name(script_type, account), script_type, 1, (key,), False, network)
        for script_type, key in _parse_accounts(
            untrusted["accounts"],
            SINGLE_SIG_PURPOSES,
            path_of=single_sig_path,
            network=network,
            fingerprint=fingerprint,
            account=account,
            path=path,
        )
    )
    cosigners = tuple(
        CosignerKey(script_type, key)
        for script_type, key in _parse_accounts(
            untrusted["cosigner_keys"],
            COSIGNER_SCRIPTS,
            path_of=cosigner_path,
            network=network,
            fingerprint=fingerprint,
            account=account,
            path=path,
        )
    )
    return wallets, cosigners


def _parse_accounts(
    untrusted_list: object,
    script_types: dict[ScriptType, int],
    *,
    path_of: Callable[[ScriptType, Network, int], tuple[int, ...]],
    network: Network,
    fingerprint: bytes,
    account: int,
    path: Path,
) -> list[tuple[ScriptType, AccountKey]]:
    """One entry per script type, in table order; paths are recomputed, never read."""
    if not isinstance(untrusted_list, list) or len(untrusted_list) != len(script_types):
        raise _corrupt(path, "wrong number of account keys")
    result = []
    for script_type, untrusted_entry in zip(script_types, untrusted_list, strict=True):
        if not isinstance(untrusted_entry, dict):
            raise _corrupt(path, "an account entry is not an object")
        if untrusted_entry.get("script_type") != script_type.value:
            raise _corrupt(path, "account keys are not in the expected order")
        xpub = _field(untrusted_entry, "xpub", str, path)
        origin = KeyOrigin(fingerprint, path_of(script_type, network, account))
        result.append((script_type, AccountKey(origin, xpub)))
    return result


def _parse_encryption(untrusted: object, path: Path) -> Encryption | None:
    if untrusted is None:
        return None
    if not isinstance(untrusted, dict) or set(untrusted) != {"kdf", "cipher", "nonce"}:
        raise _corrupt(path, "malformed encryption parameters")
    if untrusted["cipher"] != CIPHER:
        raise _corrupt(path, "unknown cipher")
    nonce = _unb64(_field(untrusted, "nonce", str, path), path)
    untrusted_kdf = untrusted["kdf"]
    if not isinstance(untrusted_kdf, dict) or len(nonce) != 12:
        raise _corrupt(path, "malformed encryption parameters")
    salt = _unb64(_field(untrusted_kdf, "salt", str, path), path)
    if not 16 <= len(salt) <= 64:
        raise _corrupt(path, "bad KDF salt length")
    # bounds keep a damaged file from asking for terabytes or hours; raising them is fine
    match untrusted_kdf.get("name"):
        case "argon2id" if set(untrusted_kdf) == {
            "name",
            "salt",
            "memory_kib",
            "iterations",
            "lanes",
        }:
            lanes = _bounded(untrusted_kdf, "lanes", 1, 64, path)
            memory = _bounded(untrusted_kdf, "memory_kib", 8 * lanes, 1 << 24, path)
            iterations = _bounded(untrusted_kdf, "iterations", 1, 100, path)
            return Encryption(Argon2idKdf(salt, memory, iterations, lanes), nonce)
        case "scrypt" if set(untrusted_kdf) == {"name", "salt", "n", "r", "p"}:
            n = _bounded(untrusted_kdf, "n", 2, 1 << 24, path)
            if n & (n - 1):
                raise _corrupt(path, "scrypt n is not a power of two")
            r = _bounded(untrusted_kdf, "r", 1, 64, path)
            p = _bounded(untrusted_kdf, "p", 1, 64, path)
            return Encryption(ScryptKdf(salt, n, r, p), nonce)
    raise _corrupt(path, "unknown or malformed key derivation function")


def unlock(keystore_file: KeystoreFile, passphrase: str | None) -> Seed:
    """Decrypt and check the seed. A wrong passphrase or any tampering is a ConfigError."""
    encryption = keystore_file.encryption
    plaintext = keystore_file.secret
    if encryption is not None:
        if passphrase is None:
            raise ConfigError(
                Code.KEYSTORE_PASSPHRASE_REQUIRED,
                f"{keystore_file.path} is encrypted: give its passphrase",
            )
        # Loaded only for encrypted keystores: unattended signing starts faster without it.
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        key = encryption.kdf.derive_key(passphrase)
        try:
            plaintext = ChaCha20Poly1305(key).decrypt(
                encryption.nonce, keystore_file.secret, keystore_file.header
            )
        except InvalidTag as error:
            raise ConfigError(
                Code.KEYSTORE_BAD_PASSPHRASE,
                f"wrong passphrase for {keystore_file.path} (or the file was altered)",
            ) from error
    if keystore_file.kind == KIND_BIP39:
        seed = _unseal_bip39(keystore_file, plaintext)
    else:
        seed = _unseal_imported(keystore_file, plaintext)
    # Parsing recomputed every BIP39 path and script type (an imported key's path is read
    # from the header, which the AEAD covers); only the xpubs can disagree.
    stored = [w.keys[0] for w in keystore_file.wallets]
    stored += [c.key for c in keystore_file.cosigner_keys]
    if seed.fingerprint != keystore_file.master_fingerprint or any(
        seed.xpub(key.origin.path) != key.xpub for key in stored
    ):
        raise _corrupt(keystore_file.path, "its public keys do not belong to its seed")
    return seed


def _unseal_imported(keystore_file: KeystoreFile, plaintext: bytes) -> Seed:
    (key,) = [w.keys[0] for w in keystore_file.wallets] + [
        c.key for c in keystore_file.cosigner_keys
    ]
    untrusted_secret = load_json(
        plaintext,
        lambda why: _corrupt(keystore_file.path, f"the sealed part: {why}"),
        cap=MAX_KEYSTORE_SIZE,
    )
    try:
        name = "seed" if keystore_file.kind == KIND_ELECTRUM_SEED else "xprv"
        if (
            not isinstance(untrusted_secret, dict)
            or set(untrusted_secret) != {"kind", name}
            or untrusted_secret["kind"] != keystore_file.kind
            or not isinstance(untrusted_secret[name], str)
        ):
            raise _corrupt(keystore_file.path, "the sealed part has unexpected fields")
        if keystore_file.kind == KIND_ELECTRUM_SEED:
            secret = ImportedSecret(keystore_file.kind, untrusted_secret[name])
        else:
            secret = ImportedSecret(
                keystore_file.kind,
                untrusted_secret[name],
                key.origin.path,
                keystore_file.master_fingerprint,
            )
        return seed_from_secret(secret, keystore_file.network)
    except (UnicodeDecodeError, ValueError, InvalidInput) as error:
        raise _corrupt(keystore_file.path, "the sealed part is not a valid key") from error


def _unseal_bip39(keystore_file: KeystoreFile, plaintext: bytes) -> Seed:
    untrusted_secret = load_json(
        plaintext,
        lambda why: _corrupt(keystore_file.path, f"the sealed part: {why}"),
        cap=MAX_KEYSTORE_SIZE,
    )
    try:
        mnemonic = normalize_mnemonic(untrusted_secret["mnemonic"])
        bip39_passphrase = untrusted_secret["bip39_passphrase"]
        if set(untrusted_secret) != {"mnemonic", "bip39_passphrase"} or not isinstance(
            bip39_passphrase, str
        ):
            raise _corrupt(keystore_file.path, "the sealed part has unexpected fields")
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, InvalidInput) as error:
        raise _corrupt(keystore_file.path, "the sealed part is not a valid seed") from error
    return _seed_from(mnemonic, bip39_passphrase, keystore_file.network)


def _seed_from(mnemonic: str, bip39_passphrase: str, network: Network) -> Seed:
    root = HDKey.from_seed(
        mnemonic_to_seed(mnemonic, bip39_passphrase), version=network.params["xprv"]
    )
    return Seed(network, root)


# --- small strict readers ------------------------------------------------------------------


def _corrupt(path: Path, why: str) -> ConfigError:
    return ConfigError(Code.KEYSTORE_CORRUPT, f"{path} is damaged: {why}")


def _field(untrusted: dict[str, Any], name: str, kind: type, path: Path) -> Any:
    value = untrusted.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _corrupt(path, f"field {name!r} is missing or has the wrong type")
    return value


def _bounded(untrusted: dict[str, Any], name: str, low: int, high: int, path: Path) -> int:
    value: int = _field(untrusted, name, int, path)
    if not low <= value <= high:
        raise _corrupt(path, f"{name} {value} is outside {low}..{high}")
    return value


def _hex(text: str, size: int, path: Path) -> bytes:
    if len(text) != 2 * size or text != text.lower():
        raise _corrupt(path, "a hex field has the wrong length or case")
    try:
        return bytes.fromhex(text)
    except ValueError as error:
        raise _corrupt(path, "a hex field is not hex") from error


def _unb64(text: str, path: Path) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise _corrupt(path, "a base64 field is not base64") from error


def random_for_keystore() -> bytes:
    """Salt and nonce for build_keystore, from the OS."""
    return os.urandom(28)
