"""`psbt keys init` with Electrum seeds and `psbt keys import-electrum`, end to end with the
real Electrum: Debian 12's 4.3.4 here, Debian 13's 4.5.8 in CI's Debian 13 root (through
tests/support/electrum_harness: ELECTRUM_ARGV and PYTHON_ARGV, regtest, offline).

The seeds in tests/vectors/electrum were made by Electrum 4.3.4. From them the Electrum under
test makes each kind of wallet file now (`electrum restore`, or its GUI wizard's code where
the command line cannot), in its own format (4.5: seed_version 59, JSON patches, `x1`); and
the committed 4.3.4 files are opened once by it (4.5 upgrades them, as on a user's first
start after moving to Debian 13). For each, the user's existing watch-only wallet is made as
electrum-hot has it (`electrum restore` of the wallet's master public key; a multisig one
from the cosigners' master public keys, as the wizard writes it), funded, and asked for an
unsigned PSBT; each cold home (imported from the words, from either file, or all three)
signs it with `psbt sign --confirm policy`; Electrum must call the result signed, and
python-bitcointx verifies every final transaction on its own.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from embit.psbt import PSBT as EmbitPsbt
from embit.script import p2wpkh

from cold.audit import read_records
from cold.keystore.electrum_file import read_wallet
from hot.electrum import Electrum
from psbtbridge.tx import Tx
from tests.support.electrum_harness import (
    COSIGNER_MNEMONICS,
    NETWORK,
    bitcointx_verify,
    create_with_wizard,
    electrum_run,
    electrum_status,
    electrum_version,
    funding_tx,
    open_once,
    read_wallet_file,
    regtest_electrum,
    restore_bare,
    root_key,
    sign_with_electrum,
)
from tests.support.psbt_cli import PSBT, environment, run_psbt, run_psbt_on_tty

VECTORS = Path(__file__).parent / "vectors" / "electrum"
MADE: dict[str, Any] = json.loads((VECTORS / "seeds.json").read_text())
SEEDS: dict[str, str] = MADE["seeds"]
PASSWORD: str = MADE["password"]
FUNDS = 50_000_000
EXTERNAL: str = p2wpkh(root_key(COSIGNER_MNEMONICS[1]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)
POLICY = f"""[unattended]
enabled = true
allowed_destinations = ["{EXTERNAL}"]
max_per_transaction = 10100000
max_per_24h = 100000000
refuse_on_warning = true
"""
#: vector -> how its cold homes are made: from the words, from the wallet file the Electrum
#: under test made ("file"), from the committed 4.3.4 file after it opened it ("upgraded").
IMPORTS: dict[str, tuple[str, ...]] = {
    "segwit_encrypted": ("words", "file", "upgraded"),
    "standard": ("words", "file", "upgraded"),
    "segwit_extension": ("words", "file", "upgraded"),
    "bip39": ("words", "file", "upgraded"),
    "xprv": ("file", "upgraded"),
    "multisig_x1": ("file", "upgraded"),
}
FILES = ("file", "upgraded")
HOMES = [(vector, how) for vector, hows in IMPORTS.items() for how in hows]
#: The wallets made with a password (the others have none).
WITH_PASSWORD = {"segwit_encrypted", "segwit_extension"}
MULTISIG_SEEDS = [SEEDS[f"multisig_x{i}"] for i in (1, 2, 3)]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _secret_file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text + "\n")
    return str(path)


def _password(vector: str) -> str:
    return PASSWORD if vector in WITH_PASSWORD else ""


def _make(electrum: Electrum, folder: Path, vector: str) -> Path:
    """Wallet file `vector` as the Electrum under test makes it from the committed seed, the
    way tests/support/electrum_make_vectors.py made the committed one with 4.3.4."""
    path = folder / f"{vector}.wallet"
    pw = ["--password", PASSWORD]  # 4.3 and 4.5 both take -W/--password on restore
    if vector in ("segwit_encrypted", "standard", "segwit_extension"):
        args = ["restore", SEEDS[vector], "-w", str(path)]
        if vector == "segwit_encrypted":
            args += pw  # the file is encrypted by default
        if vector == "segwit_extension":
            args += ["--passphrase", MADE["extension"], *pw, "--encrypt_file", "false"]
        electrum_run(electrum, *args)
    elif vector == "xprv":  # the depth-0 key of the BIP39 root, native segwit (a vprv)
        xprv = root_key(SEEDS["bip39"]).to_base58(version=NETWORK.params["zprv"])
        electrum_run(electrum, "restore", xprv, "-w", str(path))
    elif vector == "bip39":
        spec = {"bip39": SEEDS["bip39"], "derivation": MADE["bip39_derivation"]}
        create_with_wizard(electrum, path, spec)
    else:
        mine = int(vector.removeprefix("multisig_x"))
        create_with_wizard(electrum, path, {"threshold": 2, "seeds": MULTISIG_SEEDS, "mine": mine})
    return path


def _upgrade(electrum: Electrum, folder: Path, vector: str) -> Path:
    """The committed 4.3.4 file, opened once by the Electrum under test."""
    path = folder / f"{vector}.wallet"
    shutil.copy(VECTORS / f"{vector}.wallet", path)
    open_once(electrum, path, _password(vector))
    return path


@dataclass(frozen=True)
class WalletFile:
    path: Path
    content: bytes  # as Electrum left it, before any import


def _import(folder: Path, files: dict[tuple[str, str], WalletFile], vector: str, how: str) -> Path:
    """A cold home for one vector; the word homes with an encrypted keystore, to test both."""
    home = folder / f"cold-{vector}-{how}"
    home.mkdir()
    common = ["--network", NETWORK.value]
    if how == "words":
        words = _secret_file(folder, f"{vector}-words.txt", SEEDS[vector])
        args = ["keys", "init", "--mnemonic-file", words, *common]
        if vector == "segwit_extension":
            extension = _secret_file(folder, "extension.txt", MADE["extension"])
            args += ["--seed-passphrase-file", extension]
        args += ["--passphrase-file", _secret_file(folder, "keystore-pass.txt", "cold pass")]
    else:
        wallet = str(files[(vector, how)].path)
        password = _secret_file(folder, "electrum-pass.txt", PASSWORD)
        args = ["keys", "import-electrum", wallet, "--password-file", password, *common]
        args += ["--no-encryption", "--yes"]
    _ok(run_psbt(home, *args))
    (home / "policy.toml").write_text(POLICY)
    return home


@dataclass(frozen=True)
class HotWallet:
    electrum: Electrum
    wallet: Path
    funding: bytes
    unsigned: bytes  # base64


def _hot(folder: Path, files: dict[tuple[str, str], WalletFile], vector: str) -> HotWallet:
    """The user's electrum-hot wallet: watch-only, from the master public key(s) alone."""
    electrum = regtest_electrum(folder / f"electrum-{vector}")
    wallet = folder / f"hot-{vector}.wallet"
    made = files[(vector, "file")].path
    parsed = read_wallet(made.read_bytes(), PASSWORD, NETWORK)
    if parsed.multisig is None:
        restore_bare(electrum, wallet, parsed.ours.electrum_xpub)
    else:
        create_with_wizard(electrum, wallet, {"threshold": 2, "seeds": MULTISIG_SEEDS, "mine": 0})
    first = electrum.list_addresses(wallet)[0]
    funding = funding_tx(first, FUNDS, salt=len(vector))
    electrum.add_transaction(wallet, funding)
    unsigned = base64.b64encode(electrum.payto(wallet, [(EXTERNAL, "0.1")], 2.0))
    return HotWallet(electrum, wallet, funding, unsigned)


def _parallel(function: Callable[[Any], Any], items: list[Any]) -> dict[Any, Any]:
    """Each Electrum or psbt call is a process start of about a second: a few side by side."""
    with ThreadPoolExecutor(3) as pool:
        return dict(zip(items, pool.map(function, items), strict=True))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("electrum-keys")


@pytest.fixture(scope="module")
def files(folder: Path) -> dict[tuple[str, str], WalletFile]:
    """Every wallet file the imports read, made or upgraded by the Electrum under test
    (plus the multisig wallet's second cosigner, made)."""
    electrum = regtest_electrum(folder / "electrum-files")
    makers = {"file": _make, "upgraded": _upgrade}
    items = [(v, how) for v, hows in IMPORTS.items() for how in hows if how in FILES]
    items.append(("multisig_x2", "file"))
    for how in FILES:
        (folder / how).mkdir()

    def one(item: tuple[str, str]) -> WalletFile:
        vector, how = item
        path = makers[how](electrum, folder / how, vector)
        return WalletFile(path, path.read_bytes())

    return _parallel(one, items)


@pytest.fixture(scope="module")
def homes(folder: Path, files: dict[tuple[str, str], WalletFile]) -> dict[tuple[str, str], Path]:
    return _parallel(lambda item: _import(folder, files, *item), HOMES)


@pytest.fixture(scope="module")
def hot(folder: Path, files: dict[tuple[str, str], WalletFile]) -> dict[str, HotWallet]:
    return _parallel(lambda vector: _hot(folder, files, vector), list(IMPORTS))


def _sign(home: Path, psbt: bytes) -> str:
    args = ["sign", "--confirm", "policy"]
    if (home / "keystore.json").read_text().count('"kdf"'):
        args += ["--passphrase-file", str(home.parent / "keystore-pass.txt")]
    result = subprocess.run(
        [PSBT, *args], env=environment(home), input=psbt, capture_output=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().strip()


@pytest.fixture(scope="module")
def signed(
    homes: dict[tuple[str, str], Path], hot: dict[str, HotWallet]
) -> dict[tuple[str, str], str]:
    return _parallel(lambda item: _sign(homes[item], hot[item[0]].unsigned), HOMES)


@pytest.mark.parametrize(("vector", "how"), HOMES)
def test_electrum_accepts_what_the_imported_key_signed(
    vector: str,
    how: str,
    hot: dict[str, HotWallet],
    signed: dict[tuple[str, str], str],
    files: dict[tuple[str, str], WalletFile],
    folder: Path,
) -> None:
    one = hot[vector]
    psbt = signed[(vector, how)]
    if vector.startswith("multisig"):
        status = electrum_status(one.electrum, one.wallet, psbt.encode())
        assert (status["complete"], status["status"]) == (False, "Partially signed (1/2)")
        # the second cosigner signs in its own Electrum, from its own seed wallet
        cosigner = folder / f"cosigner-{how}.wallet"
        shutil.copy(files[("multisig_x2", "file")].path, cosigner)
        psbt = sign_with_electrum(one.electrum, cosigner, psbt)
    status = electrum_status(one.electrum, one.wallet, psbt.encode())
    assert (status["complete"], status["status"]) == (True, "Signed")
    final = bytes.fromhex(status["tx"])
    bitcointx_verify(final, {Tx.parse(one.funding).txid_hex(): one.funding})


#: How the watch-only wallet names our key in its PSBTs: Electrum >= 4 finds the root
#: fingerprint and path of a depth-0 or depth-1 master public key itself; deeper ones (a BIP39
#: account) it names by the xpub's own fingerprint, with paths from the account (m/c/i).
CLAIMED_PATH_DEPTH = {
    "segwit_encrypted": 3,
    "standard": 2,
    "segwit_extension": 3,
    "bip39": 2,
    "xprv": 2,
    "multisig_x1": 3,
}


@pytest.mark.parametrize("vector", list(IMPORTS))
def test_both_origin_styles_sign_and_prove_change(
    vector: str,
    hot: dict[str, HotWallet],
    homes: dict[tuple[str, str], Path],
    signed: dict[tuple[str, str], str],
    files: dict[tuple[str, str], WalletFile],
) -> None:
    """The audit record of each signing shows the change output proven ours."""
    parsed = read_wallet(files[(vector, "file")].content, PASSWORD, NETWORK)
    ours = parsed.ours.account
    psbt = EmbitPsbt.from_base64(hot[vector].unsigned.decode())
    claims = [
        d for d in psbt.inputs[0].bip32_derivations.values()
        if d.fingerprint in (ours.origin.fingerprint, ours.own_fingerprint)
    ]  # fmt: skip
    assert len(claims) == 1
    assert len(claims[0].derivation) == CLAIMED_PATH_DEPTH[vector]
    expected = ours.origin.fingerprint if len(claims[0].derivation) > 2 else ours.own_fingerprint
    assert claims[0].fingerprint == expected
    for how in IMPORTS[vector]:
        (record,) = [r.record for r in read_records(homes[(vector, how)])][-1:]
        assert sorted(o.kind for o in record.outputs) == ["change", "external"], (vector, how)


def test_words_and_files_give_the_same_wallet(homes: dict[tuple[str, str], Path]) -> None:
    """Both files give one wallet, the same, and it is among the words' (BIP39 words give all
    four BIP44/49/84/86)."""
    for vector, hows in IMPORTS.items():
        exports = {
            how: json.loads(_ok(run_psbt(homes[(vector, how)], "keys", "export", "--json")))
            for how in hows
        }
        (wallet,) = exports["file"]["wallets"]
        assert exports["upgraded"]["wallets"] == [wallet], vector
        if "words" in exports:
            assert wallet in exports["words"]["wallets"], vector


@pytest.mark.parametrize("vector", list(IMPORTS))
def test_export_shows_the_xpub_electrum_hot_has(
    vector: str, homes: dict[tuple[str, str], Path], files: dict[tuple[str, str], WalletFile]
) -> None:
    parsed = read_wallet(files[(vector, "file")].content, PASSWORD, NETWORK)
    for how in FILES:
        text = _ok(run_psbt(homes[(vector, how)], "keys", "export"))
        assert parsed.ours.electrum_xpub in text, how


def test_the_wallet_file_is_left_unchanged(
    files: dict[tuple[str, str], WalletFile], homes: dict[tuple[str, str], Path]
) -> None:
    for made in files.values():
        assert made.path.read_bytes() == made.content, made.path


#: The seed_version each Electrum writes (its json_db's FINAL_SEED_VERSION).
SEED_VERSION = {"4.3": 50, "4.5": 59}


def test_the_files_are_in_the_format_of_the_electrum_under_test(
    files: dict[tuple[str, str], WalletFile],
) -> None:
    """So the imports above read what this Electrum writes: 4.5's files upgraded from 4.3's
    carry JSON patches, and its multisig keystores are named x1, x2, x3."""
    expected = SEED_VERSION[electrum_version().rsplit(".", 1)[0]]
    for (vector, how), made in files.items():
        if vector != "segwit_encrypted":  # storage-encrypted: not JSON
            document = read_wallet_file(made.path)
            assert document["seed_version"] == expected, (vector, how)
            if vector.startswith("multisig"):
                assert ("x1" in document) == (expected >= 55), (vector, how)
    upgraded = files[("standard", "upgraded")].content
    assert (b'\n{"op": ' in upgraded) == (expected == 59)


def test_the_multisig_wallet_is_registered(homes: dict[tuple[str, str], Path]) -> None:
    listing = json.loads(_ok(run_psbt(homes[("multisig_x1", "file")], "wallet", "list", "--json")))
    (wallet,) = listing["wallets"]
    assert (wallet["name"], wallet["threshold"], wallet["keys"]) == ("electrum", 2, 3)
    assert wallet["descriptor"].startswith("wsh(sortedmulti(2,")


# --- refusals: each with its code and exit status, and no keystore written ------------------


def _refused(tmp_path: Path, args: list[str], code: str, status: int) -> None:
    home = tmp_path / "cold"
    home.mkdir()
    result = run_psbt(home, *args, "--network", NETWORK.value, "--no-encryption")
    assert result.returncode == status, result.stderr
    assert f"[{code}]" in result.stderr
    assert list(home.iterdir()) == []


def test_wrong_password_is_refused(
    tmp_path: Path, files: dict[tuple[str, str], WalletFile]
) -> None:
    for vector, how in [(v, how) for v in sorted(WITH_PASSWORD) for how in FILES]:
        folder = tmp_path / f"{vector}-{how}"
        folder.mkdir()
        password = _secret_file(folder, "pw.txt", "not it")
        wallet = str(files[(vector, how)].path)
        args = ["keys", "import-electrum", wallet, "--password-file", password]
        _refused(folder, args, "keys.wrong_password", 4)


def test_2fa_seed_is_refused(tmp_path: Path) -> None:
    words = _secret_file(
        tmp_path, "w.txt", "science dawn member doll dutch real can brick knife deny drive list"
    )
    _refused(tmp_path, ["keys", "init", "--mnemonic-file", words], "keys.electrum_2fa_seed", 1)


def test_ambiguous_phrase_is_refused(tmp_path: Path) -> None:
    words = _secret_file(tmp_path, "w.txt", SEEDS["ambiguous"])
    _refused(tmp_path, ["keys", "init", "--mnemonic-file", words], "keys.ambiguous_seed", 2)


def test_ambiguous_phrase_with_seed_type(tmp_path: Path) -> None:
    words = _secret_file(tmp_path, "w.txt", SEEDS["ambiguous"])
    for seed_type, script_type in (("bip39", "p2tr"), ("electrum", "p2wpkh")):
        home = tmp_path / seed_type
        home.mkdir()
        args = ["keys", "init", "--mnemonic-file", words, "--seed-type", seed_type]
        _ok(run_psbt(home, *args, "--network", NETWORK.value, "--no-encryption"))
        export = json.loads(_ok(run_psbt(home, "keys", "export", "--json")))
        assert export["wallets"][-1]["script_type"] == script_type


def test_hardware_wallet_file_is_refused(
    tmp_path: Path, files: dict[tuple[str, str], WalletFile]
) -> None:
    document = read_wallet_file(files[("standard", "file")].path)
    document["keystore"] = {
        "type": "hardware",
        "hw_type": "ledger",
        "label": "my ledger",
        "xpub": document["keystore"]["xpub"],
        "derivation": "m/44'/1'/0'",
        "root_fingerprint": "01020304",
    }
    wallet = tmp_path / "hardware.wallet"
    wallet.write_text(json.dumps(document))
    _refused(tmp_path, ["keys", "import-electrum", str(wallet)], "keys.electrum_hardware", 1)


def test_electrum_itself_reads_the_fake_hardware_file_the_same_way(
    tmp_path: Path, files: dict[tuple[str, str], WalletFile]
) -> None:
    """The control: Electrum opens our edited file as a hardware wallet (so the refusal above
    is about the keystore type, not a broken file)."""
    electrum = regtest_electrum(tmp_path / "electrum")
    document = read_wallet_file(files[("standard", "file")].path)
    document["keystore"]["type"] = "hardware"
    document["keystore"]["hw_type"] = "ledger"
    wallet = tmp_path / "hardware.wallet"
    wallet.write_text(json.dumps(document))
    assert electrum_run(electrum, "getmpk", "-w", str(wallet)) == document["keystore"]["xpub"]


def test_neither_bip39_nor_electrum(tmp_path: Path) -> None:
    words = _secret_file(tmp_path, "w.txt", "cram swing cover prefer miss modify ritual silly")
    _refused(tmp_path, ["keys", "init", "--mnemonic-file", words], "keystore.bad_mnemonic", 3)
    electrum = tmp_path / "electrum"
    electrum.mkdir()
    args = ["keys", "init", "--mnemonic-file", words, "--seed-type", "electrum"]
    _refused(electrum, args, "keys.not_electrum_seed", 3)


def test_password_and_multisig_are_asked_on_the_terminal(
    tmp_path: Path, files: dict[tuple[str, str], WalletFile]
) -> None:
    """No --password-file, no --yes: the password, the cosigners' check and the new
    keystore passphrase are all asked on the terminal; a "no" writes nothing."""
    wallet = str(files[("multisig_x1", "file")].path)
    args = ["keys", "import-electrum", wallet, "--network", NETWORK.value, "--no-encryption"]
    declined = tmp_path / "declined"
    declined.mkdir()
    run = run_psbt_on_tty(declined, [("Type yes", "no")], *args)
    assert run.status == 1 and "[wallet.declined]" in run.screen
    assert list(declined.iterdir()) == []
    encrypted = tmp_path / "encrypted"
    encrypted.mkdir()
    shutil.copy(files[("segwit_encrypted", "file")].path, encrypted.parent / "s.wallet")
    dialogue = [
        ("Password of", PASSWORD),
        ("New keystore passphrase", "p"),
        ("Repeat", "p"),
    ]
    run = run_psbt_on_tty(
        encrypted, dialogue, "keys", "import-electrum", str(encrypted.parent / "s.wallet"),
        "--network", NETWORK.value,
    )  # fmt: skip
    assert run.status == 0, run.screen
    assert json.loads((encrypted / "keystore.json").read_text())["kind"] == "electrum_seed"
