"""Signed messages: the Bitcoin signed-message hash, Electrum's compact recoverable signatures,
and verification of both them and BIP-322 signatures against an address.

Electrum 4.3.4 (electrum/ecc.py) writes the header byte 27 + recid + 4 (compressed key)
for every script type, and verifies what BIP137 defines besides: 27-30 an uncompressed
key, 31-34 a compressed key of any of P2PKH, P2SH-P2WPKH and P2WPKH, 35-38 P2SH-P2WPKH
only, 39-42 P2WPKH only. We write and accept exactly that, except that an uncompressed
key is accepted for P2PKH only (its segwit "addresses" are unspendable by policy).
"""

from __future__ import annotations

import unicodedata
from enum import Enum
from typing import Final, NamedTuple

from psbtbridge import bip322
from psbtbridge.address import decode_address
from psbtbridge.compact import compact_size
from psbtbridge.errors import Code, InvalidInput, Refused
from psbtbridge.hashes import hash160, hash256
from psbtbridge.network import Network
from psbtbridge.script import ScriptType

MAGIC: Final = b"\x18Bitcoin Signed Message:\n"
#: The largest message we sign or verify. Messages are read by a person on the cold screen;
#: BIP-322 recommends "a few kilobytes" for PSBT-carried ones.
MAX_MESSAGE_SIZE: Final = 64 * 1024
COMPACT_SIZE: Final = 65
#: Electrum's header for a compressed key (27 + 4), to which the recovery id is added.
ELECTRUM_COMPRESSED: Final = 31
#: Script types an Electrum-format signature can be made for.
ELECTRUM_TYPES: Final = (ScriptType.P2PKH, ScriptType.P2SH_P2WPKH, ScriptType.P2WPKH)


class MessageFormat(Enum):
    ELECTRUM = "electrum"
    BIP322 = "bip322"


def signed_message_hash(message: bytes) -> bytes:
    """What Electrum, Core and BIP137 sign: double SHA-256 of the magic, a compact size, the message."""
    return hash256(MAGIC + compact_size(len(message)) + message)


def check_message(untrusted_message: bytes) -> str:
    """The message as text: at most MAX_MESSAGE_SIZE bytes of UTF-8, or refuse.

    Electrum signs the UTF-8 of a text and the BIP-322 PSBT field is UTF-8; a message of
    other bytes would sign something no person can read on the screen.
    """
    if len(untrusted_message) > MAX_MESSAGE_SIZE:
        raise Refused(
            Code.MESSAGE_TOO_LONG,
            f"the message is {len(untrusted_message)} bytes; at most {MAX_MESSAGE_SIZE} are signed",
        )
    try:
        return untrusted_message.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            Code.MESSAGE_NOT_UTF8, f"the message is not UTF-8 text (byte {error.start})"
        ) from error


def visible_lines(text: str) -> list[str]:
    """The message with every control character and every non-ASCII character spelled out.

    A newline is shown as `\\n` and also breaks the line; a backslash is doubled so an
    escape cannot be faked; anything else outside printable ASCII is `\\u{hex}`, with its
    Unicode name when it has one (homoglyphs such as Cyrillic а for Latin a show up).
    """
    lines: list[str] = []
    current: list[str] = []
    for char in text:
        if char == "\n":
            current.append("\\n")
            lines.append("".join(current))
            current = []
        elif char == "\\":
            current.append("\\\\")
        elif " " <= char <= "~":
            current.append(char)
        elif char == "\t":
            current.append("\\t")
        elif char == "\r":
            current.append("\\r")
        else:
            name = unicodedata.name(char, "")
            current.append(f"\\u{{{ord(char):x}{' ' + name if name else ''}}}")
    lines.append("".join(current))
    return lines


def size_text(text: str) -> str:
    """How long a message is, as every screen showing one says it."""
    data = text.encode("utf-8")
    return f"{len(data)} bytes, {len(text)} characters, {len(visible_lines(text))} lines"


def escape_note(text: str) -> str | None:
    """Why visible_lines(text) looks as it does, when anything in it was spelled out."""
    escaped = sum(1 for c in text if not (" " <= c <= "~") or c == "\\")
    if not escaped:
        return None
    return (
        f"{escaped} control, non-ASCII or backslash characters are spelled out:"
        " \\n \\t \\r \\u{hex NAME} \\\\"
    )


def script_of_address(untrusted_address: str, network: Network | None = None) -> bytes:
    """The scriptPubKey of an address of network (of any network when None), or refuse
    (psbtbridge.address.decode_address: the one address decoder)."""
    if network is not None:
        return decode_address(untrusted_address, network)[1]
    for candidate in Network:
        try:
            return decode_address(untrusted_address, candidate)[1]
        except InvalidInput as error:
            if error.code != Code.ADDRESS_WRONG_NETWORK:
                raise
    raise InvalidInput(Code.ADDRESS_BAD_ADDRESS, "not a bitcoin address")  # unreachable in practice


# --- Electrum (BIP137-style) compact signatures ----------------------------------------------


def electrum_header(recid: int) -> int:
    """The header byte Electrum 4.3.4 writes: compressed key, whatever the script type."""
    return ELECTRUM_COMPRESSED + recid


def recover_pubkey(compact: bytes, recid: int, digest: bytes, compressed: bool) -> bytes | None:
    """The public key that made the 64-byte (r, s) signature of digest, or None."""
    from embit.util import secp256k1

    try:
        recoverable = secp256k1.ecdsa_recoverable_signature_parse_compact(compact, recid)
        point = secp256k1.ecdsa_recover(recoverable, digest)
        flag = secp256k1.EC_COMPRESSED if compressed else secp256k1.EC_UNCOMPRESSED
        return bytes(secp256k1.ec_pubkey_serialize(point, flag))
    except ValueError:
        return None


def _scripts_for_key(pubkey: bytes, header: int) -> dict[ScriptType, bytes]:
    """The scripts a recovered key may stand for under a header byte (Electrum's table)."""
    keyhash = hash160(pubkey)
    p2pkh = b"\x76\xa9\x14" + keyhash + b"\x88\xac"
    if header < ELECTRUM_COMPRESSED:
        return {ScriptType.P2PKH: p2pkh}
    p2wpkh = b"\x00\x14" + keyhash
    p2sh_p2wpkh = b"\xa9\x14" + hash160(p2wpkh) + b"\x87"
    if header >= 39:
        return {ScriptType.P2WPKH: p2wpkh}
    if header >= 35:
        return {ScriptType.P2SH_P2WPKH: p2sh_p2wpkh}
    return {ScriptType.P2PKH: p2pkh, ScriptType.P2WPKH: p2wpkh, ScriptType.P2SH_P2WPKH: p2sh_p2wpkh}


def verify_electrum(script_pubkey: bytes, signature: bytes, message: bytes) -> None:
    """Return when the 65-byte signature signs message for the script; raise Refused if not.

    Recovering the key from (r, s, recid) and finding it is the address's key is the whole
    ECDSA check (the recovery solves the verification equation for the key), as Core's
    verifymessage does it.
    """
    if len(signature) != COMPACT_SIZE:
        raise InvalidInput(Code.MESSAGE_BAD_SIGNATURE, "a compact signature is 65 bytes")
    header = signature[0]
    if not 27 <= header <= 42:
        raise Refused(Code.MESSAGE_INVALID, f"header byte {header} is not 27-42")
    recid = (header - 27) % 4
    compressed = header >= ELECTRUM_COMPRESSED
    pubkey = recover_pubkey(signature[1:], recid, signed_message_hash(message), compressed)
    if pubkey is None or script_pubkey not in _scripts_for_key(pubkey, header).values():
        raise Refused(Code.MESSAGE_INVALID, "the signature is not by this address's key")


# --- one entry for both formats --------------------------------------------------------------


class Verified(NamedTuple):
    """A signature that verified: which format it was."""

    format: str  # "electrum", "bip322-simple" or "bip322-full"


def verify_message(script_pubkey: bytes, untrusted_signature: str, message: bytes) -> Verified:
    """Verify a base64 signature of either format; Refused (message.invalid or
    message.inconclusive) when it does not verify, InvalidInput when it is malformed."""
    text = untrusted_signature.strip()
    if not any(text.startswith(v.value) for v in bip322.Variant):
        raw = bip322.decode_base64(text)
        if len(raw) == COMPACT_SIZE:
            verify_electrum(script_pubkey, raw, message)
            return Verified("electrum")
    variant, body = bip322.split_variant(text)
    if variant is bip322.Variant.SIMPLE:
        bip322.verify_simple(script_pubkey, bip322.decode_witness(body), message)
        return Verified("bip322-simple")
    if variant is bip322.Variant.FULL:
        bip322.verify_full(script_pubkey, body, message)
        return Verified("bip322-full")
    raise Refused(Code.MESSAGE_INCONCLUSIVE, "proof-of-funds signatures are not checked here")
