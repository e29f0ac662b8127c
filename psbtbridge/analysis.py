"""What a PSBT really does, proven: which inputs and outputs are ours, every amount, the fee.

Everything a PSBT says about itself is a claim. Derivation paths are only hints of where
to look: an input or output is ours only when re-deriving from a registered wallet gives
its exact scriptPubKey. Amounts of the inputs we sign must be proven by a full previous
transaction (a segwit v0 signature commits to its own input's amount only, so a hostile
host can lie about the others: the "fee attack"); taproot signatures commit to every
input's amount and script (BIP341), so there the claimed outputs are enough.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from psbtbridge.bip32 import HARDENED, KeyOrigin
from psbtbridge.errors import Refused
from psbtbridge.hashes import hash160, sha256
from psbtbridge.network import Network
from psbtbridge.psbt import Psbt, PsbtInput, PsbtOutput
from psbtbridge.script import (
    address_of,
    is_op_return,
    is_p2sh,
    is_p2wsh,
    is_witness_program,
    script_type_of,
)
from psbtbridge.sighash import SighashType
from psbtbridge.size import InputShape, estimate_vsize
from psbtbridge.tx import MAX_MONEY, OutPoint, Tx, TxOut
from psbtbridge.wallet import DerivedScript, ScriptType, Wallet

DEFAULT_CHANGE_WINDOW = 1000
_PURPOSES = {44, 45, 48, 49, 84, 86}  # BIP44-style paths: purpose'/coin_type'/account'/...
_ZERO_FINGERPRINT = bytes(4)


class OutputKind(Enum):
    EXTERNAL = "external"
    CHANGE = "change"  # ours, on the change chain, proven by re-derivation
    SELF = "self"  # ours, on the receive chain: a transfer to ourselves
    OP_RETURN = "op_return"
    UNKNOWN = "unknown"  # a script we cannot show as an address


@dataclass(frozen=True)
class Ownership:
    """Proof that a script is ours: the wallet and position that re-derive it exactly."""

    wallet: Wallet
    chain: int
    index: int
    derived: DerivedScript

    @property
    def path(self) -> str:
        """Our key's full path for display, e.g. m/84h/1h/0h/1/5 (first key for multisig)."""
        return self.derived.pubkeys[0][1].derivation


@dataclass(frozen=True)
class InputAnalysis:
    index: int
    prevout: OutPoint
    amount: int | None  # None: no UTXO given at all
    script_pubkey: bytes | None
    amount_proven: bool  # a full previous transaction hashing to the prevout gives it
    owner: Ownership | None
    sighash_type: int | None


@dataclass(frozen=True)
class OutputAnalysis:
    index: int
    amount: int
    script_pubkey: bytes
    address: str | None
    kind: OutputKind
    owner: Ownership | None


@dataclass(frozen=True)
class Analysis:
    network: Network
    tx: Tx
    inputs: tuple[InputAnalysis, ...]
    outputs: tuple[OutputAnalysis, ...]
    total_in: int
    total_out: int
    fee: int
    vsize: int
    warnings: tuple[str, ...]

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
        """Satoshis leaving our wallets: every output that is not proven ours."""
        ours = (OutputKind.CHANGE, OutputKind.SELF)
        return sum(o.amount for o in self.outputs if o.kind not in ours)


def analyse(
    psbt: Psbt,
    wallets: Sequence[Wallet],
    network: Network,
    change_window: int = DEFAULT_CHANGE_WINDOW,
) -> Analysis:
    """Prove what psbt does for wallets on network, or raise Refused naming the first reason."""
    tx = psbt.unsigned_tx()
    if not tx.inputs or not tx.outputs:
        raise Refused("proof.empty_tx", "the transaction has no inputs or no outputs")
    _check_unique_inputs(tx)
    claimers = _claim_fingerprints(wallets)
    _check_network(psbt, wallets, network, claimers)
    finder = _Finder(wallets)
    inputs = tuple(_analyse_input(inp, finder) for inp in psbt.inputs)
    if not any(i.owner for i in inputs):
        raise Refused("proof.nothing_to_sign", "no input re-derives from a registered wallet")
    warnings: list[str] = []
    unknown = [i.index for i in inputs if i.amount is None]
    if unknown:
        raise Refused(
            "proof.unknown_amount",
            f"input {unknown[0]}: no UTXO is given, so the fee cannot be known",
        )
    for i in inputs:
        if i.owner is None and not i.amount_proven:
            warnings.append(
                f"input {i.index} (not ours): its amount is only claimed; the fee shown relies on it"
            )
    highest = _highest_index(inputs)
    outputs = tuple(
        _analyse_output(out, finder, claimers, network, highest, change_window)
        for out in psbt.outputs
    )
    total_in = sum(i.amount or 0 for i in inputs)
    total_out = sum(o.amount for o in outputs)
    fee = total_in - total_out
    if fee < 0:
        raise Refused(
            "proof.negative_fee",
            f"outputs ({total_out} sat) exceed inputs ({total_in} sat): the fee would be {fee} sat",
        )
    vsize = estimate_vsize(tx, [_input_shape(psbt.inputs[i.index], i) for i in inputs])
    if any(o.kind is OutputKind.SELF for o in outputs):
        warnings.append("an output pays one of our own receive addresses (a transfer to self)")
    if any(o.kind is OutputKind.UNKNOWN for o in outputs):
        warnings.append("an output has a script that is not a standard address")
    return Analysis(network, tx, inputs, outputs, total_in, total_out, fee, vsize, tuple(warnings))


# --- inputs


def _check_unique_inputs(tx: Tx) -> None:
    seen: dict[OutPoint, int] = {}
    for i, txin in enumerate(tx.inputs):
        if txin.prevout in seen:
            raise Refused(
                "proof.duplicate_input",
                f"inputs {seen[txin.prevout]} and {i} spend the same outpoint {txin.prevout}",
            )
        seen[txin.prevout] = i


def _analyse_input(inp: PsbtInput, finder: _Finder) -> InputAnalysis:
    where = f"input {inp.index}"
    spent = inp.spent_output
    _check_signer_rules(inp, spent, where)
    owner = None
    if spent is not None:
        if not 0 <= spent.value <= MAX_MONEY:
            raise Refused("proof.bad_amount", f"{where}: amount {spent.value} sat is out of range")
        owner = finder.find(spent.script_pubkey, _hints(inp))
    if owner is not None:
        if not inp.amount_proven and owner.wallet.script_type is not ScriptType.P2TR:
            raise Refused(
                "proof.missing_non_witness_utxo",
                f"{where}: ours, but its amount is not proven by the full previous transaction"
                " (PSBT_IN_NON_WITNESS_UTXO)",
            )
        _check_sighash(inp, owner, where)
    return InputAnalysis(
        inp.index,
        inp.prevout,
        None if spent is None else spent.value,
        None if spent is None else spent.script_pubkey,
        inp.amount_proven,
        owner,
        inp.sighash_type,
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
                "proof.redeem_script_mismatch",
                f"{where}: PSBT_IN_REDEEM_SCRIPT does not hash to the P2SH output it spends",
            )
        program = inp.redeem_script
    if inp.witness_script is not None and not (
        is_p2wsh(program) and program[2:] == sha256(inp.witness_script)
    ):
        raise Refused(
            "proof.witness_script_mismatch",
            f"{where}: PSBT_IN_WITNESS_SCRIPT does not hash to the P2WSH program it spends",
        )
    # A P2SH output without its redeem script may still wrap a witness program: undecided here.
    undecided = program is spk and is_p2sh(spk)
    if inp.witness_utxo is not None and not is_witness_program(program) and not undecided:
        raise Refused(
            "proof.witness_utxo_non_segwit",
            f"{where}: a witness UTXO is given for a non-segwit output; a legacy signature"
            " does not commit to the amount it claims",
        )


def _check_sighash(inp: PsbtInput, owner: Ownership, where: str) -> None:
    """We sign with SIGHASH_ALL (or taproot's DEFAULT) only: commit to every input and output."""
    allowed = {SighashType.ALL}
    if owner.wallet.script_type is ScriptType.P2TR:
        allowed.add(SighashType.DEFAULT)
    if inp.sighash_type is not None and inp.sighash_type not in allowed:
        raise Refused(
            "proof.sighash_not_allowed",
            f"{where}: requests sighash type 0x{inp.sighash_type:02x}; only ALL"
            " (and DEFAULT for taproot) is ever signed",
        )


def _highest_index(inputs: Iterable[InputAnalysis]) -> dict[str, int]:
    highest: dict[str, int] = {}
    for i in inputs:
        if i.owner is not None:
            name = i.owner.wallet.name
            highest[name] = max(highest.get(name, 0), i.owner.index)
    return highest


def _input_shape(inp: PsbtInput, analysed: InputAnalysis) -> InputShape:
    """What the finished input will look like, for the size estimate."""
    if analysed.owner is not None:
        derived = analysed.owner.derived
        return InputShape(
            analysed.owner.wallet.script_type,
            analysed.owner.wallet.threshold,
            len(derived.redeem_script or b""),
            len(derived.witness_script or b""),
        )
    return InputShape(
        script_type_of(analysed.script_pubkey or b"", inp.redeem_script, inp.witness_script),
        1,
        len(inp.redeem_script or b""),
        len(inp.witness_script or b""),
    )


# --- outputs


def _analyse_output(
    out: PsbtOutput,
    finder: _Finder,
    claimers: frozenset[bytes],
    network: Network,
    highest: dict[str, int],
    window: int,
) -> OutputAnalysis:
    where = f"output {out.index}"
    spk = out.script_pubkey
    if not 0 <= out.amount <= MAX_MONEY:
        raise Refused("proof.bad_amount", f"{where}: amount {out.amount} sat is out of range")
    if is_op_return(spk):
        if out.amount:
            raise Refused(
                "proof.op_return_value",
                f"{where}: an OP_RETURN output carries {out.amount} sat, which would be burned",
            )
        return OutputAnalysis(out.index, 0, spk, None, OutputKind.OP_RETURN, None)
    address = address_of(spk, network)
    claims = [o for o in _hints(out) if o.fingerprint in claimers]
    if not claims:
        kind = OutputKind.EXTERNAL if address is not None else OutputKind.UNKNOWN
        return OutputAnalysis(out.index, out.amount, spk, address, kind, None)
    owner = finder.find(spk, claims)
    if owner is None:
        raise _fake_change(out, claims, finder, where)
    limit = highest.get(owner.wallet.name, 0) + window
    if owner.index > limit:
        raise Refused(
            "proof.change_beyond_window",
            f"{where}: ours at index {owner.index}, beyond the window (highest input index"
            f" + {window} = {limit}); a wallet would never find it",
        )
    kind = OutputKind.CHANGE if owner.chain == 1 else OutputKind.SELF
    return OutputAnalysis(out.index, out.amount, spk, address, kind, owner)


def _fake_change(out: PsbtOutput, claims: list[KeyOrigin], finder: _Finder, where: str) -> Refused:
    """Name how an output that claims to be ours fails, so the user learns what was tried."""
    for origin in claims:
        tail = origin.path[-2:]
        if len(tail) == 2 and any(step >= HARDENED for step in tail):
            return Refused(
                "proof.change_hardened",
                f"{where}: claims a hardened change path {origin.descriptor_form()}; wallets use"
                " non-hardened change",
            )
    for origin in claims:
        if len(origin.path) >= 2 and origin.path[-2] not in (0, 1):
            return Refused(
                "proof.change_bad_chain",
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
                    "proof.change_script_type",
                    f"{where}: claims {origin.descriptor_form()} of wallet {wallet.name}"
                    f" ({wallet.script_type.value}) but is a different kind of script",
                )
            if wallet.script_type is ScriptType.P2TR:
                return Refused(
                    "proof.change_script_tree",
                    f"{where}: claims {origin.descriptor_form()} but its taproot output key is not the"
                    " BIP86 key: it may hide a script path someone else can spend",
                )
            if wallet.is_multisig:
                return Refused(
                    "proof.multisig_change_mismatch",
                    f"{where}: claims {origin.descriptor_form()} of multisig {wallet.name} but its"
                    " script uses other keys",
                )
    for origin in claims:
        if finder.other_account(origin):
            return Refused(
                "proof.change_other_account",
                f"{where}: claims {origin.descriptor_form()}, an account that is not registered here",
            )
    return Refused(
        "proof.fake_change",
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
                "proof.wrong_network",
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
                    "proof.wrong_network",
                    f"path {origin.descriptor_form()} is for coin type {path[1] - HARDENED}; this"
                    f" signer is for {network.value}",
                )


# --- small script predicates


def _spk_shape(spk: bytes) -> tuple[int, int]:
    return (spk[0] if spk else -1, len(spk))
