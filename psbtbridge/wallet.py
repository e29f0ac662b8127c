"""Watch-only wallets: account xpubs, the scripts they derive, and their output descriptors.

No private key ever reaches this module: the cold analysis re-derives scripts from these
public models to prove which inputs and outputs are ours, and `keys export` prints them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from embit import base58
from embit.base import EmbitError
from embit.bip32 import HDKey
from embit.ec import PublicKey

from psbtbridge.bip32 import HARDENED, KeyOrigin, public_child
from psbtbridge.errors import InvalidInput
from psbtbridge.hashes import hash160, sha256
from psbtbridge.keyencoding import check_xpub
from psbtbridge.network import Network

MAX_DESCRIPTOR_LENGTH = 10_000  # characters: 20 keys with long origins fit many times over
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_PATH_ITEM_RE = re.compile(r"(0|[1-9][0-9]{0,9})([hH']?)")

OP_CHECKMULTISIG = 0xAE


def parse_path_item(untrusted_item: str, where: str) -> int:
    """`84h`, `84'`, `84H` or `0` to its BIP32 index; anything else is refused."""
    match = _PATH_ITEM_RE.fullmatch(untrusted_item)
    if match is None or int(match.group(1)) >= HARDENED:
        raise InvalidInput("descriptor.bad_path", f"{where}: {untrusted_item!r} is not a path step")
    return int(match.group(1)) + (HARDENED if match.group(2) else 0)


class ScriptType(Enum):
    P2PKH = "p2pkh"
    P2SH_P2WPKH = "p2sh-p2wpkh"
    P2WPKH = "p2wpkh"
    P2TR = "p2tr"
    P2WSH = "p2wsh"
    P2SH_P2WSH = "p2sh-p2wsh"
    P2SH = "p2sh"

    @property
    def is_multisig(self) -> bool:
        return self in (ScriptType.P2WSH, ScriptType.P2SH_P2WSH, ScriptType.P2SH)

    @property
    def max_keys(self) -> int:
        """Most keys a multisig of this type may have: legacy P2SH hits the 520-byte push limit."""
        return 15 if self is ScriptType.P2SH else 20

    @property
    def slip132(self) -> str | None:
        """Key of embit's network table for the SLIP-132 (Electrum) xpub of this script type."""
        return _SLIP132[self]


_SLIP132: dict[ScriptType, str | None] = {
    ScriptType.P2PKH: "xpub",
    ScriptType.P2SH_P2WPKH: "ypub",
    ScriptType.P2WPKH: "zpub",
    ScriptType.P2TR: None,  # SLIP-132 defines no version for taproot
    ScriptType.P2WSH: "Zpub",
    ScriptType.P2SH_P2WSH: "Ypub",
    ScriptType.P2SH: "xpub",
}


def _decode_xpub(untrusted_xpub: str, where: str) -> tuple[bytes, bytes]:
    """Base58check-decode an extended key; return (version, payload) or refuse."""
    try:
        raw = base58.decode_check(untrusted_xpub)
    except (ValueError, IndexError) as error:
        raise InvalidInput("wallet.bad_xpub", f"{where}: not a base58check extended key") from error
    if len(raw) != 78:
        raise InvalidInput("wallet.bad_xpub", f"{where}: an extended key must be 78 bytes")
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
            "descriptor.private_key", f"{where}: is a private key; give the xpub instead"
        )
    params = network.params
    if version not in {params[name] for name in accepted}:
        if version in _public_versions(network):
            raise InvalidInput(
                "descriptor.slip132_mismatch",
                f"{where}: its SLIP-132 version is for another script type",
            )
        if any(version in _public_versions(net) for net in Network):
            raise InvalidInput(
                "wallet.wrong_network", f"{where}: the xpub belongs to another network"
            )
        raise InvalidInput("wallet.bad_xpub", f"{where}: unknown extended key version")
    standard = params["xpub"] + payload
    try:
        key = HDKey.parse(standard)
    except (EmbitError, ValueError, IndexError) as error:
        raise InvalidInput(
            "wallet.bad_xpub", f"{where}: not a valid extended public key"
        ) from error
    if key.is_private:
        raise InvalidInput("descriptor.private_key", f"{where}: is a private key")
    return str(key.to_base58())


def electrum_xpub(xpub: str, script_type: ScriptType, network: Network) -> str | None:
    """The SLIP-132 form Electrum expects (zpub, vpub, Zpub, ...); None for taproot."""
    name = script_type.slip132
    if name is None:
        return None
    _, payload = _decode_xpub(xpub, "xpub")
    return str(base58.encode_check(network.params[name] + payload))


@dataclass(frozen=True)
class AccountKey:
    """One cosigner's account-level xpub (standard xpub/tpub version) and where it comes from.

    The two chain keys (account/0 and account/1) are derived once, so deriving a script
    costs one non-hardened step per key.
    """

    origin: KeyOrigin
    xpub: str

    def __post_init__(self) -> None:
        where = f"key [{self.origin.descriptor_form()}]"
        version, payload = _decode_xpub(self.xpub, where)
        if version not in {net.params["xpub"] for net in Network}:
            raise InvalidInput("wallet.bad_xpub", f"{where}: xpub must use the standard version")
        try:
            check_xpub(version + payload, where)
        except InvalidInput as error:
            raise InvalidInput("wallet.bad_xpub", error.message) from error
        depth, parent, child = payload[0], payload[1:5], int.from_bytes(payload[5:9], "big")
        path = self.origin.path
        # the xpub's own header must agree with the origin it is claimed to come from
        if not path:
            consistent = depth == 0 and hash160(payload[41:])[:4] == self.origin.fingerprint
        else:
            consistent = (
                depth == len(path)
                and child == path[-1]
                and (len(path) > 1 or parent == self.origin.fingerprint)
            )
        if not consistent:
            raise InvalidInput(
                "wallet.origin_mismatch",
                f"{where}: the xpub's depth, index or parent contradicts its origin",
            )

    @cached_property
    def _key(self) -> tuple[bytes, bytes]:
        """(public key, chain code) of the account xpub, which __post_init__ checked."""
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


@dataclass(frozen=True)
class DerivedScript:
    """Everything needed to recognise and sign one address of a wallet.

    pubkeys are in script order (sorted for sortedmulti); for P2TR the key is the 32-byte
    x-only internal key, as PSBT_IN_TAP_BIP32_DERIVATION keys it (BIP371), else 33 bytes.
    """

    script_pubkey: bytes
    redeem_script: bytes | None
    witness_script: bytes | None
    pubkeys: tuple[tuple[bytes, KeyOrigin], ...]
    taproot_internal_key: bytes | None


def _push_small_int(n: int) -> bytes:
    """Minimal push of 1..20: OP_1..OP_16, else a one-byte push (BIP62, as Core's multi())."""
    return bytes([0x50 + n]) if n <= 16 else bytes([0x01, n])


def _multisig_script(threshold: int, pubkeys: list[bytes]) -> bytes:
    body = b"".join(bytes([len(pk)]) + pk for pk in pubkeys)
    return (
        _push_small_int(threshold)
        + body
        + _push_small_int(len(pubkeys))
        + bytes([OP_CHECKMULTISIG])
    )


def _p2sh(redeem_script: bytes) -> bytes:
    return b"\xa9\x14" + hash160(redeem_script) + b"\x87"


def _p2wsh(witness_script: bytes) -> bytes:
    return b"\x00\x20" + sha256(witness_script)


def _p2wpkh(pubkey: bytes) -> bytes:
    return b"\x00\x14" + hash160(pubkey)


@dataclass(frozen=True)
class Wallet:
    """A watch-only wallet: single-sig (one key) or k-of-n multisig, on one network."""

    name: str
    script_type: ScriptType
    threshold: int
    keys: tuple[AccountKey, ...]
    sorted: bool  # BIP67 `sortedmulti`: keys sorted in every derived script
    network: Network

    def __post_init__(self) -> None:
        if not _NAME_RE.fullmatch(self.name):
            raise InvalidInput(
                "wallet.bad_name",
                f"wallet name {self.name[:70]!r} must be 1-64 letters, digits, '.', '_' or '-'"
                " and start with a letter or digit",
            )
        n = len(self.keys)
        if self.script_type.is_multisig:
            if not 1 <= n <= self.script_type.max_keys:
                raise InvalidInput(
                    "wallet.too_many_keys",
                    f"wallet {self.name}: {self.script_type.value} multisig takes 1 to"
                    f" {self.script_type.max_keys} keys, not {n}",
                )
            if not 1 <= self.threshold <= n:
                raise InvalidInput(
                    "wallet.bad_threshold",
                    f"wallet {self.name}: threshold {self.threshold} is not between 1 and {n}",
                )
        elif n != 1 or self.threshold != 1 or self.sorted:
            raise InvalidInput(
                "wallet.bad_shape",
                f"wallet {self.name}: a {self.script_type.value} wallet has exactly one key",
            )
        xpubs = [k.xpub for k in self.keys]
        origins = [k.origin for k in self.keys]
        if len(set(xpubs)) != n or len(set(origins)) != n:
            raise InvalidInput(
                "wallet.duplicate_key",
                f"wallet {self.name}: the same key or key origin appears twice",
            )
        standard = self.network.params["xpub"]
        for key in self.keys:
            if _decode_xpub(key.xpub, "xpub")[0] != standard:
                raise InvalidInput(
                    "wallet.wrong_network",
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
                "wallet.bad_derivation",
                f"wallet {self.name}: cannot derive chain {chain!r} index {index!r}"
                " (chain is 0 or 1, index below 2^31)",
            )
        keyed = [(k.child_pubkey(chain, index), k.origin.child(chain, index)) for k in self.keys]
        if self.sorted:
            keyed.sort(key=lambda pair: pair[0])  # BIP67: lexicographic on compressed keys
        pubkey, origin = keyed[0]
        match self.script_type:
            case ScriptType.P2PKH:
                spk = b"\x76\xa9\x14" + hash160(pubkey) + b"\x88\xac"
                return DerivedScript(spk, None, None, ((pubkey, origin),), None)
            case ScriptType.P2WPKH:
                return DerivedScript(_p2wpkh(pubkey), None, None, ((pubkey, origin),), None)
            case ScriptType.P2SH_P2WPKH:
                redeem = _p2wpkh(pubkey)
                return DerivedScript(_p2sh(redeem), redeem, None, ((pubkey, origin),), None)
            case ScriptType.P2TR:
                return self._derive_taproot(pubkey, origin)
        script = _multisig_script(self.threshold, [pk for pk, _ in keyed])
        pubkeys = tuple(keyed)
        match self.script_type:
            case ScriptType.P2WSH:
                return DerivedScript(_p2wsh(script), None, script, pubkeys, None)
            case ScriptType.P2SH_P2WSH:
                redeem = _p2wsh(script)
                return DerivedScript(_p2sh(redeem), redeem, script, pubkeys, None)
            case _:
                return DerivedScript(_p2sh(script), script, None, pubkeys, None)

    @staticmethod
    def _derive_taproot(pubkey: bytes, origin: KeyOrigin) -> DerivedScript:
        """BIP86: key-path only, output key = internal key tweaked with no script tree."""
        internal = pubkey[1:]
        output = PublicKey.parse(pubkey).taproot_tweak(b"").xonly()
        return DerivedScript(b"\x51\x20" + output, None, None, ((internal, origin),), internal)

    def descriptor(self, chain: int | None = None) -> str:
        """Output descriptor with BIP380 checksum; `<0;1>` multipath (BIP389) when chain is None."""
        if chain not in (None, 0, 1):
            raise InvalidInput("wallet.bad_derivation", f"chain {chain!r} is not 0, 1 or None")
        suffix = "<0;1>/*" if chain is None else f"{chain}/*"
        keys = [f"[{k.origin.descriptor_form()}]{k.xpub}/{suffix}" for k in self.keys]
        multi = (
            f"{'sortedmulti' if self.sorted else 'multi'}({','.join([str(self.threshold), *keys])})"
        )
        body = {
            ScriptType.P2PKH: f"pkh({keys[0]})",
            ScriptType.P2SH_P2WPKH: f"sh(wpkh({keys[0]}))",
            ScriptType.P2WPKH: f"wpkh({keys[0]})",
            ScriptType.P2TR: f"tr({keys[0]})",
            ScriptType.P2WSH: f"wsh({multi})",
            ScriptType.P2SH_P2WSH: f"sh(wsh({multi}))",
            ScriptType.P2SH: f"sh({multi})",
        }[self.script_type]
        return f"{body}#{descriptor_checksum(body)}"


def descriptor_checksum(body: str) -> str:
    """BIP380 checksum of a descriptor without its `#...` suffix."""
    # embit's descriptor package (~4 ms to import) is needed only where descriptors are
    # written or read, never to sign.
    from embit.descriptor.checksum import checksum as embit_checksum
    from embit.descriptor.errors import DescriptorError

    try:
        return str(embit_checksum(body))
    except DescriptorError as error:
        raise InvalidInput(
            "descriptor.syntax", "the descriptor holds a character descriptors do not allow"
        ) from error


def strip_checksum(untrusted_text: str) -> str:
    """Verify the BIP380 checksum if there is one; return the descriptor without it."""
    body, hash_sign, untrusted_checksum = untrusted_text.partition("#")
    expected = descriptor_checksum(body)
    if hash_sign and untrusted_checksum != expected:
        raise InvalidInput(
            "descriptor.bad_checksum",
            "the descriptor's checksum is wrong: it was altered or mistyped",
        )
    return body


_CALL_RE = re.compile(r"([a-z]+)\((.*)\)", re.DOTALL)
_MULTI = ("multi", "sortedmulti")


def _call(text: str) -> tuple[str, str]:
    match = _CALL_RE.fullmatch(text)
    if match is None:
        raise InvalidInput("descriptor.syntax", f"expected NAME(...) at {text[:40]!r}")
    return match.group(1), match.group(2)


def parse_descriptor(untrusted_text: str, network: Network, name: str = "multisig") -> Wallet:
    """Parse a ranged descriptor over account xpubs into a Wallet, refusing all we cannot prove.

    Accepted: pkh, wpkh, sh(wpkh), tr (key path only), and wsh / sh(wsh) / sh of multi or
    sortedmulti. Every key is `[fingerprint/path]xpub/<0;1>/*` (BIP389) or
    `[fingerprint/path]xpub/0/*` (receive; change is then `/1/*`).
    """
    if len(untrusted_text) > MAX_DESCRIPTOR_LENGTH:
        raise InvalidInput("descriptor.too_long", "the descriptor is longer than 10000 characters")
    body = strip_checksum(untrusted_text.strip())
    outer, inner = _call(body)
    if outer == "sh":
        wrapped, inner_args = _call(inner)
        if wrapped == "wpkh":
            return _single(ScriptType.P2SH_P2WPKH, inner_args, network, name)
        if wrapped == "wsh":
            return _multi(ScriptType.P2SH_P2WSH, inner_args, network, name)
        if wrapped in _MULTI:
            return _multi(ScriptType.P2SH, inner, network, name)
    elif outer == "wsh":
        return _multi(ScriptType.P2WSH, inner, network, name)
    elif outer in ("pkh", "wpkh", "tr"):
        if outer == "tr" and "," in inner:
            raise InvalidInput(
                "descriptor.unsupported", "taproot script trees are not supported, only tr(KEY)"
            )
        script_type = {"pkh": ScriptType.P2PKH, "wpkh": ScriptType.P2WPKH, "tr": ScriptType.P2TR}
        return _single(script_type[outer], inner, network, name)
    raise InvalidInput(
        "descriptor.unsupported",
        "only pkh, wpkh, sh(wpkh), tr, and multi/sortedmulti in wsh, sh(wsh) or sh are supported",
    )


def _single(script_type: ScriptType, untrusted_key: str, network: Network, name: str) -> Wallet:
    key, _ = _parse_key(untrusted_key, network, script_type, "key 1")
    return Wallet(name, script_type, 1, (key,), False, network)


def _multi(script_type: ScriptType, text: str, network: Network, name: str) -> Wallet:
    function, args = _call(text)
    if function not in _MULTI:
        raise InvalidInput(
            "descriptor.unsupported", f"{function}() is not supported here, only multi/sortedmulti"
        )
    untrusted_threshold, *untrusted_keys = args.split(",")
    if not re.fullmatch(r"[0-9]{1,3}", untrusted_threshold) or not untrusted_keys:
        raise InvalidInput("descriptor.syntax", f"{function}() needs a threshold and keys")
    parsed = [
        _parse_key(k, network, script_type, f"key {i}") for i, k in enumerate(untrusted_keys, 1)
    ]
    if len({multipath for _, multipath in parsed}) != 1:
        # BIP389 would keep a /0/* key fixed on the change branch: not what anyone means
        raise InvalidInput(
            "descriptor.mixed_paths", "either every key ends in /<0;1>/* or every key in /0/*"
        )
    keys = tuple(key for key, _ in parsed)
    return Wallet(
        name, script_type, int(untrusted_threshold), keys, function == "sortedmulti", network
    )


def _parse_key(
    untrusted_key: str, network: Network, script_type: ScriptType, where: str
) -> tuple[AccountKey, bool]:
    """`[fp/path]xpub/<0;1>/*` or `[fp/path]xpub/0/*`; return the key and whether it was multipath."""
    if not untrusted_key.startswith("["):
        raise InvalidInput(
            "descriptor.missing_origin",
            f"{where}: needs its origin [fingerprint/path] to prove it is ours",
        )
    origin_text, bracket, rest = untrusted_key[1:].partition("]")
    untrusted_fingerprint, *untrusted_path = origin_text.split("/")
    if not bracket or not re.fullmatch(r"[0-9a-fA-F]{8}", untrusted_fingerprint):
        raise InvalidInput("descriptor.syntax", f"{where}: origin is not [8-hex-digits/path]")
    path = tuple(parse_path_item(item, where) for item in untrusted_path)
    untrusted_xpub, slash, suffix = rest.partition("/")
    if suffix.endswith(("*h", "*H", "*'")):
        raise InvalidInput(
            "descriptor.hardened_wildcard",
            f"{where}: a hardened wildcard cannot be derived from an xpub",
        )
    if not slash or suffix not in ("<0;1>/*", "0/*"):
        raise InvalidInput(
            "descriptor.bad_path", f"{where}: must end in /<0;1>/* (or /0/* for receive)"
        )
    accepted = ("xpub",) if script_type.slip132 in (None, "xpub") else ("xpub", script_type.slip132)
    xpub = parse_xpub(untrusted_xpub, network, accepted, where)
    origin = KeyOrigin(bytes.fromhex(untrusted_fingerprint), path)
    return AccountKey(origin, xpub), suffix == "<0;1>/*"
