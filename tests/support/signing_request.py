"""Test-only: a cold qube's data folder that signs one payment unattended, and that payment.

For tests that run a whole installed service (tests/test_service.py, tests/test_salt.py):
the keystore made by the real `psbt keys init` (BIP39's public test mnemonic, regtest), its
multisig wallets registered, and a policy.toml that lets a payment to one external address
be signed without a dialog, so no display is needed.
"""

from __future__ import annotations

from pathlib import Path

from psbtbridge.network import Network
from psbtbridge.psbt import Psbt
from psbtbridge.script import address_of
from tests.support.psbt_factory import KeySet, Spend, build_psbt, change_to, external, make_keyset

COIN = 300_000
PAY = 101_000
FEE = 1_000


def prepare(data_dir: Path) -> tuple[KeySet, bytes, str]:
    """Make data_dir a cold data folder; the payment PSBT it signs, and that PSBT's digest."""
    keys = make_keyset(data_dir, registered=True)
    allowed = address_of(external(1, 0).script_pubkey, Network.REGTEST)
    (data_dir / "policy.toml").write_text(
        "[unattended]\n"
        "enabled = true\n"
        f'allowed_destinations = ["{allowed}"]\n'
        "max_per_transaction = 200000\n"
        "max_per_24h = 500000\n"
        "refuse_on_warning = true\n"
    )
    wallet = keys.wallets["p2wpkh"]
    request = build_psbt(
        [Spend(wallet, 0, 0, COIN)],
        [external(1, PAY), change_to(wallet, 1, 0, COIN - PAY - FEE)],
    )
    return keys, request, Psbt.parse(request).unsigned_tx().digest()


def signatures(answer: bytes) -> int:
    """How many partial signatures the answer carries, over all its inputs."""
    return sum(len(i.partial_sigs) for i in Psbt.parse(answer).inputs)
