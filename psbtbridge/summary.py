"""What a PSBT says it does, as one plain value: `psbt inspect`'s data, for humans and for `--json`.

Nothing here is proven beyond what the strict parser checked: an amount from a full
previous transaction hashing to the prevout txid is marked proven, one from a
PSBT_IN_WITNESS_UTXO alone is a claim, and warnings say so. Ownership and change are the
cold signer's analysis (analysis.py); this is the view anyone can get from the bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from psbtbridge.network import Network
from psbtbridge.psbt import Psbt, PsbtInput, PsbtOutput
from psbtbridge.script import address_of, is_op_return, script_type_of
from psbtbridge.sighash import SighashType
from psbtbridge.size import InputShape, estimate_vsize
from psbtbridge.tx import MAX_MONEY, Tx, TxIn
from psbtbridge.wallet import ScriptType

#: Version of the `--json` layout; raised on any incompatible change (README documents it).
SCHEMA_VERSION = 1
LOCKTIME_THRESHOLD = 500_000_000
SEQUENCE_FINAL = 0xFFFFFFFF
#: BIP125: a sequence below this signals replaceability.
SEQUENCE_RBF_LIMIT = 0xFFFFFFFE
#: Outputs below this are dust to Bitcoin Core's relay policy for every standard type.
DUST_LIMIT = 546
HIGH_FEE_PERCENT = 10.0
_OP_CHECKMULTISIG = 0xAE
_PUSHDATA_WIDTH = {0x4C: 1, 0x4D: 2, 0x4E: 4}  # OP_PUSHDATA1/2/4: width of the length


@dataclass(frozen=True)
class SummaryWarning:
    """One thing a person should look at: a stable code and a sentence naming the place."""

    code: str
    message: str


@dataclass(frozen=True)
class InputSummary:
    index: int
    outpoint: str  # txid:vout, txid as explorers show it
    amount: int | None  # satoshis; None when the PSBT carries no previous output
    amount_source: str | None  # "non_witness_utxo" (proven), "witness_utxo" (claimed) or None
    amount_proven: bool  # a full previous tx hashing to the prevout txid gives the amount
    script_type: str  # p2pkh, p2sh-p2wpkh, p2wpkh, p2wsh, p2sh-p2wsh, p2sh, p2tr or unknown
    address: str | None
    sequence: int
    sighash: str | None  # PSBT_IN_SIGHASH_TYPE by name (ALL, NONE, ...) or hex; None if absent
    partial_sigs: int
    tap_key_sig: bool
    tap_script_sigs: int
    finalized: bool


@dataclass(frozen=True)
class OutputSummary:
    index: int
    amount: int
    script_type: str  # as for inputs, plus op_return
    address: str | None  # None for OP_RETURN and scripts without an address form
    script_pubkey: str  # hex


@dataclass(frozen=True)
class Summary:
    """Everything `psbt inspect` shows; `to_json()` is the documented, versioned layout."""

    network: str
    psbt_version: int
    tx_version: int
    unsigned_txid: str  # the final txid too, once signed, if every input is segwit
    txid: str | None  # the finished transaction's txid, when every input is finalized
    locktime: int
    locktime_kind: str  # none, height or time
    rbf: bool
    inputs: tuple[InputSummary, ...]
    outputs: tuple[OutputSummary, ...]
    input_total: int | None  # None unless every input's amount is known
    output_total: int
    fee: int | None
    fee_percent: float | None  # fee / output total, as a percentage
    vsize: int  # size of the finished transaction, vbytes
    vsize_basis: str  # final (all inputs finalized), estimate (by script type) or guess
    fee_rate: float | None  # sat/vB from vsize, rounded to 0.01
    warnings: tuple[SummaryWarning, ...]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema": SCHEMA_VERSION, **data}


def summarize(psbt: Psbt, network: Network) -> Summary:
    """Summarize a parsed PSBT; InvalidInput when no transaction exists (BIP370 locktime clash)."""
    tx = psbt.unsigned_tx()
    warnings: list[SummaryWarning] = []
    inputs = tuple(_input(inp, network, warnings) for inp in psbt.inputs)
    outputs = tuple(_output(out, network, warnings) for out in psbt.outputs)
    _map_warnings(psbt, warnings)
    amounts = [i.amount for i in inputs]
    input_total = sum(a for a in amounts if a is not None) if None not in amounts else None
    output_total = sum(o.amount for o in outputs)
    fee = input_total - output_total if input_total is not None else None
    fee_percent = (
        round(100.0 * fee / output_total, 4) if fee is not None and output_total > 0 else None
    )
    final = _final_tx(psbt, tx)
    vsize, basis, guessed = _vsize(psbt, tx, final)
    if guessed:
        warnings.append(
            SummaryWarning(
                "size_guessed",
                f"input(s) {', '.join(str(i) for i in guessed)}: unknown script or spend path,"
                " their size is guessed and the fee rate is approximate",
            )
        )
    if fee is not None:
        _fee_warnings(fee, fee_percent, warnings)
    _tx_warnings(tx, warnings)
    return Summary(
        network=network.value,
        psbt_version=psbt.version,
        tx_version=tx.version,
        unsigned_txid=tx.txid_hex(),
        txid=final.txid_hex() if final is not None else None,
        locktime=tx.locktime,
        locktime_kind=(
            "none" if tx.locktime == 0 else "height" if tx.locktime < LOCKTIME_THRESHOLD else "time"
        ),
        rbf=any(txin.sequence < SEQUENCE_RBF_LIMIT for txin in tx.inputs),
        inputs=inputs,
        outputs=outputs,
        input_total=input_total,
        output_total=output_total,
        fee=fee,
        fee_percent=fee_percent,
        vsize=vsize,
        vsize_basis=basis,
        fee_rate=round(fee / vsize, 2) if fee is not None and vsize else None,
        warnings=tuple(warnings),
    )


def sighash_name(value: int) -> str:
    try:
        return SighashType(value).name
    except ValueError:
        return f"0x{value:08x}"


def _input(inp: PsbtInput, network: Network, warnings: list[SummaryWarning]) -> InputSummary:
    place = f"input {inp.index}"
    spent = inp.spent_output
    if spent is None:
        warnings.append(
            SummaryWarning(
                "amount_unknown", f"{place}: no previous output given; amount and fee unknown"
            )
        )
        source = None
    elif inp.amount_proven:
        source = "non_witness_utxo"
    else:
        source = "witness_utxo"
        warnings.append(
            SummaryWarning(
                "amount_claimed",
                f"{place}: amount only claimed by PSBT_IN_WITNESS_UTXO, not proven by the"
                " previous transaction",
            )
        )
    kind = _input_type(inp, spent.script_pubkey if spent is not None else None)
    if inp.sighash_type is not None and inp.sighash_type not in (
        SighashType.DEFAULT,
        SighashType.ALL,
    ):
        warnings.append(
            SummaryWarning(
                "sighash_nondefault",
                f"{place}: requests sighash {sighash_name(inp.sighash_type)}, not ALL",
            )
        )
    for sig in inp.partial_sigs:
        if sig.sighash_type != SighashType.ALL:
            warnings.append(
                SummaryWarning(
                    "sighash_nondefault",
                    f"{place}: a partial signature uses sighash {sighash_name(sig.sighash_type)}",
                )
            )
    return InputSummary(
        index=inp.index,
        outpoint=str(inp.prevout),
        amount=spent.value if spent is not None else None,
        amount_source=source,
        amount_proven=inp.amount_proven,
        script_type=kind.value if kind is not None else "unknown",
        address=address_of(spent.script_pubkey, network) if spent is not None else None,
        sequence=inp.sequence,
        sighash=sighash_name(inp.sighash_type) if inp.sighash_type is not None else None,
        partial_sigs=len(inp.partial_sigs),
        tap_key_sig=inp.tap_key_sig is not None,
        tap_script_sigs=len(inp.tap_script_sigs),
        finalized=inp.is_finalized,
    )


def _input_type(inp: PsbtInput, script_pubkey: bytes | None) -> ScriptType | None:
    """The spent output's type, looking into P2SH/P2WSH with the scripts the PSBT gives; a
    finalized input has dropped those fields, so take them from its final scriptSig/witness."""
    if script_pubkey is None:
        return None
    redeem, witness = inp.redeem_script, inp.witness_script
    if redeem is None and inp.final_scriptsig:
        redeem = _last_push(inp.final_scriptsig)
    if witness is None and inp.final_scriptwitness:
        witness = inp.final_scriptwitness[-1]
    return script_type_of(script_pubkey, redeem, witness)


def _last_push(script: bytes) -> bytes | None:
    """The data of a push-only script's last push (a P2SH redeem script), else None."""
    position, last = 0, None
    while position < len(script):
        opcode = script[position]
        position += 1
        if opcode == 0 or 0x51 <= opcode <= 0x60 or opcode == 0x4F:  # OP_0, OP_1..16, OP_1NEGATE
            last = b""
            continue
        if 0x01 <= opcode <= 0x4B:
            size = opcode
        elif opcode in _PUSHDATA_WIDTH:
            width = _PUSHDATA_WIDTH[opcode]
            size = int.from_bytes(script[position : position + width], "little")
            position += width
        else:
            return None
        last = script[position : position + size]
        position += size
    return last if position == len(script) else None


def _output(out: PsbtOutput, network: Network, warnings: list[SummaryWarning]) -> OutputSummary:
    place = f"output {out.index}"
    spk = out.script_pubkey
    if is_op_return(spk):
        kind = "op_return"
        if out.amount:
            warnings.append(
                SummaryWarning(
                    "op_return_amount", f"{place}: OP_RETURN output burns {out.amount} sat"
                )
            )
    else:
        script_type = script_type_of(spk, out.redeem_script, out.witness_script)
        kind = script_type.value if script_type is not None else "unknown"
        if script_type is None:
            warnings.append(
                SummaryWarning("unknown_script", f"{place}: non-standard or unknown output script")
            )
        if 0 <= out.amount < DUST_LIMIT:
            warnings.append(
                SummaryWarning("dust", f"{place}: {out.amount} sat is below the dust limit")
            )
    if not 0 <= out.amount <= MAX_MONEY:
        warnings.append(
            SummaryWarning("amount_out_of_range", f"{place}: amount {out.amount} sat is impossible")
        )
    return OutputSummary(
        index=out.index,
        amount=out.amount,
        script_type=kind,
        address=address_of(spk, network),
        script_pubkey=spk.hex(),
    )


def _map_warnings(psbt: Psbt, warnings: list[SummaryWarning]) -> None:
    """Unknown fields are kept, but nobody here can say what they mean: point them out."""
    maps: list[tuple[str, int, int]] = [("global map", len(psbt.unknown), len(psbt.proprietary))]
    maps += [(f"input {i.index}", len(i.unknown), len(i.proprietary)) for i in psbt.inputs]
    maps += [(f"output {o.index}", len(o.unknown), len(o.proprietary)) for o in psbt.outputs]
    for place, unknown, proprietary in maps:
        if unknown:
            warnings.append(
                SummaryWarning("unknown_fields", f"{place}: {unknown} field(s) of unknown type")
            )
        if proprietary:
            warnings.append(
                SummaryWarning("proprietary_fields", f"{place}: {proprietary} proprietary field(s)")
            )


def _fee_warnings(fee: int, fee_percent: float | None, warnings: list[SummaryWarning]) -> None:
    if fee < 0:
        warnings.append(
            SummaryWarning(
                "negative_fee", f"outputs exceed inputs by {-fee} sat: the tx is invalid"
            )
        )
    elif fee_percent is not None and fee_percent > HIGH_FEE_PERCENT:
        warnings.append(
            SummaryWarning("fee_high", f"the fee is {fee_percent:.1f}% of the amount sent")
        )


def _tx_warnings(tx: Tx, warnings: list[SummaryWarning]) -> None:
    seen: set[bytes] = set()
    for index, txin in enumerate(tx.inputs):
        key = txin.prevout.serialize()
        if key in seen:
            warnings.append(
                SummaryWarning("duplicate_input", f"input {index}: spends {txin.prevout} twice")
            )
        seen.add(key)
    if not tx.inputs or not tx.outputs:
        warnings.append(
            SummaryWarning(
                "empty_tx", "the transaction has no inputs or no outputs: it cannot be sent"
            )
        )


def _final_tx(psbt: Psbt, tx: Tx) -> Tx | None:
    """The transaction with every input's final scriptSig and witness, once all have them."""
    if not psbt.inputs or not all(inp.is_finalized for inp in psbt.inputs):
        return None
    final = tuple(
        TxIn(txin.prevout, inp.final_scriptsig or b"", txin.sequence, inp.final_scriptwitness or ())
        for txin, inp in zip(tx.inputs, psbt.inputs, strict=True)
    )
    return Tx(tx.version, final, tx.outputs, tx.locktime)


def _vsize(psbt: Psbt, tx: Tx, final: Tx | None) -> tuple[int, str, list[int]]:
    """The finished transaction's vsize, its basis, and the inputs whose size was guessed."""
    if final is not None:
        return final.vsize(), "final", []
    shapes = [_shape(inp) for inp in psbt.inputs]
    guessed = [i for i, shape in enumerate(shapes) if shape is None]
    # size.py sizes an unknown input like P2PKH: a guess, and said to be one.
    vsize = estimate_vsize(tx, [shape or InputShape(None) for shape in shapes])
    return vsize, "guess" if guessed else "estimate", guessed


def _shape(inp: PsbtInput) -> InputShape | None:
    """What the finished input will look like, or None when its size cannot be known."""
    spent = inp.spent_output
    kind = _input_type(inp, spent.script_pubkey if spent is not None else None)
    if kind is None:
        return None
    script = inp.witness_script if kind in (ScriptType.P2WSH, ScriptType.P2SH_P2WSH) else None
    if kind is ScriptType.P2SH:
        script = inp.redeem_script
    if kind.is_multisig:
        threshold = _multisig_threshold(script)
        if threshold is None:
            return None
        return InputShape(
            kind, threshold, len(inp.redeem_script or b""), len(inp.witness_script or b"")
        )
    if kind is ScriptType.P2TR and inp.tap_key_sig is None and inp.tap_leaf_scripts:
        return None  # a script-path spend: its witness depends on the leaf
    return InputShape(kind)


def _multisig_threshold(script: bytes | None) -> int | None:
    """m of a standard `OP_m <keys> OP_n OP_CHECKMULTISIG` script, else None."""
    if script is None or len(script) < 3 or script[-1] != _OP_CHECKMULTISIG:
        return None
    if not 0x51 <= script[0] <= 0x60:
        return None
    return script[0] - 0x50
