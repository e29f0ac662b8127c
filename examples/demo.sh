#!/bin/sh
# The main job on an example, on one machine: a cold keystore from BIP39's public test
# mnemonic (regtest, so no real money), a policy that allows unattended signing of the
# example, then the hot side's `psbt send` through a local stand-in for qrexec to the cold
# service, which proves, checks policy, signs and logs; the hot side verifies and finalizes.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/../.venv/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PSBTBRIDGE_HOME="$work/cold"

echo "== cold: a keystore (public test mnemonic, regtest, unencrypted for the demo)"
echo "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about" >"$work/mnemonic"
"$bin/psbt" keys init --mnemonic-file "$work/mnemonic" --network regtest --no-encryption </dev/null
cat >"$PSBTBRIDGE_HOME/policy.toml" <<'TOML'
[unattended]
enabled = true
allowed_destinations = ["bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"]
max_per_transaction = 200000
max_per_24h = 1000000
TOML

echo "== both: what the example PSBT does"
"$bin/psbt" inspect "$here/unsigned.psbt" --network regtest

echo "== hot: send it to the cold side, verify the answer, finalize"
PSBTBRIDGE_QREXEC_CLIENT="$here/local-qrexec-client" \
  "$bin/psbt" send "$here/unsigned.psbt" --to electrum --finalize --network regtest -o "$work/final.hex"
echo "final transaction: $(cut -c1-64 "$work/final.hex")..."

echo "== cold: the audit log"
"$bin/psbt" audit verify
