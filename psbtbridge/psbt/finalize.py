"""The BIP174 finalizer and extractor: signatures into scriptSigs and witnesses, then a raw transaction.

Supported spends: P2PKH, P2WPKH, P2SH-P2WPKH, multisig (multi or sortedmulti: any
`m <keys> n OP_CHECKMULTISIG` script) in P2SH, P2WSH or P2SH-P2WSH, and taproot key path.
Whether the signatures are valid is not this module's call: `psbt finalize` and `psbt send`
run the result through verify.verify_final_tx before anything leaves.
"""

from __future__ import annotations

from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.hashes import hash160, sha256
from psbtbridge.psbt.input_map import PsbtInput
from psbtbridge.psbt.psbt import Psbt
from psbtbridge.script import (
    is_p2pkh,
    is_p2sh,
    is_p2tr,
    is_p2wpkh,
    is_p2wsh,
    parse_multisig,
    push,
)
from psbtbridge.tx import Tx, TxIn, TxOut


def spent_output(inp: PsbtInput) -> TxOut:
    """The output an input spends (the parser has checked witness_utxo against the previous tx)."""
    output = inp.spent_output
    if output is None:
        raise Refused(
            Code.FINALIZE_MISSING_UTXO,
            f"input {inp.index}: neither non_witness_utxo nor witness_utxo",
        )
    return output


def spent_outputs(psbt: Psbt) -> list[TxOut]:
    """The output each input spends, in input order (for verify.verify_final_tx)."""
    return [spent_output(inp) for inp in psbt.inputs]


def _signature_by_key(inp: PsbtInput, pubkey: bytes) -> bytes | None:
    return next((p.signature for p in inp.partial_sigs if p.pubkey == pubkey), None)


def _single_key(inp: PsbtInput, keyhash: bytes, kind: str) -> tuple[bytes, bytes]:
    """The (signature, pubkey) of the one key a P2PKH/P2WPKH output pays to."""
    for partial in inp.partial_sigs:
        if hash160(partial.pubkey) == keyhash:
            return partial.signature, partial.pubkey
    raise Refused(
        Code.FINALIZE_MISSING_SIGNATURE, f"input {inp.index}: no signature by the {kind} key"
    )


def _multisig_signatures(inp: PsbtInput, script: bytes) -> list[bytes]:
    """The first m signatures in the script's key order (CHECKMULTISIG checks them in order)."""
    multisig = parse_multisig(script)
    if multisig is None:
        raise Refused(
            Code.FINALIZE_UNSUPPORTED,
            f"input {inp.index}: the script is neither single-key nor a standard multisig",
        )
    found = [s for s in (_signature_by_key(inp, k) for k in multisig.pubkeys) if s is not None]
    if len(found) < multisig.threshold:
        raise Refused(
            Code.FINALIZE_MISSING_SIGNATURE,
            f"input {inp.index}: {len(found)} of the {multisig.threshold} signatures"
            f" this {multisig.threshold}-of-{len(multisig.pubkeys)} multisig needs",
        )
    return found[: multisig.threshold]


def _witness_program(inp: PsbtInput, program: bytes) -> tuple[bytes, ...] | None:
    """The witness for a v0 program (P2WPKH or P2WSH), or None if program is not one."""
    where = f"input {inp.index}"
    if is_p2wpkh(program):
        signature, pubkey = _single_key(inp, program[2:], "P2WPKH")
        return (signature, pubkey)
    if is_p2wsh(program):
        script = inp.witness_script
        if script is None or sha256(script) != program[2:]:
            raise Refused(
                Code.FINALIZE_SCRIPT_MISMATCH,
                f"{where}: witnessScript missing or not the P2WSH one",
            )
        # The leading empty item is the one CHECKMULTISIG pops too many (BIP147: it must be empty).
        return (b"", *_multisig_signatures(inp, script), script)
    return None


def finalize_input(inp: PsbtInput, spent: TxOut) -> PsbtInput:
    """The finalized input map (BIP174 finalizer); an input already finalized is kept."""
    if inp.is_finalized:
        return inp
    where = f"input {inp.index}"
    spk = spent.script_pubkey
    if is_p2tr(spk):
        if inp.tap_key_sig is None:
            raise Refused(
                Code.FINALIZE_MISSING_SIGNATURE
                if not inp.tap_script_sigs
                else Code.FINALIZE_UNSUPPORTED,
                f"{where}: no taproot key-path signature (script-path spends are not finalized)",
            )
        return inp.finalized(b"", (inp.tap_key_sig,))
    if is_p2sh(spk):
        redeem = inp.redeem_script
        if redeem is None or hash160(redeem) != spk[2:22]:
            raise Refused(
                Code.FINALIZE_SCRIPT_MISMATCH, f"{where}: redeemScript missing or not the P2SH one"
            )
        witness = _witness_program(inp, redeem)
        if witness is not None:
            return inp.finalized(push(redeem), witness)
        signatures = _multisig_signatures(inp, redeem)
        script_sig = push(b"") + b"".join(push(s) for s in signatures) + push(redeem)
        return inp.finalized(script_sig, ())
    witness = _witness_program(inp, spk)
    if witness is not None:
        return inp.finalized(b"", witness)
    if is_p2pkh(spk):
        signature, pubkey = _single_key(inp, spk[3:23], "P2PKH")
        return inp.finalized(push(signature) + push(pubkey), ())
    raise Refused(
        Code.FINALIZE_UNSUPPORTED, f"{where}: the spent output's script type is not supported"
    )


def finalize(psbt: Psbt) -> Psbt:
    """Finalize every input, or refuse naming the first input that cannot be."""
    for inp in psbt.inputs:
        psbt = psbt.with_input(inp.index, finalize_input(inp, spent_output(inp)))
    return psbt


def extract(psbt: Psbt) -> Tx:
    """The network transaction of a finalized PSBT (BIP174 transaction extractor)."""
    tx = psbt.unsigned_tx()
    inputs = []
    for inp, txin in zip(psbt.inputs, tx.inputs, strict=True):
        if not inp.is_finalized:
            raise Refused(Code.FINALIZE_NOT_FINALIZED, f"input {inp.index} is not finalized")
        inputs.append(
            TxIn(
                txin.prevout,
                inp.final_scriptsig or b"",
                txin.sequence,
                inp.final_scriptwitness or (),
            )
        )
    if not inputs:
        # Valid as a PSBT (BIP174 valid 8 and 9), but its serialization would read as a segwit marker.
        raise InvalidInput(
            Code.FINALIZE_NO_INPUTS, "a transaction without inputs cannot be extracted"
        )
    return Tx(tx.version, tuple(inputs), tx.outputs, tx.locktime)
