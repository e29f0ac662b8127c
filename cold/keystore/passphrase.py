"""Passphrases and mnemonics from a file or the terminal."""

from __future__ import annotations

import getpass
import sys
from typing import Final

from cold.keystore.file import KeystoreFile
from psbtbridge.errors import Code, ConfigError, InvalidInput, UsageError
from psbtbridge.files import read_bounded

MAX_SECRET_FILE_SIZE: Final = 4096
#: How often a new passphrase and its repetition may differ before `keys init` gives up.
PASSPHRASE_TRIES: Final = 3


# --- passphrases from a file or the terminal ---------------------------------------------


def read_secret_file(path: str) -> str:
    """A passphrase or mnemonic file: UTF-8, at most 4 KiB, one trailing newline dropped."""
    try:
        with open(path, "rb") as stream:
            data = read_bounded(stream, MAX_SECRET_FILE_SIZE)
    except OSError as error:
        raise ConfigError(
            Code.KEYSTORE_UNREADABLE, f"cannot read {path}: {error.strerror}"
        ) from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(Code.KEYSTORE_BAD_SECRET_FILE, f"{path} is not UTF-8 text") from error
    return text.removesuffix("\n").removesuffix("\r")


def ask_passphrase(prompt: str, confirm: bool) -> str:
    """Read a passphrase on the controlling terminal without echo (twice when confirm)."""
    try:
        with open("/dev/tty", "rb"):
            pass
    except OSError as error:
        raise UsageError(
            Code.KEYSTORE_NO_TTY,
            "no terminal to ask the passphrase on: use --passphrase-file",
        ) from error
    for _ in range(PASSPHRASE_TRIES):
        first = getpass.getpass(prompt)
        if not confirm or getpass.getpass("Repeat it: ") == first:
            return first
        # a typo in one of two unseen entries is common: ask again rather than start over
        sys.stderr.write("The two passphrases differ; please type them again.\n")
    raise UsageError(
        Code.KEYSTORE_PASSPHRASE_MISMATCH, f"the two passphrases differed {PASSPHRASE_TRIES} times"
    )


def passphrase_for(keystore_file: KeystoreFile, passphrase_file: str | None) -> str | None:
    """The passphrase to unlock with: from the file, else asked on the tty; None if unencrypted."""
    if not keystore_file.encrypted:
        return None
    if passphrase_file is not None:
        return read_secret_file(passphrase_file)
    return ask_passphrase(f"Passphrase for {keystore_file.path}: ", confirm=False)
