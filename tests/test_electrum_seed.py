"""cold/keystore/electrum_seed.py against Electrum's published seed vectors and seeds Electrum 4.3.4 made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from embit import bip39

from cold.keystore.electrum_seed import (
    ElectrumSeedType,
    SeedFormat,
    detect_format,
    electrum_seed,
    electrum_seed_type,
    normalize_text,
    seed_bytes,
)
from psbtbridge.bip32 import HARDENED
from psbtbridge.errors import InvalidInput, Refused, UsageError
from psbtbridge.script import ScriptType

VECTORS = Path(__file__).parent / "vectors" / "electrum"
PUBLISHED: dict[str, Any] = json.loads((VECTORS / "seed_vectors.json").read_text())
MADE: dict[str, Any] = json.loads((VECTORS / "seeds.json").read_text())


@pytest.mark.parametrize("case", PUBLISHED["mnemonic_to_seed"], ids=lambda c: c["name"])
def test_published_seed_vectors(case: dict[str, str]) -> None:
    assert seed_bytes(case["words"], case["passphrase"]).hex() == case["bip32_seed"]
    assert electrum_seed_type(case["words"]) == case["seed_type"]
    seed = electrum_seed(case["words"], case["passphrase"])
    assert seed.seed_bytes.hex() == case["bip32_seed"]


@pytest.mark.parametrize("case", PUBLISHED["seed_type"], ids=lambda c: c["words"][:30])
def test_published_seed_types(case: dict[str, str]) -> None:
    """Electrum's own table, except that pre-2.0 seeds in words (whose word list we do not
    ship) read as no seed type, and are refused as keys.not_electrum_seed."""
    expected = case["seed_type"] or None
    if expected == "old":
        expected = None
    assert electrum_seed_type(case["words"]) == expected


def test_old_hex_seeds_are_refused() -> None:
    for phrase in ("0123456789ABCDEF" * 2, "0123456789abcdef" * 4):
        assert electrum_seed_type(phrase) == "old"
        with pytest.raises(Refused) as caught:
            electrum_seed(phrase, "")
        assert caught.value.code == "keys.electrum_old_seed"


def test_2fa_seeds_are_refused() -> None:
    for phrase in ("science dawn member doll dutch real can brick knife deny drive list", "6vs"):
        with pytest.raises(Refused) as caught:
            electrum_seed(phrase, "")
        assert caught.value.code == "keys.electrum_2fa_seed"


def test_a_phrase_of_no_seed_type_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        electrum_seed("cram swing cover prefer miss modify ritual silly deliver chunk behind", "")
    assert caught.value.code == "keys.not_electrum_seed"


def test_normalization_as_electrum() -> None:
    assert normalize_text("  OStrich\tSecurity\n Deer ") == "ostrich security deer"
    assert normalize_text("Español  ÁRBOL") == "espanol arbol"
    # spaces between CJK characters vanish, other spaces stay
    assert normalize_text("眼 悲  叛 abc 改") == "眼悲叛 abc 改"


def test_derivation_each_seed_type_implies() -> None:
    standard = electrum_seed(MADE["seeds"]["standard"], "")
    assert (standard.seed_type, standard.script_type, standard.derivation) == (
        ElectrumSeedType.STANDARD,
        ScriptType.P2PKH,
        (),
    )
    segwit = electrum_seed(MADE["seeds"]["segwit_encrypted"], "")
    assert (segwit.script_type, segwit.derivation) == (ScriptType.P2WPKH, (HARDENED,))
    multisig = electrum_seed(MADE["seeds"]["multisig_x1"], "", multisig=True)
    assert (multisig.script_type, multisig.derivation) == (ScriptType.P2WSH, (1 + HARDENED,))
    assert electrum_seed(MADE["seeds"]["standard"], "", multisig=True).script_type is (
        ScriptType.P2SH
    )


def test_auto_detection() -> None:
    assert detect_format(MADE["seeds"]["segwit_encrypted"], SeedFormat.AUTO) is SeedFormat.ELECTRUM
    assert detect_format(MADE["seeds"]["bip39"], SeedFormat.AUTO) is SeedFormat.BIP39
    # neither: the BIP39 reader gets it, to name the bad word or checksum
    assert detect_format("not a seed at all", SeedFormat.AUTO) is SeedFormat.BIP39
    # asked explicitly: no guessing
    assert detect_format(MADE["seeds"]["ambiguous"], SeedFormat.BIP39) is SeedFormat.BIP39
    assert detect_format(MADE["seeds"]["ambiguous"], SeedFormat.ELECTRUM) is SeedFormat.ELECTRUM


def test_a_phrase_valid_both_ways_is_refused_in_auto() -> None:
    phrase = MADE["seeds"]["ambiguous"]
    assert bip39.mnemonic_is_valid(phrase) and electrum_seed_type(phrase) == "segwit"
    with pytest.raises(UsageError) as caught:
        detect_format(phrase, SeedFormat.AUTO)
    assert caught.value.code == "keys.ambiguous_seed"
    assert "--seed-type" in caught.value.message
