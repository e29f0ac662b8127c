"""The qrexec protocol between the hot and the cold qube: service names, digests, the reason line.

Both sides import this one definition: the cold service writes the reason line that the
hot client parses back, and each side checks qube names and digests by the same rule.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Final, NamedTuple

from psbtbridge.errors import BridgeError, Code, Declined, InvalidInput, Refused


class Service(StrEnum):
    """The qrexec services the cold qube offers (files in /etc/qubes-rpc, lines in dom0's policy)."""

    SIGN = "psbtbridge.Sign"
    SHOW_ADDRESS = "psbtbridge.ShowAddress"
    SIGN_MESSAGE = "psbtbridge.SignMessage"


#: A request's name: 8 lower-case hex characters, shown by dom0's prompt, the cold dialog
#: and the hot terminal alike, and passed as the service argument (SERVICE+DIGEST).
_DIGEST: Final = re.compile(r"[0-9a-f]{8}")
# Qubes' rule for a qube's name: 1..31 of [A-Za-z0-9_.-], a letter first.
_QUBE_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,30}")
_RESERVED_NAMES: Final = frozenset({"none", "default", "Domain-0"})
_REASON: Final = re.compile(
    r"psbtbridge: (declined|refused|invalid|error): (.*) \[([a-z0-9_]+\.[a-z0-9_.]+)\]"
)
MAX_LINE: Final = 400  # characters of one reason line's sentence; a sentence, never a dump


class ReasonKind(StrEnum):
    """What kind of failure a service's non-zero exit was (the reason line's second word)."""

    DECLINED = "declined"
    REFUSED = "refused"
    INVALID = "invalid"
    ERROR = "error"


class Reason(NamedTuple):
    """The cold service's one-line explanation of a non-zero exit, as the caller receives it."""

    kind: ReasonKind
    message: str
    code: str


def is_digest(untrusted_text: str) -> bool:
    return _DIGEST.fullmatch(untrusted_text) is not None


def digest_of(data: bytes) -> str:
    """The request digest of ShowAddress and SignMessage: the first 8 hex of SHA-256 of data.

    (Sign names a transaction by its txid instead: psbtbridge.tx.Tx.digest.)
    """
    return hashlib.sha256(data).hexdigest()[:8]


def check_digest(announced: str, actual: str, what: str) -> None:
    """Refuse a request whose data is not what its argument (shown in dom0's prompt) named.

    what: the data's name in the sentence ("transaction", "address", "message").
    """
    if actual != announced:
        raise Refused(
            Code.SERVICE_DIGEST_MISMATCH,
            f"the request was announced as {announced} but the {what}'s digest is {actual}",
        )


def is_qube_name(untrusted_name: str) -> bool:
    """Qubes' rule for a qube's name: 1-31 of [A-Za-z0-9_.-], a letter first, not reserved.

    Names ending in `-dm` belong to device-model stub domains; `none`, `default` and
    `Domain-0` mean something else to the Admin API and libvirt.
    """
    return (
        _QUBE_NAME.fullmatch(untrusted_name) is not None
        and not untrusted_name.endswith("-dm")
        and untrusted_name not in _RESERVED_NAMES
    )


def one_line(untrusted_text: str, limit: int = MAX_LINE) -> str:
    """Text made safe for one terminal or log line: control characters become `.`, bounded."""
    clean = "".join(ch if ch.isprintable() else "." for ch in untrusted_text.strip())
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def kind_of(error: BridgeError) -> ReasonKind:
    if isinstance(error, Declined):
        return ReasonKind.DECLINED
    if isinstance(error, Refused):
        return ReasonKind.REFUSED
    if isinstance(error, InvalidInput):
        return ReasonKind.INVALID
    return ReasonKind.ERROR


def format_reason(reason: Reason) -> str:
    """`psbtbridge: KIND: SENTENCE [CODE]` with its newline: what a service writes to stderr."""
    return f"psbtbridge: {reason.kind}: {one_line(reason.message)} [{reason.code}]\n"


def parse_reason(untrusted_stderr: str) -> Reason | None:
    """The last reason line in a client's stderr, if the service wrote one."""
    for line in reversed(untrusted_stderr.splitlines()):
        match = _REASON.fullmatch(line.strip())
        if match:
            return Reason(ReasonKind(match[1]), one_line(match[2]), match[3])
    return None
