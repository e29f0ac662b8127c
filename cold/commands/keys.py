"""`psbt keys init` creates or imports the seed; `psbt keys import-electrum` takes the key of
an Electrum wallet file; `psbt keys export` prints watch-only material.

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
from typing import Any, Final, TextIO

from cold.commands.wallet import confirm_on_tty, wallet_summary
from cold.confirm.tty import ask_yes_no, read_answer
from cold.keystore import (
    CIPHER,
    KIND_ACCOUNT_XPRV,
    KIND_BIP39,
    KIND_ELECTRUM_SEED,
    ImportedSecret,
    ask_passphrase,
    build_key_keystore,
    build_keystore,
    entropy_to_mnemonic,
    keystore_path,
    load_keystore,
    normalize_mnemonic,
    random_for_keystore,
    read_secret_file,
    write_new_keystore,
)
from cold.keystore.electrum_file import MAX_WALLET_FILE_SIZE, read_wallet
from cold.keystore.electrum_seed import SeedFormat, detect_format, electrum_seed
from cold.wallets import add_wallet, check_new, load_registry, registered_wallets
from psbtbridge.address import group_address
from psbtbridge.errors import Code, ConfigError, Declined, ExitStatus, InvalidInput, UsageError
from psbtbridge.files import read_bounded
from psbtbridge.home import data_home
from psbtbridge.network import Network
from psbtbridge.wallet import Wallet, electrum_xpub
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
    source.add_argument(
        "--mnemonic-file", metavar="FILE", help="import the words in FILE (BIP39 or Electrum seed)"
    )
    init.add_argument(
        "--seed-type",
        choices=[f.value for f in SeedFormat],
        default=SeedFormat.AUTO.value,
        help="how to read --mnemonic-file (auto: by its format; a phrase valid as both is refused)",
    )
    init.add_argument(
        "--seed-passphrase-file",
        "--bip39-passphrase-file",
        dest="seed_passphrase_file",
        metavar="FILE",
        help="BIP39 passphrase ('25th word') or Electrum seed extension from FILE",
    )
    init.add_argument(
        "--network",
        choices=Network.names(),
        default=Network.MAIN.value,
        help="the network of the keys and addresses; regtest, signet or test for trying it out",
    )
    init.add_argument(
        "--account", type=int, default=0, metavar="N", help="BIP44/49/84/86/48 account number"
    )
    secrecy = init.add_mutually_exclusive_group()
    secrecy.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="keystore passphrase from FILE (default: asked twice on the terminal)",
    )
    secrecy.add_argument(
        "--no-encryption", action="store_true", help="store the seed in clear (tests only)"
    )
    electrum = actions.add_parser(
        "import-electrum",
        help="import the key of an Electrum wallet file (the file is only read)",
        description="Import the secret of an Electrum wallet file (standard, BIP39-restored,"
        " xprv or multisig with one seed), re-encrypted under a keystore passphrase. For a"
        " multisig wallet, the wallet is registered after you confirm its cosigners.",
    )
    electrum.add_argument("wallet_file", metavar="WALLET_FILE")
    electrum.add_argument(
        "--password-file",
        metavar="FILE",
        help="the Electrum wallet's password from FILE (default: asked if it has one)",
    )
    electrum.add_argument(
        "--network",
        choices=Network.names(),
        default=Network.MAIN.value,
        help="the network of the wallet file's keys",
    )
    electrum.add_argument(
        "--name", default="electrum", metavar="NAME", help="name of a multisig wallet to register"
    )
    electrum.add_argument("--yes", action="store_true", help="register a multisig without asking")
    secrecy = electrum.add_mutually_exclusive_group()
    secrecy.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="keystore passphrase from FILE (default: asked twice on the terminal)",
    )
    secrecy.add_argument(
        "--no-encryption", action="store_true", help="store the key in clear (tests only)"
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
    if args.action == "import-electrum":
        return _import_electrum(args)
    return _export(args)


def _init(args: argparse.Namespace) -> int:
    home = data_home(os.environ)
    path = keystore_path(home)
    if path.exists():  # before any prompt; write_new_keystore checks again
        raise ConfigError(
            Code.KEYSTORE_EXISTS,
            f"a keystore already exists at {path}; move it away first (it may hold funds)",
        )
    seed_passphrase = ""
    if args.seed_passphrase_file is not None:
        seed_passphrase = read_secret_file(args.seed_passphrase_file)
    network = Network(args.network)
    data: bytes | None = None
    if args.mnemonic_file is not None:
        untrusted_phrase = read_secret_file(args.mnemonic_file)
        requested = SeedFormat(args.seed_type)
        if detect_format(untrusted_phrase, requested) is SeedFormat.ELECTRUM:
            data = _electrum_seed_keystore(args, untrusted_phrase, seed_passphrase, network)
            mnemonic = ""
        else:
            try:
                mnemonic = normalize_mnemonic(untrusted_phrase)
            except InvalidInput as error:
                if requested is not SeedFormat.AUTO:
                    raise
                # the same code, but say the phrase was not an Electrum seed either
                raise InvalidInput(
                    error.code, f"{error.message} (nor is it an Electrum 2.0+ seed)"
                ) from error
    elif args.seed_type == SeedFormat.ELECTRUM.value:
        raise UsageError(
            Code.CLI_USAGE, "--seed-type electrum needs --mnemonic-file: new seeds are BIP39"
        )
    else:
        mnemonic = entropy_to_mnemonic(secrets.token_bytes(32))
    if data is None:
        data = build_keystore(
            mnemonic,
            bip39_passphrase=seed_passphrase,
            network=network,
            account=args.account,
            passphrase=_new_passphrase(args),
            random_bytes=random_for_keystore(),
        )
    if args.mnemonic_file is None:
        _hand_over_mnemonic(mnemonic)  # before writing: no keystore whose backup is unchecked
    write_new_keystore(home, data)
    keystore = load_keystore(home)  # read back what is on disk
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


def _new_passphrase(args: argparse.Namespace) -> str | None:
    if args.no_encryption:
        return None
    if args.passphrase_file is not None:
        return read_secret_file(args.passphrase_file)
    return ask_passphrase("New keystore passphrase: ", confirm=True)


def _electrum_seed_keystore(
    args: argparse.Namespace, untrusted_phrase: str, extension: str, network: Network
) -> bytes:
    """An Electrum seed: its one account (p2pkh at m/ or p2wpkh at m/0h), as Electrum uses it."""
    if args.account != 0:
        raise UsageError(
            Code.KEYS_ACCOUNT_NOT_APPLICABLE,
            "an Electrum seed has one account (Electrum's own path): drop --account",
        )
    seed = electrum_seed(untrusted_phrase, extension)
    return build_key_keystore(
        ImportedSecret(KIND_ELECTRUM_SEED, seed.seed_bytes.hex()),
        network=network,
        script_type=seed.script_type,
        path=seed.derivation,
        multisig=False,
        passphrase=_new_passphrase(args),
        random_bytes=random_for_keystore(),
    )


def _import_electrum(args: argparse.Namespace) -> int:
    """Every check (file, password, cosigners, the user's yes) before anything is written."""
    home = data_home(os.environ)
    path = keystore_path(home)
    if path.exists():
        raise ConfigError(
            Code.KEYSTORE_EXISTS,
            f"a keystore already exists at {path}; move it away first (it may hold funds)",
        )
    network = Network(args.network)
    try:
        with open(args.wallet_file, "rb") as stream:
            untrusted_data = read_bounded(stream, MAX_WALLET_FILE_SIZE)
    except OSError as error:
        raise ConfigError(
            Code.KEYS_ELECTRUM_UNREADABLE, f"cannot read {args.wallet_file}: {error.strerror}"
        ) from error
    password = None
    if args.password_file is not None:
        password = read_secret_file(args.password_file)
    try:
        wallet = read_wallet(untrusted_data, password, network)
    except ConfigError as error:
        if error.code != Code.KEYS_PASSWORD_REQUIRED or password is not None:
            raise
        password = ask_passphrase(f"Password of {args.wallet_file}: ", confirm=False)
        wallet = read_wallet(untrusted_data, password, network)
    ours = wallet.ours
    if ours.seed is not None:
        secret = ImportedSecret(KIND_ELECTRUM_SEED, ours.seed.hex())
    else:
        origin = ours.account.origin
        secret = ImportedSecret(
            KIND_ACCOUNT_XPRV, ours.account_xprv(network), origin.path, origin.fingerprint
        )
    multisig = None
    if wallet.multisig is not None:
        pieces = wallet.multisig
        multisig = Wallet(
            args.name, pieces.script_type, pieces.threshold, pieces.keys, True, network
        )
        check_new(multisig, load_registry(home, network))
        sys.stderr.write(wallet_summary(multisig, ours.account))
        if not args.yes and not confirm_on_tty(
            "Import this key and register this wallet? Type yes: "
        ):
            raise Declined(Code.WALLET_DECLINED, f"wallet {multisig.name} was not registered")
    data = build_key_keystore(
        secret,
        network=network,
        script_type=ours.script_type,
        path=ours.account.origin.path,
        multisig=multisig is not None,
        passphrase=_new_passphrase(args),
        random_bytes=random_for_keystore(),
    )
    write_new_keystore(home, data)
    keystore = load_keystore(home)
    if multisig is not None:
        add_wallet(home, keystore, multisig)
    if keystore.encryption is None:
        sys.stderr.write(NO_ENCRYPTION_WARNING.format(path=path))
    kind = "Electrum seed" if ours.seed is not None else "account xprv"
    sys.stderr.write(
        f"Keystore written to {path}: the {kind} of {args.wallet_file} (left unchanged),"
        f" {ours.script_type.value} key [{ours.account.origin.descriptor_form()}], network"
        f" {network.value}.\nYour Electrum watch-only wallet has this master public key:"
        f" {ours.electrum_xpub}\n"
        + (f"Registered multisig wallet {multisig.name}.\n" if multisig is not None else "")
    )
    return ExitStatus.OK


#: Clear the screen and, where the terminal keeps one, its scrollback (xterm's ED 3).
CLEAR_SCREEN: Final = "\033[H\033[2J\033[3J"
#: How often the words may be shown and checked before `keys init` gives up.
WORD_CHECK_ROUNDS: Final = 3


def _mnemonic_text(mnemonic: str) -> str:
    """The words numbered in 4 columns, numbered down each column, with what they are."""
    words = mnemonic.split()
    rows = len(words) // 4
    lines = [
        "  ".join(f"{col * rows + row + 1:2}. {words[col * rows + row]:<9}" for col in range(4))
        for row in range(rows)
    ]
    return (
        "\nWrite these words down, in order, on paper. They are shown only this once and are\n"
        "the only backup of this wallet (together with the BIP39 passphrase, if you set one).\n\n"
        + "\n".join(line.rstrip() for line in lines)
        + "\n\n"
    )


def _hand_over_mnemonic(mnemonic: str) -> None:
    """Show the words once, on the terminal, and check two of them before anything is stored.

    Without a terminal (a script) they go to stderr, never stdout, unchecked.
    """
    try:
        tty_in = open("/dev/tty", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:
        sys.stderr.write(_mnemonic_text(mnemonic))
        sys.stderr.flush()
        return
    with tty_in, open("/dev/tty", "w", encoding="utf-8") as tty_out:
        try:
            _check_written_down(mnemonic.split(), tty_in, tty_out)
        finally:
            # the words must not stay on a screen (or in its scrollback) once checked
            tty_out.write(CLEAR_SCREEN)
            tty_out.flush()


def _check_written_down(words: list[str], tty_in: TextIO, tty_out: TextIO) -> None:
    """Raise Declined unless the user says the words are on paper and two read back right.

    The check asks after clearing the screen, so the answers come from the paper: a keystore
    whose only backup was mis-copied loses the coins with the machine.
    """
    chooser = secrets.SystemRandom()
    for round_number in range(1, WORD_CHECK_ROUNDS + 1):
        if round_number > 1:
            tty_out.write("That does not match the words; here they are again.\n")
        tty_out.write(_mnemonic_text(" ".join(words)))
        if not ask_yes_no(tty_in, tty_out, "Have you written them all down? Type yes or no: "):
            raise Declined(
                Code.KEYS_NOT_WRITTEN_DOWN,
                "the words were not written down: nothing was stored; run `psbt keys init`"
                " again with paper at hand (it makes new words)",
            )
        tty_out.write(CLEAR_SCREEN + "Check your paper: type two of the words.\n")
        right = True
        for position in sorted(chooser.sample(range(len(words)), 2)):
            tty_out.write(f"Word {position + 1}: ")
            tty_out.flush()
            try:
                answer = read_answer(tty_in)
            except KeyboardInterrupt:
                answer = None
            if answer is None:
                raise Declined(Code.KEYS_NOT_WRITTEN_DOWN, "no answer: nothing was stored")
            right = right and answer.strip().lower() == words[position]
        tty_out.write(CLEAR_SCREEN)
        if right:
            return
    raise Declined(
        Code.KEYS_WORDS_MISMATCH,
        f"the words typed did not match {WORD_CHECK_ROUNDS} times: nothing was stored",
    )


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
    if keystore.kind == KIND_BIP39:
        lines += ["", "Cosigner keys to give a multisig coordinator (BIP48):"]
    elif keystore.cosigner_keys:
        lines += ["", "This keystore's key in its multisig wallet (as Electrum shows it):"]
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
