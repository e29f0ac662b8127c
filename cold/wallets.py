"""The wallet registry: the multisig wallets the user approved, next to the seed's single-sig ones.

`wallets.json` in the data home holds each multisig wallet as a name and a descriptor;
single-sig wallets are never stored there, they come from the keystore's public header.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from cold.keystore import KeystoreFile, Seed
from psbtbridge.errors import Code, ConfigError, InvalidInput, Refused
from psbtbridge.files import load_json, read_stored, write_atomic
from psbtbridge.network import Network
from psbtbridge.wallet import AccountKey, Wallet, descriptor_of, parse_descriptor

REGISTRY_NAME: Final = "wallets.json"
FORMAT: Final = "psbtbridge-wallets/1"
MAX_REGISTRY_SIZE: Final = 1024 * 1024


def registry_path(home: Path) -> Path:
    return home / REGISTRY_NAME


def load_registry(home: Path, network: Network) -> tuple[Wallet, ...]:
    """The registered multisig wallets; an absent file is an empty registry."""
    path = registry_path(home)
    untrusted_data = read_stored(
        path, MAX_REGISTRY_SIZE, Code.WALLET_REGISTRY_UNREADABLE, Code.WALLET_REGISTRY_CORRUPT
    )
    return () if untrusted_data is None else parse_registry(untrusted_data, path, network)


def parse_registry(untrusted_data: bytes, path: Path, network: Network) -> tuple[Wallet, ...]:
    untrusted = load_json(
        untrusted_data, lambda why: _corrupt(path, f"{why} (truncated?)"), cap=MAX_REGISTRY_SIZE
    )
    if not isinstance(untrusted, dict) or set(untrusted) != {"format", "network", "wallets"}:
        raise _corrupt(path, "its fields are not the expected ones")
    if untrusted["format"] != FORMAT:
        raise _corrupt(path, f"unknown format; this version reads {FORMAT}")
    if untrusted["network"] != network.value:
        raise ConfigError(
            Code.WALLET_REGISTRY_NETWORK,
            f"{path} holds {str(untrusted['network'])[:20]} wallets but the keystore is"
            f" {network.value}",
        )
    untrusted_list = untrusted["wallets"]
    if not isinstance(untrusted_list, list):
        raise _corrupt(path, "'wallets' is not a list")
    wallets: list[Wallet] = []
    for position, untrusted_entry in enumerate(untrusted_list, 1):
        if (
            not isinstance(untrusted_entry, dict)
            or set(untrusted_entry) != {"name", "descriptor"}
            or not isinstance(untrusted_entry["name"], str)
            or not isinstance(untrusted_entry["descriptor"], str)
        ):
            raise _corrupt(path, f"wallet entry {position} is malformed")
        try:
            wallet = parse_descriptor(
                untrusted_entry["descriptor"], network, untrusted_entry["name"]
            )
            if not wallet.is_multisig:
                raise _corrupt(path, f"wallet entry {position} is not a multisig wallet")
            check_new(wallet, tuple(wallets))
        except (InvalidInput, Refused) as error:
            raise _corrupt(path, f"wallet entry {position}: {error.message}") from error
        wallets.append(wallet)
    return tuple(wallets)


def registered_wallets(home: Path, keystore_file: KeystoreFile) -> tuple[Wallet, ...]:
    """Every wallet the signer knows: the seed's single-sig ones, then registered multisig."""
    multisig = load_registry(home, keystore_file.network)
    for wallet in multisig:
        if any(wallet.name == single.name for single in keystore_file.wallets):
            raise _corrupt(registry_path(home), f"wallet {wallet.name} reuses a single-sig name")
    return keystore_file.wallets + multisig


def check_new(wallet: Wallet, existing: tuple[Wallet, ...]) -> None:
    """Refuse a wallet whose name is taken or whose scripts another wallet already makes."""
    for other in existing:
        if other.name == wallet.name:
            raise Refused(
                Code.WALLET_DUPLICATE_NAME, f"a wallet named {wallet.name} already exists"
            )
        # equal first receive and change scripts: the same keys, threshold and script type
        # (a sortedmulti with its keys listed in another order is the same wallet)
        if other.script_type == wallet.script_type and all(
            other.derive(chain, 0).script_pubkey == wallet.derive(chain, 0).script_pubkey
            for chain in (0, 1)
        ):
            raise Refused(
                Code.WALLET_DUPLICATE_DESCRIPTOR,
                f"wallet {other.name} already has this descriptor",
            )


def find_our_key(wallet: Wallet, seed: Seed) -> AccountKey:
    """The one key of wallet that this seed derives at its claimed path; refuse anything else."""
    ours = [k for k in wallet.keys if k.origin.fingerprint == seed.fingerprint]
    for key in ours:
        if seed.account_key(key.origin.path).xpub != key.xpub:
            raise Refused(
                Code.WALLET_KEY_MISMATCH,
                f"the key at {key.origin.derivation} has this seed's fingerprint"
                f" {seed.fingerprint.hex()} but not its xpub: wrong path, passphrase or forgery",
            )
    if not ours:
        raise Refused(
            Code.WALLET_NOT_OURS,
            f"no key in the descriptor has this seed's fingerprint {seed.fingerprint.hex()}",
        )
    if len(ours) > 1:
        raise Refused(
            Code.WALLET_OURS_TWICE,
            f"{len(ours)} keys come from this seed: one signer would hold several of the"
            f" {wallet.threshold} signatures",
        )
    return ours[0]


def add_wallet(home: Path, keystore_file: KeystoreFile, wallet: Wallet) -> None:
    """Append a checked multisig wallet to the registry, atomically."""
    if not wallet.is_multisig:
        raise Refused(
            Code.WALLET_NOT_MULTISIG,
            "only multisig wallets are registered: single-sig ones come from the seed",
        )
    check_new(wallet, registered_wallets(home, keystore_file))
    entries = [
        {"name": w.name, "descriptor": descriptor_of(w)}
        for w in (*load_registry(home, keystore_file.network), wallet)
    ]
    document = {"format": FORMAT, "network": keystore_file.network.value, "wallets": entries}
    write_atomic(registry_path(home), (json.dumps(document, indent=2) + "\n").encode(), mode=0o600)


def _corrupt(path: Path, why: str) -> ConfigError:
    return ConfigError(Code.WALLET_REGISTRY_CORRUPT, f"{path} is damaged: {why}")
