"""Choosing how a signature is confirmed: explicit mode, else the dialog when X is there."""

from __future__ import annotations

import pytest

from cold.confirm import choose_mode
from psbtbridge.errors import UsageError


def test_explicit_mode_wins() -> None:
    for mode in ("tty", "gui", "policy"):
        assert choose_mode(mode, {"DISPLAY": ":0"}) == mode
        assert choose_mode(mode, {}) == mode


def test_default_follows_display() -> None:
    assert choose_mode(None, {"DISPLAY": ":0"}) == "gui"
    assert choose_mode(None, {"DISPLAY": ""}) == "tty"
    assert choose_mode(None, {}) == "tty"


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(UsageError) as error:
        choose_mode("auto", {})
    assert error.value.code == "confirm.bad_mode"
