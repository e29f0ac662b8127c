"""Electrum watch-only wallet files that know their keys' origin, built from a cold `keys export`.

Electrum's `restore XPUB` forgets where the xpub came from, so its PSBTs name the xpub's own
fingerprint and a two-step path (m/0/5). Writing the keystore's `root_fingerprint` and
`derivation` ourselves makes Electrum put the master fingerprint and the full path
(m/84'/1'/0'/0/5) in every PSBT_IN/OUT_BIP32_DERIVATION, which is what the cold signer
re-derives. Only public material is accepted: an export holding a private key is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from embit import base58, bip32, ec, script

from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import InvalidInput, UsageError
from psbtbridge.network import Network

EXPORT_FORMAT: Final = "psbtbridge-export/1"
MAX_EXPORT_SIZE: Final = 1024 * 1024
#: Electrum names multisig wallets "MofN" with N at most 15 (bare CHECKMULTISIG's limit in P2SH).
MAX_COSIGNERS: Final = 15
#: The wallet-file version Electrum 4.3 writes; later versions upgrade it when they load it.
ELECTRUM_SEED_VERSION: Final = 50
_XPUB_SIZE = 78
_XPUB_BASE58_MAX = 112  # 78 bytes + 4 checksum bytes in base58
_FINGERPRINT_RE = re.compile(r"[0-9a-f]{8}")
_PATH_RE = re.compile(r"m(/[0-9]{1,10}['h]?){0,255}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ScriptType(Enum):
    """Output script types an export names (BIP44/49/84/86 single-sig, BIP48 multisig)."""

    P2PKH = "p2pkh"
    P2SH_P2WPKH = "p2sh-p2wpkh"
    P2WPKH = "p2wpkh"
    P2TR = "p2tr"
    P2SH = "p2sh"
    P2SH_P2WSH = "p2sh-p2wsh"
    P2WSH = "p2wsh"


SINGLE_TYPES: Final = frozenset({ScriptType.P2PKH, ScriptType.P2SH_P2WPKH, ScriptType.P2WPKH})
MULTISIG_TYPES: Final = frozenset({ScriptType.P2SH, ScriptType.P2SH_P2WSH, ScriptType.P2WSH})

#: Electrum reads a wallet's script type from the SLIP-132 version of its key (embit's names:
#: on test networks "zpub" is vpub, "Zpub" is Vpub, "xpub" is tpub).
_ELECTRUM_VERSION: Final = {
    ScriptType.P2PKH: "xpub",
    ScriptType.P2SH_P2WPKH: "ypub",
    ScriptType.P2WPKH: "zpub",
    ScriptType.P2SH: "xpub",
    ScriptType.P2SH_P2WSH: "Ypub",
    ScriptType.P2WSH: "Zpub",
}


@dataclass(frozen=True)
class KeyOrigin:
    """An account xpub and where it sits below its master key."""

    fingerprint: bytes
    path: tuple[int, ...]
    xpub: bytes  # 78-byte BIP32 serialization with the network's plain xpub/tpub version

    @property
    def derivation(self) -> str:
        """The path as Electrum writes it: m/84'/1'/0'."""
        steps = [f"{i & ~HARDENED}'" if i & HARDENED else str(i) for i in self.path]
        return "/".join(["m", *steps])


@dataclass(frozen=True)
class WatchOnlySpec:
    """One wallet of an export, checked: what an Electrum watch-only file is built from."""

    name: str
    network: Network
    script_type: ScriptType
    threshold: int  # 1 for single-sig
    keys: tuple[KeyOrigin, ...]

    @property
    def is_multisig(self) -> bool:
        return self.script_type in MULTISIG_TYPES

    def electrum_xpubs(self) -> tuple[str, ...]:
        """Each key in the SLIP-132 form (vpub, upub, Vpub, ...) that tells Electrum the script type."""
        version = self.network.params[_ELECTRUM_VERSION[self.script_type]]
        return tuple(bip32.HDKey.parse(k.xpub).to_base58(version=version) for k in self.keys)

    def wallet_file(self) -> bytes:
        """The wallet file (JSON, unencrypted, no private key) in the format Electrum 4.3 reads."""
        keystores = [
            {
                "type": "bip32",
                "xpub": xpub,
                "xprv": None,
                "derivation": key.derivation,
                "root_fingerprint": key.fingerprint.hex(),
                "pw_hash_version": 1,
            }
            for key, xpub in zip(self.keys, self.electrum_xpubs(), strict=True)
        ]
        document: dict[str, Any] = {"seed_version": ELECTRUM_SEED_VERSION, "use_encryption": False}
        if self.is_multisig:
            document["wallet_type"] = f"{self.threshold}of{len(self.keys)}"
            # Electrum 4.3 names cosigner keystores "x1/".."xN/" (4.5 renames them on upgrade).
            document.update({f"x{i}/": ks for i, ks in enumerate(keystores, start=1)})
        else:
            document["wallet_type"] = "standard"
            document["keystore"] = keystores[0]
        return json.dumps(document, indent=4, sort_keys=True).encode() + b"\n"

    def address(self, index: int, change: bool = False) -> str:
        """The address at .../change/index, derived here independently of Electrum."""
        branch = 1 if change else 0
        pubkeys = [bip32.HDKey.parse(k.xpub).derive([branch, index]).key for k in self.keys]
        if self.is_multisig:
            # Electrum (like sortedmulti) orders the keys by their serialization.
            redeem = script.multisig(self.threshold, sorted(pubkeys, key=lambda p: p.sec()))
            if self.script_type is ScriptType.P2WSH:
                spk = script.p2wsh(redeem)
            elif self.script_type is ScriptType.P2SH_P2WSH:
                spk = script.p2sh(script.p2wsh(redeem))
            else:
                spk = script.p2sh(redeem)
        elif self.script_type is ScriptType.P2WPKH:
            spk = script.p2wpkh(pubkeys[0])
        elif self.script_type is ScriptType.P2SH_P2WPKH:
            spk = script.p2sh(script.p2wpkh(pubkeys[0]))
        else:
            spk = script.p2pkh(pubkeys[0])
        address: str = spk.address(self.network.params)
        return address


def spec_from_export(untrusted_data: bytes, name: str) -> WatchOnlySpec:
    """Pick wallet `name` from a psbtbridge-export/1 document and check every key in it."""
    if len(untrusted_data) > MAX_EXPORT_SIZE:
        raise InvalidInput(
            "watch_only.bad_export", f"export is larger than {MAX_EXPORT_SIZE} bytes"
        )
    try:
        untrusted_doc = json.loads(untrusted_data.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidInput("watch_only.bad_export", "export is not UTF-8 JSON") from error
    if not isinstance(untrusted_doc, dict) or untrusted_doc.get("format") != EXPORT_FORMAT:
        raise InvalidInput("watch_only.bad_export", f"export: format is not {EXPORT_FORMAT!r}")
    network_name = _field(untrusted_doc, "network", str, "export")
    if network_name not in Network.names():
        raise InvalidInput(
            "watch_only.bad_export", f"export: unknown network {network_name[:20]!r}"
        )
    network = Network(network_name)
    master = _fingerprint(_field(untrusted_doc, "master_fingerprint", str, "export"), "export")
    untrusted_wallets = _field(untrusted_doc, "wallets", list, "export")
    names = []
    for i, untrusted_wallet in enumerate(untrusted_wallets):
        if not isinstance(untrusted_wallet, dict):
            raise InvalidInput("watch_only.bad_export", f"export: wallets[{i}] is not an object")
        wallet_name = _field(untrusted_wallet, "name", str, f"export: wallets[{i}]")
        if not _NAME_RE.fullmatch(wallet_name):
            raise InvalidInput("watch_only.bad_export", f"export: wallets[{i}] has a bad name")
        if wallet_name == name:
            return _wallet_spec(untrusted_wallet, name, network, master)
        names.append(wallet_name)
    raise UsageError(
        "watch_only.no_wallet",
        f"the export has no wallet named {name[:64]!r}; it has: {', '.join(names) or 'none'}",
    )


def _wallet_spec(
    untrusted_wallet: dict[str, Any], name: str, network: Network, master: bytes
) -> WatchOnlySpec:
    where = f"export: wallet {name!r}"
    kind = _field(untrusted_wallet, "kind", str, where)
    type_name = _field(untrusted_wallet, "script_type", str, where)
    try:
        script_type = ScriptType(type_name)
    except ValueError as error:
        raise InvalidInput(
            "watch_only.bad_export", f"{where}: unknown script_type {type_name[:20]!r}"
        ) from error
    if script_type is ScriptType.P2TR:
        raise UsageError(
            "watch_only.unsupported",
            f"{where}: Electrum 4.3 has no taproot wallets; choose a p2wpkh, p2sh-p2wpkh or p2pkh wallet",
        )
    if kind == "single" and script_type in SINGLE_TYPES:
        key = _key_origin(untrusted_wallet, master, network, where)
        spec = WatchOnlySpec(name, network, script_type, 1, (key,))
        _check_electrum_xpubs(spec, [untrusted_wallet.get("electrum_xpub")], where)
        return spec
    if kind != "multisig" or script_type not in MULTISIG_TYPES:
        raise InvalidInput(
            "watch_only.bad_export", f"{where}: kind {kind[:20]!r} with script_type {type_name!r}"
        )
    if _field(untrusted_wallet, "sorted", bool, where) is not True:
        raise UsageError(
            "watch_only.unsupported",
            f"{where}: Electrum only builds sorted multisig (sortedmulti); this wallet keeps key order",
        )
    untrusted_cosigners = _field(untrusted_wallet, "cosigners", list, where)
    count = len(untrusted_cosigners)
    if not 2 <= count <= MAX_COSIGNERS:
        raise UsageError(
            "watch_only.unsupported", f"{where}: {count} cosigners; Electrum takes 2 to 15"
        )
    threshold = _field(untrusted_wallet, "threshold", int, where)
    if isinstance(threshold, bool) or not 1 <= threshold <= count:
        raise InvalidInput(
            "watch_only.bad_export", f"{where}: threshold must be between 1 and {count}"
        )
    keys = []
    for i, untrusted_cosigner in enumerate(untrusted_cosigners):
        cosigner_where = f"{where}: cosigners[{i}]"
        if not isinstance(untrusted_cosigner, dict):
            raise InvalidInput("watch_only.bad_export", f"{cosigner_where} is not an object")
        fingerprint = _fingerprint(
            _field(untrusted_cosigner, "fingerprint", str, cosigner_where), cosigner_where
        )
        keys.append(_key_origin(untrusted_cosigner, fingerprint, network, cosigner_where))
    if len({k.xpub[13:] for k in keys}) != count:
        raise InvalidInput("watch_only.bad_key", f"{where}: the same key appears twice")
    spec = WatchOnlySpec(name, network, script_type, threshold, tuple(keys))
    _check_electrum_xpubs(spec, [c.get("electrum_xpub") for c in untrusted_cosigners], where)
    return spec


def _key_origin(
    untrusted: dict[str, Any], fingerprint: bytes, network: Network, where: str
) -> KeyOrigin:
    path = _path(_field(untrusted, "derivation", str, where), where)
    xpub = _xpub(_field(untrusted, "xpub", str, where), network, where)
    depth, parent, child = xpub[4], xpub[5:9], int.from_bytes(xpub[9:13], "big")
    # Electrum's rule (bip32.is_xkey_consistent_with_key_origin_info), which BIP32 implies:
    # the key sits exactly `len(path)` steps below a master key with this fingerprint.
    consistent = depth == len(path) and (depth == 0 or child == path[-1])
    if depth == 1:
        consistent = consistent and parent == fingerprint
    if depth == 0:
        own = bip32.HDKey.parse(xpub).my_fingerprint
        consistent = consistent and own == fingerprint
    if not consistent:
        raise InvalidInput(
            "watch_only.bad_key",
            f"{where}: xpub (depth {depth}) does not match fingerprint and derivation",
        )
    return KeyOrigin(fingerprint, path, xpub)


def _check_electrum_xpubs(spec: WatchOnlySpec, untrusted_given: list[Any], where: str) -> None:
    """An export's electrum_xpub is optional; when present it must be our own conversion."""
    for i, (given, ours) in enumerate(zip(untrusted_given, spec.electrum_xpubs(), strict=True)):
        if given is not None and given != ours:
            place = where if len(untrusted_given) == 1 else f"{where}: cosigners[{i}]"
            raise InvalidInput(
                "watch_only.bad_key", f"{place}: electrum_xpub is not the same key as xpub"
            )


def _field(untrusted: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = untrusted.get(key)
    if not isinstance(value, kind):
        raise InvalidInput(
            "watch_only.bad_export", f"{where}: {key!r} is missing or not a {kind.__name__}"
        )
    return value


def _fingerprint(untrusted: str, where: str) -> bytes:
    if not _FINGERPRINT_RE.fullmatch(untrusted):
        raise InvalidInput("watch_only.bad_export", f"{where}: fingerprint is not 8 lowercase hex")
    return bytes.fromhex(untrusted)


def _path(untrusted: str, where: str) -> tuple[int, ...]:
    if not _PATH_RE.fullmatch(untrusted):
        raise InvalidInput("watch_only.bad_export", f"{where}: derivation {untrusted[:40]!r}")
    path = []
    for step in untrusted.split("/")[1:]:
        hardened = step[-1] in "'h"
        index = int(step.rstrip("'h"))
        if index >= HARDENED:
            raise InvalidInput("watch_only.bad_export", f"{where}: derivation index {index}")
        path.append(index | HARDENED if hardened else index)
    return tuple(path)


def _xpub(untrusted: str, network: Network, where: str) -> bytes:
    """Base58check, 78 bytes, the network's plain public version, a point on the curve."""
    if len(untrusted) > _XPUB_BASE58_MAX:
        raise InvalidInput("watch_only.bad_key", f"{where}: xpub is too long")
    try:
        data: bytes = base58.decode_check(untrusted)
    except ValueError as error:
        raise InvalidInput("watch_only.bad_key", f"{where}: xpub is not base58check") from error
    if len(data) != _XPUB_SIZE:
        raise InvalidInput("watch_only.bad_key", f"{where}: xpub is {len(data)} bytes, not 78")
    params = network.params
    if data[:4] in {v for k, v in params.items() if k.endswith("prv")}:
        raise InvalidInput(
            "watch_only.bad_key",
            f"{where}: this is a PRIVATE key; the hot side takes public keys only",
        )
    if data[:4] != params["xpub"]:
        raise InvalidInput(
            "watch_only.bad_key",
            f"{where}: xpub version {data[:4].hex()} is not the {network.value} xpub version",
        )
    if data[4] == 0 and data[5:13] != bytes(8):
        raise InvalidInput("watch_only.bad_key", f"{where}: master key with a parent")
    try:
        ec.PublicKey.parse(data[45:])
    except ec.ECError as error:
        raise InvalidInput("watch_only.bad_key", f"{where}: xpub holds no valid key") from error
    return data
