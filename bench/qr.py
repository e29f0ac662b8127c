"""Animated-QR cost per PSBT size: frames needed, encode, render and scan time, UR next to BBQr-Z.

Run: .venv/bin/python bench/qr.py [--version V]
For PSBTs of about 0.5, 5 and 35 KB (Coinkite's BBQr test files) both formats are planned
at the same QR version limit; every frame of the file loop is rendered to PNG and read back
through Pillow + pyzbar + our joiner. Ratios are against references measured in this run:
UR frames / BBQr frames, and scan time / encode+render time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psbtbridge.qr import capture, render
from psbtbridge.qr.animation import DEFAULT_MAX_VERSION, plan
from psbtbridge.qr.joiner import Joiner, QrFormat

DATA = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "bbqr" / "test_data"
FILES = ("1in2out.psbt", "1in100out.psbt", "1in1000out.psbt")


def measure(psbt: bytes, qr_format: QrFormat, version: int) -> dict[str, float]:
    started = time.perf_counter()
    animation = plan(psbt, qr_format, version)
    encoded = time.perf_counter()
    pngs = [render.png_bytes(render.render(f, animation.version)) for f in animation.frames]
    rendered = time.perf_counter()
    joiner = Joiner()
    for n, png in enumerate(pngs):
        for text in capture.decode_image(png, f"frame {n}"):
            joiner.receive(text)
    scanned = time.perf_counter()
    assert joiner.result is not None and joiner.result.data == psbt
    return {
        "needed": animation.fragments,
        "loop": len(animation.frames),
        "version": animation.version,
        "encode_ms": (encoded - started) * 1000,
        "render_ms": (rendered - encoded) * 1000,
        "scan_ms": (scanned - rendered) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=DEFAULT_MAX_VERSION, help="max QR version")
    args = parser.parse_args()
    print(f"max QR version {args.version}, ECC L; times for all frames of the file loop")
    header = (
        f"{'PSBT':>8} {'format':>6} {'need':>5} {'loop':>5} {'ver':>4} {'encode ms':>10}"
        f" {'render ms':>10} {'scan ms':>9} {'scan ms/frame':>14} {'scan/(enc+rend)':>16}"
    )
    print(header)
    ratios = []
    for name in FILES:
        psbt = (DATA / name).read_bytes()
        rows = {fmt: measure(psbt, fmt, args.version) for fmt in (QrFormat.UR, QrFormat.BBQR)}
        for fmt, row in rows.items():
            made = row["encode_ms"] + row["render_ms"]
            print(
                f"{len(psbt):>8} {fmt.value:>6} {row['needed']:>5.0f} {row['loop']:>5.0f}"
                f" {row['version']:>4.0f} {row['encode_ms']:>10.1f} {row['render_ms']:>10.1f}"
                f" {row['scan_ms']:>9.1f} {row['scan_ms'] / row['loop']:>14.1f}"
                f" {row['scan_ms'] / made:>16.2f}"
            )
        ratio = rows[QrFormat.UR]["needed"] / rows[QrFormat.BBQR]["needed"]
        ratios.append((len(psbt), ratio))
    print()
    for size, ratio in ratios:
        print(f"{size:>8}-byte PSBT: UR needs {ratio:.2f}x the frames BBQr-Z needs at this version")


if __name__ == "__main__":
    main()
