"""`psbt qr show FILE` and `psbt qr scan [IMAGE ...]`: PSBTs over animated QR codes for a physical air gap.

show: a PSBT file (binary, base64 or hex), strictly parsed, as UR `crypto-psbt` (default) or
BBQr frames, or as Electrum's one base43 frame, in a Tk window, as PNG files or as an
animated GIF.
scan: frames in any order, with duplicates, from image files or a camera (zbarcam), joined,
strictly validated, then written: a PSBT as base64 text (binary if OUT ends in .psbt), a
transaction as hex (binary if OUT ends in .txn). With -o OUT the format it came in is noted
in OUT.qrformat, so `psbt qr show SIGNED --like OUT` answers in the same format.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Final

from psbtbridge import encoding
from psbtbridge.errors import BridgeError, Code, InvalidInput, UsageError
from psbtbridge.files import read_input, write_atomic, write_output
from psbtbridge.psbt import Psbt
from psbtbridge.qr.animation import DEFAULT_MAX_VERSION, Animation, plan
from psbtbridge.qr.capacity import MAX_VERSION
from psbtbridge.qr.joiner import Joiner, Payload, PayloadKind, QrFormat, sha256_prefix
from psbtbridge.tx import Tx

FORMAT_NOTE_SUFFIX: Final = ".qrformat"
DEFAULT_FPS: Final = 5.0
_REPLY_FORMATS: Final = {f.value: f for f in (QrFormat.UR, QrFormat.BBQR, QrFormat.BASE43)}


def configure(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="qr_command", required=True, metavar="{show,scan}")
    show = commands.add_parser(
        "show",
        help="show a PSBT as an animated QR code",
        description="Show a PSBT as an animated QR code: UR crypto-psbt (default) or BBQr;"
        " or as the one base43 QR code Electrum reads.",
    )
    show.add_argument("file", metavar="FILE", help="PSBT file (binary, base64 or hex), or -")
    chosen = show.add_mutually_exclusive_group()
    chosen.add_argument("--format", choices=sorted(_REPLY_FORMATS), help="default: ur")
    chosen.add_argument(
        "--like",
        metavar="SCANNED",
        help="answer in the format SCANNED came in (its SCANNED.qrformat note from `qr scan -o`)",
    )
    show.add_argument(
        "--max-version",
        type=int,
        metavar="VERSION",
        help=f"largest QR version per frame, 5..40 (default {DEFAULT_MAX_VERSION}; base43:"
        f" {MAX_VERSION}, as Electrum reads one frame only)",
    )
    show.add_argument(
        "--fps", type=float, default=DEFAULT_FPS, metavar="FPS", help="frames per second"
    )
    where = show.add_mutually_exclusive_group()
    where.add_argument("--out", metavar="DIR", help="write frame-NNNN.png files into DIR")
    where.add_argument("--gif", metavar="FILE", help="write one looping animated GIF")
    where.add_argument(
        "--window", action="store_true", help="play in a window (the default with a display)"
    )
    scan = commands.add_parser(
        "scan",
        help="join QR frames from images or a camera into a PSBT or transaction",
        description="Join QR frames (UR, BBQr, pMofN, one base64/hex frame or Electrum's"
        " one base43 frame) in any order.",
    )
    scan.add_argument("images", nargs="*", metavar="IMAGE", help="pictures of the frames")
    scan.add_argument(
        "--camera",
        nargs="?",
        const="",
        metavar="DEV",
        help="scan with zbarcam (default device, or --camera=/dev/videoN)",
    )
    scan.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write here (and note the format in OUT.qrformat); default stdout",
    )


def run(args: argparse.Namespace) -> int:
    if args.qr_command == "show":
        return show(args)
    return scan(args)


def _note(message: str) -> None:
    sys.stderr.write(f"psbt qr: {message}\n")
    sys.stderr.flush()


def _reply_format(args: argparse.Namespace) -> QrFormat:
    if args.format:
        return _REPLY_FORMATS[args.format]
    if args.like is None:
        return QrFormat.UR
    note_path = args.like + FORMAT_NOTE_SUFFIX
    try:
        untrusted_note = read_input(note_path, 64).decode("ascii", "replace").strip()
    except BridgeError as error:  # unreadable or over 64 bytes
        raise UsageError(
            Code.QR_NO_FORMAT_NOTE, f"--like: cannot use {note_path}: {error}"
        ) from error
    if untrusted_note not in _REPLY_FORMATS:
        raise UsageError(Code.QR_NO_FORMAT_NOTE, f"--like: {note_path} names no QR format")
    return _REPLY_FORMATS[untrusted_note]  # one of two known names: safe


def show(args: argparse.Namespace) -> int:
    untrusted_data, _ = encoding.decode(read_input(args.file))
    psbt = Psbt.parse(untrusted_data)  # strict: we only ever display a well-formed PSBT
    data = untrusted_data  # now validated
    if not args.fps > 0:
        raise UsageError(Code.CLI_USAGE, "--fps must be a positive number")
    if not (args.out or args.gif or args.window):
        from psbtbridge.qr import window

        if not window.has_display():
            raise UsageError(
                Code.QR_NO_DISPLAY, "no display for the QR window: use --out DIR or --gif FILE"
            )
    qr_format = _reply_format(args)
    max_version = args.max_version
    if max_version is None:
        max_version = MAX_VERSION if qr_format is QrFormat.BASE43 else DEFAULT_MAX_VERSION
    animation = plan(data, qr_format, max_version)
    txid = psbt.unsigned_tx().txid_hex()
    summary = _describe(animation, txid)
    _note(summary)
    if args.out:
        from psbtbridge.qr import render

        paths = render.write_pngs(animation.frames, animation.version, Path(args.out))
        _note(f"wrote {len(paths)} frames to {args.out}")
    elif args.gif:
        from psbtbridge.qr import render

        render.write_gif(animation.frames, animation.version, Path(args.gif), args.fps)
        _note(f"wrote {args.gif}")
    else:
        from psbtbridge.qr import window

        window.show(animation, args.fps, summary.replace(", ", "\n"))
    return 0


def _describe(animation: Animation, txid: str) -> str:
    return (
        f"{animation.format.value}, {len(animation.psbt)}-byte PSBT, "
        f"{animation.fragments} fragment{'' if animation.fragments == 1 else 's'}, "
        f"QR version {animation.version}, "
        f"request code {txid[:8]}, sha256 {sha256_prefix(animation.psbt)}, txid {txid}"
    )


def _frames(args: argparse.Namespace) -> Generator[str, None, None]:
    from psbtbridge.qr import capture

    if args.camera is not None:
        return capture.frames_from_camera(args.camera or None)
    return (text for _, text in capture.frames_from_images(args.images))


def scan(args: argparse.Namespace) -> int:
    if bool(args.images) == (args.camera is not None):
        raise UsageError(Code.CLI_USAGE, "give IMAGE files or --camera, not both and not neither")
    joiner = Joiner()
    last = (0, 0)
    frames = _frames(args)
    try:
        for untrusted_text in frames:
            joiner.receive(untrusted_text)
            if joiner.progress != last:
                last = joiner.progress
                _note(f"parts {last[0]}/{last[1]}")
            if joiner.result is not None:
                break
    finally:
        frames.close()  # stops the camera, also when a frame is refused
    if joiner.result is None:
        have, need = joiner.progress
        raise InvalidInput(
            Code.QR_INCOMPLETE, f"only {have} of {need} parts scanned: scan more frames"
        )
    assert joiner.format is not None  # set by the first frame
    output = _validated_output(joiner.result, args.output)
    write_output(args.output, output)
    reply = joiner.format.reply
    if args.output and args.output != "-":
        write_atomic(
            Path(args.output + FORMAT_NOTE_SUFFIX), reply.value.encode() + b"\n", mode=0o644
        )
    detail = f" ({joiner.detail})" if joiner.detail else ""
    _note(
        f"scanned {joiner.format.value}{detail}: {joiner.result.kind.value} of"
        f" {len(joiner.result.data)} bytes, sha256 {joiner.result.sha256}; reply with"
        f" --format {reply.value}"
    )
    return 0


def _validated_output(payload: Payload, path: str | None) -> bytes:
    """Strictly parse what was scanned, then encode it for writing."""
    if payload.kind is PayloadKind.PSBT:
        Psbt.parse(payload.data)
        binary = path is not None and path.endswith(".psbt")
        return payload.data if binary else encoding.encode(payload.data, encoding.Encoding.BASE64)
    Tx.parse(payload.data)
    binary = path is not None and path.endswith(".txn")
    return payload.data if binary else payload.data.hex().encode("ascii") + b"\n"
