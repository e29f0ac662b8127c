"""Issue 16: every hostile input the fuzzing found ends in a documented code, through the real CLI.

Each input is committed under fuzz/regressions/ (the fuzz runner replays it too). Every run
here is the real `psbt` command in a subprocess, measured from outside: a documented code,
never internal.bug, within 5 s and 500 MB, nothing left on disk, refusals still logged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cold import audit
from tests.support.measured import Measured, run_measured
from tests.support.psbt_factory import (
    KeySet,
    Spend,
    build_psbt,
    change_to,
    external,
    make_keyset,
)

REGRESSIONS = Path(__file__).resolve().parents[1] / "fuzz" / "regressions"
DEEP_JSON = (REGRESSIONS / "stored_json" / "issue16-item3-deep-nesting.json").read_bytes()
IN, PAY, FEE = 1_000_000, 400_000, 2_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> KeySet:
    return make_keyset(tmp_path_factory.mktemp("fuzz_regressions") / "home", registered=True)


@pytest.fixture
def keys(template: KeySet, tmp_path: Path) -> KeySet:
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    return KeySet(home, template.wallets, template.seed)


def refused_request(keys: KeySet) -> bytes:
    """A PSBT the signer refuses (proof.missing_non_witness_utxo): it must be logged as such."""
    wallet = keys.wallets["p2wpkh"]
    return build_psbt(
        [Spend(wallet, 0, 3, IN, full_tx=False)],
        [external(1, PAY), change_to(wallet, 1, 3, IN - PAY - FEE)],
    )


def last_reason(keys: KeySet) -> str | None:
    """The reason code of the audit log's last record (None when the log is empty)."""
    records = audit.read_records(keys.home)
    return records[-1].record.reason if records else None


def sign(keys: KeySet, tmp_path: Path) -> tuple[Measured, Path]:
    request, output = tmp_path / "request.psbt", tmp_path / "signed.psbt"
    request.write_bytes(refused_request(keys))
    run = run_measured(
        "sign", str(request), "-o", str(output), "--confirm", "policy", home=keys.home
    )
    run.assert_bounded()
    return run, output


# --- items 1 and 2: policy.toml


@pytest.mark.parametrize(
    "name",
    [
        "issue16-item1-dotted-key.toml",
        "issue16-item2-deep-brackets.toml",
        "issue16-item2-long-integer.toml",
    ],
)
def test_hostile_policy(keys: KeySet, tmp_path: Path, name: str) -> None:
    (keys.home / "policy.toml").write_bytes((REGRESSIONS / "policy" / name).read_bytes())
    run, output = sign(keys, tmp_path)
    assert "[internal.bug]" not in run.stderr
    assert run.status == 4 and "[policy." in run.stderr, run.stderr
    assert not output.exists()
    reason = last_reason(keys)  # the request is logged, refused with the policy's own code
    assert reason is not None and f"[{reason}]" in run.stderr


# --- item 3: stored JSON files


def test_deep_json_in_the_audit_log(keys: KeySet, tmp_path: Path) -> None:
    log = keys.home / audit.LOG_NAME
    log.write_bytes(DEEP_JSON)
    run, output = sign(keys, tmp_path)
    run.assert_code(4, "audit.broken")
    assert not output.exists() and log.read_bytes() == DEEP_JSON
    for command in (["audit", "verify"], ["audit", "show"]):
        checked = run_measured(*command, home=keys.home)
        checked.assert_bounded()
        assert "[internal.bug]" not in checked.stderr + checked.stdout.decode()
        assert checked.status != 0 and "line 1" in checked.stdout.decode() + checked.stderr


@pytest.mark.parametrize(
    ("name", "code"),
    [("wallets.json", "wallet.registry_corrupt"), ("keystore.json", "keystore.corrupt")],
)
def test_deep_json_in_a_stored_file(keys: KeySet, tmp_path: Path, name: str, code: str) -> None:
    (keys.home / name).write_bytes(DEEP_JSON)
    run, output = sign(keys, tmp_path)
    run.assert_code(4, code)
    assert not output.exists() and (keys.home / name).read_bytes() == DEEP_JSON
    assert last_reason(keys) == code  # the request is logged, refused with the file's code
    assert "could not be logged" not in run.stderr


def test_deep_json_in_the_old_ledger(keys: KeySet, tmp_path: Path) -> None:
    """0.1's ledger.json feeds the state the audit log is written under: a request stopped
    by it cannot be logged, and says so."""
    (keys.home / "ledger.json").write_bytes(DEEP_JSON)
    run, output = sign(keys, tmp_path)
    run.assert_code(4, "ledger.corrupt")
    assert not output.exists() and (keys.home / "ledger.json").read_bytes() == DEEP_JSON
    assert last_reason(keys) is None and "logged" not in run.stderr  # and claims nothing


# --- items 4 and 5: Electrum's output (a stand-in prints what a hostile or broken Electrum
# could; the real Electrum never prints this, so only a stand-in can)


def stand_in_electrum(folder: Path, answers: dict[str, Path]) -> str:
    """A PSBTBRIDGE_ELECTRUM command printing a file for each command name, failing otherwise."""
    script = folder / "electrum"
    cases = "".join(f'    *" {name} "*) cat {path}; exit 0 ;;\n' for name, path in answers.items())
    script.write_text(
        f'#!/bin/sh\ncase " $* " in\n{cases}esac\necho "unexpected: $*" >&2\nexit 1\n'
    )
    script.chmod(0o755)
    return f"{script} --regtest --offline -D {folder / 'electrum-dir'}"


def test_deep_json_from_electrum_listaddresses(tmp_path: Path) -> None:
    from tests.support.electrum_harness import export_document

    export = tmp_path / "export.json"
    export.write_text(json.dumps(export_document()))
    wallet = tmp_path / "hot.wallet"
    deep = REGRESSIONS / "electrum_output" / "issue16-item4-deep-listaddresses.json"
    command = stand_in_electrum(tmp_path, {"listaddresses": deep})
    run = run_measured(
        "electrum",
        "setup-watch-only",
        "--from",
        str(export),
        "--wallet",
        str(wallet),
        env={"PSBTBRIDGE_ELECTRUM": command},
    )
    run.assert_bounded()
    run.assert_code(4, "electrum.bad_output")
    assert not wallet.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["electrum", "export.json"]


def test_huge_exponents_in_electrum_balances(tmp_path: Path) -> None:
    """getbalance has no command yet (API only): the same stand-in, through hot.electrum."""
    import resource
    import time

    from hot.electrum import Electrum
    from psbtbridge.errors import BridgeError

    answer = REGRESSIONS / "electrum_output" / "issue16-item5-huge-exponent.json"
    electrum = Electrum.from_environ(
        {"PSBTBRIDGE_ELECTRUM": stand_in_electrum(tmp_path, {"getbalance": answer})}
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    started = time.monotonic()
    with pytest.raises(BridgeError) as caught:
        electrum.get_balance(None)
    assert caught.value.code == "electrum.bad_output"
    assert time.monotonic() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_utime - before < 5


# --- item 6: a UR stream that never completes, from many images and from the camera

UR_FLOOD = (REGRESSIONS / "qr_joiner" / "issue16-item6-ur-flood.txt").read_text().split()


def test_ur_flood_from_many_images(tmp_path: Path) -> None:
    from psbtbridge.qr import render

    # 400 of the 700 parts: the old decoder took over 5 s for them, the new one stops early
    frames = [frame.upper() for frame in UR_FLOOD[:400]]  # as shown: QR alphanumeric mode
    images = render.write_pngs(frames, 4, tmp_path / "frames")
    run = run_measured(
        "qr", "scan", *map(str, images), "-o", str(tmp_path / "out.psbt"), cwd=tmp_path
    )
    run.assert_bounded()
    run.assert_code(3, "qr.ur_too_complex")
    assert not (tmp_path / "out.psbt").exists()


def test_ur_flood_from_the_camera(tmp_path: Path) -> None:
    frames = tmp_path / "frames.txt"
    frames.write_text("\n".join(UR_FLOOD) + "\n")
    folder = tmp_path / "bin"
    folder.mkdir()
    fake = folder / "zbarcam"  # stands in for the camera: prints frames as `zbarcam --raw` does
    fake.write_text(f"#!/bin/sh\ncat {frames}\nexec sleep 60\n")
    fake.chmod(0o755)
    run = run_measured(
        "qr",
        "scan",
        "--camera",
        "-o",
        str(tmp_path / "out.psbt"),
        cwd=tmp_path,
        env={"PATH": f"{folder}:/usr/bin:/bin"},
    )
    run.assert_bounded()
    run.assert_code(3, "qr.ur_too_complex")
    assert not (tmp_path / "out.psbt").exists()
