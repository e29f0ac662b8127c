"""The BIP174 finalizer and extractor: signatures into scriptSigs and witnesses, then a raw transaction.

Supported spends: P2PKH, P2WPKH, P2SH-P2WPKH, multisig (multi or sortedmulti: any
`m <keys> n OP_CHECKMULTISIG` script) in P2SH, P2WSH or P2SH-P2WSH, and taproot key path.
Whether the signatures are valid is not this module's call: `psbt finalize` and `psbt send`
run the result through verify.verify_final_tx before anything leaves.
"""

from __future__ import annotations

from dataclasses import dataclass

from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.hashes import hash160, sha256
from psbtbridge.psbt.input_map import PsbtInput
from psbtbridge.psbt.psbt import Psbt
from psbtbridge.tx import Tx, TxIn, TxOut

_OP_0 = 0x00
_OP_PUSHDATA1, _OP_PUSHDATA2 = 0x4C, 0x4D
_OP_1, _OP_16 = 0x51, 0x60
_OP_CHECKMULTISIG = 0xAE


@dataclass(frozen=True)
class Multisig:
    """A bare `m <pubkey>... n OP_CHECKMULTISIG` script: the keys in script order."""

    threshold: int
    pubkeys: tuple[bytes, ...]


def parse_multisig(script: bytes) -> Multisig | None:
    """The multisig a script is, or None for any other script."""
    if len(script) < 3 or script[-1] != _OP_CHECKMULTISIG:
        return None
    if not _OP_1 <= script[0] <= _OP_16 or not _OP_1 <= script[-2] <= _OP_16:
        return None
    threshold, count = script[0] - _OP_1 + 1, script[-2] - _OP_1 + 1
    pubkeys = []
    position = 1
    while position < len(script) - 2:
        size = script[position]
        if size not in (33, 65) or position + 1 + size > len(script) - 2:
            return None
        pubkeys.append(script[position + 1 : position + 1 + size])
        position += 1 + size
    if len(pubkeys) != count or threshold > count:
        return None
    return Multisig(threshold, tuple(pubkeys))


def push(data: bytes) -> bytes:
    """A script push of data (OP_0 for empty), as Bitcoin Core writes `CScript() << data`."""
    size = len(data)
    if size == 0:
        return bytes([_OP_0])
    if size < _OP_PUSHDATA1:
        return bytes([size]) + data
    if size <= 0xFF:
        return bytes([_OP_PUSHDATA1, size]) + data
    return bytes([_OP_PUSHDATA2]) + size.to_bytes(2, "little") + data


def spent_output(inp: PsbtInput) -> TxOut:
    """The output an input spends (the parser has checked witness_utxo against the previous tx)."""
    output = inp.spent_output
    if output is None:
        raise Refused(
            "finalize.missing_utxo", f"input {inp.index}: neither non_witness_utxo nor witness_utxo"
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
        "finalize.missing_signature", f"input {inp.index}: no signature by the {kind} key"
    )


def _multisig_signatures(inp: PsbtInput, script: bytes) -> list[bytes]:
    """The first m signatures in the script's key order (CHECKMULTISIG checks them in order)."""
    multisig = parse_multisig(script)
    if multisig is None:
        raise Refused(
            "finalize.unsupported",
            f"input {inp.index}: the script is neither single-key nor a standard multisig",
        )
    found = [s for s in (_signature_by_key(inp, k) for k in multisig.pubkeys) if s is not None]
    if len(found) < multisig.threshold:
        raise Refused(
            "finalize.missing_signature",
            f"input {inp.index}: {len(found)} of the {multisig.threshold} signatures"
            f" this {multisig.threshold}-of-{len(multisig.pubkeys)} multisig needs",
        )
    return found[: multisig.threshold]


def _witness_program(inp: PsbtInput, program: bytes) -> tuple[bytes, ...] | None:
    """The witness for a v0 program (P2WPKH or P2WSH), or None if program is not one."""
    where = f"input {inp.index}"
    if len(program) == 22 and program[:2] == b"\x00\x14":
        signature, pubkey = _single_key(inp, program[2:], "P2WPKH")
        return (signature, pubkey)
    if len(program) == 34 and program[:2] == b"\x00\x20":
        script = inp.witness_script
        if script is None or sha256(script) != program[2:]:
            raise Refused(
                "finalize.script_mismatch", f"{where}: witnessScript missing or not the P2WSH one"
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
    if len(spk) == 34 and spk[:2] == b"\x51\x20":
        if inp.tap_key_sig is None:
            raise Refused(
                "finalize.missing_signature" if not inp.tap_script_sigs else "finalize.unsupported",
                f"{where}: no taproot key-path signature (script-path spends are not finalized)",
            )
        return inp.finalized(b"", (inp.tap_key_sig,))
    if len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[-1] == 0x87:
        redeem = inp.redeem_script
        if redeem is None or hash160(redeem) != spk[2:22]:
            raise Refused(
                "finalize.script_mismatch", f"{where}: redeemScript missing or not the P2SH one"
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
    if len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac":
        signature, pubkey = _single_key(inp, spk[3:23], "P2PKH")
        return inp.finalized(push(signature) + push(pubkey), ())
    raise Refused(
        "finalize.unsupported", f"{where}: the spent output's script type is not supported"
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
            raise Refused("finalize.not_finalized", f"input {inp.index} is not finalized")
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
        raise InvalidInput("finalize.no_inputs", "a transaction without inputs cannot be extracted")
    return Tx(tx.version, tuple(inputs), tx.outputs, tx.locktime)
