"""The keystore: the seed or account key, encrypted at rest (file.py), and what it is made from."""

from cold.keystore.bip39 import entropy_to_mnemonic, mnemonic_to_seed, normalize_mnemonic
from cold.keystore.file import (
    CIPHER,
    KIND_BIP39,
    KeystoreFile,
    build_key_keystore,
    build_keystore,
    keystore_path,
    load_keystore,
    parse_keystore,
    random_for_keystore,
    unlock,
    write_new_keystore,
)
from cold.keystore.passphrase import ask_passphrase, passphrase_for, read_secret_file
from cold.keystore.seed import KIND_ACCOUNT_XPRV, KIND_ELECTRUM_SEED, ImportedSecret, Seed

__all__ = [
    "CIPHER",
    "KIND_ACCOUNT_XPRV",
    "KIND_BIP39",
    "KIND_ELECTRUM_SEED",
    "ImportedSecret",
    "KeystoreFile",
    "Seed",
    "ask_passphrase",
    "build_key_keystore",
    "build_keystore",
    "entropy_to_mnemonic",
    "keystore_path",
    "load_keystore",
    "mnemonic_to_seed",
    "normalize_mnemonic",
    "parse_keystore",
    "passphrase_for",
    "random_for_keystore",
    "read_secret_file",
    "unlock",
    "write_new_keystore",
]
