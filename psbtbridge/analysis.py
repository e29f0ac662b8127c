"""What a PSBT really does, proven: which inputs and outputs are ours, every amount, the fee.

Everything a PSBT says about itself is a claim. Derivation paths are only hints of where
to look: an input or output is ours only when re-deriving from a registered wallet gives
its exact scriptPubKey. Amounts of the inputs we sign must be proven by a full previous
transaction (a segwit v0 signature commits to its own input's amount only, so a hostile
host can lie about the others: the "fee attack"); taproot signatures commit to every
input's amount and script (BIP341), so there the claimed outputs are enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Final, NamedTuple

from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.bip322_psbt import MessageProof, is_message_field, recognise_proof
from psbtbridge.errors import Code, Finding, Refused
from psbtbridge.hashes import hash160, sha256
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt, PsbtInput, PsbtOutput
from psbtbridge.script import (
    ScriptType,
    address_of,
    has_address,
    is_op_return,
    is_p2sh,
    is_p2wsh,
    is_witness_program,
    last_push,
    multisig_threshold,
    script_type_of,
)
from psbtbridge.sighash import SighashType
from psbtbridge.size import InputShape, estimate_vsize
from psbtbridge.tx import MAX_MONEY, OutPoint, Tx, TxOut
from psbtbridge.wallet import DerivedScript, Wallet
from psbtbridge.wallet.addresses import DEFAULT_CHANGE_WINDOW, locate

#: Electrum's gap limit for receiving addresses: a wallet scans this far past the last used.
DEFAULT_RECEIVE_WINDOW = 20
#: (wallet name, chain) -> the highest index the signer's own state knows as used.
KnownIndexes = Mapping[tuple[str, int], int]
#: Outputs below this are dust to Bitcoin Core's relay policy for every standard type.
DUST_LIMIT = 546
_PURPOSES = {44, 45, 48, 49, 84, 86}  # BIP44-style paths: purpose'/coin_type'/account'/...
_ZERO_FINGERPRINT = bytes(4)


class OutputKind(Enum):
    EXTERNAL = "external"
    CHANGE = "change"  # ours, on the change chain, proven by re-derivation
    SELF = "self"  # ours, on the receive chain: a transfer to ourselves
    TRANSFER = "transfer"  # another of our wallets than the inputs': counted as leaving
    OP_RETURN = "op_return"
    UNKNOWN = "unknown"  # a script we cannot show as an address


class Ownership(NamedTuple):
    """Proof that a script is ours: the wallet and position that re-derive it exactly."""

    wallet: Wallet
    chain: int
    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput
    derived: DerivedScript

    @property
    def path(self) -> str:
        """Our key's full path for display, e.g. m/84h/1h/0h/1/5 (first key for multisig)."""
        return self.derived.pubkeys[0][1].derivation


class InputAnalysis(NamedTuple):
    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput
    prevout: OutPoint
    amount: int | None  # None: no UTXO given at all
    script_pubkey: bytes | None
    amount_proven: bool  # a full previous transaction hashing to the prevout gives it
    owner: Ownership | None
    sighash_type: int | None
    #: Public keys with a partial signature in the PSBT: claims, unverified, counted only to
    #: tell the user how many of a multisig's signatures there will be after ours.
    signed_by: frozenset[bytes] = frozenset()


class OutputAnalysis(NamedTuple):
    index: int  # type: ignore[assignment]  # hides tuple.index(): see PsbtInput
    amount: int
    script_pubkey: bytes
    address: str | None
    kind: OutputKind
    owner: Ownership | None


class Analysis(NamedTuple):
    network: Network
    tx: Tx
    inputs: tuple[InputAnalysis, ...]
    outputs: tuple[OutputAnalysis, ...]
    total_in: int
    total_out: int
    fee: int
    vsize: int
    warnings: tuple[Finding, ...]
    #: Set when the PSBT is a BIP-322 message proof: nothing is spent, there is no fee.
    proof: MessageProof | None = None

    @property
    def txid_hex(self) -> str:
        return self.tx.txid_hex()

    @property
    def digest(self) -> str:
        """The request's 8-hex name (Tx.digest)."""
        return self.tx.digest()

    @property
    def fee_rate(self) -> float:
        return self.fee / self.vsize

    @property
    def fee_percent(self) -> float:
        """Fee as a percentage of the total value of all outputs (Coldcard's measure)."""
        return 100.0 * self.fee / self.total_out if self.total_out else 100.0

    @property
    def owned_inputs(self) -> tuple[InputAnalysis, ...]:
        return tuple(i for i in self.inputs if i.owner is not None)

    @property
    def foreign_inputs(self) -> tuple[InputAnalysis, ...]:
        return tuple(i for i in self.inputs if i.owner is None)

    @property
    def sending(self) -> int:
        """Satoshis paid to others: every output that is not proven ours."""
        ours = (OutputKind.CHANGE, OutputKind.SELF)
        return sum(o.amount for o in self.outputs if o.kind not in ours)

    @property
    def leaving(self) -> int:
        """Satoshis that leave our wallets: payments and the fee. The fee counts: left out,
        requests paying a little with a fee near the limits would pass any spending limit.
        A message proof spends a transaction that cannot exist: nothing leaves."""
        return 0 if self.proof is not None else self.sending + self.fee

    @property
    def reserves(self) -> int:
        """What a proof of reserves shows control of: its inputs after input 0 (all ours)."""
        return self.total_in if self.proof is not None else 0


def analyse(
    psbt: Psbt,
    wallets: Sequence[Wallet],
    network: Network,
    change_window: int = DEFAULT_CHANGE_WINDOW,
    known: KnownIndexes | None = None,
    receive_window: int = DEFAULT_RECEIVE_WINDOW,
) -> Analysis:
    """Prove what psbt does for wallets on network, or raise Refused naming the first reason.

    known: the indexes the signer's own state has seen used (cold/state.py). Given, the index
    windows are anchored there, per wallet and chain (change_window on the change chain,
    receive_window on the receive chain), and an input of ours past them is a warning:
    anchored on the PSBT's own inputs, a hostile host could pay dust to index 900,000 and
    spend it beside a real coin to make change there acceptable (issue 11, finding 4).
    Without it (no state at hand) the window counts from the highest input index.
    """
    tx = psbt.unsigned_tx()
    facts = check_facts(psbt)
    _raise_first(f for f in facts.refusals if f.code not in _LATE_REFUSALS)
    proof = recognise_proof(psbt)
    claimers = _claim_fingerprints(wallets)
    _check_network(psbt, wallets, network, claimers)
    finder = _Finder(wallets)
    # A proof's input 0 spends 0 sat of to_spend, rebuilt by recognise_proof: proven.
    inputs = tuple(
        _analyse_input(inp, finder, virtual=proof is not None and inp.index == 0)
        for inp in psbt.inputs
    )
    if proof is not None:
        first = _locate_challenge(psbt.inputs[0], inputs[0], wallets, change_window)
        inputs = (first, *inputs[1:])
        _check_proof_inputs(inputs, network)
    if not any(i.owner for i in inputs):
        raise Refused(Code.PROOF_NOTHING_TO_SIGN, _nothing_to_sign(psbt, wallets))
    _raise_first(f for f in facts.refusals if f.code == Code.PROOF_UNKNOWN_AMOUNT)
    windows = _Windows(inputs, known, change_window, receive_window)
    outputs = tuple(
        _analyse_output(out, finder, claimers, network, windows) for out in psbt.outputs
    )
    _raise_first(facts.refusals)
    assert facts.total_in is not None and facts.fee is not None  # else refused just above
    # A claimed amount matters only where no signature of ours commits to it.
    foreign = {i.index for i in inputs if i.owner is None}
    warnings = [
        f for f in facts.warnings if f.code != Code.WARNING_AMOUNT_CLAIMED or _index(f) in foreign
    ]
    warnings += windows.inputs_beyond(inputs)
    mismatch = network_finding(psbt, network)  # paths of ours on another network: refused above
    if mismatch is not None:
        warnings.append(mismatch)
    for out in outputs:
        if out.kind is OutputKind.TRANSFER and out.owner is not None:
            warnings.append(
                Finding(
                    Code.WARNING_TRANSFER,
                    f"output {out.index}",
                    f"pays {out.owner.wallet.name}, another of our wallets than the one(s)"
                    " spent from: a transfer between wallets, counted as leaving",
                )
            )
    warnings += windows.receives_beyond(outputs)
    shapes = [_input_shape(psbt.inputs[i.index], i) for i in inputs]
    unknown = [i for i, shape in enumerate(shapes) if shape is None]
    if unknown:
        warnings.append(size_finding(unknown))
    return Analysis(
        network,
        tx,
        inputs,
        outputs,
        facts.total_in,
        facts.total_out,
        facts.fee,
        estimate_vsize(tx, [shape or InputShape(None) for shape in shapes]),
        tuple(warnings),
        proof,
    )


def _locate_challenge(
    inp: PsbtInput, analysed: InputAnalysis, wallets: Sequence[Wallet], window: int
) -> InputAnalysis:
    """A proof's address given without its derivation path is searched for as `psbt message
    sign` searches an address (wallet.addresses.locate): it is the one input that spends
    nothing, so finding it by its script alone risks no coin."""
    if analysed.owner is not None or analysed.script_pubkey is None:
        return analysed
    found = locate(analysed.script_pubkey, wallets, window)
    if found is None:
        return analysed
    derived = found.wallet.derive(found.chain, found.index)
    owner = Ownership(found.wallet, found.chain, found.index, derived)
    _check_sighash(inp, owner, "input 0")
    return analysed._replace(owner=owner)


def _check_proof_inputs(inputs: Sequence[InputAnalysis], network: Network) -> None:
    """A proof signs for an address of ours, and shows control of our coins only: a foreign
    input would make it claim coins that this signer cannot vouch for."""
    first = inputs[0]
    if first.owner is None:
        script = first.script_pubkey or b""
        raise Refused(
            Code.BIP322_NOT_OURS,
            f"the BIP-322 proof signs for {address_of(script, network) or script.hex()}, which"
            " does not re-derive from a registered wallet (input 0 names no path of ours)",
        )
    for inp in inputs[1:]:
        if inp.owner is None:
            raise Refused(
                Code.BIP322_FOREIGN_INPUT,
                f"input {inp.index} of the proof of reserves is not ours",
            )


# --- what the bytes alone say: the checks `psbt inspect` shows and `analyse` enforces

#: Refusals `analyse` raises only after it has looked for inputs of ours, so that a PSBT
#: with none is named as such first.
_LATE_REFUSALS = frozenset({Code.PROOF_UNKNOWN_AMOUNT, Code.PROOF_NEGATIVE_FEE})


class Facts(NamedTuple):
    """Totals and findings from the PSBT alone, before anything is proven ours."""

    total_in: int | None  # None when an input's amount is not given at all
    total_out: int
    fee: int | None
    refusals: tuple[Finding, ...]  # each stops the signer; inspect shows them
    warnings: tuple[Finding, ...]


def check_facts(psbt: Psbt) -> Facts:
    """Every check that needs no wallet: shapes, amounts, totals, fee, fields nobody knows."""
    tx = psbt.unsigned_tx()
    refusals: list[Finding] = []
    warnings: list[Finding] = []
    if not tx.inputs or not tx.outputs:
        refusals.append(
            Finding(Code.PROOF_EMPTY_TX, "", "the transaction has no inputs or no outputs")
        )
    seen: dict[OutPoint, int] = {}
    for i, txin in enumerate(tx.inputs):
        if txin.prevout in seen:
            refusals.append(
                Finding(
                    Code.PROOF_DUPLICATE_INPUT,
                    f"input {i}",
                    f"spends {txin.prevout}, as input {seen[txin.prevout]} does",
                )
            )
        seen.setdefault(txin.prevout, i)
    amounts = [_input_amount(inp, refusals, warnings) for inp in psbt.inputs]
    for out in psbt.outputs:
        _check_output_amount(out, refusals, warnings)
    total_out = sum(o.amount for o in psbt.outputs)
    known = [a for a in amounts if a is not None]
    total_in = sum(known) if len(known) == len(amounts) else None
    for what, total in (("inputs", total_in), ("outputs", total_out)):
        if total is not None and total > MAX_MONEY:
            refusals.append(
                Finding(
                    Code.PROOF_BAD_AMOUNT,
                    "",
                    f"the {what} add up to {total} sat, more than 21 million BTC",
                )
            )
    fee = None if total_in is None else total_in - total_out
    if fee is not None and fee < 0:
        refusals.append(
            Finding(
                Code.PROOF_NEGATIVE_FEE,
                "",
                f"outputs ({total_out} sat) exceed inputs ({total_in} sat): the fee would be"
                f" {fee} sat",
            )
        )
    warnings += _field_warnings(psbt)
    return Facts(total_in, total_out, fee, tuple(refusals), tuple(warnings))


def _input_amount(inp: PsbtInput, refusals: list[Finding], warnings: list[Finding]) -> int | None:
    place = f"input {inp.index}"
    spent = inp.spent_output
    if spent is None:
        refusals.append(
            Finding(
                Code.PROOF_UNKNOWN_AMOUNT, place, "no UTXO is given, so the fee cannot be known"
            )
        )
        return None
    if not 0 <= spent.value <= MAX_MONEY:
        refusals.append(
            Finding(Code.PROOF_BAD_AMOUNT, place, f"amount {spent.value} sat is out of range")
        )
    if not inp.amount_proven:
        warnings.append(
            Finding(
                Code.WARNING_AMOUNT_CLAIMED,
                place,
                "its amount is only claimed (PSBT_IN_WITNESS_UTXO), not proven by the previous"
                " transaction; the fee shown relies on it",
            )
        )
    if inp.sighash_type is not None and inp.sighash_type not in (
        SighashType.DEFAULT,
        SighashType.ALL,
    ):
        warnings.append(
            Finding(
                Code.WARNING_SIGHASH_NOT_ALL,
                place,
                f"requests sighash {sighash_name(inp.sighash_type)}, not ALL",
            )
        )
    for sig in inp.partial_sigs:
        if sig.sighash_type != SighashType.ALL:
            warnings.append(
                Finding(
                    Code.WARNING_SIGHASH_NOT_ALL,
                    place,
                    f"a partial signature uses sighash {sighash_name(sig.sighash_type)}",
                )
            )
    return spent.value


def _check_output_amount(out: PsbtOutput, refusals: list[Finding], warnings: list[Finding]) -> None:
    place = f"output {out.index}"
    if not 0 <= out.amount <= MAX_MONEY:
        refusals.append(
            Finding(Code.PROOF_BAD_AMOUNT, place, f"amount {out.amount} sat is out of range")
        )
    if is_op_return(out.script_pubkey):
        if out.amount:
            refusals.append(
                Finding(
                    Code.PROOF_OP_RETURN_VALUE,
                    place,
                    f"an OP_RETURN output carries {out.amount} sat, which would be burned",
                )
            )
        return
    if not has_address(out.script_pubkey):
        warnings.append(
            Finding(Code.WARNING_UNKNOWN_SCRIPT, place, "a script that is not a standard address")
        )
    elif 0 <= out.amount < DUST_LIMIT:
        warnings.append(
            Finding(Code.WARNING_DUST, place, f"{out.amount} sat is below the dust limit")
        )


def _field_warnings(psbt: Psbt) -> list[Finding]:
    """Unknown fields are kept, but nobody here can say what they mean: point them out."""
    # BIP-322's message field is known: recognise_proof checks it.
    known = sum(1 for e in psbt.unknown if is_message_field(e.key_type))
    maps: list[tuple[str, int, int]] = [
        ("global map", len(psbt.unknown) - known, len(psbt.proprietary))
    ]
    maps += [(f"input {i.index}", len(i.unknown), len(i.proprietary)) for i in psbt.inputs]
    maps += [(f"output {o.index}", len(o.unknown), len(o.proprietary)) for o in psbt.outputs]
    found = []
    for place, unknown, proprietary in maps:
        if unknown:
            found.append(
                Finding(Code.WARNING_UNKNOWN_FIELDS, place, f"{unknown} field(s) of unknown type")
            )
        if proprietary:
            found.append(
                Finding(
                    Code.WARNING_PROPRIETARY_FIELDS, place, f"{proprietary} proprietary field(s)"
                )
            )
    return found


def coin_types(psbt: Psbt) -> frozenset[int]:
    """The BIP44 coin types the PSBT's derivation paths name (purpose'/coin'/...): claims,
    but the only hint of its network a PSBT carries (scripts look alike on every network)."""
    maps: list[PsbtInput | PsbtOutput] = [*psbt.inputs, *psbt.outputs]
    paths = [origin.path for place in maps for origin in _hints(place)]
    paths += [xpub.origin.path for xpub in psbt.xpubs]
    return frozenset(
        path[1] - HARDENED
        for path in paths
        if len(path) >= 3 and path[0] - HARDENED in _PURPOSES and path[1] >= HARDENED
    )


def network_from_paths(psbt: Psbt) -> Network | None:
    """Main when every BIP44-style path says coin type 0; None when there is no such path,
    or coin type 1, which test, signet and regtest share."""
    return Network.MAIN if coin_types(psbt) == {Network.MAIN.coin_type} else None


def network_finding(psbt: Psbt, network: Network) -> Finding | None:
    """A warning when the derivation paths name another network than the one addresses are
    shown for: a regtest PSBT shown as mainnet reads `bc1q...` where the cold side shows
    `bcrt1q...` (issue 14, item 6)."""
    other = sorted(coin_types(psbt) - {network.coin_type})
    if not other:
        return None
    names = ", ".join(
        "0 (main)" if c == 0 else "1 (test networks)" if c == 1 else str(c) for c in other
    )
    return Finding(
        Code.WARNING_NETWORK_MISMATCH,
        "",
        f"derivation paths name coin type {names}, but addresses are shown for"
        f" {network.value}: give the right --network",
    )


def size_finding(indexes: list[int]) -> Finding:
    """The warning for inputs sized at their smallest: the fee rate shown is the most it can be."""
    return Finding(
        Code.WARNING_SIZE_UNKNOWN,
        f"input(s) {', '.join(str(i) for i in indexes)}",
        "unknown script or spend path: sized at the smallest an input can be, so the fee rate"
        " shown is an upper bound",
    )


#: Electrum's QR export (transaction.py to_qr_data) replaces every previous transaction by the
#: output it spends, the usual reason for the two refusals that end with this.
STRIPPED_BY_ELECTRUM_QR: Final = (
    "; Electrum's QR code leaves the previous transactions out: send the PSBT as a file"
    " instead (Electrum: Export > Export to file; 4.5: Share > Save to file) or over qrexec"
)


def sighash_name(value: int) -> str:
    try:
        return SighashType(value).name
    except ValueError:
        return f"0x{value:08x}"


def _raise_first(findings: Iterable[Finding]) -> None:
    for finding in findings:
        raise finding.refusal()


def _index(finding: Finding) -> int:
    return int(finding.place.rsplit(" ", 1)[-1])


# --- inputs


def _analyse_input(inp: PsbtInput, finder: _Finder, *, virtual: bool = False) -> InputAnalysis:
    """virtual: input 0 of a recognised BIP-322 proof, whose 0 sat recognise_proof proved."""
    where = f"input {inp.index}"
    spent = inp.spent_output
    _check_signer_rules(inp, spent, where)
    owner = None
    proven = inp.amount_proven or virtual
    if spent is not None:
        owner = finder.find(spent.script_pubkey, _hints(inp))
    if owner is not None:
        if not proven and owner.wallet.script_type is not ScriptType.P2TR:
            raise Refused(
                Code.PROOF_MISSING_NON_WITNESS_UTXO,
                f"{where}: ours, but its amount is not proven by the full previous transaction"
                f" (PSBT_IN_NON_WITNESS_UTXO){STRIPPED_BY_ELECTRUM_QR}",
            )
        _check_sighash(inp, owner, where)
    return InputAnalysis(
        inp.index,
        inp.prevout,
        None if spent is None else spent.value,
        None if spent is None else spent.script_pubkey,
        proven,
        owner,
        inp.sighash_type,
        frozenset(sig.pubkey for sig in inp.partial_sigs),
    )


def _check_signer_rules(inp: PsbtInput, spent: TxOut | None, where: str) -> None:
    """BIP174's signer checks: scripts must match what they claim to hash to."""
    if spent is None:
        return
    spk = spent.script_pubkey
    program = spk
    if inp.redeem_script is not None:
        if not (is_p2sh(spk) and spk[2:22] == hash160(inp.redeem_script)):
            raise Refused(
                Code.PROOF_REDEEM_SCRIPT_MISMATCH,
                f"{where}: PSBT_IN_REDEEM_SCRIPT does not hash to the P2SH output it spends",
            )
        program = inp.redeem_script
    if inp.witness_script is not None and not (
        is_p2wsh(program) and program[2:] == sha256(inp.witness_script)
    ):
        raise Refused(
            Code.PROOF_WITNESS_SCRIPT_MISMATCH,
            f"{where}: PSBT_IN_WITNESS_SCRIPT does not hash to the P2WSH program it spends",
        )
    # A P2SH output without its redeem script may still wrap a witness program: undecided here.
    undecided = program is spk and is_p2sh(spk)
    if inp.witness_utxo is not None and not is_witness_program(program) and not undecided:
        raise Refused(
            Code.PROOF_WITNESS_UTXO_NON_SEGWIT,
            f"{where}: a witness UTXO is given for a non-segwit output; a legacy signature"
            f" does not commit to the amount it claims{STRIPPED_BY_ELECTRUM_QR}",
        )


def _check_sighash(inp: PsbtInput, owner: Ownership, where: str) -> None:
    """We sign with SIGHASH_ALL (or taproot's DEFAULT) only: commit to every input and output."""
    allowed = {SighashType.ALL}
    if owner.wallet.script_type is ScriptType.P2TR:
        allowed.add(SighashType.DEFAULT)
    if inp.sighash_type is not None and inp.sighash_type not in allowed:
        raise Refused(
            Code.PROOF_SIGHASH_NOT_ALLOWED,
            f"{where}: requests sighash type 0x{inp.sighash_type:02x}; only ALL"
            " (and DEFAULT for taproot) is ever signed",
        )


class _Windows:
    """How far past the known indexes of each wallet and chain a proven output may lie."""

    def __init__(
        self,
        inputs: Sequence[InputAnalysis],
        known: KnownIndexes | None,
        change_window: int,
        receive_window: int,
    ) -> None:
        self.known = known
        self.spent_from = {i.owner.wallet.name for i in inputs if i.owner is not None}
        self._windows = {0: receive_window, 1: change_window}
        self._change_window = change_window
        self._highest: dict[str, int] = {}
        for i in inputs:
            if i.owner is not None:
                name = i.owner.wallet.name
                self._highest[name] = max(self._highest.get(name, 0), i.owner.index)

    def limit(self, owner: Ownership) -> tuple[int, str]:
        """The highest index accepted for owner's wallet and chain, and where it comes from."""
        name = owner.wallet.name
        if self.known is None:
            anchor = self._highest.get(name, 0)
            return anchor + self._change_window, f"highest input index + {self._change_window}"
        window = self._windows[owner.chain]
        anchor = self.known.get((name, owner.chain), -1)
        chain = "change" if owner.chain == 1 else "receive"
        used = "none used yet" if anchor < 0 else f"used up to {anchor}"
        return anchor + window, f"this signer knows {name} {chain} {used}, + {window}"

    def receives_beyond(self, outputs: Iterable[OutputAnalysis]) -> list[Finding]:
        """A payment to our own receive address is an ordinary transfer to self (Electrum's
        "pay to my own address"); past the window the wallet may never see it arrive."""
        found = []
        for out in outputs:
            if out.kind is not OutputKind.SELF or out.owner is None:
                continue
            limit, why = self.limit(out.owner)
            if out.owner.index > limit:
                found.append(
                    Finding(
                        Code.WARNING_SELF_TRANSFER,
                        f"output {out.index}",
                        f"pays our receive address {out.owner.path}, beyond index {limit}"
                        f" ({why}): a wallet scanning its gap limit may never see it arrive",
                    )
                )
        return found

    def inputs_beyond(self, inputs: Iterable[InputAnalysis]) -> list[Finding]:
        """An input of ours far past what the state knows: a wallet scanning its gap limit
        would not have found the coin, so a hostile host may have planted it there."""
        if self.known is None:
            return []
        found = []
        for i in inputs:
            if i.owner is None:
                continue
            limit, why = self.limit(i.owner)
            if i.owner.index > limit:
                found.append(
                    Finding(
                        Code.WARNING_INPUT_BEYOND_KNOWN,
                        f"input {i.index}",
                        f"ours at {i.owner.path}, beyond index {limit} ({why}); if the wallet"
                        f" really used it, record that with `psbt audit used {i.owner.wallet.name}"
                        f" --{'change' if i.owner.chain == 1 else 'receive'} {i.owner.index}`",
                    )
                )
        return found


def _input_shape(inp: PsbtInput, analysed: InputAnalysis) -> InputShape | None:
    """What the finished input will look like, for the size estimate; None when unknown."""
    if analysed.owner is not None:
        derived = analysed.owner.derived
        return InputShape(
            analysed.owner.wallet.script_type,
            analysed.owner.wallet.threshold,
            len(derived.redeem_script or b""),
            len(derived.witness_script or b""),
        )
    return claimed_shape(inp)


def input_type(inp: PsbtInput) -> ScriptType | None:
    """The spent output's type, looking into P2SH/P2WSH with the scripts the PSBT gives; a
    finalized input has dropped those fields, so take them from its final scriptSig/witness."""
    spent = inp.spent_output
    if spent is None:
        return None
    redeem, witness = inp.redeem_script, inp.witness_script
    if redeem is None and inp.final_scriptsig:
        redeem = last_push(inp.final_scriptsig)
    if witness is None and inp.final_scriptwitness:
        witness = inp.final_scriptwitness[-1]
    return script_type_of(spent.script_pubkey, redeem, witness)


def claimed_shape(inp: PsbtInput) -> InputShape | None:
    """What the finished input will look like by the PSBT's own scripts, or None when its size
    cannot be known (an unknown script, a multisig without its script, a script path)."""
    kind = input_type(inp)
    if kind is None:
        return None
    script = inp.witness_script if kind in (ScriptType.P2WSH, ScriptType.P2SH_P2WSH) else None
    if kind is ScriptType.P2SH:
        script = inp.redeem_script
    if kind.is_multisig:
        threshold = multisig_threshold(script)
        if threshold is None:
            return None
        return InputShape(
            kind, threshold, len(inp.redeem_script or b""), len(inp.witness_script or b"")
        )
    if kind is ScriptType.P2TR and inp.tap_key_sig is None and inp.tap_leaf_scripts:
        return None  # a script-path spend: its witness depends on the leaf
    return InputShape(kind)


# --- outputs


def _analyse_output(
    out: PsbtOutput,
    finder: _Finder,
    claimers: frozenset[bytes],
    network: Network,
    windows: _Windows,
) -> OutputAnalysis:
    where = f"output {out.index}"
    spk = out.script_pubkey
    if is_op_return(spk):  # its amount is 0: check_facts refuses any other
        return OutputAnalysis(out.index, 0, spk, None, OutputKind.OP_RETURN, None)
    address = address_of(spk, network)
    claims = [o for o in _hints(out) if o.fingerprint in claimers]
    if not claims:
        kind = OutputKind.EXTERNAL if address is not None else OutputKind.UNKNOWN
        return OutputAnalysis(out.index, out.amount, spk, address, kind, None)
    owner = finder.find(spk, claims)
    if owner is None:
        raise _fake_change(out, claims, finder, where)
    limit, why = windows.limit(owner)
    # A receive address past the window is still ours, only where a wallet scanning its gap
    # limit would not look: a warning (receives_beyond), not a refusal. Change must be found.
    if owner.index > limit and owner.chain == 1:
        chain = "change" if owner.chain == 1 else "receive"
        raise Refused(
            Code.PROOF_CHANGE_BEYOND_WINDOW,
            f"{where}: ours at {owner.path}, beyond index {limit} ({why}); a wallet scanning"
            " its gap limit would never find it. If this wallet has really used its"
            f" {chain} addresses that far (a wallet moved here with its history), record it"
            f" with `psbt audit used {owner.wallet.name} --{chain} {owner.index}` and sign again",
        )
    if windows.known is not None and owner.wallet.name not in windows.spent_from:
        kind = OutputKind.TRANSFER
    else:
        kind = OutputKind.CHANGE if owner.chain == 1 else OutputKind.SELF
    return OutputAnalysis(out.index, out.amount, spk, address, kind, owner)


def _fake_change(out: PsbtOutput, claims: list[KeyOrigin], finder: _Finder, where: str) -> Refused:
    """Name how an output that claims to be ours fails, so the user learns what was tried."""
    for origin in claims:
        tail = origin.path[-2:]
        if len(tail) == 2 and any(step >= HARDENED for step in tail):
            return Refused(
                Code.PROOF_CHANGE_HARDENED,
                f"{where}: claims a hardened change path {origin.descriptor_form()}; wallets use"
                " non-hardened change",
            )
    for origin in claims:
        if len(origin.path) >= 2 and origin.path[-2] not in (0, 1):
            return Refused(
                Code.PROOF_CHANGE_BAD_CHAIN,
                f"{where}: claims path {origin.descriptor_form()}, outside the receive and change chains",
            )
    spk = out.script_pubkey
    for origin in claims:
        for wallet in finder.wallets_at(origin):
            derived = finder.derive(wallet, origin.path[-2], origin.path[-1])
            if derived is None:
                continue
            if _spk_shape(spk) != _spk_shape(derived.script_pubkey):
                return Refused(
                    Code.PROOF_CHANGE_SCRIPT_TYPE,
                    f"{where}: claims {origin.descriptor_form()} of wallet {wallet.name}"
                    f" ({wallet.script_type.value}) but is a different kind of script",
                )
            if wallet.script_type is ScriptType.P2TR:
                return Refused(
                    Code.PROOF_CHANGE_SCRIPT_TREE,
                    f"{where}: claims {origin.descriptor_form()} but its taproot output key is not the"
                    " BIP86 key: it may hide a script path someone else can spend",
                )
            if wallet.is_multisig:
                return Refused(
                    Code.PROOF_MULTISIG_CHANGE_MISMATCH,
                    f"{where}: claims {origin.descriptor_form()} of multisig {wallet.name} but its"
                    " script uses other keys",
                )
    for origin in claims:
        if finder.other_account(origin):
            return Refused(
                Code.PROOF_CHANGE_OTHER_ACCOUNT,
                f"{where}: claims {origin.descriptor_form()}, an account that is not registered here",
            )
    return Refused(
        Code.PROOF_FAKE_CHANGE,
        f"{where}: claims to be ours ({claims[0].descriptor_form()}) but does not re-derive from any"
        " registered wallet",
    )


# --- finding and proving ownership


class _Finder:
    """Re-derives hinted positions from the registered wallets, each at most once."""

    def __init__(self, wallets: Sequence[Wallet]) -> None:
        self.wallets = tuple(wallets)
        self._cache: dict[tuple[str, int, int], DerivedScript | None] = {}

    def derive(self, wallet: Wallet, chain: int, index: int) -> DerivedScript | None:
        if chain not in (0, 1) or not 0 <= index < HARDENED:
            return None
        key = (wallet.name, chain, index)
        if key not in self._cache:
            self._cache[key] = wallet.derive(chain, index)
        return self._cache[key]

    def wallets_at(self, origin: KeyOrigin) -> list[Wallet]:
        """Wallets a hint may point into: its path is chain/index below one of their keys, or
        just chain/index (Electrum restored from a bare xpub writes m/c/i with the xpub's
        own fingerprint)."""
        if len(origin.path) < 2:
            return []
        prefix = origin.path[:-2]
        return [
            w for w in self.wallets if not prefix or any(k.origin.path == prefix for k in w.keys)
        ]

    def find(self, spk: bytes, hints: Iterable[KeyOrigin]) -> Ownership | None:
        for origin in hints:
            if len(origin.path) < 2:
                continue
            chain, index = origin.path[-2], origin.path[-1]
            for wallet in self.wallets_at(origin):
                derived = self.derive(wallet, chain, index)
                if derived is not None and derived.script_pubkey == spk:
                    return Ownership(wallet, chain, index, derived)
        return None

    def other_account(self, origin: KeyOrigin) -> bool:
        """The hint is purpose'/coin'/account'/c/i of a purpose and coin we use, other account."""
        path = origin.path
        if len(path) != 5:
            return False
        return any(
            len(k.origin.path) == 3
            and k.origin.path[:2] == path[:2]
            and k.origin.path[2] != path[2]
            for w in self.wallets
            for k in w.keys
        )


def _hints(place: PsbtInput | PsbtOutput) -> list[KeyOrigin]:
    """The key origins a map claims, ECDSA and taproot alike: where to look, nothing more."""
    origins = [d.origin for d in place.bip32_derivations]
    origins += [d.origin for d in place.tap_bip32_derivations]
    return origins


def _nothing_to_sign(psbt: Psbt, wallets: Sequence[Wallet]) -> str:
    """Name the fingerprints on both sides: a wrong seed or seed passphrase shows as two
    disjoint sets, which the user can compare with what the hot wallet shows."""
    seen = sorted({o.fingerprint.hex() for inp in psbt.inputs for o in _hints(inp)})
    ours = sorted({k.origin.fingerprint.hex() for w in wallets for k in w.keys})
    claimed = (
        f"the inputs name key fingerprints {', '.join(seen)}"
        if seen
        else "the inputs name no key fingerprint (no BIP32 derivations)"
    )
    have = f"this signer's wallets have {', '.join(ours)}" if ours else "no wallet is registered"
    return (
        f"no input re-derives from a registered wallet: {claimed}; {have}"
        " (another seed, or another seed passphrase?)"
    )


def _claim_fingerprints(wallets: Sequence[Wallet]) -> frozenset[bytes]:
    """Fingerprints with which a PSBT can say "this is yours": our master key's and those of
    our account xpubs (Electrum's bare-xpub style), and the all-zero "unknown" one."""
    found = {_ZERO_FINGERPRINT}
    for wallet in wallets:
        for key in wallet.keys:
            found.add(key.origin.fingerprint)
            found.add(key.own_fingerprint)
    return frozenset(found)


def _check_network(
    psbt: Psbt, wallets: Sequence[Wallet], network: Network, claimers: frozenset[bytes]
) -> None:
    """A PSBT for another network must not be signed: its addresses would be shown wrongly,
    and coins on one network are not proof of anything on another."""
    versions = {network.params["xpub"], network.params["xprv"]}
    for xpub in psbt.xpubs:
        if xpub.xpub[:4] not in versions:
            raise Refused(
                Code.PROOF_WRONG_NETWORK,
                f"a global xpub is not a {network.value} key; this signer is for {network.value}",
            )
    maps: list[PsbtInput | PsbtOutput] = [*psbt.inputs, *psbt.outputs]
    for place in maps:
        for origin in _hints(place):
            path = origin.path
            if (
                origin.fingerprint in claimers
                and len(path) >= 3
                and path[0] - HARDENED in _PURPOSES
                and path[1] >= HARDENED
                and path[1] - HARDENED != network.coin_type
            ):
                raise Refused(
                    Code.PROOF_WRONG_NETWORK,
                    f"path {origin.descriptor_form()} is for coin type {path[1] - HARDENED}; this"
                    f" signer is for {network.value}",
                )


# --- small script predicates


def _spk_shape(spk: bytes) -> tuple[int, int]:
    return (spk[0] if spk else -1, len(spk))
