"""Bitcoin scripts: the standard templates, built and recognised in one place, and their addresses.

Each template has its builder beside its recogniser (p2wpkh() next to is_p2wpkh()), so the
two cannot drift. The independent verifier (psbtbridge/verify/) keeps its own on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import NamedTuple

from embit.base import EmbitError
from embit.ec import PublicKey
from embit.script import Script

from psbtbridge.hashes import hash160, sha256
from psbtbridge.network import Network

OP_0 = 0x00
OP_PUSHDATA1, OP_PUSHDATA2, OP_PUSHDATA4 = 0x4C, 0x4D, 0x4E
OP_1NEGATE = 0x4F
OP_1, OP_16 = 0x51, 0x60
OP_RETURN = 0x6A
OP_DUP, OP_EQUAL, OP_EQUALVERIFY, OP_HASH160 = 0x76, 0x87, 0x88, 0xA9
OP_CODESEPARATOR = 0xAB
OP_CHECKSIG, OP_CHECKMULTISIG = 0xAC, 0xAE
_PUSHDATA_WIDTH = {OP_PUSHDATA1: 1, OP_PUSHDATA2: 2, OP_PUSHDATA4: 4}


class ScriptType(Enum):
    """The output script types a wallet of ours can have (BIP44/49/84/86, BIP48 multisig)."""

    P2PKH = "p2pkh"
    P2SH_P2WPKH = "p2sh-p2wpkh"
    P2WPKH = "p2wpkh"
    P2TR = "p2tr"
    P2WSH = "p2wsh"
    P2SH_P2WSH = "p2sh-p2wsh"
    P2SH = "p2sh"

    @property
    def is_multisig(self) -> bool:
        return self in (ScriptType.P2WSH, ScriptType.P2SH_P2WSH, ScriptType.P2SH)

    @property
    def is_segwit_v0(self) -> bool:
        return self in (
            ScriptType.P2WPKH,
            ScriptType.P2SH_P2WPKH,
            ScriptType.P2WSH,
            ScriptType.P2SH_P2WSH,
        )

    @property
    def max_keys(self) -> int:
        """Most keys a multisig of this type may have: legacy P2SH hits the 520-byte push limit."""
        return 15 if self is ScriptType.P2SH else 20


# --- templates: build and recognise


def p2pkh(pubkey: bytes) -> bytes:
    """OP_DUP OP_HASH160 <hash160(pubkey)> OP_EQUALVERIFY OP_CHECKSIG; also BIP143's
    scriptCode for a P2WPKH input."""
    return bytes([OP_DUP, OP_HASH160, 20]) + hash160(pubkey) + bytes([OP_EQUALVERIFY, OP_CHECKSIG])


def is_p2pkh(spk: bytes) -> bool:
    return len(spk) == 25 and spk[:3] == b"\x76\xa9\x14" and spk[23:] == b"\x88\xac"


def p2sh(redeem_script: bytes) -> bytes:
    return bytes([OP_HASH160, 20]) + hash160(redeem_script) + bytes([OP_EQUAL])


def is_p2sh(spk: bytes) -> bool:
    return len(spk) == 23 and spk[:2] == b"\xa9\x14" and spk[22] == OP_EQUAL


def p2wpkh(pubkey: bytes) -> bytes:
    return b"\x00\x14" + hash160(pubkey)


def is_p2wpkh(spk: bytes) -> bool:
    return len(spk) == 22 and spk[:2] == b"\x00\x14"


def p2wsh(witness_script: bytes) -> bytes:
    return b"\x00\x20" + sha256(witness_script)


def is_p2wsh(spk: bytes) -> bool:
    return len(spk) == 34 and spk[:2] == b"\x00\x20"


def p2tr(internal_key: bytes) -> bytes:
    """BIP86: the output key is the 33-byte internal key tweaked with no script tree."""
    output_key: bytes = PublicKey.parse(internal_key).taproot_tweak(b"").xonly()
    return b"\x51\x20" + output_key


def is_p2tr(spk: bytes) -> bool:
    return len(spk) == 34 and spk[:2] == b"\x51\x20"


def is_op_return(script_pubkey: bytes) -> bool:
    return script_pubkey[:1] == bytes([OP_RETURN])


def is_witness_program(spk: bytes) -> bool:
    """BIP141: a version opcode (OP_0, OP_1..OP_16), then one push of 2 to 40 bytes."""
    return (
        4 <= len(spk) <= 42
        and (spk[0] == OP_0 or OP_1 <= spk[0] <= OP_16)
        and spk[1] + 2 == len(spk)
    )


class Multisig(NamedTuple):
    """A bare `m <pubkey>... n OP_CHECKMULTISIG` script: the keys in script order."""

    threshold: int
    pubkeys: tuple[bytes, ...]


def multisig(threshold: int, pubkeys: list[bytes]) -> bytes:
    """`m <pubkey>... n OP_CHECKMULTISIG`, small numbers pushed minimally as Core's multi()."""
    body = b"".join(push(pk) for pk in pubkeys)
    return push_number(threshold) + body + push_number(len(pubkeys)) + bytes([OP_CHECKMULTISIG])


def parse_multisig(script: bytes | None) -> Multisig | None:
    """The multisig a script is (keys of 33 or 65 bytes, m and n from 1 to 16), else None."""
    if script is None or len(script) < 3 or script[-1] != OP_CHECKMULTISIG:
        return None
    if not OP_1 <= script[0] <= OP_16 or not OP_1 <= script[-2] <= OP_16:
        return None
    threshold, count = script[0] - OP_1 + 1, script[-2] - OP_1 + 1
    pubkeys = []
    for op in ops(script[1:-2]):
        if op.data is None or len(op.data) not in (33, 65) or op.opcode != len(op.data):
            return None
        pubkeys.append(op.data)
    if len(pubkeys) != count or threshold > count:
        return None
    return Multisig(threshold, tuple(pubkeys))


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


# --- pushes


def push(data: bytes) -> bytes:
    """A script push of data (OP_0 for empty), as Bitcoin Core writes `CScript() << data`."""
    size = len(data)
    if size == 0:
        return bytes([OP_0])
    if size < OP_PUSHDATA1:
        return bytes([size]) + data
    if size <= 0xFF:
        return bytes([OP_PUSHDATA1, size]) + data
    return bytes([OP_PUSHDATA2]) + size.to_bytes(2, "little") + data


def push_size(size: int) -> int:
    """Bytes of a minimal push of size bytes inside a script."""
    return size + (1 if size < OP_PUSHDATA1 else 2 if size <= 0xFF else 3)


def push_number(n: int) -> bytes:
    """Minimal push of 1..20: OP_1..OP_16, else a one-byte push (BIP62)."""
    return bytes([OP_1 - 1 + n]) if n <= 16 else bytes([0x01, n])


class Op(NamedTuple):
    """One opcode of a script, with the data it pushes (None for other opcodes)."""

    opcode: int
    data: bytes | None
    start: int  # offset of the opcode
    end: int  # offset just past it and its data


class ScriptEndsInPush(Exception):
    """A push runs past the end of the script (raised by `ops`; callers decide what it means)."""


def ops(script: bytes) -> Iterator[Op]:
    """Walk a script's opcodes; the one push walker every reader of scripts uses."""
    position = 0
    while position < len(script):
        opcode, start = script[position], position
        position += 1
        if opcode < OP_PUSHDATA1:
            size = opcode
        elif opcode in _PUSHDATA_WIDTH:
            width = _PUSHDATA_WIDTH[opcode]
            if position + width > len(script):
                raise ScriptEndsInPush
            size = int.from_bytes(script[position : position + width], "little")
            position += width
        else:
            yield Op(opcode, None, start, position)
            continue
        if position + size > len(script):
            raise ScriptEndsInPush
        yield Op(opcode, script[position : position + size], start, position + size)
        position += size


def last_push(script: bytes) -> bytes | None:
    """The data of a push-only script's last push (a P2SH redeem script), else None."""
    last = None
    try:
        for op in ops(script):
            if op.data is not None:
                last = op.data
            elif op.opcode in (OP_1NEGATE, *range(OP_1, OP_16 + 1)):
                last = b""
            else:
                return None
    except ScriptEndsInPush:
        return None
    return last


def multisig_threshold(script: bytes | None) -> int | None:
    """m of a standard `OP_m <keys> OP_n OP_CHECKMULTISIG` script, else None."""
    found = parse_multisig(script)
    return None if found is None else found.threshold


# --- addresses


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
