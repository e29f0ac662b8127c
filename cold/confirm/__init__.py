"""Human confirmation of a signature: a pure display model, a terminal and a Tk confirmer."""

from __future__ import annotations

from collections.abc import Mapping

from psbtbridge.confirm_modes import MODES
from psbtbridge.errors import Code, UsageError


def choose_mode(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The mode asked for, else "gui" when an X display is set, else "tty"."""
    if explicit is not None:
        if explicit not in MODES:
            raise UsageError(
                Code.CONFIRM_BAD_MODE, f"--confirm {explicit!r}: use tty, gui or policy"
            )
        return explicit
    return "gui" if environ.get("DISPLAY") else "tty"
