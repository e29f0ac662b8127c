"""Signing the inputs an analysis proved ours, SIGHASH_ALL/DEFAULT only, each signature
checked by a second, independent implementation (python-bitcointx) before it is released."""

from __future__ import annotations

from collections.abc import Callable

from embit.bip32 import HDKey

from cold.crypto import sign_ecdsa, sign_taproot_keypath
from cold.keystore import Seed
from cold.wallets import find_our_key
from psbtbridge.analysis import Analysis, InputAnalysis
from psbtbridge.errors import BridgeError, Code
from psbtbridge.psbt import Psbt, PsbtInput
from psbtbridge.psbt.fields import GlobalType, InputType
from psbtbridge.script import ScriptType, p2pkh
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.tx import TxOut
from psbtbridge.verify import Verifier
from psbtbridge.wallet import AccountKey, DerivedScript, Wallet

_INPUTS_OUTPUTS_MODIFIABLE = 0b011  # BIP370 PSBT_GLOBAL_TX_MODIFIABLE bits 0 and 1


def sign(
    psbt: Psbt,
    analysis: Analysis,
    seed: Seed,
    aux_rand: Callable[[], bytes] | None = None,
) -> Psbt:
    """psbt with a signature added to every input analysis proved ours; nothing else changes."""
    spent = [TxOut(i.amount or 0, i.script_pubkey or b"") for i in analysis.inputs]
    cache = SighashCache(analysis.tx, spent)
    verifier = Verifier(analysis.tx.serialize(), [(out.script_pubkey, out.value) for out in spent])
    keys = _KeyCache(seed)
    psbt = psbt.with_inputs(
        _sign_input(psbt.inputs[owned.index], owned, cache, verifier, keys, aux_rand=aux_rand)
        for owned in analysis.owned_inputs
    )
    if psbt.tx_modifiable is not None and psbt.tx_modifiable & _INPUTS_OUTPUTS_MODIFIABLE:
        # BIP370: a SIGHASH_ALL signature commits to every input and output, so a signer
        # clears both "modifiable" flags; a constructor adding more would void it anyway.
        cleared = psbt.tx_modifiable & ~_INPUTS_OUTPUTS_MODIFIABLE
        psbt = psbt.with_global_entry(GlobalType.TX_MODIFIABLE, b"", bytes([cleared]))
    return psbt


def _sign_input(
    inp: PsbtInput,
    owned: InputAnalysis,
    cache: SighashCache,
    verifier: Verifier,
    keys: _KeyCache,
    *,
    aux_rand: Callable[[], bytes] | None,
) -> PsbtInput:
    assert owned.owner is not None  # only owned inputs reach here
    owner = owned.owner
    wallet = owner.wallet
    account = keys.our_account(wallet)
    derived = owner.derived
    secret, pubkey = keys.child(account, owner.chain, owner.index, derived)
    index = owned.index
    if wallet.script_type is ScriptType.P2TR:
        hash_type = SighashType.ALL if inp.sighash_type == SighashType.ALL else SighashType.DEFAULT
        signature = sign_taproot_keypath(
            secret, cache.taproot(index, hash_type), None, aux_rand() if aux_rand else None
        )
        if hash_type != SighashType.DEFAULT:
            signature += bytes([hash_type])  # BIP341: DEFAULT is the 64-byte form only
        verifier.check_schnorr_keypath(index, signature)
        return inp.with_tap_key_sig(signature)
    if wallet.script_type in (ScriptType.P2WPKH, ScriptType.P2SH_P2WPKH, ScriptType.P2PKH):
        script_code = p2pkh(pubkey)  # BIP143: P2WPKH signs with the P2PKH script
    else:
        script_code = derived.witness_script or derived.redeem_script or b""
    if wallet.script_type.is_segwit_v0:
        sighash = cache.segwit_v0(index, script_code, owned.amount or 0, SighashType.ALL)
    else:
        sighash = cache.legacy(index, script_code, SighashType.ALL)
    signature = sign_ecdsa(secret, sighash) + bytes([SighashType.ALL])
    verifier.check_ecdsa(
        index,
        pubkey,
        signature,
        redeem_script=derived.redeem_script,
        witness_script=derived.witness_script,
    )
    # A finalizer needs the scripts; add the ones we derived where the PSBT left them out.
    if derived.redeem_script is not None and inp.redeem_script is None:
        inp = inp.with_entry(InputType.REDEEM_SCRIPT, b"", derived.redeem_script)
    if derived.witness_script is not None and inp.witness_script is None:
        inp = inp.with_entry(InputType.WITNESS_SCRIPT, b"", derived.witness_script)
    return inp.with_partial_sig(pubkey, signature)


class _KeyCache:
    """Private keys derived from the seed once per account and chain, then one step per input."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self._accounts: dict[str, AccountKey] = {}
        self._chains: dict[tuple[tuple[int, ...], int], HDKey] = {}

    def our_account(self, wallet: Wallet) -> AccountKey:
        if wallet.name not in self._accounts:
            self._accounts[wallet.name] = (
                wallet.keys[0] if not wallet.is_multisig else find_our_key(wallet, self.seed)
            )
        return self._accounts[wallet.name]

    def child(
        self, account: AccountKey, chain: int, index: int, derived: DerivedScript
    ) -> tuple[bytes, bytes]:
        """(secret, compressed public key) at account/chain/index, checked against the xpub.

        The analysis already derived the registered xpub's key there (derived.pubkeys, by
        origin); comparing with it spares a second public derivation per input.
        """
        key = (account.origin.path, chain)
        if key not in self._chains:
            self._chains[key] = self.seed.derive((*account.origin.path, chain))
        child = self._chains[key].child(index)
        secret, pubkey = bytes(child.key.secret), bytes(child.key.get_public_key().sec())
        ours = account.origin.child(chain, index)
        registered = next((pk for pk, origin in derived.pubkeys if origin == ours), None)
        # BIP371: a taproot derivation names the 32-byte x-only key.
        shown = pubkey[1:] if derived.taproot_internal_key is not None else pubkey
        if registered is None or shown != registered:
            # The seed does not derive the registered key: never sign with a key we cannot show.
            raise BridgeError(
                Code.SIGN_KEY_MISMATCH,
                f"the seed's key at {account.origin.derivation}/{chain}/{index} is not the"
                " registered one",
            )
        return secret, pubkey
