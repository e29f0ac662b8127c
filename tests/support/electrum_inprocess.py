"""Electrum's own code where its command line has no command; run by Electrum's interpreter.

Usage: PYTHON tests/support/electrum_inprocess.py ACTION DATADIR WALLET (regtest, offline)
PYTHON: Electrum's own interpreter (electrum_harness.PYTHON_ARGV); Electrum 4.3 or 4.5.
  status  a PSBT or transaction on stdin: what Electrum's transaction dialog makes of it
          after "Load transaction" (add the wallet's info, then is_complete / get_tx_info),
          as JSON {"complete", "status", "tx"}; "tx" is Electrum's own finalized
          transaction in hex when complete. The CLI cannot do this: `signtransaction`
          returns a watch-only wallet's PSBT untouched and `deserialize` judges nothing.
  add     raw transactions in hex on stdin, one a line: each added to the wallet's history
          as `addtransaction` does, in one process instead of one process (~1 s) each.
Loads the wallet the way `electrum --offline` does (run_electrum: run_offline_command).
"""

import inspect
import json
import sys

from electrum import constants
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.transaction import Transaction, tx_from_any
from electrum.util import create_and_start_event_loop
from electrum.wallet import Wallet
from electrum.wallet_db import WalletDB


def load(datadir, path):
    constants.set_regtest()
    config = SimpleConfig({"regtest": True, "offline": True, "electrum_path": datadir})
    storage = WalletStorage(path)
    # The same load in the two APIs: 4.3 WalletDB(data, manual_upgrades=False) and
    # Wallet(db, storage, config=...); 4.5 WalletDB(data, storage=..., upgrade=True) and
    # Wallet(db, config=...) (the db knows its storage).
    if "manual_upgrades" in inspect.signature(WalletDB).parameters:
        return Wallet(WalletDB(storage.read(), manual_upgrades=False), storage, config=config)
    return Wallet(WalletDB(storage.read(), storage=storage, upgrade=True), config=config)


def status(wallet, text):
    tx = tx_from_any(text.strip())
    tx.deserialize()
    tx.add_info_from_wallet(wallet)
    complete = tx.is_complete()
    return {
        "complete": complete,
        "status": wallet.get_tx_info(tx).status,
        "tx": tx.serialize() if complete else None,
    }


def add(wallet, text):
    added = []
    for line in text.split():
        tx = Transaction(line)
        if not wallet.adb.add_transaction(tx):
            raise SystemExit(f"Electrum did not add {tx.txid()}")
        added.append(tx.txid())
    wallet.save_db()
    return added


def main():
    action, datadir, path = sys.argv[1:4]
    # Electrum's callbacks (e.g. on an added transaction) need its event loop running.
    loop, stop_loop, loop_thread = create_and_start_event_loop()
    try:
        wallet = load(datadir, path)
        result = {"status": status, "add": add}[action](wallet, sys.stdin.read())
    finally:
        loop.call_soon_threadsafe(stop_loop.set_result, 1)
        loop_thread.join(timeout=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
