"""cold.signer (with size.py): signatures on exactly the inputs analysis proved ours, checked.

Signed PSBTs are finalized and every input run through the independent verifier
(python-bitcointx), as `psbt finalize` does; the real command line does the same in
tests/test_sign_cli.py.
"""

from __future__ import annotations

import pytest

from cold.signer import sign
from psbtbridge.analysis import Analysis, analyse
from psbtbridge.errors import BridgeError, Refused
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.finalize import extract, finalize, spent_outputs
from psbtbridge.tx import TxIn
from psbtbridge.verify import verify_final_tx
from psbtbridge.wallet import AccountKey, Wallet
from tests.support.psbt_factory import (
    COSIGNER_MNEMONICS,
    STRANGER_MNEMONIC,
    KeySet,
    Spend,
    build_psbt,
    change_to,
    external,
    kv,
    make_keyset,
    seed_of,
    sighash_entry,
)
from tests.support.verifying import spent_pairs

ALL_WALLETS = ("p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr", "wsh", "shwsh")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("signer") / "home", registered=False)


def prove(keys: KeySet, data: bytes, wallets: list[Wallet] | None = None) -> tuple[Psbt, Analysis]:
    psbt = Psbt.parse(data)
    return psbt, analyse(psbt, wallets or keys.all, Network.REGTEST)


def sign_all(keys: KeySet, data: bytes) -> tuple[Psbt, Analysis]:
    """Our signature, plus the first cosigner's where an input is multisig."""
    psbt, analysis = prove(keys, data)
    signed = sign(psbt, analysis, keys.seed)
    if any(i.owner and i.owner.wallet.is_multisig for i in analysis.inputs):
        signed = sign(signed, analysis, seed_of(COSIGNER_MNEMONICS[0]))
    return signed, analysis


@pytest.mark.parametrize("name", ALL_WALLETS)
@pytest.mark.parametrize("version", [0, 2])
def test_every_type_signs_finalizes_and_verifies(keys: KeySet, name: str, version: int) -> None:
    wallet = keys.wallets[name]
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000), Spend(wallet, 1, 8, 60_000)],
        [external(1, 90_000), change_to(wallet, 1, 9, 60_000)],
        version=version,
    )
    signed, analysis = sign_all(keys, data)
    final = finalize(signed)
    tx = extract(final)
    verify_final_tx(
        tx.serialize(), spent_pairs(spent_outputs(final))
    )  # raises unless every input spends its output
    unsigned = [TxIn(txin.prevout, b"", txin.sequence) for txin in tx.inputs]
    assert tx._replace(inputs=tuple(unsigned)) == analysis.tx  # only scriptSigs and witnesses
    # The fee rate shown is from an estimate made before signing: never below the truth
    # by more than a rounding, never far above it.
    assert tx.vsize() <= analysis.vsize <= tx.vsize() + 3


def test_multisig_keeps_a_cosigners_signature_and_adds_ours(keys: KeySet) -> None:
    wallet = keys.wallets["wsh"]
    psbt, analysis = prove(keys, build_psbt([Spend(wallet, 0, 3, 100_000)], [external(1, 90_000)]))
    theirs = sign(psbt, analysis, seed_of(COSIGNER_MNEMONICS[1]))
    both = sign(theirs, analysis, keys.seed)
    assert len(theirs.inputs[0].partial_sigs) == 1
    assert set(theirs.inputs[0].partial_sigs) < set(both.inputs[0].partial_sigs)
    assert len(both.inputs[0].partial_sigs) == 2


def test_only_owned_inputs_are_signed_and_nothing_else_changes(keys: KeySet) -> None:
    ours, theirs = keys.wallets["p2wpkh"], keys.wallets["p2tr"]
    data = build_psbt(
        [
            Spend(ours, 0, 3, 100_000),
            Spend(theirs, 0, 4, 50_000, derivations=False),  # not claimed: not ours to sign
            Spend(theirs, 0, 5, 70_000),
        ],
        [external(1, 150_000), change_to(ours, 1, 2, 60_000)],
    )
    psbt, analysis = prove(keys, data)
    signed = sign(psbt, analysis, keys.seed)
    assert signed.global_entries == psbt.global_entries
    assert [o.entries for o in signed.outputs] == [o.entries for o in psbt.outputs]
    assert signed.inputs[1] == psbt.inputs[1]
    for index in (0, 2):
        added = [e for e in signed.inputs[index].entries if e not in psbt.inputs[index].entries]
        assert len(added) == 1
        assert signed.inputs[index].entries[: len(psbt.inputs[index].entries)] == (
            psbt.inputs[index].entries
        )
    assert len(signed.inputs[0].partial_sigs) == 1 and signed.inputs[2].tap_key_sig is not None


def test_ecdsa_signatures_are_low_r_with_sighash_all(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    spends = [Spend(wallet, 0, i, 10_000 + i) for i in range(12)]
    signed, _ = sign_all(keys, build_psbt(spends, [external(1, 100_000)]))
    for inp in signed.inputs:
        (sig,) = inp.partial_sigs
        assert sig.signature[-1] == 0x01
        assert len(sig.signature) <= 71  # DER of low R and low S is at most 70 bytes


def test_taproot_signs_default_unless_all_is_asked(keys: KeySet) -> None:
    wallet = keys.wallets["p2tr"]
    default = build_psbt([Spend(wallet, 0, 3, 100_000)], [external(1, 90_000)])
    explicit = build_psbt(
        [Spend(wallet, 0, 3, 100_000, extra=[sighash_entry(1)])], [external(1, 90_000)]
    )
    short, _ = sign_all(keys, default)
    long, _ = sign_all(keys, explicit)
    assert short.inputs[0].tap_key_sig is not None and len(short.inputs[0].tap_key_sig) == 64
    assert long.inputs[0].tap_key_sig is not None and long.inputs[0].tap_key_sig[64:] == b"\x01"
    for signed in (short, long):
        final = finalize(signed)
        verify_final_tx(extract(final).serialize(), spent_pairs(spent_outputs(final)))


@pytest.mark.parametrize("name", ["p2sh-p2wpkh", "wsh", "shwsh"])
def test_scripts_the_psbt_left_out_are_added_for_the_finalizer(keys: KeySet, name: str) -> None:
    wallet = keys.wallets[name]
    data = build_psbt([Spend(wallet, 0, 3, 100_000, scripts=False)], [external(1, 90_000)])
    signed, _ = sign_all(keys, data)
    derived = wallet.derive(0, 3)
    assert signed.inputs[0].redeem_script == derived.redeem_script
    assert signed.inputs[0].witness_script == derived.witness_script
    final = finalize(signed)
    verify_final_tx(extract(final).serialize(), spent_pairs(spent_outputs(final)))


@pytest.mark.parametrize("name", ["p2wpkh", "p2pkh", "p2tr"])
def test_a_wallet_the_seed_does_not_derive_is_never_signed_for(keys: KeySet, name: str) -> None:
    """A registered key claiming our fingerprint and path but holding another xpub: the
    signature fails the independent check, and the refusal names the reason."""
    real = keys.wallets[name]
    origin = real.keys[0].origin
    stranger = seed_of(STRANGER_MNEMONIC).account_key(origin.path)
    forged = Wallet(
        name, real.script_type, 1, (AccountKey(origin, stranger.xpub),), False, real.network
    )
    psbt, analysis = prove(
        keys, build_psbt([Spend(forged, 0, 3, 100_000)], [external(1, 90_000)]), [forged]
    )
    with pytest.raises(BridgeError) as error:
        sign(psbt, analysis, keys.seed)
    assert error.value.code == "sign.key_mismatch"


def test_v2_modifiable_flags_are_cleared_by_a_sighash_all_signature(keys: KeySet) -> None:
    """BIP370: after signing with SIGHASH_ALL, inputs and outputs may no longer be added;
    the "has SIGHASH_SINGLE" bit (2) is left as it was."""
    wallet = keys.wallets["p2wpkh"]
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000)],
        [external(1, 90_000)],
        version=2,
        global_extra=[kv(0x06, b"", b"\x07")],
    )
    psbt, analysis = prove(keys, data)
    assert psbt.tx_modifiable == 0b111
    signed = sign(psbt, analysis, keys.seed)
    assert signed.tx_modifiable == 0b100
    assert Psbt.parse(signed.serialize()) == signed


@pytest.mark.parametrize("name", ["p2wpkh", "p2pkh", "wsh"])
def test_a_faulty_signature_is_never_released(
    keys: KeySet, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sign_ecdsa does not verify its own result: the independent verifier is the check
    before release. A fault (here injected: one bit of S flipped, the DER still valid) is
    refused with its code, and no PSBT comes back."""
    import cold.signer
    from cold.crypto import sign_ecdsa

    def faulty(secret: bytes, sighash: bytes) -> bytes:
        signature = sign_ecdsa(secret, sighash)
        return signature[:-2] + bytes([signature[-2] ^ 0x01]) + signature[-1:]

    monkeypatch.setattr(cold.signer, "sign_ecdsa", faulty)
    wallet = keys.wallets[name]
    psbt, analysis = prove(keys, build_psbt([Spend(wallet, 0, 3, 100_000)], [external(1, 90_000)]))
    with pytest.raises(Refused) as caught:
        sign(psbt, analysis, keys.seed)
    assert caught.value.code == "verify.bad_signature"
