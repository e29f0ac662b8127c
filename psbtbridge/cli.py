"""The `psbt` entry point: a thin dispatcher that imports a subcommand's module only when it runs.

Each subcommand module (listed in `COMMANDS`) provides `configure(parser)` and
`run(args) -> int`, and raises `BridgeError` for every expected failure. Lazy import keeps
the trust boundary real at run time: `psbt sign` never loads `hot`, `psbt send` never `cold`.
The help texts live here, in the table, so `psbt help` loads no command module.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Protocol, cast

from psbtbridge import __version__
from psbtbridge.errors import BridgeError, ExitStatus

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


class Command(NamedTuple):
    module: str
    summary: str  # one line, for the command list
    side: str  # "cold", "hot" or "both": where it runs
    about: str  # the one paragraph at the top of `psbt help COMMAND`
    examples: tuple[str, ...] = ()
    signs: bool = False  # may make a signature: an interrupt cannot say "nothing was signed"


COMMANDS: dict[str, Command] = {
    "inspect": Command(
        "psbtbridge.commands.inspect",
        "strict parse and analysis summary; never signs",
        "both",
        "Parse a PSBT strictly and show what it does: every input and output with its"
        " amount and address, the totals, the fee and fee rate, the signatures present,"
        " and what a signer would refuse or warn about. Reads FILE, or stdin when FILE is"
        " - or missing. Never signs and never writes a file.",
        ("psbt inspect unsigned.psbt", "psbt inspect --json - < unsigned.psbt"),
    ),
    "finalize": Command(
        "psbtbridge.commands.finalize",
        "finalize a fully signed PSBT into a raw transaction",
        "both",
        "Build the final scriptSig and witness of every input of a fully signed PSBT, check"
        " every signature, and write the raw transaction as hex (or, with --psbt, the"
        " finalized PSBT).",
        ("psbt finalize signed.psbt -o tx.hex",),
    ),
    "qr": Command(
        "psbtbridge.commands.qr",
        "animated QR codes: `qr show FILE`, `qr scan [IMAGE ...]`",
        "both",
        "Carry a PSBT across an air gap as animated QR codes: `qr show` plays a PSBT as UR"
        " crypto-psbt (or BBQr) frames in a window, as PNG files or a GIF; `qr scan` joins"
        " frames from pictures or a camera, in any order, back into the PSBT.",
        ("psbt qr show unsigned.psbt", "psbt qr scan --camera -o signed.psbt"),
    ),
    "keys": Command(
        "cold.commands.keys",
        "cold: `keys init` a seed, `keys export` watch-only material",
        "cold",
        "Create the signer's seed (24 BIP39 words, shown once and checked against your"
        " paper) or import one (BIP39, Electrum seed, Electrum wallet file), stored"
        " encrypted in the data folder; export the watch-only descriptors and xpubs the"
        " hot qube's Electrum needs.",
        (
            "psbt keys init",
            "psbt keys init --network regtest --mnemonic-file words.txt",
            "psbt keys export --json > export.json",
        ),
    ),
    "wallet": Command(
        "cold.commands.wallet",
        "cold: register and list multisig wallets",
        "cold",
        "Register a multisig wallet (a descriptor holding one of this seed's keys) after"
        " you checked every cosigner, and list the wallets the signer knows. Single-sig"
        " wallets come from the seed and need no registering.",
        (
            "psbt wallet add vault 'wsh(sortedmulti(2,[...]xpub.../<0;1>/*,...))'",
            "psbt wallet list",
        ),
    ),
    "address": Command(
        "psbtbridge.commands.address",
        "cold: `address show`, `address verify ADDRESS`; hot: `address verify ADDRESS --to QUBE`",
        "both",
        "Show the wallets' addresses on the cold qube's trusted screen, or tell whether an"
        " address is one of ours; on the hot qube, `verify --to QUBE` asks the cold qube,"
        " which shows the answer on its own screen.",
        ("psbt address show --count 5", "psbt address verify bc1q... --to electrum"),
    ),
    "sign": Command(
        "cold.commands.sign",
        "cold: prove, check policy, confirm and sign a PSBT",
        "cold",
        "Prove what a PSBT does (which inputs and outputs are ours, every amount, the fee),"
        " check it against policy.toml, show it for confirmation on the terminal or in a"
        " dialog (or apply the unattended rules), then sign the inputs of ours, verify the"
        " signatures independently, log the decision and write the signed PSBT.",
        ("psbt sign unsigned.psbt -o signed.psbt", "psbt sign - --confirm tty < unsigned.psbt"),
        signs=True,
    ),
    "serve": Command(
        "cold.commands.serve",
        "cold: the psbtbridge.Sign qrexec service body (stdin to stdout)",
        "cold",
        "The psbtbridge.Sign qrexec service: read one PSBT from stdin, run the whole `sign`"
        " pipeline, and answer the signed PSBT on stdout, or one reason line on stderr and"
        " a non-zero exit. Started by qrexec (qrexec/psbtbridge.Sign), not by hand.",
        (),
        signs=True,
    ),
    "message": Command(
        "psbtbridge.commands.message",
        "`message verify` (both sides); cold: `message sign`; hot: `message sign --to QUBE`",
        "both",
        "Sign a message with the key of one of the keystore's addresses after you read the"
        " whole message on the trusted screen (Electrum format or BIP-322), or verify such"
        " a signature anywhere; on the hot qube, `sign --to QUBE` asks the cold qube, which"
        " shows the message in its dialog and answers the signature.",
        (
            "psbt message sign note.txt --address bc1q...",
            "psbt message sign note.txt --address bc1q... --to electrum",
            "psbt message verify bc1q... SIGNATURE note.txt",
        ),
        signs=True,
    ),
    "audit": Command(
        "cold.commands.audit",
        "cold: `audit verify` the hash-chained audit log",
        "cold",
        "Check the hash-chained audit log of every decision the signer made, list its"
        " records, or record how far a wallet moved here has already used its addresses.",
        ("psbt audit verify", "psbt audit show --last 10"),
    ),
    "send": Command(
        "hot.commands.send",
        "hot: send a PSBT to the cold qube, check and finalize the answer",
        "hot",
        "Send an unsigned PSBT (a file, or one Electrum builds with --pay) to the cold"
        " qube's psbtbridge.Sign service, check that the answer is the same transaction"
        " with valid signatures, and write it, finalize it or broadcast it through"
        " Electrum.",
        (
            "psbt send unsigned.psbt --to electrum -o signed.psbt",
            "psbt send --to electrum --pay bc1q... 0.001 --feerate 5 --broadcast",
        ),
    ),
    "electrum": Command(
        "hot.commands.electrum",
        "hot: `electrum setup-watch-only` from a cold export",
        "hot",
        "Create the hot qube's Electrum watch-only wallet from the cold qube's `psbt keys"
        " export --json`, and check that Electrum derives the same first address.",
        ("psbt electrum setup-watch-only --from export.json --wallet ~/.electrum/wallets/cold",),
    ),
}

#: Environment variables: (name, side, what it does).
ENVIRONMENT: tuple[tuple[str, str, str], ...] = (
    (
        "PSBTBRIDGE_HOME",
        "both",
        "the data folder (keystore, wallets, policy.toml, audit log); default"
        " $XDG_DATA_HOME/psbtbridge, else ~/.local/share/psbtbridge",
    ),
    (
        "PSBTBRIDGE_PASSPHRASE_FILE",
        "cold",
        "the keystore passphrase file for unattended signing (--passphrase-file wins)",
    ),
    ("PSBTBRIDGE_ELECTRUM", "hot", "the Electrum command line (default: electrum)"),
    (
        "PSBTBRIDGE_QREXEC_CLIENT",
        "hot",
        "the command standing in for qrexec-client-vm (tests, other transports)",
    ),
    ("PSBTBRIDGE_DEBUG", "both", "1: show a traceback for an internal error"),
)

EXIT_STATUSES = (
    "  0  done",
    "  1  declined by you, or refused by proof or policy; nothing was signed",
    "  2  bad command line",
    "  3  invalid input (not a PSBT, malformed, wrong network, ...)",
    "  4  keystore, configuration or environment problem, or an internal error",
)

_SIDES = {"cold": "cold qube (holds the keys)", "hot": "hot qube (watch-only)", "both": "both"}


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class HelpFormatter(argparse.HelpFormatter):
    """Wraps one-line paragraphs, keeps laid-out blocks (examples, tables) as written, and
    shows an option's default when it has one worth showing and its help does not say it."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        blocks = text.split("\n\n")
        return "\n\n".join(
            block
            if "\n" in block
            else textwrap.fill(block, width, initial_indent=indent, subsequent_indent=indent)
            for block in blocks
        )

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default is not None
            and default is not False
            and default != argparse.SUPPRESS
            and "default" not in text
        ):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """argparse with our error form (`psbt: error: MESSAGE [cli.usage]`, exit 2) and help on
    stderr (stdout carries only a PSBT or JSON). Sub-parsers are made of the same class."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def add_subparsers(self, **kwargs: Any) -> Any:
        # an action's help (`psbt keys init --help`) ends like its command's: examples,
        # environment, exit statuses
        kwargs.setdefault("parser_class", functools.partial(Parser, epilog=self.epilog))
        kwargs.setdefault("action", _Actions)
        return super().add_subparsers(**kwargs)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # help and usage included: argparse would print help on stdout
        super()._print_message(message, sys.stderr)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(
            f"psbt: error: {self.prog}: {message}; `{self.prog} --help` has more [cli.usage]\n"
        )
        sys.exit(ExitStatus.USAGE)


class _Actions(argparse._SubParsersAction):  # type: ignore[type-arg]
    """A command's actions; one without its own description is described by its help line."""

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if kwargs.get("description") is None and kwargs.get("help"):
            kwargs["description"] = kwargs["help"][0].upper() + kwargs["help"][1:] + "."
        return super().add_parser(name, **kwargs)


def _environment_lines(side: str) -> list[str]:
    entries = [(n, s, t) for n, s, t in ENVIRONMENT if side == "both" or s in (side, "both")]
    width = max(len(name) for name, _, _ in entries)
    return [
        textwrap.fill(f"  {name:<{width}}  {text}", 88, subsequent_indent=" " * (width + 4))
        for name, _, text in entries
    ]


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: psbt [--help] [--version] COMMAND [ARGS ...]",
        "",
        textwrap.fill(
            f"psbtbridge {__version__}: sign Bitcoin PSBTs on an offline cold qube and send"
            " them from a networked hot qube (Qubes OS), or across an air gap as animated QR"
            " codes. The cold side proves what a transaction does, shows it, asks you, signs"
            " and logs; the hot side never holds a key.",
            width=88,
        ),
    ]
    for side, title in _SIDES.items():
        lines += ["", f"{title}:"]
        lines += [
            f"  {name:<{width}}  {cmd.summary}"
            for name, cmd in COMMANDS.items()
            if cmd.side == side
        ]
    lines += [
        "",
        "examples:",
        "  psbt keys init                        create the seed and the keystore (cold)",
        "  psbt inspect unsigned.psbt            what a PSBT does; never signs",
        "  psbt sign unsigned.psbt -o signed.psbt  review, confirm and sign (cold)",
        "  psbt send --to electrum --pay ADDRESS 0.001 --feerate 5   (hot)",
        "",
        "environment:",
        *_environment_lines("both"),
        "",
        "exit status:",
        *EXIT_STATUSES,
        "",
        "`psbt help COMMAND` (or `psbt COMMAND --help`) describes one command.",
    ]
    return "\n".join(lines)


def _epilog(command: Command) -> str:
    lines = []
    if command.examples:
        lines += ["examples:", *(f"  {example}" for example in command.examples), ""]
    lines += ["environment:", *_environment_lines(command.side), ""]
    lines += ["exit status:", *EXIT_STATUSES]
    return "\n".join(lines)


def _unknown(name: str) -> int:
    import difflib  # only for a mistyped command: every other run starts without it

    close = difflib.get_close_matches(name, [*COMMANDS, "help"], n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else "; `psbt --help` lists them"
    sys.stderr.write(f"psbt: error: unknown command {name[:40]!r}{hint} [cli.unknown_command]\n")
    return ExitStatus.USAGE


def report_error(error: BridgeError, as_json: bool) -> None:
    """Tell the caller what went wrong in one line: JSON on stdout, or text on stderr."""
    if as_json:
        sys.stdout.write(json.dumps({"error": error.message, "code": error.code}) + "\n")
    else:
        sys.stderr.write(f"psbt: error: {error.message} [{error.code}]\n")


def run(argv: Sequence[str]) -> int:
    """Dispatch one command line; return the exit status."""
    if not argv or argv[0] in ("-h", "--help") or list(argv) == ["help"]:
        sys.stderr.write(_usage() + "\n")
        return ExitStatus.OK if argv else ExitStatus.USAGE
    if argv[0] == "--version":
        sys.stderr.write(f"psbtbridge {__version__}\n")
        return ExitStatus.OK
    if argv[0] == "help":  # `psbt help CMD [ACTION]` is `psbt CMD [ACTION] --help`
        argv = [*argv[1:], "--help"]
    name, rest = argv[0], list(argv[1:])
    command = COMMANDS.get(name)
    if command is None:
        return _unknown(name)
    module = cast(CommandModule, importlib.import_module(command.module))
    parser = Parser(prog=f"psbt {name}", description=command.about, epilog=_epilog(command))
    module.configure(parser)
    try:
        args = parser.parse_args(rest)
    except SystemExit as done:  # --help (0) or our error() (2): argparse ends by exiting
        return int(done.code or 0)
    try:
        return module.run(args)
    except BridgeError as error:
        report_error(error, bool(getattr(args, "json", False)))
        return error.exit_status


def _interrupted(argv: Sequence[str]) -> str:
    """What Ctrl-C means. A command that never signs has nothing to reassure about; one that
    can sign may have been stopped after the signature, so it points at the audit log
    rather than promise "nothing was signed"."""
    command = COMMANDS.get(argv[0]) if argv else None
    if command is not None and command.signs:
        return "psbt: interrupted; `psbt audit show --last 1` shows whether anything was signed\n"
    return "psbt: interrupted\n"


def _load_without_collecting(argv: Sequence[str]) -> None:
    """Import the command's module with the garbage collector off, then freeze what it made.

    Importing builds objects that live as long as the process (modules, classes, tables):
    collecting garbage among them finds none, and was 1/20 of a 100-input signing's
    instructions (bench/sign.py). Frozen, they are skipped by the collections that the
    command's own work (a QR scan, a dialog) still gets. The process entry only: `run` is
    also called in-process (tests), where freezing would keep their garbage for good.
    """
    command = COMMANDS.get(argv[0]) if argv else None
    if command is None:
        return
    gc.disable()
    try:
        importlib.import_module(command.module)
    finally:
        gc.freeze()
        gc.enable()


def main() -> None:
    """Console-script entry: never shows a traceback unless PSBTBRIDGE_DEBUG=1."""
    try:
        _load_without_collecting(sys.argv[1:])
        status = run(sys.argv[1:])
    except KeyboardInterrupt:
        # Said without a claim: a command that signed delivers or keeps the result itself.
        sys.stderr.write(_interrupted(sys.argv[1:]))
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
