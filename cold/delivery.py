"""Delivering a signed PSBT: checked writable before the review, kept until it has arrived.

A signature is made and logged before its bytes reach stdout, `-o` or the qrexec caller,
and each of those can fail (a full disk, /dev/full, a caller that hung up). The signed
result is written to the data folder's `signed/` first and removed only once it has been
delivered, so a failed delivery loses nothing and the message can say where it is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

from psbtbridge.errors import BridgeError, Code, ConfigError
from psbtbridge.files import write_atomic

SIGNED_FOLDER: Final = "signed"


def _probe(folder: Path) -> None:
    """Create and remove a file in folder: what a write there will need (root ignores modes)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=".probe.", dir=folder)
    os.close(fd)
    os.unlink(name)


def check_writable(home: Path, output: str | None) -> None:
    """Fail now, before any review or passphrase, if the result could not be kept or written."""
    for folder in (home, home / SIGNED_FOLDER):
        try:
            _probe(folder)
        except OSError as error:
            raise ConfigError(
                Code.HOME_UNWRITABLE,
                f"the data folder {folder} cannot be written ({error.strerror}): nothing"
                " was asked or signed",
            ) from error
    if output is None or output == "-":
        return
    target = Path(output)
    if target.is_dir():
        raise BridgeError(Code.IO_WRITE_FAILED, f"cannot write {output}: it is a folder")
    try:
        _probe(target.parent if str(target.parent) else Path("."))
    except OSError as error:
        raise BridgeError(
            Code.IO_WRITE_FAILED,
            f"cannot write {output} ({error.strerror}): nothing was asked or signed",
        ) from error


def kept_path(home: Path, txid: str) -> Path:
    # ".cold": where one data folder serves both sides (a test machine), never the name
    # of the hot side's own rescue copy (hot/commands/send.py), which this one would remove.
    return home / SIGNED_FOLDER / f"{txid}.cold.psbt"


def keep(home: Path, txid: str, data: bytes) -> Path:
    """Write the signed result to signed/TXID.cold.psbt durably (mode 0600); its path."""
    return _keep(kept_path(home, txid), data, "sign the same PSBT again")


def keep_signature(home: Path, message_sha256: str, answer: bytes) -> Path:
    """A message signature, kept like a signed PSBT until the caller has it:
    signed/SHA256.message.sig, named by the message's SHA-256 (hex)."""
    return _keep(
        home / SIGNED_FOLDER / f"{message_sha256}.message.sig", answer, "sign the message again"
    )


def _keep(path: Path, data: bytes, retry: str) -> Path:
    try:
        write_atomic(path, data)
    except BridgeError as error:
        raise ConfigError(
            Code.SIGN_NOT_KEPT,
            f"signed, but the result could not be kept in {path.parent} ({error.message});"
            f" it was not delivered either: {retry}",
        ) from error
    return path


def undelivered(kept: Path, where: str, why: str) -> BridgeError:
    """The error of a signed result that did not reach `where`: it says where it is kept."""
    return BridgeError(
        Code.SIGN_UNDELIVERED,
        f"signed, but the result could not be written to {where} ({why}); it is kept in {kept}",
    )


def deliver(home: Path, txid: str, data: bytes, where: str, write: Callable[[], None]) -> None:
    """Keep data, run write (which delivers it to `where`), then drop the kept copy.

    Any failure of write, an interrupt included, becomes `sign.undelivered` naming the copy.
    """
    kept = keep(home, txid, data)
    try:
        write()
    except BridgeError as error:
        raise undelivered(kept, where, error.message) from error
    except OSError as error:
        raise undelivered(kept, where, error.strerror or type(error).__name__) from error
    except KeyboardInterrupt as error:
        raise undelivered(kept, where, "interrupted") from error
    kept.unlink(missing_ok=True)
