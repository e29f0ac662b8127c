"""Test-only Electrum harness: regtest wallets from fixed BIP39 mnemonics, funded offline.

Private keys live here only (the test mnemonics, the benchmark's seed wallet), never in
hot/. Every Electrum step goes through the real `/usr/bin/electrum` command: the hot
adapter (`hot.electrum.Electrum`) where it has a method, a bare subprocess where the hot
side must never go (signing).

Which Electrum: the host's (Debian 12: 4.3.4), or, with PSBTBRIDGE_TEST_ELECTRUM_ROOT set
to a Debian root made by `.ci/debian-root` (Debian 13: 4.5.8), that root's Electrum and
Python, run through tests/support/in-debian-root with the test folders at their own paths.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bitcointx.core import CTransaction
from bitcointx.core.script import CScript, CScriptWitness
from bitcointx.core.scripteval import VerifyScript
from embit import bip32, bip39
from embit.descriptor.checksum import add_checksum
from embit.script import Script, address_to_scriptpubkey
from embit.transaction import Transaction, TransactionInput, TransactionOutput

from hot.electrum import Electrum, WatchOnlyWallet
from hot.watch_only import watchable_from_export
from psbtbridge.errors import BridgeError
from psbtbridge.network import Network

INPROCESS = Path(__file__).with_name("electrum_inprocess.py")  # runs on Electrum's Python
ELECTRUM_QR = Path(__file__).with_name("electrum_qr.py")  # runs on Electrum's Python
ROOT_VAR = "PSBTBRIDGE_TEST_ELECTRUM_ROOT"
ELECTRUM_ROOT: str | None = os.environ.get(ROOT_VAR) or None
IN_ROOT = Path(__file__).with_name("in-debian-root")


def _installed(program: str) -> tuple[str, ...]:
    """The command line running program as installed in ELECTRUM_ROOT (else on this host)."""
    return (str(IN_ROOT), ELECTRUM_ROOT, program) if ELECTRUM_ROOT else (program,)


ELECTRUM_ARGV = _installed("/usr/bin/electrum")
PYTHON_ARGV = _installed("/usr/bin/python3")  # Electrum's interpreter, with its modules
ELECTRUM = shlex.join(ELECTRUM_ARGV)  # as a PSBTBRIDGE_ELECTRUM value
NETWORK = Network.REGTEST
#: BIP39 test vectors; the first is "ours" (master fingerprint 73c5da0a), the others cosign.
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
COSIGNER_MNEMONICS = (
    "legal winner thank year wave sausage worth useful legal winner thank yellow",
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
)
SINGLE_PATHS = {
    "p2pkh": "m/44h/1h/0h",
    "p2sh-p2wpkh": "m/49h/1h/0h",
    "p2wpkh": "m/84h/1h/0h",
    "p2tr": "m/86h/1h/0h",
}
MULTISIG_PATH = "m/48h/1h/0h/2h"  # BIP48 script type 2: native segwit multisig
_DESCRIPTOR = {
    "p2pkh": "pkh({})",
    "p2sh-p2wpkh": "sh(wpkh({}))",
    "p2wpkh": "wpkh({})",
    "p2tr": "tr({})",
}
#: SLIP-132 names as embit spells them (on test networks "zpub" is vpub, "Zpub" is Vpub).
_SLIP132 = {"p2pkh": "xpub", "p2sh-p2wpkh": "ypub", "p2wpkh": "zpub", "p2tr": "xpub"}


def root_key(mnemonic: str = MNEMONIC) -> bip32.HDKey:
    return bip32.HDKey.from_seed(bip39.mnemonic_to_seed(mnemonic), version=NETWORK.params["xprv"])


def _account(mnemonic: str, path: str) -> tuple[str, bip32.HDKey]:
    root = root_key(mnemonic)
    return root.my_fingerprint.hex(), root.derive(path).to_public()


def _descriptors(template: str) -> dict[str, str]:
    return {
        "descriptor": add_checksum(template.format("<0;1>")),
        "receive": add_checksum(template.format("0")),
        "change": add_checksum(template.format("1")),
    }


def export_document(mnemonic: str = MNEMONIC) -> dict[str, Any]:
    """What `psbt keys export --json` produces on the cold side (psbtbridge-export/1)."""
    params = NETWORK.params
    fingerprint = root_key(mnemonic).my_fingerprint.hex()
    wallets: list[dict[str, Any]] = []
    for name, path in SINGLE_PATHS.items():
        _, key = _account(mnemonic, path)
        origin = f"[{fingerprint}/{path[2:]}]{key.to_base58(version=params['xpub'])}"
        descriptors = _descriptors(_DESCRIPTOR[name].format(origin + "/{}/*"))
        wallets.append(
            {
                "name": name,
                "kind": "single",
                "script_type": name,
                "derivation": path,
                "xpub": key.to_base58(version=params["xpub"]),
                "electrum_xpub": key.to_base58(version=params[_SLIP132[name]]),
                "descriptor": descriptors.pop("descriptor"),
                "descriptors": descriptors,
            }
        )
    cosigners = []
    for cosigner_mnemonic in (mnemonic, *COSIGNER_MNEMONICS):
        cosigner_fp, key = _account(cosigner_mnemonic, MULTISIG_PATH)
        cosigners.append(
            {
                "fingerprint": cosigner_fp,
                "derivation": MULTISIG_PATH,
                "xpub": key.to_base58(version=params["xpub"]),
                "electrum_xpub": key.to_base58(version=params["Zpub"]),
            }
        )
    keys = ",".join(
        f"[{c['fingerprint']}/{MULTISIG_PATH[2:]}]{c['xpub']}/{{0}}/*" for c in cosigners
    )
    descriptors = _descriptors(f"wsh(sortedmulti(2,{keys}))")
    wallets.append(
        {
            "name": "vault",
            "kind": "multisig",
            "script_type": "p2wsh",
            "threshold": 2,
            "sorted": True,
            "cosigners": cosigners,
            "descriptor": descriptors.pop("descriptor"),
            "descriptors": descriptors,
        }
    )
    return {
        "format": "psbtbridge-export/1",
        "network": NETWORK.value,
        "master_fingerprint": fingerprint,
        "wallets": wallets,
    }


def electrum_version() -> str:
    """The packaged Electrum's upstream version, from dpkg (not from Electrum itself)."""
    admindir = Path(ELECTRUM_ROOT or "/", "var/lib/dpkg")
    result = subprocess.run(
        ["dpkg-query", f"--admindir={admindir}", "-W", "-f=${Version}", "electrum"],
        capture_output=True, text=True, timeout=10, check=True,
    )  # fmt: skip
    return result.stdout.split("+")[0].split("-")[0]  # "4.5.8+ds-6" -> "4.5.8"


def regtest_electrum(datadir: Path, offline: bool = True) -> Electrum:
    """The real Electrum on regtest with its own data folder (never the user's ~/.electrum)."""
    return Electrum(
        (*ELECTRUM_ARGV, "--regtest", *(["--offline"] if offline else []), "-D", str(datadir))
    )


def read_wallet_file(path: Path) -> dict[str, Any]:
    """An unencrypted Electrum wallet file as Electrum reads it (json_db.load_data).

    4.3 writes one JSON object. 4.5 appends changes as JSON Patch (RFC 6902) operations,
    each after ",\n", so the file is a JSON list's contents: the document, then patches.
    """
    document, *patches = json.loads("[" + path.read_text() + "]")
    for patch in patches:
        _apply_patch(document, patch)
    assert isinstance(document, dict)
    return document


def _apply_patch(document: dict[str, Any], patch: dict[str, Any]) -> None:
    """One RFC 6902 operation of the kinds Electrum's json_db writes: add, replace, remove."""
    *parents, last = [
        part.replace("~1", "/").replace("~0", "~") for part in patch["path"].split("/")[1:]
    ]
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) and last != "-" else last
    if patch["op"] == "remove":
        del target[key]
    elif patch["op"] == "add" and isinstance(target, list):
        target.insert(len(target) if key == "-" else key, patch["value"])
    elif patch["op"] in ("add", "replace"):
        target[key] = patch["value"]
    else:
        raise AssertionError(f"unexpected JSON Patch operation {patch['op']!r}")


def funding_tx(address: str, sats: int, salt: int = 0) -> bytes:
    """A transaction paying sats to address from a made-up outpoint (never valid on a chain).

    Electrum stores it as a local transaction all the same, so the wallet can spend it offline.
    """
    fake_prevout = hashlib.sha256(f"{address}/{salt}".encode()).digest()
    tx = Transaction(
        version=2,
        vin=[TransactionInput(fake_prevout, 0, script_sig=Script(b"\x51"))],
        vout=[TransactionOutput(sats, address_to_scriptpubkey(address))],
        locktime=0,
    )
    raw: bytes = tx.serialize()
    return raw


def make_wallet(
    folder: Path, name: str, export: bytes, sats: int = 50_000_000
) -> tuple[Electrum, WatchOnlyWallet]:
    """Create watch-only wallet `name` from the export in its own Electrum folder, and fund it."""
    electrum = regtest_electrum(folder / f"electrum-{name}")
    wallet = electrum.create_watch_only(
        folder / f"{name}.wallet", watchable_from_export(export, name)
    )
    electrum.add_transaction(wallet.path, funding_tx(wallet.first_address, sats))
    return electrum, wallet


def restore_bare(electrum: Electrum, path: Path, electrum_xpub: str) -> Path:
    """`electrum restore XPUB`: the wallet knows the xpub only, not its master or path."""
    electrum_run(electrum, "restore", electrum_xpub, "-w", str(path))
    return path


def create_seed_wallet(
    path: Path, mnemonic: str = MNEMONIC, derivation: str = "m/84h/1h/0h"
) -> Path:
    """A regtest BIP84 wallet holding the account xprv of a BIP39 mnemonic (the benchmark's signer).

    Electrum 4.3's `restore` takes Electrum seeds, not BIP39 ones; its GUI's BIP39 restore
    writes exactly this keystore (xprv + xpub + derivation + root fingerprint, no seed).
    """
    root = root_key(mnemonic)
    account = root.derive(derivation)
    params = NETWORK.params
    keystore = {
        "type": "bip32",
        "xpub": account.to_public().to_base58(version=params["zpub"]),
        "xprv": account.to_base58(version=params["zprv"]),
        "derivation": derivation.replace("h", "'"),
        "root_fingerprint": root.my_fingerprint.hex(),
        "pw_hash_version": 1,
    }
    document = {
        "seed_version": 50,
        "use_encryption": False,
        "wallet_type": "standard",
        "keystore": keystore,
    }
    path.write_text(json.dumps(document))
    return path


def sign_with_electrum(electrum: Electrum, seed_wallet: Path, psbt_base64: str) -> str:
    """`electrum signtransaction - -w WALLET`: hex of the final tx when complete, else a PSBT.

    The empty password: offline, 4.5 asks for one even when the wallet has none.
    """
    return electrum_run(
        electrum,
        "signtransaction",
        "-",
        "-w",
        str(seed_wallet),
        "--password",
        "",
        stdin=psbt_base64,
    )


@contextmanager
def offline_daemon(datadir: Path, *wallets: Path) -> Iterator[Electrum]:
    """An Electrum daemon started with --offline, wallets loaded; yields a client without --offline."""
    starter = regtest_electrum(datadir, offline=True)
    client = regtest_electrum(datadir, offline=False)
    electrum_run(starter, "daemon", "-d")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.version()
                break
            except BridgeError:  # the daemon is not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for wallet in wallets:
            electrum_run(client, "load_wallet", "-w", str(wallet))
        yield client
    finally:
        electrum_run(client, "stop")


def electrum_run(electrum: Electrum, *args: str, stdin: str = "") -> str:
    """An Electrum command the adapter has no method for (the user's own command line)."""
    result = subprocess.run(
        [*electrum.argv, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"electrum {args[0]}: {result.stdout}{result.stderr}"
    return result.stdout.strip()


def electrum_status(electrum: Electrum, wallet: Path, psbt_or_tx: bytes) -> dict[str, Any]:
    """What Electrum's "Load transaction" makes of it (tests/support/electrum_inprocess.py status)."""
    datadir = electrum.argv[electrum.argv.index("-D") + 1]
    result = subprocess.run(
        [*PYTHON_ARGV, str(INPROCESS), "status", datadir, str(wallet)],
        input=psbt_or_tx, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    status: dict[str, Any] = json.loads(result.stdout)
    return status


def electrum_qr(action: str, *lines: str) -> list[str]:
    """Electrum's own QR text code on each line (tests/support/electrum_qr.py ACTION)."""
    result = subprocess.run(
        [*PYTHON_ARGV, str(ELECTRUM_QR), action],
        input="".join(line + "\n" for line in lines),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def bitcointx_verify(raw: bytes, previous: Mapping[str, bytes]) -> None:
    """python-bitcointx alone: its parser, its SignatureHash, its VerifyScript (raises
    ValidationError). The spent outputs come from the previous transactions (txid -> raw),
    never from a PSBT."""
    tx = CTransaction.deserialize(raw)
    for index, txin in enumerate(tx.vin):
        spent_tx = CTransaction.deserialize(previous[txin.prevout.hash[::-1].hex()])
        assert spent_tx.GetTxid() == txin.prevout.hash
        spent = spent_tx.vout[txin.prevout.n]
        witness = (
            tx.wit.vtxinwit[index].scriptWitness
            if index < len(tx.wit.vtxinwit)
            else CScriptWitness([])
        )
        VerifyScript(
            txin.scriptSig,
            CScript(spent.scriptPubKey),
            tx,
            index,
            amount=spent.nValue,
            witness=witness,
        )


def vault_descriptor(keys_export_text: str) -> str:
    """The test vault: 2-of-3 sortedmulti P2WSH of our key (as the text of `psbt keys export`
    lists it) and the two cosigner mnemonics' keys."""
    lines = keys_export_text.splitlines()
    (ours,) = [line.split()[1] for line in lines if line.split()[:1] == ["p2wsh"]]
    keys = [ours]
    for mnemonic in COSIGNER_MNEMONICS:
        root = root_key(mnemonic)
        xpub = root.derive(MULTISIG_PATH).to_public().to_base58(version=NETWORK.params["xpub"])
        keys.append(f"[{root.my_fingerprint.hex()}/{MULTISIG_PATH[2:]}]{xpub}")
    return f"wsh(sortedmulti(2,{','.join(k + '/<0;1>/*' for k in keys)}))"
