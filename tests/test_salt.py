"""The Salt formula (salt/psbtbridge) and its per-role scripts, as far as they run without
Qubes: every state renders with `salt-call --local`; the template and cold-qube states are
applied for real in fresh Debian 12 and 13 roots (an overlay over a cached root), the venv
installed from the hash-checked wheelhouse with no network; then the installed
/etc/qubes-rpc/psbtbridge.Sign, run inside that root through the qrexec harness, signs, and
the installed psbtbridge.SignMessage refuses there (no display: nobody could read the message).

Needs root and, per suite, a Debian root (.ci/debian-root) at build/SUITE-root with a Salt
venv made inside it at build/salt-venv-SUITE (.ci/salt-roots makes both); without them these
tests skip, unless PSBTBRIDGE_REQUIRE_SALT=1 (CI) makes that a failure. dom0's states
(qvm.*) only render here: nothing outside dom0 has qvm-*.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from psbtbridge import sign_message
from psbtbridge.network import Network
from psbtbridge.script import address_of
from tests.support import qrexec_harness as harness
from tests.support import signing_request
from tests.support.qrexec_policy import lint_policy
from tests.support.wheelhouse import ROOT, wheelhouse

IN_FRESH_ROOT = ROOT / "tests" / "support" / "in-fresh-root"
STATES = ("install", "configure", "configure-hot", "configure-builder")
SUITES = ("bookworm", "trixie")


def suite_parts(suite: str) -> tuple[Path, Path]:
    base, salt_call = (
        ROOT / "build" / f"{suite}-root",
        ROOT / "build" / f"salt-venv-{suite}" / "bin" / "salt-call",
    )
    if os.geteuid() != 0 or not base.exists() or not salt_call.exists():
        if os.environ.get("PSBTBRIDGE_REQUIRE_SALT") == "1":
            pytest.fail(f"no {base} or {salt_call}, or not root: run .ci/salt-roots as root")
        pytest.skip(f"needs root, {base} and {salt_call} (.ci/salt-roots)")
    return base, salt_call


@pytest.fixture(scope="module")
def salt_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minion config for salt-call --local: the formula as salt://psbtbridge, and a copy of
    the files git tracks as salt://psbtbridge-src (what dom0 gets, see README)."""
    top = tmp_path_factory.mktemp("salt")
    roots = top / "roots"
    (roots / "psbtbridge-src").mkdir(parents=True)
    (roots / "psbtbridge").symlink_to(ROOT / "salt" / "psbtbridge")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(
        f"tar --null -T - -cf - | tar -xf - -C {roots / 'psbtbridge-src'}",
        shell=True,
        cwd=ROOT,
        input=files,
        check=True,
    )
    for name, grains in (("minion", ""), ("dom0", "grains:\n  nodename: dom0\n")):
        folder = top / name
        folder.mkdir()
        (folder / "minion").write_text(
            "file_client: local\n"
            f"file_roots:\n  base:\n    - {roots}\n"
            f"root_dir: {top / name / 'state'}\n" + grains
        )
    return top


def salt_call(
    suite: str, config: Path, *args: str, layer: Path | None = None, offline: bool = False
) -> subprocess.CompletedProcess[str]:
    base, salt = suite_parts(suite)
    inside = [
        *(["unshare", "--net", "--"] if offline else []),
        str(salt),
        "--local",
        "-c",
        str(config),
        "--out=json",
        *args,
    ]
    command = (
        [str(IN_FRESH_ROOT), str(base), str(layer), *inside]
        if layer
        else [str(ROOT / "tests" / "support" / "in-debian-root"), str(base), *inside]
    )
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("state", STATES)
def test_every_qube_state_renders(suite: str, state: str, salt_config: Path) -> None:
    result = salt_call(suite, salt_config / "minion", "state.show_sls", f"psbtbridge.{state}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["local"], result.stdout


def test_dom0_state_renders_and_its_policies_lint(salt_config: Path) -> None:
    result = salt_call("bookworm", salt_config / "dom0", "state.show_sls", "psbtbridge.create")
    assert result.returncode == 0, result.stderr
    high = json.loads(result.stdout)["local"]
    assert high["psbtbridge-cold"]["qvm"][0]["name"] == "electrum"
    assert {"netvm": ""} in high["psbtbridge-cold"]["qvm"][3]["prefs"]
    policy = (
        ROOT / "salt" / "psbtbridge" / "files" / "admin" / "policy" / "70-psbtbridge-builder.policy"
    ).read_text()
    text = (
        policy.replace("{{ builder }}", "disp-psbtbridge-builder")
        .replace("{{ template }}", "tpl-electrum")
        .replace("{{ hot }}", "electrum-hot")
    )
    assert lint_policy(text) == []


@pytest.mark.parametrize("suite", SUITES)
def test_template_and_cold_qube_states_install_a_signer(
    suite: str, salt_config: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    suite_parts(suite)
    # Copied under the temporary folder: that and the checkout are all a root sees of ours.
    wheels = tmp_path / "wheelhouse"
    shutil.copytree(wheelhouse(tmp_path_factory.mktemp("wheelhouse")), wheels)
    layer = tmp_path / "layer"
    pillar = "pillar=" + json.dumps({"psbtbridge": {"wheelhouse": str(wheels)}})
    # The cold qube's user, as a Qubes template has it.
    base, _ = suite_parts(suite)
    subprocess.run(
        [str(IN_FRESH_ROOT), str(base), str(layer), "useradd", "-m", "user"], check=True, timeout=60
    )
    # Debian 13's cached root already has the packages: there the whole state runs with no
    # network at all. Debian 12's installs them through apt first; its venv step still runs
    # with none (cold-template runs pip under unshare -n).
    install = salt_call(
        suite,
        salt_config / "minion",
        "state.apply",
        "psbtbridge.install",
        pillar,
        layer=layer,
        offline=suite == "trixie",
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # Idempotent, and once the packages are there, needs no network in either release.
    again = salt_call(
        suite,
        salt_config / "minion",
        "state.apply",
        "psbtbridge.install",
        pillar,
        layer=layer,
        offline=True,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    configure = salt_call(
        suite,
        salt_config / "minion",
        "state.apply",
        "psbtbridge.configure",
        layer=layer,
        offline=True,
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr
    data = layer / "upper" / "home" / "user" / ".local" / "share" / "psbtbridge"
    assert data.is_dir() and (data.stat().st_mode & 0o777) == 0o700
    assert not (data / "keystore").exists()  # never generates keys

    etc = layer / "upper" / "etc"
    for name in harness.SHIPPED_SERVICES:  # every service, not only the one run below
        assert (etc / "qubes-rpc" / name).stat().st_mode & 0o777 == 0o755, name
        shipped = (ROOT / "qrexec" / "rpc-config" / name).read_text()
        assert (etc / "qubes" / "rpc-config" / name).read_text() == shipped, name

    def installed(name: str) -> list[str]:
        return [str(IN_FRESH_ROOT), str(base), str(layer), f"/etc/qubes-rpc/{name}"]

    for mode in harness.Mode:
        cold = harness.install(tmp_path / mode.value)
        keys, request, digest = signing_request.prepare(
            cold.home / ".local" / "share" / "psbtbridge"
        )
        outcome = harness.call(
            cold, digest, request, command=installed("psbtbridge.Sign"), mode=mode, timeout=180
        )
        assert (outcome.status, outcome.stderr) == (0, ""), outcome.stderr
        assert signing_request.signatures(outcome.stdout) == 1
        # The installed SignMessage, in a root with no display: refused, never signed.
        ours = address_of(keys.wallets["p2wpkh"].derive(0, 0).script_pubkey, Network.REGTEST)
        assert ours is not None
        message = b"signed only after a person read it"
        refused = harness.call(
            cold,
            sign_message.request_digest(message),
            sign_message.encode_request(ours, message, None),
            command=installed("psbtbridge.SignMessage"),
            service=sign_message.SERVICE,
            mode=mode,
            timeout=180,
        )
        assert (refused.status, refused.stdout) == (4, b""), refused.stderr
        assert refused.stderr.endswith("[confirm.no_display]\n"), refused.stderr
