"""cold/policy.py: defaults, every key's good and bad values, the setting or line each error names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cold.policy import (
    DEFAULT_POLICY,
    MAX_MONEY,
    MAX_POLICY_SIZE,
    SIGHASH_TYPES,
    Policy,
    UnattendedPolicy,
    load_policy,
    parse_policy,
    sum_last_24h,
)
from psbtbridge.errors import CODES, ConfigError

FULL = """\
# every key, none at its default
max_fee_rate = 12.5
max_fee = 20000
max_fee_percent = 2
allowed_sighash = ["ALL"]
allow_foreign_inputs = true
allow_op_return = false
change_index_window = 50

[unattended]
enabled = true
allowed_destinations = [
  "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
  "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
]
max_per_transaction = 500000
max_per_24h = 1000000
refuse_on_warning = false
"""


def refused(text: str) -> tuple[str, int | str | None]:
    """The code and the place (a line for TOML syntax, else the setting) named by the
    ConfigError parse_policy raises for text."""
    with pytest.raises(ConfigError) as caught:
        parse_policy(text)
    assert caught.value.code in CODES
    line = re.match(r"policy\.toml line (\d+): ", caught.value.message)
    setting = re.match(r"policy\.toml \[([^\]]+)\]: ", caught.value.message)
    return caught.value.code, int(line[1]) if line else setting[1] if setting else None


def test_empty_file_is_the_safe_default() -> None:
    assert parse_policy("") == DEFAULT_POLICY
    assert parse_policy("# only a comment\n\n[unattended]\n") == DEFAULT_POLICY


def test_defaults() -> None:
    p = DEFAULT_POLICY
    assert p.max_fee_rate == 100 and p.max_fee == 100_000 and p.max_fee_percent == 10
    assert p.allowed_sighash == ("ALL", "DEFAULT")
    assert p.allow_foreign_inputs is False and p.allow_op_return is True
    assert p.change_index_window == 1000
    assert p.unattended == UnattendedPolicy(False, (), 0, 0, True)


def test_every_key_read() -> None:
    assert parse_policy(FULL) == Policy(
        max_fee_rate=Decimal("12.5"),
        max_fee=20000,
        max_fee_percent=Decimal(2),
        allowed_sighash=("ALL",),
        allow_foreign_inputs=True,
        allow_op_return=False,
        change_index_window=50,
        unattended=UnattendedPolicy(
            enabled=True,
            allowed_destinations=(
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
            ),
            max_per_transaction=500_000,
            max_per_24h=1_000_000,
            refuse_on_warning=False,
        ),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_fee_rate = 0", {"max_fee_rate": Decimal(0)}),
        ("max_fee_rate = 0.1", {"max_fee_rate": Decimal("0.1")}),  # exact, not a binary float
        (f"max_fee = {MAX_MONEY}", {"max_fee": MAX_MONEY}),
        ("max_fee = 0", {"max_fee": 0}),
        ("max_fee_percent = 100", {"max_fee_percent": Decimal(100)}),
        ("max_fee_percent = 0.5", {"max_fee_percent": Decimal("0.5")}),
        ('allowed_sighash = ["DEFAULT"]', {"allowed_sighash": ("DEFAULT",)}),
        ("change_index_window = 1", {"change_index_window": 1}),
        ("change_index_window = 1_000_000", {"change_index_window": 1_000_000}),
        ('"max_fee" = 7', {"max_fee": 7}),  # a quoted key is the same key
    ],
)
def test_good_values(text: str, expected: dict[str, object]) -> None:
    policy = parse_policy(text)
    for key, value in expected.items():
        assert getattr(policy, key) == value


def test_unattended_as_dotted_keys_and_inline_table() -> None:
    dotted = parse_policy("unattended.enabled = true\nunattended.max_per_24h = 5\n")
    inline = parse_policy("unattended = { enabled = true, max_per_24h = 5 }\n")
    assert dotted == inline
    assert dotted.unattended == UnattendedPolicy(enabled=True, max_per_24h=5)


@pytest.mark.parametrize(
    ("text", "code", "place"),
    [
        # wrong types: bool is not a number, a float is not whole satoshis
        ("max_fee = true", "policy.bad_type", "max_fee"),
        ("\n\nmax_fee = 1000.0", "policy.bad_type", "max_fee"),
        ('max_fee = "1000"', "policy.bad_type", "max_fee"),
        ("max_fee_rate = false", "policy.bad_type", "max_fee_rate"),
        ('max_fee_rate = "5"', "policy.bad_type", "max_fee_rate"),
        ("max_fee_percent = true", "policy.bad_type", "max_fee_percent"),
        ('allowed_sighash = "ALL"', "policy.bad_type", "allowed_sighash"),
        ("allowed_sighash = [1]", "policy.bad_type", "allowed_sighash"),
        ("allow_foreign_inputs = 1", "policy.bad_type", "allow_foreign_inputs"),
        ('allow_op_return = "yes"', "policy.bad_type", "allow_op_return"),
        ("change_index_window = 10.0", "policy.bad_type", "change_index_window"),
        ("change_index_window = true", "policy.bad_type", "change_index_window"),
        ("unattended = 1", "policy.bad_type", "unattended"),
        ("[[unattended]]\nenabled = true", "policy.bad_type", "unattended"),
        ("[unattended]\nenabled = 1", "policy.bad_type", "unattended.enabled"),
        (
            "[unattended]\nallowed_destinations = 'bc1q'",
            "policy.bad_type",
            "unattended.allowed_destinations",
        ),
        (
            "[unattended]\nmax_per_transaction = 1.5",
            "policy.bad_type",
            "unattended.max_per_transaction",
        ),
        ("[unattended]\nmax_per_24h = false", "policy.bad_type", "unattended.max_per_24h"),
        ("[unattended]\nrefuse_on_warning = 0", "policy.bad_type", "unattended.refuse_on_warning"),
        ("max_fee_rate = 1979-05-27", "policy.bad_type", "max_fee_rate"),
        # bad values
        ("max_fee = -1", "policy.bad_value", "max_fee"),
        (f"max_fee = {MAX_MONEY + 1}", "policy.bad_value", "max_fee"),
        ("max_fee_rate = -0.5", "policy.bad_value", "max_fee_rate"),
        ("max_fee_rate = inf", "policy.bad_value", "max_fee_rate"),
        ("max_fee_rate = nan", "policy.bad_value", "max_fee_rate"),
        ("max_fee_percent = 100.01", "policy.bad_value", "max_fee_percent"),
        ("max_fee_percent = -1", "policy.bad_value", "max_fee_percent"),
        ("allowed_sighash = []", "policy.bad_value", "allowed_sighash"),
        ('allowed_sighash = ["ALL", "ALL"]', "policy.bad_value", "allowed_sighash"),
        ('allowed_sighash = ["all"]', "policy.bad_value", "allowed_sighash"),
        ('allowed_sighash = ["ALL|ANYONECANPAY "]', "policy.bad_value", "allowed_sighash"),
        ("change_index_window = 0", "policy.bad_value", "change_index_window"),
        ("change_index_window = 1_000_001", "policy.bad_value", "change_index_window"),
        (
            "[unattended]\nmax_per_transaction = -1",
            "policy.bad_value",
            "unattended.max_per_transaction",
        ),
        (
            f"[unattended]\nmax_per_24h = {MAX_MONEY + 1}",
            "policy.bad_value",
            "unattended.max_per_24h",
        ),
        (
            "[unattended]\nallowed_destinations = ['']",
            "policy.bad_value",
            "unattended.allowed_destinations",
        ),
        (
            "[unattended]\nallowed_destinations = ['bc1q abc']",
            "policy.bad_value",
            "unattended.allowed_destinations",
        ),
        (
            '[unattended]\nallowed_destinations = ["bc1q\\u00e9"]',
            "policy.bad_value",
            "unattended.allowed_destinations",
        ),
        (
            f"[unattended]\nallowed_destinations = ['{'a' * 101}']",
            "policy.bad_value",
            "unattended.allowed_destinations",
        ),
        (
            "[unattended]\nallowed_destinations = ['a', 'a']",
            "policy.bad_value",
            "unattended.allowed_destinations",
        ),
        # unknown keys and tables
        ("max_fees = 1", "policy.unknown_key", "max_fees"),
        ("max_fee = 1\n[limits]\nx = 1", "policy.unknown_key", "limits"),
        ("[unattended]\nenable = true", "policy.unknown_key", "unattended.enable"),
        ("unattended.extra = 1", "policy.unknown_key", "unattended.extra"),
        ("unattended = { enabled = true, x = 1 }", "policy.unknown_key", "unattended.x"),
        ("[unattended.deep]\nx = 1", "policy.unknown_key", "unattended.deep"),
        # TOML syntax
        ("max_fee = ", "policy.syntax", 1),
        ("max_fee = 1\nmax_fee = 2\n", "policy.syntax", 2),
        ("[unattended]\n[unattended]\n", "policy.syntax", 2),
        ('max_fee = 1\nx = """never closed', "policy.syntax", 2),
        ("max_fee = 1\0", "policy.syntax", 1),
    ],
)
def test_bad_policy_names_code_and_place(text: str, code: str, place: int | str) -> None:
    assert refused(text) == (code, place)


@pytest.mark.parametrize("name", sorted(set(SIGHASH_TYPES) - {"ALL", "DEFAULT"}))
def test_sighash_types_the_signer_never_signs_are_refused(name: str) -> None:
    assert refused(f'\nallowed_sighash = ["ALL", "{name}"]') == (
        "policy.sighash_unsupported",
        "allowed_sighash",
    )


def test_setting_named_after_multiline_strings_and_arrays() -> None:
    # a key-like line inside a multi-line string is no key
    text = 'x = """\nmax_fee = 3\n"""\n'
    assert refused(text) == ("policy.unknown_key", "x")
    text = "max_fee = 1\n[unattended]\nallowed_destinations = [\n  'bc1qok',\n]\nmax_per_24h = -2\n"
    assert refused(text) == ("policy.bad_value", "unattended.max_per_24h")


@pytest.mark.parametrize(
    "text",
    [
        # tomllib is quadratic in a dotted key's segments: 20 s and 4 GB before the bound
        "a" + ".a" * 30_000 + " = 1\n",
        "x = " + "[" * 20_000 + "]" * 20_000 + "\n",  # RecursionError inside tomllib
        "max_fee = " + "9" * 5_000 + "\n",  # int() refuses more than 4,300 digits
        "x = '" + "a" * 2_000 + "'\n",
    ],
    ids=["long dotted key", "deep arrays", "long integer", "long line"],
)
def test_hostile_policy_text_is_refused_as_syntax(text: str) -> None:
    assert refused(text)[0] == "policy.syntax"


def test_allows_sighash_maps_names_to_psbt_values() -> None:
    policy = parse_policy('allowed_sighash = ["ALL"]')
    assert policy.allows_sighash(0x01)
    assert not policy.allows_sighash(0x00)
    assert not policy.allows_sighash(0x81)
    assert DEFAULT_POLICY.allows_sighash(0x00)


@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_policy_or_config_error(text: str) -> None:
    try:
        parse_policy(text)
    except ConfigError as error:
        assert error.code in CODES


@given(
    st.sampled_from(
        [
            "max_fee",
            "max_fee_rate",
            "max_fee_percent",
            "change_index_window",
            "allow_op_return",
            "unattended.max_per_24h",
            "unattended.enabled",
        ]
    ),
    st.one_of(st.integers(), st.booleans(), st.floats(allow_nan=True), st.text(max_size=8)),
)
def test_any_scalar_value_is_read_or_refused_with_a_policy_code(key: str, value: object) -> None:
    if isinstance(value, str):
        literal = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, bool):
        literal = str(value).lower()
    elif isinstance(value, float):
        literal = {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    else:
        literal = str(value)
    try:
        parse_policy(f"{key} = {literal}\n")
    except ConfigError as error:
        assert error.code.startswith("policy.")


def test_sum_last_24h_counts_only_the_last_day_and_the_future() -> None:
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    spends = [
        (now - timedelta(hours=24), 1),  # exactly a day ago: outside
        (now - timedelta(hours=23, minutes=59), 10),
        (now - timedelta(days=3), 100),
        (now, 1000),
        (now + timedelta(hours=1), 10000),  # clock set back since: still counts
    ]
    assert sum_last_24h(spends, now) == 11010
    assert sum_last_24h([], now) == 0


def test_load_policy_absent_file_is_default(tmp_path: Path) -> None:
    assert load_policy(tmp_path) == DEFAULT_POLICY


def test_load_policy_reads_the_file(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(FULL)
    assert load_policy(tmp_path) == parse_policy(FULL)


def test_load_policy_errors(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("max_fee = 1\n[unattended]\nenabled = 'yes'\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert caught.value.code == "policy.bad_type"
    assert "[unattended.enabled]" in caught.value.message

    path.write_bytes(b"max_fee = 1\n# caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert caught.value.code == "policy.unreadable" and "line 2" in caught.value.message

    path.write_bytes(b"#" * (MAX_POLICY_SIZE + 1))
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert caught.value.code == "policy.unreadable"

    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path)
    assert caught.value.code == "policy.unreadable"
