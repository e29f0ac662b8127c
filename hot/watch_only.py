"""Electrum watch-only wallet files that know their keys' origin, built from a cold `keys export`.

Electrum's `restore XPUB` forgets where the xpub came from, so its PSBTs name the xpub's own
fingerprint and a two-step path (m/0/5). Writing the keystore's `root_fingerprint` and
`derivation` ourselves makes Electrum put the master fingerprint and the full path
(m/84'/1'/0'/0/5) in every PSBT_IN/OUT_BIP32_DERIVATION, which is what the cold signer
re-derives. The wallet itself is the shared model (psbtbridge/wallet), read from the export
by its one reader; this module adds only what Electrum can watch and how its file looks.
"""

from __future__ import annotations

import json
from typing import Any, Final

from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import Code, UsageError
from psbtbridge.script import ScriptType
from psbtbridge.wallet import Wallet, electrum_xpub
from psbtbridge.wallet.export import wallet_from_export

#: Electrum names multisig wallets "MofN" with N at most 15 (bare CHECKMULTISIG's limit in P2SH).
MAX_COSIGNERS: Final = 15
#: The wallet-file version Electrum 4.3 writes; later versions upgrade it when they load it.
ELECTRUM_SEED_VERSION: Final = 50


def watchable_from_export(untrusted_data: bytes, name: str) -> Wallet:
    """Wallet `name` of an export, refused unless Electrum can watch it."""
    wallet = wallet_from_export(untrusted_data, name)
    where = f"export: wallet {name!r}"
    if wallet.script_type is ScriptType.P2TR:
        raise UsageError(
            Code.WATCH_ONLY_UNSUPPORTED,
            f"{where}: Electrum 4.3 has no taproot wallets; choose a p2wpkh, p2sh-p2wpkh or p2pkh wallet",
        )
    if wallet.is_multisig and not wallet.sorted:
        raise UsageError(
            Code.WATCH_ONLY_UNSUPPORTED,
            f"{where}: Electrum only builds sorted multisig (sortedmulti); this wallet keeps key order",
        )
    if wallet.is_multisig and not 2 <= len(wallet.keys) <= MAX_COSIGNERS:
        raise UsageError(
            Code.WATCH_ONLY_UNSUPPORTED,
            f"{where}: {len(wallet.keys)} cosigners; Electrum takes 2 to {MAX_COSIGNERS}",
        )
    return wallet


def electrum_derivation(origin: KeyOrigin) -> str:
    """The path as Electrum writes it: m/84'/1'/0'."""
    steps = [f"{i & ~HARDENED}'" if i & HARDENED else str(i) for i in origin.path]
    return "/".join(["m", *steps])


def wallet_file(wallet: Wallet) -> bytes:
    """The wallet file (JSON, unencrypted, no private key) in the format Electrum 4.3 reads."""
    keystores = [
        {
            "type": "bip32",
            "xpub": electrum_xpub(key.xpub, wallet.script_type, wallet.network),
            "xprv": None,
            "derivation": electrum_derivation(key.origin),
            "root_fingerprint": key.origin.fingerprint.hex(),
            "pw_hash_version": 1,
        }
        for key in wallet.keys
    ]
    document: dict[str, Any] = {"seed_version": ELECTRUM_SEED_VERSION, "use_encryption": False}
    if wallet.is_multisig:
        document["wallet_type"] = f"{wallet.threshold}of{len(wallet.keys)}"
        # Electrum 4.3 names cosigner keystores "x1/".."xN/" (4.5 renames them on upgrade).
        document.update({f"x{i}/": ks for i, ks in enumerate(keystores, start=1)})
    else:
        document["wallet_type"] = "standard"
        document["keystore"] = keystores[0]
    return json.dumps(document, indent=4, sort_keys=True).encode() + b"\n"
