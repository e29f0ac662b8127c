"""cold/delivery.py in-process: the writability check, and a result kept until delivered.
(The same through the real command line, /dev/full and a full tmpfs: tests/test_sign_cli.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from cold.delivery import check_writable, deliver, keep_signature, kept_path
from psbtbridge.errors import BridgeError


def test_delivered_leaves_no_copy(tmp_path: Path) -> None:
    out = tmp_path / "out.psbt"
    deliver(tmp_path / "home", "ab" * 32, b"signed", str(out), lambda: out.write_bytes(b"signed"))
    assert out.read_bytes() == b"signed"
    assert list((tmp_path / "home" / "signed").iterdir()) == []


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_undelivered_is_kept_and_named(tmp_path: Path, failure: BaseException) -> None:
    def write() -> None:
        raise failure

    home = tmp_path / "home"
    with pytest.raises(BridgeError) as raised:
        deliver(home, "ab" * 32, b"signed", "stdout", write)
    kept = kept_path(home, "ab" * 32)
    assert raised.value.code == "sign.undelivered" and raised.value.exit_status == 4
    assert str(kept) in raised.value.message and kept.read_bytes() == b"signed"
    assert kept.stat().st_mode & 0o777 == 0o600


def test_an_output_that_is_a_folder_is_refused_before_signing(tmp_path: Path) -> None:
    with pytest.raises(BridgeError) as raised:
        check_writable(tmp_path / "home", str(tmp_path))
    assert raised.value.code == "io.write_failed"


def test_a_data_folder_under_a_file_is_unwritable(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(BridgeError) as raised:
        check_writable(tmp_path / "file" / "home", None)
    assert raised.value.code == "home.unwritable"


def test_a_message_signature_is_kept_by_its_message_hash(tmp_path: Path) -> None:
    digest = "ab" * 32
    path = keep_signature(tmp_path, digest, b"SIG\n")
    assert path == tmp_path / "signed" / f"{digest}.message.sig"
    assert path.read_bytes() == b"SIG\n" and path.stat().st_mode & 0o777 == 0o600


def test_a_signature_that_cannot_be_kept_says_so(tmp_path: Path) -> None:
    (tmp_path / "signed").write_text("a file where the folder should be")
    with pytest.raises(BridgeError) as raised:
        keep_signature(tmp_path, "cd" * 32, b"SIG\n")
    assert raised.value.code == "sign.not_kept" and "sign the message again" in str(raised.value)
