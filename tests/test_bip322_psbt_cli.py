"""BIP-322 proofs through the real `psbt inspect` and `psbt sign`: shown as a message, signed
after a person said yes, recorded as nothing spent; hostile variants refused with their code.

The keystore is the test mnemonic's (regtest); the proof is for its p2wpkh receive address
m/84h/1h/0h/0/0. A signed proof, finalized, carries the same witness as the BIP-322 simple
signature of the message by that key, and verifies as a full BIP-322 signature.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from cold import audit
from cold.message_sign import sign_bip322_simple
from psbtbridge import bip322
from psbtbridge.errors import Code, ConfigError
from psbtbridge.network import Network
from psbtbridge.script import ScriptType, address_of
from psbtbridge.tx import Tx
from tests.conftest import load_vectors
from tests.support import psbt_factory as factory
from tests.support.proof_psbt import VECTOR_MESSAGE, Proof, vector_proofs
from tests.support.psbt_cli import run_psbt_on_tty
from tests.support.psbt_factory import KeySet, Spend, run_psbt

MESSAGE = VECTOR_MESSAGE.decode()
IN = 1_000_000
PAY = 400_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    """The test mnemonic's keystore; unattended signing on, paying factory.external(1) only."""
    keys = factory.make_keyset(tmp_path_factory.mktemp("bip322_cli") / "home", registered=True)
    address = address_of(factory.external(1, 0).script_pubkey, Network.REGTEST)
    (keys.home / "policy.toml").write_text(
        f'[unattended]\nenabled = true\nallowed_destinations = ["{address}"]\n'
        "max_per_transaction = 500000\nmax_per_24h = 1000000\n"
    )
    return keys


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    return KeySet(
        shutil.copytree(template.home, tmp_path / "home"), template.wallets, template.seed
    )


def proof(keys: KeySet, **changes: object) -> Proof:
    derived = keys.wallets["p2wpkh"].derive(0, 0)
    return Proof(derived.script_pubkey, MESSAGE.encode(), derived, **changes)  # type: ignore[arg-type]


def reserves(keys: KeySet, **changes: object) -> Proof:
    """A proof of reserves: one more input, a real coin of ours at m/84h/1h/0h/0/3."""
    return proof(keys, reserves=[Spend(keys.wallets["p2wpkh"], 0, 3, IN)], **changes)


def tty_sign(keys: KeySet, data: bytes, answer: str = "yes") -> tuple[int, str, Path]:
    folder = Path(tempfile.mkdtemp(dir=keys.home.parent))
    request, output = folder / "request.psbt", folder / "signed.psbt"
    request.write_bytes(data)
    run = run_psbt_on_tty(
        keys.home,
        [("Type yes to sign: ", answer)],
        "sign", str(request), "-o", str(output), "--confirm", "tty",
    )  # fmt: skip
    return run.status, run.screen, output


def last_record(keys: KeySet) -> audit.AuditRecord:
    return audit.read_records(keys.home)[-1].record


# --- psbt inspect


@pytest.mark.parametrize("psbt_version", [0, 2])
def test_inspect_shows_a_message_not_a_fee(keys: KeySet, psbt_version: int) -> None:
    data = reserves(keys, psbt_version=psbt_version).build()
    shown = run_psbt(keys.home, "inspect", "-", stdin=data)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode()
    address = address_of(keys.wallets["p2wpkh"].derive(0, 0).script_pubkey, Network.REGTEST)
    assert "BIP-322 message proof: signing a message, nothing is spent" in text
    assert f"for          {address}" in text
    assert "| I control this address.\\n" in text and "\\u{fc LATIN SMALL LETTER U" in text
    assert "reserves     0.01000000 BTC" in text
    assert "fee " not in text and "a signer would refuse" not in text
    data_json = json.loads(run_psbt(keys.home, "inspect", "--json", "-", stdin=data).stdout)
    assert data_json["fee"] is None and data_json["fee_rate"] is None
    assert data_json["proof"] == {
        "address": address,
        "script_pubkey": keys.wallets["p2wpkh"].derive(0, 0).script_pubkey.hex(),
        "message": MESSAGE,
        "message_hash": bip322.message_hash(MESSAGE.encode()).hex(),
        "reserves_inputs": [1],
        "reserves_total": IN,
    }


def test_inspect_names_an_inconsistent_proof(keys: KeySet) -> None:
    data = proof(keys, to_spend_message=b"something else").build()
    shown = json.loads(run_psbt(keys.home, "inspect", "--json", "-", stdin=data).stdout)
    assert shown["proof"] is None
    assert [f["code"] for f in shown["refusals"]] == ["bip322.not_to_spend"]


def test_an_ordinary_psbt_has_no_proof(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    data = factory.build_psbt(
        [Spend(wallet, 0, 3, IN)], [factory.external(1, PAY), factory.change_to(wallet, 1, 3, 1)]
    )
    shown = json.loads(run_psbt(keys.home, "inspect", "--json", "-", stdin=data).stdout)
    assert shown["proof"] is None and shown["fee"] is not None


# --- psbt sign


def test_a_proof_is_shown_as_a_message_signed_and_finalizes_to_the_bip_witness(
    keys: KeySet,
) -> None:
    status, screen, output = tty_sign(keys, proof(keys, psbt_version=2).build())
    assert status == 0, screen
    assert "BIP-322 MESSAGE PROOF, nothing is spent" in screen
    assert "BIP-322 message proof: signing a message for" in screen
    assert "m/84h/1h/0h/0/0" in screen and "| Signed on the cold qube: Gr\\u{fc" in screen
    assert "NOTHING: a BIP-322 proof cannot be mined" in screen
    assert "Fee" not in screen and "Outputs" not in screen and "PAY TO" not in screen
    record = last_record(keys)
    assert record.decision == "signed" and record.is_proof
    assert (record.fee, record.left, record.used) == (None, 0, ())
    final = run_psbt(keys.home, "finalize", str(output))  # verifies every input
    assert final.returncode == 0, final.stderr
    signed = Tx.parse(bytes.fromhex(final.stdout.decode()))
    # The witness is the simple signature of the same key (RFC6979: deterministic).
    secret, _ = keys.seed.derive((84 | 1 << 31, 1 | 1 << 31, 1 << 31, 0, 0))
    simple = sign_bip322_simple(secret, ScriptType.P2WPKH, MESSAGE.encode())
    assert bip322.encode_simple(signed.inputs[0].witness) == simple
    challenge = keys.wallets["p2wpkh"].derive(0, 0).script_pubkey
    bip322.verify_full(challenge, signed.serialize(), MESSAGE.encode())


def test_a_proof_of_reserves_is_not_a_spend(keys: KeySet) -> None:
    """Both inputs signed, nothing counted as leaving, and the coin shown in the proof is
    still spent unattended later without "already signed into another transaction"."""
    status, screen, output = tty_sign(keys, reserves(keys).build())
    assert status == 0, screen
    assert "BIP-322 proof of reserves: 0.01000000 BTC (1,000,000 sat) in 1 input(s)" in screen
    assert "Spending: NOTHING" in screen
    assert run_psbt(keys.home, "finalize", str(output)).returncode == 0
    record = last_record(keys)
    assert record.is_proof and record.left == 0
    listed = run_psbt(keys.home, "audit", "show", "--last", "1").stdout.decode()
    assert "signed  BIP-322 proof for bcrt1q" in listed and "nothing spent" in listed
    assert [i.ours for i in record.inputs] == [True, True]
    wallet = keys.wallets["p2wpkh"]
    payment = factory.build_psbt(
        [Spend(wallet, 0, 3, IN)],
        [factory.external(1, PAY), factory.change_to(wallet, 1, 3, IN - PAY - 2_000)],
    )
    paid = run_psbt(keys.home, "sign", "-", "--confirm", "policy", stdin=payment)
    assert paid.returncode == 0, paid.stderr


def test_only_to_spend_shows_the_hash_and_says_so(keys: KeySet) -> None:
    status, screen, _ = tty_sign(keys, proof(keys, message_field=False, to_spend_utxo=True).build())
    assert status == 0, screen
    assert "NOT in the PSBT" in screen
    assert bip322.message_hash(MESSAGE.encode()).hex() in screen


def test_a_declined_proof_is_logged(keys: KeySet) -> None:
    status, _, output = tty_sign(keys, proof(keys).build(), answer="no")
    assert status == 1 and not output.exists()
    assert last_record(keys).decision == "declined"


def refused(keys: KeySet, data: bytes, code: str) -> None:
    """Exit 1 naming code, nothing written, the refusal in an intact audit log."""
    run = run_psbt(keys.home, "sign", "-", "--confirm", "policy", stdin=data)
    assert run.returncode == 1, run.stderr
    assert run.stderr.decode().endswith(f" [{code}]\n") and run.stdout == b""
    assert (last_record(keys).decision, last_record(keys).reason) == ("refused", code)
    assert run_psbt(keys.home, "audit", "verify").returncode == 0


def test_a_proof_is_never_signed_unattended(keys: KeySet) -> None:
    refused(keys, proof(keys).build(), "message.unattended")


VECTORS = load_vectors("message/bip322_psbt.json")


def test_the_stored_vectors_are_what_the_builder_makes(template: KeySet) -> None:
    made = {
        name: {"psbt": base64.b64encode(proof.build()).decode(), "refused": code}
        for name, (proof, code) in vector_proofs(template.wallets).items()
    }
    assert made == VECTORS


@pytest.mark.parametrize("name", list(VECTORS))
def test_each_stored_vector_through_inspect_and_sign(keys: KeySet, name: str) -> None:
    """The honest ones: a proof in inspect, signed after yes, finalized; the hostile ones
    (an extra paying output, a value, another to_spend, a sequence, nothing to prove
    to_spend with, a valued OP_RETURN): named by inspect, refused by sign."""
    data = base64.b64decode(VECTORS[name]["psbt"])
    code = VECTORS[name]["refused"]
    shown = json.loads(run_psbt(keys.home, "inspect", "--json", "-", stdin=data).stdout)
    if code is not None:
        assert shown["proof"] is None and shown["refusals"][0]["code"] == code
        refused(keys, data, code)
        return
    assert shown["proof"]["message_hash"] == bip322.message_hash(VECTOR_MESSAGE).hex()
    assert shown["refusals"] == []
    status, screen, output = tty_sign(keys, data)
    assert status == 0, screen
    assert run_psbt(keys.home, "finalize", str(output)).returncode == 0
    assert last_record(keys).is_proof


def test_a_proof_for_an_address_not_ours(keys: KeySet) -> None:
    stranger = Proof(factory.external(7, 0).script_pubkey, MESSAGE.encode(), None)
    stranger.reserves = [Spend(keys.wallets["p2wpkh"], 0, 3, IN)]
    refused(keys, stranger.build(), "bip322.not_ours")


def test_a_reserves_input_not_ours(keys: KeySet) -> None:
    foreign = Spend(keys.wallets["p2wpkh"], 0, 3, IN, derivations=False)
    refused(keys, proof(keys, reserves=[foreign]).build(), "bip322.foreign_input")


def test_the_service_asks_a_person_even_with_unattended_on(
    keys: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[unattended] is on in this home, yet the service's default for a proof is the dialog:
    with no display it names that, and nothing is signed."""
    from cold.pipeline import SignRequest, run_signing

    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ConfigError) as raised:
        run_signing(proof(keys).build(), SignRequest(keys.home, None, caller="electrum-hot"))
    assert raised.value.code == Code.CONFIRM_NO_DISPLAY
    assert audit.read_records(keys.home) == []


@pytest.mark.parametrize("name", ["p2sh-p2wpkh", "p2tr", "p2pkh"])
def test_other_single_sig_types_sign_and_verify(keys: KeySet, name: str) -> None:
    """Input 0 signed as its address type wants it (taproot: SIGHASH_DEFAULT, BIP-322's
    rule; p2pkh: a legacy input, given to_spend whole), finalized, and verified as a
    BIP-322 full signature of the message."""
    derived = keys.wallets[name].derive(0, 2)
    legacy = name == "p2pkh"
    data = Proof(
        derived.script_pubkey,
        MESSAGE.encode(),
        derived,
        to_spend_utxo=legacy,
        witness_utxo=not legacy,
    ).build()
    status, screen, output = tty_sign(keys, data)
    assert status == 0, screen
    final = run_psbt(keys.home, "finalize", str(output))
    assert final.returncode == 0, final.stderr
    signed = bytes.fromhex(final.stdout.decode())
    bip322.verify_full(derived.script_pubkey, signed, MESSAGE.encode())


def test_an_address_without_its_path_is_searched_for(keys: KeySet) -> None:
    """A coordinator that leaves out input 0's derivation: the address is found in the
    wallets as `psbt message sign` finds it, shown with its path, and signed."""
    derived = keys.wallets["p2wpkh"].derive(1, 4)
    status, screen, output = tty_sign(keys, Proof(derived.script_pubkey, VECTOR_MESSAGE).build())
    assert status == 0, screen
    assert "m/84h/1h/0h/1/4" in screen
    signed = run_psbt(keys.home, "finalize", str(output))
    bip322.verify_full(derived.script_pubkey, bytes.fromhex(signed.stdout.decode()), VECTOR_MESSAGE)


def test_a_multisig_proof_gets_our_signature_for_the_cosigners(keys: KeySet) -> None:
    """A 2-of-3 address: input 0 gets our one signature (the PSBT then goes to a cosigner);
    the review shows the multisig wallet, and the record is a message proof."""
    derived = keys.wallets["wsh"].derive(0, 1)
    data = Proof(derived.script_pubkey, MESSAGE.encode(), derived).build()
    status, screen, output = tty_sign(keys, data)
    assert status == 0, screen
    assert "wsh" in screen
    signed = run_psbt(keys.home, "inspect", "--json", str(output))
    assert signed.returncode == 0, signed.stderr
    assert json.loads(signed.stdout)["proof"] is not None
    assert [o.kind for o in last_record(keys).outputs] == ["message_proof"]
