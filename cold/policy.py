"""The signing policy: limits and rules read from PSBTBRIDGE_HOME/policy.toml, as a frozen value.

Strict like the rest of the cold side: an unknown key, a wrong type or an out-of-range
value refuses to start (fail closed) with a message naming the setting, rather than being
ignored and silently leaving a limit unset. This module only reads; turning an analysis
into violations and warnings against a `Policy` is the verdict's job (cold/verdict.py).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final, NamedTuple

from psbtbridge.errors import Code, ConfigError
from psbtbridge.files import read_stored
from psbtbridge.sighash import SighashType
from psbtbridge.tx import MAX_MONEY  # no amount or fee limit above it means anything

FILE_NAME: Final = "policy.toml"
MAX_POLICY_SIZE: Final = 64 * 1024  # bytes; a policy is a dozen lines
# tomllib's time grows with the square of a dotted key's segments (a 64 KiB key of `a.a.a...`
# took 20 s and 4 GB), so the text is bounded line by line before it is parsed. No setting
# is deeper than two segments or needs a long line.
MAX_LINE_LENGTH: Final = 1000
MAX_DOTS_PER_LINE: Final = 32
#: A change output is only accepted as ours if its derivation index is below the window; a
#: huge window would let a hostile PSBT park "change" where no wallet ever looks for it.
MAX_CHANGE_INDEX_WINDOW: Final = 1_000_000
MAX_ADDRESS_LENGTH: Final = 100

#: PSBT_IN_SIGHASH_TYPE values by the names policy.toml uses (ALL, ..., "ALL|ANYONECANPAY").
SIGHASH_TYPES: Final[Mapping[str, SighashType]] = {t.name.replace("_", "|"): t for t in SighashType}
#: The signer commits to every input and every output, always: a policy file cannot widen
#: this, so naming another type there is refused rather than accepted and then ignored.
SIGNABLE_SIGHASH: Final = frozenset({"ALL", "DEFAULT"})

_DAY: Final = timedelta(hours=24)


class UnattendedPolicy(NamedTuple):
    """What `--confirm policy` (signing with nobody at the screen) additionally requires."""

    enabled: bool = False
    #: Every output that is not proven change must pay one of these (rendered) addresses.
    allowed_destinations: tuple[str, ...] = ()
    max_per_transaction: int = 0  # sat leaving the wallet in one transaction
    max_per_24h: int = 0  # sat leaving the wallet in the last 24 h, counted from the audit log
    refuse_on_warning: bool = True


class Policy(NamedTuple):
    """Limits every signing must respect; fee limits are inclusive maxima."""

    max_fee_rate: Decimal = Decimal(100)  # sat/vB
    max_fee: int = 100_000  # sat
    #: Fee as a percentage of the total value of all outputs (Coldcard's measure).
    max_fee_percent: Decimal = Decimal(10)
    allowed_sighash: tuple[str, ...] = ("ALL", "DEFAULT")
    allow_foreign_inputs: bool = False
    allow_op_return: bool = True
    #: How far past the highest change index this signer knows used (cold/state.py) change
    #: may lie: Electrum's gap limit for change. Receive addresses get 20 (analysis).
    change_index_window: int = 10
    unattended: UnattendedPolicy = UnattendedPolicy()

    def allows_sighash(self, sighash_type: int) -> bool:
        """True if a PSBT_IN_SIGHASH_TYPE value is one the policy allows."""
        return any(SIGHASH_TYPES[name] == sighash_type for name in self.allowed_sighash)


DEFAULT_POLICY: Final = Policy()


def sum_last_24h(spends: Iterable[tuple[datetime, int]], now: datetime) -> int:
    """Total sats that left the wallet in the 24 hours up to now, from (time, sats) pairs.

    Times must be timezone-aware. A record dated after `now` still counts: setting the
    clock back must not reopen the daily limit.
    """
    start = now - _DAY
    return sum(sats for time, sats in spends if time > start)


def load_policy(home: Path) -> Policy:
    """The policy in home/policy.toml, or the safe defaults when there is no such file."""
    path = home / FILE_NAME
    data = read_stored(path, MAX_POLICY_SIZE, Code.POLICY_UNREADABLE, Code.POLICY_UNREADABLE)
    if data is None:
        return DEFAULT_POLICY
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            Code.POLICY_UNREADABLE, f"{FILE_NAME} line {line}: not UTF-8 text"
        ) from error
    return parse_policy(text)


def parse_policy(text: str) -> Policy:
    """Parse policy.toml text; a missing key takes its default, anything doubtful refuses."""
    _check_bounds(text)
    try:
        untrusted_data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(Code.POLICY_SYNTAX, _syntax_message(str(error), text)) from error
    except (RecursionError, ValueError) as error:
        # arrays nested past the recursion limit; an integer past int()'s 4,300 digits
        raise ConfigError(
            Code.POLICY_SYNTAX, f"{FILE_NAME}: not a policy: nested too deeply or a number too long"
        ) from error
    return _Reader().policy(untrusted_data)


def _check_bounds(text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_LENGTH or line.count(".") > MAX_DOTS_PER_LINE:
            raise ConfigError(
                Code.POLICY_SYNTAX,
                f"{FILE_NAME} line {number}: longer than {MAX_LINE_LENGTH} characters or more"
                f" than {MAX_DOTS_PER_LINE} dots; no setting needs that",
            )


# --- reading the parsed table ------------------------------------------------------------

_SYNTAX_POSITION: Final = (
    r"^(?P<what>.*) \(at (?:line (?P<line>\d+), column \d+|end of document)\)$"
)


def _syntax_message(detail: str, text: str) -> str:
    match = re.match(_SYNTAX_POSITION, detail, re.DOTALL)
    if match is None:
        return f"{FILE_NAME}: not valid TOML: {detail}"
    line = match["line"] or str(max(1, len(text.splitlines())))
    return f"{FILE_NAME} line {line}: not valid TOML: {match['what']}"


class _Reader:
    """Checks each value of the parsed table and names its setting in every error."""

    def policy(self, untrusted_data: dict[str, object]) -> Policy:
        d = DEFAULT_POLICY
        self._refuse_unknown(untrusted_data, (), _POLICY_KEYS)
        get = untrusted_data.get
        return Policy(
            max_fee_rate=self._rate(get("max_fee_rate", d.max_fee_rate)),
            max_fee=self._sats(("max_fee",), get("max_fee", d.max_fee)),
            max_fee_percent=self._percent(get("max_fee_percent", d.max_fee_percent)),
            allowed_sighash=self._sighash(get("allowed_sighash", list(d.allowed_sighash))),
            allow_foreign_inputs=self._flag(
                ("allow_foreign_inputs",), get("allow_foreign_inputs", d.allow_foreign_inputs)
            ),
            allow_op_return=self._flag(
                ("allow_op_return",), get("allow_op_return", d.allow_op_return)
            ),
            change_index_window=self._window(get("change_index_window", d.change_index_window)),
            unattended=self._unattended(get("unattended", {})),
        )

    def _unattended(self, untrusted_table: object) -> UnattendedPolicy:
        path = ("unattended",)
        if not isinstance(untrusted_table, dict):
            raise self._error(Code.POLICY_BAD_TYPE, path, "unattended must be a table")
        self._refuse_unknown(untrusted_table, path, _UNATTENDED_KEYS)
        d = DEFAULT_POLICY.unattended
        get = untrusted_table.get
        return UnattendedPolicy(
            enabled=self._flag((*path, "enabled"), get("enabled", d.enabled)),
            allowed_destinations=self._addresses(
                get("allowed_destinations", list(d.allowed_destinations))
            ),
            max_per_transaction=self._sats(
                (*path, "max_per_transaction"), get("max_per_transaction", d.max_per_transaction)
            ),
            max_per_24h=self._sats((*path, "max_per_24h"), get("max_per_24h", d.max_per_24h)),
            refuse_on_warning=self._flag(
                (*path, "refuse_on_warning"), get("refuse_on_warning", d.refuse_on_warning)
            ),
        )

    def _refuse_unknown(
        self, untrusted_table: dict[str, object], path: tuple[str, ...], known: frozenset[str]
    ) -> None:
        for key in untrusted_table:
            if key not in known:
                raise self._error(
                    Code.POLICY_UNKNOWN_KEY,
                    (*path, key),
                    f"unknown setting {_dotted((*path, key))!r} (known: {', '.join(sorted(known))})",
                )

    def _flag(self, path: tuple[str, ...], untrusted: object) -> bool:
        if not isinstance(untrusted, bool):
            raise self._error(Code.POLICY_BAD_TYPE, path, f"{_dotted(path)} must be true or false")
        return untrusted

    def _whole(self, path: tuple[str, ...], untrusted: object, what: str) -> int:
        # bool is an int subclass in Python, but `max_fee = true` is a mistake, not 1 sat
        if isinstance(untrusted, bool) or not isinstance(untrusted, int):
            raise self._error(Code.POLICY_BAD_TYPE, path, f"{_dotted(path)} must be {what}")
        return untrusted

    def _sats(self, path: tuple[str, ...], untrusted: object) -> int:
        value = self._whole(path, untrusted, "a whole number of satoshis")
        if not 0 <= value <= MAX_MONEY:
            raise self._error(
                Code.POLICY_BAD_VALUE,
                path,
                f"{_dotted(path)} must be between 0 and {MAX_MONEY} sat",
            )
        return value

    def _number(self, path: tuple[str, ...], untrusted: object, what: str) -> Decimal:
        if isinstance(untrusted, bool) or not isinstance(untrusted, int | Decimal):
            raise self._error(Code.POLICY_BAD_TYPE, path, f"{_dotted(path)} must be {what}")
        value = Decimal(untrusted)
        if not value.is_finite():
            raise self._error(
                Code.POLICY_BAD_VALUE, path, f"{_dotted(path)} must be a finite number"
            )
        return value

    def _rate(self, untrusted: object) -> Decimal:
        path = ("max_fee_rate",)
        value = self._number(path, untrusted, "a number of sat/vB")
        if not 0 <= value <= MAX_MONEY:
            raise self._error(
                Code.POLICY_BAD_VALUE, path, f"{_dotted(path)} must be between 0 and {MAX_MONEY}"
            )
        return value

    def _percent(self, untrusted: object) -> Decimal:
        path = ("max_fee_percent",)
        value = self._number(path, untrusted, "a number (a percentage)")
        if not 0 <= value <= 100:
            raise self._error(
                Code.POLICY_BAD_VALUE, path, "max_fee_percent must be between 0 and 100"
            )
        return value

    def _window(self, untrusted: object) -> int:
        path = ("change_index_window",)
        value = self._whole(path, untrusted, "a whole number")
        if not 1 <= value <= MAX_CHANGE_INDEX_WINDOW:
            raise self._error(
                Code.POLICY_BAD_VALUE,
                path,
                f"change_index_window must be between 1 and {MAX_CHANGE_INDEX_WINDOW}",
            )
        return value

    def _strings(self, path: tuple[str, ...], untrusted: object, what: str) -> list[str]:
        if not isinstance(untrusted, list) or not all(isinstance(v, str) for v in untrusted):
            raise self._error(
                Code.POLICY_BAD_TYPE, path, f"{_dotted(path)} must be a list of {what}"
            )
        if len(set(untrusted)) != len(untrusted):
            raise self._error(Code.POLICY_BAD_VALUE, path, f"{_dotted(path)} lists an entry twice")
        return list(untrusted)

    def _sighash(self, untrusted: object) -> tuple[str, ...]:
        path = ("allowed_sighash",)
        names = self._strings(path, untrusted, "sighash type names")
        if not names:
            raise self._error(
                Code.POLICY_BAD_VALUE, path, "allowed_sighash must name ALL or DEFAULT"
            )
        for index, name in enumerate(names, start=1):
            if name not in SIGHASH_TYPES:
                raise self._error(
                    Code.POLICY_BAD_VALUE,
                    path,
                    f"allowed_sighash entry {index} is not a sighash type name"
                    f" (one of: {', '.join(SIGHASH_TYPES)})",
                )
            if name not in SIGNABLE_SIGHASH:
                raise self._error(
                    Code.POLICY_SIGHASH_UNSUPPORTED,
                    path,
                    f"allowed_sighash entry {index} ({name}) is never signed by psbtbridge,"
                    " which commits to all inputs and outputs: only ALL and DEFAULT are possible",
                )
        return tuple(names)

    def _addresses(self, untrusted: object) -> tuple[str, ...]:
        path = ("unattended", "allowed_destinations")
        addresses = self._strings(path, untrusted, "addresses")
        for index, address in enumerate(addresses, start=1):
            if not _ADDRESS_TEXT.fullmatch(address):
                raise self._error(
                    Code.POLICY_BAD_VALUE,
                    path,
                    f"unattended.allowed_destinations entry {index} must be an address: 1 to"
                    f" {MAX_ADDRESS_LENGTH} printable ASCII characters without spaces",
                )
        return tuple(addresses)

    def _error(self, code: Code, path: tuple[str, ...], sentence: str) -> ConfigError:
        return ConfigError(code, f"{FILE_NAME} [{_dotted(path)}]: {sentence}")


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


_POLICY_KEYS: Final = frozenset(Policy._fields)
_UNATTENDED_KEYS: Final = frozenset(UnattendedPolicy._fields)
_ADDRESS_TEXT: Final = re.compile(rf"[\x21-\x7e]{{1,{MAX_ADDRESS_LENGTH}}}")
