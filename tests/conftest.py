"""Shared fixtures: where the shared vectors live, and a throw-away PSBTBRIDGE_HOME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT.parent / "shared" / "vectors"


def load_vectors(name: str) -> Any:
    """Parse one JSON file from ../shared/vectors (e.g. "psbt/bip174.json")."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data folder, exported as PSBTBRIDGE_HOME."""
    folder = tmp_path / "home"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("PSBTBRIDGE_HOME", str(folder))
    return folder
