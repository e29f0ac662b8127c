"""Electrum's own QR text code, run by Electrum's interpreter (4.3 or 4.5), lines in, lines out.

Usage: PYTHON tests/support/electrum_qr.py ACTION < INPUT
PYTHON: Electrum's own interpreter (electrum_harness.PYTHON_ARGV).
  encode  hex lines: each as bitcoin.base_encode(data, base=43)
  decode  base43 lines: each as bitcoin.base_decode(text, base=43), in hex
  export  base64 PSBT lines: each as the transaction dialog's "Show as QR code" text,
          Transaction.to_qr_data (4.3 returns the text, 4.5 the text and a flag)
  read    QR texts: what "Read QR code" makes of each (transaction.tx_from_any, through
          convert_raw_tx_to_hex), as the hex of the bytes it read, then " psbt" or " tx"
"""

import sys

from electrum.bitcoin import base_decode, base_encode
from electrum.transaction import PartialTransaction, convert_raw_tx_to_hex, tx_from_any


def export(line):
    data = tx_from_any(line).to_qr_data()
    return data[0] if isinstance(data, tuple) else data


def read(line):
    tx = tx_from_any(line)
    kind = "psbt" if isinstance(tx, PartialTransaction) else "tx"
    return f"{convert_raw_tx_to_hex(line)} {kind}"


ACTIONS = {
    "encode": lambda line: base_encode(bytes.fromhex(line), base=43),
    "decode": lambda line: base_decode(line, base=43).hex(),
    "export": export,
    "read": read,
}

if __name__ == "__main__":
    action = ACTIONS[sys.argv[1]]
    for line in sys.stdin.read().split():
        print(action(line))
