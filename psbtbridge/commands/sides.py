"""A command both qubes run (`psbt address`, `psbt message`): one parser, two sides.

The hot form of an action (`--to QUBE`: ask the cold qube over qrexec) lives in
hot/commands/NAME.py, the cold form and the qrexec service body (`serve`) in
cold/commands/NAME.py. The side's module is imported by name only when it runs, as the
`psbt` dispatcher imports a command, so the hot path never loads cold code and the cold
path never loads hot code.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any, Protocol, cast

from psbtbridge.qrexec import Service


class _Side(Protocol):
    def run(self, args: argparse.Namespace) -> int: ...


def add_serve(actions: Any, service: Service) -> None:
    """The `serve` action: the service body qrexec/SERVICE runs, stdin to stdout."""
    actions.add_parser(
        "serve",
        help=f"cold: the {service} qrexec service body (stdin to stdout)",
        description=f"Run by qrexec/{service} only.",
    )


def run_side(command: str, args: argparse.Namespace, remote: bool) -> int:
    """Run command's hot form (remote: it names a cold qube with --to) or its cold form."""
    side = "hot" if remote else "cold"
    return cast(_Side, importlib.import_module(f"{side}.commands.{command}")).run(args)
