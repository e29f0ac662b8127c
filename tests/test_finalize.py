"""finalize.py and `psbt finalize`: BIP174/Core finalizer and extractor vectors, every supported
script type signed by cold/crypto.py and checked by bitcointx, refusals and exit codes."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cold.crypto import (
    public_key,
    sign_ecdsa,
    sign_taproot_keypath,
    taproot_tweak_secret,
    xonly_public_key,
)
from psbtbridge.errors import InvalidInput, Refused
from psbtbridge.hashes import hash160, sha256
from psbtbridge.psbt import MAGIC, Psbt
from psbtbridge.psbt.fields import InputType
from psbtbridge.psbt.finalize import extract, finalize, spent_outputs
from psbtbridge.psbt.keymap import Entry, serialize_map
from psbtbridge.script import push
from psbtbridge.sighash import SighashCache, SighashType
from psbtbridge.tx import OutPoint, Tx, TxIn, TxOut
from psbtbridge.verify import verify_final_tx
from tests.conftest import load_vectors
from tests.support.verifying import spent_pairs

ROLES = load_vectors("psbt/bip174.json")["roles"]
CORE = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
PSBT_BIN = Path(sys.executable).parent / "psbt"


def _b64(text: str) -> Psbt:
    return Psbt.parse(base64.b64decode(text))


# --- vectors ----------------------------------------------------------------------------


def test_bip174_finalizer_and_extractor() -> None:
    combined = _b64(ROLES["combiner"]["result"]["psbt"])
    finalized = finalize(combined)
    assert finalized.serialize() == base64.b64decode(ROLES["finalizer"]["result"]["psbt"])
    tx = extract(finalized)
    assert tx.serialize().hex() == ROLES["extractor"]["result_tx_hex"]
    verify_final_tx(tx.serialize(), spent_pairs(spent_outputs(finalized)))


def test_core_finalizer_and_extractor() -> None:
    [finalizer], [extractor] = CORE["finalizer"], CORE["extractor"]
    finalized = finalize(_b64(finalizer["finalize"]))
    assert base64.b64encode(finalized.serialize()).decode() == finalizer["result"]
    assert extract(_b64(extractor["extract"])).serialize().hex() == extractor["result"]


def test_core_combined_low_r_signatures_finalize_and_verify() -> None:
    """Core's combiner result carries its own low-R signature where the BIP's has a high-R one."""
    finalized = finalize(_b64(CORE["combiner"][0]["result"]))
    verify_final_tx(extract(finalized).serialize(), spent_pairs(spent_outputs(finalized)))


def test_finalizing_twice_changes_nothing() -> None:
    finalized = finalize(_b64(ROLES["combiner"]["result"]["psbt"]))
    assert finalize(finalized) == finalized


# --- every supported script type, signed here and verified by bitcointx ------------------


def _secret(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _multisig(threshold: int, pubkeys: list[bytes]) -> bytes:
    keys = b"".join(push(k) for k in pubkeys)
    return bytes([0x50 + threshold]) + keys + bytes([0x50 + len(pubkeys), 0xAE])


@dataclass
class Spend:
    """One input to build: what it pays to and the fields a signer would have."""

    name: str
    script_pubkey: bytes
    keys: list[bytes]
    redeem_script: bytes | None = None
    witness_script: bytes | None = None
    taproot: bool = False


def _spends() -> list[Spend]:
    single = {name: _secret(name) for name in ("pkh", "wpkh", "sh-wpkh", "tr")}
    multi = [_secret(f"ms{i}") for i in range(3)]
    pubkeys = sorted(public_key(k) for k in multi)  # sortedmulti: keys in lexicographic order
    by_pub = {public_key(k): k for k in multi}
    ordered = [by_pub[p] for p in pubkeys]
    ws = _multisig(2, pubkeys)
    wpkh_of = {n: b"\x00\x14" + hash160(public_key(k)) for n, k in single.items()}
    p2wsh = b"\x00\x20" + sha256(ws)
    return [
        Spend(
            "pkh",
            b"\x76\xa9\x14" + hash160(public_key(single["pkh"])) + b"\x88\xac",
            [single["pkh"]],
        ),
        Spend("wpkh", wpkh_of["wpkh"], [single["wpkh"]]),
        Spend(
            "sh-wpkh",
            b"\xa9\x14" + hash160(wpkh_of["sh-wpkh"]) + b"\x87",
            [single["sh-wpkh"]],
            redeem_script=wpkh_of["sh-wpkh"],
        ),
        Spend("wsh", p2wsh, ordered, witness_script=ws),
        Spend(
            "sh-wsh",
            b"\xa9\x14" + hash160(p2wsh) + b"\x87",
            ordered,
            redeem_script=p2wsh,
            witness_script=ws,
        ),
        Spend("sh-multi", b"\xa9\x14" + hash160(ws) + b"\x87", ordered, redeem_script=ws),
        Spend(
            "tr",
            b"\x51\x20" + xonly_public_key(taproot_tweak_secret(single["tr"])),
            [single["tr"]],
            taproot=True,
        ),
    ]


def _unsigned(spends: list[Spend]) -> tuple[Psbt, Tx]:
    """A v0 PSBT spending one output of a funding transaction per Spend."""
    funding_in = TxIn(OutPoint(b"\x11" * 32, 0), b"", 0xFFFFFFFF)
    funding_out = tuple(TxOut(100_000 + i, s.script_pubkey) for i, s in enumerate(spends))
    funding = Tx(2, (funding_in,), funding_out, 0)
    inputs = tuple(TxIn(OutPoint(funding.txid(), i), b"", 0xFFFFFFFD) for i in range(len(spends)))
    tx = Tx(2, inputs, (TxOut(600_000, b"\x00\x14" + bytes(20)),), 0)
    maps = []
    for i, spend in enumerate(spends):
        entries = [Entry(InputType.NON_WITNESS_UTXO, b"", funding.serialize())]
        if spend.script_pubkey[:1] != b"\x76":
            entries.append(Entry(InputType.WITNESS_UTXO, b"", funding_out[i].serialize()))
        if spend.redeem_script is not None:
            entries.append(Entry(InputType.REDEEM_SCRIPT, b"", spend.redeem_script))
        if spend.witness_script is not None:
            entries.append(Entry(InputType.WITNESS_SCRIPT, b"", spend.witness_script))
        maps.append(serialize_map(tuple(entries)))
    raw = MAGIC + serialize_map((Entry(0, b"", tx.serialize()),)) + b"".join(maps)
    raw += serialize_map(())
    return Psbt.parse(raw), tx


def _signed(spends: list[Spend], signers: int = 2, reverse: bool = False) -> Psbt:
    psbt, tx = _unsigned(spends)
    spent = [TxOut(100_000 + i, s.script_pubkey) for i, s in enumerate(spends)]
    cache = SighashCache(tx, spent)
    for i, spend in enumerate(spends):
        inp = psbt.inputs[i]
        if spend.taproot:
            sighash = cache.taproot(i, SighashType.DEFAULT)
            inp = inp.with_tap_key_sig(sign_taproot_keypath(spend.keys[0], sighash))
        else:
            code = spend.witness_script or spend.redeem_script or spend.script_pubkey
            if code[:2] == b"\x00\x14":
                code = b"\x76\xa9\x14" + code[2:] + b"\x88\xac"  # BIP143 P2WPKH scriptCode
            keys = spend.keys[:signers]
            for key in reversed(keys) if reverse else keys:
                if (
                    spend.witness_script is not None
                    or spend.script_pubkey[:2] == b"\x00\x14"
                    or (spend.redeem_script is not None and spend.redeem_script[:1] == b"\x00")
                ):
                    sighash = cache.segwit_v0(i, code, spent[i].value, SighashType.ALL)
                else:
                    sighash = cache.legacy(i, code, SighashType.ALL)
                inp = inp.with_partial_sig(public_key(key), sign_ecdsa(key, sighash) + b"\x01")
        psbt = psbt.with_input(i, inp)
    return psbt


def test_every_script_type_finalizes_into_a_valid_transaction() -> None:
    spends = _spends()
    finalized = finalize(_signed(spends))
    tx = extract(finalized)
    verify_final_tx(tx.serialize(), spent_pairs(spent_outputs(finalized)))
    shapes = {
        s.name: (len(txin.script_sig) > 0, len(txin.witness))
        for s, txin in zip(spends, tx.inputs, strict=True)
    }
    assert shapes == {
        "pkh": (True, 0),
        "wpkh": (False, 2),
        "sh-wpkh": (True, 2),
        "wsh": (False, 4),  # empty dummy, two signatures, the witnessScript
        "sh-wsh": (True, 4),
        "sh-multi": (True, 0),
        "tr": (False, 1),
    }
    for inp in finalized.inputs:
        assert not inp.partial_sigs and inp.tap_key_sig is None and inp.witness_script is None


def test_multisig_signatures_go_in_key_order_and_extra_ones_are_left_out() -> None:
    spends = [s for s in _spends() if s.name == "wsh"]
    in_order = extract(finalize(_signed(spends)))
    reversed_order = extract(finalize(_signed(spends, reverse=True)))
    assert in_order == reversed_order
    all_three = finalize(_signed(spends, signers=3))
    witness = extract(all_three).inputs[0].witness
    assert witness[:3] == in_order.inputs[0].witness[:3]  # the first two keys' signatures
    verify_final_tx(extract(all_three).serialize(), spent_pairs(spent_outputs(all_three)))


@pytest.mark.parametrize("name", ["pkh", "wpkh", "sh-wpkh", "wsh", "sh-wsh", "sh-multi", "tr"])
def test_missing_signatures_are_refused_naming_the_input(name: str) -> None:
    spends = _spends()
    index = next(i for i, s in enumerate(spends) if s.name == name)
    fully = _signed(spends)
    if spends[index].witness_script or name == "sh-multi":
        lacking = _signed(spends, signers=1).inputs[index]  # 1 of the 2 signatures
    else:
        lacking = _unsigned(spends)[0].inputs[index]
    with pytest.raises(Refused) as caught:
        finalize(fully.with_input(index, lacking))
    assert caught.value.code == "finalize.missing_signature"
    assert caught.value.message.startswith(f"input {index}:")


def test_other_refusals() -> None:
    spends = _spends()
    psbt = _signed(spends)
    with pytest.raises(Refused) as caught:
        extract(psbt)
    assert caught.value.code == "finalize.not_finalized"
    wrong = psbt.with_input(3, psbt.inputs[3].with_entry(InputType.WITNESS_SCRIPT, b"", b"\x51"))
    with pytest.raises(Refused) as caught:
        finalize(wrong)
    assert caught.value.code == "finalize.script_mismatch"
    no_utxo = _unsigned([spends[1]])[0]
    bare = Psbt.parse(no_utxo.serialize().replace(no_utxo.inputs[0].serialize(), serialize_map(())))
    with pytest.raises(Refused) as caught:
        finalize(bare)
    assert caught.value.code == "finalize.missing_utxo"


@pytest.mark.parametrize("number", [8, 9])
def test_psbts_without_inputs_cannot_be_extracted(number: int) -> None:
    psbt = _b64(load_vectors("psbt/bip174.json")["valid"][number]["psbt"])
    assert not psbt.inputs
    with pytest.raises(InvalidInput) as caught:
        extract(finalize(psbt))
    assert caught.value.code == "finalize.no_inputs"


def test_taproot_script_path_is_not_finalized() -> None:
    valid = load_vectors("psbt/bip371.json")["valid"]
    script_path = next(
        p for v in valid if (p := _b64(v["psbt"])).inputs and p.inputs[0].tap_script_sigs
    )
    with pytest.raises(Refused, match="script-path") as caught:
        finalize(script_path)
    assert caught.value.code == "finalize.unsupported"


# --- the command line -----------------------------------------------------------------


def _psbt(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(PSBT_BIN), "finalize", *args], input=stdin, capture_output=True, check=False
    )


def test_cli_writes_the_verified_transaction(tmp_path: Path) -> None:
    source = tmp_path / "signed.psbt"
    source.write_text(ROLES["combiner"]["result"]["psbt"] + "\n")
    result = _psbt(str(source))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ROLES["extractor"]["result_tx_hex"].encode() + b"\n"
    out = tmp_path / "final.psbt"
    result = _psbt("--psbt", "-o", str(out), stdin=source.read_bytes())
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert out.read_text() == ROLES["finalizer"]["result"]["psbt"] + "\n"  # base64 in, base64 out


def test_cli_keeps_binary_and_hex_encodings(tmp_path: Path) -> None:
    raw = _signed(_spends()).serialize()
    for encoded in (raw, raw.hex().encode()):
        result = _psbt("--psbt", "-", stdin=encoded)
        assert result.returncode == 0, result.stderr
        finalized = Psbt.parse(
            bytes.fromhex(result.stdout.decode()) if encoded != raw else result.stdout
        )
        assert all(inp.is_finalized for inp in finalized.inputs)


def test_cli_exit_codes(tmp_path: Path) -> None:
    missing = _signed([_spends()[3]], signers=1).serialize()
    result = _psbt(stdin=missing)
    assert (result.returncode, result.stdout) == (1, b"")
    assert b"[finalize.missing_signature]" in result.stderr
    result = _psbt(stdin=b"not a psbt")
    assert result.returncode == 3 and b"[encoding.unknown]" in result.stderr
    result = _psbt(str(tmp_path / "absent.psbt"))
    assert result.returncode == 4 and b"[io.read_failed]" in result.stderr


def test_cli_refuses_a_transaction_that_does_not_verify(tmp_path: Path) -> None:
    """A valid-looking but wrong signature: finalize would succeed, the check must stop it."""
    psbt = _signed(_spends())
    wpkh = psbt.inputs[1]
    [partial] = wpkh.partial_sigs
    other_tx = Tx(2, (TxIn(OutPoint(bytes(32), 0), b"", 0),), (), 0)
    wrong = sign_ecdsa(_secret("wpkh"), SighashCache(other_tx).segwit_v0(0, b"", 1, 1)) + b"\x01"
    bad = psbt.with_input(1, wpkh.with_partial_sig(partial.pubkey, wrong))
    out = tmp_path / "tx.hex"
    result = _psbt("-o", str(out), stdin=bad.serialize())
    assert result.returncode == 1 and b"[verify.script_failed]" in result.stderr
    assert b"input 1" in result.stderr
    assert not out.exists()
