"""`psbt keys init` and `psbt keys export`, run as the real console script."""

from __future__ import annotations

import json
import re
from pathlib import Path

from embit.bip32 import HDKey
from embit.descriptor import Descriptor
from embit.networks import NETWORKS

from cold.commands.keys import CLEAR_SCREEN
from cold.keystore import load_keystore, mnemonic_to_seed, normalize_mnemonic, unlock
from tests.support.psbt_cli import run_psbt, run_psbt_on_tty

ABANDON = " ".join(["abandon"] * 11 + ["about"])
PASSPHRASE = "tr0ub4dor&3"


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def shown_words(screen: str) -> str:
    """The numbered words as printed (4 columns, numbered down each column)."""
    numbered = {int(n): word for n, word in re.findall(r"(\d+)\. ([a-z]+)", screen)}
    return " ".join(numbered[n] for n in sorted(numbered))  # the same words if shown again


def fingerprint_of(mnemonic: str, bip39_passphrase: str = "") -> str:
    return str(HDKey.from_seed(mnemonic_to_seed(mnemonic, bip39_passphrase)).my_fingerprint.hex())


def test_generate_without_terminal_shows_words_on_stderr_only(home: Path) -> None:
    result = run_psbt(home, "keys", "init", "--network", "regtest", "--no-encryption")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "UNENCRYPTED" in result.stderr
    words = shown_words(result.stderr)
    assert len(words.split()) == 24
    assert normalize_mnemonic(words) == words
    export = run_psbt(home, "keys", "export", "--json")
    assert export.returncode == 0, export.stderr
    assert json.loads(export.stdout)["master_fingerprint"] == fingerprint_of(words)
    assert (home / "keystore.json").stat().st_mode & 0o777 == 0o600


def word_asked(screen: str) -> str:
    """The word of the mnemonic shown on screen that the last `Word N:` prompt asks for."""
    position = int(re.findall(r"Word (\d+): ", screen)[-1])
    return shown_words(screen).split()[position - 1]


WRITTEN_DOWN = "Have you written them all down?"


def test_generate_on_a_terminal_asks_the_passphrase_twice(home: Path) -> None:
    """Then shows the words, asks whether they are on paper, checks two, clears the screen."""
    run = run_psbt_on_tty(
        home,
        [
            ("New keystore passphrase:", PASSPHRASE),
            ("Repeat it:", PASSPHRASE),
            (WRITTEN_DOWN, "y"),  # neither yes nor no: asked again
            ("whole word yes or no", "yes"),
            ("Word ", word_asked),
            ("Word ", word_asked),
        ],
        "keys",
        "init",
        "--generate",
        "--network",
        "signet",
    )
    assert run.status == 0, run.screen
    assert PASSPHRASE not in run.screen  # no echo
    words = shown_words(run.screen)
    keystore = load_keystore(home)
    assert keystore.encrypted
    assert unlock(keystore, PASSPHRASE).fingerprint.hex() == fingerprint_of(words)
    assert run.screen.count(CLEAR_SCREEN) >= 2  # before the check, and after it
    assert words.split()[0] not in run.screen.rsplit(CLEAR_SCREEN, 1)[1]


def test_words_not_written_down_or_typed_wrong_store_nothing(home: Path) -> None:
    args = ("keys", "init", "--network", "regtest", "--no-encryption")
    run = run_psbt_on_tty(home, [(WRITTEN_DOWN, "no")], *args)
    assert run.status == 1 and "[keys.not_written_down]" in run.screen
    assert CLEAR_SCREEN in run.screen.split(WRITTEN_DOWN)[-1]
    assert not (home / "keystore.json").exists()
    wrong = [(WRITTEN_DOWN, "yes"), ("Word ", "zzz"), ("Word ", "zzz")] * 3
    run = run_psbt_on_tty(home, wrong, *args)
    assert run.status == 1 and "[keys.words_mismatch]" in run.screen, run.screen
    assert run.screen.count("here they are again") == 2
    assert not (home / "keystore.json").exists()


def test_mismatched_passphrases_are_asked_again(home: Path) -> None:
    run = run_psbt_on_tty(
        home,
        [
            ("passphrase:", "one"),
            ("Repeat it:", "two"),
            ("passphrase:", PASSPHRASE),
            ("Repeat it:", PASSPHRASE),
            (WRITTEN_DOWN, "yes"),
            ("Word ", word_asked),
            ("Word ", word_asked),
        ],
        "keys",
        "init",
        "--network",
        "regtest",
    )
    assert run.status == 0, run.screen
    assert "The two passphrases differ; please type them again." in run.screen
    assert unlock(load_keystore(home), PASSPHRASE)


def test_mismatched_passphrases_three_times_write_nothing(home: Path) -> None:
    run = run_psbt_on_tty(
        home,
        [("passphrase:", "one"), ("Repeat it:", "two")] * 3,
        "keys",
        "init",
        "--network",
        "regtest",
    )
    assert run.status == 2
    assert "[keystore.passphrase_mismatch]" in run.screen
    assert not (home / "keystore.json").exists()


def test_no_terminal_and_no_passphrase_file_is_refused(home: Path) -> None:
    result = run_psbt(home, "keys", "init", "--network", "regtest")
    assert result.returncode == 2
    assert "[keystore.no_tty]" in result.stderr
    assert not (home / "keystore.json").exists()


def test_import_then_export_json(home: Path, tmp_path: Path) -> None:
    result = run_psbt(
        home,
        "keys",
        "init",
        "--mnemonic-file",
        secret_file(tmp_path, "words", "  " + ABANDON.upper().replace(" ", "\n")),
        "--passphrase-file",
        secret_file(tmp_path, "pass", PASSPHRASE),
        "--network",
        "regtest",
    )
    assert result.returncode == 0, result.stderr
    assert "abandon" not in result.stderr.lower()  # an imported mnemonic is never shown
    assert "73c5da0a" in result.stderr
    export = run_psbt(home, "keys", "export", "--json")  # no passphrase needed
    assert export.returncode == 0, export.stderr
    document = json.loads(export.stdout)
    assert document["format"] == "psbtbridge-export/1"
    assert document["network"] == "regtest"
    assert document["master_fingerprint"] == "73c5da0a"
    assert [w["name"] for w in document["wallets"]] == ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr"]
    p2wpkh = document["wallets"][2]
    assert p2wpkh["electrum_xpub"].startswith("vpub")
    receive = Descriptor.from_string(p2wpkh["descriptors"]["receive"].split("#")[0])
    address = receive.derive(0).script_pubkey().address(NETWORKS["regtest"])
    assert address == "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"  # BIP84 m/84h/1h/0h/0/0
    text = run_psbt(home, "keys", "export")
    assert text.returncode == 0
    assert "p2wpkh: single-sig p2wpkh at m/84h/1h/0h" in text.stdout
    assert document["wallets"][2]["first_receive_address"] == address
    assert "first receive address  bcrt 1q6r z28m cfax" in text.stdout
    assert "Cosigner keys to give a multisig coordinator (BIP48)" in text.stdout
    assert "[73c5da0a/48h/1h/0h/2h]tpub" in text.stdout
    assert PASSPHRASE not in text.stdout + export.stdout


def test_init_never_overwrites(home: Path, tmp_path: Path) -> None:
    words = secret_file(tmp_path, "words", ABANDON)
    first = run_psbt(home, "keys", "init", "--mnemonic-file", words, "--no-encryption")
    assert first.returncode == 0, first.stderr
    before = (home / "keystore.json").read_bytes()
    again = run_psbt(home, "keys", "init", "--no-encryption")
    assert again.returncode == 4
    assert "[keystore.exists]" in again.stderr
    assert (home / "keystore.json").read_bytes() == before


def test_bad_mnemonic_file_writes_nothing(home: Path, tmp_path: Path) -> None:
    words = secret_file(tmp_path, "words", " ".join(["abandon"] * 12))
    result = run_psbt(home, "keys", "init", "--mnemonic-file", words, "--no-encryption")
    assert result.returncode == 3
    assert "[keystore.bad_mnemonic_checksum]" in result.stderr
    assert not (home / "keystore.json").exists()


def test_account_and_bip39_passphrase(home: Path, tmp_path: Path) -> None:
    result = run_psbt(
        home,
        "keys",
        "init",
        "--mnemonic-file",
        secret_file(tmp_path, "words", ABANDON),
        "--bip39-passphrase-file",
        secret_file(tmp_path, "b39", "TREZOR"),
        "--account",
        "2",
        "--network",
        "main",
        "--no-encryption",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(run_psbt(home, "keys", "export", "--json").stdout)
    assert document["master_fingerprint"] == fingerprint_of(ABANDON, "TREZOR") != "73c5da0a"
    assert [w["name"] for w in document["wallets"]][2] == "p2wpkh-2"
    assert document["wallets"][2]["derivation"] == "m/84h/0h/2h"
    assert document["wallets"][2]["electrum_xpub"].startswith("zpub")


def test_bad_account_and_missing_keystore(home: Path) -> None:
    bad = run_psbt(home, "keys", "init", "--account", "-1", "--no-encryption")
    assert bad.returncode == 2
    assert "[keystore.bad_account]" in bad.stderr
    missing = run_psbt(home, "keys", "export", "--json")
    assert missing.returncode == 4
    assert json.loads(missing.stdout)["code"] == "keystore.missing"
