"""commands/inspect.py: `psbt inspect` on every vector (exit 0 or 3), the --json layout, real subprocess runs."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from psbtbridge.cli import run
from psbtbridge.errors import CODES
from tests.conftest import load_vectors
from tests.support.psbt_cli import run_psbt_on_tty
from tests.support.psbt_factory import Spend, build_psbt, change_to, external, mainnet, make_keyset

PSBT = str(Path(sys.executable).parent / "psbt")


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _vectors(kind: str) -> list[Any]:
    cases = []
    for name in ("bip174", "bip370", "bip371", "bip373-musig2"):
        for index, case in enumerate(load_vectors(f"psbt/{name}.json").get(kind, [])):
            cases.append(pytest.param(_b64(case["psbt"]), id=f"{name}-{kind}-{index}"))
    core = load_vectors("psbt/bitcoin-core-rpc_psbt.json")
    if kind == "valid":
        cases += [pytest.param(_b64(t), id=f"core-valid-{i}") for i, t in enumerate(core["valid"])]
    else:
        cases += [
            pytest.param(_b64(t), id=f"core-invalid-{i}") for i, t in enumerate(core["invalid"])
        ]
        cases += [
            pytest.param(_b64(t), id=f"core-invalid_with_msg-{i}")
            for i, (t, _msg) in enumerate(core["invalid_with_msg"])
        ]
    return cases


# Every valid vector but the one whose inputs demand both lock kinds (BIP370 timelock 8).
TIMELOCKS = load_vectors("psbt/bip370.json")["timelock"]
VALID = _vectors("valid") + [
    pytest.param(_b64(case["psbt"]), id=f"bip370-timelock-{i}")
    for i, case in enumerate(TIMELOCKS)
    if case["expected_locktime"] is not None
]
INVALID = _vectors("invalid")


def _write(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "in.psbt"
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("data", VALID)
def test_valid_vectors_exit_0(
    data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, data)
    assert run(["inspect", path, "--network", "main"]) == 0
    assert "unsigned txid" in capsys.readouterr().out
    assert run(["inspect", path, "--json", "--network", "main"]) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == 2


@pytest.mark.parametrize("data", INVALID)
def test_invalid_vectors_exit_3(
    data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["inspect", _write(tmp_path, data), "--json"]) == 3
    error = json.loads(capsys.readouterr().out)
    assert error["code"].split(".")[0] in ("psbt", "wire", "encoding")
    assert error["error"]


def test_locktime_conflict_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["inspect", _write(tmp_path, _b64(TIMELOCKS[8]["psbt"]))]) == 3
    assert "[psbt.locktime_conflict]" in capsys.readouterr().err


INPUT_KEYS = {
    "index": int,
    "outpoint": str,
    "amount": (int, type(None)),
    "amount_source": (str, type(None)),
    "amount_proven": bool,
    "script_type": str,
    "address": (str, type(None)),
    "sequence": int,
    "sighash": (str, type(None)),
    "partial_sigs": int,
    "tap_key_sig": bool,
    "tap_script_sigs": int,
    "finalized": bool,
}
OUTPUT_KEYS = {
    "index": int,
    "amount": int,
    "script_type": str,
    "address": (str, type(None)),
    "script_pubkey": str,
}
TOP_KEYS = {
    "schema": int,
    "network": str,
    "psbt_version": int,
    "tx_version": int,
    "unsigned_txid": str,
    "txid": (str, type(None)),
    "locktime": int,
    "locktime_kind": str,
    "rbf": bool,
    "inputs": list,
    "outputs": list,
    "input_total": (int, type(None)),
    "output_total": int,
    "fee": (int, type(None)),
    "fee_percent": (float, type(None)),
    "vsize": int,
    "vsize_basis": str,
    "fee_rate": (float, type(None)),
    "refusals": list,
    "warnings": list,
    "proof": (dict, type(None)),
}
SCRIPT_TYPES = {"p2pkh", "p2sh-p2wpkh", "p2wpkh", "p2wsh", "p2sh-p2wsh", "p2sh", "p2tr", "unknown"}


def _check_keys(obj: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(obj) == set(expected)
    for key, kind in expected.items():
        assert isinstance(obj[key], kind), key


@pytest.mark.parametrize("data", VALID)
def test_json_schema(data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The documented --json layout (README, schema 2), field by field, on every valid vector."""
    assert run(["inspect", _write(tmp_path, data), "--json", "--network", "test"]) == 0
    out = json.loads(capsys.readouterr().out)
    _check_keys(out, TOP_KEYS)
    assert out["schema"] == 2 and out["network"] == "test"
    assert out["locktime_kind"] in ("none", "height", "time")
    assert out["vsize_basis"] in ("final", "estimate", "smallest")
    for inp in out["inputs"]:
        _check_keys(inp, INPUT_KEYS)
        assert inp["script_type"] in SCRIPT_TYPES
        assert inp["amount_source"] in ("non_witness_utxo", "witness_utxo", None)
    for out_ in out["outputs"]:
        _check_keys(out_, OUTPUT_KEYS)
        assert out_["script_type"] in SCRIPT_TYPES | {"op_return"}
    for finding in out["refusals"] + out["warnings"]:
        assert set(finding) == {"code", "place", "message"}
        assert finding["code"] in CODES


BIP174 = load_vectors("psbt/bip174.json")


@pytest.mark.parametrize(
    "encode",
    [
        lambda b: b,
        lambda b: base64.b64encode(b) + b"\n",
        lambda b: b.hex().encode() + b"\n",
    ],
    ids=["binary", "base64", "hex"],
)
def test_subprocess_stdin_in_every_encoding(encode: Any) -> None:
    data = base64.b64decode(BIP174["valid"][3]["psbt"])
    result = subprocess.run(
        [PSBT, "inspect", "-", "--json", "--network", "main"],
        input=encode(data),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["fee"] == 90_341
    assert [i["script_type"] for i in out["inputs"]] == ["p2pkh", "p2sh-p2wpkh"]


@pytest.mark.parametrize(
    "text",
    [
        BIP174["invalid"][4]["psbt"],  # duplicate key
        BIP174["invalid"][18]["psbt"],  # unsigned tx with witness serialization
        load_vectors("psbt/bip370.json")["invalid"][13]["psbt"],  # v2 with unsigned tx
        load_vectors("psbt/bip371.json")["invalid"][9]["psbt"],  # control block too long
        "not a psbt at all",
    ],
    ids=["dup-key", "witness-tx", "v2-unsigned-tx", "control-block", "garbage"],
)
def test_subprocess_invalid_exits_3_with_one_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.psbt"
    path.write_text(text)
    result = subprocess.run(
        [PSBT, "inspect", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("psbt: error: ")


def test_subprocess_text_view_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "ok.psbt"
    path.write_text(BIP174["valid"][5]["psbt"])
    result = subprocess.run(
        [PSBT, "inspect", str(path), "--network", "regtest"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "bcrt1q" in result.stdout and "fee rate" in result.stdout
    missing = subprocess.run(
        [PSBT, "inspect", str(tmp_path / "nope")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 4 and "[io.read_failed]" in missing.stderr


def test_the_network_is_the_keystores_beside_it_else_the_paths_else_asked(
    tmp_path: Path,
) -> None:
    """Issue 14 item 6: a regtest PSBT beside a regtest keystore shows bcrt1 addresses, as
    the signer does; alone it cannot be told from testnet, so --network is asked for; shown
    for another network than its paths name, it says so."""
    keys = make_keyset(tmp_path / "home", registered=False)  # a regtest keystore
    wallet = keys.wallets["p2wpkh"]
    path = tmp_path / "regtest.psbt"
    path.write_bytes(build_psbt([Spend(wallet, 0, 3, 100_000)], [change_to(wallet, 0, 5, 90_000)]))

    def inspect(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PSBT, "inspect", str(path), *args],
            env={**os.environ, "PSBTBRIDGE_HOME": str(home)},
            capture_output=True,
            text=True,
            check=False,
        )

    beside = inspect(keys.home)
    assert beside.returncode == 0, beside.stderr
    assert "addresses for regtest" in beside.stdout and "bcrt1q" in beside.stdout
    assert "network_mismatch" not in beside.stdout
    alone = inspect(tmp_path / "empty")
    assert alone.returncode == 2 and alone.stderr.endswith("[inspect.network_unknown]\n")
    as_main = inspect(tmp_path / "empty", "--network", "main")
    assert as_main.returncode == 0 and " bc1q" in as_main.stdout
    assert "[warning.network_mismatch]" in as_main.stdout
    main_paths = tmp_path / "main.psbt"
    main_paths.write_bytes(
        build_psbt([Spend(wallet, 0, 3, 100_000, rewrite=mainnet)], [external(1, 90_000)])
    )
    path = main_paths
    assert "addresses for main" in inspect(tmp_path / "empty").stdout


def _inspect_file(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PSBT, "inspect", str(path), "--network", "main", *options],
        capture_output=True,
        text=True,
        check=False,
    )


def test_subprocess_wrapped_base64_and_hex_are_read(tmp_path: Path) -> None:
    """The `base64` tool's 76-column lines and a paste broken anywhere carry no data."""
    raw = _b64(BIP174["valid"][5]["psbt"])
    path = tmp_path / "wrapped.psbt"
    path.write_bytes(base64.encodebytes(raw))  # what `base64 signed.psbt` prints
    assert _inspect_file(path).returncode == 0
    hex_text = raw.hex()
    path.write_text(" \n".join(hex_text[i : i + 50] for i in range(0, len(hex_text), 50)))
    result = _inspect_file(path)
    assert result.returncode == 0, result.stderr
    assert "unsigned txid" in result.stdout


def test_subprocess_cut_off_paste_says_truncated(tmp_path: Path) -> None:
    raw = _b64(BIP174["valid"][5]["psbt"])
    path = tmp_path / "cut.psbt"
    path.write_bytes(base64.b64encode(raw)[:-2])
    result = _inspect_file(path)
    assert result.returncode == 3
    assert "[encoding.truncated]" in result.stderr and "looks truncated" in result.stderr
    assert "2 characters missing" in result.stderr
    path.write_bytes(base64.b64encode(raw[:300]))  # whole base64 of a PSBT cut in a value
    result = _inspect_file(path)
    assert result.returncode == 3
    assert "[wire.truncated]" in result.stderr, result.stderr
    assert re.search(r"looks truncated: at least \d+ bytes? missing", result.stderr)


def test_on_a_terminal_says_what_it_reads_and_how_to_end(tmp_path: Path) -> None:
    """No file on a terminal: a line on stderr says what is expected, then Enter and Ctrl-D."""
    text = BIP174["valid"][5]["psbt"]
    run = run_psbt_on_tty(tmp_path, [("Ctrl-D", text + "\n\x04")], "inspect", "--network", "main")
    assert run.status == 0, run.screen
    assert "reading a PSBT from the terminal" in run.screen
    assert "unsigned txid" in run.screen


def test_ctrl_c_in_inspect_does_not_mention_signing(tmp_path: Path) -> None:
    run = run_psbt_on_tty(tmp_path, [("Ctrl-D", "\x03")], "inspect", "--network", "main")
    assert run.status == 1
    assert "psbt: interrupted" in run.screen
    assert "signed" not in run.screen.split("Ctrl-C cancels")[-1]
