"""Recognising scriptPubKeys: their standard type, and their address on a network."""

from __future__ import annotations

from embit.base import EmbitError
from embit.script import Script

from psbtbridge.hashes import hash160, sha256
from psbtbridge.network import Network
from psbtbridge.wallet import ScriptType

OP_RETURN = 0x6A
OP_CHECKMULTISIG = 0xAE
_PUSHDATA_WIDTH = {0x4C: 1, 0x4D: 2, 0x4E: 4}  # OP_PUSHDATA1/2/4: width of the length


def is_op_return(script_pubkey: bytes) -> bool:
    return script_pubkey[:1] == bytes([OP_RETURN])


def is_p2pkh(spk: bytes) -> bool:
    return len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac"


def is_p2sh(spk: bytes) -> bool:
    return len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[22] == 0x87


def is_p2wpkh(spk: bytes) -> bool:
    return len(spk) == 22 and spk[:2] == b"\x00\x14"


def is_p2wsh(spk: bytes) -> bool:
    return len(spk) == 34 and spk[:2] == b"\x00\x20"


def is_p2tr(spk: bytes) -> bool:
    return len(spk) == 34 and spk[:2] == b"\x51\x20"


def is_witness_program(spk: bytes) -> bool:
    """BIP141: a version opcode (OP_0, OP_1..OP_16), then one push of 2 to 40 bytes."""
    return (
        4 <= len(spk) <= 42 and (spk[0] == 0 or 0x51 <= spk[0] <= 0x60) and spk[1] + 2 == len(spk)
    )


def script_type_of(
    spk: bytes, redeem_script: bytes | None = None, witness_script: bytes | None = None
) -> ScriptType | None:
    """The standard type of an output, looking into P2SH when its redeem script is known;
    None for anything else (bare multisig, P2PK, future witness versions)."""
    if is_p2pkh(spk):
        return ScriptType.P2PKH
    if is_p2wpkh(spk):
        return ScriptType.P2WPKH
    if is_p2wsh(spk):
        return ScriptType.P2WSH
    if is_p2tr(spk):
        return ScriptType.P2TR
    if is_p2sh(spk):
        if redeem_script is not None and hash160(redeem_script) == spk[2:22]:
            if is_p2wpkh(redeem_script):
                return ScriptType.P2SH_P2WPKH
            if is_p2wsh(redeem_script):
                if witness_script is not None and sha256(witness_script) != redeem_script[2:]:
                    return None
                return ScriptType.P2SH_P2WSH
        return ScriptType.P2SH
    return None


def has_address(script_pubkey: bytes) -> bool:
    """Whether wallets show this output as an address: P2PKH, P2SH or any witness program."""
    return is_p2pkh(script_pubkey) or is_p2sh(script_pubkey) or is_witness_program(script_pubkey)


def address_of(script_pubkey: bytes, network: Network) -> str | None:
    """The address a wallet shows for this output, or None when it has no address form."""
    if not has_address(script_pubkey):
        return None
    try:
        return str(Script(script_pubkey).address(network.params))
    except (EmbitError, ValueError, KeyError, IndexError):
        return None


def last_push(script: bytes) -> bytes | None:
    """The data of a push-only script's last push (a P2SH redeem script), else None."""
    position, last = 0, None
    while position < len(script):
        opcode = script[position]
        position += 1
        if opcode == 0 or 0x51 <= opcode <= 0x60 or opcode == 0x4F:  # OP_0, OP_1..16, OP_1NEGATE
            last = b""
            continue
        if 0x01 <= opcode <= 0x4B:
            size = opcode
        elif opcode in _PUSHDATA_WIDTH:
            width = _PUSHDATA_WIDTH[opcode]
            size = int.from_bytes(script[position : position + width], "little")
            position += width
        else:
            return None
        last = script[position : position + size]
        position += size
    return last if position == len(script) else None


def multisig_threshold(script: bytes | None) -> int | None:
    """m of a standard `OP_m <keys> OP_n OP_CHECKMULTISIG` script, else None."""
    if script is None or len(script) < 3 or script[-1] != OP_CHECKMULTISIG:
        return None
    if not 0x51 <= script[0] <= 0x60:
        return None
    return script[0] - 0x50
