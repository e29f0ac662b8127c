"""Bitcoin addresses given as text: which scriptPubKey they pay, on which network.

One decoder for every place an address comes from outside (a `--pay` argument, an address
to verify, the psbtbridge.ShowAddress request): an address counts as one of `network`'s
only when its scriptPubKey re-encodes to exactly the text given, so a checksum that
happens to pass for another network, or a base58 prefix we do not know, is refused.
"""

from __future__ import annotations

from typing import Final

from embit.base import EmbitError
from embit.script import address_to_scriptpubkey

from psbtbridge.errors import Code, InvalidInput
from psbtbridge.network import Network
from psbtbridge.script import address_of

MAX_ADDRESS_LENGTH: Final = 90  # BIP173's limit for a bech32 string; base58 ones are shorter


def group_address(address: str) -> str:
    """Split into groups of 4 characters, so two addresses can be compared group by group."""
    return " ".join(address[i : i + 4] for i in range(0, len(address), 4))


def _shown(untrusted_text: str) -> str:
    """The start of a text that is not an address, fit to repeat in one line."""
    cut = untrusted_text[:MAX_ADDRESS_LENGTH]
    return repr("".join(ch if ch.isprintable() else "." for ch in cut))


def decode_address(untrusted_address: str, network: Network) -> tuple[str, bytes]:
    """(canonical address, scriptPubKey) of an address of `network`, or InvalidInput.

    The canonical form is the text itself, or its lower case for an all-upper-case bech32
    address (BIP173 allows it: QR codes use it). `address.wrong_network` names the networks
    the address does belong to, so a regtest address given to a mainnet wallet is told
    apart from a typo.
    """
    candidates = [untrusted_address]
    if untrusted_address.isupper():
        candidates.append(untrusted_address.lower())
    for candidate in candidates:
        if not candidate.isascii() or not 0 < len(candidate) <= MAX_ADDRESS_LENGTH:
            continue
        try:
            script = address_to_scriptpubkey(candidate)
        except (EmbitError, ValueError, IndexError):
            continue  # not base58 with a known prefix, not valid bech32/bech32m
        if script is None:  # embit's answer for an unknown base58 prefix
            continue
        spk: bytes = script.data
        if address_of(spk, network) == candidate:
            return candidate, spk  # it re-encodes to itself: an address of this network
        others = [n.value for n in Network if address_of(spk, n) == candidate]
        if others:
            raise InvalidInput(
                Code.ADDRESS_WRONG_NETWORK,
                f"{candidate} is a {'/'.join(others)} address, not {network.value}",
            )
    raise InvalidInput(
        Code.ADDRESS_BAD_ADDRESS, f"{_shown(untrusted_address)} is not a bitcoin address"
    )
