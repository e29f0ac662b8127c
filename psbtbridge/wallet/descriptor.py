"""Output descriptors (BIP380/389) of our wallets: the checksum, and parsing into a Wallet."""

from __future__ import annotations

import re

from psbtbridge.bip32 import KeyOrigin
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet.wallet import SLIP132, AccountKey, Wallet, parse_path_item, parse_xpub

MAX_DESCRIPTOR_LENGTH = 10_000  # characters: 20 keys with long origins fit many times over


def descriptor_of(wallet: Wallet, chain: int | None = None) -> str:
    """Output descriptor with BIP380 checksum; `<0;1>` multipath (BIP389) when chain is None."""
    if chain not in (None, 0, 1):
        raise InvalidInput(Code.WALLET_BAD_DERIVATION, f"chain {chain!r} is not 0, 1 or None")
    suffix = "<0;1>/*" if chain is None else f"{chain}/*"
    keys = [f"[{k.origin.descriptor_form()}]{k.xpub}/{suffix}" for k in wallet.keys]
    multi = (
        f"{'sortedmulti' if wallet.sorted else 'multi'}({','.join([str(wallet.threshold), *keys])})"
    )
    body = {
        ScriptType.P2PKH: f"pkh({keys[0]})",
        ScriptType.P2SH_P2WPKH: f"sh(wpkh({keys[0]}))",
        ScriptType.P2WPKH: f"wpkh({keys[0]})",
        ScriptType.P2TR: f"tr({keys[0]})",
        ScriptType.P2WSH: f"wsh({multi})",
        ScriptType.P2SH_P2WSH: f"sh(wsh({multi}))",
        ScriptType.P2SH: f"sh({multi})",
    }[wallet.script_type]
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
            Code.DESCRIPTOR_SYNTAX, "the descriptor holds a character descriptors do not allow"
        ) from error


def strip_checksum(untrusted_text: str) -> str:
    """Verify the BIP380 checksum if there is one; return the descriptor without it."""
    body, hash_sign, untrusted_checksum = untrusted_text.partition("#")
    expected = descriptor_checksum(body)
    if hash_sign and untrusted_checksum != expected:
        raise InvalidInput(
            Code.DESCRIPTOR_BAD_CHECKSUM,
            "the descriptor's checksum is wrong: it was altered or mistyped",
        )
    return body


_CALL_RE = re.compile(r"([a-z]+)\((.*)\)", re.DOTALL)
_MULTI = ("multi", "sortedmulti")


def _call(text: str) -> tuple[str, str]:
    match = _CALL_RE.fullmatch(text)
    if match is None:
        raise InvalidInput(Code.DESCRIPTOR_SYNTAX, f"expected NAME(...) at {text[:40]!r}")
    return match.group(1), match.group(2)


def parse_descriptor(untrusted_text: str, network: Network, name: str = "multisig") -> Wallet:
    """Parse a ranged descriptor over account xpubs into a Wallet, refusing all we cannot prove.

    Accepted: pkh, wpkh, sh(wpkh), tr (key path only), and wsh / sh(wsh) / sh of multi or
    sortedmulti. Every key is `[fingerprint/path]xpub/<0;1>/*` (BIP389) or
    `[fingerprint/path]xpub/0/*` (receive; change is then `/1/*`).
    """
    if len(untrusted_text) > MAX_DESCRIPTOR_LENGTH:
        raise InvalidInput(
            Code.DESCRIPTOR_TOO_LONG, "the descriptor is longer than 10000 characters"
        )
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
                Code.DESCRIPTOR_UNSUPPORTED, "taproot script trees are not supported, only tr(KEY)"
            )
        script_type = {"pkh": ScriptType.P2PKH, "wpkh": ScriptType.P2WPKH, "tr": ScriptType.P2TR}
        return _single(script_type[outer], inner, network, name)
    raise InvalidInput(
        Code.DESCRIPTOR_UNSUPPORTED,
        "only pkh, wpkh, sh(wpkh), tr, and multi/sortedmulti in wsh, sh(wsh) or sh are supported",
    )


def _single(script_type: ScriptType, untrusted_key: str, network: Network, name: str) -> Wallet:
    key, _ = _parse_key(untrusted_key, network, script_type, "key 1")
    return Wallet(name, script_type, 1, (key,), False, network)


def _multi(script_type: ScriptType, text: str, network: Network, name: str) -> Wallet:
    function, args = _call(text)
    if function not in _MULTI:
        raise InvalidInput(
            Code.DESCRIPTOR_UNSUPPORTED,
            f"{function}() is not supported here, only multi/sortedmulti",
        )
    untrusted_threshold, *untrusted_keys = args.split(",")
    if not re.fullmatch(r"[0-9]{1,3}", untrusted_threshold) or not untrusted_keys:
        raise InvalidInput(Code.DESCRIPTOR_SYNTAX, f"{function}() needs a threshold and keys")
    parsed = [
        _parse_key(k, network, script_type, f"key {i}") for i, k in enumerate(untrusted_keys, 1)
    ]
    if len({multipath for _, multipath in parsed}) != 1:
        # BIP389 would keep a /0/* key fixed on the change branch: not what anyone means
        raise InvalidInput(
            Code.DESCRIPTOR_MIXED_PATHS, "either every key ends in /<0;1>/* or every key in /0/*"
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
            Code.DESCRIPTOR_MISSING_ORIGIN,
            f"{where}: needs its origin [fingerprint/path] to prove it is ours",
        )
    origin_text, bracket, rest = untrusted_key[1:].partition("]")
    untrusted_fingerprint, *untrusted_path = origin_text.split("/")
    if not bracket or not re.fullmatch(r"[0-9a-fA-F]{8}", untrusted_fingerprint):
        raise InvalidInput(Code.DESCRIPTOR_SYNTAX, f"{where}: origin is not [8-hex-digits/path]")
    path = tuple(parse_path_item(item, where) for item in untrusted_path)
    untrusted_xpub, slash, suffix = rest.partition("/")
    if suffix.endswith(("*h", "*H", "*'")):
        raise InvalidInput(
            Code.DESCRIPTOR_HARDENED_WILDCARD,
            f"{where}: a hardened wildcard cannot be derived from an xpub",
        )
    if not slash or suffix not in ("<0;1>/*", "0/*"):
        raise InvalidInput(
            Code.DESCRIPTOR_BAD_PATH, f"{where}: must end in /<0;1>/* (or /0/* for receive)"
        )
    slip132 = SLIP132[script_type]
    accepted = ("xpub",) if slip132 in (None, "xpub") else ("xpub", slip132)
    xpub = parse_xpub(untrusted_xpub, network, accepted, where)
    origin = KeyOrigin(bytes.fromhex(untrusted_fingerprint), path)
    return AccountKey(origin, xpub), suffix == "<0;1>/*"
