#!/usr/bin/env bash
# The test command: set-up, a warning-free build, a short run of every fuzzer, then the
# whole test suite (`swift test`). Environment:
#   FUZZ_SECONDS   seconds per fuzz target (default 15; 0 skips fuzzing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/setup.sh

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

echo "== swift test" >&2
swift test --skip-build --parallel
