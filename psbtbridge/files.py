"""Bounded reads and crash-safe writes: the only way psbtbridge touches files and stdio."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO, Final

from psbtbridge.compact import Readable
from psbtbridge.errors import BridgeError, Code, ConfigError, InvalidInput

DEFAULT_MAX_INPUT = 16 * 1024 * 1024  # bytes; the PSBT size cap before any parsing
_CHUNK = 64 * 1024


def read_bounded(untrusted_stream: Readable, cap: int) -> bytes:
    """Read a whole stream, holding at most cap + 1 bytes: refuse anything larger than cap."""
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = untrusted_stream.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise InvalidInput(Code.IO_TOO_LARGE, f"input is larger than the {cap}-byte cap")
    return b"".join(chunks)


#: How to end text typed or pasted into a terminal, where surrounding whitespace is ignored.
END_WITH_ENTER = "paste it, then press Enter and Ctrl-D"


def read_input(
    path: str, cap: int = DEFAULT_MAX_INPUT, what: str = "a PSBT", ending: str = END_WITH_ENTER
) -> bytes:
    """Read FILE or `-` (stdin) up to the cap.

    On a terminal, say first what is expected and how to end it: a command waiting in
    silence looks hung, and a paste without a final newline needs Ctrl-D twice.
    """
    if path == "-":
        if sys.stdin.isatty():
            sys.stderr.write(f"psbt: reading {what} from the terminal: {ending} (Ctrl-C cancels)\n")
            sys.stderr.flush()
            # Unbuffered: a buffered read(n) goes on reading after the Ctrl-D that ended a
            # line, so a paste would need a second Ctrl-D; one empty read is the end here.
            with io.FileIO(sys.stdin.fileno(), closefd=False) as terminal:
                return read_bounded(terminal, cap)
        return read_bounded(sys.stdin.buffer, cap)
    try:
        with open(path, "rb") as stream:
            return read_bounded(stream, cap)
    except OSError as error:
        raise BridgeError(Code.IO_READ_FAILED, f"cannot read {path}: {error.strerror}") from error


def read_stored(path: Path, cap: int, unreadable: Code, too_large: Code) -> bytes | None:
    """One of our own data files, whole, or None when it does not exist yet.

    A file we cannot read or one over its cap is a ConfigError with the caller's codes: the
    signer stops and the file is left as it is for the user to look at.
    """
    try:
        with open(path, "rb") as stream:
            return read_bounded(stream, cap)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(unreadable, f"cannot read {path}: {error.strerror}") from error
    except InvalidInput as error:
        raise ConfigError(too_large, f"{path} is larger than its {cap}-byte cap") from error


MAX_JSON_DEPTH: Final = 32  # our own files nest 4 deep at most; json's C parser recurses per level
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS: Final = bytes(range(256)).translate(None, b"[]{}")
_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth_within(untrusted_data: bytes, max_depth: int) -> bool:
    """Whether the brackets in a JSON text nest at most max_depth deep, in linear time.

    Strings are cut out first (brackets inside them do not nest), then everything but the
    brackets; the running sum of +1/-1 steps is the depth. Unbalanced text may pass here;
    the parser then refuses it.
    """
    if untrusted_data.count(b"[") + untrusted_data.count(b"{") <= max_depth:
        return True
    brackets = _JSON_STRING.sub(b"", untrusted_data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= max_depth


def load_json(
    untrusted_data: bytes,
    broken: Callable[[str], Exception],
    *,
    cap: int,
    encoding: str = "utf-8",
    max_depth: int = MAX_JSON_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """The one JSON reader for stored files and other programs' output: bounded, then parsed.

    Size and nesting are bounded before the text reaches `json`, and whatever `json` can
    still raise on hostile text (ValueError, an integer past Python's 4,300-digit limit,
    RecursionError, a bad encoding) becomes `broken(why)`, the caller's own error (each file
    has its code: audit.broken, keystore.corrupt, ...), never an internal error.
    """
    if len(untrusted_data) > cap:
        raise broken(f"it is larger than {cap} bytes")
    if not json_depth_within(untrusted_data, max_depth):
        raise broken(f"it nests deeper than {max_depth} levels")
    try:
        return json.loads(
            untrusted_data.decode(encoding),
            object_pairs_hook=object_pairs_hook,
            parse_constant=parse_constant,
        )
    except UnicodeDecodeError as error:
        raise broken(f"it is not {encoding} text ({error.reason})") from None
    except RecursionError:
        raise broken("it nests too deeply") from None
    except ValueError as error:
        raise broken(f"it is not valid JSON ({str(error)[:120]})") from None


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write data so that path holds either its old content or all of data, never a mix.

    Temporary file in the same folder, fsync, rename, then fsync the folder so the rename
    itself survives a power cut.
    """
    try:
        tmp_name = _durable_temp(path, data, mode)
        try:
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        fsync_folder(path.parent)
    except OSError as error:
        raise BridgeError(Code.IO_WRITE_FAILED, f"cannot write {path}: {error.strerror}") from error


def write_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Create path with all of data, or raise FileExistsError: never replaces a file.

    link(2) of a complete, fsync'd temporary file either creates the name or fails, so two
    writers racing cannot both succeed and nobody ever sees a half-written file.
    """
    try:
        tmp_name = _durable_temp(path, data, mode)
        try:
            os.link(tmp_name, path)
        finally:
            os.unlink(tmp_name)
        fsync_folder(path.parent)
    except FileExistsError:
        raise
    except OSError as error:
        raise BridgeError(Code.IO_WRITE_FAILED, f"cannot write {path}: {error.strerror}") from error


def _durable_temp(path: Path, data: bytes, mode: int) -> str:
    """A fsync'd temporary file holding data, beside path (same file system)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), mode)
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return tmp_name


def fsync_folder(folder: Path) -> None:
    """Make a rename or a newly created file in folder durable."""
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_output(path: str | None, data: bytes, stdout: BinaryIO | None = None) -> None:
    """Write a result to a file atomically, or to stdout when path is None or `-`."""
    if path is None or path == "-":
        out = stdout if stdout is not None else sys.stdout.buffer
        out.write(data)
        out.flush()
    else:
        write_atomic(Path(path), data, mode=0o644)
