"""Realistic confirmation views shared by the confirm tests (not a test module itself)."""

from __future__ import annotations

from cold.confirm.view import ConfirmationView, InputLine, OutputLine, ProofView, WalletLine

PAY = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
CHANGE = "tb1qzt4p96kw04j473cuu40rf7ymrdm68kwsztjntj"
TAPROOT = "tb1pprt4x8anym0sfc49dda8rwmp05mdm559hpex6qu4n3g35c4zt0cs0x4u3h"
OP_RETURN_SCRIPT = "6a0b68656c6c6f20776f726c64"


def sample_view(
    *, needs_passphrase: bool = True, extra_outputs: int = 0, warnings: tuple[str, ...] = ()
) -> ConfirmationView:
    """3 outputs (pay, change with its path, OP_RETURN), then `extra_outputs` taproot payments."""
    outputs = [
        OutputLine(
            0, PAY, "0014751e76e8199196d454941c45d1b3a323f1433bd6", 120_000, "external", None
        ),
        OutputLine(
            1,
            CHANGE,
            "001412ea12eace7d655f471ce55e34f89b1b77a3d9d0",
            850_000,
            "change",
            "m/84h/1h/0h/1/5",
        ),
        OutputLine(2, None, OP_RETURN_SCRIPT, 0, "op_return", None),
    ]
    for n in range(extra_outputs):
        outputs.append(
            OutputLine(
                3 + n,
                TAPROOT,
                "512008d7531fb326df04e2a56b7a71bb617d36ddd285b8726d03959c511a62a25bf1",
                1_000 + n,
                "external",
                None,
            )
        )
    total_out = sum(o.amount_sat for o in outputs)
    fee = 30_000
    total_in = total_out + fee
    inputs = (
        InputLine(0, f"{'ab' * 32}:1", 600_000, "vault m/48h/1h/0h/2h/0/3"),
        InputLine(1, f"{'cd' * 32}:0", total_in - 600_000, "vault m/48h/1h/0h/2h/1/0"),
    )
    return ConfirmationView(
        digest="1a2b3c4d",
        caller="electrum-hot",
        network="test",
        inputs_total_sat=total_in,
        outputs=tuple(outputs),
        fee_sat=fee,
        fee_rate_sat_vb=211.27,
        fee_percent=100 * fee / total_out,
        sending_sat=total_out - 850_000,
        warnings=warnings,
        needs_passphrase=needs_passphrase,
        wallets=(WalletLine("vault", "p2wsh", 2, 3, 1),),
        inputs=inputs,
        rbf=True,
        locktime=2_500_000,
    )


PROOF_MESSAGE = "I, Alice, control these coins.\nProof for the exchange, ticket #4711: Grüße"


def proof_view(*, message: str | None = PROOF_MESSAGE, lines: int = 1) -> ConfirmationView:
    """A BIP-322 proof of reserves: input 0 the virtual to_spend, one coin of 0.0085 BTC;
    the message repeated `lines` times."""
    text = None if message is None else "\n".join([message] * lines)
    reserves = 850_000
    return ConfirmationView(
        digest="5e6f7a8b",
        caller="electrum-hot",
        network="test",
        inputs_total_sat=reserves,
        outputs=(OutputLine(0, None, "6a", 0, "op_return", None),),
        fee_sat=reserves,
        fee_rate_sat_vb=0.0,
        fee_percent=100.0,
        sending_sat=0,
        warnings=(),
        needs_passphrase=False,
        wallets=(WalletLine("p2wpkh", "p2wpkh", 1, 1, 1),),
        inputs=(
            InputLine(0, f"{'ef' * 32}:0", 0, "p2wpkh m/84h/1h/0h/0/0"),
            InputLine(1, f"{'cd' * 32}:1", reserves, "p2wpkh m/84h/1h/0h/1/5"),
        ),
        rbf=True,
        proof=ProofView(CHANGE, "p2wpkh", "m/84h/1h/0h/0/0", text, "ab" * 32, 1, reserves),
    )
