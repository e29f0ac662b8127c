"""salt/psbtbridge/files/lock: every file the cold path installs is pinned by hash, the
install needs nothing else and no network, and a file that differs from its hash is refused."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from tests.support.wheelhouse import LOCK, ROOT, wheelhouse

COLD_PATH = {"embit", "python-bitcointx", "cryptography", "cffi", "pycparser"}
_ENTRY = re.compile(r"^([a-z0-9-]+)==(\S+) \\$", re.MULTILINE)


def pins(lock: Path) -> dict[str, str]:
    return dict(_ENTRY.findall(lock.read_text()))


def test_lock_pins_the_cold_path_and_agrees_with_pyproject() -> None:
    locked = pins(LOCK / "cold.txt")
    assert set(locked) == COLD_PATH
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in project:
        name, _, version = requirement.partition("==")
        if version:  # exact pins must be the locked version; ranges are checked by pip below
            assert locked[name] == version, requirement
    assert set(pins(LOCK / "cold-build.txt")) == {"setuptools"}


def test_every_entry_has_a_hash() -> None:
    for lock in (LOCK / "cold.txt", LOCK / "cold-build.txt"):
        entries = [e for e in re.split(r"\n(?=[a-z])", lock.read_text()) if "==" in e]
        assert entries and all("--hash=sha256:" in e for e in entries), lock


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


def install(target: Path, wheels: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    """Both lock files into a fresh venv, offline (no index, in a namespace with no network)."""
    venv.create(target, with_pip=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--isolated", "-q"]
    pip += ["--disable-pip-version-check", "--no-index", "--find-links", str(wheels)]
    offline = ["unshare", "--net", "--"]
    build = subprocess.run(
        [*offline, *pip, "--require-hashes", "-r", str(LOCK / "cold-build.txt")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if build.returncode:
        return build
    return subprocess.run(
        [*offline, *pip, "--require-hashes", "--no-build-isolation", "-r", str(lock)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_the_lock_installs_the_cold_path_offline(wheels: Path, tmp_path: Path) -> None:
    result = install(tmp_path / "venv", wheels, LOCK / "cold.txt")
    assert result.returncode == 0, result.stderr
    check = "import embit, bitcointx, cryptography.hazmat.primitives.ciphers.aead"
    subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c", check], check=True)


def test_a_tampered_wheel_is_refused(wheels: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "wheels"
    shutil.copytree(wheels, tampered)
    (wheel,) = tampered.glob("python_bitcointx-*.whl")
    wheel.write_bytes(wheel.read_bytes() + b"\0")  # still a valid zip: only the hash tells
    result = install(tmp_path / "venv", tampered, LOCK / "cold.txt")
    assert result.returncode != 0
    assert "DO NOT MATCH THE HASHES" in result.stderr


def test_a_dependency_missing_from_the_lock_is_refused(wheels: Path, tmp_path: Path) -> None:
    """What makes the check above complete: in --require-hashes mode pip refuses to install a
    dependency the lock does not pin, so nothing unpinned can slip in."""
    text = (LOCK / "cold.txt").read_text()
    short = tmp_path / "short.txt"
    short.write_text(re.sub(r"pycparser==[^\n]*\n(    --hash[^\n]*\n)*", "", text))
    assert "pycparser" not in short.read_text()
    result = install(tmp_path / "venv", wheels, short)
    assert result.returncode != 0
    assert "pycparser" in result.stderr


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("the lock is for Debian")
