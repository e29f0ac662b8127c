#!/usr/bin/env python3
"""A misbehaving cold service, for PSBTBRIDGE_SHIM_COMMAND: what `psbt send` must refuse.

Usage (the shim appends the service argument, ignored here):
  fake_signer.py other FILE      answer with FILE's bytes (another transaction), exit 0
  fake_signer.py tamper SERVICE  run the real SERVICE on the request, then flip one bit in
                                 the r value of input 0's first partial signature
                                 (still strict DER, no longer valid), exit with its status
  fake_signer.py empty           read the request, answer nothing, exit 0
"""

from __future__ import annotations

import subprocess
import sys

from embit.psbt import PSBT


def tamper(answer: bytes) -> bytes:
    psbt = PSBT.parse(answer)
    pubkey, signature = next(iter(psbt.inputs[0].partial_sigs.items()))
    bad = bytearray(signature)
    bad[10] ^= 0x01
    psbt.inputs[0].partial_sigs[pubkey] = bytes(bad)
    tampered: bytes = psbt.serialize()
    return tampered


def main(argv: list[str]) -> int:
    request = sys.stdin.buffer.read()
    mode = argv[0]
    if mode == "other":
        with open(argv[1], "rb") as other:
            sys.stdout.buffer.write(other.read())
        return 0
    if mode == "tamper":
        real = subprocess.run([argv[1]], input=request, capture_output=True, check=False)
        sys.stderr.buffer.write(real.stderr)
        if real.returncode == 0:
            sys.stdout.buffer.write(tamper(real.stdout))
        return real.returncode
    if mode == "empty":
        return 0
    sys.stderr.write(f"fake_signer.py: unknown mode {mode!r}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
