"""PSBTs (BIP174, BIP370, BIP371, BIP373): one module per map kind, the key-map reader, the
field types and decoders they share, and the finalizer (import `psbtbridge.psbt.finalize`).

The names callers use are re-exported here: `from psbtbridge.psbt import Psbt, PsbtInput`.
"""

from psbtbridge.psbt.global_map import PsbtGlobal
from psbtbridge.psbt.input_map import PsbtInput
from psbtbridge.psbt.output_map import PsbtOutput
from psbtbridge.psbt.psbt import DEFAULT_MAX_SIZE, MAGIC, Psbt

__all__ = ["DEFAULT_MAX_SIZE", "MAGIC", "Psbt", "PsbtGlobal", "PsbtInput", "PsbtOutput"]
