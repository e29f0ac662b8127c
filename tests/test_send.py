"""`psbt send FILE` end to end with real parts: Electrum's unsigned PSBT, the real command,
the qrexec client shim evaluating the shipped dom0 policy, the shipped service run as qrexec
runs it, the cold pipeline confirming by policy; then Electrum and python-bitcointx judge
the result. And every way the call can go wrong, each with its exit status and code, with
nothing written.

The wallet is made as a user makes it: `psbt keys export --json` in the cold qube, `psbt
electrum setup-watch-only` in the hot one, funded by a local transaction; the unsigned PSBT
comes from `electrum payto --unsigned`.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from embit.psbt import PSBT

from hot.electrum import Electrum
from psbtbridge.errors import ExitStatus
from psbtbridge.psbt import Psbt
from psbtbridge.psbt.finalize import extract, finalize
from psbtbridge.tx import Tx
from psbtbridge.verify import verify_final_tx
from tests.support import qrexec_harness as harness
from tests.support.electrum_harness import (
    bitcointx_verify,
    electrum_run,
    electrum_status,
    funding_tx,
    regtest_electrum,
)
from tests.support.psbt_factory import PSBT as PSBT_COMMAND
from tests.support.qube_pair import (
    EXTERNAL,
    STRANGER,
    Cold,
    add_vault,
    environ,
    export,
    hot_env,
    make_cold,
    run_psbt,
    setup_watch_only,
)
from tests.support.verifying import spent_pairs

FUNDS = 50_000_000
PAY = "0.1"
PAY_SATS = 10_000_000
FAKE_SIGNER = Path(__file__).parent / "support" / "fake_signer.py"


@dataclass(frozen=True)
class World:
    cold: Cold
    electrum: Electrum
    wallet: Path
    spare: Path  # the funded wallet before any spend, for Electrum's "Load transaction"
    funding: bytes
    stranger_funding: bytes
    unsigned: bytes  # base64, as `electrum payto --unsigned` printed it
    to_stranger: bytes  # the same wallet paying STRANGER (not allowed by the policy)
    folder: Path

    def env(self, **extra: str) -> dict[str, str]:
        return hot_env(self.cold, self.electrum, self.folder / "hot", **extra)

    def previous(self) -> dict[str, bytes]:
        return {Tx.parse(raw).txid_hex(): raw for raw in (self.funding, self.stranger_funding)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("send")
    cold = make_cold(folder / "cold")
    electrum = regtest_electrum(folder / "electrum")
    wallet = folder / "hot.wallet"
    env = hot_env(cold, electrum, folder / "hot")
    first = setup_watch_only(env, export(cold, folder / "export.json"), wallet)
    funding, stranger_funding = funding_tx(first, FUNDS), funding_tx(first, FUNDS, salt=1)
    for raw in (funding, stranger_funding):
        electrum.add_transaction(wallet, raw)
    spare = folder / "spare.wallet"
    shutil.copy(wallet, spare)
    coins = [f"{Tx.parse(raw).txid_hex()}:0" for raw in (funding, stranger_funding)]

    def payto(address: str, coin: str) -> bytes:
        args = ["payto", address, PAY, "--unsigned", "--feerate", "2", "--from_coins", coin]
        return electrum_run(electrum, *args, "-w", str(wallet)).encode()

    with ThreadPoolExecutor(2) as pool:
        unsigned, to_stranger = pool.map(payto, (EXTERNAL, STRANGER), coins)
    return World(
        cold, electrum, wallet, spare, funding, stranger_funding, unsigned, to_stranger, folder
    )


def _send(
    world: World, *args: str, stdin: bytes | None = None, **env: str
) -> tuple[subprocess.CompletedProcess[bytes], Path]:
    """`psbt send - --to electrum --network regtest -o OUT ARGS` with the unsigned PSBT on stdin."""
    out = world.folder / f"out-{time.monotonic_ns()}"
    result = run_psbt(
        world.env(**env),
        "send", "-", "--to", "electrum", "--network", "regtest", "-o", str(out), *args,
        stdin=world.unsigned if stdin is None else stdin,
    )  # fmt: skip
    return result, out


def test_finalized_transaction_is_taken_by_electrum_and_verifies_independently(
    world: World,
) -> None:
    before = len(world.cold.decisions())
    result, out = _send(world, "--finalize")
    assert result.returncode == 0, result.stderr.decode()
    stderr = result.stderr.decode()
    assert "1 signature(s) verified" in stderr
    raw = bytes.fromhex(out.read_text())
    final = Tx.parse(raw)
    assert final.inputs[0].prevout.txid[::-1].hex() == Tx.parse(world.funding).txid_hex()
    # The screen named the request by the digest the cold side logged it under.
    assert f"asking electrum to sign request code {final.txid_hex()[:8]}" in stderr
    assert world.cold.decisions()[before:] == [("signed", None, "electrum-hot")]
    # Independent judges: bitcointx alone (its own sighash), and our verifier, which runs
    # bitcointx's VerifyScript interpreter on every input.
    bitcointx_verify(raw, world.previous())
    verify_final_tx(final.serialize(), spent_pairs([Tx.parse(world.funding).outputs[0]]))
    # Electrum takes it into the wallet's history and counts the spend.
    assert world.electrum.add_transaction(world.wallet, raw) == final.txid_hex()
    fee = FUNDS - sum(o.value for o in final.outputs)
    balance = world.electrum.get_balance(world.wallet)
    assert balance.unconfirmed == 2 * FUNDS - PAY_SATS - fee
    history = json.loads(electrum_run(world.electrum, "onchain_history", "-w", str(world.wallet)))
    (spend,) = [t for t in history["transactions"] if t["txid"] == final.txid_hex()]
    assert (spend["incoming"], spend["fee_sat"]) == (False, fee)


def test_signed_psbt_has_our_signature_and_electrum_loads_it_as_signed(world: World) -> None:
    result, out = _send(world)
    assert result.returncode == 0, result.stderr.decode()
    written = out.read_bytes()
    # Same encoding as Electrum's (base64, one line), one partial signature by our key.
    psbt = PSBT.from_base64(written.decode())
    (sigs,) = [inp.partial_sigs for inp in psbt.inputs]
    (derivation,) = psbt.inputs[0].bip32_derivations.values()
    assert list(sigs) == list(psbt.inputs[0].bip32_derivations)
    assert derivation.fingerprint.hex() == "73c5da0a"
    # Electrum's own parser lists it (the CLI a user has) ...
    shown = json.loads(electrum_run(world.electrum, "deserialize", written.decode().strip()))
    assert list(shown["inputs"][0]["part_sigs"]) == [k.sec().hex() for k in sigs]
    # ... and its "Load transaction" calls it complete and finalizes it as we do.
    status = electrum_status(world.electrum, world.spare, written)
    assert (status["complete"], status["status"]) == (True, "Signed")
    ours = extract(finalize(Psbt.parse(base64.b64decode(written))))
    assert bytes.fromhex(status["tx"]) == ours.serialize()
    bitcointx_verify(ours.serialize(), world.previous())


def _refused(
    result: subprocess.CompletedProcess[bytes], out: Path, status: ExitStatus, code: str
) -> str:
    stderr = result.stderr.decode()
    assert result.returncode == status, stderr
    assert stderr.rstrip().endswith(f"[{code}]"), stderr
    assert result.stdout == b"" and not out.exists()
    return stderr


def test_dom0_denying_the_call(world: World) -> None:
    before = world.cold.decisions()
    result, out = _send(world, "--finalize", PSBTBRIDGE_SHIM_ASK="no")
    _refused(result, out, ExitStatus.REFUSED, "send.qrexec_denied")
    assert world.cold.decisions() == before  # the service never ran


def test_dom0_denying_another_calling_qube(world: World) -> None:
    result, out = _send(world, "--finalize", PSBTBRIDGE_SHIM_SOURCE="personal")
    _refused(result, out, ExitStatus.REFUSED, "send.qrexec_denied")


def test_cold_policy_refusal_is_relayed_with_its_code(world: World) -> None:
    result, out = _send(world, "--finalize", stdin=world.to_stranger)
    stderr = _refused(result, out, ExitStatus.REFUSED, "policy.destination_not_allowed")
    assert "electrum refused to sign" in stderr
    assert world.cold.decisions()[-1] == (
        "refused",
        "policy.destination_not_allowed",
        "electrum-hot",
    )


def test_cold_user_declining_in_the_dialog(world: World, xdisplay: str, tmp_path: Path) -> None:
    """No unattended policy: the service shows its Tk dialog (on Xvfb); Esc declines."""
    cold = make_cold(tmp_path / "gui-cold", policy="", profile=f"export DISPLAY={xdisplay}\n")
    out = tmp_path / "out"
    env = hot_env(cold, world.electrum, tmp_path / "hot")
    command = [
        "send",
        "-",
        "--to",
        "electrum",
        "--network",
        "regtest",
        "--finalize",
        "-o",
        str(out),
    ]
    request = tmp_path / "unsigned.psbt"
    request.write_bytes(world.unsigned)
    with (
        request.open("rb") as stdin,
        subprocess.Popen(
            [PSBT_COMMAND, *command],
            env=environ(env),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process,
    ):
        try:
            subprocess.run(
                ["xdotool", "search", "--sync", "--onlyvisible", "--name", "^psbtbridge: sign request"],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip
            subprocess.run(["xdotool", "key", "Escape"], check=True, timeout=10)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            process.kill()
    completed = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    text = _refused(completed, out, ExitStatus.REFUSED, "confirm.declined")
    assert "electrum declined to sign" in text
    assert cold.decisions() == [("declined", "confirm.declined", "electrum-hot")]


def test_service_answering_another_transaction(world: World) -> None:
    other = world.folder / "other.psbt"
    other.write_bytes(base64.b64decode(world.to_stranger))
    fake = f"{harness.PYTHON} {FAKE_SIGNER} other {other}"
    result, out = _send(world, "--finalize", PSBTBRIDGE_SHIM_COMMAND=fake)
    _refused(result, out, ExitStatus.INVALID_INPUT, "send.tx_changed")


def test_service_answering_a_tampered_signature(world: World) -> None:
    before = len(world.cold.decisions())
    fake = f"{harness.PYTHON} {FAKE_SIGNER} tamper {world.cold.install.script}"
    for finalizing in ((), ("--finalize",)):
        result, out = _send(world, *finalizing, PSBTBRIDGE_SHIM_COMMAND=fake)
        stderr = _refused(result, out, ExitStatus.REFUSED, "verify.bad_signature")
        assert "input 0: the ECDSA signature does not verify" in stderr
        assert "signature(s) verified" not in stderr
    # The real service did sign (twice); only the hot side's check stopped the forgery.
    assert [d[0] for d in world.cold.decisions()[before:]] == ["signed", "signed"]


def test_service_answering_nothing(world: World) -> None:
    fake = f"{harness.PYTHON} {FAKE_SIGNER} empty"
    result, out = _send(world, "--finalize", PSBTBRIDGE_SHIM_COMMAND=fake)
    _refused(result, out, ExitStatus.INVALID_INPUT, "send.empty_answer")


def test_no_qrexec_client_installed(world: World) -> None:
    """Outside Qubes, without PSBTBRIDGE_QREXEC_CLIENT: qrexec-client-vm is not there."""
    out = world.folder / "out-no-client"
    result = run_psbt(
        world.env(),
        "send", "-", "--to", "electrum", "--network", "regtest", "-o", str(out),
        stdin=world.unsigned, unset=("PSBTBRIDGE_QREXEC_CLIENT",),
    )  # fmt: skip
    stderr = _refused(result, out, ExitStatus.INTERNAL, "send.no_client")
    assert "qrexec-client-vm" in stderr


def _saved(stderr: str, suffix: str) -> Path:
    match = re.search(rf"is saved in (\S+\.{suffix})", stderr)
    assert match, stderr
    return Path(match[1])


def test_output_that_cannot_be_written_keeps_the_signed_psbt(world: World) -> None:
    unwritable = "/proc/psbtbridge-test/signed.psbt"
    result = run_psbt(
        world.env(), "send", "-", "--to", "electrum", "--network", "regtest", "-o", unwritable,
        stdin=world.unsigned,
    )  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == ExitStatus.INTERNAL, stderr
    assert stderr.rstrip().endswith("[io.write_failed]")
    saved = _saved(stderr, "psbt")
    assert saved.parent == world.folder / "hot" / "signed"
    psbt = PSBT.from_base64(saved.read_text())
    assert [len(inp.partial_sigs) for inp in psbt.inputs] == [1]


def test_multisig_needing_a_cosigner_keeps_the_signed_psbt(world: World, tmp_path: Path) -> None:
    """--finalize on a 2-of-3: one signature is not enough; the signed PSBT is kept for the
    next cosigner, and Electrum reads it as partially signed."""
    add_vault(world.cold)
    electrum = regtest_electrum(tmp_path / "electrum")
    wallet = tmp_path / "vault.wallet"
    env = hot_env(world.cold, electrum, tmp_path / "hot")
    exported = export(world.cold, tmp_path / "export.json")
    first = setup_watch_only(env, exported, wallet, name="vault")
    electrum.add_transaction(wallet, funding_tx(first, FUNDS, salt=7))
    shutil.copy(wallet, tmp_path / "spare.wallet")
    unsigned = base64.b64encode(electrum.payto(wallet, [(EXTERNAL, PAY)], 2.0))
    result = run_psbt(
        env, "send", "-", "--to", "electrum", "--network", "regtest", "--finalize",
        stdin=unsigned,
    )  # fmt: skip
    stderr = result.stderr.decode()
    assert result.returncode == ExitStatus.REFUSED, stderr
    assert "1 signature(s) verified" in stderr
    assert stderr.rstrip().endswith("[finalize.missing_signature]") and result.stdout == b""
    saved = _saved(stderr, "psbt")
    assert saved.parent == tmp_path / "hot" / "signed"
    status = electrum_status(electrum, tmp_path / "spare.wallet", saved.read_bytes())
    assert (status["complete"], status["status"]) == (False, "Partially signed (1/2)")
