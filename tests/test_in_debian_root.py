"""tests/support/in-debian-root: another Debian's programs run here, and no mount outlives them.

Runs only where CI made a Debian root (PSBTBRIDGE_TEST_ELECTRUM_ROOT, see .ci/run).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.electrum_harness import ELECTRUM_ROOT, IN_ROOT, ROOT_VAR, electrum_version

pytestmark = pytest.mark.skipif(ELECTRUM_ROOT is None, reason=f"{ROOT_VAR} is not set")


def _mounts_under(root: Path) -> list[str]:
    """Mount points of this (the host's) mount namespace inside root."""
    points = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    return [p for p in points if p == str(root) or p.startswith(f"{root}/")]


def test_runs_the_roots_own_programs_with_the_test_folders_at_their_paths(tmp_path: Path) -> None:
    assert ELECTRUM_ROOT is not None
    root = Path(ELECTRUM_ROOT).resolve()
    probe = tmp_path / "probe"
    probe.write_text("seen from inside\n")
    script = 'import sys; print(sys.version_info[:2]); print(open(sys.argv[1]).read(), end="")'
    result = subprocess.run(
        [str(IN_ROOT), str(root), "/usr/bin/python3", "-c", script, str(probe)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    version_line, content = result.stdout.splitlines()
    assert version_line != str(tuple(sys.version_info[:2]))  # another Python than ours
    assert content == "seen from inside"
    assert electrum_version().startswith("4.5.")
    assert _mounts_under(root) == []


def test_no_mount_is_seen_here_or_left_behind(tmp_path: Path) -> None:
    """While a command runs inside (here: a shell waiting for its stdin to close), the host
    sees none of its mounts; after it ends, none exists anywhere."""
    assert ELECTRUM_ROOT is not None
    root = Path(ELECTRUM_ROOT).resolve()
    inside = subprocess.Popen(
        [str(IN_ROOT), str(root), "/bin/sh", "-c", "grep -c ' /proc ' /proc/self/mountinfo; cat"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert inside.stdout is not None and inside.stdin is not None
    assert int(inside.stdout.readline()) >= 1  # its own /proc is mounted in there
    assert _mounts_under(root) == []
    inside.stdin.close()
    assert inside.wait(timeout=30) == 0
    assert _mounts_under(root) == []
