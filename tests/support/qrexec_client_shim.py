#!/usr/bin/env python3
"""Stands in for `qrexec-client-vm QUBE SERVICE[+ARG]` on a machine without Qubes.

Plays dom0 and the cold qube's qrexec agent for one call: rewrites the service name as dom0
does, evaluates the shipped `qrexec/70-psbtbridge.policy` for (service, argument, caller,
QUBE), and, if it allows the call, runs the harness-installed service through the login
shell with this process's stdin, stdout and stderr, exiting with its status. A refused call
prints "Request refused" and exits 126, as qrexec-client-vm does. Use it as
PSBTBRIDGE_QREXEC_CLIENT="PYTHON tests/support/qrexec_client_shim.py" (`qrexec_harness.shim_command()`).

Environment:
  PSBTBRIDGE_SHIM_ROOT     a root made by `qrexec_harness.install` (required)
  PSBTBRIDGE_SHIM_SOURCE   the calling qube (default electrum-hot)
  PSBTBRIDGE_SHIM_ASK      the answer to dom0's `ask` prompt: yes (default) or no
  PSBTBRIDGE_SHIM_COMMAND  run this command (shell words) instead of the installed service

The policy evaluation understands what the shipped policy uses: plain qube names, @anyvm,
@default and the target= redirect; a policy with lint findings refuses every call, as dom0's
does with a broken file.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import qrexec_harness as harness
from qrexec_policy import lint_policy

REFUSED = 126
SERVICE_MISSING = 127  # the policy allowed the call but the target has no such service


def _matches(token: str, value: str) -> bool:
    if token == "@anyvm":
        return value not in ("dom0", "@adminvm")
    return token == value


def evaluate(policy: str, service: str, argument: str, source: str, target: str) -> str | None:
    """The qube the call goes to, or None if dom0 refuses it (first matching rule wins)."""
    if lint_policy(policy):
        return None
    for line in policy.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        rule_service, rule_argument, rule_source, rule_target, action, *params = fields
        if (
            rule_service in ("*", service)
            and rule_argument in ("*", argument)
            and _matches(rule_source, source)
            and _matches(rule_target, target)
        ):
            if action == "deny":
                return None
            if action == "ask" and os.environ.get("PSBTBRIDGE_SHIM_ASK", "yes") != "yes":
                return None
            redirect = dict(param.split("=", 1) for param in params).get("target")
            return redirect or (None if target == "@default" else target)
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: qrexec_client_shim.py QUBE SERVICE[+ARG]\n")
        return 2
    qube, untrusted_call = argv
    service, _, argument = harness.dom0_sanitize(untrusted_call).partition("+")
    source = os.environ.get("PSBTBRIDGE_SHIM_SOURCE", "electrum-hot")
    target = evaluate(
        harness.SHIPPED_POLICY.read_text(), service, f"+{argument}", source, qube or "@default"
    )
    if target is None:
        sys.stderr.write("Request refused\n")
        return REFUSED
    root = Path(os.environ["PSBTBRIDGE_SHIM_ROOT"])
    inst = harness.Install(
        root, root / "etc" / "qubes-rpc" / harness.SERVICE, root / "home" / "user"
    )
    if not inst.service_script(service).is_file():
        return SERVICE_MISSING
    override = os.environ.get("PSBTBRIDGE_SHIM_COMMAND")
    command = shlex.split(override) if override else [str(inst.service_script(service))]
    status = subprocess.call(
        harness.login_shell(command, argument or None),
        env=harness.service_environ(inst, argument or None, source, service),
        cwd=inst.home,
    )
    return 128 - status if status < 0 else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
