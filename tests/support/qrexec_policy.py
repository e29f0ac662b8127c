"""A linter for dom0's qrexec policy files (the Qubes 4.1+ `/etc/qubes/policy.d` format).

dom0's parser rejects a broken file only when a call is evaluated, and then every call that
reaches the file fails; some mistakes (an inline comment, a redirect to `@anyvm`) surface as
confusing errors far from their cause. This module checks a file before it is installed:
text in, findings with line numbers out, nothing else. Written from the format's
documentation and dom0's observable behaviour; stricter than dom0 where dom0 is lenient in
ways that hide mistakes (inline `#`, the transitional `!compat-4.0`).

Grammar, one rule per line, fields separated by whitespace:

    SERVICE  ARGUMENT  SOURCE  TARGET  ACTION  [PARAM=VALUE ...]

Blank lines and lines whose first non-blank character is `#` are ignored; `!include PATH`,
`!include-dir PATH` and `!include-service SERVICE ARGUMENT PATH` pull in other files.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from psbtbridge.errors import BridgeError, Code, ExitStatus
from psbtbridge.qrexec import is_qube_name

# qrexec's RPCNAME_ALLOWED_CHARSET; dom0 maps anything else in a call's name to `_`.
_RPC_CHARS: Final = re.compile(r"[A-Za-z0-9._+-]*")
_SERVICE: Final = re.compile(r"[A-Za-z0-9._-]+")  # a service name: the charset without `+`
_TAG: Final = re.compile(r"[A-Za-z0-9_.-]+")
_USER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
_FILENAME: Final = re.compile(r"[0-9a-z_.-]+")  # dom0 refuses other names in policy.d

VM_TYPES: Final = frozenset({"AppVM", "TemplateVM", "StandaloneVM", "DispVM", "AdminVM"})

#: Which parameters each action takes; dom0 rejects any other.
ACTION_PARAMS: Final[dict[str, frozenset[str]]] = {
    "allow": frozenset({"target", "user", "notify", "autostart"}),
    "deny": frozenset({"notify"}),
    "ask": frozenset({"target", "default_target", "user", "notify", "autostart"}),
}
_BOOLEAN_PARAMS: Final = frozenset({"notify", "autostart"})  # dom0 takes exactly yes or no


@dataclass(frozen=True)
class Finding:
    """One mistake in a policy file: where, a stable code, and a sentence."""

    line: int  # 1-based; 0 for the file name
    code: str
    message: str


def _is_tag(value: str) -> bool:
    return _TAG.fullmatch(value) is not None


_PREFIXES: Final[tuple[tuple[str, Callable[[str], bool], frozenset[str]], ...]] = (
    ("@dispvm:@tag:", _is_tag, frozenset({"source", "target"})),
    ("@dispvm:", is_qube_name, frozenset({"source", "target", "redirect"})),
    ("@tag:", _is_tag, frozenset({"source", "target"})),
    ("@type:", VM_TYPES.__contains__, frozenset({"source", "target"})),
)


def _check_token(token: str, context: str) -> str | None:
    """None if token may stand in context (source, target, redirect), else why not."""
    if not token.startswith("@"):
        if token == "dom0" or is_qube_name(token):  # dom0 is dom0's alias for @adminvm
            return None
        return f"{token!r} is not a valid qube name"
    allowed_exact = {
        "source": {"@anyvm", "@adminvm"},
        "target": {"@anyvm", "@adminvm", "@default", "@dispvm"},
        "redirect": {"@adminvm", "@dispvm"},
    }[context]
    if token in allowed_exact:
        return None
    for prefix, check, contexts in _PREFIXES:  # longest prefix first: @dispvm:@tag: before @dispvm:
        if token.startswith(prefix):
            value = token[len(prefix) :]
            if not check(value):
                return f"{token!r} has an invalid value after {prefix!r}"
            if context not in contexts:
                return f"{prefix}... cannot be used as a {context}"
            return None
    if token in {"@anyvm", "@adminvm", "@default", "@dispvm"}:
        return f"{token} cannot be used as a {context}"
    return f"{token!r} is not a known @keyword"


def _check_service_argument(service: str, argument: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if service != "*" and not _SERVICE.fullmatch(service):
        problems.append(
            (
                "qrexec_policy.bad_service",
                f"service {service!r} has characters outside [A-Za-z0-9._-]",
            )
        )
    if argument != "*":
        if not argument.startswith("+"):
            problems.append(
                ("qrexec_policy.bad_argument", f"argument {argument!r} must be * or start with +")
            )
        elif not _RPC_CHARS.fullmatch(argument):
            problems.append(
                (
                    "qrexec_policy.bad_argument",
                    f"argument {argument!r} has characters outside [A-Za-z0-9._+-]",
                )
            )
        if service == "*":
            problems.append(("qrexec_policy.bad_argument", "a * service takes only a * argument"))
    return problems


def _lint_params(action: str, target: str, params: Sequence[str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for param in params:
        key, sep, value = param.partition("=")
        if not sep:
            problems.append(
                ("qrexec_policy.bad_param", f"parameter {param!r} is not of the form NAME=VALUE")
            )
            continue
        if key in values:
            problems.append(("qrexec_policy.bad_param", f"parameter {key!r} is given twice"))
            continue
        values[key] = value
        if key not in ACTION_PARAMS[action]:
            problems.append(
                ("qrexec_policy.bad_param", f"{action} does not take a {key}= parameter")
            )
        elif key in _BOOLEAN_PARAMS and value not in ("yes", "no"):
            problems.append(("qrexec_policy.bad_param", f"{key}= must be yes or no, not {value!r}"))
        elif key in ("target", "default_target"):
            why = _check_token(value, "redirect")
            if why:
                problems.append(("qrexec_policy.bad_param", f"{key}=: {why}"))
        elif key == "user" and not _USER.fullmatch(value):
            problems.append(("qrexec_policy.bad_param", f"user= {value!r} is not a user name"))
    if action == "allow" and target == "@default" and "target" not in values:
        problems.append(
            (
                "qrexec_policy.allow_default",
                "allow toward @default needs target=: the caller named no qube",
            )
        )
    if (
        action == "ask"
        and "default_target" in values
        and "target" in values
        and values["default_target"] != values["target"]
    ):
        problems.append(
            (
                "qrexec_policy.default_target",
                "default_target= differs from target=, so the default is not among the choices",
            )
        )
    return problems


def _lint_directive(fields: Sequence[str]) -> list[tuple[str, str]]:
    directive, params = fields[0], fields[1:]
    expected = {"!include": 1, "!include-dir": 1, "!include-service": 3}.get(directive)
    if directive == "!compat-4.0":
        return [
            (
                "qrexec_policy.bad_directive",
                "!compat-4.0 is transitional (R4.0 policy files); write rules in this format",
            )
        ]
    if expected is None:
        return [("qrexec_policy.bad_directive", f"unknown directive {directive!r}")]
    if len(params) != expected:
        return [
            (
                "qrexec_policy.bad_directive",
                f"{directive} takes {expected} parameter(s), not {len(params)}",
            )
        ]
    if directive == "!include-service":
        return _check_service_argument(params[0], params[1])
    return []


def lint_line(line: str) -> list[tuple[str, str]]:
    """(code, message) for each problem of one line of a policy file."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return []
    if not stripped.isascii() or not stripped.replace("\t", " ").isprintable():
        return [("qrexec_policy.bad_character", "the line has a non-ASCII or control character")]
    if "#" in stripped:
        return [
            (
                "qrexec_policy.inline_comment",
                "a # after content: dom0 has no inline comments, put it on its own line",
            )
        ]
    fields = stripped.split()
    if fields[0].startswith("!"):
        return _lint_directive(fields)
    if len(fields) < 5:
        return [
            (
                "qrexec_policy.field_count",
                f"{len(fields)} fields; a rule is SERVICE ARGUMENT SOURCE TARGET ACTION [PARAMS]",
            )
        ]
    service, argument, source, target, action, *params = fields
    problems = _check_service_argument(service, argument)
    why = _check_token(source, "source")
    if why:
        problems.append(("qrexec_policy.bad_source", f"source: {why}"))
    why = _check_token(target, "target")
    if why:
        problems.append(("qrexec_policy.bad_target", f"target: {why}"))
    if action not in ACTION_PARAMS:
        problems.append(
            ("qrexec_policy.bad_action", f"action {action!r} is not allow, deny or ask")
        )
    else:
        problems += _lint_params(action, target, params)
    return problems


def lint_policy(text: str) -> list[Finding]:
    """Every problem in a policy file's text, in line order."""
    return [
        Finding(number, code, message)
        for number, line in enumerate(text.split("\n"), start=1)
        for code, message in lint_line(line)
    ]


def lint_filename(name: str) -> list[Finding]:
    """dom0 reads only `*.policy` files named in [0-9a-z_.-], and rejects every call otherwise."""
    if not name.endswith(".policy") or name.startswith("."):
        return [Finding(0, "qrexec_policy.bad_filename", f"{name}: dom0 ignores it (not *.policy)")]
    if not _FILENAME.fullmatch(name):
        return [
            Finding(
                0,
                "qrexec_policy.bad_filename",
                f"{name}: only [0-9a-z_.-] is allowed; dom0 refuses every call otherwise",
            )
        ]
    return []


def main(argv: Sequence[str]) -> int:
    """`python -m psbtbridge.qrexec_policy FILE...`: print findings; 0 if none, 3 if any."""
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m psbtbridge.qrexec_policy FILE.policy ...\n")
        return ExitStatus.OK if argv else ExitStatus.USAGE
    status: int = ExitStatus.OK
    for name in argv:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            failure = BridgeError(Code.IO_READ_FAILED, f"cannot read {name}: {error}")
            sys.stderr.write(f"{name}: {failure} [{failure.code}]\n")
            return failure.exit_status
        findings = lint_filename(Path(name).name) + lint_policy(text)
        for finding in findings:
            sys.stderr.write(f"{name}:{finding.line}: {finding.message} [{finding.code}]\n")
        if findings:
            status = ExitStatus.INVALID_INPUT
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
