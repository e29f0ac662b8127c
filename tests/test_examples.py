"""The README's first command runs examples/demo.sh: it must keep working as written."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_signs_the_example_end_to_end() -> None:
    result = subprocess.run(
        ["sh", str(ROOT / "examples" / "demo.sh")],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 signature(s) verified" in result.stderr
    assert "audit log intact: 1 records" in result.stdout + result.stderr
    assert "final transaction: 0200000000010" in result.stdout


def test_readme_first_screen_has_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text().splitlines()[:20]
    assert any(line.startswith("bash .ci/install && sh examples/demo.sh") for line in head)
    assert any(line.startswith(".venv/bin/python -m pytest") for line in head)
