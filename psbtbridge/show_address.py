"""The psbtbridge.ShowAddress exchange: its service name, request, digest and answer line.

The hot side asks "is this address ours?" before giving the address out; the cold side
answers from its own wallets and shows the answer on its own screen. Both sides read and
write these few bytes through this one module, so they cannot drift apart:

    request   the address text, ASCII, optionally one trailing newline (at most 91 bytes)
    argument  the first 8 hex digits of SHA-256 of the address text (dom0's prompt and the
              cold window show it; the cold side checks it names the address it received)
    answer    `ours WALLET PATH\\n` (e.g. `ours p2wpkh m/84h/1h/0h/0/5`) or `not-ours\\n`,
              exit 0; an address that is not one of the cold wallets' network is exit 3
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from psbtbridge.address import MAX_ADDRESS_LENGTH
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.qrexec import Service, digest_of

SERVICE: Final = Service.SHOW_ADDRESS
MAX_REQUEST: Final = MAX_ADDRESS_LENGTH + 1  # the address and a newline
MAX_ANSWER: Final = 1024  # "ours", a 64-character name and a path of up to 64 steps
#: What can be an address at all: base58 and bech32 use letters and digits only.
_ADDRESS_TEXT: Final = re.compile(rf"[A-Za-z0-9]{{1,{MAX_ADDRESS_LENGTH}}}")
_OURS: Final = re.compile(
    r"ours ([A-Za-z0-9][A-Za-z0-9._-]{0,63}) (m(?:/(?:0|[1-9][0-9]{0,9})h?){1,64})\n"
)
NOT_OURS: Final = "not-ours\n"


class Answer(NamedTuple):
    """The cold side's answer: ours (with the wallet and our key's path) or not."""

    ours: bool
    wallet: str | None = None
    path: str | None = None

    def encode(self) -> bytes:
        if not self.ours:
            return NOT_OURS.encode()
        return f"ours {self.wallet} {self.path}\n".encode()


def request_digest(address: str) -> str:
    """The service argument for an address: the first 8 hex digits of SHA-256 of its text."""
    return digest_of(address.encode("ascii"))


def encode_request(address: str) -> bytes:
    return address.encode("ascii") + b"\n"


def check_address_text(untrusted_text: str) -> str:
    """Letters and digits, 1 to 90 of them: anything else cannot be an address.

    Done before a request is sent or decoded, so garbage never reaches a digest, a screen
    or the other qube.
    """
    if _ADDRESS_TEXT.fullmatch(untrusted_text) is None:
        shown = "".join(ch if ch.isprintable() else "." for ch in untrusted_text[:40])
        raise InvalidInput(Code.ADDRESS_BAD_ADDRESS, f"{shown!r} is not a bitcoin address")
    text = untrusted_text  # ASCII letters and digits only: safe to hash, show and log
    return text


def parse_request(untrusted_request: bytes) -> str:
    """The address text of a request (not yet decoded for a network)."""
    if len(untrusted_request) > MAX_REQUEST:
        raise InvalidInput(Code.IO_TOO_LARGE, f"the request is longer than {MAX_REQUEST} bytes")
    body = untrusted_request.removesuffix(b"\n")
    return check_address_text(body.decode("ascii", errors="replace"))


def parse_answer(untrusted_answer: bytes) -> Answer:
    """The cold side's answer line, exactly as `Answer.encode` writes it, or InvalidInput."""
    text = untrusted_answer.decode("ascii", errors="replace")
    if text == NOT_OURS:
        return Answer(False)
    match = _OURS.fullmatch(text)
    if match is None:
        raise InvalidInput(
            Code.ADDRESS_BAD_ANSWER,
            "the cold qube's answer is neither `ours WALLET PATH` nor `not-ours`",
        )
    return Answer(True, match.group(1), match.group(2))
