"""Signing a message with one of the seed's keys: Electrum's compact format and BIP-322 simple.

Both formats use the transaction signer's primitives (cold/crypto.py): RFC6979 ECDSA
ground to a low R as Core and Electrum 4.3.4 sign, so our Electrum-format signatures
equal Electrum's byte for byte; BIP340 Schnorr with the BIP86 tweak for taproot. Every
signature is checked by the verifier (psbtbridge/message.py, psbtbridge/verify.py)
before it is returned.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from cold.crypto import public_key, sign_ecdsa, sign_taproot_keypath
from cold.keystore import Seed
from psbtbridge import bip322, message
from psbtbridge.errors import BridgeError, Code, Refused
from psbtbridge.hashes import hash160
from psbtbridge.message import MessageFormat
from psbtbridge.script import ScriptType
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.verify import verify_ecdsa
from psbtbridge.wallet import DerivedScript, Wallet
from psbtbridge.wallet.addresses import locate

#: BIP-322 simple signatures exist for native segwit only (P2SH-P2WPKH needs a scriptSig:
#: that is a "full" signature); P2WSH needs every cosigner, which one signer is not.
BIP322_TYPES = (ScriptType.P2WPKH, ScriptType.P2TR)


@dataclass(frozen=True)
class MessageOwner:
    """Where an address sits in one of our single-sig wallets."""

    wallet: Wallet
    chain: int  # 0 receive, 1 change
    index: int
    derived: DerivedScript

    @property
    def path(self) -> str:
        return f"{self.wallet.keys[0].origin.derivation}/{self.chain}/{self.index}"


def find_owner(wallets: Iterable[Wallet], script_pubkey: bytes, window: int) -> MessageOwner:
    """The wallet, chain and index deriving script_pubkey, looking at indexes below window.

    Multisig wallets are searched too, to say why they cannot sign rather than "not ours".
    """
    found = locate(script_pubkey, wallets, window)
    if found is None:
        raise Refused(
            Code.MESSAGE_NOT_OURS,
            "the address is not a receive or change address of this keystore"
            f" (indexes 0-{window - 1})",
        )
    if found.wallet.is_multisig:
        raise Refused(
            Code.MESSAGE_MULTISIG,
            f"the address is in multisig wallet {found.wallet.name}: one key cannot sign"
            " a message for it",
        )
    derived = found.wallet.derive(found.chain, found.index)
    return MessageOwner(found.wallet, found.chain, found.index, derived)


def default_format(script_type: ScriptType) -> MessageFormat:
    """Electrum's format where it exists (what Electrum, Sparrow and Core verify), else BIP-322."""
    return MessageFormat.ELECTRUM if script_type in message.ELECTRUM_TYPES else MessageFormat.BIP322


def check_format(script_type: ScriptType, chosen: MessageFormat) -> MessageFormat:
    allowed = message.ELECTRUM_TYPES if chosen is MessageFormat.ELECTRUM else BIP322_TYPES
    if script_type not in allowed:
        names = ", ".join(t.value for t in allowed)
        raise Refused(
            Code.MESSAGE_UNSUPPORTED_FORMAT,
            f"{chosen.value} signatures are made for {names} addresses, not {script_type.value}",
        )
    return chosen


def sign_message(
    seed: Seed,
    owner: MessageOwner,
    text: bytes,
    chosen: MessageFormat,
    aux_rand: bytes | None = None,
) -> str:
    """The base64 signature of text by the key at owner, checked before it is returned."""
    script_type = owner.wallet.script_type
    check_format(script_type, chosen)
    account = owner.wallet.keys[0]
    secret, _ = seed.derive((*account.origin.path, owner.chain, owner.index))
    pubkey = public_key(secret)
    registered = owner.derived.pubkeys[0][0]
    if (pubkey[1:] if script_type is ScriptType.P2TR else pubkey) != registered:
        # never sign with a key we did not show the address of
        raise BridgeError(
            Code.SIGN_KEY_MISMATCH, f"the seed's key at {owner.path} is not the wallet's"
        )
    if chosen is MessageFormat.ELECTRUM:
        signature = sign_electrum(secret, text)
    else:
        signature = sign_bip322_simple(secret, script_type, text, aux_rand)
    check(owner.derived.script_pubkey, signature, text)
    return signature


def sign_electrum(secret: bytes, text: bytes) -> str:
    """Electrum's signmessage: compact (r, s) after a header of 31 + recovery id, base64."""
    from embit.util import secp256k1

    digest = message.signed_message_hash(text)
    der = sign_ecdsa(secret, digest)
    pubkey = public_key(secret)
    # The recovery check below runs on embit's library, which signed; Debian's checks too.
    if not verify_ecdsa(pubkey, digest, der):
        raise BridgeError(
            Code.CRYPTO_SIGN_FAILED, "a message signature failed the independent check"
        )
    compact = bytes(
        secp256k1.ecdsa_signature_serialize_compact(secp256k1.ecdsa_signature_parse_der(der))
    )
    # Electrum finds the recovery id the same way: the one that gives back our key.
    for recid in range(4):
        if message.recover_pubkey(compact, recid, digest, compressed=True) == pubkey:
            raw = bytes([message.electrum_header(recid)]) + compact
            return base64.b64encode(raw).decode("ascii")
    raise BridgeError(Code.CRYPTO_SIGN_FAILED, "no recovery id gives back the signing key")


def sign_bip322_simple(
    secret: bytes, script_type: ScriptType, text: bytes, aux_rand: bytes | None = None
) -> str:
    """A BIP-322 simple signature: the witness spending to_spend, `smp`-prefixed base64."""
    pubkey = public_key(secret)
    witness: tuple[bytes, ...]
    if script_type is ScriptType.P2WPKH:
        keyhash = hash160(pubkey)
        spend = bip322.to_spend(b"\x00\x14" + keyhash, text)
        unsigned = bip322.to_sign(spend)
        script_code = b"\x76\xa9\x14" + keyhash + b"\x88\xac"  # BIP143 for P2WPKH
        sighash = SighashCache(unsigned, spend.outputs).segwit_v0(
            0, script_code, 0, SighashType.ALL
        )
        witness = (sign_ecdsa(secret, sighash) + bytes([SighashType.ALL]), pubkey)
    elif script_type is ScriptType.P2TR:
        from embit.ec import PublicKey

        output_key = PublicKey.parse(pubkey).taproot_tweak(b"").xonly()  # BIP86: no script tree
        spend = bip322.to_spend(b"\x51\x20" + output_key, text)
        unsigned = bip322.to_sign(spend)
        sighash = SighashCache(unsigned, spend.outputs).taproot(0, SighashType.DEFAULT)
        witness = (sign_taproot_keypath(secret, sighash, None, aux_rand),)
    else:
        raise Refused(Code.MESSAGE_UNSUPPORTED_FORMAT, f"no BIP-322 simple for {script_type.value}")
    return bip322.encode_simple(witness)


def check(script_pubkey: bytes, signature: str, text: bytes) -> None:
    """Our own signature must verify before anyone sees it."""
    try:
        message.verify_message(script_pubkey, signature, text)
    except BridgeError as error:
        raise BridgeError(
            Code.CRYPTO_SIGN_FAILED, f"a fresh message signature failed its check ({error.code})"
        ) from error
