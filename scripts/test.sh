#!/usr/bin/env bash
# The test command: set-up, a warning-free build, a short run of every fuzzer, then the
# whole test suite (`swift test`), interop tests against py-libp2p included. Environment:
#   FUZZ_SECONDS   seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/setup.sh

echo "== py-libp2p 0.8.1 (the interop peer)" >&2
TRAVERSE_PY=$(scripts/setup-interop.sh | tail -n 1)
export TRAVERSE_PY  # InteropTests run "$TRAVERSE_PY" Interop/py/peer.py

echo "== swift build (warnings fail the run)" >&2
log=$(mktemp)
swift build --build-tests 2>&1 | tee "$log" >&2
# Our own sources must compile without a single warning (dependencies are not ours to fix).
if grep -E "^$root/(Core|Drivers|Tests|Fuzz|Benchmarks)/.*warning:" "$log" >/dev/null; then
  echo "error: the build printed warnings:" >&2
  grep -E "^$root/(Core|Drivers|Tests|Fuzz|Benchmarks)/.*warning:" "$log" | sort -u >&2
  exit 1
fi
rm -f "$log"

seconds=${FUZZ_SECONDS:-15}
if [ "$seconds" != 0 ]; then
  Fuzz/run.sh --seconds "$seconds"
fi

# The NAT tests (NATLabTests) need root, network namespaces and iptables NAT in them.
if lab=$(Interop/natlab/natlab.sh check 2>&1); then
  echo "== NAT lab available: NATLabTests run (hole punching through real Linux NATs)" >&2
else
  echo "== NAT lab unavailable (${lab}): NATLabTests are SKIPPED" >&2
fi

echo "== swift test" >&2
swift test --skip-build --parallel
