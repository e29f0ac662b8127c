"""The scriptCode an ECDSA signature commits to, derived from the spent scriptPubKey alone.

Plain byte tests against the templates (P2PKH, P2SH, P2WPKH, P2WSH, as BIP16/141/143 give
them), not the script module of the code being checked. Scripts that are not templates
(multisig, bare) are parsed by python-bitcointx (interpreter.py), loaded only then.
"""

from __future__ import annotations

import hashlib
from typing import Final

from embit.hashes import hash160 as _embit_hash160

from psbtbridge.errors import Code, Refused

OP_CODESEPARATOR: Final = 0xAB


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256 (embit's, which falls back to pure Python without OpenSSL's)."""
    return bytes(_embit_hash160(data))


def _is_p2sh(spk: bytes) -> bool:
    return len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[22] == 0x87


def _is_p2wpkh(spk: bytes) -> bool:
    return len(spk) == 22 and spk[:2] == b"\x00\x14"


def _is_p2wsh(spk: bytes) -> bool:
    return len(spk) == 34 and spk[:2] == b"\x00\x20"


def _is_p2pkh(spk: bytes) -> bool:
    return len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac"


def is_p2tr(spk: bytes) -> bool:
    """BIP341: OP_1 <32-byte key>."""
    return len(spk) == 34 and spk[:2] == b"\x51\x20"


def is_witness_program(spk: bytes) -> bool:
    """BIP141: a version opcode (OP_0, OP_1..OP_16), then one push of 2 to 40 bytes."""
    return (
        4 <= len(spk) <= 42 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] + 2 == len(spk)
    )


def ecdsa_script_code(
    index: int,
    spent_script_pubkey: bytes,
    pubkey: bytes,
    redeem_script: bytes | None,
    witness_script: bytes | None,
) -> tuple[bytes, bool]:
    """The scriptCode a signature by pubkey on input index commits to, and whether it is a
    witness v0 one; refused unless the scripts given match the spent output and hold pubkey."""
    spk = spent_script_pubkey
    where = f"input {index}"
    program = spk
    if _is_p2sh(spk):
        if redeem_script is None or hash160(redeem_script) != spk[2:22]:
            raise Refused(
                Code.VERIFY_SCRIPT_MISMATCH, f"{where}: redeemScript does not match the P2SH hash"
            )
        program = redeem_script
    elif redeem_script is not None:
        raise Refused(Code.VERIFY_SCRIPT_MISMATCH, f"{where}: a redeemScript for a non-P2SH output")
    is_p2wsh = _is_p2wsh(program)
    if witness_script is not None and not is_p2wsh:
        raise Refused(
            Code.VERIFY_SCRIPT_MISMATCH, f"{where}: a witnessScript for a non-P2WSH output"
        )
    if _is_p2wpkh(program):
        if hash160(pubkey) != program[2:]:
            raise Refused(Code.VERIFY_WRONG_KEY, f"{where}: the key is not the P2WPKH key")
        # BIP143: P2WPKH signs the P2PKH script of its key hash.
        return b"\x76\xa9\x14" + program[2:] + b"\x88\xac", True
    if is_p2wsh:
        if witness_script is None or hashlib.sha256(witness_script).digest() != program[2:]:
            raise Refused(
                Code.VERIFY_SCRIPT_MISMATCH, f"{where}: witnessScript does not match the P2WSH hash"
            )
        _check_script_holds_key(where, witness_script, pubkey)
        return witness_script, True
    if is_witness_program(program):
        raise Refused(
            Code.VERIFY_UNSUPPORTED, f"{where}: a witness program that is not an ECDSA spend"
        )
    if _is_p2pkh(program):
        if hash160(pubkey) != program[3:23]:
            raise Refused(Code.VERIFY_WRONG_KEY, f"{where}: the key is not the P2PKH key")
        return program, False
    _check_script_holds_key(where, program, pubkey)
    return program, False


def _check_script_holds_key(where: str, script: bytes, pubkey: bytes) -> None:
    from psbtbridge.verify.interpreter import opcodes, pushes

    if OP_CODESEPARATOR in opcodes(script):
        # Which part is the scriptCode depends on execution: nothing we sign.
        raise Refused(Code.VERIFY_UNSUPPORTED, f"{where}: the script has OP_CODESEPARATOR")
    if not pushes(script, pubkey):
        raise Refused(Code.VERIFY_WRONG_KEY, f"{where}: the key is not in the script")
