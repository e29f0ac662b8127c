"""BIP-322 generic signed messages: the virtual to_spend/to_sign transactions, "simple" and
"full" signatures for single-key scripts (and P2WSH). BIP-322 PSBTs: psbtbridge/bip322_psbt.py.

The two transactions can never be mined: to_spend's only input has the null prevout of a
coinbase but a scriptSig starting with OP_0, which BIP34 forbids in any coinbase after
height 0; to_sign spends to_spend. Signing them therefore moves no coins, provided the
first input of to_sign really spends to_spend, which
`bip322_psbt.recognise_proof` checks by hash.
Verification goes through psbtbridge/verify.py (its own sighash layout, Debian's
libsecp256k1), not through the sighash code the signer uses.
"""

from __future__ import annotations

import base64
import binascii
import io
from enum import Enum
from typing import Final

from psbtbridge.compact import compact_size, read_compact_size, read_var_bytes, var_bytes
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.hashes import hash160, sha256, tagged_hash
from psbtbridge.script import is_p2pkh, is_p2sh, is_p2tr, is_p2wpkh, is_p2wsh
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut

TAG: Final = "BIP0322-signed-message"
OP_RETURN_SCRIPT: Final = b"\x6a"
SIGHASH_ALL: Final = 0x01
#: to_spend's input: the null prevout of a coinbase.
NULL_PREVOUT: Final = OutPoint(bytes(32), 0xFFFFFFFF)
#: to_spend's scriptSig before the message hash: OP_0 PUSH32.
MESSAGE_HASH_PUSH: Final = b"\x00\x20"
#: A witness stack of a simple signature: BIP-322 sets no limit; this is far above any
#: standard spend (a 20-key P2WSH multisig is ~1.5 kB) and far below a memory problem.
MAX_SIGNATURE_SIZE: Final = 64 * 1024
_MAX_WITNESS_ITEMS: Final = 100
OP_CHECKMULTISIG: Final = 0xAE


class Variant(Enum):
    """BIP-322 (2.0.0) signature prefixes: simple, full and full proof of funds."""

    SIMPLE = "smp"
    FULL = "ful"
    PROOF_OF_FUNDS = "pof"


def message_hash(message: bytes) -> bytes:
    """BIP-322 message_hash: the BIP340 tagged hash of the message as-is."""
    return tagged_hash(TAG, message)


def to_spend(message_challenge: bytes, message: bytes) -> Tx:
    """The virtual transaction paying 0 to the script whose key signs (BIP-322 "Full")."""
    return to_spend_of_hash(message_challenge, message_hash(message))


def to_spend_of_hash(message_challenge: bytes, hashed: bytes) -> Tx:
    """to_spend from the message's hash alone: all a PSBT without the message tells."""
    script_sig = MESSAGE_HASH_PUSH + hashed
    return Tx(
        version=0,
        inputs=(TxIn(NULL_PREVOUT, script_sig, 0),),
        outputs=(TxOut(0, message_challenge),),
        locktime=0,
    )


def to_sign(spend: Tx, witness: tuple[bytes, ...] = (), script_sig: bytes = b"") -> Tx:
    """The virtual transaction spending to_spend's output to one OP_RETURN, all defaults 0."""
    return Tx(
        version=0,
        inputs=(TxIn(OutPoint(spend.txid(), 0), script_sig, 0, witness),),
        outputs=(TxOut(0, OP_RETURN_SCRIPT),),
        locktime=0,
    )


# --- encoding signatures ------------------------------------------------------------------


def encode_simple(witness: tuple[bytes, ...]) -> str:
    """`smp` + base64 of the consensus-encoded witness stack (BIP-322 2.0.0 prefixes it)."""
    stack = compact_size(len(witness)) + b"".join(var_bytes(item) for item in witness)
    return Variant.SIMPLE.value + base64.b64encode(stack).decode("ascii")


def split_variant(untrusted_signature: str) -> tuple[Variant, bytes]:
    """The variant and the base64-decoded body; no prefix means simple (BIP-322's fallback
    for signatures made before the prefixes existed, as Sparrow makes them)."""
    variant = Variant.SIMPLE
    body = untrusted_signature
    for candidate in Variant:
        if untrusted_signature.startswith(candidate.value):
            variant, body = candidate, untrusted_signature[len(candidate.value) :]
            break
    return variant, decode_base64(body)


def decode_base64(untrusted_text: str) -> bytes:
    """Strict base64 (no stray characters), bounded before decoding."""
    if len(untrusted_text) > MAX_SIGNATURE_SIZE * 4 // 3 + 4:
        raise InvalidInput(Code.MESSAGE_BAD_SIGNATURE, "the signature is longer than the cap")
    try:
        return base64.b64decode(untrusted_text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput(Code.MESSAGE_BAD_SIGNATURE, "the signature is not base64") from error


def decode_witness(untrusted_stack: bytes) -> tuple[bytes, ...]:
    """A consensus-encoded witness stack, exactly (no trailing bytes)."""
    stream = io.BytesIO(untrusted_stack)
    try:
        count = read_compact_size(stream, "witness item count")
        if count > _MAX_WITNESS_ITEMS:
            raise InvalidInput(Code.MESSAGE_BAD_SIGNATURE, f"{count} witness items is over the cap")
        items = tuple(read_var_bytes(stream, f"witness item {i}") for i in range(count))
    except InvalidInput as error:
        raise InvalidInput(
            Code.MESSAGE_BAD_SIGNATURE, f"not a witness stack: {error.message}"
        ) from error
    if stream.read(1):
        raise InvalidInput(Code.MESSAGE_BAD_SIGNATURE, "bytes follow the witness stack")
    return items


# --- verification --------------------------------------------------------------------------


def verify_simple(message_challenge: bytes, witness: tuple[bytes, ...], message: bytes) -> None:
    """Return when the witness stack signs message for the script; raise Refused otherwise.

    Supported: P2WPKH, P2TR key path, P2WSH multisig (python-bitcointx's interpreter).
    Others are "inconclusive" (BIP-322): code message.inconclusive.
    """
    spend = to_spend(message_challenge, message)
    _check_spend(spend, to_sign(spend, witness))


def verify_full(message_challenge: bytes, untrusted_tx: bytes, message: bytes) -> None:
    """Return when a full to_sign transaction signs message for the script; else raise.

    BIP-322: to_sign has exactly one input (more is a proof of funds), spending to_spend:0,
    and one output of 0 to OP_RETURN; its version is 0 or 2 (else inconclusive);
    nLockTime and nSequence may be anything ("valid at time T and age S").
    """
    try:
        signed = Tx.parse(untrusted_tx)
    except InvalidInput as error:
        raise InvalidInput(
            Code.MESSAGE_BAD_SIGNATURE, f"not a transaction: {error.message}"
        ) from error
    spend = to_spend(message_challenge, message)
    if len(signed.inputs) != 1:
        raise Refused(
            Code.MESSAGE_INCONCLUSIVE, "a full signature with several inputs is a proof of funds"
        )
    if signed.inputs[0].prevout != OutPoint(spend.txid(), 0):
        raise Refused(Code.MESSAGE_INVALID, "to_sign does not spend to_spend for this message")
    if signed.outputs != (TxOut(0, OP_RETURN_SCRIPT),):
        raise Refused(Code.MESSAGE_INVALID, "to_sign must have exactly one output: 0 to OP_RETURN")
    if signed.version not in (0, 2):
        raise Refused(Code.MESSAGE_INCONCLUSIVE, f"to_sign version {signed.version} is not 0 or 2")
    _check_spend(spend, signed)


def _check_spend(spend: Tx, signed: Tx) -> None:
    """Input 0 of signed spends spend's output 0, with SIGHASH_ALL (or DEFAULT on taproot)."""
    from psbtbridge.verify import Verifier

    challenge = spend.outputs[0].script_pubkey
    txin = signed.inputs[0]
    witness, script_sig = txin.witness, txin.script_sig
    paid = spend.outputs[0]
    verifier = Verifier(signed.serialize(), [(paid.script_pubkey, paid.value)])
    try:
        if is_p2wpkh(challenge):
            _expect(not script_sig and len(witness) == 2, "P2WPKH needs [signature, key]")
            verifier.check_ecdsa(0, witness[1], witness[0])
        elif is_p2tr(challenge):
            if script_sig or len(witness) != 1:
                raise Refused(
                    Code.MESSAGE_INCONCLUSIVE, "only taproot key-path signatures are checked"
                )
            verifier.check_schnorr_keypath(0, witness[0])
        elif is_p2pkh(challenge):
            pushes = _two_pushes(script_sig)
            if pushes is None or witness:
                raise Refused(Code.MESSAGE_INVALID, "P2PKH needs the scriptSig <signature> <key>")
            verifier.check_ecdsa(0, pushes[1], pushes[0])
        elif is_p2sh(challenge) and len(witness) == 2:
            redeem = b"\x00\x14" + hash160(witness[1])
            _expect(script_sig == var_bytes(redeem), "P2SH-P2WPKH scriptSig must push its script")
            verifier.check_ecdsa(0, witness[1], witness[0], redeem_script=redeem)
        elif is_p2wsh(challenge):
            _expect(not script_sig and len(witness) >= 1, "P2WSH needs a witness")
            _expect(sha256(witness[-1]) == challenge[2:], "the witness script is not the P2WSH one")
            if not _is_multisig(witness[-1]):
                # Time locks, hash locks, miniscript: python-bitcointx cannot run CLTV/CSV
                # (psbtbridge/verify/interpreter.py), and only in multisig is every item a signature.
                raise Refused(Code.MESSAGE_INCONCLUSIVE, "only multisig P2WSH scripts are checked")
            # Every signature must be SIGHASH_ALL; an empty push is an absent signature.
            for item in witness[:-1]:
                _expect(not item or item[-1] == SIGHASH_ALL, "signatures must use SIGHASH_ALL")
            verifier.check_final_input(0)
        else:
            raise Refused(Code.MESSAGE_INCONCLUSIVE, "this script type cannot be checked here")
    except Refused as error:
        if error.code in {Code.MESSAGE_INCONCLUSIVE, Code.VERIFY_UNSUPPORTED}:
            raise Refused(Code.MESSAGE_INCONCLUSIVE, error.message) from error
        raise Refused(Code.MESSAGE_INVALID, error.message) from error


def _is_multisig(script: bytes) -> bool:
    """`OP_m <33-byte key>... OP_n OP_CHECKMULTISIG` with 1 <= m <= n <= 16, exactly."""
    if len(script) < 37 or not (0x51 <= script[0] <= 0x60) or script[-1] != OP_CHECKMULTISIG:
        return False
    threshold, count = script[0] - 0x50, script[-2] - 0x50
    keys = script[1:-2]
    return (
        1 <= threshold <= count <= 16
        and len(keys) == 34 * count
        and all(keys[i] == 33 for i in range(0, len(keys), 34))
    )


def _expect(condition: bool, why: str) -> None:
    if not condition:
        raise Refused(Code.MESSAGE_INVALID, why)


def _two_pushes(script: bytes) -> tuple[bytes, bytes] | None:
    """The two data pushes of a `<sig> <pubkey>` scriptSig (direct pushes of 1-75 bytes)."""
    items = []
    at = 0
    while at < len(script):
        size = script[at]
        if not 1 <= size <= 75 or at + 1 + size > len(script):
            return None
        items.append(script[at + 1 : at + 1 + size])
        at += 1 + size
    return (items[0], items[1]) if len(items) == 2 else None
