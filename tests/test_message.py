"""psbtbridge/message.py, psbtbridge/bip322.py and cold/message_sign.py: signed messages.

BIP-322 against the BIP's own vectors (tests/vectors/message); Electrum's format against
the real Electrum (Debian 12's 4.3.4, and 4.5.8 in CI's Debian 13 root): ours verify there,
Electrum's verify here, and both sign the same bytes (RFC6979 with Core's low-R grinding).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from embit.ec import PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from cold.crypto import public_key
from cold.keystore.seed import single_sig_path
from cold.message_sign import (
    MessageOwner,
    check_format,
    default_format,
    find_owner,
    sign_bip322_simple,
    sign_electrum,
    sign_message,
)
from psbtbridge import bip322, message
from psbtbridge.compact import compact_size
from psbtbridge.errors import BridgeError, InvalidInput, Refused
from psbtbridge.message import MessageFormat, script_of_address, verify_message
from psbtbridge.network import Network
from psbtbridge.script import ScriptType, address_of
from psbtbridge.wallet import Wallet
from tests.conftest import load_vectors
from tests.support.electrum_harness import (
    MNEMONIC,
    SINGLE_PATHS,
    create_seed_wallet,
    electrum_run,
    regtest_electrum,
)
from tests.support.psbt_factory import STRANGER_MNEMONIC, seed_of

VECTORS: dict[str, Any] = load_vectors("message/bip322.json")
BASIC, GENERATED = VECTORS["basic"], VECTORS["generated"]
#: Kinds of BIP-322 signature this verifier reports as inconclusive (BIP-322's third state):
#: script paths, time locks (python-bitcointx cannot run CLTV/CSV) and P2SH multisig.
INCONCLUSIVE = {
    "p2tr-time-lock",
    "p2wsh-time-lock",
    "p2sh-p2wsh-multisig-2of2",
    "p2sh-multisig-2of2",
}
REGTEST = Network.REGTEST
MESSAGES = {
    "ascii": "psbtbridge says hello",
    "non_ascii": "Grüße, мир, 测试文本 \U0001f604",
    "newline": "first line\nsecond line\n",
}


def _cases(section: list[dict[str, Any]], prefix: str) -> list[Any]:
    return [
        pytest.param(case, signature, id=f"{prefix}-{n}-{case['type']}-{k}")
        for n, case in enumerate(section)
        for k, signature in enumerate(case["bip322_signatures"])
    ]


# --- hashes and the virtual transactions ----------------------------------------------------


@pytest.mark.parametrize("case", BASIC["tx_hashes"], ids=lambda c: repr(c["message"][:12]))
def test_bip322_message_hash_and_virtual_transactions(case: dict[str, Any]) -> None:
    challenge = script_of_address(case["address"])
    text = case["message"].encode()
    spend = bip322.to_spend(challenge, text)
    assert bip322.message_hash(text).hex() == case["message_hash"]
    assert spend.txid_hex() == case["to_spend_tx_hash"]
    assert bip322.to_sign(spend).txid_hex() == case["to_sign_tx_hash"]


def test_signed_message_hash_is_the_magic_prefix_and_a_compact_length() -> None:
    import hashlib

    text = b"x" * 300  # a length over 252 takes a three-byte compact size
    expected = b"\x18Bitcoin Signed Message:\n\xfd\x2c\x01" + text
    assert (
        message.signed_message_hash(text)
        == hashlib.sha256(hashlib.sha256(expected).digest()).digest()
    )


# --- BIP-322 verification against the BIP's vectors -----------------------------------------


@pytest.mark.parametrize(
    ("case", "signature"),
    _cases(BASIC["simple"], "basic")
    + _cases(GENERATED["simple"], "simple")
    + _cases(GENERATED["full"], "full"),
)
def test_bip322_vector_signatures(case: dict[str, Any], signature: str) -> None:
    challenge = script_of_address(case["address"])
    if case["type"] in INCONCLUSIVE:
        with pytest.raises(Refused) as caught:
            verify_message(challenge, signature, case["message"].encode())
        assert caught.value.code == "message.inconclusive"
        return
    verified = verify_message(challenge, signature, case["message"].encode())
    assert verified.format == ("bip322-full" if signature.startswith("ful") else "bip322-simple")


@pytest.mark.parametrize("case", GENERATED["proof_of_funds"], ids=lambda c: c["message"])
def test_bip322_proof_of_funds_is_inconclusive(case: dict[str, Any]) -> None:
    challenge = script_of_address(case["address"])
    with pytest.raises(Refused) as caught:
        verify_message(challenge, case["bip322_signatures"][0], case["message"].encode())
    assert caught.value.code == "message.inconclusive"


@pytest.mark.parametrize(
    "case", BASIC["error"] + GENERATED["error"], ids=lambda c: c["description"][:50]
)
def test_bip322_error_vectors_fail(case: dict[str, Any]) -> None:
    challenge = script_of_address(case["address"])
    with pytest.raises(BridgeError) as caught:
        verify_message(challenge, case["signature"], case["message"].encode())
    # "invalid signature": well formed but wrong (exit 1); the rest cannot be decoded (exit 3)
    if case["error_substr"] == "invalid signature":
        assert isinstance(caught.value, Refused)
        assert caught.value.code == "message.invalid"
    else:
        assert isinstance(caught.value, InvalidInput)
        assert caught.value.code == "message.bad_signature"


# --- BIP-322 signing ------------------------------------------------------------------------


def _secret(wif: str) -> bytes:
    return bytes(PrivateKey.from_wif(wif).secret)


@pytest.mark.parametrize("case", BASIC["simple"][:2], ids=lambda c: repr(c["message"]))
def test_bip322_p2wpkh_signing_gives_the_bip_signature(case: dict[str, Any]) -> None:
    """RFC6979 with low-R grinding is deterministic: the BIP lists that signature first."""
    signature = sign_bip322_simple(
        _secret(case["private_keys"][0]), ScriptType.P2WPKH, case["message"].encode()
    )
    assert signature == case["bip322_signatures"][0]


@pytest.mark.parametrize(
    "case",
    [c for c in BASIC["simple"] + GENERATED["simple"] if c["type"] in ("p2wpkh", "p2tr")],
    ids=lambda c: f"{c['type']}-{c['message'][:8]}",
)
def test_bip322_signatures_we_make_verify_and_tampering_fails(case: dict[str, Any]) -> None:
    challenge = script_of_address(case["address"])
    text = case["message"].encode()
    signature = sign_bip322_simple(
        _secret(case["private_keys"][0]), ScriptType(case["type"]), text, aux_rand=bytes(32)
    )
    assert verify_message(challenge, signature, text).format == "bip322-simple"
    raw = bytearray(base64.b64decode(signature[3:]))
    raw[10] ^= 1  # inside the signature
    with pytest.raises(Refused) as caught:
        verify_message(challenge, "smp" + base64.b64encode(raw).decode(), text)
    assert caught.value.code == "message.invalid"
    with pytest.raises(Refused):
        verify_message(challenge, signature, text + b".")


def test_unprefixed_simple_signature_is_accepted_as_bip322_allows() -> None:
    case = BASIC["simple"][1]
    challenge = script_of_address(case["address"])
    verified = verify_message(challenge, case["bip322_signatures"][0][3:], b"Hello World")
    assert verified.format == "bip322-simple"


# --- Electrum format ------------------------------------------------------------------------


def test_electrum_header_bytes_follow_electrum() -> None:
    secret = _secret(BASIC["simple"][0]["private_keys"][0])
    raw = base64.b64decode(sign_electrum(secret, b"hello"))
    assert 31 <= raw[0] <= 34  # compressed key, for every script type, as Electrum writes
    p2wpkh = script_of_address(BASIC["simple"][0]["address"])
    verify_message(p2wpkh, base64.b64encode(raw).decode(), b"hello")
    recid = raw[0] - 31
    # BIP137's script-specific headers are accepted for their own type only
    for header, ok in ((39 + recid, True), (35 + recid, False), (27 + recid, False), (43, False)):
        changed = base64.b64encode(bytes([header]) + raw[1:]).decode()
        if ok:
            verify_message(p2wpkh, changed, b"hello")
        else:
            with pytest.raises(Refused):
                verify_message(p2wpkh, changed, b"hello")


def test_electrum_malformed_signatures_are_invalid_input() -> None:
    p2wpkh = script_of_address(BASIC["simple"][0]["address"])
    for bad in ("", "!!!!", base64.b64encode(bytes(64)).decode()):
        with pytest.raises(InvalidInput):
            verify_message(p2wpkh, bad, b"hello")


def _single(script_type: ScriptType, mnemonic: str = MNEMONIC) -> Wallet:
    seed = seed_of(mnemonic)
    path = single_sig_path(script_type, REGTEST, 0)
    return Wallet(script_type.value, script_type, 1, (seed.account_key(path),), False, REGTEST)


# --- with the real Electrum (4.3.4 here, 4.5.8 in CI's Debian 13 root) ---------------------

#: The script types Electrum signs messages for (not taproot), at their BIP44/49/84 accounts.
_ELECTRUM_TYPES = [ScriptType.P2PKH, ScriptType.P2SH_P2WPKH, ScriptType.P2WPKH]


@pytest.mark.parametrize("script_type", _ELECTRUM_TYPES, ids=[t.value for t in _ELECTRUM_TYPES])
def test_electrum_format_interoperates_with_real_electrum(
    tmp_path: Path, script_type: ScriptType
) -> None:
    """Ours verify in Electrum, Electrum's here, and both sign the same bytes. The empty
    --password: offline, 4.5 asks for one even when the wallet has none."""
    wallet = _single(script_type)
    seed = seed_of(MNEMONIC)
    electrum = regtest_electrum(tmp_path / "electrum")
    electrum_wallet = create_seed_wallet(
        tmp_path / f"{script_type.value}.wallet", MNEMONIC, SINGLE_PATHS[script_type.value]
    )
    sign_args = ["-w", str(electrum_wallet), "signmessage", "--password", ""]
    for chain, index in ((0, 3), (1, 0)):
        owner = MessageOwner(wallet, chain, index, wallet.derive(chain, index))
        address = address_of(owner.derived.script_pubkey, REGTEST)
        assert address is not None
        for name, text in MESSAGES.items():
            if chain == 1 and name != "newline":
                continue  # change addresses: one message is enough
            ours = sign_message(seed, owner, text.encode(), MessageFormat.ELECTRUM)
            assert electrum_run(electrum, "verifymessage", address, ours, text) == "true", name
            theirs = electrum_run(electrum, *sign_args, address, text)
            verify_message(owner.derived.script_pubkey, theirs, text.encode())
            assert theirs == ours, f"{name}: same key, same RFC6979 nonce, same bytes"
    # a tampered signature fails in both
    owner = MessageOwner(wallet, 0, 0, wallet.derive(0, 0))
    address = address_of(owner.derived.script_pubkey, REGTEST)
    assert address is not None
    raw = bytearray(base64.b64decode(sign_message(seed, owner, b"pay me", MessageFormat.ELECTRUM)))
    raw[20] ^= 0x40
    tampered = base64.b64encode(bytes(raw)).decode()
    assert electrum_run(electrum, "verifymessage", address, tampered, "pay me") == "false"
    with pytest.raises(Refused):
        verify_message(owner.derived.script_pubkey, tampered, b"pay me")


# --- which key signs ------------------------------------------------------------------------


def test_find_owner_receive_change_window_and_strangers() -> None:
    wallets = [_single(ScriptType.P2WPKH), _single(ScriptType.P2TR)]
    change = wallets[1].derive(1, 9).script_pubkey
    owner = find_owner(wallets, change, window=10)
    assert (owner.wallet.name, owner.chain, owner.index) == ("p2tr", 1, 9)
    assert owner.path == "m/86h/1h/0h/1/9"
    with pytest.raises(Refused) as beyond:
        find_owner(wallets, change, window=9)
    assert beyond.value.code == "message.not_ours"
    stranger = _single(ScriptType.P2WPKH, STRANGER_MNEMONIC).derive(0, 0).script_pubkey
    with pytest.raises(Refused) as foreign:
        find_owner(wallets, stranger, window=10)
    assert foreign.value.code == "message.not_ours"


def test_formats_per_script_type() -> None:
    assert default_format(ScriptType.P2WPKH) is MessageFormat.ELECTRUM
    assert default_format(ScriptType.P2TR) is MessageFormat.BIP322
    assert check_format(ScriptType.P2WPKH, MessageFormat.BIP322) is MessageFormat.BIP322
    for script_type, chosen in (
        (ScriptType.P2TR, MessageFormat.ELECTRUM),
        (ScriptType.P2PKH, MessageFormat.BIP322),
        (ScriptType.P2SH_P2WPKH, MessageFormat.BIP322),  # BIP-322 simple is native segwit only
    ):
        with pytest.raises(Refused) as caught:
            check_format(script_type, chosen)
        assert caught.value.code == "message.unsupported_format"


@pytest.mark.parametrize("script_type", [ScriptType.P2WPKH, ScriptType.P2TR], ids=lambda t: t.value)
def test_bip322_signing_from_the_seed(script_type: ScriptType) -> None:
    wallet = _single(script_type)
    owner = MessageOwner(wallet, 0, 2, wallet.derive(0, 2))
    text = MESSAGES["non_ascii"].encode()
    signature = sign_message(seed_of(MNEMONIC), owner, text, MessageFormat.BIP322)
    assert signature.startswith("smp")
    assert verify_message(owner.derived.script_pubkey, signature, text).format == "bip322-simple"
    with pytest.raises(BridgeError) as caught:  # another seed never signs for our address
        sign_message(seed_of(STRANGER_MNEMONIC), owner, text, MessageFormat.BIP322)
    assert caught.value.code == "sign.key_mismatch"


# --- addresses and the message as shown -----------------------------------------------------


def test_script_of_address() -> None:
    address = BASIC["simple"][0]["address"]
    script = script_of_address(address)
    assert script_of_address(address.upper()) == script  # bech32 may be all upper case
    assert script_of_address(address, Network.MAIN) == script
    with pytest.raises(InvalidInput) as wrong:
        script_of_address(address, REGTEST)
    assert wrong.value.code == "address.wrong_network"
    for garbage in ("", "bc1", address[:-1] + "x", address[:5] + address[5:].upper(), "x" * 200):
        with pytest.raises(InvalidInput) as bad:
            script_of_address(garbage)
        assert bad.value.code == "address.bad_address"


def test_visible_lines_spell_out_what_a_terminal_would_hide() -> None:
    lines = message.visible_lines("a\\b\tc\x1b[2J\r\nа\u200b")
    assert lines == [
        "a\\\\b\\tc\\u{1b}[2J\\r\\n",
        "\\u{430 CYRILLIC SMALL LETTER A}\\u{200b ZERO WIDTH SPACE}",
    ]
    assert all(line.isascii() and line.isprintable() for line in lines)


def test_check_message_cap_and_encoding() -> None:
    assert message.check_message("ü".encode()) == "ü"
    with pytest.raises(Refused) as long:
        message.check_message(b"x" * (message.MAX_MESSAGE_SIZE + 1))
    assert long.value.code == "message.too_long"
    with pytest.raises(InvalidInput) as undecodable:
        message.check_message(b"\xff")
    assert undecodable.value.code == "message.not_utf8"


@given(st.text(max_size=200))
def test_arbitrary_signatures_raise_only_bridge_errors(text: str) -> None:
    script = bytes.fromhex("0014") + bytes(20)
    with pytest.raises(BridgeError):
        verify_message(script, text, b"m")


def test_simple_signatures_are_prefixed_witness_stacks() -> None:
    assert (
        bip322.encode_simple((b"\x01",))
        == "smp" + base64.b64encode(compact_size(1) + b"\x01\x01").decode()
    )


def test_electrum_uncompressed_headers_are_for_p2pkh_only() -> None:
    """BIP137 27-30: an uncompressed key, whose only address we accept is P2PKH."""
    from embit.util import secp256k1

    from psbtbridge.hashes import hash160

    secret = _secret(BASIC["simple"][0]["private_keys"][0])
    raw = base64.b64decode(sign_electrum(secret, b"old style"))
    point = secp256k1.ec_pubkey_create(secret)
    uncompressed = bytes(secp256k1.ec_pubkey_serialize(point, secp256k1.EC_UNCOMPRESSED))
    old = base64.b64encode(bytes([raw[0] - 4]) + raw[1:]).decode()
    p2pkh = b"\x76\xa9\x14" + hash160(uncompressed) + b"\x88\xac"
    assert verify_message(p2pkh, old, b"old style").format == "electrum"
    with pytest.raises(Refused):
        verify_message(b"\x00\x14" + hash160(uncompressed), old, b"old style")
    with pytest.raises(Refused):  # the compressed key's P2PKH is another address
        verify_message(
            b"\x76\xa9\x14" + hash160(public_key(secret)) + b"\x88\xac", old, b"old style"
        )


def test_find_owner_looks_into_p2sh_wallets() -> None:
    wallets = [_single(t) for t in (ScriptType.P2PKH, ScriptType.P2SH_P2WPKH, ScriptType.P2WPKH)]
    target = wallets[1].derive(0, 17).script_pubkey
    owner = find_owner(wallets, target, window=20)
    assert (owner.wallet.script_type, owner.chain, owner.index) == (ScriptType.P2SH_P2WPKH, 0, 17)
    assert owner.path == "m/49h/1h/0h/0/17"


@given(st.text(max_size=300))
def test_visible_lines_are_printable_ascii_and_keep_every_line(text: str) -> None:
    lines = message.visible_lines(text)
    assert all(line.isascii() and line.isprintable() for line in lines)
    assert len(lines) == text.count("\n") + 1
