"""`psbt finalize [FILE|-] [-o OUT] [--psbt]`: a fully signed PSBT to a raw transaction (hex).

Every input is finalized, the transaction extracted, and every input's scripts run through
the independent verifier (psbtbridge/verify/, python-bitcointx's interpreter) before a byte
is written: a transaction that would not spend its outputs is refused, not written.
"""

from __future__ import annotations

import argparse

from psbtbridge import encoding
from psbtbridge.errors import ExitStatus
from psbtbridge.files import read_input, write_output
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.finalize import extract, finalize, spent_outputs
from psbtbridge.verify import verify_final_tx


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="signed PSBT (binary, base64 or hex); - is stdin",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="write here instead of stdout")
    parser.add_argument(
        "--psbt",
        action="store_true",
        help="write the finalized PSBT (in the input's encoding) instead of the transaction hex",
    )


def run(args: argparse.Namespace) -> int:
    untrusted_data, how = encoding.decode(read_input(args.file))
    psbt = finalize(Psbt.parse(untrusted_data))
    tx = extract(psbt)
    verify_final_tx(tx.serialize(), [(out.script_pubkey, out.value) for out in spent_outputs(psbt)])
    if args.psbt:
        data = encoding.encode(psbt.serialize(), how)
    else:
        data = tx.serialize().hex().encode("ascii") + b"\n"
    write_output(args.output, data)
    return ExitStatus.OK
