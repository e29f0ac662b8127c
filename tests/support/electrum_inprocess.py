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
  create  a new WALLET as the GUI's wizard writes it, from JSON on stdin (the CLI restores
          neither a BIP39 seed nor a multisig wallet):
          {"bip39": WORDS, "derivation": "m/84'/1'/0'"}: native segwit at that path;
          {"threshold": M, "seeds": [ELECTRUM SEED...], "mine": I}: a p2wsh M-of-n wallet,
          keystore xI from its seed, the others from their seeds' master public keys
          (I = 0: watch-only). Then opened once, as the GUI does after its wizard.
Loads the wallet the way `electrum --offline` does (run_electrum: run_offline_command).
"""

import inspect
import json
import sys

from electrum import constants, keystore
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.transaction import Transaction, tx_from_any
from electrum.util import create_and_start_event_loop
from electrum.wallet import Wallet
from electrum.wallet_db import WalletDB

#: 4.3: WalletDB(data, manual_upgrades=False) and Wallet(db, storage, config=...);
#: 4.5: WalletDB(data, storage=..., upgrade=True) and Wallet(db, config=...) (the db knows
#: its storage), and the wizard is a class of its own (electrum.wizard.NewWalletWizard).
ELECTRUM_43 = "manual_upgrades" in inspect.signature(WalletDB).parameters


def load(config, path):
    storage = WalletStorage(path)
    if ELECTRUM_43:
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


def _seed_keystore(seed):
    """A multisig cosigner's keystore from its Electrum seed (4.3 names the flag is_p2sh)."""
    if ELECTRUM_43:
        return keystore.from_seed(seed, "", is_p2sh=True)
    return keystore.from_seed(seed, passphrase="", for_multisig=True)


def _create_43(path, spec):
    """base_wizard.create_storage: the keystores dumped (multisig ones as x1/, x2/, ...),
    the db written."""
    db = WalletDB("", manual_upgrades=False)
    if "bip39" in spec:
        root_seed = keystore.bip39_to_seed(spec["bip39"], "")
        k = keystore.from_bip43_rootseed(root_seed, spec["derivation"], "p2wpkh")
        db.put("wallet_type", "standard")
        db.put("seed_type", "bip39")
        db.put("keystore", k.dump())
    else:
        seeds = spec["seeds"]
        db.put("wallet_type", f"{spec['threshold']}of{len(seeds)}")
        for i, seed in enumerate(seeds, 1):
            k = _seed_keystore(seed)
            if i != spec["mine"]:
                k = keystore.from_master_key(k.xpub)
            db.put(f"x{i}/", k.dump())
    db.write(WalletStorage(path))


def _create_45(path, spec):
    """Electrum 4.5's own wizard (NewWalletWizard.create_storage), with the data its pages
    collect."""
    from electrum.wizard import NewWalletWizard

    data = {"password": None, "encrypt": False, "seed_extra_words": ""}
    if "bip39" in spec:
        data |= {
            "wallet_type": "standard",
            "keystore_type": "haveseed",
            "seed": spec["bip39"],
            "seed_type": "bip39",
            "derivation_path": spec["derivation"],
            "script_type": "p2wpkh",
        }
    else:
        cosigners = []
        for i, seed in enumerate(spec["seeds"], 1):
            if i == spec["mine"]:
                cosigners.append(
                    {"keystore_type": "haveseed", "seed": seed, "seed_type": "segwit"}
                    | {"seed_variant": "electrum", "seed_extra_words": ""}
                )
            else:
                xpub = _seed_keystore(seed).xpub
                cosigners.append({"keystore_type": "masterkey", "master_key": xpub})
        data |= {
            "wallet_type": "multisig",
            "multisig_signatures": spec["threshold"],
            "multisig_participants": len(cosigners),
            "multisig_cosigner_data": {str(i): c for i, c in enumerate(cosigners[1:], 2)},
            **cosigners[0],
        }
    NewWalletWizard(None, None).create_storage(path, data)


def create(config, path, text):
    (_create_43 if ELECTRUM_43 else _create_45)(path, json.loads(text))
    wallet = load(config, path)
    wallet.synchronize()
    wallet.save_db()
    return path


def main():
    action, datadir, path = sys.argv[1:4]
    constants.set_regtest()
    config = SimpleConfig({"regtest": True, "offline": True, "electrum_path": datadir})
    # Electrum's callbacks (e.g. on an added transaction) need its event loop running.
    loop, stop_loop, loop_thread = create_and_start_event_loop()
    try:
        text = sys.stdin.read()
        if action == "create":
            result = create(config, path, text)
        else:
            result = {"status": status, "add": add}[action](load(config, path), text)
    finally:
        loop.call_soon_threadsafe(stop_loop.set_result, 1)
        loop_thread.join(timeout=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
