"""A watch-only m-of-n Electrum wallet from cosigner xpubs, as Electrum's wizard writes it.

Usage: /usr/bin/python3 tests/support/electrum_multisig_watch_only.py DATADIR PATH M XPUB...
(regtest, offline). Electrum's command line cannot create a multisig wallet; its GUI wizard
(base_wizard.on_password, create_storage) dumps one keystore per cosigner as x1/, x2/, ...
"""

import sys

from electrum import constants, keystore
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.util import create_and_start_event_loop
from electrum.wallet import Wallet
from electrum.wallet_db import WalletDB


def main():
    datadir, path, threshold, *xpubs = sys.argv[1:]
    constants.set_regtest()
    config = SimpleConfig({"regtest": True, "offline": True, "electrum_path": datadir})
    loop, stop_loop, loop_thread = create_and_start_event_loop()
    try:
        storage = WalletStorage(path)
        db = WalletDB("", manual_upgrades=False)
        db.put("wallet_type", f"{threshold}of{len(xpubs)}")
        for i, xpub in enumerate(xpubs, 1):
            db.put(f"x{i}/", keystore.from_master_key(xpub).dump())
        db.write(storage)
        wallet = Wallet(db, storage, config=config)
        wallet.synchronize()
        wallet.save_db()
    finally:
        loop.call_soon_threadsafe(stop_loop.set_result, 1)
        loop_thread.join(timeout=1)


if __name__ == "__main__":
    main()
