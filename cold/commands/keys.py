"""`psbt keys init` creates or imports the seed; `psbt keys export` prints watch-only material.

A generated mnemonic is shown once, on the controlling terminal when there is one (else
on stderr), never on stdout: stdout may be a pipe or a file, and the words must only
ever reach the user's eyes and paper.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any, TextIO

from cold.keystore import (
    CIPHER,
    ask_passphrase,
    build_keystore,
    entropy_to_mnemonic,
    keystore_path,
    load_keystore,
    normalize_mnemonic,
    random_for_keystore,
    read_secret_file,
    write_new_keystore,
)
from cold.wallets import registered_wallets
from psbtbridge.address import group_address
from psbtbridge.errors import ConfigError, ExitStatus
from psbtbridge.home import data_home
from psbtbridge.network import Network
from psbtbridge.wallet import electrum_xpub
from psbtbridge.wallet.export import export_document

NO_ENCRYPTION_WARNING = (
    "WARNING: the seed is stored UNENCRYPTED. Anyone who can read {path} can spend"
    " every coin of this wallet. Use this only on a disposable test setup.\n"
)


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init",
        help="create (default) or import the seed",
        description="Create a new 24-word BIP39 seed (shown once on the terminal) or import"
        " one, and store it encrypted in the data home (PSBTBRIDGE_HOME).",
    )
    source = init.add_mutually_exclusive_group()
    source.add_argument(
        "--generate", action="store_true", help="new mnemonic from OS entropy (the default)"
    )
    source.add_argument("--mnemonic-file", metavar="F", help="import the BIP39 words in F")
    init.add_argument(
        "--bip39-passphrase-file", metavar="F", help="BIP39 passphrase ('25th word') from F"
    )
    init.add_argument("--network", choices=Network.names(), default=Network.MAIN.value)
    init.add_argument(
        "--account", type=int, default=0, metavar="N", help="BIP44/49/84/86/48 account (0)"
    )
    secrecy = init.add_mutually_exclusive_group()
    secrecy.add_argument(
        "--passphrase-file", metavar="F", help="keystore passphrase from F (else asked twice)"
    )
    secrecy.add_argument(
        "--no-encryption", action="store_true", help="store the seed in clear (tests only)"
    )
    export = actions.add_parser(
        "export",
        help="print watch-only descriptors and xpubs (no passphrase needed)",
        description="Print the watch-only material electrum-hot needs; contains no secret.",
    )
    export.add_argument("--json", action="store_true", help="psbtbridge-export/1 JSON")


def run(args: argparse.Namespace) -> int:
    if args.action == "init":
        return _init(args)
    return _export(args)


def _init(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    path = keystore_path(home)
    if path.exists():  # before any prompt; write_new_keystore checks again
        raise ConfigError(
            "keystore.exists",
            f"a keystore already exists at {path}; move it away first (it may hold funds)",
        )
    if args.mnemonic_file is not None:
        mnemonic = normalize_mnemonic(read_secret_file(args.mnemonic_file))
    else:
        mnemonic = entropy_to_mnemonic(secrets.token_bytes(32))
    bip39_passphrase = ""
    if args.bip39_passphrase_file is not None:
        bip39_passphrase = read_secret_file(args.bip39_passphrase_file)
    if args.no_encryption:
        passphrase = None
    elif args.passphrase_file is not None:
        passphrase = read_secret_file(args.passphrase_file)
    else:
        passphrase = ask_passphrase("New keystore passphrase: ", confirm=True)
    data = build_keystore(
        mnemonic,
        bip39_passphrase=bip39_passphrase,
        network=Network(args.network),
        account=args.account,
        passphrase=passphrase,
        random_bytes=random_for_keystore(),
    )
    write_new_keystore(home, data)
    keystore = load_keystore(home)  # read back what is on disk
    if args.mnemonic_file is None:
        _show_mnemonic(mnemonic)
    if keystore.encryption is None:
        sys.stderr.write(NO_ENCRYPTION_WARNING.format(path=path))
    else:
        sys.stderr.write(f"Encrypted with {keystore.encryption.kdf.name} and {CIPHER}.\n")
    sys.stderr.write(
        f"Keystore written to {path}: network {keystore.network.value}, master fingerprint"
        f" {keystore.master_fingerprint.hex()}, account {keystore.account}.\n"
        "Next: `psbt keys export` on this qube gives the watch-only wallets for electrum-hot.\n"
    )
    if args.mnemonic_file is not None:
        sys.stderr.write(f"The mnemonic is imported: destroy {args.mnemonic_file} securely.\n")
    return ExitStatus.OK


def _show_mnemonic(mnemonic: str) -> None:
    """Print the words once, numbered, on the terminal (stderr when there is none)."""
    words = mnemonic.split()
    rows = len(words) // 4
    lines = [
        "  ".join(f"{col * rows + row + 1:2}. {words[col * rows + row]:<9}" for col in range(4))
        for row in range(rows)
    ]
    text = (
        "\nWrite these words down, in order, on paper. They are shown only this once and are\n"
        "the only backup of this wallet (together with the BIP39 passphrase, if you set one).\n\n"
        + "\n".join(line.rstrip() for line in lines)
        + "\n\n"
    )
    try:
        tty: TextIO = open("/dev/tty", "w")  # noqa: SIM115 - closed below
    except OSError:
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    with tty:
        tty.write(text)


def _export(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    keystore = load_keystore(home)
    document = export_document(
        keystore.network, keystore.master_fingerprint, registered_wallets(home, keystore)
    )
    if args.json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return ExitStatus.OK
    lines = [
        f"Watch-only export: network {document['network']}, master fingerprint"
        f" {document['master_fingerprint']}. Contains no secret.",
    ]
    for wallet in document["wallets"]:
        lines += ["", *_describe(wallet)]
    lines += ["", "Cosigner keys to give a multisig coordinator (BIP48):"]
    for cosigner in keystore.cosigner_keys:
        key, script_type = cosigner.key, cosigner.script_type
        lines += [
            f"  {script_type.value:<11} [{key.origin.descriptor_form()}]{key.xpub}",
            f"  {'':<11} Electrum: {electrum_xpub(key.xpub, script_type, keystore.network)}",
        ]
    sys.stdout.write("\n".join(lines) + "\n")
    return ExitStatus.OK


def _describe(wallet: dict[str, Any]) -> list[str]:
    if wallet["kind"] == "single":
        head = f"{wallet['name']}: single-sig {wallet['script_type']} at {wallet['derivation']}"
        keys = [f"  xpub      {wallet['xpub']}"]
        if wallet["electrum_xpub"] not in (None, wallet["xpub"]):
            keys.append(f"  electrum  {wallet['electrum_xpub']}")
    else:
        order = "sortedmulti" if wallet["sorted"] else "multi, keys in this order"
        head = (
            f"{wallet['name']}: {wallet['threshold']}-of-{len(wallet['cosigners'])}"
            f" {wallet['script_type']} ({order})"
        )
        keys = [
            f"  cosigner  [{c['fingerprint']}] {c['derivation']}  {c['xpub']}"
            for c in wallet["cosigners"]
        ]
    return [
        head,
        *keys,
        f"  receive   {wallet['descriptors']['receive']}",
        f"  change    {wallet['descriptors']['change']}",
        f"  first receive address  {group_address(wallet['first_receive_address'])}",
    ]
