"""Fuzz targets: every entry point that reads outside data, each with its contract check.

A target takes bytes and either returns or raises BridgeError with a code from
psbtbridge.errors.CODES; anything else (a Python exception, a code nobody documented, a
round trip that changes bytes) is a finding. Time and memory bounds are the runner's
(libFuzzer's -timeout and -rss_limit_mb, set by fuzz/run). `seeds(name)` gives each
target's starting corpus from tests/vectors, built at start rather than committed.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from psbtbridge.errors import CODES, BridgeError

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"
REGRESSIONS = ROOT / "fuzz" / "regressions"

Target = Callable[[bytes], None]
TARGETS: dict[str, Target] = {}


class ContractBroken(AssertionError):
    """A target broke its contract: a finding, reported by atheris as a crash."""


def target(function: Target) -> Target:
    """Register a target under its name (without the `fuzz_` prefix), wrapped in the check."""
    name = function.__name__.removeprefix("fuzz_")

    def checked(data: bytes) -> None:
        try:
            function(data)
        except BridgeError as error:
            if error.code not in CODES:
                raise ContractBroken(f"{name}: undocumented code {error.code!r}") from error

    checked.__name__ = function.__name__
    TARGETS[name] = checked
    return checked


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _frames(data: bytes) -> list[str]:
    """A sequence of frames: one per line, at most 500 of them."""
    return _text(data).split("\n")[:500]


# --- encodings, PSBTs and transactions


@target
def fuzz_encoding(data: bytes) -> None:
    from psbtbridge.encoding import decode, encode

    raw, encoding = decode(data)
    if decode(encode(raw, encoding))[0] != raw:
        raise ContractBroken("encoding: decode(encode(x)) != x")


@target
def fuzz_psbt(data: bytes) -> None:
    from psbtbridge.analysis import check_facts
    from psbtbridge.psbt import Psbt

    psbt = Psbt.parse(data)
    if psbt.serialize() != data:
        raise ContractBroken("psbt: serialize(parse(x)) != x")
    check_facts(psbt)


@target
def fuzz_tx(data: bytes) -> None:
    from psbtbridge.tx import PreviousTx, Tx, TxOut

    for reader in (Tx.parse, Tx.parse_legacy):
        try:
            tx = reader(data)
        except BridgeError as error:
            if error.code not in CODES:
                raise
            continue
        if tx.serialize() != data:
            raise ContractBroken(f"tx: {reader.__name__} round trip changed the bytes")
    for other in (PreviousTx.parse, TxOut.parse):
        try:
            other(data)
        except BridgeError as error:
            if error.code not in CODES:
                raise


@cache
def _wallets() -> tuple[object, ...]:
    """Real single-sig wallets of the test mnemonic, and the 2-of-3 multisig of the tests."""
    from psbtbridge.bip32 import HARDENED
    from psbtbridge.network import Network
    from psbtbridge.script import ScriptType
    from psbtbridge.wallet import Wallet
    from tests.support.psbt_factory import COSIGNER_MNEMONICS, MNEMONIC, cosigner_key, seed_of

    seed = seed_of(MNEMONIC)
    wallets = []
    for purpose, script_type in (
        (44, ScriptType.P2PKH),
        (84, ScriptType.P2WPKH),
        (86, ScriptType.P2TR),
    ):
        key = seed.account_key((purpose + HARDENED, 1 + HARDENED, HARDENED))
        wallets.append(Wallet(script_type.value, script_type, 1, (key,), False, Network.REGTEST))
    keys = tuple(
        cosigner_key(m, ScriptType.P2WSH, Network.REGTEST) for m in (MNEMONIC, *COSIGNER_MNEMONICS)
    )
    wallets.append(Wallet("wsh", ScriptType.P2WSH, 2, keys, True, Network.REGTEST))
    return tuple(wallets)


@target
def fuzz_analyse(data: bytes) -> None:
    from psbtbridge.analysis import analyse
    from psbtbridge.network import Network
    from psbtbridge.psbt import Psbt

    analyse(Psbt.parse(data), _wallets(), Network.REGTEST)  # type: ignore[arg-type]


# --- QR codecs and joiners


@target
def fuzz_qr_codecs(data: bytes) -> None:
    from psbtbridge.qr import base43, bytewords, cbor

    item = cbor.decode(data)
    # the reader takes non-minimal lengths (CBOR allows them), so compare the items
    if cbor.decode(cbor.encode(item)) != item:
        raise ContractBroken("cbor: decode(encode(item)) != item")
    text = _text(data)
    for style in bytewords.Style:
        bytewords.decode(text, style) if len(text) < 8192 else None
    if len(text) < 8192 and base43.is_base43(text) and base43.encode(base43.decode(text)) != text:
        raise ContractBroken("base43: encode(decode(text)) != text")


@target
def fuzz_qr_joiner(data: bytes) -> None:
    from psbtbridge.qr.joiner import Joiner

    joiner = Joiner()
    for frame in _frames(data):
        joiner.receive(frame)
        if joiner.result is not None:
            return


# --- configuration and our stored files


@target
def fuzz_policy(data: bytes) -> None:
    from cold.policy import load_policy

    with tempfile.TemporaryDirectory() as home:
        Path(home, "policy.toml").write_bytes(data)
        load_policy(Path(home))


@target
def fuzz_stored_json(data: bytes) -> None:
    from cold import audit, ledger
    from cold.keystore import parse_keystore
    from cold.wallets import parse_registry
    from psbtbridge.network import Network
    from psbtbridge.wallet.export import wallet_from_export

    where = Path("fuzzed.json")
    for reader in (
        lambda: parse_keystore(data, where),
        lambda: parse_registry(data, where, Network.REGTEST),
        lambda: ledger._parse(data, where),
        lambda: wallet_from_export(data, "p2wpkh"),
    ):
        try:
            reader()
        except BridgeError as error:
            if error.code not in CODES:
                raise
    with tempfile.TemporaryDirectory() as home:
        log = Path(home, audit.LOG_NAME)
        log.write_bytes(data)
        audit.verify_chain(log)


@target
def fuzz_descriptor(data: bytes) -> None:
    from psbtbridge.network import Network
    from psbtbridge.wallet.descriptor import descriptor_of, parse_descriptor

    for network in (Network.REGTEST, Network.MAIN):
        try:
            wallet = parse_descriptor(_text(data), network)
        except BridgeError as error:
            if error.code not in CODES:
                raise
            continue
        if parse_descriptor(descriptor_of(wallet), network) != wallet:
            raise ContractBroken("descriptor: parse(descriptor_of(w)) != w")


@target
def fuzz_electrum_wallet_file(data: bytes) -> None:
    from cold.keystore.electrum_file import read_wallet
    from psbtbridge.network import Network

    read_wallet(data, "password" if data[:4] == b"BIE1" else None, Network.REGTEST)


# --- other programs and the other qube


@target
def fuzz_electrum_output(data: bytes) -> None:
    from hot import electrum

    text = _text(data)
    electrum._failure("payto", text)
    try:
        electrum._sats(text, text)
    except BridgeError as error:
        if error.code not in CODES:
            raise
    answer = electrum._json_output("getbalance", text)
    if isinstance(answer, dict):
        for value in answer.values():
            electrum._sats(value, text)


@target
def fuzz_service_stdin(data: bytes) -> None:
    from cold.service import read_request
    from psbtbridge.psbt import Psbt

    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb") as writer:
            writer.write(data[:60_000])  # within the pipe buffer: no writer thread needed
        request = read_request(read_fd, 50_000, 5.0)
    finally:
        os.close(read_fd)
    Psbt.parse(request)


@target
def fuzz_sign_message(data: bytes) -> None:
    """The SignMessage exchange: the cold side's request framing (a byte-identical round
    trip), and the hot side's answer line."""
    from psbtbridge.errors import InvalidInput
    from psbtbridge.sign_message import encode_answer, encode_request, parse_answer, parse_request

    try:
        signature = parse_answer(data)
    except InvalidInput as error:
        if error.code not in CODES:
            raise ContractBroken(f"sign_message: undocumented code {error.code!r}") from error
    else:
        if encode_answer(signature) != data:
            raise ContractBroken("sign_message: encode_answer(parse_answer(x)) != x")
    request = parse_request(data)
    if encode_request(request.address, request.untrusted_message, request.format) != data:
        raise ContractBroken("sign_message: encode_request(parse_request(x)) != x")


# --- seed corpora


def _psbt_vectors() -> Iterator[bytes]:
    document = json.loads((VECTORS / "psbt" / "bip174.json").read_text())
    for group in ("valid", "invalid"):
        for case in document[group]:
            try:
                yield base64.b64decode(case["psbt"])
            except (KeyError, ValueError):
                continue
    yield (VECTORS / "bbqr" / "test_data" / "1in100out.psbt").read_bytes()


def _honest_psbts() -> Iterator[bytes]:
    from tests.support.psbt_factory import Spend, build_psbt, change_to, external

    for wallet in _wallets():
        yield build_psbt(
            [Spend(wallet, 0, 3, 1_000_000)],  # type: ignore[arg-type]
            [external(1, 400_000), change_to(wallet, 1, 3, 598_000)],  # type: ignore[arg-type]
        )


def _ur_streams() -> Iterator[bytes]:
    from psbtbridge.qr.animation import plan
    from psbtbridge.qr.joiner import QrFormat

    psbt = next(_honest_psbts())  # small: a big PSBT makes every execution slow
    for qr_format in (QrFormat.UR, QrFormat.BBQR, QrFormat.BASE43):
        frames = plan(psbt, qr_format, 5 if qr_format is not QrFormat.BASE43 else 40).frames
        yield "\n".join(frames).encode()
        yield "\n".join(frames[len(frames) // 2 :]).encode()  # UR: mixed parts only


def seeds(name: str) -> list[bytes]:
    """A small starting corpus for a target, from the test vectors and our own writers."""
    psbts = list(_psbt_vectors())
    found: list[bytes]
    if name == "encoding":
        found = [base64.b64encode(p) for p in psbts[:20]] + [p.hex().encode() for p in psbts[:5]]
    elif name in ("psbt", "service_stdin"):
        found = psbts + list(_honest_psbts())
    elif name == "analyse":
        found = list(_honest_psbts())
    elif name == "tx":
        from psbtbridge.psbt import Psbt

        found = [Psbt.parse(p).unsigned_tx().serialize() for p in _honest_psbts()]
    elif name in ("qr_joiner", "qr_codecs"):
        found = list(_ur_streams())
    elif name == "policy":
        found = [b"[unattended]\nenabled = true\nmax_per_transaction = 500000\n"]
    elif name == "stored_json":
        found = [
            b'{"format": 1, "network": "regtest", "wallets": []}',
            b'{"version":1,"amounts":{},"spent":[]}',
        ]
    elif name == "descriptor":
        from psbtbridge.wallet.descriptor import descriptor_of

        found = [descriptor_of(w).encode() for w in _wallets()[3:]]  # type: ignore[arg-type]
    elif name == "electrum_wallet_file":
        found = [p.read_bytes() for p in sorted((VECTORS / "electrum").glob("*")) if p.is_file()][
            :20
        ]
    elif name == "sign_message":
        found = [
            b"address bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk\nI control it.\n",
            b"address bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk bip322\nhi",
            b"H8xMj5kEXnGmODuOSqSdOV0YHGdqPMnfvZ89NAMxyLW/Y7fzGnMJjnV7wYt+hHkIAdR9JEm5rExTC+2Jh1e55Hs=\n",
        ]
    elif name == "electrum_output":
        found = [
            b'["bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"]',
            b'{"confirmed": "0.5"}',
            b"0E-8",
        ]
    else:
        found = []
    # small regression inputs only: the replay runs the big ones (a 60 kB UR flood takes
    # over a second, and every mutation of it as long)
    small = [
        p.read_bytes() for p in sorted((REGRESSIONS / name).glob("*")) if p.stat().st_size < 4096
    ]
    return found + small


def replay(name: str) -> int:
    """Run every committed regression input of a target once; the number replayed."""
    count = 0
    for path in sorted((REGRESSIONS / name).glob("*")):
        TARGETS[name](path.read_bytes())
        count += 1
    return count
