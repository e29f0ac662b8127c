"""Key derivation functions for the keystore's passphrase: Argon2id, or scrypt where it is missing."""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

from cold.keystore.bip39 import nfkd
from psbtbridge.errors import Code, ConfigError

# --- key derivation functions ------------------------------------------------------------


class Argon2idKdf(NamedTuple):
    """RFC 9106 Argon2id; memory in KiB. The defaults take about 0.4 s on a 2-core qube."""

    salt: bytes
    memory_kib: int = 128 * 1024
    iterations: int = 3
    lanes: int = 4

    @property
    def name(self) -> str:
        """The keystore header's name for it (a property: NamedTuple takes no ClassVar)."""
        return "argon2id"

    def derive_key(self, passphrase: str) -> bytes:
        try:
            from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
        except ImportError as error:
            raise ConfigError(
                Code.KEYSTORE_KDF_UNAVAILABLE,
                "this keystore uses Argon2id, which needs cryptography 44 or newer",
            ) from error
        kdf = Argon2id(
            salt=self.salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(nfkd(passphrase))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "salt": b64_text(self.salt),
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
        }


class ScryptKdf(NamedTuple):
    """RFC 7914 scrypt, the fallback where cryptography has no Argon2id; 128 MiB at n=2^17."""

    salt: bytes
    n: int = 1 << 17
    r: int = 8
    p: int = 1

    @property
    def name(self) -> str:
        """As `Argon2idKdf.name`."""
        return "scrypt"

    def derive_key(self, passphrase: str) -> bytes:
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        return Scrypt(salt=self.salt, length=32, n=self.n, r=self.r, p=self.p).derive(
            nfkd(passphrase)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "salt": b64_text(self.salt),
            "n": self.n,
            "r": self.r,
            "p": self.p,
        }


Kdf = Argon2idKdf | ScryptKdf


def default_kdf(salt: bytes) -> Kdf:
    """Argon2id where the installed cryptography has it (44+), else scrypt."""
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: F401
    except ImportError:
        return ScryptKdf(salt)
    return Argon2idKdf(salt)


def b64_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
