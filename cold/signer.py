"""Signing the inputs an analysis proved ours, SIGHASH_ALL/DEFAULT only, each signature
checked by a second, independent implementation (psbtbridge/verify) before it is released."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from cold.crypto import private_child, public_key, sign_ecdsa, sign_taproot_keypath
from cold.keystore import Seed
from cold.wallets import find_our_key
from psbtbridge.analysis import Analysis, InputAnalysis
from psbtbridge.errors import BridgeError, Code, Refused
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
    account = keys.our_account(owner.wallet)
    secret, pubkey = keys.child(account, owner.chain, owner.index, owner.derived)
    try:
        return _signed(inp, owned, secret, pubkey, cache, verifier, aux_rand)
    except Refused:
        # The check failed: say so plainly when the seed does not derive the registered key
        # (deriving the public key only now spares one curve multiplication per input).
        keys.check_registered(account, owner.chain, owner.index, secret, pubkey)
        raise


def _signed(
    inp: PsbtInput,
    owned: InputAnalysis,
    secret: bytes,
    pubkey: bytes,
    cache: SighashCache,
    verifier: Verifier,
    aux_rand: Callable[[], bytes] | None,
) -> PsbtInput:
    """inp with its signature by secret, which the independent verifier found valid for
    pubkey (the registered key) and the spent output: a wrong secret never gets out."""
    assert owned.owner is not None
    derived = owned.owner.derived
    script_type = owned.owner.wallet.script_type
    index = owned.index
    if script_type is ScriptType.P2TR:
        hash_type = SighashType.ALL if inp.sighash_type == SighashType.ALL else SighashType.DEFAULT
        signature = sign_taproot_keypath(
            secret, cache.taproot(index, hash_type), None, aux_rand() if aux_rand else None
        )
        if hash_type != SighashType.DEFAULT:
            signature += bytes([hash_type])  # BIP341: DEFAULT is the 64-byte form only
        verifier.check_schnorr_keypath(index, signature)
        return inp.with_tap_key_sig(signature)
    if script_type in (ScriptType.P2WPKH, ScriptType.P2SH_P2WPKH, ScriptType.P2PKH):
        script_code = p2pkh(pubkey)  # BIP143: P2WPKH signs with the P2PKH script
    else:
        script_code = derived.witness_script or derived.redeem_script or b""
    if script_type.is_segwit_v0:
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


class _ChainKey(NamedTuple):
    """An account's receive or change chain key: the parent of every key the signer uses."""

    secret: bytes
    chain_code: bytes
    public: bytes  # compressed SEC, the input of every non-hardened child step


class _KeyCache:
    """Private keys derived from the seed once per account and chain, then one step per input."""

    def __init__(self, seed: Seed) -> None:
        self.seed = seed
        self._accounts: dict[str, AccountKey] = {}
        self._chains: dict[tuple[tuple[int, ...], int], _ChainKey] = {}

    def our_account(self, wallet: Wallet) -> AccountKey:
        if wallet.name not in self._accounts:
            self._accounts[wallet.name] = (
                wallet.keys[0] if not wallet.is_multisig else find_our_key(wallet, self.seed)
            )
        return self._accounts[wallet.name]

    def child(
        self, account: AccountKey, chain: int, index: int, derived: DerivedScript
    ) -> tuple[bytes, bytes]:
        """(secret, registered public key: x-only for taproot) at account/chain/index.

        The public key is the one the analysis derived from the registered xpub (derived.pubkeys,
        by origin): the signature is checked against it, so a secret that is not its key
        never yields a signature that leaves the signer.
        """
        key = (account.origin.path, chain)
        if key not in self._chains:
            chain_secret, chain_code = self.seed.derive((*account.origin.path, chain))
            self._chains[key] = _ChainKey(chain_secret, chain_code, public_key(chain_secret))
        chain_key = self._chains[key]
        secret, _ = private_child(chain_key.secret, chain_key.chain_code, index, chain_key.public)
        ours = account.origin.child(chain, index)
        registered = next((pk for pk, origin in derived.pubkeys if origin == ours), None)
        if registered is None:
            raise BridgeError(
                Code.SIGN_KEY_MISMATCH,
                f"no registered key at {account.origin.derivation}/{chain}/{index}",
            )
        return secret, registered

    def check_registered(
        self, account: AccountKey, chain: int, index: int, secret: bytes, pubkey: bytes
    ) -> None:
        """Raise sign.key_mismatch when the seed's key at this path is not the registered one."""
        ours = public_key(secret)
        if (ours[1:] if len(pubkey) == 32 else ours) != pubkey:  # BIP371 keys are x-only
            raise BridgeError(
                Code.SIGN_KEY_MISMATCH,
                f"the seed's key at {account.origin.derivation}/{chain}/{index} is not the"
                " registered one",
            )
