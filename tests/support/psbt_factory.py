"""Builds PSBTs for test wallets, honest or crafted, with our own wire helpers (test-only).

Every attack test starts from an honest PSBT made here and changes one thing, so a refusal
can only come from that one thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from embit.bip32 import HDKey
from embit.ec import PublicKey

from cold.crypto import public_key
from cold.keystore import Seed, load_keystore, mnemonic_to_seed
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.compact import compact_size, var_bytes
from psbtbridge.hashes import hash160
from psbtbridge.network import Network
from psbtbridge.script import ScriptType
from psbtbridge.taproot import TAPSCRIPT_LEAF_VERSION, leaf_hash
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.wallet import AccountKey, DerivedScript, Wallet, descriptor_of

PSBT = str(Path(sys.executable).parent / "psbt")
#: BIP39's best-known test mnemonic: its keys are public, so nothing here holds real money.
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
#: Two more public BIP39 reference mnemonics: the other cosigners of our multisig wallets,
#: and a third one whose key a hostile host swaps in.
COSIGNER_MNEMONICS = (
    "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
)
STRANGER_MNEMONIC = " ".join(["zoo"] * 11 + ["wrong"])
RBF = 0xFFFFFFFD
#: BIP48 script element of each multisig type (m/48h/coin/account/script).
BIP48_SCRIPT = {ScriptType.P2WSH: 2, ScriptType.P2SH_P2WSH: 1}

#: Rewrites the key origin a PSBT claims for a key (Electrum's styles, wrong network, ...).
OriginRewrite = Callable[[KeyOrigin], KeyOrigin]


def kv(key_type: int, key_data: bytes, value: bytes) -> bytes:
    return var_bytes(bytes([key_type]) + key_data) + var_bytes(value)


def origin_value(origin: KeyOrigin) -> bytes:
    return origin.fingerprint + b"".join(step.to_bytes(4, "little") for step in origin.path)


def derivation_entries(
    derived: DerivedScript, input_side: bool, rewrite: OriginRewrite | None = None
) -> list[bytes]:
    """PSBT_IN/OUT_BIP32_DERIVATION (or the TAP_ ones for taproot) for a derived script."""
    claimed = [(key, rewrite(origin) if rewrite else origin) for key, origin in derived.pubkeys]
    if derived.taproot_internal_key is not None:
        key_type = 0x16 if input_side else 0x07
        internal = 0x17 if input_side else 0x05
        entries = [kv(key_type, xonly, b"\x00" + origin_value(origin)) for xonly, origin in claimed]
        return [*entries, kv(internal, b"", derived.taproot_internal_key)]
    key_type = 0x06 if input_side else 0x02
    return [kv(key_type, pubkey, origin_value(origin)) for pubkey, origin in claimed]


def script_entries(derived: DerivedScript, input_side: bool) -> list[bytes]:
    redeem, witness = (0x04, 0x05) if input_side else (0x00, 0x01)
    found = []
    if derived.redeem_script is not None:
        found.append(kv(redeem, b"", derived.redeem_script))
    if derived.witness_script is not None:
        found.append(kv(witness, b"", derived.witness_script))
    return found


def sighash_entry(sighash_type: int) -> bytes:
    """PSBT_IN_SIGHASH_TYPE."""
    return kv(0x03, b"", sighash_type.to_bytes(4, "little"))


def funding_tx(script_pubkey: bytes, amount: int, salt: int) -> Tx:
    """A previous transaction paying amount to script_pubkey at output 1 (not 0, to catch
    code that assumes index 0); its input is made up, which is all a PSBT needs."""
    txin = TxIn(OutPoint(salt.to_bytes(32, "little"), 0), b"", 0xFFFFFFFF)
    filler = TxOut(1000, b"\x00\x14" + bytes(20))
    return Tx(2, (txin,), (filler, TxOut(amount, script_pubkey)), 0)


@dataclass
class Spend:
    """One input: a wallet position and its amount; which UTXO fields the PSBT carries."""

    wallet: Wallet
    chain: int
    index: int
    amount: int
    full_tx: bool = True
    witness_utxo: bool = True
    derivations: bool = True
    scripts: bool = True  # PSBT_IN_REDEEM_SCRIPT / WITNESS_SCRIPT as the wallet derives them
    salt: int | None = None  # of the funding tx: equal salts (and fields) spend one outpoint
    claimed_amount: int | None = None  # what PSBT_IN_WITNESS_UTXO says, if not the truth
    rewrite: OriginRewrite | None = None
    extra: list[bytes] = field(default_factory=list)


@dataclass
class Pay:
    """One output: a script and amount, with optional extra entries (e.g. change claims)."""

    script_pubkey: bytes
    amount: int
    extra: list[bytes] = field(default_factory=list)


def change_to(
    wallet: Wallet, chain: int, index: int, amount: int, rewrite: OriginRewrite | None = None
) -> Pay:
    """An honest change (or self) output with the derivation information a wallet writes."""
    derived = wallet.derive(chain, index)
    entries = script_entries(derived, False) + derivation_entries(derived, False, rewrite)
    return Pay(derived.script_pubkey, amount, entries)


def external(n: int, amount: int) -> Pay:
    """A payment to somebody else's P2WPKH address (program n repeated), no claims."""
    return Pay(b"\x00\x14" + bytes([n]) * 20, amount)


def build_psbt(
    spends: Sequence[Spend],
    pays: Sequence[Pay],
    locktime: int = 0,
    version: int = 0,
    global_extra: Sequence[bytes] = (),
) -> bytes:
    """A BIP174 (version 0) or BIP370 (version 2) PSBT spending spends into pays."""
    prevs = [
        funding_tx(
            s.wallet.derive(s.chain, s.index).script_pubkey,
            s.amount,
            salt=n + 1 if s.salt is None else s.salt,
        )
        for n, s in enumerate(spends)
    ]
    tx = Tx(
        2,
        tuple(TxIn(OutPoint(p.txid(), 1), b"", RBF) for p in prevs),
        tuple(TxOut(p.amount, p.script_pubkey) for p in pays),
        locktime,
    )
    if version == 0:
        parts = [b"psbt\xff", kv(0x00, b"", tx.serialize_legacy()), *global_extra, b"\x00"]
    else:
        parts = [
            b"psbt\xff",
            kv(0x02, b"", tx.version.to_bytes(4, "little")),
            kv(0x03, b"", locktime.to_bytes(4, "little")),
            kv(0x04, b"", compact_size(len(spends))),
            kv(0x05, b"", compact_size(len(pays))),
            kv(0xFB, b"", version.to_bytes(4, "little")),
            *global_extra,
            b"\x00",
        ]
    for spend, prev, txin in zip(spends, prevs, tx.inputs, strict=True):
        derived = spend.wallet.derive(spend.chain, spend.index)
        entries = []
        if spend.full_tx:
            entries.append(kv(0x00, b"", prev.serialize()))
        if spend.witness_utxo and spend.wallet.script_type.value not in ("p2pkh", "p2sh"):
            claimed = spend.amount if spend.claimed_amount is None else spend.claimed_amount
            entries.append(kv(0x01, b"", TxOut(claimed, derived.script_pubkey).serialize()))
        if spend.scripts:
            entries += script_entries(derived, True)
        if spend.derivations:
            entries += derivation_entries(derived, True, spend.rewrite)
        if version != 0:
            entries += [
                kv(0x0E, b"", txin.prevout.txid),
                kv(0x0F, b"", txin.prevout.vout.to_bytes(4, "little")),
                kv(0x10, b"", txin.sequence.to_bytes(4, "little")),
            ]
        parts += [*entries, *spend.extra, b"\x00"]
    for pay in pays:
        if version != 0:
            parts += [
                kv(0x03, b"", pay.amount.to_bytes(8, "little", signed=True)),
                kv(0x04, b"", pay.script_pubkey),
            ]
        parts += [*pay.extra, b"\x00"]
    return b"".join(parts)


# --- keys and scripts the hot side could make (or fake) ----------------------------------


def seed_of(mnemonic: str, network: Network = Network.REGTEST) -> Seed:
    """The BIP32 root of a mnemonic (no BIP39 passphrase), as the keystore unlocks it."""
    root = HDKey.from_seed(mnemonic_to_seed(mnemonic, ""), version=network.params["xprv"])
    return Seed(network, root)


def pubkey_at(seed: Seed, path: Sequence[int]) -> bytes:
    """The compressed public key at any path, hardened steps included (needs the seed)."""
    return public_key(seed.derive(tuple(path))[0])


def p2wpkh(pubkey: bytes) -> bytes:
    return b"\x00\x14" + hash160(pubkey)


def p2pkh(pubkey: bytes) -> bytes:
    return b"\x76\xa9\x14" + hash160(pubkey) + b"\x88\xac"


def bip32_entry(pubkey: bytes, origin: KeyOrigin, input_side: bool = False) -> bytes:
    """A PSBT_IN/OUT_BIP32_DERIVATION claiming that pubkey sits at origin."""
    return kv(0x06 if input_side else 0x02, pubkey, origin_value(origin))


def taproot_with_tree(wallet: Wallet, chain: int, index: int, amount: int, disclose: bool) -> Pay:
    """Our BIP86 key at chain/index as the internal key, tweaked with a script leaf that a
    stranger's key can spend; the derivation claims the honest key-path-only change.
    disclose adds PSBT_OUT_TAP_TREE, else the tree stays hidden."""
    derived = wallet.derive(chain, index)
    internal = derived.taproot_internal_key
    assert internal is not None
    stranger = pubkey_at(seed_of(STRANGER_MNEMONIC), (86 + HARDENED, HARDENED + 1, HARDENED, 0, 0))
    leaf = bytes([32]) + stranger[1:] + b"\xac"  # <x-only key> OP_CHECKSIG
    root = leaf_hash(leaf, TAPSCRIPT_LEAF_VERSION)
    output_key = PublicKey.parse(b"\x02" + internal).taproot_tweak(root).xonly()
    entries = derivation_entries(derived, False)
    if disclose:
        entries.append(kv(0x06, b"", bytes([0, TAPSCRIPT_LEAF_VERSION]) + var_bytes(leaf)))
    return Pay(b"\x51\x20" + output_key, amount, entries)


def mainnet(origin: KeyOrigin) -> KeyOrigin:
    """The same origin with coin type 0h: what a mainnet wallet would claim."""
    return KeyOrigin(origin.fingerprint, (origin.path[0], HARDENED, *origin.path[2:]))


def global_xpub(network: Network) -> bytes:
    """PSBT_GLOBAL_XPUB with a master key of network (BIP32's test vector 1 seed)."""
    root = HDKey.from_seed(bytes.fromhex("000102030405060708090a0b0c0d0e0f"))
    xpub = root.to_public().serialize()
    return kv(0x01, network.params["xpub"] + xpub[4:], bytes(root.my_fingerprint))


def cosigner_key(mnemonic: str, script_type: ScriptType, network: Network) -> AccountKey:
    """A mnemonic's BIP48 account key for a multisig script type (account 0)."""
    path = (
        48 + HARDENED,
        network.coin_type + HARDENED,
        HARDENED,
        BIP48_SCRIPT[script_type] + HARDENED,
    )
    return seed_of(mnemonic, network).account_key(path)


def multisig_wallet(
    home: Path,
    name: str,
    script_type: ScriptType,
    sorted_keys: bool = True,
    others: Sequence[str] = COSIGNER_MNEMONICS,
) -> Wallet:
    """2-of-3 of our keystore's BIP48 key and the other mnemonics' (not registered yet)."""
    keystore = load_keystore(home)
    ours = next(c.key for c in keystore.cosigner_keys if c.script_type is script_type)
    keys = (ours, *(cosigner_key(m, script_type, keystore.network) for m in others))
    return Wallet(name, script_type, 2, keys, sorted_keys, keystore.network)


def register(home: Path, wallet: Wallet) -> None:
    """`psbt wallet add NAME DESCRIPTOR --yes` through the real command line."""
    result = run_psbt(home, "wallet", "add", wallet.name, descriptor_of(wallet), "--yes")
    assert result.returncode == 0, result.stderr


# --- the real command line -----------------------------------------------------------------


def init_keystore(
    home: Path,
    network: Network = Network.REGTEST,
    mnemonic: str = MNEMONIC,
    passphrase: str | None = None,
) -> None:
    """`psbt keys init` from mnemonic through the real command line; unencrypted unless a
    passphrase is given (then written next to home as passphrase.txt)."""
    home.mkdir(parents=True, exist_ok=True)
    words = home.parent / "mnemonic.txt"
    words.write_text(mnemonic + "\n")
    secrecy = ["--no-encryption"]
    if passphrase is not None:
        (home.parent / "passphrase.txt").write_text(passphrase + "\n")
        secrecy = ["--passphrase-file", str(home.parent / "passphrase.txt")]
    result = run_psbt(
        home, "keys", "init", "--mnemonic-file", str(words), "--network", network.value, *secrecy
    )
    assert result.returncode == 0, result.stderr


def run_psbt(
    home: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the real `psbt` command with PSBTBRIDGE_HOME=home (and no other PSBTBRIDGE_ setting)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    return subprocess.run(
        [PSBT, *args],
        env={**env, "PSBTBRIDGE_HOME": str(home)},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=60,
    )


@dataclass(frozen=True)
class KeySet:
    """A keystore home made from MNEMONIC, its wallets by name, and its seed.

    Single-sig wallets are named by script type (p2pkh, p2sh-p2wpkh, p2wpkh, p2tr); the
    2-of-3 multisig ones are `wsh` (sortedmulti) and `shwsh` (multi, keys in order).
    """

    home: Path
    wallets: dict[str, Wallet]
    seed: Seed

    @property
    def all(self) -> list[Wallet]:
        return list(self.wallets.values())


def make_keyset(home: Path, registered: bool) -> KeySet:
    """`psbt keys init` in home, plus the two multisig wallets (registered if asked)."""
    init_keystore(home)
    wallets = {w.name: w for w in load_keystore(home).wallets}
    for wallet in (
        multisig_wallet(home, "wsh", ScriptType.P2WSH),
        multisig_wallet(home, "shwsh", ScriptType.P2SH_P2WSH, sorted_keys=False),
    ):
        if registered:
            register(home, wallet)
        wallets[wallet.name] = wallet
    return KeySet(home, wallets, seed_of(MNEMONIC))
