"""Watch-only wallets: account xpubs and the scripts they derive.

No private key ever reaches this module: the cold analysis re-derives scripts from these
public models to prove which inputs and outputs are ours, and `keys export` prints them.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import NamedTuple

from embit import base58
from embit.base import EmbitError
from embit.bip32 import HDKey

from psbtbridge.bip32 import HARDENED, KeyOrigin, public_child
from psbtbridge.checked import Checked
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.hashes import hash160
from psbtbridge.keyencoding import check_xpub
from psbtbridge.network import Network
from psbtbridge.script import ScriptType, multisig, p2pkh, p2sh, p2tr, p2wpkh, p2wsh

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PATH_ITEM_RE = re.compile(r"(0|[1-9][0-9]{0,9})([hH']?)")


def parse_path_item(untrusted_item: str, where: str) -> int:
    """`84h`, `84'`, `84H` or `0` to its BIP32 index; anything else is refused."""
    match = _PATH_ITEM_RE.fullmatch(untrusted_item)
    if match is None or int(match.group(1)) >= HARDENED:
        raise InvalidInput(
            Code.DESCRIPTOR_BAD_PATH, f"{where}: {untrusted_item!r} is not a path step"
        )
    return int(match.group(1)) + (HARDENED if match.group(2) else 0)


#: Key of embit's network table for the SLIP-132 (Electrum) xpub of each script type;
#: SLIP-132 defines no version for taproot.
SLIP132: dict[ScriptType, str | None] = {
    ScriptType.P2PKH: "xpub",
    ScriptType.P2SH_P2WPKH: "ypub",
    ScriptType.P2WPKH: "zpub",
    ScriptType.P2TR: None,
    ScriptType.P2WSH: "Zpub",
    ScriptType.P2SH_P2WSH: "Ypub",
    ScriptType.P2SH: "xpub",
}


def _decode_xpub(untrusted_xpub: str, where: str) -> tuple[bytes, bytes]:
    """Base58check-decode an extended key; return (version, payload) or refuse."""
    try:
        raw = base58.decode_check(untrusted_xpub)
    except (ValueError, IndexError) as error:
        raise InvalidInput(
            Code.WALLET_BAD_XPUB, f"{where}: not a base58check extended key"
        ) from error
    if len(raw) != 78:
        raise InvalidInput(Code.WALLET_BAD_XPUB, f"{where}: an extended key must be 78 bytes")
    return raw[:4], raw[4:]


def _is_private_version(version: bytes) -> bool:
    return any(
        name.endswith("prv") and value == version
        for net in Network
        for name, value in net.params.items()
    )


def _public_versions(network: Network) -> set[bytes]:
    """Every extended public key version of a network: xpub and the SLIP-132 ones."""
    return {value for name, value in network.params.items() if name.endswith("pub")}


def parse_xpub(untrusted_xpub: str, network: Network, accepted: tuple[str, ...], where: str) -> str:
    """Validate an extended public key; return it re-encoded with the network's standard version.

    accepted names the version keys of embit's table that are allowed ("xpub", "zpub", ...);
    an xprv is refused without ever echoing it.
    """
    version, payload = _decode_xpub(untrusted_xpub, where)
    if _is_private_version(version):
        raise InvalidInput(
            Code.DESCRIPTOR_PRIVATE_KEY, f"{where}: is a private key; give the xpub instead"
        )
    params = network.params
    if version not in {params[name] for name in accepted}:
        if version in _public_versions(network):
            raise InvalidInput(
                Code.DESCRIPTOR_SLIP132_MISMATCH,
                f"{where}: its SLIP-132 version is for another script type",
            )
        if any(version in _public_versions(net) for net in Network):
            raise InvalidInput(
                Code.WALLET_WRONG_NETWORK, f"{where}: the xpub belongs to another network"
            )
        raise InvalidInput(Code.WALLET_BAD_XPUB, f"{where}: unknown extended key version")
    standard = params["xpub"] + payload
    try:
        key = HDKey.parse(standard)
    except (EmbitError, ValueError, IndexError) as error:
        raise InvalidInput(
            Code.WALLET_BAD_XPUB, f"{where}: not a valid extended public key"
        ) from error
    if key.is_private:
        raise InvalidInput(Code.DESCRIPTOR_PRIVATE_KEY, f"{where}: is a private key")
    return str(key.to_base58())


def electrum_xpub(xpub: str, script_type: ScriptType, network: Network) -> str | None:
    """The SLIP-132 form Electrum expects (zpub, vpub, Zpub, ...); None for taproot."""
    name = SLIP132[script_type]
    if name is None:
        return None
    _, payload = _decode_xpub(xpub, "xpub")
    return str(base58.encode_check(network.params[name] + payload))


class _AccountKeyFields(NamedTuple):
    origin: KeyOrigin
    xpub: str


class AccountKey(Checked, _AccountKeyFields):
    """One cosigner's account-level xpub (standard xpub/tpub version) and where it comes from.

    The two chain keys (account/0 and account/1) are derived once, so deriving a script
    costs one non-hardened step per key.
    """

    # No `__slots__ = ()`: the cached_property chain keys below live in the instance __dict__.

    def __new__(cls, origin: KeyOrigin, xpub: str) -> AccountKey:
        where = f"key [{origin.descriptor_form()}]"
        version, payload = _decode_xpub(xpub, where)
        if version not in {net.params["xpub"] for net in Network}:
            raise InvalidInput(Code.WALLET_BAD_XPUB, f"{where}: xpub must use the standard version")
        try:
            check_xpub(version + payload, where)
        except InvalidInput as error:
            raise InvalidInput(Code.WALLET_BAD_XPUB, error.message) from error
        depth, parent, child = payload[0], payload[1:5], int.from_bytes(payload[5:9], "big")
        path = origin.path
        # the xpub's own header must agree with the origin it is claimed to come from
        if not path:
            consistent = depth == 0 and hash160(payload[41:])[:4] == origin.fingerprint
        else:
            consistent = (
                depth == len(path)
                and child == path[-1]
                and (len(path) > 1 or parent == origin.fingerprint)
            )
        if not consistent:
            raise InvalidInput(
                Code.WALLET_ORIGIN_MISMATCH,
                f"{where}: the xpub's depth, index or parent contradicts its origin",
            )
        return super().__new__(cls, origin, xpub)

    @cached_property
    def _key(self) -> tuple[bytes, bytes]:
        """(public key, chain code) of the account xpub, which __new__ checked."""
        raw = base58.decode_check(self.xpub)
        return raw[45:], raw[13:45]

    @property
    def own_fingerprint(self) -> bytes:
        """The account xpub's own fingerprint: what Electrum writes for a wallet restored
        from a bare xpub, whose paths then start at the account (m/chain/index)."""
        return hash160(self._key[0])[:4]

    @cached_property
    def _chains(self) -> tuple[tuple[bytes, bytes], ...]:
        """(public key, chain code) of account/0 and account/1, derived on first use: a
        keystore holds six accounts, and a signing uses one or two of them."""
        return tuple(public_child(*self._key, chain) for chain in (0, 1))

    def child_pubkey(self, chain: int, index: int) -> bytes:
        """Compressed public key at account/chain/index."""
        return public_child(*self._chains[chain], index)[0]


class DerivedScript(NamedTuple):
    """Everything needed to recognise and sign one address of a wallet.

    pubkeys are in script order (sorted for sortedmulti); for P2TR the key is the 32-byte
    x-only internal key, as PSBT_IN_TAP_BIP32_DERIVATION keys it (BIP371), else 33 bytes.
    """

    script_pubkey: bytes
    redeem_script: bytes | None
    witness_script: bytes | None
    pubkeys: tuple[tuple[bytes, KeyOrigin], ...]
    taproot_internal_key: bytes | None


class _WalletFields(NamedTuple):
    name: str
    script_type: ScriptType
    threshold: int
    keys: tuple[AccountKey, ...]
    sorted: bool  # BIP67 `sortedmulti`: keys sorted in every derived script
    network: Network


class Wallet(Checked, _WalletFields):
    """A watch-only wallet: single-sig (one key) or k-of-n multisig, on one network."""

    __slots__ = ()

    def __new__(
        cls,
        name: str,
        script_type: ScriptType,
        threshold: int,
        keys: tuple[AccountKey, ...],
        sorted: bool,  # noqa: A002  the field's name, so that keyword construction keeps working
        network: Network,
    ) -> Wallet:
        self = super().__new__(cls, name, script_type, threshold, keys, sorted, network)
        self._check()
        return self

    def _check(self) -> None:
        """Refuse a wallet no descriptor could describe: run by every construction."""
        if not _NAME_RE.fullmatch(self.name):
            raise InvalidInput(
                Code.WALLET_BAD_NAME,
                f"wallet name {self.name[:70]!r} must be 1-64 letters, digits, '.', '_' or '-'"
                " and start with a letter or digit",
            )
        n = len(self.keys)
        if self.script_type.is_multisig:
            if not 1 <= n <= self.script_type.max_keys:
                raise InvalidInput(
                    Code.WALLET_TOO_MANY_KEYS,
                    f"wallet {self.name}: {self.script_type.value} multisig takes 1 to"
                    f" {self.script_type.max_keys} keys, not {n}",
                )
            if not 1 <= self.threshold <= n:
                raise InvalidInput(
                    Code.WALLET_BAD_THRESHOLD,
                    f"wallet {self.name}: threshold {self.threshold} is not between 1 and {n}",
                )
        elif n != 1 or self.threshold != 1 or self.sorted:
            raise InvalidInput(
                Code.WALLET_BAD_SHAPE,
                f"wallet {self.name}: a {self.script_type.value} wallet has exactly one key",
            )
        xpubs = [k.xpub for k in self.keys]
        origins = [k.origin for k in self.keys]
        if len(set(xpubs)) != n or len(set(origins)) != n:
            raise InvalidInput(
                Code.WALLET_DUPLICATE_KEY,
                f"wallet {self.name}: the same key or key origin appears twice",
            )
        standard = self.network.params["xpub"]
        for key in self.keys:
            if _decode_xpub(key.xpub, "xpub")[0] != standard:
                raise InvalidInput(
                    Code.WALLET_WRONG_NETWORK,
                    f"wallet {self.name}: key [{key.origin.descriptor_form()}] is not a"
                    f" {self.network.value} xpub",
                )

    @property
    def is_multisig(self) -> bool:
        return self.script_type.is_multisig

    def derive(self, chain: int, index: int) -> DerivedScript:
        """The scripts and keys at chain (0 receive, 1 change) and a non-hardened index."""
        if chain not in (0, 1) or isinstance(index, bool) or not 0 <= index < HARDENED:
            raise InvalidInput(
                Code.WALLET_BAD_DERIVATION,
                f"wallet {self.name}: cannot derive chain {chain!r} index {index!r}"
                " (chain is 0 or 1, index below 2^31)",
            )
        keyed = [(k.child_pubkey(chain, index), k.origin.child(chain, index)) for k in self.keys]
        if self.sorted:
            keyed.sort(key=lambda pair: pair[0])  # BIP67: lexicographic on compressed keys
        pubkey, origin = keyed[0]
        match self.script_type:
            case ScriptType.P2PKH:
                return DerivedScript(p2pkh(pubkey), None, None, ((pubkey, origin),), None)
            case ScriptType.P2WPKH:
                return DerivedScript(p2wpkh(pubkey), None, None, ((pubkey, origin),), None)
            case ScriptType.P2SH_P2WPKH:
                redeem = p2wpkh(pubkey)
                return DerivedScript(p2sh(redeem), redeem, None, ((pubkey, origin),), None)
            case ScriptType.P2TR:  # BIP86: key path only
                internal = pubkey[1:]
                return DerivedScript(p2tr(pubkey), None, None, ((internal, origin),), internal)
        script = multisig(self.threshold, [pk for pk, _ in keyed])
        pubkeys = tuple(keyed)
        match self.script_type:
            case ScriptType.P2WSH:
                return DerivedScript(p2wsh(script), None, script, pubkeys, None)
            case ScriptType.P2SH_P2WSH:
                redeem = p2wsh(script)
                return DerivedScript(p2sh(redeem), redeem, script, pubkeys, None)
            case _:
                return DerivedScript(p2sh(script), script, None, pubkeys, None)
