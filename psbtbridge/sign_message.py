"""The psbtbridge.SignMessage exchange: its service name, request framing, digest and answer.

The hot side asks the cold qube to sign a message with the key of one of its addresses;
the cold side shows the whole message, asks, and answers the signature. Both sides read
and write these bytes through this one module, so they cannot drift apart:

    request   one header line `address ADDRESS\\n` or `address ADDRESS FORMAT\\n` (FORMAT:
              electrum or bip322; without it, the address type's default), then the
              message, byte for byte, to the end of the stream (at most 64 KiB)
    argument  the first 8 hex digits of SHA-256 of the message bytes (the header is not
              part of it): dom0's prompt, the cold dialog and the hot terminal show it
    answer    the base64 signature and a newline (BIP-322 ones start with `smp`), exit 0;
              otherwise one reason line on stderr and the exit status of the refusal
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from psbtbridge.address import MAX_ADDRESS_LENGTH
from psbtbridge.errors import Code, InvalidInput
from psbtbridge.message import MAX_MESSAGE_SIZE, MessageFormat
from psbtbridge.qrexec import Service, digest_of
from psbtbridge.show_address import check_address_text

SERVICE: Final = Service.SIGN_MESSAGE
_KEYWORD: Final = b"address "
_FORMATS: Final = "|".join(f.value for f in MessageFormat)
#: The longest header line: the keyword, an address, a space and the longest format name.
MAX_HEADER: Final = (
    len(_KEYWORD) + MAX_ADDRESS_LENGTH + 1 + max(len(f.value) for f in MessageFormat) + 1
)
#: A request over this is refused while it is read (cold.service.read_request): no header
#: and 64 KiB of message can be longer. A message over 64 KiB inside it is message.too_long.
MAX_REQUEST: Final = MAX_HEADER + MAX_MESSAGE_SIZE
#: The address field is any run of bytes without a space here; check_address_text decides.
_HEADER: Final = re.compile(
    rb"address ([^ \n]{1,%d})(?: (%s))?\n" % (MAX_ADDRESS_LENGTH, _FORMATS.encode())
)
#: An Electrum signature is 88 characters; a BIP-322 simple one ~150 (a p2wpkh witness).
MAX_ANSWER: Final = 1024
_ANSWER: Final = re.compile(r"((?:smp)?[A-Za-z0-9+/]{4,1000}={0,2})\n")


class Request(NamedTuple):
    """A framed request: the address text and format are checked, the message only cut out
    (its size and encoding are checked where it is signed: psbtbridge.message.check_message)."""

    address: str
    format: MessageFormat | None
    untrusted_message: bytes


def request_digest(message: bytes) -> str:
    """The service argument for a message: the first 8 hex digits of SHA-256 of its bytes."""
    return digest_of(message)


def encode_request(address: str, message: bytes, message_format: MessageFormat | None) -> bytes:
    header = f"address {check_address_text(address)}"
    if message_format is not None:
        header += f" {message_format.value}"
    return header.encode("ascii") + b"\n" + message


def parse_request(untrusted_request: bytes) -> Request:
    """The header line and the message of a request, or InvalidInput (message.bad_request)."""
    end = untrusted_request.find(b"\n", 0, MAX_HEADER)
    match = _HEADER.fullmatch(untrusted_request[: end + 1]) if end >= 0 else None
    if match is None:
        raise InvalidInput(
            Code.MESSAGE_BAD_REQUEST,
            "the request does not start with a line `address ADDRESS` or `address ADDRESS"
            f" FORMAT` (FORMAT: {_FORMATS.replace('|', ' or ')})",
        )
    address = check_address_text(match[1].decode("ascii", errors="replace"))
    chosen = MessageFormat(match[2].decode("ascii")) if match[2] else None  # one of the enum's
    return Request(address, chosen, untrusted_request[end + 1 :])


def encode_answer(signature: str) -> bytes:
    return signature.encode("ascii") + b"\n"


def parse_answer(untrusted_answer: bytes) -> str:
    """The signature in the cold side's answer line (base64, `smp` allowed), or InvalidInput.

    Only its shape is checked here: the hot command verifies it against the address and
    the message before printing it.
    """
    match = _ANSWER.fullmatch(untrusted_answer.decode("ascii", errors="replace"))
    if match is None:
        raise InvalidInput(
            Code.MESSAGE_BAD_ANSWER, "the cold qube's answer is not one base64 signature line"
        )
    signature = match[1]  # base64 characters only: safe to print and verify
    return signature
