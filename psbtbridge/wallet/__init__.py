"""Our wallets: the watch-only model, its descriptors, and the export the hot side reads."""

from psbtbridge.wallet.descriptor import descriptor_of, parse_descriptor
from psbtbridge.wallet.wallet import AccountKey, DerivedScript, Wallet, electrum_xpub

__all__ = [
    "AccountKey",
    "DerivedScript",
    "Wallet",
    "descriptor_of",
    "electrum_xpub",
    "parse_descriptor",
]
