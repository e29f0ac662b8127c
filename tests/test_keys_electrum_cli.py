"""`psbt keys init` with Electrum seeds and `psbt keys import-electrum`, end to end with the
real Electrum (Debian's 4.3.4, regtest, offline).

The wallet files and seeds in tests/vectors/electrum were made by Electrum itself. For each,
the user's existing watch-only wallet is made as electrum-hot has it (`electrum restore`
of the wallet's master public key; a multisig one as Electrum's wizard writes it from the
cosigners' keys), funded, and asked for an unsigned PSBT; each cold home (imported from the
words, from the file, or both) signs it with `psbt sign --confirm policy`; Electrum must call
the result signed, and python-bitcointx verifies every final transaction on its own.
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
    electrum_run,
    electrum_status,
    funding_tx,
    regtest_electrum,
    restore_bare,
    root_key,
    sign_with_electrum,
)
from tests.support.psbt_cli import PSBT, environment, run_psbt, run_psbt_on_tty

VECTORS = Path(__file__).parent / "vectors" / "electrum"
MADE: dict[str, Any] = json.loads((VECTORS / "seeds.json").read_text())
SEEDS: dict[str, str] = MADE["seeds"]
MULTISIG_WATCH_ONLY = Path(__file__).parent / "support" / "electrum_multisig_watch_only.py"
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
#: vector -> how its cold homes are made: from the words, from the wallet file, or both.
IMPORTS: dict[str, tuple[str, ...]] = {
    "segwit_encrypted": ("words", "file"),
    "standard": ("words", "file"),
    "segwit_extension": ("words", "file"),
    "bip39": ("words", "file"),
    "xprv": ("file",),
    "multisig_x1": ("file",),
}
HOMES = [(vector, how) for vector, hows in IMPORTS.items() for how in hows]


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _secret_file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text + "\n")
    return str(path)


def _import(folder: Path, vector: str, how: str) -> Path:
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
        wallet = folder / f"{vector}.wallet"
        shutil.copy(VECTORS / f"{vector}.wallet", wallet)
        password = _secret_file(folder, "electrum-pass.txt", MADE["password"])
        args = ["keys", "import-electrum", str(wallet), "--password-file", password, *common]
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


def _hot(folder: Path, vector: str) -> HotWallet:
    """The user's electrum-hot wallet: watch-only, from the master public key(s) alone."""
    electrum = regtest_electrum(folder / f"electrum-{vector}")
    wallet = folder / f"hot-{vector}.wallet"
    parsed = read_wallet((VECTORS / f"{vector}.wallet").read_bytes(), MADE["password"], NETWORK)
    if parsed.multisig is None:
        restore_bare(electrum, wallet, parsed.ours.electrum_xpub)
    else:
        document = json.loads((VECTORS / f"{vector}.wallet").read_text())
        xpubs = [document[f"x{i}/"]["xpub"] for i in (1, 2, 3)]
        datadir = electrum.argv[electrum.argv.index("-D") + 1]
        subprocess.run(
            ["/usr/bin/python3", str(MULTISIG_WATCH_ONLY), datadir, str(wallet), "2", *xpubs],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
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
def homes(folder: Path) -> dict[tuple[str, str], Path]:
    return _parallel(lambda item: _import(folder, *item), HOMES)


@pytest.fixture(scope="module")
def hot(folder: Path) -> dict[str, HotWallet]:
    return _parallel(lambda vector: _hot(folder, vector), list(IMPORTS))


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
    folder: Path,
) -> None:
    one = hot[vector]
    psbt = signed[(vector, how)]
    if vector.startswith("multisig"):
        status = electrum_status(one.electrum, one.wallet, psbt.encode())
        assert (status["complete"], status["status"]) == (False, "Partially signed (1/2)")
        # the second cosigner signs in its own Electrum, from its own seed wallet
        cosigner = folder / f"cosigner-{how}.wallet"
        shutil.copy(VECTORS / "multisig_x2.wallet", cosigner)
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
) -> None:
    """The audit record of each signing shows the change output proven ours."""
    parsed = read_wallet((VECTORS / f"{vector}.wallet").read_bytes(), MADE["password"], NETWORK)
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


def test_words_and_file_give_the_same_wallet(homes: dict[tuple[str, str], Path]) -> None:
    """The file's one wallet is among the words' (BIP39 words give all four BIP44/49/84/86)."""
    for vector, hows in IMPORTS.items():
        if hows == ("words", "file"):
            words, file = (
                json.loads(_ok(run_psbt(homes[(vector, how)], "keys", "export", "--json")))
                for how in hows
            )
            (wallet,) = file["wallets"]
            assert wallet in words["wallets"], vector


@pytest.mark.parametrize("vector", list(IMPORTS))
def test_export_shows_the_xpub_electrum_hot_has(
    vector: str, homes: dict[tuple[str, str], Path]
) -> None:
    parsed = read_wallet((VECTORS / f"{vector}.wallet").read_bytes(), MADE["password"], NETWORK)
    text = _ok(run_psbt(homes[(vector, "file")], "keys", "export"))
    assert parsed.ours.electrum_xpub in text


def test_the_wallet_file_is_left_unchanged(
    folder: Path, homes: dict[tuple[str, str], Path]
) -> None:
    for vector in IMPORTS:
        assert (folder / f"{vector}.wallet").read_bytes() == (
            VECTORS / f"{vector}.wallet"
        ).read_bytes()


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


def test_wrong_password_is_refused(tmp_path: Path) -> None:
    for vector in ("segwit_encrypted", "segwit_extension"):
        folder = tmp_path / vector
        folder.mkdir()
        password = _secret_file(folder, "pw.txt", "not it")
        wallet = str(VECTORS / f"{vector}.wallet")
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


def test_hardware_wallet_file_is_refused(tmp_path: Path) -> None:
    document = json.loads((VECTORS / "standard.wallet").read_text())
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


def test_electrum_itself_reads_the_fake_hardware_file_the_same_way(tmp_path: Path) -> None:
    """The control: Electrum opens our edited file as a hardware wallet (so the refusal above
    is about the keystore type, not a broken file)."""
    electrum = regtest_electrum(tmp_path / "electrum")
    document = json.loads((VECTORS / "standard.wallet").read_text())
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


def test_password_and_multisig_are_asked_on_the_terminal(tmp_path: Path) -> None:
    """No --password-file, no --yes: the password, the cosigners' check and the new
    keystore passphrase are all asked on the terminal; a "no" writes nothing."""
    wallet = str(VECTORS / "multisig_x1.wallet")
    args = ["keys", "import-electrum", wallet, "--network", NETWORK.value, "--no-encryption"]
    declined = tmp_path / "declined"
    declined.mkdir()
    run = run_psbt_on_tty(declined, [("Type yes", "no")], *args)
    assert run.status == 1 and "[wallet.declined]" in run.screen
    assert list(declined.iterdir()) == []
    encrypted = tmp_path / "encrypted"
    encrypted.mkdir()
    shutil.copy(VECTORS / "segwit_encrypted.wallet", encrypted.parent / "s.wallet")
    dialogue = [
        ("Password of", MADE["password"]),
        ("New keystore passphrase", "p"),
        ("Repeat", "p"),
    ]
    run = run_psbt_on_tty(
        encrypted, dialogue, "keys", "import-electrum", str(encrypted.parent / "s.wallet"),
        "--network", NETWORK.value,
    )  # fmt: skip
    assert run.status == 0, run.screen
    assert json.loads((encrypted / "keystore.json").read_text())["kind"] == "electrum_seed"
