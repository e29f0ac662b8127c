"""Hot: `psbt address verify ADDRESS --to QUBE` asks the cold qube whether ADDRESS is ours.

The hot qube may be compromised, so its own wallet's word that an address is "yours"
proves nothing; the cold qube re-derives it from its wallets, shows the answer on its own
screen, and answers over psbtbridge.ShowAddress. Exit 0 ours, 1 not ours, 3 when the cold
side says it is not an address of its network.
"""

from __future__ import annotations

import argparse
import json
import sys

from hot.qrexec_client import call_signer
from psbtbridge.address import group_address
from psbtbridge.errors import Code, ExitStatus, Refused
from psbtbridge.show_address import (
    MAX_ANSWER,
    SERVICE,
    check_address_text,
    encode_request,
    parse_answer,
    request_digest,
)


def run(args: argparse.Namespace) -> int:
    address = check_address_text(args.address)
    digest = request_digest(address)
    sys.stderr.write(
        f"Asking {args.to} about {group_address(address)} (request code {digest});"
        f" read the answer on {args.to}'s screen.\n"
    )
    answer = parse_answer(
        call_signer(args.to, digest, encode_request(address), cap=MAX_ANSWER, service=SERVICE)
    )
    if not answer.ours:
        raise Refused(
            Code.ADDRESS_NOT_OURS, f"{args.to} says {address} is NOT OURS: do not give it out"
        )
    if args.json:
        document = {"ours": True, "address": address, "wallet": answer.wallet, "path": answer.path}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write(f"OURS ({args.to} says): {answer.wallet}  {answer.path}\n")
        sys.stdout.write(f"    {group_address(address)}\n")
    return ExitStatus.OK
