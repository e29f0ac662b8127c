"""The watch-only export (psbtbridge-export/1): what `psbt keys export` writes and the hot side reads.

Both directions live here, so what the cold side writes is exactly what the hot side
accepts. The reader distrusts its input (it may have crossed a qube boundary): it builds a
`Wallet` through the model's own checks, accepts public keys only, and names the field of
every refusal. The refusal codes are the `watch_only.*` ones the hot side always used.
"""

from __future__ import annotations

import re
from typing import Any, Final

from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import Code, InvalidInput, UsageError
from psbtbridge.files import load_json
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.wallet.addresses import wallet_address
from psbtbridge.wallet.descriptor import descriptor_of
from psbtbridge.wallet.wallet import AccountKey, Wallet, electrum_xpub, parse_xpub

EXPORT_FORMAT: Final = "psbtbridge-export/1"
MAX_EXPORT_SIZE: Final = 1024 * 1024
_MAX_XPUB_LENGTH: Final = 112  # 78 bytes and a 4-byte checksum in base58
_FINGERPRINT_RE: Final = re.compile(r"[0-9a-f]{8}")
_PATH_RE: Final = re.compile(r"m(/[0-9]{1,10}['h]?){0,255}")
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SINGLE: Final = frozenset(t for t in ScriptType if not t.is_multisig)


def first_address(wallet: Wallet) -> str:
    """The wallet's first receive address: what a person compares on both sides."""
    return wallet_address(wallet, 0, 0).address


def export_document(
    network: Network, master_fingerprint: bytes, wallets: tuple[Wallet, ...]
) -> dict[str, Any]:
    """Watch-only material for electrum-hot: no secrets."""
    return {
        "format": EXPORT_FORMAT,
        "network": network.value,
        "master_fingerprint": master_fingerprint.hex(),
        "wallets": [_export_wallet(w) for w in wallets],
    }


def _export_wallet(wallet: Wallet) -> dict[str, Any]:
    common = {
        "name": wallet.name,
        "script_type": wallet.script_type.value,
        # what the watch-only wallet must show as its first receive address (m/.../0/0)
        "first_receive_address": first_address(wallet),
        "descriptor": descriptor_of(wallet),
        "descriptors": {"receive": descriptor_of(wallet, 0), "change": descriptor_of(wallet, 1)},
    }
    if not wallet.is_multisig:
        key = wallet.keys[0]
        return {
            **common,
            "kind": "single",
            "derivation": key.origin.derivation,
            "xpub": key.xpub,
            "electrum_xpub": electrum_xpub(key.xpub, wallet.script_type, wallet.network),
        }
    return {
        **common,
        "kind": "multisig",
        "threshold": wallet.threshold,
        "sorted": wallet.sorted,
        "cosigners": [
            {
                "fingerprint": k.origin.fingerprint.hex(),
                "derivation": k.origin.derivation,
                "xpub": k.xpub,
                "electrum_xpub": electrum_xpub(k.xpub, wallet.script_type, wallet.network),
            }
            for k in wallet.keys
        ],
    }


def wallet_from_export(untrusted_data: bytes, name: str) -> Wallet:
    """Wallet `name` of an export, every key checked; UsageError when there is no such wallet."""
    if len(untrusted_data) > MAX_EXPORT_SIZE:
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"export is larger than {MAX_EXPORT_SIZE} bytes"
        )
    untrusted_doc = load_json(
        untrusted_data,
        lambda why: InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"export: {why}"),
        cap=MAX_EXPORT_SIZE,
    )
    if not isinstance(untrusted_doc, dict) or untrusted_doc.get("format") != EXPORT_FORMAT:
        raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"export: format is not {EXPORT_FORMAT!r}")
    network_name = _field(untrusted_doc, "network", str, "export")
    if network_name not in Network.names():
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"export: unknown network {network_name[:20]!r}"
        )
    network = Network(network_name)
    master = _fingerprint(_field(untrusted_doc, "master_fingerprint", str, "export"), "export")
    names = []
    for i, untrusted_wallet in enumerate(_field(untrusted_doc, "wallets", list, "export")):
        if not isinstance(untrusted_wallet, dict):
            raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"export: wallets[{i}] is not an object")
        wallet_name = _field(untrusted_wallet, "name", str, f"export: wallets[{i}]")
        if not _NAME_RE.fullmatch(wallet_name):
            raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"export: wallets[{i}] has a bad name")
        if wallet_name == name:
            return _wallet(untrusted_wallet, name, network, master)
        names.append(wallet_name)
    raise UsageError(
        Code.WATCH_ONLY_NO_WALLET,
        f"the export has no wallet named {name[:64]!r}; it has: {', '.join(names) or 'none'}",
    )


def _wallet(untrusted: dict[str, Any], name: str, network: Network, master: bytes) -> Wallet:
    where = f"export: wallet {name!r}"
    kind = _field(untrusted, "kind", str, where)
    type_name = _field(untrusted, "script_type", str, where)
    try:
        script_type = ScriptType(type_name)
    except ValueError as error:
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"{where}: unknown script_type {type_name[:20]!r}"
        ) from error
    if kind == "single" and script_type in _SINGLE:
        key = _key(untrusted, master, network, script_type, where)
        given = [untrusted.get("electrum_xpub")]
        return _checked(Wallet(name, script_type, 1, (key,), False, network), given, where)
    if kind != "multisig" or script_type in _SINGLE:
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT,
            f"{where}: kind {kind[:20]!r} with script_type {type_name!r}",
        )
    is_sorted = _field(untrusted, "sorted", bool, where)
    untrusted_cosigners = _field(untrusted, "cosigners", list, where)
    count = len(untrusted_cosigners)
    threshold = _field(untrusted, "threshold", int, where)
    if isinstance(threshold, bool) or not 1 <= threshold <= count:
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"{where}: threshold must be between 1 and {count}"
        )
    keys = []
    for i, untrusted_cosigner in enumerate(untrusted_cosigners):
        cosigner_where = f"{where}: cosigners[{i}]"
        if not isinstance(untrusted_cosigner, dict):
            raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"{cosigner_where} is not an object")
        fingerprint = _fingerprint(
            _field(untrusted_cosigner, "fingerprint", str, cosigner_where), cosigner_where
        )
        keys.append(_key(untrusted_cosigner, fingerprint, network, script_type, cosigner_where))
    given = [c.get("electrum_xpub") for c in untrusted_cosigners]
    try:
        wallet = Wallet(name, script_type, threshold, tuple(keys), is_sorted, network)
    except InvalidInput as error:  # the same key twice, too many keys
        raise InvalidInput(Code.WATCH_ONLY_BAD_KEY, f"{where}: {error.message}") from error
    return _checked(wallet, given, where)


def _key(
    untrusted: dict[str, Any],
    fingerprint: bytes,
    network: Network,
    script_type: ScriptType,
    where: str,
) -> AccountKey:
    """An account key with its origin; the xpub's depth, index and parent must agree with the
    origin (Electrum's is_xkey_consistent_with_key_origin_info, which BIP32 implies)."""
    path = _path(_field(untrusted, "derivation", str, where), where)
    untrusted_xpub = _field(untrusted, "xpub", str, where)
    if len(untrusted_xpub) > _MAX_XPUB_LENGTH:
        raise InvalidInput(Code.WATCH_ONLY_BAD_KEY, f"{where}: xpub is too long")
    try:
        xpub = parse_xpub(untrusted_xpub, network, ("xpub",), where)
        return AccountKey(KeyOrigin(fingerprint, path), xpub)
    except InvalidInput as error:
        raise InvalidInput(Code.WATCH_ONLY_BAD_KEY, error.message) from error


def _checked(wallet: Wallet, untrusted_given: list[Any], where: str) -> Wallet:
    """An export's electrum_xpub is optional; when present it must be our own conversion."""
    for i, (given, key) in enumerate(zip(untrusted_given, wallet.keys, strict=True)):
        # taproot has no SLIP-132 form: there the plain xpub is what Electrum would show
        ours = electrum_xpub(key.xpub, wallet.script_type, wallet.network) or key.xpub
        if given is not None and given != ours:
            place = where if len(untrusted_given) == 1 else f"{where}: cosigners[{i}]"
            raise InvalidInput(
                Code.WATCH_ONLY_BAD_KEY, f"{place}: electrum_xpub is not the same key as xpub"
            )
    return wallet


def _field(untrusted: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = untrusted.get(key)
    if not isinstance(value, kind):
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"{where}: {key!r} is missing or not a {kind.__name__}"
        )
    return value


def _fingerprint(untrusted: str, where: str) -> bytes:
    if not _FINGERPRINT_RE.fullmatch(untrusted):
        raise InvalidInput(
            Code.WATCH_ONLY_BAD_EXPORT, f"{where}: fingerprint is not 8 lowercase hex"
        )
    return bytes.fromhex(untrusted)


def _path(untrusted: str, where: str) -> tuple[int, ...]:
    if not _PATH_RE.fullmatch(untrusted):
        raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"{where}: derivation {untrusted[:40]!r}")
    path = []
    for step in untrusted.split("/")[1:]:
        hardened = step[-1] in "'h"
        index = int(step.rstrip("'h"))
        if index >= HARDENED:
            raise InvalidInput(Code.WATCH_ONLY_BAD_EXPORT, f"{where}: derivation index {index}")
        path.append(index | HARDENED if hardened else index)
    return tuple(path)
