"""The hot side's Electrum, driven through its command line: unsigned PSBTs in, transactions out.

The command comes from PSBTBRIDGE_ELECTRUM (split like a shell would, never run through
one), else `electrum` from PATH. It talks to the running Electrum (GUI or `electrum daemon
-d`) unless the command line says `--offline`; even then a running Electrum is used when
one runs, because Electrum 4.5 refuses every offline command while its daemon's lockfile
exists (and 4.3 would write a wallet file the running Electrum holds open). Debian 12's
4.3.4 and Debian 13's 4.5.8 both work. Nothing here ever sees a private key: Electrum holds
a watch-only wallet and is asked for unsigned PSBTs only.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from hot.watch_only import wallet_file
from psbtbridge.encoding import Encoding, decode
from psbtbridge.errors import BridgeError, Code, ConfigError, InvalidInput, UsageError
from psbtbridge.files import DEFAULT_MAX_INPUT, load_json, write_new
from psbtbridge.network import Network
from psbtbridge.tx import MAX_MONEY, Tx
from psbtbridge.wallet import Wallet
from psbtbridge.wallet.export import first_address

ENV_VAR: Final = "PSBTBRIDGE_ELECTRUM"
DEFAULT_TIMEOUT: Final = 60.0  # seconds; Electrum's own client waits 60 s for its daemon
MAX_FEERATE: Final = 10_000.0  # sat/vB: far above any real fee market, below unit mix-ups (sat/kvB)
MAX_OUTPUTS: Final = 1000
START_HINT: Final = (
    "start Electrum or run `electrum daemon -d` and `electrum load_wallet -w WALLET`"
    f" (or put --offline in {ENV_VAR})"
)
#: Bech32 and base58 characters only: no '-' (an option to Electrum's parser), no '.', '@' or
#: ':' (Electrum would resolve OpenAlias names and contacts over the network).
_ADDRESS_RE: Final = re.compile(r"[A-Za-z0-9]{14,90}")
#: BTC with at most 8 decimals, below 21 million; "!" is Electrum's "send everything".
_AMOUNT_RE: Final = re.compile(r"(0|[1-9][0-9]{0,7})(\.[0-9]{1,8})?|!")
_TXID_RE: Final = re.compile(r"[0-9a-f]{64}")
_HEX_RE: Final = re.compile(r"(?:[0-9a-f]{2})+")
_VERSION_RE: Final = re.compile(r"[0-9]+\.[0-9]+(\.[0-9]+)?[A-Za-z0-9.+-]{0,20}")
_SATS: Final = Decimal(100_000_000)
_BALANCE_RE: Final = re.compile(r"-?[0-9]{1,16}(\.[0-9]{1,16})?([Ee][-+]?[0-9]{1,2})?")
OFFLINE: Final = "--offline"
#: Electrum's network options and the data-folder subdirectory each one selects
#: (simple_config.electrum_path, 4.3 and 4.5); mainnet uses the folder itself.
_NETWORK_DIRS: Final = {
    "--testnet": "testnet",
    "--testnet4": "testnet4",
    "--regtest": "regtest",
    "--simnet": "simnet",
    "--signet": "signet",
}
#: The network each of Electrum's network options runs on (testnet4 shares testnet's
#: address and key encodings); simnet has no counterpart here.
_NETWORK_OPTIONS: Final = {
    "--testnet": Network.TEST,
    "--testnet4": Network.TEST,
    "--regtest": Network.REGTEST,
    "--signet": Network.SIGNET,
}
#: Lines Electrum prints around the error that say nothing about it.
_NOISE: Final = ("internal error while executing RPC", "Traceback (most recent call last):")
_BALANCE_KEYS: Final = ("confirmed", "unconfirmed", "unmatured")  # getbalance omits zeros


@dataclass(frozen=True)
class Balance:
    """A wallet's balance in satoshis, as Electrum counts it."""

    confirmed: int
    unconfirmed: int
    unmatured: int


@dataclass(frozen=True)
class WatchOnlyWallet:
    """A watch-only wallet file just created, and the first receive address both sides agree on."""

    path: Path
    name: str
    network: str
    script_type: str
    first_address: str


@dataclass(frozen=True)
class Electrum:
    """One Electrum command line; every method is one Electrum command, parsed strictly."""

    argv: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Electrum:
        """PSBTBRIDGE_ELECTRUM (e.g. `electrum --regtest --offline -D DIR`) or `electrum`."""
        untrusted_command = environ.get(ENV_VAR, "")
        if not untrusted_command.strip():
            return cls(("electrum",))
        try:
            argv = tuple(shlex.split(untrusted_command))
        except ValueError as error:
            raise ConfigError(
                Code.ELECTRUM_BAD_COMMAND, f"{ENV_VAR} is not a valid command line: {error}"
            ) from error
        return cls(argv)

    def network(self) -> Network | None:
        """The network this command line's network option selects; None when it names none
        (Electrum then runs on main)."""
        chosen = {_NETWORK_OPTIONS.get(arg) for arg in self.argv if arg in _NETWORK_DIRS}
        if None in chosen or len(chosen) > 1:
            raise ConfigError(
                Code.ELECTRUM_BAD_COMMAND,
                f"{ENV_VAR} names a network psbtbridge does not know, or more than one",
            )
        return chosen.pop() if chosen else None

    def version(self) -> str:
        text = self._run(["version"])
        if not _VERSION_RE.fullmatch(text):
            raise _bad_output("version", text)
        return text

    def payto(
        self, wallet: Path | None, outputs: Sequence[tuple[str, str]], feerate: float
    ) -> bytes:
        """An unsigned PSBT paying each (address, BTC amount) from the wallet, at feerate sat/vB.

        The fee rate is required: without one Electrum silently picks its own (on regtest a
        fixed 180 sat/vB in 4.3, 150 in 4.5; a static fallback when it has no fee estimates).
        """
        if not 1 <= len(outputs) <= MAX_OUTPUTS:
            raise UsageError(Code.ELECTRUM_BAD_OUTPUT_COUNT, f"pay 1 to {MAX_OUTPUTS} outputs")
        pairs = [_check_output(i, address, amount) for i, (address, amount) in enumerate(outputs)]
        args = [
            "paytomany",
            json.dumps(pairs),
            "--unsigned",
            "--feerate",
            _check_feerate(feerate),
        ]
        text = self._run(args, wallet)
        try:
            psbt, encoding = decode(text.encode("ascii"))
        except (UnicodeEncodeError, InvalidInput) as error:
            raise _bad_output("paytomany", text) from error
        if encoding is not Encoding.BASE64:
            raise _bad_output("paytomany", text)
        return psbt

    def get_transaction(self, wallet: Path | None, txid: str) -> bytes:
        """A transaction the wallet (or, when online, the server) knows, checked against its txid."""
        if not _TXID_RE.fullmatch(txid):
            raise UsageError(Code.ELECTRUM_BAD_TXID, "a txid is 64 lowercase hex digits")
        text = self._run(["gettransaction", txid], wallet)
        if not _HEX_RE.fullmatch(text):
            raise _bad_output("gettransaction", text)
        raw = bytes.fromhex(text)
        if _txid(raw, "gettransaction") != txid:
            raise BridgeError(
                Code.ELECTRUM_BAD_OUTPUT, f"Electrum returned a different transaction than {txid}"
            )
        return raw

    def add_transaction(self, wallet: Path | None, raw: bytes) -> str:
        """Store a transaction in the wallet's history (Electrum's "local" transactions)."""
        txid = _txid(raw, "addtransaction")
        text = self._run(["addtransaction", "-"], wallet, raw.hex().encode())
        if text == "false":
            raise BridgeError(
                Code.ELECTRUM_TX_REJECTED,
                f"Electrum did not add {txid}: it conflicts with a transaction in the wallet",
            )
        if text != txid:
            raise _bad_output("addtransaction", text)
        return txid

    def broadcast(self, raw: bytes) -> str:
        """Send a final transaction to the network through Electrum's server; returns the txid."""
        txid = _txid(raw, "broadcast")
        text = self._run(["broadcast", "-"], None, raw.hex().encode())
        if text != txid:
            raise _bad_output("broadcast", text)
        return txid

    def list_addresses(self, wallet: Path | None, offline: bool = False) -> tuple[str, ...]:
        """The wallet's receive addresses in index order."""
        text = self._run(["listaddresses", "--receiving"], wallet, offline=offline)
        untrusted = _json_output("listaddresses", text)
        if not isinstance(untrusted, list) or not all(
            isinstance(a, str) and _ADDRESS_RE.fullmatch(a) for a in untrusted
        ):
            raise _bad_output("listaddresses", text)
        return tuple(untrusted)

    def get_balance(self, wallet: Path | None) -> Balance:
        text = self._run(["getbalance"], wallet)
        untrusted = _json_output("getbalance", text)
        if not isinstance(untrusted, dict):
            raise _bad_output("getbalance", text)
        return Balance(*(_sats(untrusted.get(k, "0"), text) for k in _BALANCE_KEYS))

    def create_watch_only(self, path: Path, wallet: Wallet) -> WatchOnlyWallet:
        """Write a new watch-only wallet file, then have Electrum open it and agree on it.

        Never replaces an existing file. Electrum opens the file offline, or, while an
        Electrum runs, in that one (loaded for the check, closed again), and must list as
        first receive address the one derived here; otherwise the file is removed again and
        nothing is left behind. Electrum 4.5 upgrades the file on that first open (seed
        version 50 to 59), after which 4.3 can no longer read it.
        """
        path = path.absolute()
        _create_new(path, wallet_file(wallet))
        expected = first_address(wallet)
        try:
            addresses = self.list_addresses(path, offline=True)
            if not addresses or addresses[0] != expected:
                raise BridgeError(
                    Code.ELECTRUM_ADDRESS_MISMATCH,
                    f"Electrum derives {addresses[0] if addresses else 'no address'} where"
                    f" psbtbridge derives {expected}; is {ENV_VAR} set for the export's"
                    f" network ({wallet.network.value})? {path} was removed",
                )
        except BaseException:
            # whatever stopped the check (a refusal, a bug, Ctrl-C), an unverified file
            # must not stay behind
            path.unlink(missing_ok=True)
            raise
        return WatchOnlyWallet(
            path, wallet.name, wallet.network.value, wallet.script_type.value, expected
        )

    def _run(
        self, args: list[str], wallet: Path | None = None, stdin: bytes = b"", offline: bool = False
    ) -> str:
        """Run one command (args[0]), offline if asked or configured, unless an Electrum runs.

        A running Electrum is found by its lockfile, DIR/NETWORK/daemon as Electrum names it.
        If that lockfile outlived its daemon (a crash), the command runs offline: 4.3 goes
        ahead, 4.5 refuses (electrum.stale_lockfile).
        """
        if not offline and OFFLINE not in self.argv:
            return self._call(self.argv, args, wallet, stdin)
        if self.lockfile().exists():
            online = tuple(a for a in self.argv if a != OFFLINE)
            try:
                return self._through_daemon(online, args, wallet, stdin)
            except ConfigError as error:
                if error.code != Code.ELECTRUM_NOT_RUNNING:
                    raise
        offline_argv = self.argv if OFFLINE in self.argv else (*self.argv, OFFLINE)
        return self._call(offline_argv, args, wallet, stdin)

    def lockfile(self) -> Path:
        """The running Electrum's lockfile for this command line: DIR/NETWORK/daemon.

        DIR is -D/--dir, else $ELECTRUMDIR, else ~/.electrum (Electrum's util.user_dir on
        Linux); NETWORK the subfolder of the network option given, none for mainnet.
        """
        folder: str | None = None
        network = ""
        for index, arg in enumerate(self.argv):
            if arg in ("-D", "--dir") and index + 1 < len(self.argv):
                folder = self.argv[index + 1]
            elif arg.startswith("--dir="):
                folder = arg.removeprefix("--dir=")
            elif arg in _NETWORK_DIRS:
                network = _NETWORK_DIRS[arg]
        if folder is None:
            folder = os.environ.get("ELECTRUMDIR") or str(Path.home() / ".electrum")
        return Path(folder, network, "daemon")

    def _through_daemon(
        self, online: tuple[str, ...], args: list[str], wallet: Path | None, stdin: bytes
    ) -> str:
        """The command through the running Electrum; a wallet it has not open is loaded for
        this one command and closed again (one it had open stays open)."""
        try:
            return self._call(online, args, wallet, stdin)
        except ConfigError as error:
            if wallet is None or error.code != Code.ELECTRUM_WALLET_NOT_LOADED:
                raise
        self._call(online, ["load_wallet"], wallet, b"")  # 4.5 prints nothing, 4.3 "true"
        try:
            return self._call(online, args, wallet, stdin)
        finally:
            # Left open, the wallet is merely shown by the running Electrum: not worth
            # hiding the command's own result or error for.
            with contextlib.suppress(BridgeError):
                self._call(online, ["close_wallet"], wallet, b"")

    def _call(
        self, electrum: Sequence[str], args: list[str], wallet: Path | None, stdin: bytes
    ) -> str:
        """Run electrum with args; its stdout, stripped, or the BridgeError its output maps to.

        A payload goes through stdin (Electrum reads the argument "-" from there): argv has a
        per-argument size limit and is visible to every process. A new session means no
        controlling terminal, so Electrum can never stop at a password prompt.
        """
        name = args[0]
        argv = [*electrum, *args, *(["-w", str(wallet.absolute())] if wallet else [])]
        try:
            result = subprocess.run(
                argv,
                input=stdin,
                capture_output=True,
                timeout=self.timeout,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as error:
            raise BridgeError(
                Code.ELECTRUM_TIMEOUT, f"electrum {name} did not answer in {self.timeout:g} s"
            ) from error
        except OSError as error:
            raise ConfigError(
                Code.ELECTRUM_MISSING,
                f"cannot run {electrum[0]!r} ({error.strerror}): install Electrum"
                f" (Debian: apt install electrum) or set {ENV_VAR} to its command line",
            ) from error
        if len(result.stdout) > DEFAULT_MAX_INPUT:
            raise BridgeError(Code.ELECTRUM_BAD_OUTPUT, f"electrum {name} printed too much")
        out = result.stdout.decode("utf-8", errors="replace").strip()
        if result.returncode != 0:
            raise _failure(name, out + "\n" + result.stderr.decode("utf-8", errors="replace"))
        return out


def _failure(name: str, untrusted_text: str) -> BridgeError:
    """Turn Electrum's complaint (on stdout or stderr, by case) into one of our errors."""
    text = untrusted_text.strip()
    if "Run this command without --offline" in text:
        return ConfigError(
            Code.ELECTRUM_STALE_LOCKFILE,
            "Electrum 4.5 runs no command offline while its daemon's lockfile exists, and"
            " no running Electrum answered: if none runs, `electrum stop` (with the options"
            f" of {ENV_VAR}) removes the lockfile a crash left",
        )
    if "Daemon not running" in text:
        return ConfigError(Code.ELECTRUM_NOT_RUNNING, f"Electrum is not running: {START_HINT}")
    if "wallet not loaded" in text:
        return ConfigError(
            Code.ELECTRUM_WALLET_NOT_LOADED,
            "the wallet is not open in the running Electrum: open it in the GUI or run"
            " `electrum load_wallet -w WALLET`",
        )
    if "Wallet file not found" in text:
        return ConfigError(Code.ELECTRUM_WALLET_MISSING, "Electrum cannot find the wallet file")
    # "--offline" client, or a daemon started with --offline (it has no network object).
    if "cannot be run offline" in text or "'NoneType' object has no attribute" in text:
        return BridgeError(
            Code.ELECTRUM_OFFLINE,
            f"electrum {name} needs the network but Electrum runs offline: run Electrum online",
        )
    if "Invalid extended key format" in text:
        return BridgeError(
            Code.ELECTRUM_WRONG_NETWORK,
            "Electrum cannot read the wallet's keys: does it run on the wallet's network"
            " (--testnet, --regtest)?",
        )
    if "Insufficient funds" in text:
        return BridgeError(
            Code.ELECTRUM_INSUFFICIENT_FUNDS, "the wallet has too little to pay this"
        )
    if "unrelated to this wallet" in text:
        return BridgeError(
            Code.ELECTRUM_UNRELATED_TX, "the transaction neither pays to nor spends from the wallet"
        )
    code = Code.ELECTRUM_BROADCAST_FAILED if name == "broadcast" else Code.ELECTRUM_FAILED
    return BridgeError(code, f"electrum {name} failed: {_excerpt(_last_line(text))}")


def _last_line(untrusted_text: str) -> str:
    """The line that says what went wrong: Electrum 4.5 prints a traceback (through its
    daemon followed by a generic line), whose last line names the exception."""
    lines = [line for line in untrusted_text.splitlines() if line.strip()]
    meaningful = [line for line in lines if line.strip() not in _NOISE]
    return meaningful[-1].strip() if meaningful else "no message"


def _json_output(name: str, untrusted_text: str) -> Any:
    """Electrum's JSON answer, bounded like our own files: electrum.bad_output otherwise."""
    return load_json(
        untrusted_text.encode("utf-8", "surrogateescape"),
        lambda why: _bad_output(name, f"{why}: {untrusted_text}"),
        cap=DEFAULT_MAX_INPUT,
        max_depth=4,  # a list of strings, an object of strings
    )


def _bad_output(name: str, untrusted_text: str) -> BridgeError:
    return BridgeError(
        Code.ELECTRUM_BAD_OUTPUT,
        f"electrum {name} printed something unexpected: {_excerpt(untrusted_text)}",
    )


def _excerpt(untrusted_text: str) -> str:
    """At most 160 characters, non-printables shown as '.', for a one-line message."""
    short = untrusted_text[:160]
    return "".join(c if c.isprintable() else "." for c in short) + (
        "..." if len(untrusted_text) > 160 else ""
    )


def _check_output(index: int, address: str, amount: str) -> list[str]:
    if not _ADDRESS_RE.fullmatch(address):
        raise UsageError(
            Code.ELECTRUM_BAD_ADDRESS, f"output {index}: {_excerpt(address)!r} is not an address"
        )
    if not _AMOUNT_RE.fullmatch(amount) or (amount != "!" and Decimal(amount) <= 0):
        raise UsageError(
            Code.ELECTRUM_BAD_AMOUNT,
            f"output {index}: amount {_excerpt(amount)!r} is not a positive BTC amount (8 decimals at most)",
        )
    return [address, amount]


def _check_feerate(feerate: float) -> str:
    if isinstance(feerate, bool) or not math.isfinite(feerate) or not 0 < feerate <= MAX_FEERATE:
        raise UsageError(
            Code.ELECTRUM_BAD_FEERATE,
            f"fee rate must be above 0 and at most {MAX_FEERATE:g} sat/vB",
        )
    return repr(float(feerate))


def _txid(raw: bytes, name: str) -> str:
    try:
        return Tx.parse(raw).txid_hex()
    except InvalidInput as error:
        raise InvalidInput(
            Code.ELECTRUM_BAD_TX, f"electrum {name}: not a serialized transaction ({error})"
        ) from error


def _sats(untrusted: object, text: str) -> int:
    """Electrum prints BTC as str(Decimal(sats) / COIN): "0.999997", but also "0E-8", "1.2E-7".

    Whole satoshis only, read from a bounded decimal string: at most 16 digits each side and
    a two-digit exponent, so nothing reaches Decimal that could overflow it ("1e999999") or
    make int() run for half a minute ("1e999990"); at most 21 million BTC either way.
    """
    if not isinstance(untrusted, str) or not _BALANCE_RE.fullmatch(untrusted):
        raise _bad_output("getbalance", text)
    # safe: a short plain decimal whose exponent is below 100
    value = Decimal(untrusted) * _SATS
    if value != value.to_integral_value() or abs(value) > MAX_MONEY:
        raise _bad_output("getbalance", text)
    return int(value)


def _create_new(path: Path, data: bytes) -> None:
    """Write a wallet file that did not exist; an existing one is never replaced."""
    try:
        write_new(path, data)
    except FileExistsError as error:
        raise UsageError(
            Code.ELECTRUM_WALLET_EXISTS, f"{path} exists; psbtbridge never overwrites a wallet file"
        ) from error
