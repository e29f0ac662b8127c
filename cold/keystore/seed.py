"""The unlocked secret: a BIP32 root (or one account key below a root we do not hold) and our wallets' paths."""

from __future__ import annotations

import json
from typing import Final, NamedTuple

from embit import base58
from embit.base import EmbitError
from embit.bip32 import HDKey

from cold.crypto import private_child, public_key
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.hashes import hash160
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet import AccountKey

KIND_ELECTRUM_SEED: Final = "electrum_seed"
KIND_ACCOUNT_XPRV: Final = "account_xprv"

#: BIP44/49/84/86 purpose of each single-sig script type, in export order.
SINGLE_SIG_PURPOSES: Final = {
    ScriptType.P2PKH: 44,
    ScriptType.P2SH_P2WPKH: 49,
    ScriptType.P2WPKH: 84,
    ScriptType.P2TR: 86,
}
#: BIP48 script-type element of m/48h/coin/account/script for multisig cosigner keys.
COSIGNER_SCRIPTS: Final = {ScriptType.P2WSH: 2, ScriptType.P2SH_P2WSH: 1}


class Seed(NamedTuple):
    """The unlocked BIP32 root, or an account key at `base` below a root we do not hold
    (then `origin_fingerprint` is that root's). Private: it never leaves `cold/`."""

    network: Network
    root: HDKey  # never in the repr: it is the private key
    base: tuple[int, ...] = ()
    origin_fingerprint: bytes | None = None

    def __repr__(self) -> str:
        return (
            f"Seed(network={self.network!r}, base={self.base!r},"
            f" origin_fingerprint={self.origin_fingerprint!r})"
        )

    @property
    def fingerprint(self) -> bytes:
        if self.origin_fingerprint is not None:
            return self.origin_fingerprint
        return bytes(self.root.my_fingerprint)

    def derive(self, path: tuple[int, ...]) -> tuple[bytes, bytes]:
        """(secret, chain code) of the extended private key at path (BIP32 CKDpriv), below
        this seed's base."""
        base = self.base
        if path[: len(base)] != base:
            raise Refused(
                Code.KEYSTORE_OUTSIDE_ACCOUNT,
                "this keystore holds one account key; the path is not below it",
            )
        secret, chain_code = bytes(self.root.key.secret), bytes(self.root.chain_code)
        for index in path[len(base) :]:
            secret, chain_code = private_child(secret, chain_code, index)
        return secret, chain_code

    def xpub(self, path: tuple[int, ...]) -> str:
        """The extended public key at path, in our network's standard version."""
        version = self.network.params["xpub"]
        if path == self.base:
            # the root, or the account key itself: embit keeps the xprv's own header
            return str(self.root.to_public().to_base58(version=version))
        parent_secret, parent_chain_code = self.derive(path[:-1])
        parent = public_key(parent_secret)
        secret, chain_code = private_child(parent_secret, parent_chain_code, path[-1], parent)
        # BIP32 serialization: version, depth, parent fingerprint, child number, chain code, key
        header = version + bytes([len(path)]) + hash160(parent)[:4] + path[-1].to_bytes(4, "big")
        return str(base58.encode_check(header + chain_code + public_key(secret)))

    def account_key(self, path: tuple[int, ...]) -> AccountKey:
        """The public AccountKey (standard version for our network) at path."""
        return AccountKey(KeyOrigin(self.fingerprint, path), self.xpub(path))


def wallet_name(script_type: ScriptType, account: int) -> str:
    """`p2wpkh` for account 0, `p2wpkh-3` for account 3."""
    return script_type.value if account == 0 else f"{script_type.value}-{account}"


def single_sig_path(script_type: ScriptType, network: Network, account: int) -> tuple[int, ...]:
    purpose = SINGLE_SIG_PURPOSES[script_type]
    return (purpose + HARDENED, network.coin_type + HARDENED, account + HARDENED)


def cosigner_path(script_type: ScriptType, network: Network, account: int) -> tuple[int, ...]:
    return (
        48 + HARDENED,
        network.coin_type + HARDENED,
        account + HARDENED,
        COSIGNER_SCRIPTS[script_type] + HARDENED,
    )


class ImportedSecret(NamedTuple):
    """What a non-BIP39 keystore seals: KIND_ELECTRUM_SEED with the BIP32 seed in hex, or
    KIND_ACCOUNT_XPRV with the account xprv (standard version) at `base` below the root
    of fingerprint `origin_fingerprint` (those two live in the header, not the secret)."""

    kind: str
    value: str
    base: tuple[int, ...] = ()
    origin_fingerprint: bytes | None = None

    def sealed(self) -> bytes:
        name = "seed" if self.kind == KIND_ELECTRUM_SEED else "xprv"
        return json.dumps({"kind": self.kind, name: self.value}).encode()


def seed_from_secret(secret: ImportedSecret, network: Network) -> Seed:
    """The Seed an imported secret stands for; a malformed one is an InvalidInput."""
    try:
        if secret.kind == KIND_ELECTRUM_SEED:
            data = bytes.fromhex(secret.value)
            if len(data) != 64:
                raise ValueError("an Electrum BIP32 seed is 64 bytes")
            return Seed(network, HDKey.from_seed(data, version=network.params["xprv"]))
        root = HDKey.from_string(secret.value)
    except (ValueError, EmbitError) as error:
        raise InvalidInput(Code.KEYSTORE_BAD_SECRET, "the imported secret is malformed") from error
    if (
        secret.kind != KIND_ACCOUNT_XPRV
        or not root.is_private
        or bytes(root.version) != network.params["xprv"]
        or root.depth != len(secret.base)
        or secret.origin_fingerprint is None
    ):
        raise InvalidInput(
            Code.KEYSTORE_BAD_SECRET, "the imported account key does not fit its origin"
        )
    return Seed(network, root, secret.base, secret.origin_fingerprint)
