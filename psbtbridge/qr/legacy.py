"""Decode-only older PSBT QR formats: Specter-DIY `pMofN` frames and a single base64/hex frame.

We never emit these (UR and BBQr are strictly better), but SeedSigner, Krux and Specter
users may still scan them. `pMofN` carries text chunks, 1-based, joined in index order.
"""

from __future__ import annotations

import re
from typing import Final

from psbtbridge import encoding
from psbtbridge.errors import Code, InvalidInput

_PMOFN_RE: Final = re.compile(r"p([1-9][0-9]{0,3})of([1-9][0-9]{0,3}) (\S+)", re.ASCII)


def is_pmofn(untrusted_text: str) -> bool:
    """Whether a frame looks like a `pMofN` part (its details are checked when it is received)."""
    return re.match(r"p[0-9]+of[0-9]+ ", untrusted_text, re.ASCII) is not None


class PmofnJoiner:
    """Feeds `pMofN CHUNK` frames in any order; `text` is set once every chunk has arrived."""

    def __init__(self, max_len: int, max_parts: int) -> None:
        self._max_len = max_len
        self._max_parts = max_parts
        self._total = 0
        self._chunks: dict[int, str] = {}
        self.text: str | None = None

    @property
    def progress(self) -> tuple[int, int]:
        return len(self._chunks), self._total

    def receive(self, untrusted_text: str) -> bool:
        match = _PMOFN_RE.fullmatch(untrusted_text.strip())
        if match is None:
            raise InvalidInput(Code.QR_PMOFN, "pMofN: frame is not `pMofN CHUNK`")
        index, total, chunk = int(match[1]), int(match[2]), match[3]
        if index > total or total > self._max_parts:
            raise InvalidInput(Code.QR_PMOFN, f"pMofN: part {index} of {total} is out of range")
        if self._total == 0:
            self._total = total
        elif total != self._total:
            raise InvalidInput(
                Code.QR_PMOFN, f"pMofN: part of {total} among parts of {self._total}"
            )
        known = self._chunks.get(index)
        if known is not None:
            if known != chunk:
                raise InvalidInput(Code.QR_CONFLICT, f"pMofN part {index} seen twice, different")
            return False
        if self.text is not None:
            return False
        self._chunks[index] = chunk
        if sum(len(c) for c in self._chunks.values()) > 2 * self._max_len:
            raise InvalidInput(Code.QR_TOO_LARGE, "pMofN: text is over the size cap")
        if len(self._chunks) == total:
            self.text = "".join(self._chunks[i] for i in range(1, total + 1))
        return True


def psbt_from_text(untrusted_text: str) -> bytes:
    """The PSBT in a base64 or hex text (a joined `pMofN` or a single plain frame)."""
    try:
        data, _ = encoding.decode(untrusted_text.encode("ascii"))
    except UnicodeEncodeError as error:
        raise InvalidInput(Code.QR_UNKNOWN_FORMAT, "frame text is not ASCII") from error
    except InvalidInput as error:
        raise InvalidInput(
            Code.QR_UNKNOWN_FORMAT,
            "frame is neither UR, BBQr, pMofN, Electrum's base43 nor a base64/hex PSBT",
        ) from error
    return data
