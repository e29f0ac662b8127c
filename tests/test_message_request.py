"""cold/message_request.py: one message request as a service body would make it (caller,
mode and passphrase file as parameters); what it refuses before anything is shown."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cold import audit
from cold.keystore import load_keystore
from cold.message_request import MessageRequest, sign_message_request
from psbtbridge.errors import BridgeError, ConfigError, Refused
from psbtbridge.network import Network
from psbtbridge.script import address_of
from tests.support.psbt_factory import init_keystore


@pytest.fixture(scope="module")
def keystore_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("message_request") / "home"
    init_keystore(home)
    return home


def _address(home: Path) -> str:
    wallet = next(w for w in load_keystore(home).wallets if w.name == "p2wpkh")
    found = address_of(wallet.derive(0, 0).script_pubkey, Network.REGTEST)
    assert found is not None
    return found


def test_headless_gui_request_fails_and_signs_nothing(
    keystore_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service call with no display must never turn into a silent signature."""
    monkeypatch.delenv("DISPLAY", raising=False)
    request = MessageRequest(keystore_home, confirm="gui", caller="electrum-hot")
    with pytest.raises(ConfigError) as caught:
        sign_message_request(b"hello", _address(keystore_home), request)
    assert caught.value.code == "confirm.no_display"
    assert audit.read_records(keystore_home) == []


@pytest.mark.parametrize("mode", ["policy", "auto", ""])
def test_only_a_person_confirms(keystore_home: Path, mode: str) -> None:
    with pytest.raises(Refused) as caught:
        sign_message_request(b"hello", _address(keystore_home), MessageRequest(keystore_home, mode))
    assert caught.value.code == "message.unattended"


def test_message_checks_come_before_the_keystore(tmp_path: Path) -> None:
    """An oversized or undecodable message is refused even where no keystore exists."""
    request = MessageRequest(tmp_path / "nothing-here", confirm="tty")
    for data, code in ((b"x" * (64 * 1024 + 1), "message.too_long"), (b"\xc3", "message.not_utf8")):
        with pytest.raises(BridgeError) as caught:
            sign_message_request(data, "bcrt1qanything", request)
        assert caught.value.code == code


def test_a_digest_that_names_another_message_is_refused_and_logged(keystore_home: Path) -> None:
    """As the transaction pipeline does: the refusal, its full sentence and the caller are
    kept here; the service tells the caller only the code's meaning."""
    before = len(audit.read_records(keystore_home))
    request = MessageRequest(
        keystore_home, confirm="gui", caller="electrum-hot", expected_digest="0badc0de"
    )
    with pytest.raises(Refused) as caught:
        sign_message_request(b"hello", _address(keystore_home), request)
    assert caught.value.code == "service.digest_mismatch"
    (entry,) = audit.read_records(keystore_home)[before:]
    record = entry.record
    assert (record.decision, record.reason, record.caller) == (
        "refused",
        "service.digest_mismatch",
        "electrum-hot",
    )
    assert record.sentence == caught.value.message
    assert record.txid == hashlib.sha256(b"hello").hexdigest()
