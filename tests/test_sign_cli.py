"""`psbt sign` as a user (or the qrexec service) runs it: the real command line, as a subprocess.

The signer must refuse every attack: each test below is one crafted PSBT, refused by
`psbt sign --confirm policy` with exit 1 and its own reason code, with nothing written to
stdout or to -o, the refusal in the audit log, and `psbt audit verify` still passing.
Every crafted PSBT is the honest request (`honest`, which signs) with one thing changed.
The same attacks, with their edge cases, run in-process in tests/test_analysis.py.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cold import audit
from cold.keystore import load_keystore
from psbtbridge.analysis import STRIPPED_BY_ELECTRUM_QR
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.encoding import Encoding, decode, encode
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.qr import base43
from psbtbridge.script import address_of
from psbtbridge.tx import Tx
from tests.conftest import load_vectors, screenshot
from tests.support.electrum_harness import electrum_qr
from tests.support.mounts import full_filesystem as full_tmpfs
from tests.support.mounts import read_only
from tests.support.psbt_cli import loaded_modules, run_psbt_on_tty
from tests.support.psbt_factory import (
    COSIGNER_MNEMONICS,
    PSBT,
    STRANGER_MNEMONIC,
    KeySet,
    Pay,
    Spend,
    bip32_entry,
    build_psbt,
    change_to,
    external,
    global_xpub,
    init_keystore,
    kv,
    mainnet,
    make_keyset,
    multisig_wallet,
    p2pkh,
    p2wpkh,
    pubkey_at,
    register,
    run_psbt,
    sighash_entry,
    taproot_with_tree,
)

H = HARDENED
PAY = 400_000
IN = 1_000_000
FEE = 2_000


def unattended_policy(settings: str = "") -> str:
    """Unattended signing on, paying external(1) only: the honest request passes it."""
    address = address_of(external(1, 0).script_pubkey, Network.REGTEST)
    return (
        settings
        + "[unattended]\nenabled = true\n"
        + f'allowed_destinations = ["{address}"]\n'
        + "max_per_transaction = 500000\nmax_per_24h = 1000000\n"
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    keys = make_keyset(tmp_path_factory.mktemp("sign_cli") / "home", registered=True)
    (keys.home / "policy.toml").write_text(unattended_policy())
    return keys


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    return KeySet(home, template.wallets, template.seed)


def honest(keys: KeySet, name: str = "p2wpkh", **spend: object) -> bytes:
    """Pay PAY to external(1) from a coin of IN sat, FEE sat fee, the rest as change."""
    wallet = keys.wallets[name]
    return build_psbt(
        [Spend(wallet, 0, 3, IN, **spend)],  # type: ignore[arg-type]
        [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)],
    )


def with_change(keys: KeySet, change: Pay, name: str = "p2wpkh") -> bytes:
    """The honest request with its change output replaced."""
    return build_psbt([Spend(keys.wallets[name], 0, 3, IN)], [external(1, PAY), change])


@dataclass(frozen=True)
class Run:
    status: int
    stdout: bytes
    stderr: str
    output: Path


def fresh_folder(keys: KeySet) -> Path:
    """A new folder next to the home for one run's request and output."""
    return Path(tempfile.mkdtemp(dir=keys.home.parent))


def sign_cli(keys: KeySet, data: bytes, *options: str) -> Run:
    folder = fresh_folder(keys)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(data)
    result = run_psbt(keys.home, "sign", str(request), "-o", str(output), *options)
    return Run(result.returncode, result.stdout, result.stderr.decode(), output)


def assert_refused(keys: KeySet, data: bytes, code: str, *options: str) -> Run:
    """Exit 1 naming code, nothing written, the refusal logged and the log intact."""
    before = len(audit.read_records(keys.home))
    run = sign_cli(keys, data, "--confirm", "policy", *options)
    assert run.status == 1, run.stderr
    assert run.stderr.endswith(f" [{code}]\n") and run.stderr.count("\n") == 1, run.stderr
    assert run.stdout == b"" and not run.output.exists()
    records = audit.read_records(keys.home)
    assert len(records) == before + 1
    assert (records[-1].record.decision, records[-1].record.reason) == ("refused", code)
    verify = run_psbt(keys.home, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    return run


def test_the_honest_request_signs(keys: KeySet) -> None:
    run = sign_cli(keys, honest(keys), "--confirm", "policy")
    assert run.status == 0, run.stderr
    digest = Psbt.parse(honest(keys)).unsigned_tx().digest()
    assert run.stdout == b""
    assert run.stderr == f"signed 1 of 1 inputs ({digest}) -> {run.output}\n"
    assert len(Psbt.parse(run.output.read_bytes()).inputs[0].partial_sigs) == 1
    assert list((keys.home / "signed").iterdir()) == []  # delivered: no copy left behind
    assert audit.read_records(keys.home)[-1].record.decision == "signed"


# --- one test per attack


def test_witness_utxo_disagreeing_with_the_previous_transaction(keys: KeySet) -> None:
    """The strict parser's job, not analysis': a PSBT whose PSBT_IN_WITNESS_UTXO differs
    from the output of its own PSBT_IN_NON_WITNESS_UTXO is invalid input (exit 3), refused
    before any decision is made, so there is no audit record."""
    wallet = keys.wallets["p2wpkh"]
    spk = wallet.derive(0, 3).script_pubkey
    lie = kv(0x01, b"", (IN - 500_000).to_bytes(8, "little") + bytes([len(spk)]) + spk)
    data = build_psbt(
        [Spend(wallet, 0, 3, IN, witness_utxo=False, extra=[lie])],
        [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)],
    )
    run = sign_cli(keys, data, "--confirm", "policy")
    assert run.status == 3
    assert run.stderr.endswith(" [psbt.witness_utxo_mismatch]\n")
    assert run.stdout == b"" and not run.output.exists()
    assert audit.read_records(keys.home) == []
    assert run_psbt(keys.home, "audit", "verify").returncode == 0


def test_segwit_input_without_its_previous_transaction(keys: KeySet) -> None:
    assert_refused(keys, honest(keys, full_tx=False), "proof.missing_non_witness_utxo")


@pytest.mark.parametrize(
    ("name", "code"),
    [("p2wpkh", "proof.missing_non_witness_utxo"), ("p2pkh", "proof.witness_utxo_non_segwit")],
)
def test_electrums_qr_code_is_refused_saying_what_to_do(keys: KeySet, name: str, code: str) -> None:
    """Electrum's "Show as QR code" (to_qr_data, real Electrum) keeps only the outputs the
    inputs spend, which proves no amount: refused, and the reason says how to send it."""
    full = honest(keys, name)
    (shown,) = electrum_qr("export", base64.b64encode(full).decode())
    stripped = base43.decode(shown)
    assert [i.non_witness_utxo for i in Psbt.parse(stripped).inputs] == [None]
    assert Psbt.parse(stripped).unsigned_tx() == Psbt.parse(full).unsigned_tx()
    run = assert_refused(keys, stripped, code)
    assert STRIPPED_BY_ELECTRUM_QR in run.stderr


def test_two_requests_claiming_different_amounts_for_one_coin(keys: KeySet) -> None:
    """Proven amounts are remembered when we sign (here a taproot coin, whose amount could
    have been only claimed); a later request claiming another amount for it is refused.
    (A claim alone is never remembered: tests/test_state_cli.py, issue 11 finding 3.)"""
    first = honest(keys, "p2tr", full_tx=True)
    assert sign_cli(keys, first, "--confirm", "policy").status == 0
    assert_refused(
        keys, honest(keys, "p2tr", full_tx=False, claimed_amount=IN - 1_000), "proof.amount_changed"
    )


def test_fake_change(keys: KeySet) -> None:
    key, origin = keys.wallets["p2wpkh"].derive(1, 3).pubkeys[0]
    stranger = Pay(external(9, 0).script_pubkey, IN - PAY - FEE, [bip32_entry(key, origin)])
    assert_refused(keys, with_change(keys, stranger), "proof.fake_change")


def seed_change(keys: KeySet, path: tuple[int, ...]) -> Pay:
    """Change to the seed's own key at path (hardened steps allowed), claimed as such."""
    pubkey = pubkey_at(keys.seed, path)
    origin = KeyOrigin(keys.seed.fingerprint, path)
    return Pay(p2wpkh(pubkey), IN - PAY - FEE, [bip32_entry(pubkey, origin)])


def test_change_at_a_hardened_index(keys: KeySet) -> None:
    change = seed_change(keys, (84 + H, 1 + H, H, 1, 3 + H))
    assert_refused(keys, with_change(keys, change), "proof.change_hardened")


@pytest.mark.parametrize("index", [2**31 - 1, 3 + 1000 + 1])
def test_change_beyond_the_window(keys: KeySet, index: int) -> None:
    change = change_to(keys.wallets["p2wpkh"], 1, index, IN - PAY - FEE)
    assert_refused(keys, with_change(keys, change), "proof.change_beyond_window")


def test_change_in_another_account(keys: KeySet) -> None:
    change = seed_change(keys, (84 + H, 1 + H, 1 + H, 1, 3))
    assert_refused(keys, with_change(keys, change), "proof.change_other_account")


def test_change_of_another_script_type(keys: KeySet) -> None:
    key, origin = keys.wallets["p2wpkh"].derive(1, 3).pubkeys[0]
    legacy = Pay(p2pkh(key), IN - PAY - FEE, [bip32_entry(key, origin)])
    assert_refused(keys, with_change(keys, legacy), "proof.change_script_type")


def test_taproot_change_with_a_hidden_script_tree(keys: KeySet) -> None:
    change = taproot_with_tree(keys.wallets["p2tr"], 1, 3, IN - PAY - FEE, disclose=False)
    assert_refused(keys, with_change(keys, change), "proof.change_script_tree")


def test_multisig_change_with_one_cosigner_swapped(keys: KeySet) -> None:
    real = keys.wallets["wsh"]
    forged = multisig_wallet(
        keys.home, "wsh", real.script_type, others=(COSIGNER_MNEMONICS[0], STRANGER_MNEMONIC)
    )
    change = change_to(forged, 1, 3, IN - PAY - FEE)
    assert_refused(keys, with_change(keys, change, "wsh"), "proof.multisig_change_mismatch")


@pytest.mark.parametrize("sighash", [0x02, 0x03, 0x81], ids=["NONE", "SINGLE", "ALL|ANYONECANPAY"])
def test_sighash_other_than_all(keys: KeySet, sighash: int) -> None:
    data = honest(keys, extra=[sighash_entry(sighash)])
    assert_refused(keys, data, "proof.sighash_not_allowed")


def test_duplicate_inputs(keys: KeySet) -> None:
    """The parser accepts one outpoint spent twice; analysis refuses it."""
    wallet = keys.wallets["p2wpkh"]
    twice = [Spend(wallet, 0, 3, IN // 2, salt=7) for _ in range(2)]
    data = build_psbt(twice, [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)])
    assert_refused(keys, data, "proof.duplicate_input")


def test_op_return_carrying_value(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, IN)],
        [
            external(1, PAY),
            Pay(b"\x6a\x02hi", 1_000),
            change_to(wallet, 1, 3, IN - PAY - FEE - 1_000),
        ],
    )
    assert_refused(keys, data, "proof.op_return_value")


def fee_request(keys: KeySet, spend: int, change: int) -> bytes:
    wallet = keys.wallets["p2wpkh"]
    return build_psbt(
        [Spend(wallet, 0, 3, spend)], [external(1, 20_000), change_to(wallet, 1, 3, change)]
    )


def test_fee_rate_above_the_limit(keys: KeySet) -> None:
    """20,000 sat on 141 vB: 142 sat/vB (limit 100), 2 % of the outputs, under max_fee."""
    assert_refused(keys, fee_request(keys, IN, IN - 20_000 - 20_000), "policy.fee_rate_too_high")


def test_fee_above_the_limit(keys: KeySet) -> None:
    (keys.home / "policy.toml").write_text(unattended_policy("max_fee = 1999\n"))
    assert_refused(keys, honest(keys), "policy.fee_too_high")


def test_fee_percent_above_the_limit(keys: KeySet) -> None:
    """5,000 sat of 25,000 sat of outputs: 20 % (limit 10 %), 35 sat/vB."""
    assert_refused(keys, fee_request(keys, 30_000, 5_000), "policy.fee_percent_too_high")


def test_negative_fee(keys: KeySet) -> None:
    change = change_to(keys.wallets["p2wpkh"], 1, 3, IN - PAY + 1)
    assert_refused(keys, with_change(keys, change), "proof.negative_fee")


def test_mainnet_paths_on_a_regtest_signer(keys: KeySet) -> None:
    assert_refused(keys, honest(keys, rewrite=mainnet), "proof.wrong_network")


def test_a_mainnet_global_xpub(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, IN)],
        [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)],
        global_extra=[global_xpub(Network.MAIN)],
    )
    assert_refused(keys, data, "proof.wrong_network")


@pytest.mark.parametrize("case", range(4))
def test_bip174_must_not_sign_vectors(keys: KeySet, case: int) -> None:
    """BIP174's fails_signer_checks as published (testnet keys of the BIP's roles): the
    structural checks refuse before ownership or network are even looked at."""
    vector = load_vectors("psbt/bip174.json")["fails_signer_checks"][case]
    code = (
        "proof.witness_utxo_non_segwit",
        "proof.redeem_script_mismatch",
        "proof.redeem_script_mismatch",
        "proof.witness_script_mismatch",
    )[case]
    assert_refused(keys, base64.b64decode(vector["psbt"]), code)


def test_our_p2pkh_input_with_a_witness_utxo(keys: KeySet) -> None:
    """BIP174 case 1, with our own key and its proving previous transaction."""
    spk = keys.wallets["p2pkh"].derive(0, 3).script_pubkey
    claim = kv(0x01, b"", IN.to_bytes(8, "little") + bytes([len(spk)]) + spk)
    assert_refused(keys, honest(keys, "p2pkh", extra=[claim]), "proof.witness_utxo_non_segwit")


@pytest.mark.parametrize(("name", "full_tx"), [("p2sh-p2wpkh", False), ("shwsh", True)])
def test_our_p2sh_input_with_another_redeem_script(keys: KeySet, name: str, full_tx: bool) -> None:
    """BIP174 cases 2 and 3 with our own keys: the scripts of index 4 on the coin at 3."""
    other = keys.wallets[name].derive(0, 4)
    assert other.redeem_script is not None
    entries = [kv(0x04, b"", other.redeem_script)]
    if other.witness_script is not None:
        entries.append(kv(0x05, b"", other.witness_script))
    data = honest(keys, name, full_tx=full_tx, scripts=False, extra=entries)
    assert_refused(keys, data, "proof.redeem_script_mismatch")


def test_our_p2wsh_input_with_another_witness_script(keys: KeySet) -> None:
    """BIP174 case 4 with our own multisig."""
    other = keys.wallets["wsh"].derive(0, 4)
    assert other.witness_script is not None
    data = honest(keys, "wsh", scripts=False, extra=[kv(0x05, b"", other.witness_script)])
    assert_refused(keys, data, "proof.witness_script_mismatch")


def test_unattended_signing_is_off_by_default(keys: KeySet) -> None:
    (keys.home / "policy.toml").unlink()
    assert_refused(keys, honest(keys), "policy.unattended_disabled")


# --- honest requests: every type signs, finalizes and verifies


@pytest.fixture(scope="module")
def cosigner(template: KeySet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first cosigner's own signer, with both multisig wallets registered."""
    home = tmp_path_factory.mktemp("cosigner") / "home"
    init_keystore(home, mnemonic=COSIGNER_MNEMONICS[0])
    for name in ("wsh", "shwsh"):
        register(home, template.wallets[name])
    (home / "policy.toml").write_text(unattended_policy())
    return home


@pytest.mark.parametrize("name", ["p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr", "wsh", "shwsh"])
def test_every_type_signs_finalizes_and_verifies(keys: KeySet, cosigner: Path, name: str) -> None:
    data = honest(keys, name)
    signed = run_psbt(keys.home, "sign", "-", "--confirm", "policy", stdin=data)
    assert signed.returncode == 0, signed.stderr
    if keys.wallets[name].is_multisig:
        signed = run_psbt(cosigner, "sign", "-", "--confirm", "policy", stdin=signed.stdout)
        assert signed.returncode == 0, signed.stderr
    final = run_psbt(keys.home, "finalize", stdin=signed.stdout)  # verifies every input
    assert final.returncode == 0, final.stderr
    tx = Tx.parse(bytes.fromhex(final.stdout.decode()))
    assert [o.value for o in tx.outputs] == [PAY, IN - PAY - FEE]


@pytest.mark.parametrize("encoding", list(Encoding))
def test_output_keeps_the_input_encoding(keys: KeySet, encoding: Encoding) -> None:
    request = encode(honest(keys), encoding)
    signed = run_psbt(keys.home, "sign", "--confirm", "policy", stdin=request)
    assert signed.returncode == 0, signed.stderr
    raw, how = decode(signed.stdout)
    assert how is encoding and signed.stdout == encode(raw, how)


def test_electrum_hints_zero_fingerprints_and_v2(keys: KeySet) -> None:
    """An Electrum wallet restored from the bare xpub, change with an unknown (zero) master
    fingerprint, in a version 2 PSBT: all understood, signed, finalized."""
    wallet = keys.wallets["p2wpkh"]
    own = wallet.keys[0].own_fingerprint
    data = build_psbt(
        [Spend(wallet, 0, 3, IN, rewrite=lambda o: KeyOrigin(own, o.path[-2:]))],
        [
            external(1, PAY),
            change_to(wallet, 1, 3, IN - PAY - FEE, rewrite=lambda o: KeyOrigin(bytes(4), o.path)),
        ],
        version=2,
    )
    signed = run_psbt(keys.home, "sign", "--confirm", "policy", stdin=data)
    assert signed.returncode == 0, signed.stderr
    assert audit.read_records(keys.home)[-1].record.outputs[1].kind == "change"
    assert run_psbt(keys.home, "finalize", stdin=signed.stdout).returncode == 0


# --- an encrypted keystore


@pytest.fixture(scope="module")
def locked_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("locked") / "home"
    init_keystore(home, passphrase="correct horse battery staple")
    (home / "policy.toml").write_text(unattended_policy())
    return home


@pytest.fixture
def locked(locked_template: Path, keys: KeySet, tmp_path: Path) -> KeySet:
    """A fresh copy of a keystore encrypted with the passphrase in passphrase.txt."""
    home = tmp_path / "locked" / "home"
    shutil.copytree(locked_template, home)
    shutil.copy(locked_template.parent / "passphrase.txt", home.parent / "passphrase.txt")
    return KeySet(home, keys.wallets, keys.seed)


def test_encrypted_keystore_signs_with_its_passphrase_file(locked: KeySet) -> None:
    secret = locked.home.parent / "passphrase.txt"
    run = sign_cli(locked, honest(locked), "--confirm", "policy", "--passphrase-file", str(secret))
    assert run.status == 0, run.stderr
    assert Psbt.parse(run.output.read_bytes()).inputs[0].partial_sigs


def test_encrypted_keystore_with_a_wrong_or_no_passphrase_signs_nothing(locked: KeySet) -> None:
    """A failed unlock is not a decision about the transaction: exit 4, nothing written."""
    wrong = locked.home.parent / "wrong.txt"
    wrong.write_text("incorrect horse\n")
    run = sign_cli(locked, honest(locked), "--confirm", "policy", "--passphrase-file", str(wrong))
    assert (run.status, run.stdout, run.output.exists()) == (4, b"", False)
    assert run.stderr.endswith(" [keystore.bad_passphrase]\n")
    run = sign_cli(locked, honest(locked), "--confirm", "policy")
    assert (run.status, run.stdout, run.output.exists()) == (4, b"", False)
    assert run.stderr.endswith(" [keystore.passphrase_required]\n")
    assert audit.signed_spends(audit.read_records(locked.home)) == []


# --- a person confirming: on a terminal, in a dialog


def tty_sign(
    keys: KeySet, data: bytes, answer: str, then: str | None = None
) -> tuple[int, str, Path]:
    """then: the answer to type when the question is asked again."""
    folder = fresh_folder(keys)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(data)
    again = [("whole word yes or no", then)] if then is not None else []
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign: ", answer), *again],
        "sign", str(request), "-o", str(output), "--confirm", "tty",
    )  # fmt: skip
    return run.status, run.screen, output


def test_terminal_yes_signs(keys: KeySet) -> None:
    status, screen, output = tty_sign(keys, honest(keys), "yes")
    assert status == 0, screen
    assert "CHANGE back to this wallet  m/84h/1h/0h/1/3" in screen
    assert output.exists()
    assert audit.read_records(keys.home)[-1].record.decision == "signed"


def test_terminal_shows_the_wallet_its_inputs_and_what_leaves(keys: KeySet) -> None:
    """Issue 14 items 7 and 8: the request code by that name; the wallet with m-of-n and the
    signatures after this one; every input; RBF, locktime; what leaves, fee included."""
    data = honest(keys, "wsh")
    status, screen, _ = tty_sign(keys, data, "no")
    assert status == 1
    code = Psbt.parse(data).unsigned_tx().digest()
    assert f"Request code: {code}" in screen and f"Request code {code}. Type yes" in screen
    assert "Digest" not in screen
    assert "wsh (2-of-3 p2wsh multisig; after this: 1 of 2 signatures)" in screen
    assert "Inputs:   1, 0.01000000 BTC (1,000,000 sat)" in screen
    assert "Inputs (1):" in screen and "ours: wsh m/48h/1h/0h/2h/0/3" in screen
    assert "Leaving:  0.00402000 BTC (402,000 sat), fee included" in screen
    assert "RBF:" in screen and "Locktime: none" in screen


@pytest.mark.parametrize("answer", ["no", "YES", "y", ""])
def test_terminal_anything_but_yes_declines(keys: KeySet, answer: str) -> None:
    """`no` declines at once; `y`, `YES` or an empty line is asked again (then `no`)."""
    status, screen, output = tty_sign(keys, honest(keys), answer, None if answer == "no" else "no")
    assert status == 1, screen
    assert ("whole word yes or no" in screen) == (answer != "no")
    assert "[confirm.declined]" in screen
    assert not output.exists()
    record = audit.read_records(keys.home)[-1].record
    assert (record.decision, record.reason) == ("declined", "confirm.declined")
    assert run_psbt(keys.home, "audit", "verify").returncode == 0


def test_terminal_y_then_yes_signs(keys: KeySet) -> None:
    """A `y` neither signs nor throws the review away: the next `yes` signs."""
    status, screen, output = tty_sign(keys, honest(keys), "y", "yes")
    assert status == 0, screen
    assert screen.count("Type yes to sign: ") == 2 and output.exists()


def test_terminal_shows_a_coin_already_signed_into_another_transaction(keys: KeySet) -> None:
    assert sign_cli(keys, honest(keys), "--confirm", "policy").status == 0
    wallet = keys.wallets["p2wpkh"]
    bump = build_psbt(
        [Spend(wallet, 0, 3, IN)], [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - 2 * FEE)]
    )
    status, screen, _ = tty_sign(keys, bump, "no")
    assert status == 1
    assert "was already signed into another transaction" in screen
    # unattended, that warning is a refusal (refuse_on_warning is on by default)
    assert_refused(keys, bump, "policy.warning_unattended")


def test_a_payment_to_our_own_receive_address_signs_unattended(keys: KeySet) -> None:
    """Issue 14 item 9: Electrum's "pay to my own address" is a transfer to self, not a
    warning, as long as the address lies inside the receive window; past it, a warning."""
    wallet = keys.wallets["p2wpkh"]

    def to_self(index: int, coin: int = 3) -> bytes:
        return build_psbt(
            [Spend(wallet, 0, coin, IN)],
            [change_to(wallet, 0, index, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)],
        )

    run = sign_cli(keys, to_self(5), "--confirm", "policy")
    assert run.status == 0, run.stderr
    assert_refused(keys, to_self(500), "policy.warning_unattended")
    # another coin than the one just signed, which would be shown as signed before
    status, screen, _ = tty_sign(keys, to_self(5, coin=4), "no")
    assert status == 1 and "SELF-TRANSFER to this wallet  m/84h/1h/0h/0/5" in screen
    assert "WARNING" not in screen


def xdo(*args: str) -> str:
    return subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, check=True, timeout=15
    ).stdout


def gui_sign(keys: KeySet, display: str, data: bytes, act: Callable[[], None]) -> Run:
    """`psbt sign --confirm gui` on display; act() plays the user once the dialog shows."""
    folder = fresh_folder(keys)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    process = subprocess.Popen(
        [PSBT, "sign", str(request), "-o", str(output), "--confirm", "gui"],
        env={**env, "PSBTBRIDGE_HOME": str(keys.home), "DISPLAY": display},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        xdo("search", "--sync", "--onlyvisible", "--name", "^psbtbridge: sign request")
        act()
        stdout, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    return Run(process.returncode, stdout, stderr.decode(), output)


def test_dialog_escape_declines(keys: KeySet, xdisplay: str) -> None:
    def look_then_escape() -> None:
        time.sleep(0.5)
        screenshot(xdisplay, "sign_dialog")
        xdo("key", "Escape")

    run = gui_sign(keys, xdisplay, honest(keys), look_then_escape)
    assert run.status == 1, run.stderr
    assert run.stderr.endswith(" [confirm.declined]\n")
    assert run.stdout == b"" and not run.output.exists()
    record = audit.read_records(keys.home)[-1].record
    assert (record.decision, record.reason) == ("declined", "confirm.declined")


def test_dialog_sign_button_signs(keys: KeySet, xdisplay: str) -> None:
    def wait_then_sign() -> None:
        time.sleep(2.3)  # Sign is dead for 2 s after the dialog appears
        xdo("key", "--delay", "50", "Tab", "space")  # Decline -> Sign

    run = gui_sign(keys, xdisplay, honest(keys), wait_then_sign)
    assert run.status == 0, run.stderr
    assert Psbt.parse(run.output.read_bytes()).inputs[0].partial_sigs


def test_dialog_with_six_outputs_signs_only_after_all_were_shown(
    keys: KeySet, xdisplay: str
) -> None:
    """Issue 14 item 8: two of six outputs lie below the box; Sign waits until they were
    scrolled into view, however long the user waits."""
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, IN)],
        [*(external(n, 100_000) for n in range(1, 6)), change_to(wallet, 1, 3, IN - 500_000 - FEE)],
    )

    def click_sign(window: str) -> None:
        shell = xdo("getwindowgeometry", "--shell", window).split()
        geometry = dict(line.split("=") for line in shell)
        x, y = int(geometry["WIDTH"]) - 30, int(geometry["HEIGHT"]) - 25
        xdo("mousemove", "--window", window, str(x), str(y), "click", "1")

    def scroll_then_sign() -> None:
        window = xdo("search", "--onlyvisible", "--name", "^psbtbridge: sign request").split()[0]
        time.sleep(2.5)  # past the 2 s delay: only the unseen outputs hold Sign back now
        click_sign(window)
        time.sleep(0.5)
        screenshot(xdisplay, "sign_dialog_6_outputs_unscrolled")
        assert decisions_so_far() == before, "Sign worked with two outputs never shown"
        xdo("mousemove", "--window", window, "300", "250")
        xdo("click", "--repeat", "12", "--delay", "30", "5")  # the mouse wheel, downwards
        time.sleep(0.5)
        screenshot(xdisplay, "sign_dialog_6_outputs_scrolled")
        click_sign(window)

    def decisions_so_far() -> int:
        return len(audit.read_records(keys.home))

    before = decisions_so_far()
    run = gui_sign(keys, xdisplay, data, scroll_then_sign)
    assert run.status == 0, run.stderr
    assert Psbt.parse(run.output.read_bytes()).inputs[0].partial_sigs


@pytest.mark.parametrize("name", ["p2pkh", "p2wpkh", "p2sh-p2wpkh", "p2tr"])
def test_single_key_signing_loads_neither_bitcointx_nor_dataclasses(
    keys: KeySet, name: str
) -> None:
    """Start-up cost (bench/sign.py, issue 10's 5x target). python-bitcointx's import is
    ~50 ms (it runs ldconfig to find libsecp256k1): new signatures of these types are
    checked with our own binding to Debian's library, and only P2WSH, bare-script and
    finished-transaction checks load it. A dataclass costs ~0.7 ms to create (six methods
    compiled with exec), a NamedTuple ~0.15 ms: the records on this path are NamedTuples,
    and `dataclasses` (with `inspect`) is not imported at all."""
    folder = fresh_folder(keys)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(honest(keys, name))
    argv = ["sign", "--confirm", "policy", str(request), "-o", str(output)]
    loaded = loaded_modules(argv, keys.home)
    assert output.exists()
    assert not {m for m in loaded if m.split(".")[0] == "bitcointx"}
    assert "dataclasses" not in loaded


def test_dialog_wrong_passphrase_keeps_the_review_for_another_try(
    locked: KeySet, xdisplay: str
) -> None:
    def wrong_then_right() -> None:
        time.sleep(2.3)  # Sign is dead for 2 s; the focus starts in the passphrase field
        xdo("type", "--delay", "20", "incorrect horse")
        xdo("key", "--delay", "50", "Tab", "Tab", "space")  # passphrase -> Decline -> Sign
        time.sleep(1.5)  # the key derivation, then the error in the still open dialog
        screenshot(xdisplay, "sign_dialog_wrong_passphrase")
        xdo("search", "--sync", "--onlyvisible", "--name", "^psbtbridge: sign request")
        xdo("type", "--delay", "20", "correct horse battery staple")
        xdo("key", "--delay", "50", "Tab", "Tab", "space")

    run = gui_sign(locked, xdisplay, honest(locked), wrong_then_right)
    assert run.status == 0, run.stderr
    assert Psbt.parse(run.output.read_bytes()).inputs[0].partial_sigs
    assert [e.record.decision for e in audit.read_records(locked.home)] == ["signed"]


# --- the passphrase on a terminal: three tries within one review


def tty_sign_locked(locked: KeySet, passphrases: list[str]) -> tuple[int, str, Path]:
    folder = fresh_folder(locked)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(honest(locked))
    dialogue = [("Type yes to sign: ", "yes")] + [("Keystore passphrase: ", p) for p in passphrases]
    run = run_psbt_on_tty(
        locked.home, dialogue, "sign", str(request), "-o", str(output), "--confirm", "tty"
    )
    return run.status, run.screen, output


def test_terminal_wrong_passphrase_is_asked_again(locked: KeySet) -> None:
    status, screen, output = tty_sign_locked(
        locked, ["incorrect horse", "still wrong", "correct horse battery staple"]
    )
    assert status == 0, screen
    assert "try again (2 left)" in screen and "try again (1 left)" in screen
    assert screen.count("Type yes to sign: ") == 1  # one review, not three
    assert Psbt.parse(output.read_bytes()).inputs[0].partial_sigs


def test_terminal_three_wrong_passphrases_sign_nothing(locked: KeySet) -> None:
    status, screen, output = tty_sign_locked(locked, ["wrong 1", "wrong 2", "wrong 3"])
    assert status == 4, screen
    assert "[keystore.bad_passphrase]" in screen and not output.exists()
    assert audit.signed_spends(audit.read_records(locked.home)) == []


# --- delivery: a signature made is delivered, or kept in signed/ and said so


def kept_copies(keys: KeySet) -> list[Path]:
    return sorted((keys.home / "signed").iterdir())


def test_signing_to_stdout_says_so_on_stderr(keys: KeySet) -> None:
    data = honest(keys)
    result = run_psbt(keys.home, "sign", "--confirm", "policy", stdin=data)
    digest = Psbt.parse(data).unsigned_tx().digest()
    assert result.returncode == 0, result.stderr
    assert result.stderr.decode() == f"signed 1 of 1 inputs ({digest}) -> stdout\n"
    assert Psbt.parse(result.stdout).inputs[0].partial_sigs


def test_stdout_full_keeps_the_signed_result(keys: KeySet) -> None:
    """`psbt sign P --confirm policy > /dev/full`: signed and logged, so kept and said so."""
    folder = fresh_folder(keys)
    request = folder / "request.psbt"
    request.write_bytes(honest(keys))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [PSBT, "sign", str(request), "--confirm", "policy"],
            env={**env, "PSBTBRIDGE_HOME": str(keys.home)},
            stdin=subprocess.DEVNULL,
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    stderr = result.stderr.decode()
    (kept,) = kept_copies(keys)
    assert result.returncode == 4, stderr
    assert stderr == (
        f"psbt: error: signed, but the result could not be written to stdout (No space left"
        f" on device); it is kept in {kept} [sign.undelivered]\n"
    )
    assert "nothing was signed" not in stderr
    assert Psbt.parse(kept.read_bytes()).inputs[0].partial_sigs
    assert [e.record.decision for e in audit.read_records(keys.home)] == ["signed"]


@pytest.fixture
def full_filesystem(tmp_path: Path) -> Iterator[Path]:
    with full_tmpfs(tmp_path / "full") as mount:
        yield mount


def test_output_on_a_full_filesystem_keeps_the_signed_result(
    keys: KeySet, full_filesystem: Path
) -> None:
    out = full_filesystem / "signed.psbt"
    request = fresh_folder(keys) / "request.psbt"
    request.write_bytes(honest(keys))
    result = run_psbt(keys.home, "sign", str(request), "-o", str(out), "--confirm", "policy")
    stderr = result.stderr.decode()
    (kept,) = kept_copies(keys)
    assert result.returncode == 4, stderr
    assert stderr.endswith(f"; it is kept in {kept} [sign.undelivered]\n")
    assert f"could not be written to {out}" in stderr and not out.exists()
    assert Psbt.parse(kept.read_bytes()).inputs[0].partial_sigs
    assert [e.record.decision for e in audit.read_records(keys.home)] == ["signed"]


@pytest.mark.parametrize("mode", ["policy", "tty"])
def test_a_read_only_data_folder_fails_before_the_review(keys: KeySet, mode: str) -> None:
    assert sign_cli(keys, honest(keys), "--confirm", "policy").status == 0  # signed/ exists
    folder = fresh_folder(keys)
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(honest(keys, salt=1))
    with read_only(keys.home):
        run = run_psbt_on_tty(
            keys.home,
            [("Type yes to sign: ", "yes")],
            "sign", str(request), "-o", str(output), "--confirm", mode,
        )  # fmt: skip
    assert run.status == 4, run.screen
    assert "[home.unwritable]" in run.screen and "Read-only file system" in run.screen
    assert "Type yes" not in run.screen and not output.exists()
    assert len(audit.read_records(keys.home)) == 1


def test_an_unwritable_output_fails_before_the_review(keys: KeySet) -> None:
    folder = fresh_folder(keys)
    request = folder / "request.psbt"
    request.write_bytes(honest(keys))
    (folder / "out").mkdir()
    with read_only(folder / "out"):
        run = run_psbt_on_tty(
            keys.home,
            [("Type yes to sign: ", "yes")],
            "sign", str(request), "-o", str(folder / "out" / "signed.psbt"), "--confirm", "tty",
        )  # fmt: skip
    assert run.status == 4, run.screen
    assert "[io.write_failed]" in run.screen and "Type yes" not in run.screen
    assert audit.read_records(keys.home) == []


def test_a_wrong_seed_names_the_fingerprints_on_both_sides(keys: KeySet, tmp_path: Path) -> None:
    """The PSBT's key origins and the keystore's fingerprint, side by side (issue 14)."""
    other = tmp_path / "other"
    init_keystore(other, mnemonic=STRANGER_MNEMONIC)
    ours = keys.wallets["p2wpkh"].keys[0].origin.fingerprint.hex()
    theirs = load_keystore(other).master_fingerprint.hex()
    request = tmp_path / "request.psbt"
    request.write_bytes(honest(keys))
    result = run_psbt(other, "sign", str(request), "--confirm", "policy")
    stderr = result.stderr.decode()
    assert result.returncode == 1 and stderr.endswith("[proof.nothing_to_sign]\n"), stderr
    assert f"the inputs name key fingerprints {ours}" in stderr
    assert f"this signer's wallets have {theirs}" in stderr
