"""psbtbridge.analysis (with script.py): what a PSBT does, proven, and every claim it refuses.

Each refusal test changes one thing in an honest PSBT from tests/support/psbt_factory.py, so the
refusal can only come from that one thing. The same attacks run through the real `psbt
sign` in tests/test_sign_cli.py; here they run in-process, with their edge cases.
"""

from __future__ import annotations

import base64

import pytest
from embit.bip32 import HDKey

from psbtbridge.analysis import (
    DEFAULT_CHANGE_WINDOW,
    Analysis,
    OutputKind,
    analyse,
)
from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import Refused
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import ScriptType, address_of, is_witness_program, script_type_of
from psbtbridge.wallet import Wallet, parse_descriptor
from tests.conftest import load_vectors
from tests.support.psbt_factory import (
    COSIGNER_MNEMONICS,
    STRANGER_MNEMONIC,
    KeySet,
    Pay,
    Spend,
    bip32_entry,
    build_psbt,
    change_to,
    external,
    global_xpub,
    kv,
    mainnet,
    make_keyset,
    multisig_wallet,
    p2pkh,
    p2wpkh,
    pubkey_at,
    sighash_entry,
    taproot_with_tree,
)

H = HARDENED
ALL_WALLETS = ("p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr", "wsh", "shwsh")
SINGLE_SIG = ("p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2tr")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("analysis") / "home", registered=False)


def run(keys: KeySet, data: bytes, window: int = DEFAULT_CHANGE_WINDOW) -> Analysis:
    return analyse(Psbt.parse(data), keys.all, Network.REGTEST, window)


def refusal(keys: KeySet, data: bytes, window: int = DEFAULT_CHANGE_WINDOW) -> str:
    with pytest.raises(Refused) as refused:
        run(keys, data, window)
    return refused.value.code


def spend(keys: KeySet, name: str = "p2wpkh", index: int = 3, amount: int = 100_000) -> Spend:
    return Spend(keys.wallets[name], 0, index, amount)


# --- what an honest PSBT is proven to do


@pytest.mark.parametrize("name", ALL_WALLETS)
def test_every_output_kind_is_classified(keys: KeySet, name: str) -> None:
    wallet = keys.wallets[name]
    data = build_psbt(
        [Spend(wallet, 0, 7, 300_000), Spend(wallet, 1, 2, 50_000)],
        [
            external(1, 120_000),
            change_to(wallet, 1, 9, 100_000),
            change_to(wallet, 0, 11, 40_000),
            Pay(b"\x6a\x04" + b"memo", 0),
            Pay(b"\x51", 1_000),  # bare OP_TRUE: no address form
        ],
    )
    analysis = run(keys, data)
    kinds = [o.kind for o in analysis.outputs]
    assert kinds == [
        OutputKind.EXTERNAL,
        OutputKind.CHANGE,
        OutputKind.SELF,
        OutputKind.OP_RETURN,
        OutputKind.UNKNOWN,
    ]
    change, self_pay = analysis.outputs[1].owner, analysis.outputs[2].owner
    assert change is not None and (change.wallet.name, change.chain, change.index) == (name, 1, 9)
    assert self_pay is not None and (self_pay.chain, self_pay.index) == (0, 11)
    assert analysis.outputs[0].address == address_of(external(1, 0).script_pubkey, Network.REGTEST)
    assert analysis.outputs[3].address is None and analysis.outputs[4].address is None
    assert [(i.owner.chain, i.owner.index) for i in analysis.inputs if i.owner] == [(0, 7), (1, 2)]
    assert all(i.amount_proven for i in analysis.inputs)
    assert (analysis.total_in, analysis.total_out) == (350_000, 261_000)
    assert analysis.fee == 89_000
    assert analysis.sending == 121_000  # external and unknown: neither change nor self
    assert analysis.digest == analysis.txid_hex[:8]
    # Paying our own receive address inside the window is an ordinary transfer to self.
    assert [w.code for w in analysis.warnings] == ["warning.unknown_script"]


def test_a_script_without_a_claim_is_external_even_when_it_is_ours(keys: KeySet) -> None:
    """No hint, no search: an unclaimed output is shown as a payment, never silently ours."""
    wallet = keys.wallets["p2wpkh"]
    ours = wallet.derive(1, 0).script_pubkey
    analysis = run(keys, build_psbt([spend(keys)], [Pay(ours, 90_000)]))
    assert analysis.outputs[0].kind is OutputKind.EXTERNAL
    assert analysis.sending == 90_000


def test_a_hint_is_only_where_to_look(keys: KeySet) -> None:
    """An input whose derivation points at another index is not ours, whatever it claims."""
    wallet = keys.wallets["p2wpkh"]
    lying = [
        bip32_entry(wallet.derive(0, 4).pubkeys[0][0], wallet.derive(0, 4).pubkeys[0][1], True)
    ]
    honest = build_psbt(
        [Spend(wallet, 0, 3, 100_000, derivations=False, extra=lying)], [external(1, 1)]
    )
    assert refusal(keys, honest) == "proof.nothing_to_sign"


def test_electrum_bare_xpub_hints_and_zero_fingerprints_are_understood(keys: KeySet) -> None:
    """Electrum restored from an xpub writes the xpub's own fingerprint and m/chain/index;
    some wallets write 00000000 for an unknown master: both only say where to look."""
    wallet = keys.wallets["p2wpkh"]
    own = wallet.keys[0].own_fingerprint

    def bare(origin: KeyOrigin) -> KeyOrigin:
        return KeyOrigin(own, origin.path[-2:])

    def zero(origin: KeyOrigin) -> KeyOrigin:
        return KeyOrigin(bytes(4), origin.path)

    for rewrite in (bare, zero):
        data = build_psbt(
            [Spend(wallet, 0, 3, 100_000, rewrite=rewrite)],
            [external(1, 50_000), change_to(wallet, 1, 4, 49_000, rewrite=rewrite)],
        )
        analysis = run(keys, data)
        assert analysis.inputs[0].owner is not None
        assert analysis.outputs[1].kind is OutputKind.CHANGE


def test_v2_psbt_is_analysed_like_v0(keys: KeySet) -> None:
    wallet = keys.wallets["p2tr"]
    spends = [Spend(wallet, 0, 1, 80_000)]
    pays = [external(2, 30_000), change_to(wallet, 1, 1, 49_000)]
    v0, v2 = (run(keys, build_psbt(spends, pays, version=v)) for v in (0, 2))
    assert v2.txid_hex == v0.txid_hex
    assert [o.kind for o in v2.outputs] == [o.kind for o in v0.outputs]
    assert (v2.fee, v2.vsize) == (v0.fee, v0.vsize)


def test_taproot_input_needs_no_previous_transaction(keys: KeySet) -> None:
    """BIP341 signatures commit to every input's amount: the claimed ones suffice."""
    wallet = keys.wallets["p2tr"]
    analysis = run(
        keys, build_psbt([Spend(wallet, 0, 1, 80_000, full_tx=False)], [external(1, 70_000)])
    )
    assert analysis.inputs[0].owner is not None and not analysis.inputs[0].amount_proven


@pytest.mark.parametrize("name", ["p2sh-p2wpkh", "p2wpkh", "wsh", "shwsh"])
def test_segwit_v0_input_of_ours_needs_the_previous_transaction(keys: KeySet, name: str) -> None:
    """The fee attack: a segwit v0 signature commits to its own amount only."""
    data = build_psbt(
        [Spend(keys.wallets[name], 0, 1, 80_000, full_tx=False)], [external(1, 70_000)]
    )
    assert refusal(keys, data) == "proof.missing_non_witness_utxo"


def test_foreign_input_amounts_are_claims_and_say_so(keys: KeySet) -> None:
    """An input without a claim is not ours (even if it were): its amount is only shown."""
    foreign = Spend(keys.wallets["p2tr"], 0, 5, 70_000, full_tx=False, derivations=False)
    analysis = run(keys, build_psbt([spend(keys), foreign], [external(1, 160_000)]))
    assert [i.owner is not None for i in analysis.inputs] == [True, False]
    assert analysis.fee == 10_000
    assert [(w.code, w.place) for w in analysis.warnings] == [("warning.amount_claimed", "input 1")]
    foreign.witness_utxo = False
    data = build_psbt([spend(keys), foreign], [external(1, 1)])
    assert refusal(keys, data) == "proof.unknown_amount"


# --- inputs: structure before ownership (BIP174 "signer checks")


@pytest.mark.parametrize(
    ("case", "code"),
    list(
        zip(
            range(4),
            [
                "proof.witness_utxo_non_segwit",
                "proof.redeem_script_mismatch",
                "proof.redeem_script_mismatch",
                "proof.witness_script_mismatch",
            ],
            strict=True,
        )
    ),
)
def test_bip174_must_not_sign_vectors(case: int, code: str) -> None:
    """BIP174's fails_signer_checks, exactly as published, analysed by a signer holding the
    BIP's own `roles` master key. Its keys sit at hardened leaves (m/0'/0'/N'), which no
    watch-only wallet derives, so ownership is never reached: the structural checks run
    first and refuse, whoever holds the keys."""
    vectors = load_vectors("psbt/bip174.json")
    vector = vectors["fails_signer_checks"][case]
    master = HDKey.from_base58(vectors["roles"]["master_xprv"])
    account = master.derive("m/84h/1h/0h")
    fingerprint = bytes(master.my_fingerprint)
    assert fingerprint.hex() == "d90c6a4f"  # the fingerprint in every vector's derivations
    roles = parse_descriptor(
        f"wpkh([{fingerprint.hex()}/84h/1h/0h]{account.to_public().to_base58()}/<0;1>/*)",
        Network.TEST,
        "roles",
    )
    psbt = Psbt.parse(base64.b64decode(vector["psbt"]))
    with pytest.raises(Refused) as refused:
        analyse(psbt, [roles], Network.TEST)
    assert refused.value.code == code


def test_our_p2pkh_input_with_a_witness_utxo_is_refused(keys: KeySet) -> None:
    """BIP174 case 1 with our own key, and the proving previous transaction given too."""
    wallet = keys.wallets["p2pkh"]
    derived = wallet.derive(0, 3)
    claim = kv(0x01, b"", (100_000).to_bytes(8, "little") + bytes([25]) + derived.script_pubkey)
    data = build_psbt([Spend(wallet, 0, 3, 100_000, extra=[claim])], [external(1, 90_000)])
    assert refusal(keys, data) == "proof.witness_utxo_non_segwit"


@pytest.mark.parametrize("name", ["p2sh-p2wpkh", "shwsh"])
@pytest.mark.parametrize("full_tx", [True, False])
def test_our_p2sh_input_with_a_foreign_redeem_script_is_refused(
    keys: KeySet, name: str, full_tx: bool
) -> None:
    """BIP174 cases 2 and 3 (with the non-witness and with the witness UTXO), our keys."""
    wallet = keys.wallets[name]
    other = wallet.derive(0, 4)
    assert other.redeem_script is not None
    entries = [kv(0x04, b"", other.redeem_script)]
    if other.witness_script is not None:
        entries.append(kv(0x05, b"", other.witness_script))
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000, full_tx=full_tx, scripts=False, extra=entries)],
        [external(1, 90_000)],
    )
    assert refusal(keys, data) == "proof.redeem_script_mismatch"


@pytest.mark.parametrize("name", ["wsh", "shwsh"])
def test_our_p2wsh_input_with_a_foreign_witness_script_is_refused(keys: KeySet, name: str) -> None:
    """BIP174 case 4 with our own multisig: the witness script belongs to index 4."""
    wallet = keys.wallets[name]
    mine, other = wallet.derive(0, 3), wallet.derive(0, 4)
    assert other.witness_script is not None
    entries = [kv(0x05, b"", other.witness_script)]
    if mine.redeem_script is not None:
        entries.append(kv(0x04, b"", mine.redeem_script))
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000, scripts=False, extra=entries)], [external(1, 90_000)]
    )
    assert refusal(keys, data) == "proof.witness_script_mismatch"


# --- inputs: what we sign


@pytest.mark.parametrize("name", ALL_WALLETS)
def test_sighash_all_is_accepted_on_every_type(keys: KeySet, name: str) -> None:
    wallet = keys.wallets[name]
    data = build_psbt([Spend(wallet, 0, 3, 100_000, extra=[sighash_entry(1)])], [external(1, 1)])
    assert run(keys, data).inputs[0].sighash_type == 1


@pytest.mark.parametrize("sighash", [0x02, 0x03, 0x81, 0x82, 0x83])
@pytest.mark.parametrize("name", ["p2wpkh", "p2tr", "wsh"])
def test_other_sighash_types_are_refused(keys: KeySet, name: str, sighash: int) -> None:
    """NONE, SINGLE and ANYONECANPAY let others change what we signed."""
    wallet = keys.wallets[name]
    data = build_psbt(
        [Spend(wallet, 0, 3, 100_000, extra=[sighash_entry(sighash)])], [external(1, 1)]
    )
    assert refusal(keys, data) == "proof.sighash_not_allowed"


def test_sighash_default_only_for_taproot(keys: KeySet) -> None:
    def with_default(name: str) -> bytes:
        return build_psbt(
            [Spend(keys.wallets[name], 0, 3, 100_000, extra=[sighash_entry(0)])], [external(1, 1)]
        )

    assert run(keys, with_default("p2tr")).inputs[0].sighash_type == 0
    assert refusal(keys, with_default("p2wpkh")) == "proof.sighash_not_allowed"


def test_sighash_of_a_foreign_input_is_not_ours_to_refuse(keys: KeySet) -> None:
    foreign = Spend(
        keys.wallets["p2tr"], 0, 9, 50_000, derivations=False, extra=[sighash_entry(0x83)]
    )
    analysis = run(keys, build_psbt([spend(keys), foreign], [external(1, 100_000)]))
    assert analysis.foreign_inputs[0].sighash_type == 0x83


def test_duplicate_inputs_are_refused(keys: KeySet) -> None:
    """The strict parser accepts a transaction spending one outpoint twice; analysis does not."""
    twice = [Spend(keys.wallets["p2wpkh"], 0, 3, 100_000, salt=7) for _ in range(2)]
    data = build_psbt(twice, [external(1, 150_000)])
    parsed = Psbt.parse(data)
    assert parsed.inputs[0].prevout == parsed.inputs[1].prevout
    assert refusal(keys, data) == "proof.duplicate_input"


def test_empty_and_unowned_transactions_are_refused(keys: KeySet) -> None:
    assert refusal(keys, build_psbt([spend(keys)], [])) == "proof.empty_tx"
    foreign = Spend(keys.wallets["p2wpkh"], 0, 3, 100_000, derivations=False)
    assert refusal(keys, build_psbt([foreign], [external(1, 1)])) == "proof.nothing_to_sign"


def test_amounts_out_of_range_are_refused(keys: KeySet) -> None:
    assert refusal(keys, build_psbt([spend(keys)], [external(1, -1)])) == "proof.bad_amount"
    too_much = Spend(keys.wallets["p2tr"], 0, 3, 21_000_000 * 10**8 + 1, full_tx=False)
    assert refusal(keys, build_psbt([too_much], [external(1, 1)])) == "proof.bad_amount"


def test_negative_fee_is_refused(keys: KeySet) -> None:
    data = build_psbt([spend(keys, amount=100_000)], [external(1, 60_000), external(2, 40_001)])
    assert refusal(keys, data) == "proof.negative_fee"


def test_op_return_may_carry_data_but_no_value(keys: KeySet) -> None:
    burn = Pay(b"\x6a\x04" + b"memo", 1)
    assert (
        refusal(keys, build_psbt([spend(keys)], [external(1, 1), burn])) == "proof.op_return_value"
    )


# --- change: proven by re-derivation inside the window, or refused by name


def test_change_window_counts_from_the_highest_input_index(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]

    def change_at(index: int) -> bytes:
        return build_psbt(
            [Spend(wallet, 1, 40, 100_000)], [external(1, 1), change_to(wallet, 1, index, 1)]
        )

    assert run(keys, change_at(40 + 20), window=20).outputs[1].kind is OutputKind.CHANGE
    assert refusal(keys, change_at(40 + 21), window=20) == "proof.change_beyond_window"
    assert refusal(keys, change_at(2**31 - 1)) == "proof.change_beyond_window"


def test_change_to_another_wallet_of_ours_counts_from_zero(keys: KeySet) -> None:
    """No input from that wallet: its window starts at index 0."""
    other = keys.wallets["p2tr"]
    for index, kind in ((DEFAULT_CHANGE_WINDOW, "ok"), (DEFAULT_CHANGE_WINDOW + 1, "refused")):
        data = build_psbt([spend(keys)], [external(1, 1), change_to(other, 1, index, 1)])
        if kind == "ok":
            assert run(keys, data).outputs[1].kind is OutputKind.CHANGE
        else:
            assert refusal(keys, data) == "proof.change_beyond_window"


def test_with_the_signers_state_the_window_is_anchored_there(keys: KeySet) -> None:
    """Issue 11, finding 4: dust at receive index 900,000 must not move the change window;
    the input itself is a warning (unattended signing refuses it)."""
    wallet = keys.wallets["p2wpkh"]
    dust, real = Spend(wallet, 0, 900_000, 600), Spend(wallet, 0, 2, 4_900_000)
    psbt = Psbt.parse(build_psbt([dust, real], [change_to(wallet, 1, 900_999, 4_899_000)]))
    with pytest.raises(Refused) as caught:
        analyse(psbt, keys.all, Network.REGTEST, 10, {})
    assert caught.value.code == "proof.change_beyond_window"
    assert "psbt audit used p2wpkh --change 900999" in caught.value.message
    known = {("p2wpkh", 1): 900_990}
    analysis = analyse(psbt, keys.all, Network.REGTEST, 10, known)
    assert analysis.outputs[0].kind is OutputKind.CHANGE
    assert [w.code for w in analysis.warnings] == ["warning.input_beyond_known"]


def test_a_receive_address_past_the_window_is_a_warning_not_a_refusal(keys: KeySet) -> None:
    """Issue 14 item 9: inside the receive window a self-transfer is no warning at all."""
    wallet = keys.wallets["p2wpkh"]

    def to_self(index: int) -> Psbt:
        return Psbt.parse(build_psbt([spend(keys)], [change_to(wallet, 0, index, 90_000)]))

    inside = analyse(to_self(21), keys.all, Network.REGTEST, 10, {("p2wpkh", 0): 1})
    assert inside.outputs[0].kind is OutputKind.SELF and inside.warnings == ()
    beyond = analyse(to_self(22), keys.all, Network.REGTEST, 10, {("p2wpkh", 0): 1})
    assert beyond.outputs[0].kind is OutputKind.SELF
    assert [(w.code, w.place) for w in beyond.warnings] == [("warning.self_transfer", "output 0")]


def test_with_the_signers_state_another_wallet_of_ours_is_a_transfer(keys: KeySet) -> None:
    data = build_psbt([spend(keys)], [external(1, 1), change_to(keys.wallets["p2tr"], 1, 0, 1)])
    analysis = analyse(Psbt.parse(data), keys.all, Network.REGTEST, 10, {})
    assert analysis.outputs[1].kind is OutputKind.TRANSFER
    assert analysis.sending == 2  # a transfer leaves the wallet spent from
    assert "warning.transfer" in [w.code for w in analysis.warnings]


def claimed_change(keys: KeySet, script_pubkey: bytes, claims: list[bytes]) -> bytes:
    return build_psbt([spend(keys)], [external(1, 50_000), Pay(script_pubkey, 49_000, claims)])


def test_fake_change_is_refused(keys: KeySet) -> None:
    """A stranger's script claiming our change path."""
    ours = keys.wallets["p2wpkh"].derive(1, 5)
    key, origin = ours.pubkeys[0]
    data = claimed_change(keys, external(9, 0).script_pubkey, [bip32_entry(key, origin)])
    assert refusal(keys, data) == "proof.fake_change"


def test_change_at_a_hardened_index_is_refused(keys: KeySet) -> None:
    """Really ours (the seed derives it), but no watch-only wallet can ever find it."""
    path = (84 + H, 1 + H, H, 1, 5 + H)
    pubkey = pubkey_at(keys.seed, path)
    origin = KeyOrigin(keys.seed.fingerprint, path)
    assert refusal(keys, claimed_change(keys, p2wpkh(pubkey), [bip32_entry(pubkey, origin)])) == (
        "proof.change_hardened"
    )


def test_change_on_a_chain_other_than_receive_or_change_is_refused(keys: KeySet) -> None:
    path = (84 + H, 1 + H, H, 2, 5)
    pubkey = pubkey_at(keys.seed, path)
    origin = KeyOrigin(keys.seed.fingerprint, path)
    assert refusal(keys, claimed_change(keys, p2wpkh(pubkey), [bip32_entry(pubkey, origin)])) == (
        "proof.change_bad_chain"
    )


def test_change_in_another_account_is_refused(keys: KeySet) -> None:
    """Account 1 is ours too, but not registered: nothing here watches it."""
    path = (84 + H, 1 + H, 1 + H, 1, 5)
    pubkey = pubkey_at(keys.seed, path)
    origin = KeyOrigin(keys.seed.fingerprint, path)
    assert refusal(keys, claimed_change(keys, p2wpkh(pubkey), [bip32_entry(pubkey, origin)])) == (
        "proof.change_other_account"
    )


def test_change_of_another_script_type_is_refused(keys: KeySet) -> None:
    """Our P2PKH change key, paid as P2WPKH: a script our legacy wallet does not watch."""
    key, origin = keys.wallets["p2pkh"].derive(1, 5).pubkeys[0]
    assert refusal(keys, claimed_change(keys, p2wpkh(key), [bip32_entry(key, origin)])) == (
        "proof.change_script_type"
    )
    key, origin = keys.wallets["p2wpkh"].derive(1, 5).pubkeys[0]
    assert refusal(keys, claimed_change(keys, p2pkh(key), [bip32_entry(key, origin)])) == (
        "proof.change_script_type"
    )


@pytest.mark.parametrize("disclose", [False, True])
def test_taproot_change_with_a_script_tree_is_refused(keys: KeySet, disclose: bool) -> None:
    """Our BIP86 internal key, tweaked with a leaf a stranger can spend: hidden or shown,
    the output is not the key-path-only output our wallet derives."""
    wallet = keys.wallets["p2tr"]
    pay = taproot_with_tree(wallet, 1, 5, 49_000, disclose)
    data = build_psbt([spend(keys)], [external(1, 50_000), pay])
    assert refusal(keys, data) == "proof.change_script_tree"


@pytest.mark.parametrize("name", ["wsh", "shwsh"])
def test_multisig_change_with_a_swapped_cosigner_is_refused(keys: KeySet, name: str) -> None:
    """Our key and one cosigner's are right; the third cosigner is a stranger."""
    real = keys.wallets[name]
    forged = multisig_wallet(
        keys.home,
        name,
        real.script_type,
        real.sorted,
        others=(COSIGNER_MNEMONICS[0], STRANGER_MNEMONIC),
    )
    data = build_psbt(
        [Spend(real, 0, 1, 100_000)], [external(1, 50_000), change_to(forged, 1, 5, 49_000)]
    )
    assert refusal(keys, data) == "proof.multisig_change_mismatch"


def test_multi_change_with_its_keys_reordered_is_refused(keys: KeySet) -> None:
    """multi() (not sortedmulti) fixes the key order: a reordered script has the same keys
    and threshold, but the wallet never derives it, so it would never see the coins."""
    real = keys.wallets["shwsh"]
    reordered = Wallet(real.name, real.script_type, 2, real.keys[::-1], False, real.network)
    data = build_psbt(
        [Spend(real, 0, 1, 100_000)], [external(1, 50_000), change_to(reordered, 1, 5, 49_000)]
    )
    assert refusal(keys, data) == "proof.multisig_change_mismatch"


# --- network


def test_mainnet_paths_are_refused_on_a_regtest_signer(keys: KeySet) -> None:
    wallet = keys.wallets["p2wpkh"]
    on_input = build_psbt([Spend(wallet, 0, 3, 100_000, rewrite=mainnet)], [external(1, 1)])
    on_change = build_psbt(
        [spend(keys)], [external(1, 1), change_to(wallet, 1, 3, 1, rewrite=mainnet)]
    )
    assert refusal(keys, on_input) == refusal(keys, on_change) == "proof.wrong_network"


def test_a_global_xpub_of_another_network_is_refused(keys: KeySet) -> None:
    assert refusal(
        keys, build_psbt([spend(keys)], [external(1, 1)], global_extra=[global_xpub(Network.MAIN)])
    ) == ("proof.wrong_network")
    testnet = build_psbt([spend(keys)], [external(1, 1)], global_extra=[global_xpub(Network.TEST)])
    assert run(keys, testnet).inputs[0].owner is not None  # regtest shares testnet's tpub


# --- script.py


@pytest.mark.parametrize("name", ALL_WALLETS)
def test_our_scripts_have_addresses_and_types(keys: KeySet, name: str) -> None:
    wallet: Wallet = keys.wallets[name]
    derived = wallet.derive(0, 0)
    expected = {
        "p2pkh": ScriptType.P2PKH,
        "p2sh-p2wpkh": ScriptType.P2SH_P2WPKH,
        "p2wpkh": ScriptType.P2WPKH,
        "p2tr": ScriptType.P2TR,
        "wsh": ScriptType.P2WSH,
        "shwsh": ScriptType.P2SH_P2WSH,
    }[name]
    spk = derived.script_pubkey
    assert script_type_of(spk, derived.redeem_script, derived.witness_script) is expected
    regtest, main = address_of(spk, Network.REGTEST), address_of(spk, Network.MAIN)
    assert regtest is not None and main is not None
    assert regtest.startswith(("bcrt1", "m", "n", "2")) and main.startswith(("bc1", "1", "3"))


def test_scripts_without_an_address() -> None:
    assert address_of(b"", Network.MAIN) is None
    assert address_of(b"\x6a\x00", Network.MAIN) is None
    assert address_of(b"\x51", Network.MAIN) is None  # OP_TRUE
    bare_multisig = b"\x51\x21" + bytes([2]) + bytes(32) + b"\x51\xae"
    assert address_of(bare_multisig, Network.MAIN) is None
    assert script_type_of(bare_multisig) is None
    assert not is_witness_program(b"\x00\x4c" + bytes(40))
    assert is_witness_program(b"\x52\x02\xab\xcd")  # a future witness version
    # a P2SH whose claimed redeem script hashes elsewhere is only known as P2SH
    assert (
        script_type_of(b"\xa9\x14" + bytes(20) + b"\x87", b"\x00\x14" + bytes(20))
        is ScriptType.P2SH
    )
