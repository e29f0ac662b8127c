"""What a PSBT says it does, as one plain value: `psbt inspect`'s data, for humans and for `--json`.

Nothing here is proven beyond what the strict parser checked: an amount from a full
previous transaction hashing to the prevout txid is marked proven, one from a
PSBT_IN_WITNESS_UTXO alone is a claim. The findings are analysis.check_facts's, the same
checks the cold signer enforces: inspect shows what the signer would refuse and why.
Ownership and change are the cold signer's analysis; this is the view anyone can get from
the bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from psbtbridge.analysis import (
    check_facts,
    claimed_shape,
    input_type,
    network_finding,
    sighash_name,
    size_finding,
)
from psbtbridge.bip322_psbt import recognise_proof
from psbtbridge.errors import Code, Finding, InvalidInput, Refused
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt, PsbtInput, PsbtOutput
from psbtbridge.script import address_of, is_op_return, script_type_of
from psbtbridge.size import InputShape, estimate_vsize
from psbtbridge.tx import Tx, TxIn

#: Version of the `--json` layout; raised on any incompatible change (README documents it).
#: 2: findings as {code, place, message}, split into refusals and warnings.
SCHEMA_VERSION = 2
LOCKTIME_THRESHOLD = 500_000_000
#: BIP125: a sequence below this signals replaceability.
SEQUENCE_RBF_LIMIT = 0xFFFFFFFE


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
class ProofSummary:
    """A BIP-322 message proof (psbtbridge/bip322_psbt.py): nothing is spent, no fee."""

    address: str | None  # the address signed for; None for a script without one
    script_pubkey: str  # hex
    message: str | None  # None when the PSBT carries only to_spend: only the hash is known
    message_hash: str  # BIP-322 tagged hash, hex
    reserves_inputs: tuple[int, ...]  # the inputs a proof of reserves shows control of
    reserves_total: int | None  # their amounts added up; None when one is unknown


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
    vsize_basis: str  # final (all inputs finalized), estimate (by script type) or smallest
    fee_rate: float | None  # sat/vB from vsize, rounded to 0.01
    refusals: tuple[Finding, ...]  # what the cold signer would refuse, first one first
    warnings: tuple[Finding, ...]
    #: Set for a BIP-322 message proof; fee, fee_rate and fee_percent are then None.
    proof: ProofSummary | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("refusals", "warnings"):
            data[key] = [f._asdict() for f in getattr(self, key)]
        return {"schema": SCHEMA_VERSION, **data}


def summarize(psbt: Psbt, network: Network) -> Summary:
    """Summarize a parsed PSBT; InvalidInput when no transaction exists (BIP370 locktime clash)."""
    tx = psbt.unsigned_tx()
    facts = check_facts(psbt)
    inputs = tuple(_input(inp, network) for inp in psbt.inputs)
    outputs = tuple(_output(out, network) for out in psbt.outputs)
    refusals = list(facts.refusals)
    proof = _proof(psbt, network, refusals)
    fee = facts.fee if proof is None else None
    fee_percent = (
        round(100.0 * fee / facts.total_out, 4) if fee is not None and facts.total_out > 0 else None
    )
    final = _final_tx(psbt, tx)
    vsize, basis, unknown = _vsize(psbt, tx, final)
    warnings = list(facts.warnings)
    if proof is not None:
        # A proof's input 0 spends 0 sat of the to_spend recognise_proof rebuilt: proven.
        claimed = (Code.WARNING_AMOUNT_CLAIMED, "input 0")
        warnings = [w for w in warnings if (w.code, w.place) != claimed]
    mismatch = network_finding(psbt, network)
    if mismatch is not None:
        warnings.append(mismatch)
    if unknown:
        warnings.append(size_finding(unknown))
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
        input_total=facts.total_in,
        output_total=facts.total_out,
        fee=fee,
        fee_percent=fee_percent,
        vsize=vsize,
        vsize_basis=basis,
        fee_rate=round(fee / vsize, 2) if fee is not None and vsize else None,
        refusals=tuple(refusals),
        warnings=tuple(warnings),
        proof=proof,
    )


def _proof(psbt: Psbt, network: Network, refusals: list[Finding]) -> ProofSummary | None:
    """The proof the PSBT is; a PSBT that claims to be one and is not joins the refusals."""
    try:
        proof = recognise_proof(psbt)
    except (Refused, InvalidInput) as error:
        refusals.append(Finding(error.code, "", error.message))
        return None
    if proof is None:
        return None
    amounts = [psbt.inputs[i].spent_output for i in proof.reserves]
    return ProofSummary(
        address=address_of(proof.message_challenge, network),
        script_pubkey=proof.message_challenge.hex(),
        message=proof.message,
        message_hash=proof.message_hash.hex(),
        reserves_inputs=proof.reserves,
        reserves_total=None if None in amounts else sum(a.value for a in amounts if a),
    )


def _input(inp: PsbtInput, network: Network) -> InputSummary:
    spent = inp.spent_output
    source = None if spent is None else "non_witness_utxo" if inp.amount_proven else "witness_utxo"
    kind = input_type(inp)
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


def _output(out: PsbtOutput, network: Network) -> OutputSummary:
    spk = out.script_pubkey
    if is_op_return(spk):
        kind = "op_return"
    else:
        script_type = script_type_of(spk, out.redeem_script, out.witness_script)
        kind = script_type.value if script_type is not None else "unknown"
    return OutputSummary(
        index=out.index,
        amount=out.amount,
        script_type=kind,
        address=address_of(spk, network),
        script_pubkey=spk.hex(),
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
    """The finished transaction's vsize, its basis, and the inputs whose size is unknown."""
    if final is not None:
        return final.vsize(), "final", []
    shapes = [claimed_shape(inp) for inp in psbt.inputs]
    unknown = [i for i, shape in enumerate(shapes) if shape is None]
    vsize = estimate_vsize(tx, [shape or InputShape(None) for shape in shapes])
    return vsize, "smallest" if unknown else "estimate", unknown
