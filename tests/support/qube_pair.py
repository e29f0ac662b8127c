"""Test-only: a cold qube and a hot qube on one machine, for `psbt send` tests and the bench.

Cold: the shipped `qrexec/psbtbridge.Sign` installed by `qrexec_harness.install` (login
shell, fresh HOME), its data in that HOME's default place (~/.local/share/psbtbridge, as in
a real cold qube: nothing sets PSBTBRIDGE_HOME there), keys from BIP39's public test
mnemonic on regtest, and a policy.toml allowing unattended signing to EXTERNAL.
Hot: the real `psbt` command with the qrexec client shim as PSBTBRIDGE_QREXEC_CLIENT (dom0's
policy and the service run as qrexec would run them) and Debian's Electrum on regtest.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from embit.script import p2wpkh

from cold import audit
from hot.electrum import ENV_VAR as ELECTRUM_VAR
from hot.electrum import Electrum
from hot.qrexec_client import CLIENT_ENV
from tests.support import qrexec_harness as harness
from tests.support.electrum_harness import (
    COSIGNER_MNEMONICS,
    MNEMONIC,
    NETWORK,
    root_key,
    vault_descriptor,
)
from tests.support.psbt_factory import PSBT

#: Someone else's address (cosigner #1's BIP84 account): the one the policy lets through.
EXTERNAL: str = p2wpkh(root_key(COSIGNER_MNEMONICS[0]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)
#: Also someone else's, but not allowed by the policy.
STRANGER: str = p2wpkh(root_key(COSIGNER_MNEMONICS[1]).derive("m/84h/1h/0h/0/0").key).address(
    NETWORK.params
)
POLICY = f"""[unattended]
enabled = true
allowed_destinations = ["{EXTERNAL}"]
max_per_transaction = 100000000
max_per_24h = 100000000000
refuse_on_warning = true
"""


@dataclass(frozen=True)
class Cold:
    """The cold qube: its installed service and its user's data folder."""

    install: harness.Install

    @property
    def home(self) -> Path:
        return self.install.home / ".local" / "share" / "psbtbridge"

    def decisions(self) -> list[tuple[str, str | None, str]]:
        """(decision, reason code, caller) of every audit record, oldest first."""
        return [
            (e.record.decision, e.record.reason, e.record.caller)
            for e in audit.read_records(self.home)
        ]


def make_cold(root: Path, policy: str = POLICY, profile: str = "") -> Cold:
    """Install the service under root; `psbt keys init` (regtest, unencrypted) and the policy."""
    cold = Cold(harness.install(root, profile=profile))
    cold.home.mkdir(parents=True, mode=0o700)
    words = root / "mnemonic.txt"
    words.write_text(MNEMONIC + "\n")
    init = ["keys", "init", "--mnemonic-file", str(words), "--network", NETWORK.value]
    ok(run_psbt({"PSBTBRIDGE_HOME": str(cold.home)}, *init, "--no-encryption"))
    (cold.home / "policy.toml").write_text(policy)
    return cold


def export(cold: Cold, path: Path) -> Path:
    """`psbt keys export --json` in the cold qube, "copied" to the hot one."""
    path.write_bytes(ok(run_psbt({"PSBTBRIDGE_HOME": str(cold.home)}, "keys", "export", "--json")))
    return path


def add_vault(cold: Cold) -> None:
    """`psbt wallet add vault` with electrum_harness.vault_descriptor."""
    cold_env = {"PSBTBRIDGE_HOME": str(cold.home)}
    descriptor = vault_descriptor(ok(run_psbt(cold_env, "keys", "export")).decode())
    ok(run_psbt(cold_env, "wallet", "add", "vault", descriptor, "--yes"))


def shim_env(cold: Cold, hot_home: Path, **extra: str) -> dict[str, str]:
    """The hot qube's environment: its own data folder, the shim as qrexec client."""
    return {
        "PSBTBRIDGE_HOME": str(hot_home),
        CLIENT_ENV: harness.shim_command(),
        "PSBTBRIDGE_SHIM_ROOT": str(cold.install.root),
        **extra,
    }


def hot_env(cold: Cold, electrum: Electrum, hot_home: Path, **extra: str) -> dict[str, str]:
    """shim_env and Electrum."""
    return shim_env(cold, hot_home, **{ELECTRUM_VAR: shlex.join(electrum.argv)}, **extra)


def environ(env: Mapping[str, str], unset: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment without any PSBTBRIDGE_ variable, then env, minus unset."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PSBTBRIDGE_")}
    return {k: v for k, v in {**base, **env}.items() if k not in unset}


def run_psbt(
    env: Mapping[str, str], *args: str, stdin: bytes | None = None, unset: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[bytes]:
    """The real `psbt` command in environ(env, unset)."""
    return subprocess.run(
        [PSBT, *args],
        env=environ(env, unset),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=90,
        check=False,
    )


def start_psbt(env: Mapping[str, str], *args: str) -> subprocess.Popen[bytes]:
    """The real `psbt` command in environ(env), left running (stdout and stderr piped), for
    a test that answers a window on the cold side while it waits."""
    return subprocess.Popen(
        [PSBT, *args],
        env=environ(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ok(result: subprocess.CompletedProcess[bytes]) -> bytes:
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def setup_watch_only(
    env: Mapping[str, str], export_file: Path, wallet: Path, name: str = "p2wpkh"
) -> str:
    """`psbt electrum setup-watch-only` for one wallet of the export; its first address."""
    args = ["electrum", "setup-watch-only", "--from", str(export_file), "--wallet", str(wallet)]
    args += ["--name", name]
    address: str = json.loads(ok(run_psbt(env, *args, "--json")))["first_address"]
    return address
