"""The independent verifier: a second implementation of everything the signer does.

The signer computes sighashes with psbtbridge's tx.py/sighash.py and signs with embit's
bundled libsecp256k1. This package shares none of that, and imports nothing of ours but
the error types (tests/test_verify_independence.py checks it): the transaction arrives as
raw bytes and is re-parsed by embit's parser, the spent outputs as plain (scriptPubKey,
amount) values; the sighashes are laid out here (layout.py), the scriptCode is derived
here from the spent scriptPubKey (script_code.py), and signatures are checked by Debian's
build of libsecp256k1 through our own binding (secp256k1.py), strict DER and low S
included. Finished inputs go through python-bitcointx's interpreter (interpreter.py),
loaded only then: single-key segwit, legacy and taproot signing never pays its ~50 ms
import.

What bitcointx 1.1.5 cannot do, and what we do instead (measured, see tests/test_verify.py):
* Its SignatureHash and SignatureHashSchnorr rehash every prevout and output for each
  input (11 s for 1,000 inputs), and its legacy sighash copies the whole transaction for
  each (475 s for 1,000 P2PKH inputs). What is shared is computed once in layout.py, the
  preimages laid out as in its functions, and tests check the results equal its own on
  random transactions. Its BIP143 code also packs nLockTime as a signed int (struct.error
  from 2^31 up); ours is unsigned, as Core's.
* VerifyScript does not evaluate witness v1 (taproot) at all: it returns early, or
  refuses under DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM. Taproot key-path spends are
  checked here; script-path spends are refused as unverifiable.
* Its Hash160 is pure-Python RIPEMD-160 (~0.2 ms), and every CPubKey computes one: keys
  are hashed here by hashlib's (OpenSSL's) RIPEMD-160 where it has one, through embit.
  VerifyScript keeps paying it (about 0.7 ms per input).
"""

from psbtbridge.verify.layout import SpentOutput
from psbtbridge.verify.verifier import (
    ANY_ECDSA_HASH_TYPE,
    ANY_SCHNORR_HASH_TYPE,
    ECDSA_HASH_TYPES,
    SCHNORR_HASH_TYPES,
    Verifier,
    verify_ecdsa,
    verify_final_tx,
)

__all__ = [
    "ANY_ECDSA_HASH_TYPE",
    "ANY_SCHNORR_HASH_TYPE",
    "ECDSA_HASH_TYPES",
    "SCHNORR_HASH_TYPES",
    "SpentOutput",
    "Verifier",
    "verify_ecdsa",
    "verify_final_tx",
]
