"""Records that check their own fields: NamedTuple subclasses whose `__new__` refuses bad values.

The records on the signing path are NamedTuples for start-up time (README, Benchmarks); a
dataclass would check in `__post_init__`. A NamedTuple's `_replace` builds the new tuple
without calling `__new__`, so a checked record takes its `_replace` from here.
"""

from __future__ import annotations

from typing import Any, Self


class Checked:
    """Put first among the bases of a NamedTuple subclass that checks in `__new__`."""

    __slots__ = ()

    def _replace(self, **changes: Any) -> Self:
        """A copy with changes, through the checks of `__new__`."""
        return type(self)(**{**self._asdict(), **changes})  # type: ignore[attr-defined]
