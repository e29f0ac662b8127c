"""UR fountain decoding cost: parts needed and decode time, caught from the start or mid-animation.

Run: .venv/bin/python bench/fountain.py [--fragments 100,300,1000] [--fragment-len 200]
A message of N fragments is shown as UR does (parts 1..N plain, then mixed). A scanner
that starts with part 1 sees plain parts first; one that starts at part 2N sees only
mixed parts, the case that needs elimination. Both miss a third of the parts and read the
rest out of order. The reference is the encoder making the same parts in the same run:
decoding costs that many times what showing them cost to compute.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psbtbridge.qr.fountain import FountainDecoder, FountainEncoder, Part


def caught(message: bytes, fragment_len: int, first: int, seed: int) -> tuple[list[Part], float]:
    """What a scanner starting at part `first` reads of 3N parts, and the encoder's seconds."""
    encoder = FountainEncoder(message, fragment_len, first_seq_num=first - 1)
    started = time.perf_counter()
    parts = [encoder.next_part() for _ in range(3 * encoder.seq_len)]
    encoded = time.perf_counter() - started
    shuffler = random.Random(seed)
    kept = [part for part in parts if shuffler.random() > 1 / 3]
    shuffler.shuffle(kept)
    return kept, encoded * len(kept) / len(parts)


def decode(message: bytes, parts: list[Part]) -> tuple[int, float, float]:
    """(parts needed, seconds in total, slowest part in seconds)."""
    decoder = FountainDecoder(len(message), 4096)
    total = slowest = 0.0
    for needed, part in enumerate(parts, 1):
        started = time.perf_counter()
        decoder.receive(part)
        spent = time.perf_counter() - started
        total += spent
        slowest = max(slowest, spent)
        if decoder.message is not None:
            assert decoder.message == message
            return needed, total, slowest
    raise SystemExit(f"not decoded from {len(parts)} parts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fragments", default="100,300,1000", help="comma-separated counts")
    parser.add_argument("--fragment-len", type=int, default=200)
    args = parser.parse_args()
    print(
        f"{'fragments':>9} {'start':>6} {'parts':>6} {'parts/N':>8} {'encode ms':>10}"
        f" {'decode ms':>10} {'slowest ms':>11} {'decode/encode':>14}"
    )
    for count in (int(c) for c in args.fragments.split(",")):
        message = random.Random(count).randbytes(count * args.fragment_len - 7)
        for label, first in (("first", 1), ("mid", 2 * count)):
            parts, encoded = caught(message, args.fragment_len, first, seed=count)
            needed, decoded, slowest = decode(message, parts)
            # the encoder's time for the parts the decoder actually read
            reference = encoded * needed / len(parts)
            print(
                f"{count:>9} {label:>6} {needed:>6} {needed / count:>8.2f}"
                f" {reference * 1000:>10.1f} {decoded * 1000:>10.1f} {slowest * 1000:>11.2f}"
                f" {decoded / reference:>14.2f}"
            )


if __name__ == "__main__":
    main()
