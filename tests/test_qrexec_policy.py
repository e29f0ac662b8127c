"""qrexec_policy.py: the shipped dom0 policy lints clean; each kind of mistake is found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from psbtbridge.qrexec import is_qube_name
from tests.support.qrexec_harness import SHIPPED_SERVICES
from tests.support.qrexec_policy import lint_filename, lint_line, lint_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "qrexec" / "70-psbtbridge.policy"


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.qrexec_policy", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_shipped_policy_is_clean() -> None:
    assert lint_policy(POLICY.read_text()) == []
    assert lint_filename(POLICY.name) == []


def _rules(service: str) -> list[list[str]]:
    lines = POLICY.read_text().splitlines()
    rules = [line.split() for line in lines if line.strip() and line.strip()[:1] != "#"]
    assert {rule[0] for rule in rules} == set(SHIPPED_SERVICES)
    return [rule for rule in rules if rule[0] == service]


@pytest.mark.parametrize("service", ["psbtbridge.Sign", "psbtbridge.SignMessage"])
def test_shipped_policy_asks_for_electrum_hot_only_and_denies_the_rest(service: str) -> None:
    """Whatever signs is asked in dom0's prompt, from electrum-hot to electrum only."""
    rules = _rules(service)
    assert rules[-2:] == [
        [service, "*", "@anyvm", "@anyvm", "deny"],
        [service, "*", "@anyvm", "@adminvm", "deny"],
    ]
    assert [rule[3] for rule in rules[:-2]] == ["electrum", "@default"]
    for rule in rules[:-2]:
        assert rule[:3] == [service, "*", "electrum-hot"]
        assert rule[4:] == ["ask", "target=electrum", "default_target=electrum"]


def test_shipped_policy_lets_electrum_hot_ask_for_addresses_and_denies_the_rest() -> None:
    """ShowAddress signs nothing and shows the answer on the cold screen: no dom0 prompt."""
    rules = _rules("psbtbridge.ShowAddress")
    assert rules[-2:] == [
        ["psbtbridge.ShowAddress", "*", "@anyvm", "@anyvm", "deny"],
        ["psbtbridge.ShowAddress", "*", "@anyvm", "@adminvm", "deny"],
    ]
    for rule in rules[:-2]:
        assert rule[:3] == ["psbtbridge.ShowAddress", "*", "electrum-hot"]
        assert rule[4:] == ["allow", "target=electrum"]


def test_every_service_denies_dom0_as_a_target() -> None:
    """`@anyvm` does not include dom0 (measured with qrexec 4.4.2's policy engine): without its
    own `@adminvm` deny, a call to dom0 would fall through to later policy files."""
    for service in SHIPPED_SERVICES:
        assert [service, "*", "@anyvm", "@adminvm", "deny"] in _rules(service), service


def test_command_line_accepts_the_shipped_policy() -> None:
    result = _lint(str(POLICY))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_command_line_reports_file_line_and_code(tmp_path: Path) -> None:
    broken = tmp_path / "70-broken.policy"
    broken.write_text("# fine\npsbtbridge.Sign * electrum-hot electrum allow # why\n")
    result = _lint(str(broken))
    assert result.returncode == 3
    assert result.stderr.startswith(f"{broken}:2: ")
    assert result.stderr.rstrip().endswith("[qrexec_policy.inline_comment]")


def test_command_line_unreadable_file_is_an_error(tmp_path: Path) -> None:
    result = _lint(str(tmp_path / "missing.policy"))
    assert result.returncode == 4
    assert "[io.read_failed]" in result.stderr


BROKEN = {
    "inline comment": ("psbtbridge.Sign * hot electrum ask # ask me", "inline_comment"),
    "too few fields": ("psbtbridge.Sign * hot electrum", "field_count"),
    "slash in service": ("psbtbridge/Sign * hot electrum deny", "bad_service"),
    "plus in service": ("psbtbridge.Sign+x * hot electrum deny", "bad_service"),
    "argument without +": ("psbtbridge.Sign deadbeef hot electrum deny", "bad_argument"),
    "argument bad character": ("psbtbridge.Sign +dead$beef hot electrum deny", "bad_argument"),
    "argument for * service": ("* +deadbeef hot electrum deny", "bad_argument"),
    "@default as source": ("psbtbridge.Sign * @default electrum deny", "bad_source"),
    "@dispvm as source": ("psbtbridge.Sign * @dispvm electrum deny", "bad_source"),
    "source starts with a digit": ("psbtbridge.Sign * 1hot electrum deny", "bad_source"),
    "source is a stub domain": ("psbtbridge.Sign * hot-dm electrum deny", "bad_source"),
    "source name too long": ("psbtbridge.Sign * " + "a" * 32 + " electrum deny", "bad_source"),
    "empty tag": ("psbtbridge.Sign * hot @tag: deny", "bad_target"),
    "unknown vm type": ("psbtbridge.Sign * hot @type:Laptop deny", "bad_target"),
    "unknown keyword": ("psbtbridge.Sign * hot @everyone deny", "bad_target"),
    "unknown action": ("psbtbridge.Sign * hot electrum permit", "bad_action"),
    "deny with target": ("psbtbridge.Sign * hot electrum deny target=electrum", "bad_param"),
    "allow with default_target": (
        "psbtbridge.Sign * hot electrum allow default_target=electrum",
        "bad_param",
    ),
    "notify not yes/no": ("psbtbridge.Sign * hot electrum allow notify=true", "bad_param"),
    "autostart not yes/no": ("psbtbridge.Sign * hot electrum ask autostart=1", "bad_param"),
    "redirect to @anyvm": ("psbtbridge.Sign * hot electrum allow target=@anyvm", "bad_param"),
    "redirect to @tag": ("psbtbridge.Sign * hot electrum ask target=@tag:cold", "bad_param"),
    "parameter twice": ("psbtbridge.Sign * hot electrum allow target=a target=b", "bad_param"),
    "parameter without value": ("psbtbridge.Sign * hot electrum allow target", "bad_param"),
    "comma-separated params": ("psbtbridge.Sign * hot electrum allow,target=a", "bad_action"),
    "bad user": ("psbtbridge.Sign * hot electrum allow user=$(id)", "bad_param"),
    "allow to @default without target": ("psbtbridge.Sign * hot @default allow", "allow_default"),
    "default_target not the target": (
        "psbtbridge.Sign * hot @default ask target=electrum default_target=vault",
        "default_target",
    ),
    "include without path": ("!include", "bad_directive"),
    "include-dir with two paths": ("!include-dir a b", "bad_directive"),
    "misspelt directive": ("!inclde 50-other.policy", "bad_directive"),
    "compat-4.0": ("!compat-4.0", "bad_directive"),
    "include-service argument": ("!include-service psbtbridge.Sign deadbeef /x", "bad_argument"),
    "non-breaking space": ("psbtbridge.Sign * hot electrum\u00a0deny", "bad_character"),
    "escape character": ("psbtbridge.Sign * hot \x1b[31melectrum deny", "bad_character"),
}


@pytest.mark.parametrize("line, code", BROKEN.values(), ids=BROKEN.keys())
def test_broken_line_has_its_finding(line: str, code: str) -> None:
    findings = lint_policy(f"# header\n\n{line}\n")
    assert [f.code for f in findings] == [f"qrexec_policy.{code}"]
    assert findings[0].line == 3
    assert findings[0].message


VALID = [
    "psbtbridge.Sign * electrum-hot electrum ask target=electrum default_target=electrum",
    "psbtbridge.Sign +deadbeef electrum-hot electrum allow notify=yes autostart=no",
    "psbtbridge.Sign + electrum-hot @default ask default_target=electrum",
    "* * @anyvm @anyvm deny notify=no",
    "qubes.Filecopy * @tag:work @dispvm:@tag:work allow",
    "qubes.Filecopy * @type:AppVM @dispvm:fedora-40-dvm ask user=root",
    "qubes.Filecopy * work @dispvm allow",
    "admin.vm.List * dom0 @adminvm allow target=dom0",
    "qubes.Gpg\t*\twork\tvault\task\tdefault_target=vault",
    "   # an indented comment",
    "",
    "!include include/admin-local-rwx",
    "!include-dir /etc/qubes/policy.d/include",
    "!include-service psbtbridge.Sign * /etc/qubes/policy.d/include/psbtbridge",
]


@pytest.mark.parametrize("line", VALID)
def test_valid_line_has_no_finding(line: str) -> None:
    assert lint_line(line) == []


def test_every_problem_of_a_line_is_reported() -> None:
    codes = {code for code, _ in lint_line("bad/service x @default @nothing frobnicate")}
    assert codes == {
        "qrexec_policy.bad_service",
        "qrexec_policy.bad_argument",
        "qrexec_policy.bad_source",
        "qrexec_policy.bad_target",
        "qrexec_policy.bad_action",
    }


@pytest.mark.parametrize(
    "name, valid",
    [
        ("electrum", True),
        ("electrum-hot", True),
        ("Work_2.backup", True),
        ("a" * 31, True),
        ("a" * 32, False),
        ("", False),
        ("-electrum", False),
        ("2fa", False),
        ("sys-net-dm", False),
        ("none", False),
        ("default", False),
        ("Domain-0", False),
        ("elec trum", False),
        ("électrum", False),
        ("electrum\n", False),
    ],
)
def test_qube_names(name: str, valid: bool) -> None:
    assert is_qube_name(name) is valid


@pytest.mark.parametrize(
    "name, ok",
    [
        ("70-psbtbridge.policy", True),
        ("70-PsbtBridge.policy", False),
        ("70-psbtbridge.policy~", False),
        (".70-psbtbridge.policy.swp", False),
        ("70-psbtbridge", False),
    ],
)
def test_policy_file_names(name: str, ok: bool) -> None:
    assert (lint_filename(name) == []) is ok
