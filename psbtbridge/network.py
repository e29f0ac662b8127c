"""The four Bitcoin networks a PSBT can belong to, and their address and key encodings."""

from __future__ import annotations

from enum import Enum
from typing import Any

from embit.networks import NETWORKS


class Network(Enum):
    MAIN = "main"
    TEST = "test"
    SIGNET = "signet"
    REGTEST = "regtest"

    @property
    def params(self) -> dict[str, Any]:
        """embit's parameter table: bech32 hrp, base58 prefixes, SLIP-132 xpub versions."""
        return dict(NETWORKS[self.value])

    @property
    def coin_type(self) -> int:
        """BIP44 coin type: 0 on mainnet, 1 on every test network."""
        return 0 if self is Network.MAIN else 1

    @classmethod
    def names(cls) -> list[str]:
        return [n.value for n in cls]
