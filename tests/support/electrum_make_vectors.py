"""Regenerate the Electrum wallet files of tests/vectors/electrum with Debian's Electrum (4.3.4), regtest.

Run: /usr/bin/python3 tests/support/electrum_make_vectors.py OUT_DIR   (Electrum's interpreter)
The tests read the committed files and never run this. Seeds are new each run: commit the
wallets and seeds.json together. The single-sig seed wallets are made as `electrum
restore` makes them (restore_wallet_from_text); the BIP39 and multisig ones as the GUI
wizard does (keystore.from_bip43_rootseed / from_seed(is_p2sh=True), x1/.. keystores,
WalletDB.write), since Electrum's command line cannot restore those.
"""

import json
import os
import secrets
import sys

from electrum import constants, keystore, mnemonic
from electrum.keystore import bip39_is_checksum_valid, bip39_to_seed
from electrum.simple_config import SimpleConfig
from electrum.storage import StorageEncryptionVersion, WalletStorage
from electrum.util import create_and_start_event_loop
from electrum.wallet import Wallet, restore_wallet_from_text
from electrum.wallet_db import WalletDB

BIP39 = "legal winner thank year wave sausage worth useful legal winner thank yellow"
BIP39_DERIVATION = "m/84'/1'/0'"
PASSWORD = "correct horse battery staple"
EXTENSION = "my seed extension"


def make_seed(seed_type):
    return mnemonic.Mnemonic("en").make_seed(seed_type=seed_type)


def wizard_wallet(config, path, data, keystores, password=None):
    """base_wizard.on_password + create_storage: keystores dumped, db written."""
    for k in keystores:
        if password and k.may_have_password():
            k.update_password(None, password)
    storage = WalletStorage(path)
    if password:
        storage.set_password(password, enc_version=StorageEncryptionVersion.USER_PASSWORD)
    db = WalletDB("", manual_upgrades=False)
    db.set_keystore_encryption(bool(password))
    for key, value in data.items():
        db.put(key, value)
    if data["wallet_type"] == "standard":
        db.put("keystore", keystores[0].dump())
    else:
        for i, k in enumerate(keystores):
            db.put(f"x{i + 1}/", k.dump())
    db.write(storage)
    wallet = Wallet(db, storage, config=config)
    wallet.synchronize()
    wallet.save_db()


def ambiguous_phrase():
    """A 12-word phrase valid both as BIP39 (checksum) and as an Electrum segwit seed."""
    words = mnemonic.Mnemonic("en").wordlist
    while True:
        phrase = " ".join(secrets.choice(words) for _ in range(12))
        if mnemonic.seed_type(phrase) == "segwit" and bip39_is_checksum_valid(phrase)[0]:
            return phrase


def main():
    out = sys.argv[1]
    constants.set_regtest()
    config = SimpleConfig({"regtest": True, "offline": True, "electrum_path": out + "/.electrum"})
    loop, stop_loop, loop_thread = create_and_start_event_loop()
    seeds = {
        "segwit_encrypted": make_seed("segwit"),
        "standard": make_seed("standard"),
        "segwit_extension": make_seed("segwit"),
        "multisig_x1": make_seed("segwit"),
        "multisig_x2": make_seed("segwit"),
        "multisig_x3": make_seed("segwit"),
    }
    try:
        # `electrum restore SEED -W PASSWORD` (the file is encrypted by default)
        restore_wallet_from_text(
            seeds["segwit_encrypted"],
            path=out + "/segwit_encrypted.wallet",
            config=config,
            password=PASSWORD,
            encrypt_file=True,
        )
        restore_wallet_from_text(seeds["standard"], path=out + "/standard.wallet", config=config)
        # `electrum restore SEED --passphrase EXT -W PASSWORD --encrypt_file false`
        restore_wallet_from_text(
            seeds["segwit_extension"],
            path=out + "/segwit_extension.wallet",
            config=config,
            passphrase=EXTENSION,
            password=PASSWORD,
            encrypt_file=False,
        )
        # `electrum restore VPRV`: a master (depth 0) key of the BIP39 root, native segwit
        root = keystore.BIP32Node.from_rootseed(bip39_to_seed(BIP39, ""), xtype="p2wpkh")
        restore_wallet_from_text(root.to_xprv(), path=out + "/xprv.wallet", config=config)
        # GUI: restore, BIP39 seed, native segwit at m/84'/1'/0'
        k = keystore.from_bip43_rootseed(bip39_to_seed(BIP39, ""), BIP39_DERIVATION, "p2wpkh")
        wizard_wallet(
            config, out + "/bip39.wallet", {"wallet_type": "standard", "seed_type": "bip39"}, [k]
        )
        # GUI: multisig 2-of-3, x1 from an Electrum seed (p2wsh at m/1'), x2 and x3 as Vpubs
        cosigners = [keystore.from_seed(seeds[f"multisig_x{i}"], "", True) for i in (1, 2, 3)]
        for mine in (1, 2):
            keystores = [
                c if i == mine else keystore.from_master_key(c.xpub)
                for i, c in enumerate(cosigners, 1)
            ]
            wizard_wallet(
                config, out + f"/multisig_x{mine}.wallet", {"wallet_type": "2of3"}, keystores
            )
    finally:
        loop.call_soon_threadsafe(stop_loop.set_result, 1)
        loop_thread.join(timeout=1)
    seeds["ambiguous"] = ambiguous_phrase()
    seeds["bip39"] = BIP39
    document = {
        "electrum_version": __import__("electrum").version.ELECTRUM_VERSION,
        "password": PASSWORD,
        "extension": EXTENSION,
        "bip39_derivation": BIP39_DERIVATION,
        "seeds": seeds,
    }
    with open(os.path.join(out, "seeds.json"), "w") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
