"""The addresses of the wallets the signer knows, and which wallet and path an address is.

Pure: wallets in, addresses out. The cold side feeds it the keystore's single-sig wallets
and the registered multisig ones (their xpubs are enough, no secret is needed); it answers
`psbt address show`, `psbt address verify` and the psbtbridge.ShowAddress service. An
address is "ours" only when re-deriving it from a wallet gives its exact scriptPubKey, on
the receive or the change chain, at an index inside the window a wallet scans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple

from psbtbridge.address import decode_address
from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.network import Network
from psbtbridge.script import (
    ScriptType,
    address_of,
    is_p2pkh,
    is_p2sh,
    is_p2tr,
    is_p2wpkh,
    is_p2wsh,
)
from psbtbridge.wallet.wallet import Wallet

#: How far past the highest index known used the analysis accepts change (psbtbridge/analysis.py);
#: defined here, below the analysis, which searches a BIP-322 proof's address with `locate`.
DEFAULT_CHANGE_WINDOW: Final = 1000
#: Indexes 0..ADDRESS_WINDOW-1 of each chain are searched: the window the analysis accepts
#: change in, so what `verify` calls ours is what a signature would treat as ours. An
#: address beyond it is one no wallet restored from this seed would ever find.
ADDRESS_WINDOW: Final = DEFAULT_CHANGE_WINDOW
#: At most this many addresses per `show`: a screenful is the point, not a bulk export.
MAX_SHOWN: Final = 1000
RECEIVE: Final = 0
CHANGE: Final = 1


class WalletAddress(NamedTuple):
    """One address of one wallet: where it is derived and what it reads as."""

    wallet: str
    chain: int  # 0 receive, 1 change
    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput
    path: str  # our key's full path, e.g. m/84h/1h/0h/0/5
    address: str

    @property
    def chain_name(self) -> str:
        return "change" if self.chain == CHANGE else "receive"

    def as_json(self) -> dict[str, object]:
        return {
            "wallet": self.wallet,
            "chain": self.chain_name,
            "index": self.index,
            "path": self.path,
            "address": self.address,
        }


def _our_key_position(wallet: Wallet, fingerprint: bytes | None) -> int:
    """Which key's path to show: the one with our master fingerprint, else the first."""
    for position, key in enumerate(wallet.keys):
        if key.origin.fingerprint == fingerprint:
            return position
    return 0


def wallet_address(
    wallet: Wallet, chain: int, index: int, fingerprint: bytes | None = None
) -> WalletAddress:
    """The address at chain/index of wallet; the path is that of the key with fingerprint."""
    derived = wallet.derive(chain, index)
    address = address_of(derived.script_pubkey, wallet.network)
    if address is None:  # every script type a Wallet derives has an address form
        raise InvalidInput(
            Code.WALLET_BAD_DERIVATION, f"wallet {wallet.name}: no address at {chain}/{index}"
        )
    key = wallet.keys[_our_key_position(wallet, fingerprint)]
    path = key.origin.child(chain, index).derivation
    return WalletAddress(wallet.name, chain, index, path, address)


def select_wallets(wallets: Sequence[Wallet], name: str | None) -> tuple[Wallet, ...]:
    """All wallets, or the one named; an unknown name is refused with the names there are."""
    if name is None:
        return tuple(wallets)
    chosen = tuple(w for w in wallets if w.name == name)
    if not chosen:
        known = ", ".join(w.name for w in wallets) or "none"
        raise InvalidInput(
            Code.ADDRESS_UNKNOWN_WALLET, f"no wallet is named {name[:64]!r} (known: {known})"
        )
    return chosen


def list_addresses(
    wallets: Iterable[Wallet],
    chain: int,
    start: int,
    count: int,
    fingerprint: bytes | None = None,
) -> tuple[WalletAddress, ...]:
    """count addresses from index start on one chain of each wallet, wallet by wallet."""
    if chain not in (RECEIVE, CHANGE):
        raise InvalidInput(
            Code.ADDRESS_BAD_RANGE, f"chain {chain!r} is not 0 (receive) or 1 (change)"
        )
    if not 1 <= count <= MAX_SHOWN:
        raise InvalidInput(
            Code.ADDRESS_BAD_RANGE, f"count {count} is not between 1 and {MAX_SHOWN}"
        )
    if start < 0 or start + count > HARDENED:
        raise InvalidInput(
            Code.ADDRESS_BAD_RANGE, f"indexes {start}..{start + count - 1} are not all below 2^31"
        )
    return tuple(
        wallet_address(wallet, chain, index, fingerprint)
        for wallet in wallets
        for index in range(start, start + count)
    )


def _could_derive(script_type: ScriptType, spk: bytes) -> bool:
    """Whether a wallet of this type makes scripts of spk's form: only those are searched."""
    match script_type:
        case ScriptType.P2PKH:
            return is_p2pkh(spk)
        case ScriptType.P2WPKH:
            return is_p2wpkh(spk)
        case ScriptType.P2TR:
            return is_p2tr(spk)
        case ScriptType.P2WSH:
            return is_p2wsh(spk)
        case _:  # p2sh-p2wpkh, p2sh-p2wsh and bare p2sh multisig all hide behind P2SH
            return is_p2sh(spk)


class Location(NamedTuple):
    """Where a wallet derives a script."""

    wallet: Wallet
    chain: int
    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput


def locate(script_pubkey: bytes, wallets: Iterable[Wallet], window: int) -> Location | None:
    """The wallet, chain and index below window that derive script_pubkey, or None.

    The one "is this ours" search: address verification, the ShowAddress service and
    message signing all ask it. Only wallets whose type makes scripts of this form are
    searched, so a miss costs one wallet's window, not all of them.
    """
    for wallet in wallets:
        if not _could_derive(wallet.script_type, script_pubkey):
            continue
        for index in range(window):
            for chain in (RECEIVE, CHANGE):
                if wallet.derive(chain, index).script_pubkey == script_pubkey:
                    return Location(wallet, chain, index)
    return None


def find_address(
    untrusted_address: str,
    wallets: Sequence[Wallet],
    network: Network,
    window: int = ADDRESS_WINDOW,
    fingerprint: bytes | None = None,
) -> WalletAddress | None:
    """The wallet and path that derive this address within the window, or None if none does.

    Not an address of `network` at all is InvalidInput (`address.bad_address`,
    `address.wrong_network`): that is a different answer from "a valid address, not ours".
    """
    _, spk = decode_address(untrusted_address, network)
    found = locate(spk, (w for w in wallets if w.network is network), window)
    if found is None:
        return None
    return wallet_address(found.wallet, found.chain, found.index, fingerprint)
