"""The `psbt` entry point: a thin dispatcher that imports a subcommand's module only when it runs.

Each subcommand module (listed in `COMMANDS`) provides `configure(parser)` and
`run(args) -> int`, and raises `BridgeError` for every expected failure. Lazy import keeps
the trust boundary real at run time: `psbt sign` never loads `hot`, `psbt send` never `cold`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import NamedTuple, Protocol, cast

from psbtbridge import __version__
from psbtbridge.errors import BridgeError, ExitStatus


class Command(NamedTuple):
    module: str
    summary: str


COMMANDS: dict[str, Command] = {
    "inspect": Command(
        "psbtbridge.commands.inspect", "strict parse and analysis summary; never signs"
    ),
    "finalize": Command(
        "psbtbridge.commands.finalize", "finalize a fully signed PSBT into a raw transaction"
    ),
    "qr": Command(
        "psbtbridge.commands.qr", "animated QR codes: `qr show FILE`, `qr scan [IMAGE ...]`"
    ),
    "keys": Command(
        "cold.commands.keys", "cold: `keys init` a seed, `keys export` watch-only material"
    ),
    "wallet": Command("cold.commands.wallet", "cold: register and list multisig wallets"),
    "address": Command(
        "psbtbridge.commands.address",
        "cold: `address show`, `address verify ADDRESS`; hot: `address verify ADDRESS --to QUBE`",
    ),
    "sign": Command("cold.commands.sign", "cold: prove, check policy, confirm and sign a PSBT"),
    "serve": Command(
        "cold.commands.serve", "cold: the psbtbridge.Sign qrexec service body (stdin to stdout)"
    ),
    "message": Command(
        "cold.commands.message",
        "`message verify` a signed message (both sides); cold: `message sign` one",
    ),
    "audit": Command("cold.commands.audit", "cold: `audit verify` the hash-chained audit log"),
    "send": Command(
        "hot.commands.send", "hot: send a PSBT to the cold qube, check and finalize the answer"
    ),
    "electrum": Command(
        "hot.commands.electrum", "hot: `electrum setup-watch-only` from a cold export"
    ),
}


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: psbt COMMAND [ARGS ...]   (psbtbridge {__version__})", "", "commands:"]
    lines += [f"  {name:<{width}}  {cmd.summary}" for name, cmd in COMMANDS.items()]
    lines += ["", "`psbt COMMAND --help` describes one command."]
    return "\n".join(lines)


def report_error(error: BridgeError, as_json: bool) -> None:
    """Tell the caller what went wrong in one line: JSON on stdout, or text on stderr."""
    if as_json:
        sys.stdout.write(json.dumps({"error": error.message, "code": error.code}) + "\n")
    else:
        sys.stderr.write(f"psbt: error: {error.message} [{error.code}]\n")


def run(argv: Sequence[str]) -> int:
    """Dispatch one command line; return the exit status."""
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write(_usage() + "\n")
        return ExitStatus.OK if argv else ExitStatus.USAGE
    if argv[0] == "--version":
        sys.stderr.write(f"psbtbridge {__version__}\n")
        return ExitStatus.OK
    name, rest = argv[0], list(argv[1:])
    command = COMMANDS.get(name)
    if command is None:
        sys.stderr.write(f"psbt: error: unknown command {name!r}; `psbt --help` lists them\n")
        return ExitStatus.USAGE
    module = cast(CommandModule, importlib.import_module(command.module))
    parser = argparse.ArgumentParser(prog=f"psbt {name}", description=command.summary)
    module.configure(parser)
    args = parser.parse_args(rest)
    try:
        return module.run(args)
    except BridgeError as error:
        report_error(error, bool(getattr(args, "json", False)))
        return error.exit_status


def main() -> None:
    """Console-script entry: never shows a traceback unless PSBTBRIDGE_DEBUG=1."""
    try:
        status = run(sys.argv[1:])
    except KeyboardInterrupt:
        # Said without a claim: a command that signed delivers or keeps the result itself.
        sys.stderr.write("psbt: interrupted\n")
        status = ExitStatus.REFUSED
    except BrokenPipeError:
        status = ExitStatus.INTERNAL
    except Exception as error:  # the last guard: a bug must not print a traceback
        if os.environ.get("PSBTBRIDGE_DEBUG") == "1":
            raise
        sys.stderr.write(
            f"psbt: error: internal error ({type(error).__name__}); `psbt audit verify` and the"
            " audit log say whether anything was signed; rerun with PSBTBRIDGE_DEBUG=1 for"
            " details [internal.bug]\n"
        )
        status = ExitStatus.INTERNAL
    sys.exit(status)
