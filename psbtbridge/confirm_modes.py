"""How a signature is confirmed: the modes of `--confirm`, for the cold side and the parsers.

Here rather than in cold/confirm/ so that a command's parser, which both qubes load, can
name them without importing cold code.
"""

from __future__ import annotations

from typing import Final

#: A person reads the request and answers: on the terminal, or in a dialog.
ASKING_MODES: Final = ("tty", "gui")
#: ... or nobody does: unattended, within policy.toml's limits (transactions only).
MODES: Final = (*ASKING_MODES, "policy")
